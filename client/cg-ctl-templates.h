/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: the reply of ListTemplates (aa{sv}, DESIGN.md "Wave 2"), read
 * into plain structs, and how "certgenctl templates [ID]" shows it.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "cg-ctl-json.h"
#include "cg-ctl-util.h"

typedef struct CgCtlTemplateField {
	const char *name, *label, *type;
	int required, shared;
	uint32_t min_length, max_length;
} CgCtlTemplateField;

typedef struct CgCtlTemplate {
	char *json; /* the entry as one JSON object (its strings as they came) */
	const char *id, *title, *description;
	double width_pt, height_pt;
	CgCtlTemplateField *fields;
	size_t n_fields;
} CgCtlTemplate;

/* Strings point into the message (keep it referenced) or into strings (the
 * escaped copies of those with control characters: fit for a terminal). */
typedef struct CgCtlTemplates {
	CgCtlTemplate *items;
	size_t n;
	CgStrings strings;
} CgCtlTemplates;

/* Reads the aa{sv} at m's read position. */
int cg_ctl_templates_read(sd_bus_message *m, CgCtlTemplates *ret);
void cg_ctl_templates_done(CgCtlTemplates *t);
const CgCtlTemplate *cg_ctl_templates_find(const CgCtlTemplates *t, const char *id);

/* "classic, modern": the ids, for "not found" messages (the caller frees). */
char *cg_ctl_templates_ids(const CgCtlTemplates *t);

/* A table of all; every detail of one. */
void cg_ctl_templates_print_table(const CgCtlTemplates *t);
void cg_ctl_template_print(const CgCtlTemplate *t);

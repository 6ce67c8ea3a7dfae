/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: the public record Verify answers with (a{sv}, DESIGN.md
 * "Wave 2": certificate_number, status, issued_at_us, revoked_at_us,
 * revocation_reason, template_id, fields a{ss}, data_sha256, file_sha256),
 * read into a plain struct, and how "certgenctl verify" shows it.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "cg-ctl-json.h"
#include "cg-ctl-util.h"

typedef struct CgCtlRecordField {
	const char *name, *value;
} CgCtlRecordField;

/* Strings point into the message (keep it referenced) or into strings (the
 * escaped copies of those with control characters: fit for a terminal). */
typedef struct CgCtlRecord {
	const char *certificate_number, *status, *revocation_reason, *template_id;
	const char *data_sha256, *file_sha256;
	int64_t issued_at_us, revoked_at_us;
	CgCtlRecordField *fields;
	size_t n_fields;
	CgStrings strings;
} CgCtlRecord;

/* Reads the a{sv} at m's read position; json (or NULL) gets it as one
 * object, its strings as they came. */
int cg_ctl_record_read(sd_bus_message *m, CgCtlJson *json, CgCtlRecord *ret);
void cg_ctl_record_done(CgCtlRecord *record);

bool cg_ctl_record_is_valid(const CgCtlRecord *record);

/* Status, number, issue (and revocation), template, the fields, the
 * hashes: one "name: value" a line. */
void cg_ctl_record_print(const CgCtlRecord *record);

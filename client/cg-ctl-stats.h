/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: the reply of GetStatistics (a{sv}, DESIGN.md "Wave 2"), read
 * into plain structs, and how "certgenctl stats" shows it.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "cg-ctl-json.h"
#include "cg-ctl-util.h"

typedef struct CgCtlStageTime {
	const char *stage;
	double p50, p95;
} CgCtlStageTime;

typedef struct CgCtlTemplateStats {
	const char *id;
	uint64_t generations, pages;
	double page_ms_p50, page_ms_p95;
	CgCtlStageTime stages[16]; /* in the order of the reply (the pipeline's) */
	size_t n_stages;
	CgStrings *strings; /* while reading: where escaped copies go */
} CgCtlTemplateStats;

typedef struct CgCtlStatusCount {
	const char *status;
	uint64_t n;
} CgCtlStatusCount;

/* Strings point into the message (keep it referenced) or into strings. */
typedef struct CgCtlStats {
	uint32_t window;
	CgCtlStatusCount by_status[8];
	size_t n_status;
	CgCtlTemplateStats *templates;
	size_t n_templates;
	CgStrings strings;
} CgCtlStats;

/* Reads the a{sv} at m's read position; json (or NULL) gets it as one
 * object. */
int cg_ctl_stats_read(sd_bus_message *m, CgCtlJson *json, CgCtlStats *ret);
void cg_ctl_stats_done(CgCtlStats *s);

/* The counts by status, a table of the templates, then each template's
 * stages. */
void cg_ctl_stats_print(const CgCtlStats *s);

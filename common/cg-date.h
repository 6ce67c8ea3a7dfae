/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ISO 8601 calendar dates as certgen's data carries them: "YYYY-MM-DD".
 * The one parser of the service (data validation, the templates' date
 * formatting). */
typedef enum {
	CG_DATE_OK,	    /* a real date */
	CG_DATE_BAD_FORMAT, /* not YYYY-MM-DD with digits in the right places */
	CG_DATE_NOT_REAL,   /* the right shape, but no such day ("2026-02-31") */
} CgDateCheck;

/* Parses @value; on CG_DATE_OK *year, *month and *day (each may be NULL)
 * are set. */
CgDateCheck cg_date_parse(const char *value, guint *year, guint *month, guint *day);

G_END_DECLS

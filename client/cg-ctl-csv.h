/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: recipient data as CSV (generate --csv FILE|- --set FIELD=VALUE),
 * converted by the reader certgen-http shares (common/cg-csv.h) into the
 * data JSON StartGeneration takes; and certgend's InvalidData paths
 * ("recipients[11].recipientName") put back in the CSV's words ("row 13,
 * column recipientName"; the header is row 1).
 */
#pragma once

#include "cg-ctl-bus.h"

/* How shared fields are named in messages: "--set courseName". */
#define CG_CTL_CSV_SET_LABEL "--set "

/* Converts @size bytes of CSV @text (from @source: a file name or
 * "standard input", as messages name it)
 * with the shared fields @set (NULL-terminated "FIELD=VALUE"; may be NULL)
 * into *ret_json (free()). Logs every problem, one a line; returns
 * -EINVAL for the CSV's problems, -E2BIG for a bad --set, -EFBIG when too
 * large. */
int cg_ctl_csv_to_json(const char *source, const char *text, size_t size, char *const *set,
		       char **ret_json);

/* A failed update's message and error_message in the CSV's words (only
 * for InvalidData). Returns -ENOMEM or 0. */
int cg_ctl_csv_map_update(CgUpdate *u);

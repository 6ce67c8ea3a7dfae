/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * CSV recipient data, once for both clients (certgenctl --csv, certgen-http's
 * text/csv bodies): RFC 4180 text parsed with libcsv (strict mode) into the
 * data JSON StartGeneration takes, {shared fields..., "recipients": [{...},
 * ...]}, so the D-Bus contract stays as it is and certgend validates CSV data
 * exactly as it validates JSON data.
 *
 * The text: UTF-8 (a byte order mark is skipped), a header row naming the
 * fields (each a field name, cg-field-name.h; no name twice), then one row per
 * recipient with as many columns as the header. Records end with CRLF, LF or
 * CR; fields may be quoted ("a ""b"", c" is «a "b", c»), and a quoted field
 * may hold line breaks; nothing is trimmed. An empty cell is a field left
 * out (so a required one is reported by certgend); empty lines may end the
 * text but stand nowhere else. No NUL byte anywhere.
 *
 * Rows are counted as records, the header being row 1: recipient i (from 0)
 * is row i + 2, whatever line breaks quoted fields hold.
 *
 * Shared fields ("FIELD=VALUE", from --set or set.FIELD=VALUE) become
 * top-level members of the data; a shared field that is also a column is an
 * error.
 *
 * Problems are found all at once where they can be (every ragged row, every
 * cell that is not UTF-8 ...; a quoting error stops the parse), at most
 * CG_CSV_MAX_ISSUES, each a CgCsvIssue: path "row 12, column
 * recipientName" (or "row 12", "--set courseName"), message "invalid UTF-8".
 */

#define CG_CSV_ERROR (cg_csv_error_quark())

typedef enum {
	CG_CSV_ERROR_INVALID,	/* the CSV text: issues say where */
	CG_CSV_ERROR_SET,	/* a shared field (FIELD=VALUE): issues say which */
	CG_CSV_ERROR_TOO_LARGE, /* more than max_bytes of text or of data JSON */
} CgCsvError;

GQuark cg_csv_error_quark(void);

/* What the clients allow at most: as many recipients as certgend's
 * [limits] max_recipients can be set to (certgend's own setting decides
 * the rest), and as much data JSON as certgenctl reads. */
#define CG_CSV_MAX_ROWS 1000000U
#define CG_CSV_MAX_BYTES (32U * 1024U * 1024U)

/* At most this many issues are collected (certgend's "errors" cap too). */
#define CG_CSV_MAX_ISSUES 100

typedef struct {
	gsize max_bytes;	/* of the CSV text and of the data JSON; 0: no limit */
	guint max_rows;		/* recipients (rows after the header); 0: no limit */
	const char *const *set; /* shared fields "FIELD=VALUE", NULL-terminated; may be NULL */
	const char *set_label;	/* names a shared field in issues: "--set " gives
				 * "--set courseName"; NULL: "set." */
} CgCsvOptions;

typedef struct {
	char *path;    /* "row 12, column recipientName" */
	char *message; /* "invalid UTF-8" */
} CgCsvIssue;

void cg_csv_issue_free(CgCsvIssue *issue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgCsvIssue, cg_csv_issue_free)

/* The data JSON (NUL-terminated, *@json_length bytes; may be NULL) of
 * @length bytes of CSV @text (need not be NUL-terminated). On failure NULL,
 * @error (CG_CSV_ERROR) says the first problem ("row 3: expected 4 columns,
 * found 3", with "(and N more problems)" when there are more) and *@issues
 * (may be NULL; a new array of CgCsvIssue* otherwise, NULL when the error
 * has none) lists them all. */
char *cg_csv_to_data_json(const char *text, gsize length, const CgCsvOptions *options,
			  gsize *json_length, GPtrArray **issues, GError **error);

/* A path certgend named in CSV data, in the CSV's words:
 * "recipients[11].recipientName" is "row 13, column recipientName",
 * "recipients[11]" "row 13", "recipients" "rows", a top-level field (one
 * that came from a shared field) @set_label + its name (@set_label NULL:
 * "set."); anything else is returned as it is. Newly allocated. */
char *cg_csv_map_path(const char *path, const char *set_label);

/* certgend's InvalidData message "<path>: <what>" with its path mapped by
 * cg_csv_map_path(); a message that does not start with a path is
 * returned as it is. Newly allocated. */
char *cg_csv_map_message(const char *message, const char *set_label);

G_END_DECLS

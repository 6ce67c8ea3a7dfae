/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * POST /api/certificates with Content-Type: text/csv (DESIGN.md, Wave 2):
 * the body is CSV recipient data (common/cg-csv.h converts it into the data
 * JSON certgend takes), the query names the rest: templateId,
 * transactionId, outputFormat (pdf | zip), persist (true | false) and
 * set.FIELD=VALUE for shared fields. And the generations started so, whose
 * InvalidData paths the streams show in the CSV's words ("row 13, column
 * recipientName", "set.courseName").
 */

#define CG_HTTP_CSV_SET_PREFIX "set."

/* The StartGeneration arguments (sss@a{sv}, owner_label @user) of a CSV
 * body and its query (may be NULL). Errors: CG_HTTP_ERROR_INVALID_ARGUMENT
 * for the query (an unknown or repeated parameter, named; a bad value),
 * CG_HTTP_ERROR_INVALID_DATA for the CSV, with *@issues (may be NULL) the
 * CgCsvIssue list, CG_HTTP_ERROR_PAYLOAD_TOO_LARGE when its data JSON
 * would be. A pure function: no server, no bus. */
GVariant *cg_http_csv_start_parameters(const char *body, gsize len, const char *query,
				       const char *user, GPtrArray **issues, GError **error);

/* @update (a{sv}) with a failed InvalidData generation's "message",
 * "error_message" and "errors" paths in the CSV's words; a new reference
 * to @update itself otherwise. */
GVariant *cg_http_csv_map_update(GVariant *update);

/* The ids of the generations started from CSV, remembered for @ttl_s; at
 * most @max at once (more are not remembered: their errors keep certgend's
 * paths). */
typedef struct _CgHttpCsvGenerations CgHttpCsvGenerations;

CgHttpCsvGenerations *cg_http_csv_generations_new(guint max, guint ttl_s);
void cg_http_csv_generations_free(CgHttpCsvGenerations *self);
void cg_http_csv_generations_add(CgHttpCsvGenerations *self, const char *progress_id,
				 gint64 now_us);
gboolean cg_http_csv_generations_contains(CgHttpCsvGenerations *self, const char *progress_id);
void cg_http_csv_generations_prune(CgHttpCsvGenerations *self, gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpCsvGenerations, cg_http_csv_generations_free)

G_END_DECLS

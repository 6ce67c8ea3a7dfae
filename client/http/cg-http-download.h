/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* GET /api/certificates/{id}/download: what the answer says about the file,
 * from the generation's snapshot (a{sv}, may be NULL). */

/* Whether the result's content_type is application/zip (else a PDF). */
gboolean cg_http_download_is_zip(GVariant *snapshot);

/* The attachment's file name, named after the numbers: "<number>.pdf" (or
 * .zip) for one page, "certificates-<first>-<last>.zip" (or .pdf) for a
 * batch; @progress_id without a result. Only [A-Za-z0-9_.-]: it goes into
 * a Content-Disposition header. */
char *cg_http_download_filename(GVariant *snapshot, const char *progress_id, gboolean zip);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-batch-claim.h"
#include "cg-data.h"
#include "cg-render.h"
#include "cg-template.h"

G_BEGIN_DECLS

/*
 * A ZIP batch: every recipient rendered as its own one-page PDF (by
 * cg_render_pdf_pages()), written in recipient order as
 * `<certificate number>.pdf`, then manifest.csv (cg-manifest.h; its
 * recipient_name is the recipient's recipientName field, empty for a
 * template without one), to a ZIP (cg-zip.h).
 *
 * The pages are independent, so several threads render them at once: the
 * thread that runs the batch (cg_zip_batch_run()) and any number of helpers
 * (cg_zip_batch_help(), from other threads) take the next range of
 * CG_ZIP_BATCH_RANGE pages from one shared counter (cg-batch-claim.h),
 * render it as one PDF and cut that into one-page PDFs (cg_pdf_split():
 * the background and the fonts are drawn and compressed once a range, not
 * once a page; each member holds the font subsets of its range); finished
 * pages wait in a window of slots until the running thread writes them, in
 * order, so the archive, the numbers and the per-page progress are the
 * same whoever rendered a page (the ranges are fixed by the page count).
 * Ranges are claimed only when all their pages fit CG_ZIP_BATCH_WINDOW
 * ahead of the last one written, which bounds the memory held.
 * Cancellation is checked before every page, by every thread.
 */

#define CG_ZIP_BATCH_RANGE 8
#define CG_ZIP_BATCH_WINDOW 32 /* a multiple of CG_ZIP_BATCH_RANGE */

typedef struct _CgZipBatch CgZipBatch;

/* @data, @cancellable and @user_data are borrowed: they must outlive
 * cg_zip_batch_run(), which waits for every helper to leave them before it
 * returns. @page_done (may be NULL; it may stop the batch by returning
 * FALSE) is called after every page rendered, whichever thread rendered
 * it, with the number rendered so far (1, 2, ... n in that order, under
 * the batch's lock, so calls never overlap), as cg-pdf-batch.h does. */
CgZipBatch *cg_zip_batch_new(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
			     CgRenderPageFunc page_done, gpointer user_data,
			     GCancellable *cancellable);
CgZipBatch *cg_zip_batch_ref(CgZipBatch *batch);
void cg_zip_batch_unref(CgZipBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgZipBatch, cg_zip_batch_unref)

/* Renders pages and writes the archive through @write/@closure. Call
 * once. The members' times are params->issued_at_us. */
gboolean cg_zip_batch_run(CgZipBatch *batch, cairo_write_func_t write, void *closure,
			  GError **error);

/* Once cg_zip_batch_run() succeeded: the SHA-256 (hex) of each member PDF,
 * in page order, NULL-terminated, owned by @batch; NULL before. */
const char *const *cg_zip_batch_get_member_sha256(CgZipBatch *batch);

/* TRUE while a helper would find a page to claim (not all claimed, not
 * stopped). */
gboolean cg_zip_batch_wants_help(CgZipBatch *batch);

/* Called between pages: TRUE makes a helper leave (e.g. other work waits). */
typedef CgBatchLeaveFunc CgZipBatchLeaveFunc;

/* Another thread's share of the work: renders pages until none is left to
 * claim, the batch stops, or @leave (may be NULL) says so. */
void cg_zip_batch_help(CgZipBatch *batch, CgZipBatchLeaveFunc leave, gpointer user_data);

G_END_DECLS

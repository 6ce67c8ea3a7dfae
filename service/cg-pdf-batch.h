/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-batch-claim.h"
#include "cg-data.h"
#include "cg-render.h"
#include "cg-template.h"

G_BEGIN_DECLS

/*
 * A PDF batch rendered by several threads at once: the pages are cut into
 * ranges of consecutive pages, fixed by the number of pages alone
 * (cg_pdf_batch_range_pages()), so the output does not depend on how many
 * threads there are or which one rendered what. The thread that runs the
 * batch (cg_pdf_batch_run()) and any number of helpers (cg_pdf_batch_help(),
 * from other threads) claim the next range from one shared counter and
 * render it with cg_render_pdf_pages() into a PDF of its own (with the
 * batch's numbers: page i has params->first_number + i); when every range
 * is there, cg-pdf-join.h joins them, in order, into the one output PDF
 * with the batch's title. A batch of one range is that range's PDF, as
 * cg_render_pdf() writes it.
 *
 * Each range is a cairo surface of its own, so it carries its own copy of
 * what a surface shares between pages (fonts, subset to the range's
 * glyphs; the background): the joined PDF has each font once per range.
 * Ranges are few (about CG_PDF_BATCH_RANGES) to keep those copies few,
 * and at least CG_PDF_BATCH_MIN_RANGE pages each.
 *
 * Progress: after every page rendered, whichever thread rendered it, the
 * page_done function is called with the number of pages rendered so far
 * (1, 2, ... n in that order, under the batch's lock, so calls never
 * overlap); it may stop the batch by returning FALSE. Cancellation is
 * checked before every page, by every thread; a stopped or failed batch
 * writes nothing.
 *
 * The join is cg-pdf-concat.h's for cairo's ranges (issue 12): 29 ms of
 * CPU for 1,000 pages where qpdf took 271-410 ms (tests/bench/
 * bench-pdf-tail, beside other work), 2.1 MB where qpdf's object streams
 * made 1.1 MB. Over D-Bus end to end (bench-pdf.py build 1000 3, load
 * 0.6-1.0) 2,984 pages/s with 2 workers where qpdf's join gave 1,508.
 * Older figures, with qpdf (1,000 pages of the classic template, all
 * beside other work: 2 cores at load 6.5-7): one surface 3,094,654 bytes, 4 fonts; 8 ranges
 * joined 2,619,632 bytes (object streams save more than the 8 copies of
 * the fonts cost), 32 fonts; the join alone 0.97-1.5 s, rendering on one
 * thread 8.3 s. Over D-Bus end to end (tests/bench/bench-pdf.py build 1000
 * 2) 221 pages/s with 1 worker, 328 with 2 (1.48x). A helper leaves
 * between ranges only, so a job that arrives waits for at most one range
 * (1/8 of the batch, at most 256 pages).
 */

#define CG_PDF_BATCH_RANGES 8
#define CG_PDF_BATCH_MIN_RANGE 32
#define CG_PDF_BATCH_MAX_RANGE 256

typedef struct _CgPdfBatch CgPdfBatch;

/* Pages per range for a batch of @n_pages: @n_pages / CG_PDF_BATCH_RANGES
 * rounded up, within CG_PDF_BATCH_MIN_RANGE .. CG_PDF_BATCH_MAX_RANGE. */
guint cg_pdf_batch_range_pages(guint n_pages);

/* @data, @cancellable and @user_data are borrowed: they must outlive
 * cg_pdf_batch_run(), which waits for every helper to leave them before it
 * returns. @page_done (may be NULL) is called from any thread that renders. */
CgPdfBatch *cg_pdf_batch_new(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
			     CgRenderPageFunc page_done, gpointer user_data,
			     GCancellable *cancellable);
CgPdfBatch *cg_pdf_batch_ref(CgPdfBatch *batch);
void cg_pdf_batch_unref(CgPdfBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPdfBatch, cg_pdf_batch_unref)

/* Renders ranges until none is left to claim, waits for the helpers' ranges,
 * then writes the joined PDF through @write/@closure. Call once. */
gboolean cg_pdf_batch_run(CgPdfBatch *batch, cairo_write_func_t write, void *closure,
			  GError **error);

/* TRUE while a helper would find a range to claim (not all claimed, not
 * stopped). */
gboolean cg_pdf_batch_wants_help(CgPdfBatch *batch);

/* Called between ranges: TRUE makes a helper leave (e.g. other work waits). */
typedef CgBatchLeaveFunc CgPdfBatchLeaveFunc;

/* Another thread's share of the work: renders ranges until none is left to
 * claim, the batch stops, or @leave (may be NULL) says so. */
void cg_pdf_batch_help(CgPdfBatch *batch, CgPdfBatchLeaveFunc leave, gpointer user_data);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-pdf-batch.h"

#include "cg-batch-claim.h"
#include "cg-error.h"
#include "cg-pdf-join.h"

/* in a GRcBox (atomic): cg_pdf_batch_ref() / _unref() */
struct _CgPdfBatch {
	CgBatchClaim claim; /* of the ranges; its lock guards what is below too */

	/* read-only after cg_pdf_batch_new() */
	CgTemplate *tmpl;
	const CgData *data; /* borrowed, used while a range is worked on */
	CgRenderParams params;
	GCancellable *cancellable;
	guint n_pages;
	guint range_pages;
	guint n_ranges;

	/* under claim.lock (claim.stop: render no further page either) */
	GBytes **parts; /* range i's PDF, once rendered */
};

guint
cg_pdf_batch_range_pages(guint n_pages)
{
	guint pages = n_pages / CG_PDF_BATCH_RANGES + (n_pages % CG_PDF_BATCH_RANGES != 0);

	return CLAMP(pages, CG_PDF_BATCH_MIN_RANGE, CG_PDF_BATCH_MAX_RANGE);
}

CgPdfBatch *
cg_pdf_batch_new(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
		 CgRenderPageFunc page_done, gpointer user_data, GCancellable *cancellable)
{
	CgPdfBatch *batch;

	g_return_val_if_fail(tmpl != NULL, NULL);
	g_return_val_if_fail(data != NULL, NULL);
	g_return_val_if_fail(params != NULL, NULL);

	batch = g_atomic_rc_box_new0(CgPdfBatch);
	batch->tmpl = cg_template_ref(tmpl);
	batch->data = data;
	batch->params = *params;
	batch->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
	batch->n_pages = cg_data_get_n_recipients(data);
	batch->range_pages = cg_pdf_batch_range_pages(batch->n_pages);
	batch->n_ranges = (batch->n_pages + batch->range_pages - 1) / batch->range_pages;
	batch->parts = g_new0(GBytes *, MAX(1u, batch->n_ranges));
	cg_batch_claim_init(&batch->claim, batch->n_ranges);
	cg_batch_claim_set_progress(&batch->claim, batch->n_pages, page_done, user_data);
	return batch;
}

CgPdfBatch *
cg_pdf_batch_ref(CgPdfBatch *batch)
{
	return g_atomic_rc_box_acquire(batch);
}

static void
cg_pdf_batch_clear(CgPdfBatch *batch)
{
	for (guint i = 0; i < batch->n_ranges; i++)
		g_clear_pointer(&batch->parts[i], g_bytes_unref);
	g_free(batch->parts);
	g_clear_object(&batch->cancellable);
	cg_template_unref(batch->tmpl);
	cg_batch_claim_clear(&batch->claim);
}

void
cg_pdf_batch_unref(CgPdfBatch *batch)
{
	if (batch != NULL)
		g_atomic_rc_box_release_full(batch, (GDestroyNotify)cg_pdf_batch_clear);
}

/* Under the lock (released while rendering): claims and renders the next
 * range (a CgBatchStepFunc). */
static void
cg_pdf_batch_work_one(gpointer user_data)
{
	CgPdfBatch *batch = user_data;
	GError *local_error = NULL;
	g_autoptr(GByteArray) pdf = NULL;
	guint range = cg_batch_claim_begin(&batch->claim);
	guint first = range * batch->range_pages;
	guint n = MIN(batch->range_pages, batch->n_pages - first);
	gboolean ok;

	pdf = g_byte_array_sized_new(n * 4096 + 64 * 1024);
	ok = cg_render_pdf_pages(batch->tmpl, batch->data, first, n, &batch->params,
				 cg_render_write_to_byte_array, pdf, cg_batch_claim_page_done,
				 &batch->claim, batch->cancellable, &local_error);
	if (!ok && local_error == NULL)
		local_error = g_error_new_literal(CG_ERROR, CG_ERROR_FAILED, "Rendering failed");
	cg_batch_claim_end(&batch->claim, local_error);
	if (ok)
		batch->parts[range] = g_byte_array_free_to_bytes(g_steal_pointer(&pdf));
}

gboolean
cg_pdf_batch_wants_help(CgPdfBatch *batch)
{
	g_return_val_if_fail(batch != NULL, FALSE);

	return cg_batch_claim_wants_help(&batch->claim);
}

void
cg_pdf_batch_help(CgPdfBatch *batch, CgPdfBatchLeaveFunc leave, gpointer user_data)
{
	g_return_if_fail(batch != NULL);

	cg_batch_claim_help(&batch->claim, cg_pdf_batch_work_one, batch, leave, user_data);
}

/* The joined document's title, as cg-render.c titles a batch's PDF. */
static char *
cg_pdf_batch_title(const CgPdfBatch *batch)
{
	g_autofree char *first =
	    cg_render_certificate_number(batch->params.issued_at_us, batch->params.first_number);
	g_autofree char *last = cg_render_certificate_number(
	    batch->params.issued_at_us, batch->params.first_number + batch->n_pages - 1);

	return g_strdup_printf("Certificates %s–%s", first, last);
}

/* Without the lock, every range rendered: the output. */
static gboolean
cg_pdf_batch_write(CgPdfBatch *batch, cairo_write_func_t write, void *closure, GError **error)
{
	g_autofree char *title = NULL;
	gsize length;
	const void *bytes;

	if (g_cancellable_set_error_if_cancelled(batch->cancellable, error))
		return FALSE;
	if (batch->n_ranges > 1) {
		title = cg_pdf_batch_title(batch);
		return cg_pdf_join(batch->parts, batch->n_ranges, title, write, closure, error);
	}
	bytes = g_bytes_get_data(batch->parts[0], &length);
	if (write(closure, bytes, (unsigned int)length) != CAIRO_STATUS_SUCCESS) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED, "Could not write the PDF");
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_pdf_batch_run(CgPdfBatch *batch, cairo_write_func_t write, void *closure, GError **error)
{
	g_return_val_if_fail(batch != NULL, FALSE);
	g_return_val_if_fail(write != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (batch->n_pages == 0)
		/* cg_render_pdf_pages()'s error for it */
		return cg_render_pdf_pages(batch->tmpl, batch->data, 0, 0, &batch->params, write,
					   closure, NULL, NULL, batch->cancellable, error);

	g_mutex_lock(&batch->claim.lock);
	while (cg_batch_claim_open(&batch->claim))
		cg_pdf_batch_work_one(batch);
	/* every range claimed: the helpers' last ones end, then none is
	 * claimed again and no helper uses the data once this returns */
	cg_batch_claim_wait_idle(&batch->claim);
	cg_batch_claim_stop(&batch->claim);
	if (batch->claim.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&batch->claim.error));
		g_mutex_unlock(&batch->claim.lock);
		return FALSE;
	}
	g_mutex_unlock(&batch->claim.lock);
	return cg_pdf_batch_write(batch, write, closure, error);
}

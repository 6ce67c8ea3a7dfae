/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-zip-batch.h"

#include <string.h>

#include "cg-batch-claim.h"
#include "cg-manifest.h"
#include "cg-pdf-concat.h"
#include "cg-zip.h"

#define CG_ZIP_HELPER_WAIT_US (5 * G_TIME_SPAN_MILLISECOND)

/* A rendered page waiting to be written. */
typedef struct {
	GBytes *pdf; /* NULL: the slot is free */
	char *sha256;
} CgZipPage;

/* in a GRcBox (atomic): cg_zip_batch_ref() / _unref() */
struct _CgZipBatch {
	CgBatchClaim claim; /* of the pages; its lock guards what is below too */

	/* read-only after cg_zip_batch_new() */
	CgTemplate *tmpl;
	const CgData *data; /* borrowed, used while a page is worked on */
	CgRenderParams params;
	GCancellable *cancellable;
	guint n_pages;
	guint n_ranges; /* of CG_ZIP_BATCH_RANGE pages: the claimed items */

	/* under claim.lock (claim.error: the first failure of a renderer) */
	guint written;			      /* pages 0 .. written - 1 are in the archive */
	GPtrArray *member_sha256;	      /* of the members written, in order */
	CgZipPage slots[CG_ZIP_BATCH_WINDOW]; /* page i in slot i % WINDOW */
};

static void
cg_zip_page_clear(CgZipPage *page)
{
	g_clear_pointer(&page->pdf, g_bytes_unref);
	g_clear_pointer(&page->sha256, g_free);
}

CgZipBatch *
cg_zip_batch_new(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
		 CgRenderPageFunc page_done, gpointer user_data, GCancellable *cancellable)
{
	CgZipBatch *batch;

	g_return_val_if_fail(tmpl != NULL, NULL);
	g_return_val_if_fail(data != NULL, NULL);
	g_return_val_if_fail(params != NULL, NULL);

	batch = g_atomic_rc_box_new0(CgZipBatch);
	batch->tmpl = cg_template_ref(tmpl);
	batch->data = data;
	batch->params = *params;
	batch->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
	batch->n_pages = cg_data_get_n_recipients(data);
	batch->n_ranges = (batch->n_pages + CG_ZIP_BATCH_RANGE - 1) / CG_ZIP_BATCH_RANGE;
	cg_batch_claim_init(&batch->claim, batch->n_ranges);
	batch->member_sha256 = g_ptr_array_new_with_free_func(g_free);
	cg_batch_claim_set_progress(&batch->claim, batch->n_pages, page_done, user_data);
	return batch;
}

CgZipBatch *
cg_zip_batch_ref(CgZipBatch *batch)
{
	return g_atomic_rc_box_acquire(batch);
}

static void
cg_zip_batch_clear(CgZipBatch *batch)
{
	for (guint i = 0; i < CG_ZIP_BATCH_WINDOW; i++)
		cg_zip_page_clear(&batch->slots[i]);
	g_clear_object(&batch->cancellable);
	cg_template_unref(batch->tmpl);
	g_ptr_array_unref(batch->member_sha256);
	cg_batch_claim_clear(&batch->claim);
}

void
cg_zip_batch_unref(CgZipBatch *batch)
{
	if (batch != NULL)
		g_atomic_rc_box_release_full(batch, (GDestroyNotify)cg_zip_batch_clear);
}

/* Without the lock: @pdf as page @page's member. */
static void
cg_zip_page_set(CgZipPage *page, GBytes *pdf)
{
	gsize length;
	const void *bytes = g_bytes_get_data(pdf, &length);

	page->sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, length);
	page->pdf = g_bytes_ref(pdf);
}

/* Any thread, without the lock: pages @first .. @first + @n - 1 rendered
 * one by one, each its own one-page PDF. */
static gboolean
cg_zip_batch_render_each(CgZipBatch *batch, guint first, guint n, CgZipPage *pages, GError **error)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(GByteArray) pdf = g_byte_array_sized_new(64 * 1024);
		g_autoptr(GBytes) bytes = NULL;

		if (!cg_render_pdf_pages(batch->tmpl, batch->data, first + i, 1, &batch->params,
					 cg_render_write_to_byte_array, pdf,
					 cg_batch_claim_page_done, &batch->claim,
					 batch->cancellable, error))
			return FALSE;
		bytes = g_byte_array_free_to_bytes(g_steal_pointer(&pdf));
		cg_zip_page_set(&pages[i], bytes);
	}
	return TRUE;
}

/* Any thread, without the lock: range @range's pages, each its own
 * one-page PDF. Rendered as one PDF and cut into pages (cg_pdf_split():
 * the background and the fonts drawn and compressed once for the range,
 * not once a page), or page by page when the cut declines. */
static gboolean
cg_zip_batch_render(CgZipBatch *batch, guint range, CgZipPage *pages, GError **error)
{
	guint first = range * CG_ZIP_BATCH_RANGE;
	guint n = MIN(CG_ZIP_BATCH_RANGE, batch->n_pages - first);
	g_autoptr(GByteArray) pdf = g_byte_array_sized_new(n * 8192 + 64 * 1024);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GPtrArray) titles = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) split = NULL;

	if (!cg_render_pdf_pages(batch->tmpl, batch->data, first, n, &batch->params,
				 cg_render_write_to_byte_array, pdf, cg_batch_claim_page_done,
				 &batch->claim, batch->cancellable, error))
		return FALSE;
	bytes = g_byte_array_free_to_bytes(g_steal_pointer(&pdf));
	/* cg-render.c's title of a one-page PDF */
	for (guint i = 0; i < n; i++) {
		g_autofree char *number = cg_render_certificate_number(
		    batch->params.issued_at_us, batch->params.first_number + first + i);

		g_ptr_array_add(titles, g_strdup_printf("Certificate %s", number));
	}
	split = cg_pdf_split(bytes, (const char *const *)titles->pdata, n);
	if (split == NULL)
		return cg_zip_batch_render_each(batch, first, n, pages, error);
	for (guint i = 0; i < n; i++)
		cg_zip_page_set(&pages[i], split->pdata[i]);
	return TRUE;
}

/* Under the lock: whether the next range may be claimed now (its pages
 * all fit in the window). */
static gboolean
cg_zip_batch_can_claim(const CgZipBatch *batch)
{
	return cg_batch_claim_open(&batch->claim) &&
	       (batch->claim.claimed + 1) * CG_ZIP_BATCH_RANGE <=
		   batch->written + CG_ZIP_BATCH_WINDOW;
}

/* Under the lock (released while rendering): claims, renders and stores
 * the next range's pages. */
static void
cg_zip_batch_work_one(CgZipBatch *batch)
{
	GError *local_error = NULL;
	CgZipPage pages[CG_ZIP_BATCH_RANGE] = {{NULL, NULL}};
	guint range = cg_batch_claim_begin(&batch->claim);
	guint first = range * CG_ZIP_BATCH_RANGE;
	gboolean ok;

	ok = cg_zip_batch_render(batch, range, pages, &local_error);
	if (!ok && local_error == NULL)
		local_error =
		    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "Rendering failed");
	cg_batch_claim_end(&batch->claim, local_error);
	for (guint i = 0; i < CG_ZIP_BATCH_RANGE; i++) {
		if (ok && !batch->claim.stop && pages[i].pdf != NULL)
			batch->slots[(first + i) % CG_ZIP_BATCH_WINDOW] = pages[i];
		else
			cg_zip_page_clear(&pages[i]);
	}
}

/* A helper's step under the lock (a CgBatchStepFunc): a range, or a wait
 * while the window is full (the writer is behind). */
static void
cg_zip_batch_help_step(gpointer user_data)
{
	CgZipBatch *batch = user_data;

	if (cg_zip_batch_can_claim(batch))
		cg_zip_batch_work_one(batch);
	else
		g_cond_wait_until(&batch->claim.cond, &batch->claim.lock,
				  g_get_monotonic_time() + CG_ZIP_HELPER_WAIT_US);
}

gboolean
cg_zip_batch_wants_help(CgZipBatch *batch)
{
	g_return_val_if_fail(batch != NULL, FALSE);

	return cg_batch_claim_wants_help(&batch->claim);
}

void
cg_zip_batch_help(CgZipBatch *batch, CgZipBatchLeaveFunc leave, gpointer user_data)
{
	g_return_if_fail(batch != NULL);

	cg_batch_claim_help(&batch->claim, cg_zip_batch_help_step, batch, leave, user_data);
}

/* Without the lock: writes @page as page @index of the archive. */
static gboolean
cg_zip_batch_write_page(CgZipBatch *batch, CgZipWriter *zip, CgManifest *manifest, guint index,
			const CgZipPage *page, GError **error)
{
	const CgRecipient *recipient = cg_data_get_recipient(batch->data, index);
	g_autofree char *number = cg_render_certificate_number(batch->params.issued_at_us,
							       batch->params.first_number + index);
	g_autofree char *name = g_strconcat(number, ".pdf", NULL);
	gsize length;
	const void *bytes = g_bytes_get_data(page->pdf, &length);

	if (!cg_zip_writer_add(zip, name, bytes, length, error))
		return FALSE;
	cg_manifest_add(manifest, number, cg_recipient_get(recipient, "recipientName"),
			page->sha256);
	g_ptr_array_add(batch->member_sha256, g_strdup(page->sha256));
	return TRUE;
}

/* Under the lock: writes the pages in order, rendering when the next one
 * is not there yet, until all are written or the batch stops. */
static gboolean
cg_zip_batch_write_pages(CgZipBatch *batch, CgZipWriter *zip, CgManifest *manifest, GError **error)
{
	while (batch->written < batch->n_pages && !batch->claim.stop) {
		CgZipPage *slot = &batch->slots[batch->written % CG_ZIP_BATCH_WINDOW];
		CgZipPage page = *slot;
		guint index = batch->written;
		gboolean ok;

		if (page.pdf == NULL) {
			if (cg_zip_batch_can_claim(batch))
				cg_zip_batch_work_one(batch);
			else
				g_cond_wait(&batch->claim.cond, &batch->claim.lock);
			continue;
		}
		memset(slot, 0, sizeof(*slot));
		g_mutex_unlock(&batch->claim.lock);
		ok = cg_zip_batch_write_page(batch, zip, manifest, index, &page, error);
		cg_zip_page_clear(&page);
		g_mutex_lock(&batch->claim.lock);
		batch->written++;
		g_cond_broadcast(&batch->claim.cond);
		if (!ok)
			return FALSE;
	}
	if (batch->claim.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&batch->claim.error));
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_zip_batch_run(CgZipBatch *batch, cairo_write_func_t write, void *closure, GError **error)
{
	g_autoptr(CgZipWriter) zip = NULL;
	g_autoptr(CgManifest) manifest = cg_manifest_new();
	const char *csv;
	gsize csv_length;
	gboolean ok;

	g_return_val_if_fail(batch != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	zip = cg_zip_writer_new(write, closure, batch->params.issued_at_us / G_USEC_PER_SEC, error);
	if (zip == NULL)
		return FALSE;

	g_mutex_lock(&batch->claim.lock);
	ok = cg_zip_batch_write_pages(batch, zip, manifest, error);
	/* no helper uses the data once this returns */
	cg_batch_claim_stop(&batch->claim);
	cg_batch_claim_wait_idle(&batch->claim);
	g_mutex_unlock(&batch->claim.lock);
	if (!ok)
		return FALSE;

	csv = cg_manifest_get_data(manifest, &csv_length);
	if (!cg_zip_writer_add(zip, "manifest.csv", csv, csv_length, error) ||
	    !cg_zip_writer_close(zip, error))
		return FALSE;
	g_ptr_array_add(batch->member_sha256, NULL);
	return TRUE;
}

const char *const *
cg_zip_batch_get_member_sha256(CgZipBatch *batch)
{
	GPtrArray *hashes;

	g_return_val_if_fail(batch != NULL, NULL);
	hashes = batch->member_sha256;
	/* complete: one per page and the NULL cg_zip_batch_run() added */
	if (hashes->len != batch->n_pages + 1 || hashes->pdata[batch->n_pages] != NULL)
		return NULL;
	return (const char *const *)hashes->pdata;
}

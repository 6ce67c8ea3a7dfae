/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <gio/gio.h>

#include "cg-data.h"
#include "cg-template.h"

G_BEGIN_DECLS

/*
 * Rendering: one PDF page per recipient on a cairo PDF surface — the
 * template's background page drawn by poppler as vectors, text laid out with
 * pango (fonts embedded, fallback fonts for any script), the verification QR
 * code drawn as vector squares (libqrencode). Runs in worker threads; every
 * call uses its own poppler document (poppler is not thread-safe).
 * The QR codes of a batch (plain data, no cairo or pango) are prepared
 * ahead on a thread of a pool shared by all calls, up to one per
 * processor; a call whose helper has not started yet prepares its pages
 * itself.
 */

typedef struct {
	guint64 first_number; /* certificate number of the first page */
	gint64 issued_at_us;  /* wall-clock; used for the PDF creation date */
	/* The verification codes, one per recipient of the whole data (page i
	 * of the batch has codes[i]), and the base of their URLs: the QR code
	 * of a page encodes "{base_url}/{number}?c={code}" (cg-verification.h)
	 * and its area is a PDF link to that URL. Borrowed. NULL @codes (tests,
	 * previews): the QR code holds cg_recipient_verification()'s string
	 * and there is no link. */
	const char *base_url;
	const char *const *codes;
} CgRenderParams;

/* Certificate number text: "CERT" + year of @issued_at_us + counter
 * zero-padded to 6 digits, e.g. "CERT2026000042". */
char *cg_render_certificate_number(gint64 issued_at_us, guint64 number);

/* A cairo_write_func_t appending to the GByteArray @closure (a PDF in
 * memory). */
cairo_status_t cg_render_write_to_byte_array(void *closure, const unsigned char *data,
					     unsigned int length);

/* Called after each page; return FALSE to stop. */
typedef gboolean (*CgRenderPageFunc)(guint pages_done, guint pages_total, gpointer user_data);

/* Render @data with @tmpl and write the PDF through @write/@closure.
 * Checks @cancellable before each page (G_IO_ERROR_CANCELLED). The same
 * template, data, params give a byte-identical PDF. A PDF of one page is
 * made in memory (its background put under it as the template's
 * underlay, see cg-pdf-underlay.h; written by certgen's own writer,
 * cg-pdf-page.h, unless a text needs cairo) and written in one call at
 * the end; longer ones are written as cairo makes them. */
gboolean cg_render_pdf(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
		       cairo_write_func_t write, void *closure, CgRenderPageFunc page_done,
		       gpointer user_data, GCancellable *cancellable, GError **error);

/* The same for @n_pages recipients of @data from @first_page on: a PDF of
 * just those pages, numbered as in the whole batch (page i has number
 * params->first_number + i). The one-page PDFs of a ZIP batch. */
gboolean cg_render_pdf_pages(CgTemplate *tmpl, const CgData *data, guint first_page, guint n_pages,
			     const CgRenderParams *params, cairo_write_func_t write, void *closure,
			     CgRenderPageFunc page_done, gpointer user_data,
			     GCancellable *cancellable, GError **error);

/* Draw page @index (0-based) of @data on @cr, whose user space is the page
 * in points, as cg_render_pdf() draws it, with @number printed as the
 * certificate number and encoded in the QR code's verification string.
 * Uses this thread's render cache, as cg_render_pdf() does. Fails when the
 * QR code or the background cannot be made; cairo's own errors stay on @cr
 * for the caller to check. */
gboolean cg_render_page(CgTemplate *tmpl, const CgData *data, guint index, const char *number,
			cairo_t *cr, GError **error);

/* Free this thread's render cache now, rather than when the thread ends: a
 * thread of GLib's pool is never joined, and its cache (poppler documents)
 * must not be freed during exit(). */
void cg_render_drop_thread_cache(void);

G_END_DECLS

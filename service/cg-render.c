/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-render.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <string.h>

#include "cg-error.h"
#include "cg-pdf-page.h"
#include "cg-pdf-underlay.h"
#include "cg-qr.h"
#include "cg-text-fit.h"
#include "cg-verification.h"

/*
 * One call renders one PDF:
 *
 *  - the background page is rendered by poppler into a recording surface,
 *    together with the template's static text; every page paints that
 *    recording surface, which cairo writes once per PDF as a form XObject;
 *  - each text is fitted to its box by cg-text-fit.c (the same code data
 *    validation measures with), never ellipsized;
 *  - each variable text field has one PangoLayout, kept with the
 *    background from call to call; only its text changes, and a text that
 *    is the same as on the page before (a batch's course name, date and
 *    issuer; often the next certificate's too) is not set, so the layout
 *    keeps its lines and nothing is shaped again;
 *  - poppler objects are not thread-safe and neither are pango's font maps
 *    (pango's default one is per thread), so the poppler document, the
 *    recording surface and everything pango made are used by one thread
 *    only: each worker thread keeps the backgrounds and layouts of the last
 *    templates it rendered (CgBackgroundCache), and opens a poppler
 *    document of its own from the template's bytes when it meets a template
 *    (or a reloaded version of one) for the first time;
 *  - in a batch, a data field whose value is the same on every page (a
 *    course, a date, an issuer) is drawn once too: each run of such fields
 *    in drawing order goes into one recording surface for the call
 *    (CgRenderShared), painted in the run's place on every page, so cairo
 *    writes it once as a form XObject and each page has only its name,
 *    number and QR code; the drawing order stays the template's;
 *  - a single certificate (a PDF of one page) does not draw the background
 *    at all: cairo would write its paths with printf() and deflate them
 *    again for every PDF, about half of the work. The background page is
 *    written once per template and thread as a PDF of its own, kept as an
 *    underlay (cg-pdf-underlay.c), and each one-page PDF gets it painted
 *    under its content by reference. The static texts are drawn on the
 *    page then (their layouts kept with the background), so they share
 *    the page's font subsets. Should cairo's output ever not be of the
 *    shape the underlay reads, the page is drawn with the background as
 *    in a batch;
 *  - and a single certificate is not written by cairo either, when it can
 *    be helped: cairo subsets and deflates every font of every PDF (two
 *    thirds of a certificate's instructions). certgen's own writer
 *    (cg-pdf-page.c) shows the same fitted layouts, glyph by glyph where
 *    pango put them, with font subsets made and deflated once per template
 *    and thread (cg-pdf-font.c); the page looks the same to the pixel. A
 *    page it cannot show (a glyph no font has, a font it cannot embed) is
 *    drawn by cairo as before;
 *  - a page's QR code is a 1-bit image mask (see cg-qr.c); what comes
 *    before, the verification string, its encoding and the
 *    bitmap, is plain data that a helper thread prepares ahead
 *    while this one draws and writes the pages before (CgPreparer);
 *    nothing of cairo, pango or poppler crosses threads.
 *
 * The PDF's dates come from the parameters, never from the clock, so the
 * same inputs give the same bytes.
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PangoContext, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_t, cairo_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_surface_t, cairo_surface_destroy)

#define CG_NUMBER_MAX 48

typedef struct {
	cairo_write_func_t write;
	void *closure;
	gboolean stopped; /* nothing more reaches the caller */
} CgRenderSink;

/* A field drawn on every page, with its layout for the whole call. */
typedef struct {
	const CgTemplateField *field;
	PangoLayout *layout; /* NULL for the QR code */
	CgTextFit fit;	     /* of the layout's text */
} CgRenderItem;

static void
cg_render_item_clear(CgRenderItem *item)
{
	g_clear_object(&item->layout);
}

static int
cg_render_year(gint64 issued_at_us)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(
	    issued_at_us >= 0 ? issued_at_us / G_USEC_PER_SEC
			      : -((-issued_at_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));

	return dt != NULL ? g_date_time_get_year(dt) : 1970;
}

static void
cg_render_format_number(char *buf, gsize size, int year, guint64 number)
{
	g_snprintf(buf, size, "CERT%04d%06" G_GUINT64_FORMAT, year, number);
}

char *
cg_render_certificate_number(gint64 issued_at_us, guint64 number)
{
	char buf[CG_NUMBER_MAX];

	cg_render_format_number(buf, sizeof(buf), cg_render_year(issued_at_us), number);
	return g_strdup(buf);
}

cairo_status_t
cg_render_write_to_byte_array(void *closure, const unsigned char *data, unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t
cg_render_sink_write(void *closure, const unsigned char *data, unsigned int length)
{
	CgRenderSink *sink = closure;

	/* After a failure or cancellation cairo still writes the rest of the
	 * document when the surface is destroyed; the caller gets none of it. */
	if (sink->stopped)
		return CAIRO_STATUS_WRITE_ERROR;
	return sink->write(sink->closure, data, length);
}

/* Sets the text of @layout unless it has it already: a layout keeps its
 * lines until something changes, so the same text is not shaped again. */
static gboolean
cg_render_set_text(PangoLayout *layout, const char *text, int length)
{
	const char *current = pango_layout_get_text(layout);
	gsize len = length < 0 ? strlen(text) : (gsize)length;

	if (strlen(current) == len && memcmp(current, text, len) == 0)
		return FALSE;
	pango_layout_set_text(layout, text, (int)len);
	return TRUE;
}

/* Draws @text with @layout as @field says: y is the first baseline. The
 * text is fitted to the field's box (cg-text-fit.h) when it changes; @fit
 * keeps the result for the next page, whose text is often the same (its
 * size is 0 before the first fit). A text that cannot fit (data validation
 * refuses such data) is drawn whole at the smallest size. */
static void
cg_render_place(PangoLayout *layout, const CgTemplateField *field, const char *text, int length,
		CgTextFit *fit, double *x, double *y)
{
	double baseline;

	if (cg_render_set_text(layout, text, length) || fit->size == 0)
		cg_text_fit_layout(layout, field, fit);

	/* the layout is max_width / scale wide and aligns its lines in it */
	*x = field->x;
	if (field->align == CG_TEMPLATE_ALIGN_CENTER)
		*x -= field->max_width / 2;
	else if (field->align == CG_TEMPLATE_ALIGN_RIGHT)
		*x -= field->max_width;
	baseline = (double)pango_layout_get_baseline(layout) / PANGO_SCALE * fit->scale;
	*y = field->y - baseline;
}

/* (cg_render_place() says where the layout's top-left corner goes.) */
static void
cg_render_text(cairo_t *cr, PangoLayout *layout, const CgTemplateField *field, const char *text,
	       int length, CgTextFit *fit)
{
	double x, y;

	cg_render_place(layout, field, text, length, fit, &x, &y);
	cairo_set_source_rgb(cr, field->color[0], field->color[1], field->color[2]);

	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_scale(cr, fit->scale, fit->scale);
	cairo_move_to(cr, 0, 0);
	pango_cairo_show_layout(cr, layout);
	cairo_restore(cr);
}

/* The background page and the static text, drawn once for all pages. */
static cairo_surface_t *
cg_render_background(CgTemplate *tmpl, PopplerPage *page, PangoContext *context, GError **error)
{
	const GPtrArray *fields = cg_template_get_fields(tmpl);
	cairo_rectangle_t extents = {0, 0, 0, 0};
	g_autoptr(cairo_surface_t) recording = NULL;
	g_autoptr(cairo_t) cr = NULL;

	cg_template_get_page_size(tmpl, &extents.width, &extents.height);
	recording = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
	cr = cairo_create(recording);
	cairo_save(cr);
	poppler_page_render(page, cr);
	cairo_restore(cr);
	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);
		g_autoptr(PangoLayout) layout = NULL;
		CgTextFit fit = {0};

		if (field->kind != CG_TEMPLATE_FIELD_TEXT)
			continue;
		layout = cg_text_fit_layout_new(context, field);
		cg_render_text(cr, layout, field, field->text, -1, &fit);
	}
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot draw the background: %s",
			    cairo_status_to_string(cairo_status(cr)));
		return NULL;
	}
	return g_steal_pointer(&recording);
}

/* The variable fields of @tmpl, each with its layout; with @statics, the
 * static texts instead. */
static GArray *
cg_render_items_new(CgTemplate *tmpl, PangoContext *context, gboolean statics)
{
	const GPtrArray *fields = cg_template_get_fields(tmpl);
	GArray *items = g_array_new(FALSE, TRUE, sizeof(CgRenderItem));

	g_array_set_clear_func(items, (GDestroyNotify)cg_render_item_clear);
	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);
		CgRenderItem item = {field, NULL, {0}};

		if ((field->kind == CG_TEMPLATE_FIELD_TEXT) != statics)
			continue;
		if (field->kind != CG_TEMPLATE_FIELD_QR)
			item.layout = cg_text_fit_layout_new(context, field);
		g_array_append_val(items, item);
	}
	return items;
}

/* A template's drawn background and its fields' layouts, used by one
 * thread only. */
typedef struct {
	CgTemplate *tmpl;	    /* a reference, so the pointer is not reused */
	PopplerDocument *document;  /* outlives the recording: fonts of the page */
	cairo_surface_t *recording; /* the background page and the static text */
	PangoContext *context;	    /* of the layouts */
	/* CgRenderItem: the variable fields; a layout keeps the text of the
	 * last page it drew, and its lines, for the next call */
	GArray *items;
	/* for one-page PDFs: the background page as an underlay (NULL if
	 * cairo's output cannot take one) and the static texts, drawn on the
	 * page (CgRenderItem) */
	CgPdfUnderlay *underlay;
	GArray *statics;
	/* for one-page PDFs certgen writes itself (cg-pdf-page.h): the fonts'
	 * cached subsets; NULL when cairo writes them */
	CgPdfFonts *fonts;
} CgBackground;

#define CG_BACKGROUND_CACHE_SIZE 4

typedef struct {
	CgBackground entries[CG_BACKGROUND_CACHE_SIZE]; /* most recently used first */
} CgBackgroundCache;

static void
cg_background_clear(CgBackground *bg)
{
	g_clear_pointer(&bg->fonts, cg_pdf_fonts_free);
	g_clear_pointer(&bg->statics, g_array_unref);
	g_clear_pointer(&bg->underlay, cg_pdf_underlay_unref);
	g_clear_pointer(&bg->items, g_array_unref);
	g_clear_object(&bg->context);
	g_clear_pointer(&bg->recording, cairo_surface_destroy);
	g_clear_object(&bg->document);
	g_clear_pointer(&bg->tmpl, cg_template_unref);
}

static void
cg_background_cache_free(gpointer data)
{
	CgBackgroundCache *cache = data;

	for (guint i = 0; i < CG_BACKGROUND_CACHE_SIZE; i++)
		cg_background_clear(&cache->entries[i]);
	g_free(cache);
}

/* The background page of @tmpl alone as an underlay for one-page PDFs, or
 * NULL (logged) if cairo's output is not of the shape it reads. */
static CgPdfUnderlay *
cg_render_underlay_new(CgTemplate *tmpl, PopplerPage *page)
{
	g_autoptr(GByteArray) pdf = g_byte_array_sized_new(64 * 1024);
	g_autoptr(cairo_surface_t) surface = NULL;
	g_autoptr(cairo_t) cr = NULL;
	g_autoptr(GError) error = NULL;
	CgPdfUnderlay *underlay;
	double width, height;

	cg_template_get_page_size(tmpl, &width, &height);
	surface =
	    cairo_pdf_surface_create_for_stream(cg_render_write_to_byte_array, pdf, width, height);
	cr = cairo_create(surface);
	poppler_page_render(page, cr);
	cairo_show_page(cr);
	g_clear_pointer(&cr, cairo_destroy);
	cairo_surface_finish(surface);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		g_message("Template %s: the background as a PDF of its own: %s",
			  cg_template_get_id(tmpl),
			  cairo_status_to_string(cairo_surface_status(surface)));
		return NULL;
	}
	underlay = cg_pdf_underlay_new(pdf->data, pdf->len, &error);
	if (underlay == NULL)
		g_message("Template %s: single certificates draw their background: %s",
			  cg_template_get_id(tmpl), error->message);
	return underlay;
}

/* Adds every glyph @layout shows to the base of its face. */
static void
cg_render_fonts_add_layout(CgPdfFonts *fonts, PangoLayout *layout)
{
	PangoLayoutIter *iter = pango_layout_get_iter(layout);

	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		CgPdfFace *face;

		if (run == NULL ||
		    (face = cg_pdf_fonts_get_face(fonts, run->item->analysis.font)) == NULL)
			continue;
		for (int i = 0; i < run->glyphs->num_glyphs; i++) {
			PangoGlyph glyph = run->glyphs->glyphs[i].glyph;

			if (glyph != PANGO_GLYPH_EMPTY && (glyph & PANGO_GLYPH_UNKNOWN_FLAG) == 0)
				cg_pdf_face_add_base_glyph(face, glyph);
		}
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
}

/* The fonts of the one-page PDFs of a template (see cg-pdf-font.h): the
 * glyphs of the static texts, and the fixed set in the font of each data
 * field and of the number; NULL (logged) if they cannot be subset. */
static CgPdfFonts *
cg_render_fonts_new(CgTemplate *tmpl, PangoContext *context, GArray *items, GArray *statics)
{
	g_autoptr(CgPdfFonts) fonts = cg_pdf_fonts_new();
	g_autoptr(GError) error = NULL;

	for (guint j = 0; j < items->len; j++) {
		CgRenderItem *item = &g_array_index(items, CgRenderItem, j);
		g_autoptr(PangoFont) font = NULL;
		CgPdfFace *face;

		if (item->layout == NULL)
			continue;
		font = pango_context_load_font(context,
					       pango_layout_get_font_description(item->layout));
		if (font != NULL && (face = cg_pdf_fonts_get_face(fonts, font)) != NULL)
			cg_pdf_face_add_fixed_set(face);
	}
	for (guint j = 0; j < statics->len; j++) {
		CgRenderItem *item = &g_array_index(statics, CgRenderItem, j);
		double x, y;

		cg_render_place(item->layout, item->field, item->field->text, -1, &item->fit, &x,
				&y);
		cg_render_fonts_add_layout(fonts, item->layout);
	}
	if (!cg_pdf_fonts_seal(fonts, &error)) {
		g_message("Template %s: single certificates are written by cairo: %s",
			  cg_template_get_id(tmpl), error->message);
		return NULL;
	}
	return g_steal_pointer(&fonts);
}

/* Freed when its thread ends. */
static GPrivate background_cache = G_PRIVATE_INIT(cg_background_cache_free);

/* The background of @tmpl for this thread, drawn if not cached: borrowed,
 * valid until this thread's next call. */
static const CgBackground *
cg_render_get_background(CgTemplate *tmpl, GError **error)
{
	CgBackgroundCache *cache = g_private_get(&background_cache);
	g_autoptr(GError) local_error = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autoptr(PopplerPage) page = NULL;
	g_autoptr(PangoContext) context = NULL;
	cairo_surface_t *recording;
	CgBackground found = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	guint page_index;
	guint i;

	if (cache == NULL) {
		cache = g_new0(CgBackgroundCache, 1);
		g_private_set(&background_cache, cache);
	}
	for (i = 0; i < CG_BACKGROUND_CACHE_SIZE; i++) {
		if (cache->entries[i].tmpl == tmpl)
			break;
	}
	if (i < CG_BACKGROUND_CACHE_SIZE) {
		found = cache->entries[i];
	} else {
		document = poppler_document_new_from_bytes(
		    cg_template_get_background(tmpl, &page_index), NULL, &local_error);
		/* checked when the template was loaded; the message goes to the
		 * caller, so no path and not poppler's words (see cg-template.c) */
		if (document == NULL) {
			g_message("Template %s (%s): cannot open the background: %s",
				  cg_template_get_id(tmpl), cg_template_get_path(tmpl),
				  local_error->message);
			g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
				    "Template %s: the background cannot be opened",
				    cg_template_get_id(tmpl));
			return NULL;
		}
		page = poppler_document_get_page(document, (int)page_index);
		if (page == NULL) {
			g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
				    "Template %s: background page %u is missing",
				    cg_template_get_id(tmpl), page_index + 1);
			return NULL;
		}
		context = cg_text_fit_context_new();
		recording = cg_render_background(tmpl, page, context, error);
		if (recording == NULL)
			return NULL;
		/* an older version of the same template goes, or else the least
		 * recently used one */
		for (i = 0; i < CG_BACKGROUND_CACHE_SIZE - 1; i++) {
			if (cache->entries[i].tmpl != NULL &&
			    g_str_equal(cg_template_get_id(cache->entries[i].tmpl),
					cg_template_get_id(tmpl)))
				break;
		}
		cg_background_clear(&cache->entries[i]);
		found.tmpl = cg_template_ref(tmpl);
		found.document = g_steal_pointer(&document);
		found.recording = recording;
		found.items = cg_render_items_new(tmpl, context, FALSE);
		found.statics = cg_render_items_new(tmpl, context, TRUE);
		found.underlay = cg_render_underlay_new(tmpl, page);
		if (found.underlay != NULL)
			found.fonts =
			    cg_render_fonts_new(tmpl, context, found.items, found.statics);
		found.context = g_steal_pointer(&context);
	}
	memmove(&cache->entries[1], &cache->entries[0], i * sizeof(CgBackground));
	cache->entries[0] = found;
	return &cache->entries[0];
}

static void
cg_render_set_metadata(cairo_surface_t *surface, const CgRenderParams *params, guint n_pages)
{
	g_autoptr(GDateTime) dt =
	    g_date_time_new_from_unix_utc(params->issued_at_us / G_USEC_PER_SEC);
	g_autofree char *date = NULL;
	g_autofree char *first = NULL;
	g_autofree char *title = NULL;

	first = cg_render_certificate_number(params->issued_at_us, params->first_number);
	if (n_pages == 1) {
		title = g_strdup_printf("Certificate %s", first);
	} else {
		g_autofree char *last = cg_render_certificate_number(
		    params->issued_at_us, params->first_number + n_pages - 1);

		title = g_strdup_printf("Certificates %s–%s", first, last);
	}
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "certgen");
	if (dt != NULL) {
		date = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date);
	}
}

/*
 * The QR codes of the pages of a batch, prepared ahead by a helper thread
 * (one of a thread pool shared by all renderers, so that no thread is
 * created per call). Pages are claimed in order, each by
 * one thread: the helper claims the next one while it is at most
 * CG_PREPARE_AHEAD pages ahead. A page the renderer needs that is not ready
 * (the helper has not started, is busy elsewhere, is behind or lost its
 * processor) the renderer prepares itself, so it never waits for the
 * helper. The helper is about four times as fast as the renderer, so that
 * happens at the start of a batch at most, or on a busy machine.
 */
#define CG_PREPARE_AHEAD 16

typedef struct {
	CgQr *qr;
	GError *error; /* when @qr is NULL */
} CgPrepared;

typedef struct {
	gint ref_count; /* the renderer's and the helper task's */
	GMutex lock;
	GCond cond;

	/* set before the helper starts, then read-only; @data is the
	 * renderer's and is only used by the helper while it works on a page
	 * it claimed before @stop */
	const CgData *data;
	const char *base_url; /* and @codes: as in CgRenderParams */
	const char *const *codes;
	guint first_page; /* the recipient of page 0 */
	int year;
	guint64 first_number;
	guint n_pages;

	/* under @lock */
	guint claimed;			    /* pages 0 .. claimed - 1 are claimed */
	guint consumed;			    /* pages 0 .. consumed - 1 are taken by the renderer */
	gboolean stop;			    /* the renderer returns: claim nothing more */
	gboolean working;		    /* the helper has claimed a page it has not stored */
	CgPrepared slots[CG_PREPARE_AHEAD]; /* page i in slot i % CG_PREPARE_AHEAD */
	gboolean ready[CG_PREPARE_AHEAD];   /* the helper's page is in its slot */
} CgPreparer;

static void
cg_prepared_clear(CgPrepared *page)
{
	g_clear_pointer(&page->qr, cg_qr_free);
	g_clear_error(&page->error);
}

static void
cg_preparer_unref(CgPreparer *prep)
{
	if (!g_atomic_int_dec_and_test(&prep->ref_count))
		return;
	for (guint i = 0; i < CG_PREPARE_AHEAD; i++)
		cg_prepared_clear(&prep->slots[i]);
	g_mutex_clear(&prep->lock);
	g_cond_clear(&prep->cond);
	g_free(prep);
}

/* What the QR code of recipient @recipient_index, numbered @number, holds:
 * its verification URL, or without codes the older verification string. */
static char *
cg_render_qr_payload(const CgData *data, const char *base_url, const char *const *codes,
		     guint recipient_index, const char *number)
{
	if (codes != NULL)
		return cg_verification_url(base_url, number, codes[recipient_index]);
	return cg_recipient_verification(cg_data_get_recipient(data, recipient_index), number);
}

static void
cg_prepare_page(const CgPreparer *prep, guint index, CgPrepared *page)
{
	char number[CG_NUMBER_MAX];
	g_autofree char *verification = NULL;

	cg_render_format_number(number, sizeof(number), prep->year, prep->first_number + index);
	verification = cg_render_qr_payload(prep->data, prep->base_url, prep->codes,
					    prep->first_page + index, number);
	page->qr = cg_qr_new(verification, &page->error);
}

/* The helper's task: claims and prepares pages until all are claimed or the
 * renderer stops it. */
static void
cg_preparer_run(gpointer task_data, gpointer pool_data)
{
	CgPreparer *prep = task_data;

	g_mutex_lock(&prep->lock);
	for (;;) {
		CgPrepared page = {NULL, NULL};
		guint index;

		while (!prep->stop && prep->claimed < prep->n_pages &&
		       prep->claimed - prep->consumed >= CG_PREPARE_AHEAD)
			g_cond_wait(&prep->cond, &prep->lock);
		if (prep->stop || prep->claimed >= prep->n_pages)
			break;
		index = prep->claimed++;
		prep->working = TRUE;
		g_mutex_unlock(&prep->lock);

		cg_prepare_page(prep, index, &page);

		g_mutex_lock(&prep->lock);
		if (index >= prep->consumed) {
			prep->slots[index % CG_PREPARE_AHEAD] = page;
			prep->ready[index % CG_PREPARE_AHEAD] = TRUE;
		} else {
			/* too late: the renderer made it itself */
			g_mutex_unlock(&prep->lock);
			cg_prepared_clear(&page);
			g_mutex_lock(&prep->lock);
		}
		prep->working = FALSE;
		g_cond_broadcast(&prep->cond);
	}
	g_mutex_unlock(&prep->lock);
	cg_preparer_unref(prep);
}

static gpointer
cg_preparer_pool_new(gpointer data)
{
	/* not exclusive: idle threads are GLib's, shared with other pools */
	return g_thread_pool_new(cg_preparer_run, NULL, (int)g_get_num_processors(), FALSE, NULL);
}

/* Starts preparing the QR codes of @n_pages pages of @data from recipient
 * @first_page on, the first at @first_number. */
static CgPreparer *
cg_preparer_new(const CgData *data, const CgRenderParams *params, guint first_page, int year,
		guint64 first_number, guint n_pages)
{
	static GOnce pool_once = G_ONCE_INIT;
	CgPreparer *prep = g_new0(CgPreparer, 1);

	prep->base_url = params->base_url;
	prep->codes = params->codes;

	prep->ref_count = 1;
	g_mutex_init(&prep->lock);
	g_cond_init(&prep->cond);
	prep->data = data;
	prep->first_page = first_page;
	prep->year = year;
	prep->first_number = first_number;
	prep->n_pages = n_pages;
	/* One page is prepared here: handing it over and waiting for it
	 * costs about what it saves, more on a busy machine. */
	if (n_pages == 1)
		return prep;
	/* Queued even when no thread can start (then the renderer prepares
	 * every page, and the task ends at once whenever it runs). */
	g_atomic_int_inc(&prep->ref_count);
	g_thread_pool_push(g_once(&pool_once, cg_preparer_pool_new, NULL), prep, NULL);
	return prep;
}

/* Page @index's QR code, or NULL and @error; pages are taken in order. */
static CgQr *
cg_preparer_take(CgPreparer *prep, guint index, GError **error)
{
	CgPrepared page = {NULL, NULL};
	guint slot = index % CG_PREPARE_AHEAD;
	gboolean ready;

	/* only this thread changes @consumed */
	g_return_val_if_fail(index == prep->consumed, NULL);

	g_mutex_lock(&prep->lock);
	ready = prep->ready[slot];
	if (ready) {
		page = prep->slots[slot];
		memset(&prep->slots[slot], 0, sizeof(CgPrepared));
		prep->ready[slot] = FALSE;
	} else if (index >= prep->claimed) {
		prep->claimed = index + 1;
	}
	/* from here on the helper drops what it makes of this page */
	prep->consumed = index + 1;
	g_cond_broadcast(&prep->cond);
	g_mutex_unlock(&prep->lock);

	/* Not claimed by the helper, or claimed and not ready: on a busy
	 * machine the helper may have lost its processor in the middle of a
	 * page, and waiting for it would stall the whole PDF. */
	if (!ready)
		cg_prepare_page(prep, index, &page);

	if (page.qr == NULL)
		g_propagate_error(error, g_steal_pointer(&page.error));
	return page.qr;
}

/* Stops the helper and drops the renderer's reference: when this returns,
 * the helper no longer uses the renderer's data (what it prepared goes
 * with the last reference). */
static void
cg_preparer_finish(CgPreparer *prep)
{
	g_mutex_lock(&prep->lock);
	prep->stop = TRUE;
	g_cond_broadcast(&prep->cond);
	while (prep->working)
		g_cond_wait(&prep->cond, &prep->lock);
	g_mutex_unlock(&prep->lock);
	cg_preparer_unref(prep);
}

/* the renderer's reference */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPreparer, cg_preparer_finish)

static gboolean
cg_render_has_qr(CgTemplate *tmpl)
{
	const GPtrArray *fields = cg_template_get_fields(tmpl);

	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);

		if (field->kind == CG_TEMPLATE_FIELD_QR)
			return TRUE;
	}
	return FALSE;
}

static gboolean
cg_render_check(cairo_t *cr, GError **error)
{
	cairo_status_t status = cairo_status(cr);

	if (status == CAIRO_STATUS_SUCCESS)
		status = cairo_surface_status(cairo_get_target(cr));
	if (status != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the PDF: %s",
			    cairo_status_to_string(status));
		return FALSE;
	}
	return TRUE;
}

/* What a batch's pages share beyond the background: form[j] for item j
 * of the items is NULL when the page draws it, CG_RENDER_SKIP when it is
 * not drawn at all, else the recording surface of the run of shared
 * fields it belongs to (one reference, held by the run's first item),
 * painted where the run starts; with form[0] set, the background is in
 * that surface too. */
typedef struct {
	guint n_items;
	cairo_surface_t **form;
} CgRenderShared;

static char cg_render_skip_marker;
#define CG_RENDER_SKIP ((cairo_surface_t *)&cg_render_skip_marker)

static void
cg_render_shared_free(CgRenderShared *shared)
{
	for (guint j = 0; j < shared->n_items; j++) {
		if (shared->form[j] != NULL && shared->form[j] != CG_RENDER_SKIP &&
		    (j == 0 || shared->form[j - 1] != shared->form[j]))
			cairo_surface_destroy(shared->form[j]);
	}
	g_free(shared->form);
	g_free(shared);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRenderShared, cg_render_shared_free)

/* The QR area as a link to @url (cairo 1.16's link tag with an explicit
 * rectangle, so the link is the whole square whatever is drawn in it).
 * @url is made of a checked base URL, a number and a base32 code: no
 * quote to escape. */
static void
cg_render_link(cairo_t *cr, const CgTemplateField *field, const char *url)
{
	g_autofree char *attributes = NULL;
	char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], size[G_ASCII_DTOSTR_BUF_SIZE];

	attributes = g_strdup_printf(
	    "rect=[%s %s %s %s] uri='%s'", g_ascii_formatd(x, sizeof(x), "%.2f", field->x),
	    g_ascii_formatd(y, sizeof(y), "%.2f", field->y),
	    g_ascii_formatd(size, sizeof(size), "%.2f", field->size), size, url);
	cairo_tag_begin(cr, CAIRO_TAG_LINK, attributes);
	cairo_tag_end(cr, CAIRO_TAG_LINK);
}

/* The text of variable text field @field into @text; FALSE when the field
 * is empty and not drawn. */
static gboolean
cg_render_compose(CgTemplate *tmpl, const CgTemplateField *field, const CgRecipient *recipient,
		  const char *number, GString *text)
{
	const char *value;
	g_autofree char *date = NULL;

	if (field->kind == CG_TEMPLATE_FIELD_NUMBER) {
		cg_text_fit_compose(text, field, number);
		return TRUE;
	}
	value = cg_recipient_get(recipient, field->key);
	if (value == NULL || value[0] == '\0')
		return FALSE;
	if (field->is_date)
		value = date = cg_template_format_date(tmpl, value);
	cg_text_fit_compose(text, field, value);
	return TRUE;
}

/* One page: the background, then every variable field of @items, with
 * @number as the certificate number and @qr (NULL when the template has no
 * QR code) as its code, linked to @url when not NULL; with @shared, as it
 * says (see CgRenderShared), and no background when @background is NULL;
 * @statics (the static texts, for a page whose background is an underlay)
 * are drawn first when not NULL. @text is scratch space. */
static void
cg_render_draw_page(cairo_t *cr, CgTemplate *tmpl, cairo_surface_t *background, GArray *statics,
		    GArray *items, const CgRecipient *recipient, const char *number, const CgQr *qr,
		    const char *url, GString *text, const CgRenderShared *shared)
{
	if (background != NULL && (shared == NULL || shared->form[0] == NULL)) {
		cairo_set_source_surface(cr, background, 0, 0);
		cairo_paint(cr);
	}
	for (guint j = 0; statics != NULL && j < statics->len; j++) {
		CgRenderItem *item = &g_array_index(statics, CgRenderItem, j);

		cg_render_text(cr, item->layout, item->field, item->field->text, -1, &item->fit);
	}
	for (guint j = 0; j < items->len; j++) {
		CgRenderItem *item = &g_array_index(items, CgRenderItem, j);
		const CgTemplateField *field = item->field;

		if (shared != NULL && shared->form[j] != NULL) {
			if (shared->form[j] != CG_RENDER_SKIP &&
			    (j == 0 || shared->form[j - 1] != shared->form[j])) {
				cairo_set_source_surface(cr, shared->form[j], 0, 0);
				cairo_paint(cr);
			}
			continue;
		}
		if (field->kind == CG_TEMPLATE_FIELD_QR) {
			if (qr != NULL)
				cg_qr_draw_code(cr, qr, field->x, field->y, field->size,
						field->quiet_zone, field->color, field->background);
			if (qr != NULL && url != NULL)
				cg_render_link(cr, field, url);
		} else if (cg_render_compose(tmpl, field, recipient, number, text)) {
			cg_render_text(cr, item->layout, field, text->str, (int)text->len,
				       &item->fit);
		}
	}
}

/* Whether data field @field has the same value on pages @first .. @first +
 * @n - 1 of @data. */
static gboolean
cg_render_field_is_shared(const CgTemplateField *field, const CgData *data, guint first, guint n)
{
	const char *value = cg_recipient_get(cg_data_get_recipient(data, first), field->key);

	for (guint i = 1; i < n; i++) {
		const char *other =
		    cg_recipient_get(cg_data_get_recipient(data, first + i), field->key);

		if (g_strcmp0(value, other) != 0)
			return FALSE;
	}
	return TRUE;
}

/* The shared forms of pages @first .. @first + @n - 1 (see CgRenderShared),
 * or NULL when no data field has the same value on all of them. */
static CgRenderShared *
cg_render_shared_new(CgTemplate *tmpl, cairo_surface_t *background, GArray *items,
		     const CgData *data, guint first, guint n, GString *text, GError **error)
{
	g_autoptr(CgRenderShared) shared = g_new0(CgRenderShared, 1);
	g_autofree cairo_surface_t **select = g_new(cairo_surface_t *, items->len);
	CgRenderShared only = {items->len, select};
	const CgRecipient *recipient = cg_data_get_recipient(data, first);
	cairo_rectangle_t extents = {0, 0, 0, 0};
	gboolean any = FALSE;

	shared->n_items = items->len;
	shared->form = g_new0(cairo_surface_t *, items->len);
	for (guint j = 0; j < items->len; j++) {
		const CgTemplateField *field = g_array_index(items, CgRenderItem, j).field;

		if (field->kind == CG_TEMPLATE_FIELD_DATA &&
		    cg_render_field_is_shared(field, data, first, n)) {
			shared->form[j] = CG_RENDER_SKIP; /* for now: shared */
			any = TRUE;
		}
	}
	if (!any)
		return NULL;

	cg_template_get_page_size(tmpl, &extents.width, &extents.height);
	for (guint start = 0; start < items->len;) {
		g_autoptr(cairo_t) cr = NULL;
		cairo_surface_t *form;
		guint end = start;

		if (shared->form[start] == NULL) {
			start++;
			continue;
		}
		while (end < items->len && shared->form[end] != NULL)
			end++;
		/* the fields start .. end - 1 alone, with the background before
		 * them when they come first */
		for (guint j = 0; j < items->len; j++)
			select[j] = j >= start && j < end ? NULL : CG_RENDER_SKIP;
		form = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
		cr = cairo_create(form);
		cg_render_draw_page(cr, tmpl, start == 0 ? background : NULL, NULL, items,
				    recipient, "", NULL, NULL, text, &only);
		for (guint j = start; j < end; j++)
			shared->form[j] = form;
		if (!cg_render_check(cr, error))
			return NULL;
		start = end;
	}
	return g_steal_pointer(&shared);
}

gboolean
cg_render_pdf(CgTemplate *tmpl, const CgData *data, const CgRenderParams *params,
	      cairo_write_func_t write, void *closure, CgRenderPageFunc page_done,
	      gpointer user_data, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(data != NULL, FALSE);

	return cg_render_pdf_pages(tmpl, data, 0, cg_data_get_n_recipients(data), params, write,
				   closure, page_done, user_data, cancellable, error);
}

/* cg_render_pdf_pages(); with @underlay set, a one-page PDF without its
 * background page, which *@underlay (a new reference) is to be painted
 * under, if the template has an underlay (else *@underlay is NULL and the
 * page is whole). */
static gboolean
cg_render_pages(CgTemplate *tmpl, const CgData *data, guint first_page, guint n_pages,
		const CgRenderParams *params, cairo_write_func_t write, void *closure,
		CgRenderPageFunc page_done, gpointer user_data, GCancellable *cancellable,
		CgPdfUnderlay **underlay, GError **error)
{
	CgRenderSink sink = {write, closure, FALSE};
	CgRenderParams range;
	const CgBackground *cached;
	g_autoptr(cairo_surface_t) background = NULL;
	g_autoptr(GArray) items = NULL;
	g_autoptr(GArray) statics = NULL;
	g_autoptr(cairo_surface_t) surface = NULL;
	g_autoptr(cairo_t) cr = NULL;
	g_autoptr(GString) text = g_string_sized_new(256);
	g_autoptr(CgPreparer) prep = NULL;
	g_autoptr(CgPdfUnderlay) under = NULL;
	g_autoptr(CgRenderShared) shared = NULL;
	g_autofree char *url = NULL;
	gboolean has_qr = FALSE;
	char number[CG_NUMBER_MAX];
	double width, height;
	int year;

	g_return_val_if_fail(tmpl != NULL, FALSE);
	g_return_val_if_fail(data != NULL, FALSE);
	g_return_val_if_fail(params != NULL, FALSE);
	g_return_val_if_fail(write != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (n_pages == 0) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_DATA, "No recipients");
		return FALSE;
	}
	g_return_val_if_fail(first_page <= cg_data_get_n_recipients(data) &&
				 n_pages <= cg_data_get_n_recipients(data) - first_page,
			     FALSE);
	/* the numbers of the pages rendered */
	range = *params;
	range.first_number = params->first_number + first_page;
	if (g_cancellable_set_error_if_cancelled(cancellable, error))
		return FALSE;

	/* the helper starts on the QR codes at once */
	has_qr = cg_render_has_qr(tmpl);
	year = cg_render_year(params->issued_at_us);
	if (has_qr)
		prep = cg_preparer_new(data, params, first_page, year, range.first_number, n_pages);

	cached = cg_render_get_background(tmpl, error);
	if (cached == NULL)
		return FALSE;
	/* references: a call from @page_done may change this thread's cache */
	items = g_array_ref(cached->items);
	if (underlay != NULL && cached->underlay != NULL) {
		under = cg_pdf_underlay_ref(cached->underlay);
		statics = g_array_ref(cached->statics);
	} else {
		background = cairo_surface_reference(cached->recording);
	}
	/* one certificate has nothing to share with another page */
	if (n_pages > 1) {
		g_autoptr(GError) local_error = NULL;

		shared = cg_render_shared_new(tmpl, background, items, data, first_page, n_pages,
					      text, &local_error);
		if (local_error != NULL) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			return FALSE;
		}
	}

	cg_template_get_page_size(tmpl, &width, &height);
	surface = cairo_pdf_surface_create_for_stream(cg_render_sink_write, &sink, width, height);
	cg_render_set_metadata(surface, &range, n_pages);
	cr = cairo_create(surface);
	if (!cg_render_check(cr, error))
		return FALSE;

	for (guint i = 0; i < n_pages; i++) {
		g_autoptr(CgQr) qr = NULL;

		if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
			sink.stopped = TRUE;
			return FALSE;
		}
		cg_render_format_number(number, sizeof(number), year, range.first_number + i);
		if (has_qr && (qr = cg_preparer_take(prep, i, error)) == NULL) {
			sink.stopped = TRUE;
			return FALSE;
		}
		if (has_qr && params->codes != NULL) {
			g_free(url);
			url = cg_verification_url(params->base_url, number,
						  params->codes[first_page + i]);
		}
		cg_render_draw_page(cr, tmpl, background, statics, items,
				    cg_data_get_recipient(data, first_page + i), number, qr, url,
				    text, shared);
		cairo_show_page(cr);
		if (!cg_render_check(cr, error)) {
			sink.stopped = TRUE;
			return FALSE;
		}
		if (page_done != NULL && !page_done(i + 1, n_pages, user_data)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
				    "Rendering stopped after page %u of %u", i + 1, n_pages);
			sink.stopped = TRUE;
			return FALSE;
		}
	}

	g_clear_pointer(&cr, cairo_destroy);
	cairo_surface_finish(surface);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the PDF: %s",
			    cairo_status_to_string(cairo_surface_status(surface)));
		return FALSE;
	}
	if (underlay != NULL)
		*underlay = g_steal_pointer(&under);
	return TRUE;
}

typedef enum {
	CG_RENDER_OWN_DONE,
	CG_RENDER_OWN_DECLINED, /* cairo draws it */
	CG_RENDER_OWN_FAILED,
} CgRenderOwn;

/* A single certificate, page @index of @data, written by certgen's own
 * writer (cg-pdf-page.h) into @pdf, with the template's underlay under it;
 * DECLINED when the template has no underlay or fonts, or a text cannot
 * be shown so (cg_pdf_page_add_text()). */
static CgRenderOwn
cg_render_single_own(CgTemplate *tmpl, const CgData *data, guint index,
		     const CgRenderParams *params, GByteArray *pdf, CgRenderPageFunc page_done,
		     gpointer user_data, GCancellable *cancellable, GError **error)
{
	const CgRecipient *recipient = cg_data_get_recipient(data, index);
	const CgBackground *cached;
	g_autoptr(CgPdfUnderlay) underlay = NULL;
	g_autoptr(GArray) items = NULL;
	g_autoptr(GArray) statics = NULL;
	g_autoptr(CgPdfPage) page = NULL;
	g_autoptr(GString) text = g_string_sized_new(256);
	g_autoptr(GDateTime) dt = NULL;
	g_autofree char *title = NULL;
	g_autofree char *date = NULL;
	g_autoptr(GError) local_error = NULL;
	char number[CG_NUMBER_MAX];
	double width, height;

	if (g_cancellable_set_error_if_cancelled(cancellable, error))
		return CG_RENDER_OWN_FAILED;
	cached = cg_render_get_background(tmpl, error);
	if (cached == NULL)
		return CG_RENDER_OWN_FAILED;
	if (cached->underlay == NULL || cached->fonts == NULL)
		return CG_RENDER_OWN_DECLINED;
	underlay = cg_pdf_underlay_ref(cached->underlay);
	items = g_array_ref(cached->items);
	statics = g_array_ref(cached->statics);

	cg_render_format_number(number, sizeof(number), cg_render_year(params->issued_at_us),
				params->first_number + index);
	cg_template_get_page_size(tmpl, &width, &height);
	page = cg_pdf_page_new(cached->fonts, width, height);
	for (guint j = 0; j < statics->len; j++) {
		CgRenderItem *item = &g_array_index(statics, CgRenderItem, j);
		const CgTemplateField *field = item->field;
		double x, y;

		cg_render_place(item->layout, field, field->text, -1, &item->fit, &x, &y);
		if (!cg_pdf_page_add_text(page, item->layout, field->size, item->fit.scale, x, y,
					  field->color)) {
			g_debug("Template %s: a static text is drawn by cairo",
				cg_template_get_id(tmpl));
			return CG_RENDER_OWN_DECLINED;
		}
	}
	for (guint j = 0; j < items->len; j++) {
		CgRenderItem *item = &g_array_index(items, CgRenderItem, j);
		const CgTemplateField *field = item->field;
		double x, y;

		if (field->kind == CG_TEMPLATE_FIELD_QR) {
			g_autofree char *payload = cg_render_qr_payload(
			    data, params->base_url, params->codes, index, number);
			g_autofree char *url = params->codes != NULL
						   ? cg_verification_url(params->base_url, number,
									 params->codes[index])
						   : NULL;
			g_autoptr(CgQr) qr = cg_qr_new(payload, error);

			if (qr == NULL)
				return CG_RENDER_OWN_FAILED;
			cg_pdf_page_add_qr(page, qr, field->x, field->y, field->size,
					   field->quiet_zone, field->color, field->background, url);
			continue;
		}
		if (!cg_render_compose(tmpl, field, recipient, number, text))
			continue;
		cg_render_place(item->layout, field, text->str, (int)text->len, &item->fit, &x, &y);
		if (!cg_pdf_page_add_text(page, item->layout, field->size, item->fit.scale, x, y,
					  field->color)) {
			g_debug("Template %s: field %s is drawn by cairo", cg_template_get_id(tmpl),
				field->key);
			return CG_RENDER_OWN_DECLINED;
		}
	}

	title = g_strdup_printf("Certificate %s", number);
	dt = g_date_time_new_from_unix_utc(params->issued_at_us / G_USEC_PER_SEC);
	if (dt != NULL)
		date = g_date_time_format(dt, "D:%Y%m%d%H%M%SZ");
	if (!cg_pdf_page_write(page, underlay, title, date, pdf, &local_error)) {
		/* a font HarfBuzz cannot subset: cairo may */
		g_message("Template %s: a certificate written by cairo: %s",
			  cg_template_get_id(tmpl), local_error->message);
		return CG_RENDER_OWN_DECLINED;
	}
	if (page_done != NULL && !page_done(1, 1, user_data)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
			    "Rendering stopped after page 1 of 1");
		return CG_RENDER_OWN_FAILED;
	}
	return CG_RENDER_OWN_DONE;
}

gboolean
cg_render_pdf_pages(CgTemplate *tmpl, const CgData *data, guint first_page, guint n_pages,
		    const CgRenderParams *params, cairo_write_func_t write, void *closure,
		    CgRenderPageFunc page_done, gpointer user_data, GCancellable *cancellable,
		    GError **error)
{
	g_autoptr(GByteArray) pdf = NULL;
	g_autoptr(CgPdfUnderlay) underlay = NULL;
	g_autoptr(GError) local_error = NULL;

	g_return_val_if_fail(write != NULL, FALSE);

	if (n_pages != 1)
		return cg_render_pages(tmpl, data, first_page, n_pages, params, write, closure,
				       page_done, user_data, cancellable, NULL, error);

	/* One page: written by certgen itself when it can, with the
	 * template's underlay under it, in one piece */
	g_return_val_if_fail(tmpl != NULL && data != NULL && params != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
	g_return_val_if_fail(first_page < cg_data_get_n_recipients(data), FALSE);
	pdf = g_byte_array_sized_new(64 * 1024);
	switch (cg_render_single_own(tmpl, data, first_page, params, pdf, page_done, user_data,
				     cancellable, error)) {
	case CG_RENDER_OWN_DONE:
		if (write(closure, pdf->data, pdf->len) != CAIRO_STATUS_SUCCESS) {
			g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the PDF: %s",
				    cairo_status_to_string(CAIRO_STATUS_WRITE_ERROR));
			return FALSE;
		}
		return TRUE;
	case CG_RENDER_OWN_FAILED:
		return FALSE;
	case CG_RENDER_OWN_DECLINED:
		break;
	}

	/* else drawn by cairo without its background into memory, then
	 * written with the template's underlay under it */
	g_byte_array_set_size(pdf, 0);
	if (!cg_render_pages(tmpl, data, first_page, 1, params, cg_render_write_to_byte_array, pdf,
			     page_done, user_data, cancellable, &underlay, error))
		return FALSE;
	if (underlay != NULL) {
		g_autoptr(GByteArray) whole = g_byte_array_sized_new(pdf->len + 32 * 1024);

		if (cg_pdf_underlay_apply(underlay, pdf->data, pdf->len, whole, &local_error)) {
			g_byte_array_unref(pdf);
			pdf = g_steal_pointer(&whole);
		} else {
			/* page 1 was reported done already */
			g_message("Template %s: a certificate drawn with its background: %s",
				  cg_template_get_id(tmpl), local_error->message);
			g_byte_array_set_size(pdf, 0);
			if (!cg_render_pages(tmpl, data, first_page, 1, params,
					     cg_render_write_to_byte_array, pdf, NULL, NULL,
					     cancellable, NULL, error))
				return FALSE;
		}
	}
	if (write(closure, pdf->data, pdf->len) != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the PDF: %s",
			    cairo_status_to_string(CAIRO_STATUS_WRITE_ERROR));
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_render_page(CgTemplate *tmpl, const CgData *data, guint index, const char *number, cairo_t *cr,
	       GError **error)
{
	const CgBackground *cached;
	g_autoptr(cairo_surface_t) background = NULL;
	g_autoptr(GArray) items = NULL;
	g_autoptr(GString) text = g_string_sized_new(256);
	g_autoptr(CgQr) qr = NULL;

	g_return_val_if_fail(tmpl != NULL, FALSE);
	g_return_val_if_fail(data != NULL, FALSE);
	g_return_val_if_fail(index < cg_data_get_n_recipients(data), FALSE);
	g_return_val_if_fail(number != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (cg_render_has_qr(tmpl)) {
		g_autofree char *verification =
		    cg_recipient_verification(cg_data_get_recipient(data, index), number);

		qr = cg_qr_new(verification, error);
		if (qr == NULL)
			return FALSE;
	}
	cached = cg_render_get_background(tmpl, error);
	if (cached == NULL)
		return FALSE;
	background = cairo_surface_reference(cached->recording);
	items = g_array_ref(cached->items);
	cg_render_draw_page(cr, tmpl, background, NULL, items, cg_data_get_recipient(data, index),
			    number, qr, NULL, text, NULL);
	return TRUE;
}

void
cg_render_drop_thread_cache(void)
{
	g_private_replace(&background_cache, NULL);
}

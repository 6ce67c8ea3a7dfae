/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-render.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <string.h>

#include "cg-error.h"
#include "cg-qr.h"
#include "cg-verification.h"

/*
 * One call renders one PDF:
 *
 *  - the background page is rendered by poppler into a recording surface,
 *    together with the template's static text; every page paints that
 *    recording surface, which cairo writes once per PDF as a form XObject;
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
 *  - most of a page's cost is cairo writing its QR code (see cg-qr.c);
 *    what comes before, the verification string, its encoding and the
 *    choice of the path, is plain data that a helper thread prepares ahead
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

static PangoContext *
cg_render_context_new(void)
{
	PangoContext *context = pango_font_map_create_context(pango_cairo_font_map_get_default());
	cairo_font_options_t *options = cairo_font_options_create();

	/* Device-independent metrics: a PDF is scaled by whoever shows it, and
	 * the same text must give the same layout on every surface. */
	cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(context, options);
	cairo_font_options_destroy(options);
	pango_context_set_round_glyph_positions(context, FALSE);
	pango_context_set_base_dir(context, PANGO_DIRECTION_LTR);
	/* Not the locale's: the output must not depend on the environment. */
	pango_context_set_language(context, pango_language_from_string("en"));
	return context;
}

/* @points in pango units, clamped to what an int holds with room to spare:
 * the template bounds every length (cg-template.c), but a width divided by
 * a shrink factor is not bounded by the template alone, and converting a
 * double out of an int's range is undefined. */
static int
cg_render_pango_units(double points)
{
	const double limit = G_MAXINT / 2;
	double units = points * PANGO_SCALE;

	if (!(units > -limit)) /* also NaN */
		return (int)-limit;
	if (units > limit)
		return (int)limit;
	return (int)units;
}

static PangoLayout *
cg_render_layout_new(PangoContext *context, const CgTemplateField *field)
{
	PangoLayout *layout = pango_layout_new(context);
	PangoFontDescription *desc = pango_font_description_new();

	pango_font_description_set_family(desc, field->font);
	pango_font_description_set_weight(desc, (PangoWeight)field->weight);
	pango_font_description_set_style(desc,
					 field->italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
	pango_font_description_set_absolute_size(desc, field->size * PANGO_SCALE);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);

	/* The template's alignment holds for right-to-left text too; bidi
	 * still orders the characters inside the line. */
	pango_layout_set_auto_dir(layout, FALSE);
	if (field->letter_spacing != 0) {
		PangoAttrList *attrs = pango_attr_list_new();

		pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(
						  cg_render_pango_units(field->letter_spacing)));
		pango_layout_set_attributes(layout, attrs);
		pango_attr_list_unref(attrs);
	}
	if (field->fit == CG_TEMPLATE_FIT_WRAP) {
		pango_layout_set_width(layout, cg_render_pango_units(field->max_width));
		pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
		switch (field->align) {
		case CG_TEMPLATE_ALIGN_LEFT:
			pango_layout_set_alignment(layout, PANGO_ALIGN_LEFT);
			break;
		case CG_TEMPLATE_ALIGN_CENTER:
			pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
			break;
		case CG_TEMPLATE_ALIGN_RIGHT:
			pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT);
			break;
		}
		if (field->max_lines > 0) {
			pango_layout_set_height(layout, -(int)field->max_lines);
			pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
		}
	}
	return layout;
}

/* Sets the text of @layout unless it has it already: a layout keeps its
 * lines until something changes, so the same text is not shaped again. */
static void
cg_render_set_text(PangoLayout *layout, const char *text, int length)
{
	const char *current = pango_layout_get_text(layout);
	gsize len = length < 0 ? strlen(text) : (gsize)length;

	if (strlen(current) == len && memcmp(current, text, len) == 0)
		return;
	pango_layout_set_text(layout, text, (int)len);
}

/* Draws @text with @layout as @field says: y is the first baseline. */
static void
cg_render_text(cairo_t *cr, PangoLayout *layout, const CgTemplateField *field, const char *text,
	       int length)
{
	PangoRectangle logical;
	gboolean ellipsized = FALSE;
	double scale = 1.0;
	double width;
	double baseline;
	double x;

	cg_render_set_text(layout, text, length);
	cairo_set_source_rgb(cr, field->color[0], field->color[1], field->color[2]);

	if (field->fit == CG_TEMPLATE_FIT_WRAP) {
		baseline = (double)pango_layout_get_baseline(layout) / PANGO_SCALE;
		x = field->x;
		if (field->align == CG_TEMPLATE_ALIGN_CENTER)
			x -= field->max_width / 2;
		else if (field->align == CG_TEMPLATE_ALIGN_RIGHT)
			x -= field->max_width;
		cairo_move_to(cr, x, field->y - baseline);
		pango_cairo_show_layout(cr, layout);
		return;
	}

	/* Shrink to fit: scaling the drawing keeps the shaping of the full
	 * size, which is exact without hinting, and costs no second layout. */
	pango_layout_get_extents(layout, NULL, &logical);
	width = (double)logical.width / PANGO_SCALE;
	if (width > field->max_width) {
		scale = field->max_width / width;
		if (field->size * scale < field->min_size) {
			scale = field->min_size / field->size;
			pango_layout_set_width(layout,
					       cg_render_pango_units(field->max_width / scale));
			pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
			pango_layout_get_extents(layout, NULL, &logical);
			width = (double)logical.width / PANGO_SCALE;
			ellipsized = TRUE;
		}
		width *= scale;
	}
	baseline = (double)pango_layout_get_baseline(layout) / PANGO_SCALE * scale;
	x = field->x;
	if (field->align == CG_TEMPLATE_ALIGN_CENTER)
		x -= width / 2;
	else if (field->align == CG_TEMPLATE_ALIGN_RIGHT)
		x -= width;

	cairo_save(cr);
	cairo_translate(cr, x, field->y - baseline);
	cairo_scale(cr, scale, scale);
	cairo_move_to(cr, -(double)logical.x / PANGO_SCALE, 0);
	pango_cairo_show_layout(cr, layout);
	cairo_restore(cr);

	if (ellipsized) {
		pango_layout_set_width(layout, -1);
		pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_NONE);
	}
}

/* prefix + value + suffix into @out; a one-line field gets no line breaks. */
static void
cg_render_compose(GString *out, const CgTemplateField *field, const char *value)
{
	g_string_assign(out, field->prefix);
	g_string_append(out, value);
	g_string_append(out, field->suffix);
	if (field->fit == CG_TEMPLATE_FIT_SHRINK) {
		for (gsize i = 0; i < out->len; i++) {
			if (out->str[i] == '\n' || out->str[i] == '\r' || out->str[i] == '\t')
				out->str[i] = ' ';
		}
	}
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

		if (field->kind != CG_TEMPLATE_FIELD_TEXT)
			continue;
		layout = cg_render_layout_new(context, field);
		cg_render_text(cr, layout, field, field->text, -1);
	}
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot draw the background: %s",
			    cairo_status_to_string(cairo_status(cr)));
		return NULL;
	}
	return g_steal_pointer(&recording);
}

/* The variable fields of @tmpl, each with its layout. */
static GArray *
cg_render_items_new(CgTemplate *tmpl, PangoContext *context)
{
	const GPtrArray *fields = cg_template_get_fields(tmpl);
	GArray *items = g_array_new(FALSE, TRUE, sizeof(CgRenderItem));

	g_array_set_clear_func(items, (GDestroyNotify)cg_render_item_clear);
	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);
		CgRenderItem item = {field, NULL};

		if (field->kind == CG_TEMPLATE_FIELD_TEXT)
			continue;
		if (field->kind != CG_TEMPLATE_FIELD_QR)
			item.layout = cg_render_layout_new(context, field);
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
} CgBackground;

#define CG_BACKGROUND_CACHE_SIZE 4

typedef struct {
	CgBackground entries[CG_BACKGROUND_CACHE_SIZE]; /* most recently used first */
} CgBackgroundCache;

static void
cg_background_clear(CgBackground *bg)
{
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
	CgBackground found = {NULL, NULL, NULL, NULL, NULL};
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
		context = cg_render_context_new();
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
		found.items = cg_render_items_new(tmpl, context);
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

/* One page: the background, then every variable field of @items, with
 * @number as the certificate number and @qr (NULL when the template has no
 * QR code) as its code. @text is scratch space. */
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

static void
cg_render_draw_page(cairo_t *cr, CgTemplate *tmpl, cairo_surface_t *background, const GArray *items,
		    const CgRecipient *recipient, const char *number, const CgQr *qr,
		    const char *url, GString *text)
{
	cairo_set_source_surface(cr, background, 0, 0);
	cairo_paint(cr);
	for (guint j = 0; j < items->len; j++) {
		const CgRenderItem *item = &g_array_index(items, CgRenderItem, j);
		const CgTemplateField *field = item->field;

		if (field->kind == CG_TEMPLATE_FIELD_QR) {
			if (qr != NULL)
				cg_qr_draw_code(cr, qr, field->x, field->y, field->size,
						field->quiet_zone, field->color, field->background);
			if (qr != NULL && url != NULL)
				cg_render_link(cr, field, url);
		} else if (field->kind == CG_TEMPLATE_FIELD_NUMBER) {
			cg_render_compose(text, field, number);
			cg_render_text(cr, item->layout, field, text->str, (int)text->len);
		} else {
			const char *value = cg_recipient_get(recipient, field->key);
			g_autofree char *date = NULL;

			if (value == NULL || value[0] == '\0')
				continue;
			if (field->is_date)
				value = date = cg_template_format_date(tmpl, value);
			cg_render_compose(text, field, value);
			cg_render_text(cr, item->layout, field, text->str, (int)text->len);
		}
	}
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

gboolean
cg_render_pdf_pages(CgTemplate *tmpl, const CgData *data, guint first_page, guint n_pages,
		    const CgRenderParams *params, cairo_write_func_t write, void *closure,
		    CgRenderPageFunc page_done, gpointer user_data, GCancellable *cancellable,
		    GError **error)
{
	CgRenderSink sink = {write, closure, FALSE};
	CgRenderParams range;
	const CgBackground *cached;
	g_autoptr(cairo_surface_t) background = NULL;
	g_autoptr(GArray) items = NULL;
	g_autoptr(cairo_surface_t) surface = NULL;
	g_autoptr(cairo_t) cr = NULL;
	g_autoptr(GString) text = g_string_sized_new(256);
	g_autoptr(CgPreparer) prep = NULL;
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
	background = cairo_surface_reference(cached->recording);
	items = g_array_ref(cached->items);

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
		cg_render_draw_page(cr, tmpl, background, items,
				    cg_data_get_recipient(data, first_page + i), number, qr, url,
				    text);
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
	cg_render_draw_page(cr, tmpl, background, items, cg_data_get_recipient(data, index), number,
			    qr, NULL, text);
	return TRUE;
}

void
cg_render_drop_thread_cache(void)
{
	g_private_replace(&background_cache, NULL);
}

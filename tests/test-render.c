/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* memmem() */
#include "config.h"

#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <string.h>
#include <time.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "cg-data.h"
#include "cg-error.h"
#include "cg-render.h"
#include "cg-template.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PangoContext, g_object_unref)

/* 2026-11-28T10:00:00Z */
#define ISSUED_AT_US (G_GINT64_CONSTANT(1795860000) * G_USEC_PER_SEC)

static CgTemplateStore *store;
static char *tmp_dir;

static CgTemplate *
load_template(const char *id)
{
	g_autoptr(GError) error = NULL;
	CgTemplate *tmpl = cg_template_store_load(store, id, NULL, &error);

	g_assert_no_error(error);
	return tmpl;
}

static CgData *
parse_data(CgTemplate *tmpl, const char *json)
{
	g_autoptr(GError) error = NULL;
	CgData *data = cg_data_parse(json, strlen(json), cg_template_get_rules(tmpl), 1 << 24,
				     100000, NULL, &error);

	g_assert_no_error(error);
	return data;
}

/* A JSON string literal for @text. */
static char *
json_quote(const char *text)
{
	GString *out = g_string_new("\"");

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
	return g_string_free(out, FALSE);
}

static char *
one_recipient_json(const char *name)
{
	g_autofree char *quoted = json_quote(name);

	return g_strdup_printf("{\"recipientName\": %s, \"courseName\": \"Advanced Rust "
			       "Programming\", \"issueDate\": \"2026-11-28\", \"issuer\": "
			       "\"Certgen Academy\"}",
			       quoted);
}

static cairo_status_t
append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

static GBytes *
render(CgTemplate *tmpl, const CgData *data, guint64 first_number, CgRenderPageFunc page_done,
       gpointer user_data, GCancellable *cancellable, GError **error)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	CgRenderParams params = {first_number, ISSUED_AT_US};

	if (!cg_render_pdf(tmpl, data, &params, append_bytes, out, page_done, user_data,
			   cancellable, error))
		return NULL;
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static GBytes *
render_one(const char *id, const char *name, guint64 number)
{
	g_autoptr(CgTemplate) tmpl = load_template(id);
	g_autofree char *json = one_recipient_json(name);
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GError) error = NULL;
	GBytes *pdf = render(tmpl, data, number, NULL, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(pdf);
	return pdf;
}

static PopplerDocument *
open_pdf(GBytes *pdf)
{
	g_autoptr(GError) error = NULL;
	PopplerDocument *document = poppler_document_new_from_bytes(pdf, NULL, &error);

	g_assert_no_error(error);
	return document;
}

/* Whitespace collapsed, NFKC, no bidi marks: what text extraction may
 * change. */
static char *
normalise(const char *text)
{
	g_autofree char *nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	GString *out = g_string_new(NULL);
	gboolean space = FALSE;

	for (const char *p = nfkc; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* bidi marks around right-to-left runs */
		if (c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069))
			continue;
		if (g_unichar_isspace(c)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = FALSE;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

static char *
page_text(PopplerDocument *document, int index)
{
	g_autoptr(PopplerPage) page = poppler_document_get_page(document, index);
	g_autofree char *text = NULL;

	g_assert_nonnull(page);
	text = poppler_page_get_text(page);
	return normalise(text);
}

static void
assert_contains(const char *haystack, const char *needle)
{
	g_autofree char *normal = normalise(needle);

	if (strstr(haystack, normal) == NULL)
		g_error("“%s” not found in the page text: %s", normal, haystack);
}

static char *
write_temp(GBytes *pdf, const char *name)
{
	g_autoptr(GError) error = NULL;
	char *path = g_build_filename(tmp_dir, name, NULL);
	gsize size = 0;
	const char *data = g_bytes_get_data(pdf, &size);

	g_file_set_contents(path, data, (gssize)size, &error);
	g_assert_no_error(error);
	return path;
}

static void
test_render_number(void)
{
	/* 2025-12-31T23:59:59Z and a second later */
	gint64 new_year = G_GINT64_CONSTANT(1767225600) * G_USEC_PER_SEC;
	g_autofree char *a = cg_render_certificate_number(ISSUED_AT_US, 42);
	g_autofree char *b = cg_render_certificate_number(ISSUED_AT_US, 1234567);
	g_autofree char *c = cg_render_certificate_number(new_year - 1, 1);
	g_autofree char *d = cg_render_certificate_number(new_year, 1);

	g_assert_cmpstr(a, ==, "CERT2026000042");
	g_assert_cmpstr(b, ==, "CERT20261234567");
	g_assert_cmpstr(c, ==, "CERT2025000001");
	g_assert_cmpstr(d, ==, "CERT2026000001");
}

static void
test_render_single(void)
{
	g_autoptr(GBytes) pdf = render_one("classic", "Ada Lovelace", 42);
	g_autoptr(PopplerDocument) document = open_pdf(pdf);
	g_autoptr(PopplerPage) page = NULL;
	g_autofree char *text = NULL;
	g_autofree char *title = NULL;
	g_autofree char *creator = NULL;
	double width, height;

	g_assert_cmpint(poppler_document_get_n_pages(document), ==, 1);
	page = poppler_document_get_page(document, 0);
	poppler_page_get_size(page, &width, &height);
	g_assert_cmpfloat_with_epsilon(width, 842, 1);
	g_assert_cmpfloat_with_epsilon(height, 595, 1);

	text = page_text(document, 0);
	g_test_message("page text: %s", text);
	assert_contains(text, "Ada Lovelace");
	assert_contains(text, "Advanced Rust Programming");
	assert_contains(text, "CERT2026000042");
	assert_contains(text, "28 November 2026");
	assert_contains(text, "Certgen Academy");

	creator = poppler_document_get_creator(document);
	g_assert_cmpstr(creator, ==, "certgen");
	title = poppler_document_get_title(document);
	g_assert_cmpstr(title, ==, "Certificate CERT2026000042");
	g_assert_cmpint(poppler_document_get_creation_date(document), ==,
			ISSUED_AT_US / G_USEC_PER_SEC);
	g_test_message("%" G_GSIZE_FORMAT " bytes", g_bytes_get_size(pdf));
}

/* Runs @argv; FALSE (and the test skipped) when the program is missing. */
static gboolean
run(const char *const *argv, char **out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	g_autofree char *program = g_find_program_in_path(argv[0]);
	int status = 0;

	if (program == NULL) {
		g_autofree char *message = g_strdup_printf("%s is not installed", argv[0]);

		g_test_skip(message);
		return FALSE;
	}
	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err, &status,
		     &error);
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, &error))
		g_error("%s failed: %s\n%s", argv[0], error->message, err);
	return TRUE;
}

static void
check_fonts_embedded(GBytes *pdf, const char *name)
{
	g_autofree char *path = write_temp(pdf, name);
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	const char *argv[] = {"pdffonts", path, NULL};
	gsize emb_start = 0, emb_len = 0;
	guint rows = 0;

	if (!run(argv, &out))
		return;
	g_test_message("%s", out);
	lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), >=, 2);
	/* the dashes under the header give the columns; emb is the fourth */
	{
		const char *p = lines[1];

		for (guint col = 0; col < 4; col++) {
			while (*p == ' ')
				p++;
			emb_start = (gsize)(p - lines[1]);
			while (*p == '-')
				p++;
			emb_len = (gsize)(p - lines[1]) - emb_start;
		}
		g_assert_cmpuint(emb_len, ==, 3);
	}
	for (guint i = 2; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0')
			continue;
		g_assert_cmpuint(strlen(lines[i]), >, emb_start + emb_len);
		if (strncmp(lines[i] + emb_start, "yes", 3) != 0)
			g_error("font not embedded: %s", lines[i]);
		rows++;
	}
	g_assert_cmpuint(rows, >, 0);
}

static void
test_render_fonts(void)
{
	g_autoptr(GBytes) classic = render_one("classic", "Zoë Łukasiewicz-Ñúñez", 7);
	g_autoptr(GBytes) modern = render_one("modern", "Дмитрий Шостакович", 8);

	check_fonts_embedded(classic, "fonts-classic.pdf");
	check_fonts_embedded(modern, "fonts-modern.pdf");
}

static void
check_qr(const char *id)
{
	g_autoptr(CgTemplate) tmpl = load_template(id);
	g_autofree char *json = one_recipient_json("Grace Hopper");
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pdf = render(tmpl, data, 314, NULL, NULL, NULL, &error);
	g_autofree char *number = cg_render_certificate_number(ISSUED_AT_US, 314);
	g_autofree char *expected =
	    cg_recipient_verification(cg_data_get_recipient(data, 0), number);
	g_autofree char *pdf_name = g_strdup_printf("qr-%s.pdf", id);
	g_autofree char *pdf_path = write_temp(pdf, pdf_name);
	g_autofree char *png_base = g_build_filename(tmp_dir, id, NULL);
	g_autofree char *png_path = g_strdup_printf("%s.png", png_base);
	g_autofree char *decoded = NULL;
	const char *pdftoppm[] = {"pdftoppm",	 "-r",	   "150",    "-png",
				  "-singlefile", pdf_path, png_base, NULL};
	const char *zbarimg[] = {"zbarimg", "--raw", "-q", png_path, NULL};

	g_assert_no_error(error);
	if (!run(pdftoppm, NULL) || !run(zbarimg, &decoded))
		return;
	g_strstrip(decoded);
	g_assert_cmpstr(decoded, ==, expected);
	g_assert_true(g_str_has_prefix(decoded, "CERTGEN1;N=CERT2026000314;H="));
}

static void
test_render_qr(void)
{
	check_qr("classic");
	check_qr("modern");
}

static gboolean
have_glyphs(const char *family, const char *text)
{
	g_autoptr(PangoContext) context =
	    pango_font_map_create_context(pango_cairo_font_map_get_default());
	g_autoptr(PangoLayout) layout = pango_layout_new(context);
	PangoFontDescription *desc = pango_font_description_from_string(family);

	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_text(layout, text, -1);
	return pango_layout_get_unknown_glyphs_count(layout) == 0;
}

static gboolean
is_rtl(const char *text)
{
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		GUnicodeScript script = g_unichar_get_script(g_utf8_get_char(p));

		if (script == G_UNICODE_SCRIPT_ARABIC || script == G_UNICODE_SCRIPT_HEBREW)
			return TRUE;
	}
	return FALSE;
}

static char *
strip_spaces(const char *text)
{
	g_autofree char *normal = normalise(text);
	GString *out = g_string_new(NULL);

	for (const char *p = normal; *p != '\0'; p++) {
		if (*p != ' ')
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

static char *
pdftotext(GBytes *pdf, const char *name)
{
	g_autofree char *path = write_temp(pdf, name);
	const char *argv[] = {"pdftotext", "-enc", "UTF-8", path, "-", NULL};
	char *out = NULL;

	if (!run(argv, &out))
		return NULL;
	return out;
}

static void
test_render_scripts(void)
{
	const char *names[] = {
	    "Zoë Łukasiewicz-Ñúñez",
	    "Dvořák Øster Ærø ÿ",
	    "Дмитрий Шостакович",
	    "Αλέξανδρος",
	    "محمد عبد الله",
	    "山田 太郎",
	    "김민준",
	    "Nguyễn Văn Ánh",
	    "שרה לוי",
	};
	const char *ids[] = {"classic", "modern"};

	for (gsize t = 0; t < G_N_ELEMENTS(ids); t++) {
		for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autoptr(GBytes) pdf = NULL;
			g_autoptr(PopplerDocument) document = NULL;
			g_autofree char *text = NULL;

			if (!have_glyphs("Noto Sans", names[i])) {
				g_test_message("no font for “%s”, not checked", names[i]);
				continue;
			}
			pdf = render_one(ids[t], names[i], 1);
			document = open_pdf(pdf);
			if (is_rtl(names[i])) {
				/* cairo writes right-to-left glyphs in logical order,
				 * each left of the one before. poppler-glib's page
				 * text, built from a selection, then keeps them in
				 * visual order; pdftotext (poppler's TextOutputDev)
				 * reads them in logical order, as a reader copies
				 * them, though it may guess word gaps between them. */
				g_autofree char *out = pdftotext(pdf, "scripts.pdf");
				g_autofree char *name = strip_spaces(names[i]);

				if (out == NULL)
					continue;
				text = strip_spaces(out);
				g_test_message("%s: %s", ids[t], text);
				assert_contains(text, name);
			} else {
				text = page_text(document, 0);
				g_test_message("%s: %s", ids[t], text);
				assert_contains(text, names[i]);
			}
		}
	}
}

/* A name far too long for its box stays inside it (shrunk, then cut). */
static void
test_render_long_name(void)
{
	g_autofree char *name = NULL;
	g_autoptr(GString) long_name = g_string_new(NULL);
	g_autoptr(GBytes) pdf = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autoptr(PopplerPage) page = NULL;
	g_autofree char *text = NULL;
	PopplerRectangle *rects = NULL;
	guint n_rects = 0;
	double min_x = G_MAXDOUBLE, max_x = -G_MAXDOUBLE;
	const char *found;

	while (g_utf8_strlen(long_name->str, -1) < 120)
		g_string_append(long_name, "Wolfeschlegelsteinhausen ");
	g_string_truncate(long_name, 120);
	name = g_string_free(g_steal_pointer(&long_name), FALSE);
	pdf = render_one("classic", name, 1);
	document = open_pdf(pdf);
	page = poppler_document_get_page(document, 0);
	text = poppler_page_get_text(page);
	g_assert_true(poppler_page_get_text_layout(page, &rects, &n_rects));

	/* the characters of the name's line lie within its 470 pt box */
	found = strstr(text, "Wolfeschlegel");
	g_assert_nonnull(found);
	for (glong i = g_utf8_pointer_to_offset(text, found); i < (glong)n_rects; i++) {
		gunichar c = g_utf8_get_char(g_utf8_offset_to_pointer(text, i));

		if (c == '\n')
			break;
		min_x = MIN(min_x, rects[i].x1);
		max_x = MAX(max_x, rects[i].x2);
	}
	g_test_message("name spans %.1f–%.1f", min_x, max_x);
	g_assert_cmpfloat(min_x, >=, 421 - 235 - 1);
	g_assert_cmpfloat(max_x, <=, 421 + 235 + 1);
	g_assert_cmpfloat(max_x - min_x, >, 400);
	g_free(rects);
}

/* How often @needle is in @pdf; cairo writes object dictionaries
 * uncompressed. */
static guint
count_in_pdf(GBytes *pdf, const char *needle)
{
	gsize size = 0;
	const char *data = g_bytes_get_data(pdf, &size);
	guint count = 0;

	for (const char *p = data;
	     (p = memmem(p, size - (gsize)(p - data), needle, strlen(needle))) != NULL; p++)
		count++;
	return count;
}

static void
test_render_batch(void)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	const char *json = "{\"courseName\": \"Compilers\", \"issueDate\": \"2026-02-03\","
			   " \"recipients\": [{\"recipientName\": \"Alan Turing\"},"
			   " {\"recipientName\": \"Alonzo Church\", \"courseName\": \"Lambda\"},"
			   " {\"recipientName\": \"Kurt Gödel\", \"issuer\": \"IAS\"}]}";
	const char *names[] = {"Alan Turing", "Alonzo Church", "Kurt Gödel"};
	const char *courses[] = {"Compilers", "Lambda", "Compilers"};
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pdf = render(tmpl, data, 999, NULL, NULL, NULL, &error);
	g_autoptr(PopplerDocument) document = NULL;
	g_autofree char *title = NULL;

	g_assert_no_error(error);
	document = open_pdf(pdf);
	g_assert_cmpint(poppler_document_get_n_pages(document), ==, 3);
	for (int i = 0; i < 3; i++) {
		g_autofree char *text = page_text(document, i);
		g_autofree char *number = cg_render_certificate_number(ISSUED_AT_US, 999 + i);

		assert_contains(text, names[i]);
		assert_contains(text, courses[i]);
		assert_contains(text, number);
		assert_contains(text, "3 February 2026");
		for (int j = 0; j < 3; j++) {
			if (j != i)
				g_assert_null(strstr(text, names[j]));
		}
	}
	title = poppler_document_get_title(document);
	g_assert_cmpstr(title, ==, "Certificates CERT2026000999–CERT2026001001");

	/* the background is one form XObject that every page paints, the
	 * fields that are the same on every page (no description, the date)
	 * one more; each page's QR code is a 1-bit image mask of its own */
	g_assert_cmpuint(count_in_pdf(pdf, "/Subtype /Form"), ==, 1 + 1);
	g_assert_cmpuint(count_in_pdf(pdf, "/ImageMask true"), ==, 3);

	/* the shared forms are made anew for every call, to the same bytes */
	{
		g_autoptr(GBytes) again = render(tmpl, data, 999, NULL, NULL, NULL, &error);

		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(pdf, again));
	}
}

/* Page @index of @pdf rasterized at 72 dpi. */
static cairo_surface_t *
rasterize(GBytes *pdf, int index)
{
	g_autoptr(PopplerDocument) document = open_pdf(pdf);
	g_autoptr(PopplerPage) page = poppler_document_get_page(document, index);
	cairo_surface_t *image;
	cairo_t *cr;
	double width, height;

	poppler_page_get_size(page, &width, &height);
	image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)width, (int)height);
	cr = cairo_create(image);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	poppler_page_render(page, cr);
	cairo_destroy(cr);
	cairo_surface_flush(image);
	return image;
}

/* A single certificate does not draw its background: it is the template's
 * underlay, one form XObject painted first, and the page looks exactly
 * like the same certificate drawn whole (the first page of a batch, whose
 * pages draw the background themselves). */
static void
test_render_single_underlay(void)
{
	const char *const ids[] = {"classic", "modern"};

	for (guint t = 0; t < G_N_ELEMENTS(ids); t++) {
		g_autoptr(CgTemplate) tmpl = load_template(ids[t]);
		g_autofree char *one = one_recipient_json("Ada Lovelace");
		const char *two = "{\"courseName\": \"Advanced Rust Programming\", "
				  "\"issueDate\": \"2026-11-28\", \"issuer\": \"Certgen Academy\","
				  " \"recipients\": [{\"recipientName\": \"Ada Lovelace\"},"
				  " {\"recipientName\": \"Alan Turing\"}]}";
		g_autoptr(CgData) single = parse_data(tmpl, one);
		g_autoptr(CgData) batch = parse_data(tmpl, two);
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) a = render(tmpl, single, 42, NULL, NULL, NULL, &error);
		g_autoptr(GBytes) b = render(tmpl, batch, 42, NULL, NULL, NULL, &error);
		cairo_surface_t *ra, *rb;
		gsize differ = 0;
		int stride, height;

		g_assert_no_error(error);
		g_assert_cmpuint(count_in_pdf(a, "/cgbg Do"), ==, 1);
		g_assert_cmpuint(count_in_pdf(a, "/Subtype /Form"), ==, 1);
		g_assert_cmpuint(count_in_pdf(b, "/cgbg"), ==, 0);
		ra = rasterize(a, 0);
		rb = rasterize(b, 0);
		stride = cairo_image_surface_get_stride(ra);
		height = cairo_image_surface_get_height(ra);
		g_assert_cmpint(stride, ==, cairo_image_surface_get_stride(rb));
		g_assert_cmpint(height, ==, cairo_image_surface_get_height(rb));
		for (gsize i = 0; i < (gsize)stride * height; i++)
			differ += cairo_image_surface_get_data(ra)[i] !=
				  cairo_image_surface_get_data(rb)[i];
		g_test_message("%s: %" G_GSIZE_FORMAT " of %d bytes differ", ids[t], differ,
			       stride * height);
		g_assert_cmpuint(differ, ==, 0);
		cairo_surface_destroy(ra);
		cairo_surface_destroy(rb);
	}
}

/* The bytes that differ between page 0 of @a and of @b rasterized. */
static gsize
count_differing(GBytes *a, GBytes *b)
{
	cairo_surface_t *ra = rasterize(a, 0);
	cairo_surface_t *rb = rasterize(b, 0);
	int stride = cairo_image_surface_get_stride(ra);
	int height = cairo_image_surface_get_height(ra);
	gsize differ = 0;

	g_assert_cmpint(stride, ==, cairo_image_surface_get_stride(rb));
	g_assert_cmpint(height, ==, cairo_image_surface_get_height(rb));
	for (gsize i = 0; i < (gsize)stride * height; i++)
		differ +=
		    cairo_image_surface_get_data(ra)[i] != cairo_image_surface_get_data(rb)[i];
	cairo_surface_destroy(ra);
	cairo_surface_destroy(rb);
	return differ;
}

/* Whether certgen's own writer wrote @pdf (cairo names itself). */
static gboolean
written_by_certgen(GBytes *pdf)
{
	return count_in_pdf(pdf, "/Producer (certgen)") == 1 && count_in_pdf(pdf, "cairo") == 0;
}

static void
check_qpdf(GBytes *pdf, const char *name)
{
	g_autofree char *path = write_temp(pdf, name);
	g_autofree char *out = NULL;
	const char *argv[] = {"qpdf", "--check", path, NULL};

	/* run() fails the test when qpdf does */
	run(argv, &out);
}

/* A single certificate as certgen writes it looks exactly like the same
 * certificate drawn by cairo (the first page of a batch), whatever its
 * name needs: glyphs of the fonts' cached subsets, glyphs outside them
 * (a subset of the page's own), combining marks moved by the font (raised
 * with Ts), right-to-left text, a fallback font, a name shrunk to three
 * lines; a page the writer cannot show (a CFF font: CJK here) is cairo's.
 * Its text can be extracted, its fonts are embedded, qpdf finds nothing
 * wrong and the same input gives the same bytes. */
static void
test_render_single_own(void)
{
	const struct {
		const char *name;
		gboolean own;	 /* certgen's writer must take it */
		gsize tolerance; /* raster bytes that may differ */
	} cases[] = {
	    {"Ada Lovelace", TRUE},
	    {"José Müller-Zoë", TRUE},
	    {"Łukasz Dvořák Şahin", TRUE},	       /* Latin Extended-A: not cached */
	    {"Aq\xcc\x81x\xcc\xa3 Zoe\xcc\x88", TRUE}, /* combining marks */
	    {"Nguyễn Văn Ánh", TRUE},
	    /* right-to-left text in a fallback font: the same text operators
	     * as cairo's (logical order, the same adjustments), and yet a few
	     * of the fallback font's pixels come out a little differently
	     * from cairo's own subset of it: 201 (Hebrew, DejaVu Sans
	     * Oblique) and 630 (Arabic, modern) bytes of 2,003,960 */
	    {"محمد عبد الله", FALSE, 1024},
	    {"שרה לוי", FALSE, 1024},
	    {"Дмитрий Шостакович", TRUE},
	    {"山田 太郎", FALSE},
	    {"Maria de los Ángeles Fernández-Villaverde y Rodríguez de la Fuente, "
	     "Condesa de Altamira y Marquesa de Villanueva del Fresno",
	     TRUE},
	};
	const char *const ids[] = {"classic", "modern"};

	for (guint t = 0; t < G_N_ELEMENTS(ids); t++) {
		g_autoptr(CgTemplate) tmpl = load_template(ids[t]);

		for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autofree char *one = one_recipient_json(cases[i].name);
			g_autofree char *quoted = json_quote(cases[i].name);
			g_autofree char *two = g_strdup_printf(
			    "{\"courseName\": \"Advanced Rust Programming\", "
			    "\"issueDate\": \"2026-11-28\", \"issuer\": \"Certgen Academy\","
			    " \"recipients\": [{\"recipientName\": %s},"
			    " {\"recipientName\": \"Alan Turing\"}]}",
			    quoted);
			g_autoptr(CgData) single = NULL;
			g_autoptr(CgData) batch = NULL;
			g_autoptr(GError) error = NULL;
			g_autoptr(GBytes) a = NULL;
			g_autoptr(GBytes) again = NULL;
			g_autoptr(GBytes) b = NULL;
			g_autofree char *out = NULL;
			g_autofree char *text = NULL;
			g_autofree char *name = NULL;
			gsize differ;

			if (!have_glyphs("Noto Sans", cases[i].name)) {
				g_test_message("no font for “%s”, not checked", cases[i].name);
				continue;
			}
			single = parse_data(tmpl, one);
			batch = parse_data(tmpl, two);
			a = render(tmpl, single, 42, NULL, NULL, NULL, &error);
			g_assert_no_error(error);
			b = render(tmpl, batch, 42, NULL, NULL, NULL, &error);
			g_assert_no_error(error);
			again = render(tmpl, single, 42, NULL, NULL, NULL, &error);
			g_assert_no_error(error);
			g_assert_true(g_bytes_equal(a, again));

			differ = count_differing(a, b);
			g_test_message("%s, “%s”: %s, %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
				       " raster bytes differ",
				       ids[t], cases[i].name,
				       written_by_certgen(a) ? "certgen" : "cairo",
				       g_bytes_get_size(a), differ);
			if (cases[i].own)
				g_assert_true(written_by_certgen(a));
			g_assert_cmpuint(count_in_pdf(a, "/cgbg Do"), ==, 1);
			if (differ != 0) {
				g_autofree char *pa = write_temp(a, "differ-single.pdf");
				g_autofree char *pb = write_temp(b, "differ-batch.pdf");

				g_test_message("kept as %s and %s", pa, pb);
			}
			g_assert_cmpuint(differ, <=, cases[i].tolerance);

			check_fonts_embedded(a, "own.pdf");
			check_qpdf(a, "own.pdf");
			/* extracted as a reader copies it (see test_render_scripts) */
			out = pdftotext(a, "own.pdf");
			if (out == NULL)
				continue;
			{
				g_autofree char *nfc =
				    g_utf8_normalize(cases[i].name, -1, G_NORMALIZE_NFKC);
				g_autofree char *got = g_utf8_normalize(out, -1, G_NORMALIZE_NFKC);

				name = strip_spaces(nfc);
				text = strip_spaces(got);
			}
			assert_contains(text, name);
			assert_contains(text, "CERT2026000042");
		}
	}
}

typedef struct {
	const char *name;
	GBytes *pdf;
} HistoryData;

static gpointer
render_in_thread(gpointer user_data)
{
	HistoryData *h = user_data;

	h->pdf = render_one("classic", h->name, 7);
	cg_render_drop_thread_cache();
	return NULL;
}

/* What a single certificate's bytes are does not depend on what its
 * thread rendered before (its font cache): the same in a new thread as
 * after other names, some of them outside the cached subsets. */
static void
test_render_single_history(void)
{
	const char *const names[] = {"Łukasz Dvořák", "Ada Lovelace", "Şahin Öztürk"};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		HistoryData fresh = {names[i], NULL};
		g_autoptr(GBytes) first = NULL;
		g_autoptr(GBytes) later = NULL;
		GThread *thread;

		thread = g_thread_new("render", render_in_thread, &fresh);
		g_thread_join(thread);
		first = render_one("classic", names[i], 7);
		for (guint j = 0; j < G_N_ELEMENTS(names); j++)
			g_bytes_unref(render_one("classic", names[j], 8));
		later = render_one("classic", names[i], 7);
		g_assert_true(g_bytes_equal(fresh.pdf, first));
		g_assert_true(g_bytes_equal(first, later));
		g_bytes_unref(fresh.pdf);
	}
}

static gboolean
refuse_page(guint pages_done, guint pages_total, gpointer user_data)
{
	guint *calls = user_data;

	(*calls)++;
	g_assert_cmpuint(pages_done, ==, 1);
	g_assert_cmpuint(pages_total, ==, 1);
	return FALSE;
}

/* A single certificate cancelled before it starts, or stopped by its
 * page callback, writes nothing and says so. */
static void
test_render_single_cancel(void)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	g_autofree char *json = one_recipient_json("Ada Lovelace");
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	CgRenderParams params = {1, ISSUED_AT_US};
	guint calls = 0;

	g_cancellable_cancel(cancellable);
	g_assert_false(
	    cg_render_pdf(tmpl, data, &params, append_bytes, out, NULL, NULL, cancellable, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpuint(out->len, ==, 0);
	g_clear_error(&error);

	g_assert_false(cg_render_pdf(tmpl, data, &params, append_bytes, out, refuse_page, &calls,
				     NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpuint(calls, ==, 1);
	g_assert_cmpuint(out->len, ==, 0);
}

static cairo_status_t
failing_write(void *closure, const unsigned char *data, unsigned int length)
{
	return CAIRO_STATUS_WRITE_ERROR;
}

/* A failing writer fails the call, with @json's recipients. */
static void
assert_write_error_fails(const char *json)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GError) error = NULL;
	CgRenderParams params = {1, ISSUED_AT_US};

	g_assert_false(
	    cg_render_pdf(tmpl, data, &params, failing_write, NULL, NULL, NULL, NULL, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
}

/* A one-page PDF is written in one piece at the end: a failing writer
 * fails the call. */
static void
test_render_single_write_error(void)
{
	g_autofree char *json = one_recipient_json("Ada Lovelace");

	assert_write_error_fails(json);
}

static void
test_render_reproducible(void)
{
	g_autoptr(GBytes) a = render_one("classic", "Ada Lovelace", 42);
	g_autoptr(GBytes) b = render_one("classic", "Ada Lovelace", 42);
	g_autoptr(GBytes) c = render_one("classic", "Ada Lovelace", 43);
	g_autoptr(GBytes) d = render_one("modern", "Ada Lovelace", 42);
	g_autoptr(GBytes) e = render_one("modern", "Ada Lovelace", 42);

	g_assert_true(g_bytes_equal(a, b));
	g_assert_false(g_bytes_equal(a, c));
	g_assert_true(g_bytes_equal(d, e));
}

typedef struct {
	GCancellable *cancellable;
	guint cancel_at;
	gboolean refuse; /* return FALSE instead of cancelling */
	guint calls;
	guint last_done;
} CancelData;

static gboolean
cancel_page_done(guint pages_done, guint pages_total, gpointer user_data)
{
	CancelData *cd = user_data;

	cd->calls++;
	g_assert_cmpuint(pages_done, ==, cd->last_done + 1);
	g_assert_cmpuint(pages_total, ==, 50);
	cd->last_done = pages_done;
	if (pages_done == cd->cancel_at) {
		if (cd->refuse)
			return FALSE;
		g_cancellable_cancel(cd->cancellable);
	}
	return TRUE;
}

static void
test_render_cancel(void)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	g_autofree char *json = cg_test_batch_json(50);
	g_autoptr(CgData) data = parse_data(tmpl, json);

	for (int refuse = 0; refuse < 2; refuse++) {
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		g_autoptr(GByteArray) out = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		CgRenderParams params = {1, ISSUED_AT_US};
		CancelData cd = {cancellable, 5, refuse, 0, 0};

		g_assert_false(cg_render_pdf(tmpl, data, &params, append_bytes, out,
					     cancel_page_done, &cd, cancellable, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		g_assert_cmpuint(cd.calls, ==, 5);
		/* what was written is no complete PDF */
		g_assert_true(out->len < 6 || memcmp(out->data + out->len - 6, "%%EOF\n", 6) != 0);
	}

	/* cancelled before it starts: nothing at all */
	{
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) pdf = NULL;

		g_cancellable_cancel(cancellable);
		pdf = render(tmpl, data, 1, NULL, NULL, cancellable, &error);
		g_assert_null(pdf);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	}
}

static void
test_render_write_error(void)
{
	g_autofree char *json = cg_test_batch_json(3);

	assert_write_error_fails(json);
}

static void
test_render_modern(void)
{
	g_autoptr(GBytes) pdf = render_one("modern", "Ada Lovelace", 5);
	g_autoptr(PopplerDocument) document = open_pdf(pdf);
	g_autoptr(PopplerPage) page = poppler_document_get_page(document, 0);
	g_autofree char *text = page_text(document, 0);
	double width, height;

	poppler_page_get_size(page, &width, &height);
	g_assert_cmpfloat_with_epsilon(width, 595, 1);
	g_assert_cmpfloat_with_epsilon(height, 842, 1);
	assert_contains(text, "Ada Lovelace");
	assert_contains(text, "Advanced Rust Programming");
	assert_contains(text, "CERT2026000005");
	assert_contains(text, "28 November 2026");
}

/* The largest values a template may hold (cg-template.c: a 14400 pt page,
 * size 500, minSize 0.5, maxWidth up to the page, letterSpacing -10 to 100,
 * maxLines 100, a QR code as large as the page) and texts long enough to
 * shrink and wrap at those extremes: every length that reaches
 * pango as an int stays in range (run under -fsanitize=undefined with
 * float-cast-overflow to see it). */
#define EXTREME_LAYOUT                                                                             \
	"{ \"page\": { \"width\": 14400, \"height\": 14400 },"                                     \
	"  \"background\": { \"file\": \"background.pdf\" },"                                      \
	"  \"fields\": ["                                                                          \
	"    { \"key\": \"recipientName\", \"required\": true, \"x\": 0, \"y\": 14000,"            \
	"      \"size\": 500, \"minSize\": 0.5, \"maxWidth\": 1000, \"letterSpacing\": 100 },"     \
	"    { \"key\": \"courseName\", \"required\": true, \"x\": 14400, \"y\": 500,"             \
	"      \"size\": 500, \"maxWidth\": 14400, \"fit\": \"wrap\", \"maxLines\": 100,"          \
	"      \"letterSpacing\": -10, \"align\": \"right\" },"                                    \
	"    { \"key\": \"issueDate\", \"required\": true, \"type\": \"date\", \"x\": 7200,"       \
	"      \"y\": 7200, \"size\": 0.5, \"minSize\": 0.5, \"maxWidth\": 1, \"align\": "         \
	"\"center\" },"                                                                            \
	"    { \"text\": \"WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW\", \"x\": 14400,"            \
	"      \"y\": 14400, \"size\": 500, \"minSize\": 0.5, \"maxWidth\": 1,"                    \
	"      \"align\": \"right\" },"                                                            \
	"    { \"key\": \"certificateNumber\", \"x\": 14400, \"y\": 0, \"size\": 500,"             \
	"      \"maxWidth\": 14400, \"fit\": \"wrap\", \"align\": \"center\" },"                   \
	"    { \"key\": \"qr\", \"x\": 0, \"y\": 0, \"size\": 14400, \"quietZone\": 16 } ] }"

static void
test_render_extreme_template(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename(tmp_dir, "extreme", "extreme", NULL);
	g_autofree char *layout_path = g_build_filename(dir, "layout.json", NULL);
	g_autofree char *bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_autofree char *base = g_path_get_dirname(dir);
	const char *dirs[] = {base, NULL};
	g_autoptr(CgTemplateStore) extreme_store = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = NULL;
	g_autoptr(GBytes) pdf = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autoptr(PopplerPage) page = NULL;
	g_autoptr(GString) json = g_string_new("{\"recipientName\": \"");
	g_autoptr(GPtrArray) rules = NULL;
	cairo_surface_t *surface;
	double width, height;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	surface = cairo_pdf_surface_create(bg_path, 14400, 14400);
	cairo_surface_show_page(surface);
	cairo_surface_destroy(surface);
	g_file_set_contents(layout_path, EXTREME_LAYOUT, -1, &error);
	g_assert_no_error(error);

	/* 3000 "W" at 500 pt: about 1.5 million points, as wide as pango's
	 * int extents go (2^31 units of 1/1024 pt), so the shrink reaches its
	 * floor and the text is wrapped at a width 1000 times maxWidth */
	for (guint i = 0; i < 3000; i++)
		g_string_append_c(json, 'W');
	g_string_append(json, "\", \"courseName\": \"");
	for (guint i = 0; i < 400; i++)
		g_string_append(json, "Wrapped words ");
	g_string_append(json, "\", \"issueDate\": \"2026-11-28\"}");

	extreme_store = cg_template_store_new(dirs);
	tmpl = cg_template_store_load(extreme_store, "extreme", NULL, &error);
	g_assert_no_error(error);
	/* data validation refuses what cannot fit even at minSize ... */
	data = cg_data_parse(json->str, json->len, cg_template_get_rules(tmpl), 1 << 24, 1, NULL,
			     &error);
	g_assert_null(data);
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_assert_nonnull(strstr(error->message, "recipientName: does not fit in 1 line at 0.5 pt"));
	g_clear_error(&error);
	/* ... and the renderer, given it all the same, draws it whole at the
	 * smallest size */
	rules = g_ptr_array_new_with_free_func((GDestroyNotify)cg_field_rule_free);
	for (guint i = 0; i < cg_template_get_rules(tmpl)->len; i++) {
		const CgFieldRule *rule = g_ptr_array_index(cg_template_get_rules(tmpl), i);

		g_ptr_array_add(rules, cg_field_rule_new(rule->name, rule->type, rule->required,
							 rule->min_length, rule->max_length));
	}
	data = cg_data_parse(json->str, json->len, rules, 1 << 24, 1, NULL, &error);
	g_assert_no_error(error);
	pdf = render(tmpl, data, 1, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	document = open_pdf(pdf);
	g_assert_cmpint(poppler_document_get_n_pages(document), ==, 1);
	page = poppler_document_get_page(document, 0);
	poppler_page_get_size(page, &width, &height);
	g_assert_cmpfloat_with_epsilon(width, 14400, 1);
	g_assert_cmpfloat_with_epsilon(height, 14400, 1);

	g_remove(bg_path);
	g_remove(layout_path);
	g_rmdir(dir);
	g_rmdir(base);
}

/* What is drawn, not what poppler extracts (cairo keeps the whole text as
 * ActualText under a drawn "…"): the page rasterized at 150 dpi and read
 * back by tesseract must show the whole of a long name. */
static void
test_render_long_name_drawn(void)
{
	const char *name = "Maria de los Ángeles Fernández-Villaverde y Rodríguez de la Fuente";
	const char *const ids[] = {"classic", "modern"};
	g_autofree char *pdftoppm = g_find_program_in_path("pdftoppm");
	g_autofree char *tesseract = g_find_program_in_path("tesseract");

	if (pdftoppm == NULL || tesseract == NULL) {
		g_test_skip("pdftoppm or tesseract is not installed");
		return;
	}
	for (guint t = 0; t < G_N_ELEMENTS(ids); t++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) pdf = render_one(ids[t], name, 7);
		g_autofree char *pdf_path = g_build_filename(tmp_dir, "drawn.pdf", NULL);
		g_autofree char *png_base = g_build_filename(tmp_dir, "drawn", NULL);
		g_autofree char *png_path = g_strconcat(png_base, ".png", NULL);
		g_autofree char *ocr = NULL;
		g_autofree char *flat = NULL;
		const char *raster[] = {pdftoppm,      "-r",	 "150",	   "-png",
					"-singlefile", pdf_path, png_base, NULL};
		const char *read[] = {tesseract, png_path, "stdout", NULL};
		int status;

		g_file_set_contents(pdf_path, g_bytes_get_data(pdf, NULL),
				    (gssize)g_bytes_get_size(pdf), &error);
		g_assert_no_error(error);
		g_spawn_sync(NULL, (char **)raster, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
			     NULL, NULL, &status, &error);
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		g_spawn_sync(NULL, (char **)read, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
			     &ocr, NULL, &status, &error);
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		/* one line or two: the words, in order, whatever breaks them */
		flat = g_strdelimit(g_strdup(ocr), "\n", ' ');
		g_test_message("%s: %s", ids[t], flat);
		assert_contains(flat, "Villaverde");
		assert_contains(flat, "Rodr");
		assert_contains(flat, "de la");
		assert_contains(flat, "Fuente");
		g_assert_null(strstr(flat, "…"));
		g_assert_null(strstr(flat, "..."));
		g_remove(png_path);
		g_remove(pdf_path);
	}
}

typedef struct {
	CgTemplate *tmpl;
	CgData *data;
	GBytes *expected;
} ThreadData;

static gpointer
render_thread(gpointer user_data)
{
	ThreadData *td = user_data;

	for (guint i = 0; i < 10; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) pdf = render(td->tmpl, td->data, 1, NULL, NULL, NULL, &error);

		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(pdf, td->expected));
	}
	return NULL;
}

/* Worker threads share one template: each render has its own poppler
 * document and the same bytes come out. */
static void
test_render_threads(void)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	g_autofree char *json = cg_test_batch_json(4);
	g_autoptr(CgData) data = parse_data(tmpl, json);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) expected = render(tmpl, data, 1, NULL, NULL, NULL, &error);
	ThreadData td = {tmpl, data, expected};
	GThread *threads[3];

	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("render", render_thread, &td);
	for (gsize i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
}

/* Milliseconds of this thread's CPU time: on a busy machine the wall clock
 * says more about the other processes. */
static double
thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_doubles(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Timings, printed, never asserted: machines differ. */
static void
test_render_timing(void)
{
	g_autoptr(CgTemplate) tmpl = load_template("classic");
	g_autofree char *one = one_recipient_json("Ada Lovelace");
	g_autoptr(CgData) single = parse_data(tmpl, one);
	guint runs = RUNNING_ON_VALGRIND ? 3 : 200;
	guint pages = RUNNING_ON_VALGRIND ? 20 : 1000;
	g_autofree char *batch = cg_test_batch_json(pages);
	g_autoptr(CgData) many = parse_data(tmpl, batch);
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GArray) cpu_times = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) pdf = NULL;
	gint64 start;
	double cpu_start;
	double seconds;
	double cpu_seconds;

	for (guint i = 0; i < runs + 5; i++) {
		g_autoptr(GBytes) out = NULL;
		double ms, cpu_ms;

		start = g_get_monotonic_time();
		cpu_start = thread_cpu_ms();
		out = render(tmpl, single, i, NULL, NULL, NULL, &error);
		ms = (g_get_monotonic_time() - start) / 1000.0;
		cpu_ms = thread_cpu_ms() - cpu_start;
		g_assert_no_error(error);
		if (i >= 5) { /* warm-up: font loading, caches */
			g_array_append_val(times, ms);
			g_array_append_val(cpu_times, cpu_ms);
		}
	}
	g_array_sort(times, compare_doubles);
	g_array_sort(cpu_times, compare_doubles);
	g_test_message("single certificate: p50 %.2f ms, p90 %.2f ms, CPU time p50 %.2f ms "
		       "(%u runs)",
		       g_array_index(times, double, times->len / 2),
		       g_array_index(times, double, times->len * 9 / 10),
		       g_array_index(cpu_times, double, cpu_times->len / 2), runs);

	start = g_get_monotonic_time();
	cpu_start = thread_cpu_ms();
	pdf = render(tmpl, many, 1, NULL, NULL, NULL, &error);
	seconds = (g_get_monotonic_time() - start) / 1e6;
	cpu_seconds = (thread_cpu_ms() - cpu_start) / 1e3;
	g_assert_no_error(error);
	g_test_message("batch: %u pages in %.3f s: %.0f pages/s (CPU time %.3f s: %.0f pages/s), "
		       "%" G_GSIZE_FORMAT " bytes (%.0f bytes/page)",
		       pages, seconds, pages / seconds, cpu_seconds, pages / cpu_seconds,
		       g_bytes_get_size(pdf), (double)g_bytes_get_size(pdf) / pages);
	/* the background, the course and date drawn once, a QR mask a page */
	g_assert_cmpuint(count_in_pdf(pdf, "/Subtype /Form"), ==, 1 + 1);
	g_assert_cmpuint(count_in_pdf(pdf, "/ImageMask true"), ==, pages);
}

static const CgTestCase cases[] = {
    {"/render/number", test_render_number},
    {"/render/single", test_render_single},
    {"/render/fonts", test_render_fonts},
    {"/render/qr", test_render_qr},
    {"/render/scripts", test_render_scripts},
    {"/render/long-name", test_render_long_name},
    {"/render/batch", test_render_batch},
    {"/render/single-underlay", test_render_single_underlay},
    {"/render/single-own", test_render_single_own},
    {"/render/single-history", test_render_single_history},
    {"/render/single-cancel", test_render_single_cancel},
    {"/render/single-write-error", test_render_single_write_error},
    {"/render/reproducible", test_render_reproducible},
    {"/render/cancel", test_render_cancel},
    {"/render/write-error", test_render_write_error},
    {"/render/modern", test_render_modern},
    {"/render/extreme-template", test_render_extreme_template},
    {"/render/long-name-drawn", test_render_long_name_drawn},
    {"/render/threads", test_render_threads},
    {"/render/timing", test_render_timing},
};

int
main(int argc, char **argv)
{
	g_autofree char *templates = NULL;
	int ret;

	g_test_init(&argc, &argv, NULL);

	templates = cg_test_shipped_templates_dir();
	{
		const char *dirs[] = {templates, NULL};

		store = cg_template_store_new(dirs);
	}
	tmp_dir = cg_test_make_scratch_dir("certgen-render-XXXXXX");

	cg_test_add_cases(cases, G_N_ELEMENTS(cases), NULL);
	ret = g_test_run();

	cg_test_remove_tree(tmp_dir);
	g_free(tmp_dir);
	cg_template_store_free(store);
	return ret;
}

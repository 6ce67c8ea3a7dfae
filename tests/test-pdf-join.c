/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Joining PDFs with qpdf (cg-pdf-join.c): pages in order, the title, the
 * same bytes for the same parts, bad parts and failed writes. */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <string.h>

#include "cg-error.h"
#include "cg-pdf-join.h"
#include "cg-render.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

/* A PDF of @n pages whose texts are "@label page N". */
static GBytes *
make_part(const char *label, guint n)
{
	GByteArray *pdf = g_byte_array_new();
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(cg_render_write_to_byte_array, pdf, 200, 100);
	cairo_t *cr = cairo_create(surface);
	PangoLayout *layout = pango_cairo_create_layout(cr);

	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "part");
	for (guint i = 0; i < n; i++) {
		g_autofree char *text = g_strdup_printf("%s page %u", label, i + 1);

		cairo_move_to(cr, 10, 50);
		pango_layout_set_text(layout, text, -1);
		pango_cairo_show_layout(cr, layout);
		cairo_show_page(cr);
	}
	g_object_unref(layout);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(surface);
	return g_byte_array_free_to_bytes(pdf);
}

static GBytes *
join(GBytes **parts, guint n, const char *title)
{
	g_autoptr(GError) error = NULL;
	GByteArray *out = g_byte_array_new();

	g_assert_true(cg_pdf_join(parts, n, title, cg_render_write_to_byte_array, out, &error));
	g_assert_no_error(error);
	return g_byte_array_free_to_bytes(out);
}

static void
test_join_pages_in_order(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 2);
	g_autoptr(GBytes) b = make_part("beta", 3);
	g_autoptr(GBytes) c = make_part("gamma", 1);
	GBytes *parts[] = {a, b, c};
	g_autoptr(GBytes) joined = join(parts, 3, "Certificates A–B");
	g_autoptr(GBytes) again = join(parts, 3, "Certificates A–B");
	g_autoptr(GError) error = NULL;
	g_autoptr(PopplerDocument) doc = poppler_document_new_from_bytes(joined, NULL, &error);
	const char *expected[] = {"alpha page 1", "alpha page 2", "beta page 1",
				  "beta page 2",  "beta page 3",  "gamma page 1"};
	g_autofree char *title = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 6);
	for (int i = 0; i < 6; i++) {
		g_autoptr(PopplerPage) page = poppler_document_get_page(doc, i);
		g_autofree char *text = poppler_page_get_text(page);

		g_assert_nonnull(strstr(text, expected[i]));
	}
	title = poppler_document_get_title(doc);
	g_assert_cmpstr(title, ==, "Certificates A–B");
	/* object streams, and the same bytes for the same parts */
	g_assert_nonnull(
	    g_strstr_len(g_bytes_get_data(joined, NULL), g_bytes_get_size(joined), "/ObjStm"));
	g_assert_true(g_bytes_equal(joined, again));
}

static void
test_join_one_part(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 2);
	GBytes *parts[] = {a};
	g_autoptr(GBytes) joined = join(parts, 1, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(PopplerDocument) doc = poppler_document_new_from_bytes(joined, NULL, &error);
	g_autofree char *title = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 2);
	title = poppler_document_get_title(doc);
	g_assert_cmpstr(title, ==, "part");
}

static void
test_join_bad_part(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 1);
	g_autoptr(GBytes) bad = g_bytes_new_static("%PDF-1.5\nnot really\n", 20);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	GBytes *cases[][2] = {{a, bad}, {empty, a}};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GByteArray) out = g_byte_array_new();

		g_assert_false(
		    cg_pdf_join(cases[i], 2, "t", cg_render_write_to_byte_array, out, &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "Could not join the PDFs"));
		g_assert_cmpuint(out->len, ==, 0); /* nothing written */
	}
}

static cairo_status_t
write_fails(void *closure, const unsigned char *data, unsigned int length)
{
	(void)data;
	(void)length;
	(*(guint *)closure)++;
	return CAIRO_STATUS_WRITE_ERROR;
}

static void
test_join_write_fails(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 1);
	g_autoptr(GBytes) b = make_part("beta", 1);
	GBytes *parts[] = {a, b};
	g_autoptr(GError) error = NULL;
	guint calls = 0;

	g_assert_false(cg_pdf_join(parts, 2, NULL, write_fails, &calls, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_cmpuint(calls, ==, 1);
}

static const CgTestCase cases[] = {
    {"/pdf-join/pages-in-order", test_join_pages_in_order, NULL},
    {"/pdf-join/one-part", test_join_one_part, NULL},
    {"/pdf-join/bad-part", test_join_bad_part, NULL},
    {"/pdf-join/write-fails", test_join_write_fails, NULL},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cg-pdf-underlay.c on PDFs that cairo writes here and now: the page of
 * one painted under the page of another (checked by poppler's rendering,
 * pixel by pixel where each was drawn, and by qpdf --check when it is
 * installed), the same bytes twice, and every malformed or truncated
 * input refused without touching the output.
 */
#define _GNU_SOURCE /* memmem() */
#include "config.h"

#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <string.h>
#include <unistd.h>

#include "cg-error.h"
#include "cg-pdf-underlay.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_surface_t, cairo_surface_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_t, cairo_destroy)

#define WIDTH 200
#define HEIGHT 100

static cairo_status_t
append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

typedef void (*DrawFunc)(cairo_t *cr);

/* @text at @x, @y with pango (cairo's toy text API keeps font patterns
 * that valgrind reports as lost). */
static void
draw_word(cairo_t *cr, double x, double y, const char *text)
{
	g_autoptr(PangoLayout) layout = pango_cairo_create_layout(cr);
	PangoFontDescription *desc = pango_font_description_from_string("Noto Serif 10");

	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_text(layout, text, -1);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, layout);
}

/* A PDF of @n_pages pages, each drawn by @draw. */
static GByteArray *
make_pdf(DrawFunc draw, guint n_pages)
{
	GByteArray *pdf = g_byte_array_new();
	g_autoptr(cairo_surface_t) surface =
	    cairo_pdf_surface_create_for_stream(append_bytes, pdf, WIDTH, HEIGHT);
	g_autoptr(cairo_t) cr = cairo_create(surface);

	for (guint i = 0; i < n_pages; i++) {
		draw(cr);
		cairo_show_page(cr);
	}
	g_clear_pointer(&cr, cairo_destroy);
	cairo_surface_finish(surface);
	g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
	return pdf;
}

/* The background: red all over, a green square at the top left, a word. */
static void
draw_background(cairo_t *cr)
{
	cairo_set_source_rgb(cr, 1, 0, 0);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 1, 0);
	cairo_rectangle(cr, 0, 0, 40, 40);
	cairo_fill(cr);
	draw_word(cr, 60, 75, "Backdrop");
}

/* A page with a blue square at the bottom right and a word: no image, so
 * its resources have no /XObject yet. */
static void
draw_page(cairo_t *cr)
{
	cairo_set_source_rgb(cr, 0, 0, 1);
	cairo_rectangle(cr, WIDTH - 40, HEIGHT - 40, 40, 40);
	cairo_fill(cr);
	draw_word(cr, 60, 5, "Foreground");
}

/* The same with an image mask, so its resources name an XObject already. */
static void
draw_page_with_image(cairo_t *cr)
{
	static guint8 bits[4 * 2] = {0xff, 0, 0, 0, 0xff, 0, 0, 0};
	g_autoptr(cairo_surface_t) image =
	    cairo_image_surface_create_for_data(bits, CAIRO_FORMAT_A1, 8, 2, 4);

	draw_page(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_mask_surface(cr, image, 150, 10);
}

static void
draw_nothing(cairo_t *cr)
{
}

static CgPdfUnderlay *
make_underlay(void)
{
	g_autoptr(GByteArray) background = make_pdf(draw_background, 1);
	g_autoptr(GError) error = NULL;
	CgPdfUnderlay *underlay = cg_pdf_underlay_new(background->data, background->len, &error);

	g_assert_no_error(error);
	g_assert_nonnull(underlay);
	return underlay;
}

/* The colour of pixel @x, @y of page 0 of @pdf rendered at 72 dpi. */
static guint32
pixel(PopplerPage *page, int x, int y)
{
	g_autoptr(cairo_surface_t) image =
	    cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
	g_autoptr(cairo_t) cr = cairo_create(image);
	const guint8 *data;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	poppler_page_render(page, cr);
	cairo_surface_flush(image);
	data = cairo_image_surface_get_data(image);
	return *(const guint32 *)(data + y * cairo_image_surface_get_stride(image) + x * 4) &
	       0xffffff;
}

static void
check_qpdf(GByteArray *pdf)
{
	g_autofree char *qpdf = g_find_program_in_path("qpdf");
	g_autofree char *path = NULL;
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	int fd, status = 0;

	if (qpdf == NULL)
		return;
	fd = g_file_open_tmp("underlay-XXXXXX.pdf", &path, &error);
	g_assert_no_error(error);
	close(fd);
	g_file_set_contents(path, (const char *)pdf->data, pdf->len, &error);
	g_assert_no_error(error);
	{
		const char *argv[] = {qpdf, "--check", path, NULL};

		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
			     &out, NULL, &status, &error);
	}
	g_assert_no_error(error);
	g_unlink(path);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("qpdf --check: %s", out);
	g_assert_nonnull(strstr(out, "No syntax or stream encoding errors"));
}

static void
check_applied(DrawFunc draw)
{
	g_autoptr(CgPdfUnderlay) underlay = make_underlay();
	g_autoptr(GByteArray) page_pdf = make_pdf(draw, 1);
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GByteArray) again = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autoptr(PopplerPage) page = NULL;
	g_autofree char *text = NULL;

	g_assert_true(cg_pdf_underlay_apply(underlay, page_pdf->data, page_pdf->len, out, &error));
	g_assert_no_error(error);
	g_assert_true(cg_pdf_underlay_apply(underlay, page_pdf->data, page_pdf->len, again, NULL));
	g_assert_cmpmem(out->data, out->len, again->data, again->len);

	bytes = g_bytes_new(out->data, out->len);
	document = poppler_document_new_from_bytes(bytes, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(document), ==, 1);
	page = poppler_document_get_page(document, 0);
	/* the background's red and green, the page's blue over it */
	g_assert_cmphex(pixel(page, 100, 50), ==, 0xff0000);
	g_assert_cmphex(pixel(page, 10, 10), ==, 0x00ff00);
	g_assert_cmphex(pixel(page, WIDTH - 10, HEIGHT - 10), ==, 0x0000ff);
	text = poppler_page_get_text(page);
	g_assert_nonnull(strstr(text, "Backdrop"));
	g_assert_nonnull(strstr(text, "Foreground"));
	check_qpdf(out);
}

static void
test_underlay_apply(void)
{
	check_applied(draw_page);
}

static void
test_underlay_apply_xobject(void)
{
	check_applied(draw_page_with_image);
}

/* An empty page as the underlay, as a template's blank background. */
static void
test_underlay_empty(void)
{
	g_autoptr(GByteArray) blank = make_pdf(draw_nothing, 1);
	g_autoptr(GByteArray) page_pdf = make_pdf(draw_page, 1);
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgPdfUnderlay) underlay = cg_pdf_underlay_new(blank->data, blank->len, &error);

	g_assert_no_error(error);
	g_assert_true(cg_pdf_underlay_apply(underlay, page_pdf->data, page_pdf->len, out, &error));
	g_assert_no_error(error);
	check_qpdf(out);
}

static void
assert_refused(const CgPdfUnderlay *underlay, const guint8 *data, gsize length)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgPdfUnderlay) made = cg_pdf_underlay_new(data, length, &error);
	g_autoptr(GByteArray) out = g_byte_array_new();

	g_assert_null(made);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);
	g_byte_array_append(out, (const guint8 *)"kept", 4);
	g_assert_false(cg_pdf_underlay_apply(underlay, data, length, out, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_cmpmem(out->data, out->len, "kept", 4);
}

static void
test_underlay_refused(void)
{
	g_autoptr(CgPdfUnderlay) underlay = make_underlay();
	g_autoptr(GByteArray) two = make_pdf(draw_page, 2);
	const char *const junk[] = {
	    "",
	    "%PDF-1.5\n",
	    "not a PDF at all, but long enough to be searched for a startxref",
	    "%PDF-1.5\nstartxref\n999999\n%%EOF\n",
	    "%PDF-1.5\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 "
	    ">>\nstartxref\n9\n%%EOF\n",
	    "%PDF-1.5\nxref\n1 2\ntrailer\n<< /Size 2 >>\nstartxref\n9\n%%EOF\n",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(junk); i++)
		assert_refused(underlay, (const guint8 *)junk[i], strlen(junk[i]));
	/* two pages: neither an underlay nor a page to put one under */
	assert_refused(underlay, two->data, two->len);
}

/* Every prefix of a real PDF (the table and trailer cut short, or the
 * objects cut before the table) is refused, but for those that lack no
 * more than the end-of-file marker; run under the sanitizers and
 * valgrind this also shows that nothing reads past the end. */
static void
test_underlay_truncated(void)
{
	g_autoptr(CgPdfUnderlay) underlay = make_underlay();
	g_autoptr(GByteArray) page_pdf = make_pdf(draw_page, 1);

	const gsize whole = page_pdf->len - strlen("\n%%EOF\n");

	for (gsize cut = 0; cut < whole; cut += cut + 1200 < whole ? 97 : 1) {
		g_autofree guint8 *copy = g_memdup2(page_pdf->data, cut);

		assert_refused(underlay, copy, cut);
	}
}

/* Damaged bytes in the table, the trailer and the dictionaries the page
 * is found through: the result is a refusal or a PDF, never a crash or a
 * read out of bounds. */
static void
test_underlay_damaged(void)
{
	g_autoptr(CgPdfUnderlay) underlay = make_underlay();
	g_autoptr(GByteArray) page_pdf = make_pdf(draw_page, 1);
	const char replacements[] = {'x', '9', '<', '>', '(', ')', '[', ']', '/', ' ', '%', 'R'};
	guint refused = 0, accepted = 0;

	for (gsize at = 0; at < page_pdf->len; at++) {
		const guint8 *d = page_pdf->data;

		/* bytes of dictionaries and the table: not stream data */
		if (at > 0 && d[at - 1] != '\n' && at % 7 != 0)
			continue;
		for (gsize r = 0; r < G_N_ELEMENTS(replacements); r++) {
			g_autofree guint8 *copy = g_memdup2(d, page_pdf->len);
			g_autoptr(GByteArray) out = g_byte_array_new();
			g_autoptr(CgPdfUnderlay) made = NULL;

			copy[at] = (guint8)replacements[r];
			made = cg_pdf_underlay_new(copy, page_pdf->len, NULL);
			if (cg_pdf_underlay_apply(underlay, copy, page_pdf->len, out, NULL))
				accepted++;
			else
				refused++;
		}
	}
	g_test_message("damaged copies: %u refused, %u accepted", refused, accepted);
	g_assert_cmpuint(refused, >, 0);
	g_assert_cmpuint(accepted, >, 0);
}

static const CgTestCase cases[] = {
    {"/pdf-underlay/apply", test_underlay_apply},
    {"/pdf-underlay/apply-xobject", test_underlay_apply_xobject},
    {"/pdf-underlay/empty", test_underlay_empty},
    {"/pdf-underlay/refused", test_underlay_refused},
    {"/pdf-underlay/truncated", test_underlay_truncated},
    {"/pdf-underlay/damaged", test_underlay_damaged},
};

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	cg_test_add_cases(cases, G_N_ELEMENTS(cases), NULL);
	return g_test_run();
}

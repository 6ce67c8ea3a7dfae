/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of cg-qr: what cg_qr_new() encodes and what cg_qr_draw_code() puts
 * on the page, module by module: exactly the dark modules of libqrencode's
 * symbol, centred in the square with its quiet zone, as vectors, the same
 * for the same text. Decoding a whole page is test-render's job. */
#include <cairo-pdf.h>
#include <math.h>
#include <qrencode.h>
#include <string.h>

#include "cg-error.h"
#include "cg-qr.h"
#include "cg-test-util.h"

/* A verification string as cg_recipient_verification() makes them. */
#define VERIFICATION                                                                               \
	"CERTGEN1;N=CERT2026007904;H="                                                             \
	"69d76a4d8242e98fa6d9b1be67fe4c7a2f5de122e18cb086a7c77a70b4375ef9"

static const double black[3] = {0, 0, 0};
static const double white[3] = {1, 1, 1};

/* The symbol as libqrencode makes it with what cg-qr.h promises: level M,
 * the smallest version, case kept. */
static QRcode *
reference(const char *text)
{
	QRcode *code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	g_assert_nonnull(code);
	return code;
}

static guint32
pixel(cairo_surface_t *surface, int x, int y)
{
	const guint8 *data = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);

	return ((const guint32 *)(gconstpointer)(data + y * stride))[x] & 0xffffff;
}

/* Draws @text's code on a surface of exactly (width + 2 quiet) * @scale
 * pixels, so each module is @scale x @scale whole pixels. */
static cairo_surface_t *
draw(const char *text, int width, guint quiet, int scale, const double color[3],
     const double background[3])
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgQr) qr = cg_qr_new(text, &error);
	int side = (width + 2 * (int)quiet) * scale;
	cairo_surface_t *surface;
	cairo_t *cr;

	g_assert_no_error(error);
	g_assert_nonnull(qr);
	surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
	cr = cairo_create(surface);
	cg_qr_draw_code(cr, qr, 0, 0, side, quiet, color, background);
	g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(surface);
	return surface;
}

/* Every pixel of the surface is the colour of its module: the path covers
 * the dark modules exactly, spilling into no light one, leaving no gap. */
static void
assert_modules(cairo_surface_t *surface, const QRcode *code, guint quiet, int scale, guint32 dark,
	       guint32 light)
{
	int side = cairo_image_surface_get_width(surface);

	for (int y = 0; y < side; y++) {
		for (int x = 0; x < side; x++) {
			int mx = x / scale - (int)quiet, my = y / scale - (int)quiet;
			gboolean is_dark = mx >= 0 && my >= 0 && mx < code->width &&
					   my < code->width &&
					   (code->data[my * code->width + mx] & 1);
			guint32 expected = is_dark ? dark : light;

			if (pixel(surface, x, y) != expected)
				g_error("pixel (%d, %d) of module (%d, %d) is %06x, not %06x", x, y,
					mx, my, pixel(surface, x, y), expected);
		}
	}
}

static void
assert_text_drawn(const char *text, guint quiet, int scale)
{
	QRcode *code = reference(text);
	cairo_surface_t *surface = draw(text, code->width, quiet, scale, black, white);

	assert_modules(surface, code, quiet, scale, 0x000000, 0xffffff);
	cairo_surface_destroy(surface);
	QRcode_free(code);
}

/* Module count and version: width 17 + 4 version, the smallest that holds
 * the text at level M. */
static void
test_versions(void)
{
	struct {
		const char *text;
		int version;
	} cases[] = {
	    {"HELLO", 1},
	    {"hello", 1},
	    /* certgen's verification strings: version 6, 41 x 41 (cg-qr.c) */
	    {VERIFICATION, 6},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		QRcode *code = reference(cases[i].text);

		g_assert_cmpint(code->version, ==, cases[i].version);
		g_assert_cmpint(code->width, ==, 17 + 4 * cases[i].version);
		QRcode_free(code);
		/* and cg-qr draws a symbol of that many modules */
		assert_text_drawn(cases[i].text, 4, 2);
	}
}

/* The dark modules, exactly, for texts of every kind and size. */
static void
test_modules(void)
{
	g_autofree char *long_text = g_strnfill(1000, 'x');
	g_autofree char *digits = g_strnfill(300, '7');
	const char *texts[] = {
	    "A",
	    "https://example.org/verify/CERT2026000001?c=Zm9vYmFy",
	    "mixed 0123456789 CASE case ÄÖÜ 証明書",
	    long_text,
	    digits,
	};

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++)
		assert_text_drawn(texts[i], 4, 3);
	/* without a quiet zone the symbol fills the square */
	assert_text_drawn(VERIFICATION, 0, 2);
	/* one pixel per module */
	assert_text_drawn(VERIFICATION, 2, 1);
}

/* Finder patterns at three corners and the timing patterns between them,
 * read from the drawing alone: a real QR symbol of the expected size. */
static void
test_finder_patterns(void)
{
	const int width = 41, quiet = 4, scale = 2;
	cairo_surface_t *surface = draw(VERIFICATION, width, quiet, scale, black, white);
	const int corners[3][2] = {{0, 0}, {width - 7, 0}, {0, width - 7}};

/* the module at (mx, my) of the symbol is dark */
#define DARK(mx, my) (pixel(surface, ((mx) + quiet) * scale, ((my) + quiet) * scale) == 0)

	for (int c = 0; c < 3; c++) {
		for (int y = 0; y < 7; y++) {
			for (int x = 0; x < 7; x++) {
				/* ring 0 dark, ring 1 light, the 3 x 3 centre dark */
				int ring = MIN(MIN(x, y), MIN(6 - x, 6 - y));

				g_assert_cmpint(DARK(corners[c][0] + x, corners[c][1] + y), ==,
						ring != 1);
			}
		}
	}
	/* the separators are light */
	for (int i = 0; i < 8; i++) {
		g_assert_false(DARK(7, i));
		g_assert_false(DARK(i, 7));
		g_assert_false(DARK(width - 8, i));
		g_assert_false(DARK(i, width - 8));
	}
	/* timing patterns: row and column 6 alternate between the finders */
	for (int i = 8; i < width - 8; i++) {
		g_assert_cmpint(DARK(i, 6), ==, i % 2 == 0);
		g_assert_cmpint(DARK(6, i), ==, i % 2 == 0);
	}
#undef DARK
	cairo_surface_destroy(surface);
}

static void
test_colours(void)
{
	const double red[3] = {1, 0, 0};
	const double blue[3] = {0, 0, 1};
	QRcode *code = reference("colours");
	cairo_surface_t *surface = draw("colours", code->width, 1, 2, blue, red);

	assert_modules(surface, code, 1, 2, 0x0000ff, 0xff0000);
	cairo_surface_destroy(surface);
	QRcode_free(code);
}

/* Case is kept: "abc" and "ABC" are different codes. And the same text
 * always gives the same drawing. */
static void
test_case_and_determinism(void)
{
	cairo_surface_t *lower = draw("certgen abc", 21, 4, 2, black, white);
	cairo_surface_t *upper = draw("CERTGEN ABC", 21, 4, 2, black, white);
	cairo_surface_t *again = draw("certgen abc", 21, 4, 2, black, white);
	int size = cairo_image_surface_get_stride(lower) * cairo_image_surface_get_height(lower);

	g_assert_cmpmem(cairo_image_surface_get_data(lower), size,
			cairo_image_surface_get_data(again), size);
	g_assert_true(memcmp(cairo_image_surface_get_data(lower),
			     cairo_image_surface_get_data(upper), size) != 0);
	cairo_surface_destroy(lower);
	cairo_surface_destroy(upper);
	cairo_surface_destroy(again);
}

/* At any size and place: the square (x, y, size) is filled with the
 * background and nothing outside it is touched; the symbol is centred in
 * it and scaled to size / (width + 2 quiet) per module. */
static void
test_placement(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgQr) qr = cg_qr_new(VERIFICATION, &error);
	const double x = 37.3, y = 20.6, size = 151.7;
	const int quiet = 4, width = 41;
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 240, 200);
	cairo_t *cr = cairo_create(surface);
	int min_x = G_MAXINT, min_y = G_MAXINT, max_x = -1, max_y = -1;
	double module = size / (width + 2 * quiet);

	g_assert_no_error(error);
	/* a green page */
	cairo_set_source_rgb(cr, 0, 1, 0);
	cairo_paint(cr);
	cairo_set_line_width(cr, 7.0);
	cairo_move_to(cr, 1, 1);
	cg_qr_draw_code(cr, qr, x, y, size, quiet, black, white);
	/* the caller's state is back, its path gone with the stroke */
	g_assert_cmpfloat(cairo_get_line_width(cr), ==, 7.0);
	{
		cairo_matrix_t matrix;

		cairo_get_matrix(cr, &matrix);
		g_assert_cmpfloat(matrix.xx, ==, 1.0);
		g_assert_cmpfloat(matrix.x0, ==, 0.0);
	}
	cairo_destroy(cr);
	cairo_surface_flush(surface);

	for (int py = 0; py < 200; py++) {
		for (int px = 0; px < 240; px++) {
			guint32 p = pixel(surface, px, py);
			/* pixels wholly outside the square, wholly inside, and
			 * the edge between, antialiased */
			gboolean outside =
			    px + 1 <= x || px >= x + size || py + 1 <= y || py >= y + size;
			gboolean inside =
			    px >= x && px + 1 <= x + size && py >= y && py + 1 <= y + size;

			if (outside) {
				g_assert_cmpuint(p, ==, 0x00ff00);
				continue;
			}
			if (!inside)
				continue;
			/* grey: black on white, no green */
			g_assert_cmpuint((p >> 8) & 0xff, ==, p & 0xff);
			g_assert_cmpuint((p >> 16) & 0xff, ==, p & 0xff);
			if (p == 0) {
				min_x = MIN(min_x, px);
				max_x = MAX(max_x, px);
				min_y = MIN(min_y, py);
				max_y = MAX(max_y, py);
			}
		}
	}
	/* the finder patterns are the corners of the symbol: its dark box is
	 * width modules wide, centred in the square */
	g_assert_cmpfloat(fabs((max_x + 1 - min_x) - width * module), <=, 2.0);
	g_assert_cmpfloat(fabs((max_y + 1 - min_y) - width * module), <=, 2.0);
	g_assert_cmpfloat(fabs((min_x - x) - (x + size - (max_x + 1))), <=, 2.0);
	g_assert_cmpfloat(fabs((min_y - y) - (y + size - (max_y + 1))), <=, 2.0);
	g_assert_cmpfloat(fabs((min_x - x) - quiet * module), <=, 2.0);
	cairo_surface_destroy(surface);
}

static cairo_status_t
append_to_bytes(void *closure, const unsigned char *data, unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

/* On a PDF surface the code is vectors, not an image. */
static void
test_pdf_vectors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgQr) qr = cg_qr_new(VERIFICATION, &error);
	g_autoptr(GByteArray) pdf = g_byte_array_new();
	cairo_surface_t *surface;
	cairo_t *cr;

	g_assert_no_error(error);
	surface = cairo_pdf_surface_create_for_stream(append_to_bytes, pdf, 200, 200);
	cr = cairo_create(surface);
	cg_qr_draw_code(cr, qr, 10, 10, 180, 4, black, white);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(surface);

	g_assert_cmpuint(pdf->len, >, 0);
	g_assert_true(memcmp(pdf->data, "%PDF-", 5) == 0);
	g_assert_null(g_strstr_len((const char *)pdf->data, pdf->len, "/Subtype /Image"));
	g_assert_null(g_strstr_len((const char *)pdf->data, pdf->len, "/ImageMask"));
}

/* What libqrencode cannot encode is a CG_ERROR_FAILED naming the size. */
static void
test_errors(void)
{
	g_autofree char *most = g_strnfill(2331, 'a');
	g_autofree char *too_long = g_strnfill(2332, 'a');
	g_autoptr(GError) error = NULL;
	CgQr *qr;

	/* version 40-M holds 2331 bytes */
	qr = cg_qr_new(most, &error);
	g_assert_no_error(error);
	g_assert_nonnull(qr);
	cg_qr_free(qr);

	qr = cg_qr_new(too_long, &error);
	g_assert_null(qr);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_true(g_str_has_prefix(error->message, "Cannot encode a QR code of 2332 bytes"));
	g_clear_error(&error);

	qr = cg_qr_new("", &error);
	g_assert_null(qr);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_true(g_str_has_prefix(error->message, "Cannot encode a QR code of 0 bytes"));

	/* freeing NULL is fine */
	cg_qr_free(NULL);
}

static const CgTestCase cases[] = {
    {"/qr/versions", test_versions},
    {"/qr/modules", test_modules},
    {"/qr/finder-patterns", test_finder_patterns},
    {"/qr/colours", test_colours},
    {"/qr/case-and-determinism", test_case_and_determinism},
    {"/qr/placement", test_placement},
    {"/qr/pdf-vectors", test_pdf_vectors},
    {"/qr/errors", test_errors},
};

CG_TEST_MAIN(cases)

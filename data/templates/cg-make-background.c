/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * cg-make-background DESIGN OUTPUT
 *
 * Draws the background PDF of a shipped template (DESIGN: classic or
 * modern) with cairo: ornaments, rules and shapes only. Every text of a
 * certificate, static or not, comes from the template's layout.json, so it
 * can be changed or translated without this program. The PDF's dates are
 * fixed, so the output is the same bytes on every run; the committed
 * background.pdf files are this program's output and a test checks that.
 */

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIXED_DATE "2025-01-01T00:00:00Z"

typedef struct {
	double r, g, b;
} Rgb;

#define RGB(hex)                                                                                   \
	{                                                                                          \
		((hex) >> 16 & 0xff) / 255.0, ((hex) >> 8 & 0xff) / 255.0, ((hex)&0xff) / 255.0    \
	}

static void
set_rgb(cairo_t *cr, Rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static void
diamond(cairo_t *cr, double cx, double cy, double rx, double ry)
{
	cairo_move_to(cr, cx, cy - ry);
	cairo_line_to(cr, cx + rx, cy);
	cairo_line_to(cr, cx, cy + ry);
	cairo_line_to(cr, cx - rx, cy);
	cairo_close_path(cr);
}

static void
star(cairo_t *cr, double cx, double cy, int points, double outer, double inner, double rot)
{
	for (int i = 0; i < 2 * points; i++) {
		double a = rot + i * M_PI / points;
		double r = (i % 2 == 0) ? outer : inner;

		if (i == 0)
			cairo_move_to(cr, cx + r * sin(a), cy - r * cos(a));
		else
			cairo_line_to(cr, cx + r * sin(a), cy - r * cos(a));
	}
	cairo_close_path(cr);
}

/*
 * Everything is filled, nothing stroked: a renderer paints this page on
 * every certificate, and cairo measures a stroked curve again on each page
 * it is painted on, while a fill costs next to nothing. Lines are thin
 * rectangles, rings are two circles filled even-odd. Shapes are kept few:
 * each one is parsed and written again into every PDF.
 */

static void
rect(cairo_t *cr, double x, double y, double w, double h)
{
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
}

/* A rectangular frame of thickness t whose outer edge is x, y, w, h. */
static void
frame(cairo_t *cr, double x, double y, double w, double h, double t)
{
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
	cairo_rectangle(cr, x, y, w, h);
	cairo_rectangle(cr, x + t, y + t, w - 2 * t, h - 2 * t);
	cairo_fill(cr);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
}

static void
disc(cairo_t *cr, double cx, double cy, double r)
{
	cairo_new_sub_path(cr);
	cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
	cairo_fill(cr);
}

/* A ring of thickness t whose outer radius is r. */
static void
ring(cairo_t *cr, double cx, double cy, double r, double t)
{
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
	cairo_new_sub_path(cr);
	cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
	cairo_new_sub_path(cr);
	cairo_arc(cr, cx, cy, r - t, 0, 2 * M_PI);
	cairo_fill(cr);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
}

/* ---- classic: A4 landscape, ivory, navy and gold ------------------------ */

static const Rgb classic_paper = RGB(0xfdfaf2);
static const Rgb classic_navy = RGB(0x1b2f4e);
static const Rgb classic_gold = RGB(0xb08d3c);
static const Rgb classic_gold_light = RGB(0xd8c28a);

/* Small diamonds along a straight band, the chain between the frames. */
static void
classic_chain(cairo_t *cr, double x0, double y0, double x1, double y1, double spacing)
{
	double length = hypot(x1 - x0, y1 - y0);
	int n = (int)floor(length / spacing + 0.5);
	double ux = (x1 - x0) / length, uy = (y1 - y0) / length;

	for (int i = 1; i < n; i++) {
		double s = i * length / n;
		double x = x0 + ux * s, y = y0 + uy * s;

		if (i % 2 == 0)
			diamond(cr, x, y, ux != 0 ? 4.2 : 2.2, ux != 0 ? 2.2 : 4.2);
		else
			diamond(cr, x, y, 1.3, 1.3);
	}
	cairo_fill(cr);
}

/* The ornament at a corner of the frame; (sx, sy) point into the page. */
static void
classic_corner(cairo_t *cr, double x, double y, double sx, double sy)
{
	double bx = x + sx * 26, by = y + sy * 26;

	/* a navy diamond with a gold one inside, over the crossing bands */
	set_rgb(cr, classic_navy);
	diamond(cr, x, y, 12, 12);
	cairo_fill(cr);
	set_rgb(cr, classic_gold);
	diamond(cr, x, y, 7, 7);
	cairo_fill(cr);
	set_rgb(cr, classic_paper);
	diamond(cr, x, y, 2.5, 2.5);
	cairo_fill(cr);

	/* an L-shaped bracket inside the frame with a diamond and a dot at
	 * each end, and a thinner one inside it */
	set_rgb(cr, classic_gold);
	rect(cr, sx > 0 ? bx : bx - 72, sy > 0 ? by : by - 1.2, 72, 1.2);
	rect(cr, sx > 0 ? bx : bx - 1.2, sy > 0 ? by : by - 72, 1.2, 72);
	rect(cr, sx > 0 ? bx + 14 : bx - 50, sy > 0 ? by + 6 : by - 6.6, 36, 0.6);
	rect(cr, sx > 0 ? bx + 6 : bx - 6.6, sy > 0 ? by + 14 : by - 50, 0.6, 36);
	diamond(cr, bx + sx * 8, by + sy * 8, 4.5, 4.5);
	diamond(cr, bx + sx * 78, by + sy * 0.6, 4, 2.6);
	diamond(cr, bx + sx * 0.6, by + sy * 78, 2.6, 4);
	cairo_fill(cr);
	ring(cr, bx + sx * 8, by + sy * 8, 8.5, 0.7);
}

/* A horizontal rule with a diamond in the middle and at the ends. */
static void
classic_divider(cairo_t *cr, double cx, double y, double half)
{
	set_rgb(cr, classic_gold);
	rect(cr, cx - half, y - 0.45, half - 13, 0.9);
	rect(cr, cx + 13, y - 0.45, half - 13, 0.9);
	diamond(cr, cx, y, 8, 4.5);
	diamond(cr, cx - half - 5, y, 3, 2);
	diamond(cr, cx + half + 5, y, 3, 2);
	cairo_fill(cr);
	set_rgb(cr, classic_paper);
	diamond(cr, cx, y, 3, 1.6);
	cairo_fill(cr);
}

static void
classic_seal(cairo_t *cr, double cx, double cy)
{
	/* ribbons first, behind the seal */
	set_rgb(cr, classic_navy);
	for (int side = -1; side <= 1; side += 2) {
		double x = cx + side * 14;

		cairo_move_to(cr, x - 9, cy + 20);
		cairo_line_to(cr, x + side * 10 - 9, cy + 62);
		cairo_line_to(cr, x + side * 10 - 1, cy + 55);
		cairo_line_to(cr, x + side * 10 + 8, cy + 64);
		cairo_line_to(cr, x + 9, cy + 20);
		cairo_close_path(cr);
		cairo_fill(cr);
	}
	set_rgb(cr, classic_gold);
	star(cr, cx, cy, 36, 40, 35.5, 0);
	cairo_fill(cr);
	set_rgb(cr, classic_navy);
	disc(cr, cx, cy, 31);
	set_rgb(cr, classic_gold_light);
	ring(cr, cx, cy, 28, 0.8);
	ring(cr, cx, cy, 19.5, 0.8);
	/* beads between the two rings */
	for (int i = 0; i < 20; i++) {
		double a = i * 2 * M_PI / 20;

		diamond(cr, cx + 23.4 * cos(a), cy + 23.4 * sin(a), 1.4, 1.4);
	}
	cairo_fill(cr);
	set_rgb(cr, classic_gold);
	star(cr, cx, cy, 5, 14, 5.6, 0);
	cairo_fill(cr);
}

static void
draw_classic(cairo_t *cr, double w, double h)
{
	set_rgb(cr, classic_paper);
	cairo_paint(cr);

	/* outer navy band, gold rules, a chain of diamonds, inner rules */
	set_rgb(cr, classic_navy);
	frame(cr, 16, 16, w - 32, h - 32, 9);
	set_rgb(cr, classic_gold);
	frame(cr, 29.3, 29.3, w - 58.6, h - 58.6, 1.4);
	classic_chain(cr, 40, 40, w - 40, 40, 17);
	classic_chain(cr, 40, h - 40, w - 40, h - 40, 17);
	classic_chain(cr, 40, 40, 40, h - 40, 17);
	classic_chain(cr, w - 40, 40, w - 40, h - 40, 17);
	frame(cr, 49.3, 49.3, w - 98.6, h - 98.6, 1.4);
	set_rgb(cr, classic_navy);
	frame(cr, 53.75, 53.75, w - 107.5, h - 107.5, 0.5);

	classic_corner(cr, 40, 40, 1, 1);
	classic_corner(cr, w - 40, 40, -1, 1);
	classic_corner(cr, 40, h - 40, 1, -1);
	classic_corner(cr, w - 40, h - 40, -1, -1);

	/* under the title, under the name, signature lines */
	classic_divider(cr, w / 2, 170, 110);
	set_rgb(cr, classic_gold);
	rect(cr, w / 2 - 240, 273.6, 480, 0.8);
	diamond(cr, w / 2 - 244, 274, 3, 2);
	diamond(cr, w / 2 + 244, 274, 3, 2);
	cairo_fill(cr);
	set_rgb(cr, classic_navy);
	rect(cr, 182, 467.65, 180, 0.7);
	rect(cr, 480, 467.65, 180, 0.7);

	classic_seal(cr, w / 2, 452);
}

/* ---- modern: A4 portrait, white, teal band, amber accents --------------- */

static const Rgb modern_teal = RGB(0x0e4d64);
static const Rgb modern_teal_mid = RGB(0x5c97a8);
static const Rgb modern_teal_light = RGB(0xd7e8ed);
static const Rgb modern_teal_pale = RGB(0xedf5f7);
static const Rgb modern_amber = RGB(0xf2a541);
static const Rgb modern_rule = RGB(0xd5dde0);

static void
draw_modern(cairo_t *cr, double w, double h)
{
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);

	/* top-right: overlapping circles, cut by the page */
	set_rgb(cr, modern_teal_pale);
	disc(cr, w - 10, 20, 190);
	set_rgb(cr, modern_teal_light);
	disc(cr, w + 30, -20, 130);
	set_rgb(cr, modern_teal_mid);
	ring(cr, w - 10, 20, 150.6, 1.2);
	set_rgb(cr, modern_amber);
	disc(cr, w - 128, 118, 9);

	/* bottom-right corner: a pale triangle */
	set_rgb(cr, modern_teal_pale);
	cairo_move_to(cr, w, h - 230);
	cairo_line_to(cr, w, h);
	cairo_line_to(cr, w - 230, h);
	cairo_close_path(cr);
	cairo_fill(cr);

	/* the side band with a stripe and a column of small squares */
	set_rgb(cr, modern_teal);
	rect(cr, 0, 0, 48, h);
	set_rgb(cr, modern_amber);
	rect(cr, 48, 0, 5, h);
	set_rgb(cr, modern_teal_mid);
	for (int i = 0; i < 6; i++)
		cairo_rectangle(cr, 20, 96 + i * 14, 8, 8);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	ring(cr, 24, h - 90, 12.5, 1);
	disc(cr, 24, h - 90, 5);

	/* accent under the title, rules above the details */
	set_rgb(cr, modern_amber);
	rect(cr, 92, 312, 64, 5);
	set_rgb(cr, modern_rule);
	rect(cr, 92, 595.6, 448, 0.8);
	rect(cr, 92, 699.6, 328, 0.8);
}

static cairo_status_t
write_file(void *closure, const unsigned char *data, unsigned int length)
{
	return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
							  : CAIRO_STATUS_WRITE_ERROR;
}

int
main(int argc, char **argv)
{
	cairo_surface_t *surface;
	cairo_status_t status;
	cairo_t *cr;
	double w, h;
	FILE *out;

	if (argc != 3 || (strcmp(argv[1], "classic") != 0 && strcmp(argv[1], "modern") != 0)) {
		fprintf(stderr, "Usage: %s classic|modern OUTPUT\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "classic") == 0) {
		w = 842;
		h = 595;
	} else {
		w = 595;
		h = 842;
	}
	out = fopen(argv[2], "wb");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	surface = cairo_pdf_surface_create_for_stream(write_file, out, w, h);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, argv[1]);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
				       "certgen cg-make-background");
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, FIXED_DATE);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, FIXED_DATE);
	cr = cairo_create(surface);
	if (strcmp(argv[1], "classic") == 0)
		draw_classic(cr, w, h);
	else
		draw_modern(cr, w, h);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	status = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (fclose(out) != 0 && status == CAIRO_STATUS_SUCCESS)
		status = CAIRO_STATUS_WRITE_ERROR;
	if (status != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "%s: %s\n", argv[2], cairo_status_to_string(status));
		remove(argv[2]);
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-qr.h"

#include <errno.h>
#include <math.h>
#include <qrencode.h>
#include <string.h>

#include "cg-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QRcode, QRcode_free)

gboolean
cg_qr_draw(cairo_t *cr, const char *text, double x, double y, double size, guint quiet_zone,
	   const double color[3], const double background[3], GError **error)
{
	g_autoptr(QRcode) code = NULL;
	double module, x0, y0;
	int width;

	g_return_val_if_fail(cr != NULL, FALSE);
	g_return_val_if_fail(text != NULL, FALSE);

	/* Version 0: the smallest that holds the text; case-sensitive. */
	code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (code == NULL) {
		int saved_errno = errno;

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Cannot encode a QR code of %zu bytes: %s", strlen(text),
			    g_strerror(saved_errno));
		return FALSE;
	}
	width = code->width;

	/* The modules are drawn in a coordinate system of one unit per module:
	 * cairo writes the path of a stroke in user space, so every run of dark
	 * modules is "x y m x y l" with small whole numbers, a quarter of the
	 * bytes of a rectangle in page coordinates (which cairo writes as four
	 * lines). A stroke of width 1 with butt caps is exactly the rectangle.
	 * The module size and origin are multiples of 1/256 pt, cairo's fixed
	 * point, so that the numbers stay whole. */
	module = floor(size / (width + 2.0 * quiet_zone) * 256) / 256;
	x0 = floor((x + (size - module * width) / 2) * 256) / 256;
	y0 = floor((y + (size - module * width) / 2) * 256) / 256;

	cairo_save(cr);
	cairo_set_source_rgb(cr, background[0], background[1], background[2]);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);

	cairo_translate(cr, x0, y0);
	cairo_scale(cr, module, module);
	cairo_set_line_width(cr, 1.0);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	cairo_new_path(cr);
	/* Bit 0 of each byte is the module's colour (1 = dark). */
	for (int row = 0; row < width; row++) {
		const unsigned char *line = code->data + (gsize)row * width;

		for (int col = 0; col < width;) {
			int start;

			if (!(line[col] & 1)) {
				col++;
				continue;
			}
			start = col;
			while (col < width && (line[col] & 1))
				col++;
			cairo_move_to(cr, start, row + 0.5);
			cairo_line_to(cr, col, row + 0.5);
		}
	}
	cairo_set_source_rgb(cr, color[0], color[1], color[2]);
	cairo_stroke(cr);
	cairo_restore(cr);
	return TRUE;
}

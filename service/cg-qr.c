/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-qr.h"

#include <errno.h>
#include <math.h>
#include <qrencode.h>
#include <string.h>

#include "cg-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QRcode, QRcode_free)

/*
 * The image. A page's QR code is what varies most from page to page, and
 * it was most of a page's bytes and time as a path: cairo prints every
 * point with printf() and deflates it (about 1,300 numbers for certgen's
 * verification strings, version 6, 41 x 41 modules; 1,800 bytes a page).
 * As a 1-bit image mask in the code's colour (PDF /ImageMask, painted
 * without interpolation, so every module stays a sharp square) it is 41 x
 * 6 bytes: cairo's PDF surface writes an A1 mask of a solid source so.
 * Its pixels are exactly the modules, and the same text gives the same
 * bytes.
 */

struct _CgQr {
	int width; /* modules per side */
	/* The modules as a cairo A1 image, a bit per module (1 = dark). */
	int stride;
	guint8 *bits;
};

CgQr *
cg_qr_new(const char *text, GError **error)
{
	g_autoptr(QRcode) code = NULL;
	CgQr *qr;
	int width;

	g_return_val_if_fail(text != NULL, NULL);

	/* Version 0: the smallest that holds the text; case-sensitive. */
	code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (code == NULL) {
		int saved_errno = errno;

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Cannot encode a QR code of %zu bytes: %s", strlen(text),
			    g_strerror(saved_errno));
		return NULL;
	}
	width = code->width;

	qr = g_new0(CgQr, 1);
	qr->width = width;
	qr->stride = cairo_format_stride_for_width(CAIRO_FORMAT_A1, width);
	qr->bits = g_malloc0((gsize)qr->stride * width);
	for (int y = 0; y < width; y++) {
		for (int x = 0; x < width; x++) {
			/* bit 0 of each byte is the module's colour (1 = dark) */
			if (!(code->data[y * width + x] & 1))
				continue;
			/* A1 packs pixels into 32-bit words in the machine's order */
			qr->bits[y * qr->stride + x / 8] |=
			    G_BYTE_ORDER == G_LITTLE_ENDIAN ? 1u << (x % 8) : 0x80u >> (x % 8);
		}
	}
	return qr;
}

void
cg_qr_free(CgQr *qr)
{
	if (qr == NULL)
		return;
	g_free(qr->bits);
	g_free(qr);
}

int
cg_qr_get_width(const CgQr *qr)
{
	g_return_val_if_fail(qr != NULL, 0);

	return qr->width;
}

void
cg_qr_get_rows(const CgQr *qr, guint8 *rows)
{
	int row_bytes;

	g_return_if_fail(qr != NULL && rows != NULL);

	row_bytes = (qr->width + 7) / 8;
	memset(rows, 0, (gsize)row_bytes * qr->width);
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			guint8 byte = qr->bits[y * qr->stride + x / 8];
			guint bit =
			    G_BYTE_ORDER == G_LITTLE_ENDIAN ? 1u << (x % 8) : 0x80u >> (x % 8);

			if (byte & bit)
				rows[y * row_bytes + x / 8] |= (guint8)(0x80u >> (x % 8));
		}
	}
}

void
cg_qr_get_placement(const CgQr *qr, double x, double y, double size, guint quiet_zone,
		    double *module, double *x0, double *y0)
{
	int width;

	g_return_if_fail(qr != NULL);

	width = qr->width;
	/* The module size and origin are multiples of 1/256 pt, cairo's fixed
	 * point. */
	*module = floor(size / (width + 2.0 * quiet_zone) * 256) / 256;
	*x0 = floor((x + (size - *module * width) / 2) * 256) / 256;
	*y0 = floor((y + (size - *module * width) / 2) * 256) / 256;
}

void
cg_qr_draw_code(cairo_t *cr, const CgQr *qr, double x, double y, double size, guint quiet_zone,
		const double color[3], const double background[3])
{
	cairo_surface_t *image;
	cairo_pattern_t *mask;
	double module, x0, y0;
	int width;

	g_return_if_fail(cr != NULL);
	g_return_if_fail(qr != NULL);

	width = qr->width;
	cg_qr_get_placement(qr, x, y, size, quiet_zone, &module, &x0, &y0);

	cairo_save(cr);
	cairo_set_source_rgb(cr, background[0], background[1], background[2]);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);

	/* a surface that records the mask (cairo's PDF surface records each
	 * page) keeps a snapshot of the image, which copies the bits when the
	 * image is destroyed here */
	image = cairo_image_surface_create_for_data(qr->bits, CAIRO_FORMAT_A1, width, width,
						    qr->stride);
	mask = cairo_pattern_create_for_surface(image);
	cairo_pattern_set_filter(mask, CAIRO_FILTER_NEAREST);
	cairo_translate(cr, x0, y0);
	cairo_scale(cr, module, module);
	cairo_set_source_rgb(cr, color[0], color[1], color[2]);
	/* an error of the image reaches @cr through the mask */
	cairo_mask(cr, mask);
	cairo_pattern_destroy(mask);
	cairo_surface_destroy(image);
	cairo_restore(cr);
}

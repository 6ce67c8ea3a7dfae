/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/*
 * QR codes: @text encoded by libqrencode (error correction level M, the
 * smallest version that holds it; stretches of digits or upper-case
 * letters in numeric or alphanumeric mode where that is shorter, the rest
 * 8-bit, case kept) and drawn on a square of @background with a quiet zone
 * of @quiet_zone modules on each side. The square's top-left corner is
 * (@x, @y) and its side @size, quiet zone included; the code is centred in
 * it.
 *
 * The dark modules are a 1-bit image (one pixel a module) used as a mask
 * of @color and scaled without interpolation, so each module is a sharp
 * square; in a PDF, cairo writes it as an /ImageMask of 1 bit per module,
 * far fewer bytes than a path (see cg-qr.c).
 *
 * cg_qr_new() does the work that does not need cairo (encoding, the
 * bitmap) and may run in any thread; cg_qr_draw_code() draws the result.
 */

typedef struct _CgQr CgQr;

CgQr *cg_qr_new(const char *text, GError **error);
void cg_qr_free(CgQr *qr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgQr, cg_qr_free)

void cg_qr_draw_code(cairo_t *cr, const CgQr *qr, double x, double y, double size, guint quiet_zone,
		     const double color[3], const double background[3]);

/* For writers of their own (cg-pdf-page.c): the modules per side, and
 * the modules as rows of (width + 7) / 8 bytes, the first module of a row
 * in the high bit of its first byte, 1 = dark (a PDF image mask with
 * /Decode [1 0]); @rows holds width * ((width + 7) / 8) bytes. The same
 * placement as cg_qr_draw_code(): cg_qr_get_placement() gives the module
 * size and the code's top-left corner for a square at (@x, @y) of @size. */
int cg_qr_get_width(const CgQr *qr);
void cg_qr_get_rows(const CgQr *qr, guint8 *rows);
void cg_qr_get_placement(const CgQr *qr, double x, double y, double size, guint quiet_zone,
			 double *module, double *x0, double *y0);

G_END_DECLS

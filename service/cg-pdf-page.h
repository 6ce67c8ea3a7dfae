/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pango/pango.h>

#include "cg-pdf-font.h"
#include "cg-pdf-underlay.h"
#include "cg-qr.h"

G_BEGIN_DECLS

/*
 * A one-page PDF written by certgen itself, not by cairo: what a single
 * certificate is. The text is laid out by pango exactly as the cairo path
 * lays it out (the caller's layouts, already fitted), and each run is
 * shown with its glyphs' own positions: a TJ string of the subset's glyph
 * ids whose adjustments are the difference between pango's advances and
 * the font's, so kerning, letter spacing and justification come out where
 * pango put them; a glyph pango moves up or down is raised with Ts. The
 * QR code is the same 1-bit image mask cairo writes, the background the
 * template's underlay form. Fonts: cg-pdf-font.h.
 *
 * The page is collected first (cg_pdf_page_add_*(), which also decide
 * whether this writer can show a layout at all: a glyph missing from its
 * font, a font that cannot be embedded) and written at the end.
 */

typedef struct _CgPdfPage CgPdfPage;

CgPdfPage *cg_pdf_page_new(CgPdfFonts *fonts, double width, double height);
void cg_pdf_page_free(CgPdfPage *page);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPdfPage, cg_pdf_page_free)

/* Shows @layout (made at font size @size, see cg-text-fit.h) in @color,
 * its top-left corner at (@x, @y) in page points from the top-left
 * corner (taken to 1/256 pt, as cairo takes a current point), scaled by
 * @scale. The layout must not change before the page
 * is written. FALSE (the page is then unusable) if it cannot be shown. */
gboolean cg_pdf_page_add_text(CgPdfPage *page, PangoLayout *layout, double size, double scale,
			      double x, double y, const double color[3]);
/* The QR code @qr as cg_qr_draw_code() draws it, and, with @url, a link
 * to @url over its square (@url: printable ASCII). */
void cg_pdf_page_add_qr(CgPdfPage *page, const CgQr *qr, double x, double y, double size,
			guint quiet_zone, const double color[3], const double background[3],
			const char *url);

/* Appends the PDF to @out: @underlay (or nothing) under the page, and an
 * information dictionary with @title and @date ("D:YYYYMMDDHHmmSSZ", or
 * NULL), both printable ASCII. FALSE and @error (@out as it was) if a
 * font cannot be subset. */
gboolean cg_pdf_page_write(CgPdfPage *page, const CgPdfUnderlay *underlay, const char *title,
			   const char *date, GByteArray *out, GError **error);

G_END_DECLS

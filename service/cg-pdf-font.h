/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pango/pango.h>

#include "cg-pdf-writer.h"

G_BEGIN_DECLS

/*
 * Fonts for certgen's own PDF writer: each font face a page uses is
 * embedded as a TrueType subset made by HarfBuzz (hb-subset, hinting
 * dropped, no layout tables) and shown as a composite font (Type0,
 * CIDFontType2, Identity-H: a string is glyph ids of the subset) with a
 * ToUnicode CMap made from the text each glyph shows, so text can be
 * extracted and searched.
 *
 * Subsetting and deflating a font is most of what a one-page PDF costs,
 * so a CgPdfFonts (one per template and thread, like the layouts it goes
 * with) keeps, for each face it knows from the start, one subset made
 * once: its base glyphs (the template's static text and, for the faces of
 * the template's fields, a fixed set of characters with their GSUB
 * closure). A page whose glyphs of a face are all in that face's base
 * gets that subset cut down to the outlines it shows (cg-truetype.h, the
 * glyph ids unchanged), a few KB to deflate; otherwise, and for a face
 * met later (a fallback font for another script), the page gets a subset
 * of its own of the base and its glyphs. Either way what a page gets depends
 * only on the template and the page, never on what was rendered before,
 * so the same input gives the same bytes.
 *
 * A face the writer cannot embed as it is drawn (no TrueType outlines,
 * variations, a synthetic style) makes cg_pdf_fonts_get_face() return
 * NULL: the caller draws that page another way. Not thread-safe: one
 * thread uses a CgPdfFonts and the fonts of its own pango context.
 */

typedef struct _CgPdfFonts CgPdfFonts;
typedef struct _CgPdfFace CgPdfFace;
typedef struct _CgPdfFontSet CgPdfFontSet;

CgPdfFonts *cg_pdf_fonts_new(void);
void cg_pdf_fonts_free(CgPdfFonts *fonts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPdfFonts, cg_pdf_fonts_free)

/* The face of @font, or NULL if it cannot be embedded (see above). */
CgPdfFace *cg_pdf_fonts_get_face(CgPdfFonts *fonts, PangoFont *font);
/* Before cg_pdf_fonts_seal(): adds glyph @glyph, or the glyphs of the
 * fixed character set (CG_PDF_FONT_FIXED_SET in cg-pdf-font.c) with their
 * ligatures and other substitutions, to the base of @face. */
void cg_pdf_face_add_base_glyph(CgPdfFace *face, guint glyph);
void cg_pdf_face_add_fixed_set(CgPdfFace *face);
/* Makes the base subsets of the faces known so far; a face met later has
 * no base. FALSE and @error if HarfBuzz cannot subset one. */
gboolean cg_pdf_fonts_seal(CgPdfFonts *fonts, GError **error);

/* The fonts of one PDF. */
CgPdfFontSet *cg_pdf_font_set_new(CgPdfFonts *fonts);
void cg_pdf_font_set_free(CgPdfFontSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPdfFontSet, cg_pdf_font_set_free)

/* Registers glyph @glyph of @face, which shows @text (@length bytes of
 * UTF-8; 0: nothing of its own, as a second glyph of a cluster); returns
 * the face's index in the set, its resource name being "/F" + index. The
 * first text given for a glyph is the one it keeps. */
guint cg_pdf_font_set_use(CgPdfFontSet *set, CgPdfFace *face, guint glyph, const char *text,
			  gsize length);
/* After every use: the subset of each face (its base's, or one of its own).
 * FALSE and @error if HarfBuzz cannot make one. */
gboolean cg_pdf_font_set_resolve(CgPdfFontSet *set, GError **error);
/* After resolving: the glyph id in the subset of face @index for glyph
 * @glyph of the face, and the glyph's advance in thousandths of an em as
 * the PDF says it (/W). */
guint cg_pdf_font_set_subset_glyph(const CgPdfFontSet *set, guint index, guint glyph);
double cg_pdf_font_set_advance(const CgPdfFontSet *set, guint index, guint glyph);
/* Writes the fonts' objects with @writer and appends their resource
 * entries ("/F0 n 0 R ...") to @resources. */
void cg_pdf_font_set_write(const CgPdfFontSet *set, CgPdfWriter *writer, GByteArray *resources);

G_END_DECLS

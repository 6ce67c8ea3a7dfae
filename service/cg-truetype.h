/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Cutting a TrueType font down to some of its glyphs without renumbering
 * them: the font keeps every table and every glyph id, and the outlines
 * (glyf) of the glyphs not asked for, and not used as components by those
 * that are, become empty. A one-page PDF embeds its fonts so (cg-pdf-font.c):
 * HarfBuzz makes a font's subset once per template, its strings use that
 * subset's ids, and each page gets only the outlines it shows, a few KB
 * instead of the whole subset's.
 *
 * The font is read as untrusted data: every offset and length is checked,
 * and a font that does not hold together is refused.
 */

typedef struct _CgTrueType CgTrueType;

/* @font (a reference is kept) as a TrueType font with outlines (glyf,
 * loca, head, maxp), or NULL and @error. */
CgTrueType *cg_truetype_new(GBytes *font, GError **error);
void cg_truetype_free(CgTrueType *tt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgTrueType, cg_truetype_free)

guint cg_truetype_get_n_glyphs(const CgTrueType *tt);

/* Appends to @out the font with only the outlines of the @n glyphs
 * @glyphs (ids of the font; others are ignored), their components and
 * glyph 0 (.notdef). The same glyphs, in any order, give the same bytes. */
void cg_truetype_cut(const CgTrueType *tt, const guint *glyphs, gsize n, GByteArray *out);

/* Deflates the pieces cg_truetype_cut_deflated() joins (see cg-truetype.c):
 * once, before the first cut. */
gboolean cg_truetype_prepare_deflated(CgTrueType *tt, GError **error);
/* Appends to @out what cg_truetype_cut() makes of @glyphs as a zlib
 * stream, and its length before deflating to *@length. Not thread-safe
 * (one stream for the pieces deflated then). */
gboolean cg_truetype_cut_deflated(CgTrueType *tt, const guint *glyphs, gsize n, GByteArray *out,
				  gsize *length);

G_END_DECLS

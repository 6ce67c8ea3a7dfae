/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether some installed font has a glyph for @c (fontconfig: the union of
 * every font's character set, read once per process; thread-safe). The
 * renderer falls back across all installed fonts, so a character none of
 * them has would be drawn as a blank box. */
gboolean cg_glyphs_available(gunichar c);

/* The bidi embedding, override and isolate controls (U+202A–U+202E,
 * U+2066–U+2069): refused in data, they would reorder what is printed. */
gboolean cg_glyphs_is_bidi_control(gunichar c);

G_END_DECLS

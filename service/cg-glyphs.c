/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-glyphs.h"

#include <fontconfig/fontconfig.h>

#define CG_GLYPHS_CODE_POINTS 0x110000

/* One bit per code point: some installed font has it. Built from the union
 * of fontconfig's character sets, which is then dropped (its leaves are
 * found through offsets, not pointers, so a kept FcCharSet looks lost to
 * valgrind). 136 KiB, kept for the life of the process. */
static gpointer
build_coverage(gpointer unused)
{
	guint8 *bits = g_malloc0(CG_GLYPHS_CODE_POINTS / 8);
	/* a configuration of its own, destroyed below: fontconfig's default
	 * one would stay allocated for good */
	FcConfig *config = FcInitLoadConfigAndFonts();
	FcCharSet *all = FcCharSetCreate();
	FcPattern *pattern = FcPatternCreate();
	FcObjectSet *objects = FcObjectSetBuild(FC_CHARSET, NULL);
	FcFontSet *fonts = config != NULL ? FcFontList(config, pattern, objects) : NULL;
	FcChar32 map[FC_CHARSET_MAP_SIZE];
	FcChar32 next;

	for (int i = 0; fonts != NULL && i < fonts->nfont; i++) {
		FcCharSet *charset = NULL;

		if (FcPatternGetCharSet(fonts->fonts[i], FC_CHARSET, 0, &charset) == FcResultMatch)
			FcCharSetMerge(all, charset, NULL);
	}
	for (FcChar32 base = FcCharSetFirstPage(all, map, &next); base != FC_CHARSET_DONE;
	     base = FcCharSetNextPage(all, map, &next)) {
		for (guint w = 0; w < FC_CHARSET_MAP_SIZE; w++)
			for (guint b = 0; b < 32; b++)
				if ((map[w] & (1u << b)) != 0 &&
				    base + w * 32 + b < CG_GLYPHS_CODE_POINTS) {
					FcChar32 c = base + w * 32 + b;

					bits[c / 8] |= (guint8)(1u << (c % 8));
				}
	}
	if (fonts != NULL)
		FcFontSetDestroy(fonts);
	FcObjectSetDestroy(objects);
	FcPatternDestroy(pattern);
	FcCharSetDestroy(all);
	if (config != NULL)
		FcConfigDestroy(config);
	return bits;
}

gboolean
cg_glyphs_available(gunichar c)
{
	static GOnce once = G_ONCE_INIT;
	const guint8 *bits = g_once(&once, build_coverage, NULL);

	return c < CG_GLYPHS_CODE_POINTS && (bits[c / 8] & (1u << (c % 8))) != 0;
}

gboolean
cg_glyphs_is_bidi_control(gunichar c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

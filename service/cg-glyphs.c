/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-glyphs.h"

#include <fontconfig/fontconfig.h>

static gpointer
all_fonts_charset(gpointer unused)
{
	FcCharSet *all = FcCharSetCreate();
	FcPattern *pattern = FcPatternCreate();
	FcObjectSet *objects = FcObjectSetBuild(FC_CHARSET, NULL);
	FcFontSet *fonts = FcFontList(NULL, pattern, objects);

	for (int i = 0; fonts != NULL && i < fonts->nfont; i++) {
		FcCharSet *charset = NULL;

		if (FcPatternGetCharSet(fonts->fonts[i], FC_CHARSET, 0, &charset) == FcResultMatch)
			FcCharSetMerge(all, charset, NULL);
	}
	if (fonts != NULL)
		FcFontSetDestroy(fonts);
	FcObjectSetDestroy(objects);
	FcPatternDestroy(pattern);
	return all; /* kept for the life of the process */
}

gboolean
cg_glyphs_available(gunichar c)
{
	static GOnce once = G_ONCE_INIT;
	FcCharSet *all = g_once(&once, all_fonts_charset, NULL);

	return FcCharSetHasChar(all, c);
}

gboolean
cg_glyphs_is_bidi_control(gunichar c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

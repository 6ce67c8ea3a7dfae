/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TrueType cutter (cg-truetype.c) on any bytes. Not the outside
 * world's input (HarfBuzz's subsets of installed fonts), but bytes a
 * parser reads. Besides the sanitizers: whatever it accepts, cut down to
 * some of its glyphs, is accepted again with as many glyphs, cutting that
 * to the same glyphs gives the same bytes, and the deflated cut inflates
 * to the plain one. What it declines is NULL, never a crash. */
#include <stdint.h>
#include <zlib.h>

#include "cg-truetype.h"

#define FUZZ_MAX_BYTES (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GBytes) font = NULL;
	g_autoptr(CgTrueType) tt = NULL;
	g_autoptr(CgTrueType) again = NULL;
	g_autoptr(GByteArray) cut = g_byte_array_new();
	g_autoptr(GByteArray) recut = g_byte_array_new();
	g_autoptr(GBytes) cut_bytes = NULL;
	guint glyphs[16];
	guint n = 0;

	if (size > FUZZ_MAX_BYTES)
		return 0;
	font = g_bytes_new(data, size);
	tt = cg_truetype_new(font, NULL);
	if (tt == NULL)
		return 0;
	/* every third glyph, and one past the end (ignored) */
	for (guint g = 1; g <= cg_truetype_get_n_glyphs(tt) && n < G_N_ELEMENTS(glyphs); g += 3)
		glyphs[n++] = g;
	cg_truetype_cut(tt, glyphs, n, cut);
	cut_bytes = g_bytes_new(cut->data, cut->len);
	again = cg_truetype_new(cut_bytes, NULL);
	g_assert_nonnull(again);
	g_assert_cmpuint(cg_truetype_get_n_glyphs(again), ==, cg_truetype_get_n_glyphs(tt));
	cg_truetype_cut(again, glyphs, n, recut);
	g_assert_cmpmem(cut->data, cut->len, recut->data, recut->len);
	if (cg_truetype_prepare_deflated(tt, NULL)) {
		g_autoptr(GByteArray) deflated = g_byte_array_new();
		g_autofree guint8 *inflated = g_malloc(cut->len + 1);
		uLongf inflated_length = cut->len + 1;
		gsize length = 0;

		g_assert_true(cg_truetype_cut_deflated(tt, glyphs, n, deflated, &length));
		g_assert_cmpuint(length, ==, cut->len);
		g_assert_cmpint(
		    uncompress(inflated, &inflated_length, deflated->data, deflated->len), ==,
		    Z_OK);
		g_assert_cmpmem(inflated, inflated_length, cut->data, cut->len);
	}
	return 0;
}

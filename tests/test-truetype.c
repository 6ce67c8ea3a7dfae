/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cg-truetype.c on a real font: HarfBuzz's subset of Noto Serif as the
 * single-certificate writer keeps it (tests/fuzz/corpus/truetype). */
#include "config.h"

#include <string.h>
#include <zlib.h>

#include "cg-error.h"
#include "cg-test-util.h"
#include "cg-truetype.h"

static GBytes *
load_font(void)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fuzz", "corpus", "truetype",
						      "notoserif-base", NULL);
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize length = 0;

	g_file_get_contents(path, &data, &length, &error);
	g_assert_no_error(error);
	return g_bytes_new_take(data, length);
}

static guint32
be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* The outline length of @glyph in the font @font (long loca). */
static guint32
outline_length(const GByteArray *font, guint glyph)
{
	guint n = (guint)((font->data[4] << 8) | font->data[5]);

	for (guint i = 0; i < n; i++) {
		const guint8 *entry = font->data + 12 + 16 * i;

		if (memcmp(entry, "loca", 4) == 0) {
			const guint8 *loca = font->data + be32(entry + 8);

			return be32(loca + 4 * (glyph + 1)) - be32(loca + 4 * glyph);
		}
	}
	g_assert_not_reached();
	return 0;
}

/* Only the glyphs asked for (and what they are made of) keep their
 * outlines, ids unchanged; the deflated cut inflates to the plain one;
 * the same glyphs in another order give the same bytes. */
static void
test_truetype_cut(void)
{
	g_autoptr(GBytes) font = load_font();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTrueType) tt = cg_truetype_new(font, &error);
	g_autoptr(GByteArray) full = g_byte_array_new();
	g_autoptr(GByteArray) cut = g_byte_array_new();
	g_autoptr(GByteArray) swapped = g_byte_array_new();
	g_autoptr(GByteArray) deflated = g_byte_array_new();
	g_autofree guint8 *inflated = NULL;
	g_autofree guint *all = NULL;
	guint glyphs[3] = {0, 0, 100000};
	guint reversed[3];
	uLongf inflated_length;
	gsize length = 0;
	guint n, kept = 0, outlined = 0, found = 0;

	g_assert_no_error(error);
	n = cg_truetype_get_n_glyphs(tt);
	g_assert_cmpuint(n, >, 100);
	all = g_new(guint, n);
	for (guint g = 0; g < n; g++)
		all[g] = g;
	cg_truetype_cut(tt, all, n, full);
	/* two glyphs with outlines, far apart */
	for (guint g = n / 3; g < n && found < 2; g += n / 3) {
		while (g < n && outline_length(full, g) == 0)
			g++;
		if (g < n)
			glyphs[found++] = g;
	}
	g_assert_cmpuint(found, ==, 2);
	reversed[0] = glyphs[2];
	reversed[1] = glyphs[1];
	reversed[2] = glyphs[0];

	cg_truetype_cut(tt, glyphs, G_N_ELEMENTS(glyphs), cut);
	cg_truetype_cut(tt, reversed, G_N_ELEMENTS(reversed), swapped);
	g_assert_cmpmem(cut->data, cut->len, swapped->data, swapped->len);
	for (guint g = 0; g < n; g++) {
		guint32 here = outline_length(cut, g);

		g_assert_true(here == 0 || here == outline_length(full, g));
		kept += here > 0;
		outlined += outline_length(full, g) > 0;
	}
	g_assert_cmpuint(outline_length(cut, glyphs[0]), ==, outline_length(full, glyphs[0]));
	g_assert_cmpuint(outline_length(cut, glyphs[1]), ==, outline_length(full, glyphs[1]));
	g_assert_cmpuint(kept, >=, 2);
	g_assert_cmpuint(kept, <, outlined / 4);
	g_assert_cmpuint(cut->len, <, full->len / 2);

	g_assert_true(cg_truetype_prepare_deflated(tt, &error));
	g_assert_no_error(error);
	g_assert_true(
	    cg_truetype_cut_deflated(tt, glyphs, G_N_ELEMENTS(glyphs), deflated, &length));
	g_assert_cmpuint(length, ==, cut->len);
	inflated_length = cut->len;
	inflated = g_malloc(inflated_length);
	g_assert_cmpint(uncompress(inflated, &inflated_length, deflated->data, deflated->len), ==,
			Z_OK);
	g_assert_cmpmem(inflated, inflated_length, cut->data, cut->len);
	g_assert_cmpuint(deflated->len, <, cut->len);
}

/* A font cut short anywhere, or with a table moved past its end, is
 * refused with an error, never read outside. */
static void
test_truetype_broken(void)
{
	g_autoptr(GBytes) font = load_font();
	gsize length = 0;
	const guint8 *data = g_bytes_get_data(font, &length);
	g_autofree guint8 *moved = g_memdup2(data, length);
	g_autoptr(GBytes) moved_bytes = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTrueType) tt = NULL;

	/* short of its last table's padding, a font loses some table's end */
	for (gsize cut = 0; cut + 3 < length; cut += 61) {
		g_autoptr(GBytes) part = g_bytes_new(data, cut);
		g_autoptr(GError) part_error = NULL;
		g_autoptr(CgTrueType) part_tt = cg_truetype_new(part, &part_error);

		g_assert_null(part_tt);
		g_assert_error(part_error, CG_ERROR, CG_ERROR_FAILED);
	}

	/* the first table's offset past the end */
	moved[12 + 8] = 0x7f;
	moved_bytes = g_bytes_new(moved, length);
	tt = cg_truetype_new(moved_bytes, &error);
	g_assert_null(tt);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
}

static const CgTestCase cases[] = {
    {"/truetype/cut", test_truetype_cut},
    {"/truetype/broken", test_truetype_broken},
};

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	cg_test_add_cases(cases, G_N_ELEMENTS(cases), NULL);
	return g_test_run();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-pdf-font.h"

#include <hb-ot.h>
#include <hb-subset.h>
#include <hb.h>
#include <pango/pangofc-font.h>
#include <string.h>
#include <zlib.h>

#include "cg-error.h"
#include "cg-truetype.h"

/*
 * A subset is HarfBuzz's plan (its glyph map: old id -> new id) and the
 * deflated font program. The glyph ids a page's strings hold are the
 * subset's, so a string is valid for that subset only; a subset of its
 * own gets new ids for every glyph. A subset's name has the tag PDF asks
 * for (six capitals) made from its glyphs, so two different subsets of a
 * face in two PDFs do not look like the same font to a reader that
 * caches fonts by name.
 *
 * The fixed set is what names, courses and dates of Western European
 * languages use: ASCII, Latin-1 and typographic punctuation. Measured
 * with bench-render on the classic template, quiet machine (instructions
 * by callgrind, per certificate): the base subsets deflated whole into
 * every PDF, 3.1 M instructions and 65 KB (77 KB with Latin Extended-A
 * too); cut down to the page's outlines and deflated for each page, 5.7 M
 * (level 1) to 6.4 M (level 6) and 27 KB; cut down from outlines deflated
 * once (cg_truetype_cut_deflated()), 3.9 M and 31 KB, what is done; a
 * subset of its own for every page (HarfBuzz's plan is most of it),
 * 1.4-1.9 ms instead of 0.4-0.6 ms. A name outside the set costs the
 * latter. */

static const gunichar fixed_ranges[][2] = {
    {0x20, 0x7e},     {0xa0, 0xff},	{0x2013, 0x2014}, {0x2018, 0x201a},
    {0x201c, 0x201e}, {0x2022, 0x2022}, {0x2026, 0x2026}, {0x20ac, 0x20ac},
};

/* the GSUB features HarfBuzz applies to horizontal text by default */
static const hb_tag_t closure_features[] = {
    HB_TAG('c', 'c', 'm', 'p'), HB_TAG('l', 'o', 'c', 'l'),
    HB_TAG('r', 'l', 'i', 'g'), HB_TAG('c', 'a', 'l', 't'),
    HB_TAG('c', 'l', 'i', 'g'), HB_TAG('l', 'i', 'g', 'a'),
    HB_TAG('r', 'c', 'l', 't'), HB_TAG_NONE,
};

#define CG_PDF_TOUNICODE_MAX 64 /* UTF-16 units a glyph's text keeps */

typedef struct {
	gint ref_count;
	hb_subset_plan_t *plan;
	const hb_map_t *old_to_new; /* the plan's */
	GBytes *program;	    /* deflated; NULL for a base subset */
	gsize length1;		    /* the program's length before */
	CgTrueType *font;	    /* a base subset, cut down for each page */
	char *name;		    /* "ABCDEF+PostScriptName" */
} CgPdfSubset;

struct _CgPdfFace {
	hb_face_t *face; /* a reference */
	hb_font_t *font; /* at a scale of units per em, for advances */
	gboolean usable;
	unsigned int upem;
	char *ps_name;
	double ascent, descent, cap_height, italic_angle;
	int bbox[4];
	hb_set_t *base;
	CgPdfSubset *subset; /* the base's, once sealed; NULL when the base is empty */
};

struct _CgPdfFonts {
	GHashTable *by_font; /* PangoFont (a reference) -> CgPdfFace */
	GPtrArray *faces;    /* CgPdfFace */
	gboolean sealed;
};

static CgPdfSubset *
cg_pdf_subset_ref(CgPdfSubset *subset)
{
	g_atomic_int_inc(&subset->ref_count);
	return subset;
}

static void
cg_pdf_subset_unref(CgPdfSubset *subset)
{
	if (subset == NULL || !g_atomic_int_dec_and_test(&subset->ref_count))
		return;
	hb_subset_plan_destroy(subset->plan);
	cg_truetype_free(subset->font);
	g_clear_pointer(&subset->program, g_bytes_unref);
	g_free(subset->name);
	g_free(subset);
}

static void
cg_pdf_face_free(CgPdfFace *face)
{
	if (face == NULL)
		return;
	cg_pdf_subset_unref(face->subset);
	hb_set_destroy(face->base);
	hb_font_destroy(face->font);
	hb_face_destroy(face->face);
	g_free(face->ps_name);
	g_free(face);
}

CgPdfFonts *
cg_pdf_fonts_new(void)
{
	CgPdfFonts *fonts = g_new0(CgPdfFonts, 1);

	fonts->by_font = g_hash_table_new_full(NULL, NULL, g_object_unref, NULL);
	fonts->faces = g_ptr_array_new_with_free_func((GDestroyNotify)cg_pdf_face_free);
	return fonts;
}

void
cg_pdf_fonts_free(CgPdfFonts *fonts)
{
	if (fonts == NULL)
		return;
	g_hash_table_unref(fonts->by_font);
	g_ptr_array_unref(fonts->faces);
	g_free(fonts);
}

static int
cg_pdf_be16(const char *data, unsigned int length, unsigned int at)
{
	if (at + 2 > length)
		return 0;
	return (gint16)(((guint8)data[at] << 8) | (guint8)data[at + 1]);
}

/* Whether @font is drawn as its face's outlines alone: TrueType outlines,
 * no variations, no synthetic bold or slant. */
static gboolean
cg_pdf_font_is_plain(PangoFont *font, hb_font_t *hb_font)
{
	hb_face_t *face = hb_font_get_face(hb_font);
	hb_blob_t *glyf = hb_face_reference_table(face, HB_TAG('g', 'l', 'y', 'f'));
	gboolean has_glyf = hb_blob_get_length(glyf) > 0;
	FcPattern *pattern;
	FcBool embolden = FcFalse;
	FcMatrix *matrix = NULL;

	hb_blob_destroy(glyf);
	if (!has_glyf || hb_ot_var_has_data(face) || !PANGO_IS_FC_FONT(font))
		return FALSE;
	if (hb_font_get_synthetic_slant(hb_font) != 0)
		return FALSE;
	pattern = pango_fc_font_get_pattern(PANGO_FC_FONT(font));
	if (FcPatternGetBool(pattern, FC_EMBOLDEN, 0, &embolden) == FcResultMatch && embolden)
		return FALSE;
	if (FcPatternGetMatrix(pattern, FC_MATRIX, 0, &matrix) == FcResultMatch &&
	    (matrix->xx != 1 || matrix->xy != 0 || matrix->yx != 0 || matrix->yy != 1))
		return FALSE;
	return TRUE;
}

static CgPdfFace *
cg_pdf_face_new(hb_face_t *hb_face, gboolean usable)
{
	CgPdfFace *face = g_new0(CgPdfFace, 1);
	hb_blob_t *head;
	const char *data;
	unsigned int length = 0, name_length = 64;
	char name[64];
	hb_position_t value;

	face->face = hb_face_reference(hb_face);
	face->base = hb_set_create();
	face->usable = usable;
	if (!usable)
		return face;
	face->upem = MAX(hb_face_get_upem(hb_face), 1);
	face->font = hb_font_create(hb_face);
	hb_font_set_scale(face->font, (int)face->upem, (int)face->upem);

	/* the PostScript name, with what PDF names cannot hold dropped */
	if (hb_ot_name_get_utf8(hb_face, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID,
				&name_length, name) == 0)
		g_strlcpy(name, "Font", sizeof(name));
	face->ps_name = g_strdup(name);
	for (char *p = face->ps_name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			*p = '_';
	}

	if (hb_ot_metrics_get_position(face->font, HB_OT_METRICS_TAG_HORIZONTAL_ASCENDER, &value))
		face->ascent = value * 1000.0 / face->upem;
	if (hb_ot_metrics_get_position(face->font, HB_OT_METRICS_TAG_HORIZONTAL_DESCENDER, &value))
		face->descent = value * 1000.0 / face->upem;
	if (hb_ot_metrics_get_position(face->font, HB_OT_METRICS_TAG_CAP_HEIGHT, &value))
		face->cap_height = value * 1000.0 / face->upem;
	face->italic_angle = hb_style_get_value(face->font, HB_STYLE_TAG_SLANT_ANGLE);
	head = hb_face_reference_table(hb_face, HB_TAG('h', 'e', 'a', 'd'));
	data = hb_blob_get_data(head, &length);
	for (guint i = 0; i < 4; i++)
		face->bbox[i] = (int)(cg_pdf_be16(data, length, 36 + 2 * i) * 1000.0 / face->upem);
	hb_blob_destroy(head);
	return face;
}

CgPdfFace *
cg_pdf_fonts_get_face(CgPdfFonts *fonts, PangoFont *font)
{
	CgPdfFace *face;
	hb_font_t *hb_font;
	hb_face_t *hb_face;

	g_return_val_if_fail(fonts != NULL && PANGO_IS_FONT(font), NULL);

	face = g_hash_table_lookup(fonts->by_font, font);
	if (face == NULL) {
		hb_font = pango_font_get_hb_font(font);
		hb_face = hb_font != NULL ? hb_font_get_face(hb_font) : NULL;
		for (guint i = 0; hb_face != NULL && i < fonts->faces->len && face == NULL; i++) {
			CgPdfFace *known = g_ptr_array_index(fonts->faces, i);

			if (known->face == hb_face)
				face = known;
		}
		if (face == NULL) {
			face =
			    cg_pdf_face_new(hb_face != NULL ? hb_face : hb_face_get_empty(),
					    hb_face != NULL && cg_pdf_font_is_plain(font, hb_font));
			g_ptr_array_add(fonts->faces, face);
		} else if (face->usable && !cg_pdf_font_is_plain(font, hb_font)) {
			/* the same face drawn otherwise by this font */
			return NULL;
		}
		g_hash_table_insert(fonts->by_font, g_object_ref(font), face);
	}
	return face->usable ? face : NULL;
}

void
cg_pdf_face_add_base_glyph(CgPdfFace *face, guint glyph)
{
	g_return_if_fail(face != NULL && face->subset == NULL);

	hb_set_add(face->base, glyph);
}

void
cg_pdf_face_add_fixed_set(CgPdfFace *face)
{
	hb_set_t *lookups = hb_set_create();

	g_return_if_fail(face != NULL && face->subset == NULL);

	for (guint r = 0; r < G_N_ELEMENTS(fixed_ranges); r++) {
		for (gunichar c = fixed_ranges[r][0]; c <= fixed_ranges[r][1]; c++) {
			hb_codepoint_t glyph;

			if (hb_font_get_nominal_glyph(face->font, c, &glyph))
				hb_set_add(face->base, glyph);
		}
	}
	/* ligatures and the like of those glyphs */
	hb_ot_layout_collect_lookups(face->face, HB_OT_TAG_GSUB, NULL, NULL, closure_features,
				     lookups);
	hb_ot_layout_lookups_substitute_closure(face->face, lookups, face->base);
	hb_set_destroy(lookups);
}

/* The name of @subset of @face with @glyphs: a tag made of them. */
static void
cg_pdf_subset_name(CgPdfSubset *subset, const CgPdfFace *face, const hb_set_t *glyphs)
{
	guint hash = 5381;
	char tag[7];

	for (const char *p = face->ps_name; *p != '\0'; p++)
		hash = hash * 33 + (guchar)*p;
	for (hb_codepoint_t g = HB_SET_VALUE_INVALID; hb_set_next(glyphs, &g);)
		hash = hash * 33 + g;
	for (guint i = 0; i < 6; i++, hash /= 26)
		tag[i] = (char)('A' + hash % 26);
	tag[6] = '\0';
	subset->name = g_strdup_printf("%s+%s", tag, face->ps_name);
}

/* The name of a base subset of @face cut down to @glyphs (ids of the
 * subset, @n of them). */
static char *
cg_pdf_cut_name(const CgPdfFace *face, const guint *glyphs, guint n)
{
	guint hash = 5381;
	char tag[7];

	for (const char *p = face->ps_name; *p != '\0'; p++)
		hash = hash * 33 + (guchar)*p;
	for (guint i = 0; i < n; i++)
		hash = hash * 33 + glyphs[i];
	for (guint i = 0; i < 6; i++, hash /= 26)
		tag[i] = (char)('A' + hash % 26);
	tag[6] = '\0';
	return g_strdup_printf("%s+%s", tag, face->ps_name);
}

/* A subset of @face with @glyphs, deflated at @level, or with @level
 * below 0 kept as it is to be cut down for each page. */
static CgPdfSubset *
cg_pdf_subset_new(CgPdfFace *face, const hb_set_t *glyphs, int level, GError **error)
{
	hb_subset_input_t *input = hb_subset_input_create_or_fail();
	hb_set_t *drop;
	hb_face_t *result = NULL;
	hb_blob_t *blob = NULL;
	const char *data;
	unsigned int length = 0;
	g_autofree guint8 *deflated = NULL;
	uLongf deflated_length;
	CgPdfSubset *subset;

	if (input == NULL) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED, "Cannot subset a font");
		return NULL;
	}
	hb_set_union(hb_subset_input_glyph_set(input), glyphs);
	hb_subset_input_set_flags(input, HB_SUBSET_FLAGS_NO_HINTING);
	drop = hb_subset_input_set(input, HB_SUBSET_SETS_DROP_TABLE_TAG);
	hb_set_add(drop, HB_TAG('G', 'S', 'U', 'B'));
	hb_set_add(drop, HB_TAG('G', 'P', 'O', 'S'));
	hb_set_add(drop, HB_TAG('G', 'D', 'E', 'F'));
	hb_set_add(drop, HB_TAG('k', 'e', 'r', 'n'));

	subset = g_new0(CgPdfSubset, 1);
	subset->ref_count = 1;
	subset->plan = hb_subset_plan_create_or_fail(face->face, input);
	hb_subset_input_destroy(input);
	if (subset->plan != NULL)
		result = hb_subset_plan_execute_or_fail(subset->plan);
	if (result != NULL)
		blob = hb_face_reference_blob(result);
	data = blob != NULL ? hb_blob_get_data(blob, &length) : NULL;
	if (data == NULL || length == 0) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot subset font %s",
			    face->ps_name);
		hb_blob_destroy(blob);
		hb_face_destroy(result);
		cg_pdf_subset_unref(subset);
		return NULL;
	}
	subset->old_to_new = hb_subset_plan_old_to_new_glyph_mapping(subset->plan);
	if (level < 0) {
		g_autoptr(GBytes) bytes = g_bytes_new(data, length);

		subset->font = cg_truetype_new(bytes, error);
		hb_blob_destroy(blob);
		hb_face_destroy(result);
		if (subset->font != NULL && !cg_truetype_prepare_deflated(subset->font, error))
			g_clear_pointer(&subset->font, cg_truetype_free);
		if (subset->font == NULL) {
			cg_pdf_subset_unref(subset);
			return NULL;
		}
		cg_pdf_subset_name(subset, face, glyphs);
		return subset;
	}
	deflated_length = compressBound(length);
	deflated = g_malloc(deflated_length);
	if (compress2(deflated, &deflated_length, (const Bytef *)data, length, level) != Z_OK) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot compress font %s",
			    face->ps_name);
		hb_blob_destroy(blob);
		hb_face_destroy(result);
		cg_pdf_subset_unref(subset);
		return NULL;
	}
	subset->program = g_bytes_new(deflated, deflated_length);
	subset->length1 = length;
	hb_blob_destroy(blob);
	hb_face_destroy(result);

	cg_pdf_subset_name(subset, face, glyphs);
	return subset;
}

gboolean
cg_pdf_fonts_seal(CgPdfFonts *fonts, GError **error)
{
	g_return_val_if_fail(fonts != NULL && !fonts->sealed, FALSE);

	fonts->sealed = TRUE;
	for (guint i = 0; i < fonts->faces->len; i++) {
		CgPdfFace *face = g_ptr_array_index(fonts->faces, i);

		if (!face->usable || hb_set_is_empty(face->base))
			continue;
		face->subset = cg_pdf_subset_new(face, face->base, -1, error);
		if (face->subset == NULL)
			return FALSE;
	}
	return TRUE;
}

/* A face of one PDF: its glyphs and their texts. */
typedef struct {
	CgPdfFace *face;
	GHashTable *texts; /* glyph -> UTF-8 text (g_free), "" for none */
	CgPdfSubset *subset;
} CgPdfFaceUse;

struct _CgPdfFontSet {
	CgPdfFonts *fonts;
	GArray *uses; /* CgPdfFaceUse, in the order of first use */
};

static void
cg_pdf_face_use_clear(CgPdfFaceUse *use)
{
	g_clear_pointer(&use->texts, g_hash_table_unref);
	g_clear_pointer(&use->subset, cg_pdf_subset_unref);
}

CgPdfFontSet *
cg_pdf_font_set_new(CgPdfFonts *fonts)
{
	CgPdfFontSet *set = g_new0(CgPdfFontSet, 1);

	set->fonts = fonts;
	set->uses = g_array_new(FALSE, TRUE, sizeof(CgPdfFaceUse));
	g_array_set_clear_func(set->uses, (GDestroyNotify)cg_pdf_face_use_clear);
	return set;
}

void
cg_pdf_font_set_free(CgPdfFontSet *set)
{
	if (set == NULL)
		return;
	g_array_unref(set->uses);
	g_free(set);
}

guint
cg_pdf_font_set_use(CgPdfFontSet *set, CgPdfFace *face, guint glyph, const char *text, gsize length)
{
	CgPdfFaceUse *use = NULL;
	guint index;
	gpointer key = GUINT_TO_POINTER(glyph);
	char *known;

	for (index = 0; index < set->uses->len; index++) {
		use = &g_array_index(set->uses, CgPdfFaceUse, index);
		if (use->face == face)
			break;
	}
	if (index == set->uses->len) {
		CgPdfFaceUse fresh = {face, g_hash_table_new_full(NULL, NULL, NULL, g_free), NULL};

		g_array_append_val(set->uses, fresh);
		use = &g_array_index(set->uses, CgPdfFaceUse, index);
	}
	known = g_hash_table_lookup(use->texts, key);
	if (known == NULL || (known[0] == '\0' && length > 0))
		g_hash_table_insert(use->texts, key, g_strndup(text != NULL ? text : "", length));
	return index;
}

gboolean
cg_pdf_font_set_resolve(CgPdfFontSet *set, GError **error)
{
	for (guint i = 0; i < set->uses->len; i++) {
		CgPdfFaceUse *use = &g_array_index(set->uses, CgPdfFaceUse, i);
		CgPdfFace *face = use->face;
		GHashTableIter iter;
		gpointer key;
		gboolean inside = face->subset != NULL;
		hb_set_t *glyphs;

		g_hash_table_iter_init(&iter, use->texts);
		while (inside && g_hash_table_iter_next(&iter, &key, NULL))
			inside = hb_map_has(face->subset->old_to_new, GPOINTER_TO_UINT(key));
		if (inside) {
			use->subset = cg_pdf_subset_ref(face->subset);
			continue;
		}
		/* a subset of its own: the base and this PDF's glyphs */
		glyphs = hb_set_copy(face->base);
		g_hash_table_iter_init(&iter, use->texts);
		while (g_hash_table_iter_next(&iter, &key, NULL))
			hb_set_add(glyphs, GPOINTER_TO_UINT(key));
		use->subset = cg_pdf_subset_new(face, glyphs, Z_DEFAULT_COMPRESSION, error);
		hb_set_destroy(glyphs);
		if (use->subset == NULL)
			return FALSE;
	}
	return TRUE;
}

guint
cg_pdf_font_set_subset_glyph(const CgPdfFontSet *set, guint index, guint glyph)
{
	const CgPdfFaceUse *use = &g_array_index(set->uses, CgPdfFaceUse, index);

	return hb_map_get(use->subset->old_to_new, glyph);
}

double
cg_pdf_font_set_advance(const CgPdfFontSet *set, guint index, guint glyph)
{
	const CgPdfFace *face = g_array_index(set->uses, CgPdfFaceUse, index).face;

	/* thousandths, to the precision /W is written with */
	return (double)(gint64)(hb_font_get_glyph_h_advance(face->font, glyph) * 100000.0 /
				    face->upem +
				0.5) /
	       100;
}

typedef struct {
	guint subset_glyph;
	guint glyph;
	const char *text;
} CgPdfGlyphUse;

static int
cg_pdf_glyph_use_compare(gconstpointer a, gconstpointer b)
{
	guint x = ((const CgPdfGlyphUse *)a)->subset_glyph;
	guint y = ((const CgPdfGlyphUse *)b)->subset_glyph;

	return x < y ? -1 : x > y;
}

static void
cg_pdf_put_hex4(GByteArray *out, guint value)
{
	static const char hex[] = "0123456789ABCDEF";
	guint8 buf[4] = {(guint8)hex[(value >> 12) & 15], (guint8)hex[(value >> 8) & 15],
			 (guint8)hex[(value >> 4) & 15], (guint8)hex[value & 15]};

	g_byte_array_append(out, buf, 4);
}

/* The ToUnicode CMap of @glyphs (sorted). */
static void
cg_pdf_put_to_unicode(GByteArray *out, const GArray *glyphs)
{
	guint n = 0;

	cg_pdf_put(out, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
			"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
			"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
			"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	for (guint i = 0; i < glyphs->len; i++) {
		if (g_array_index(glyphs, CgPdfGlyphUse, i).text[0] != '\0')
			n++;
	}
	for (guint i = 0, done = 0; i < glyphs->len; i++) {
		const CgPdfGlyphUse *g = &g_array_index(glyphs, CgPdfGlyphUse, i);
		g_autofree gunichar2 *utf16 = NULL;
		glong units = 0;

		if (g->text[0] == '\0')
			continue;
		/* at most 100 entries a block */
		if (done % 100 == 0)
			cg_pdf_put_printf(out, "%u beginbfchar\n", MIN(n - done, 100));
		utf16 = g_utf8_to_utf16(g->text, -1, NULL, &units, NULL);
		cg_pdf_put(out, "<");
		cg_pdf_put_hex4(out, g->subset_glyph);
		cg_pdf_put(out, "> <");
		for (glong u = 0; utf16 != NULL && u < MIN(units, CG_PDF_TOUNICODE_MAX); u++)
			cg_pdf_put_hex4(out, utf16[u]);
		if (utf16 == NULL || units == 0)
			cg_pdf_put(out, "FFFD");
		cg_pdf_put(out, ">\n");
		done++;
		if (done % 100 == 0 || done == n)
			cg_pdf_put(out, "endbfchar\n");
	}
	cg_pdf_put(out, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

void
cg_pdf_font_set_write(const CgPdfFontSet *set, CgPdfWriter *writer, GByteArray *resources)
{
	GByteArray *out = writer->out;
	g_autoptr(GByteArray) cmap = g_byte_array_new();
	g_autoptr(GByteArray) cut = g_byte_array_new();
	g_autoptr(GByteArray) deflated = g_byte_array_new();
	g_autoptr(GArray) glyphs = g_array_new(FALSE, FALSE, sizeof(CgPdfGlyphUse));

	for (guint i = 0; i < set->uses->len; i++) {
		const CgPdfFaceUse *use = &g_array_index(set->uses, CgPdfFaceUse, i);
		const CgPdfFace *face = use->face;
		guint type0 = cg_pdf_writer_reserve(writer);
		guint cid_font = cg_pdf_writer_reserve(writer);
		guint descriptor = cg_pdf_writer_reserve(writer);
		guint program = cg_pdf_writer_reserve(writer);
		guint to_unicode = cg_pdf_writer_reserve(writer);
		GHashTableIter iter;
		gpointer key, value;
		g_autofree char *dict = NULL;
		g_autofree char *name = NULL;
		g_autofree guint *ids = NULL;
		gsize length;
		const guint8 *data;

		g_array_set_size(glyphs, 0);
		g_hash_table_iter_init(&iter, use->texts);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			CgPdfGlyphUse g = {
			    hb_map_get(use->subset->old_to_new, GPOINTER_TO_UINT(key)),
			    GPOINTER_TO_UINT(key), value};

			g_array_append_val(glyphs, g);
		}
		g_array_sort(glyphs, cg_pdf_glyph_use_compare);
		ids = g_new(guint, glyphs->len + 1);
		for (guint k = 0; k < glyphs->len; k++)
			ids[k] = g_array_index(glyphs, CgPdfGlyphUse, k).subset_glyph;
		name = use->subset->font != NULL ? cg_pdf_cut_name(face, ids, glyphs->len)
						 : g_strdup(use->subset->name);

		cg_pdf_put_printf(resources, " /F%u %u 0 R", i, type0);

		cg_pdf_writer_begin(writer, type0);
		cg_pdf_put_printf(out,
				  "<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding "
				  "/Identity-H /DescendantFonts [%u 0 R] /ToUnicode %u 0 R >>",
				  name, cid_font, to_unicode);
		cg_pdf_writer_end(writer);

		cg_pdf_writer_begin(writer, cid_font);
		cg_pdf_put_printf(out,
				  "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "
				  "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
				  "/Supplement 0 >> /FontDescriptor %u 0 R /CIDToGIDMap /Identity "
				  "/W [",
				  name, descriptor);
		for (guint k = 0; k < glyphs->len; k++) {
			const CgPdfGlyphUse *g = &g_array_index(glyphs, CgPdfGlyphUse, k);

			/* consecutive ids share a list */
			if (k == 0 || g[-1].subset_glyph + 1 != g->subset_glyph) {
				if (k > 0)
					cg_pdf_put(out, "]");
				cg_pdf_put(out, " ");
				cg_pdf_put_uint(out, g->subset_glyph);
				cg_pdf_put(out, " [");
			} else {
				cg_pdf_put(out, " ");
			}
			cg_pdf_put_real(out, cg_pdf_font_set_advance(set, i, g->glyph), 2);
		}
		cg_pdf_put(out, glyphs->len > 0 ? "] ] >>" : " ] >>");
		cg_pdf_writer_end(writer);

		cg_pdf_writer_begin(writer, descriptor);
		cg_pdf_put_printf(out,
				  "<< /Type /FontDescriptor /FontName /%s /Flags %u /FontBBox [",
				  name, face->italic_angle != 0 ? 4u | 64u : 4u);
		for (guint k = 0; k < 4; k++) {
			cg_pdf_put(out, k > 0 ? " " : "");
			cg_pdf_put_printf(out, "%d", face->bbox[k]);
		}
		cg_pdf_put(out, "] /ItalicAngle ");
		cg_pdf_put_real(out, face->italic_angle, 2);
		cg_pdf_put(out, " /Ascent ");
		cg_pdf_put_real(out, face->ascent, 0);
		cg_pdf_put(out, " /Descent ");
		cg_pdf_put_real(out, face->descent, 0);
		cg_pdf_put(out, " /CapHeight ");
		cg_pdf_put_real(out, face->cap_height, 0);
		cg_pdf_put_printf(out, " /StemV 80 /FontFile2 %u 0 R >>", program);
		cg_pdf_writer_end(writer);

		if (use->subset->font != NULL) {
			/* the outlines this PDF shows: a few KB to deflate */
			gsize plain_length = 0;

			g_byte_array_set_size(deflated, 0);
			if (cg_truetype_cut_deflated(use->subset->font, ids, glyphs->len, deflated,
						     &plain_length)) {
				dict = g_strdup_printf(
				    " /Filter /FlateDecode /Length1 %" G_GSIZE_FORMAT,
				    plain_length);
				cg_pdf_writer_stream(writer, program, dict, deflated->data,
						     deflated->len);
			} else {
				g_byte_array_set_size(cut, 0);
				cg_truetype_cut(use->subset->font, ids, glyphs->len, cut);
				dict = g_strdup_printf(" /Length1 %u", cut->len);
				cg_pdf_writer_stream(writer, program, dict, cut->data, cut->len);
			}
		} else {
			data = g_bytes_get_data(use->subset->program, &length);
			dict = g_strdup_printf(" /Filter /FlateDecode /Length1 %" G_GSIZE_FORMAT,
					       use->subset->length1);
			cg_pdf_writer_stream(writer, program, dict, data, length);
		}

		g_byte_array_set_size(cmap, 0);
		cg_pdf_put_to_unicode(cmap, glyphs);
		cg_pdf_writer_stream(writer, to_unicode, "", cmap->data, cmap->len);
	}
}

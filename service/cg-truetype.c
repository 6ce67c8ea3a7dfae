/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-truetype.h"

#include <string.h>
#include <zlib.h>

#include "cg-error.h"

/*
 * The font written has the tables of the one read, in the same order,
 * each 4-byte aligned with its checksum, except glyf and loca, made anew
 * (loca in the long format, so head's indexToLocFormat is set to 1), and
 * head's checkSumAdjustment, left 0 as readers do not check it. A
 * composite glyph's components are found by walking its records
 * (flags, glyph id, arguments and transform of the sizes the flags say);
 * a glyph whose records run past its end is refused when the font is
 * read, so cutting never reads outside the font.
 *
 * Deflated: what does not change from one cut to the next (each glyph's
 * outline, each table but the directory, loca and head) is deflated once,
 * each piece on its own into raw deflate blocks that end on a byte
 * boundary (a full flush) and are never the last; a cut is a zlib header,
 * those pieces in the file's order with the directory and loca deflated
 * then, an empty last block and the Adler-32 of the whole, combined from
 * the pieces' own (adler32_combine()). A piece deflated alone is a little
 * larger than in one stream with the rest, and nothing needs deflating
 * twice.
 */

#define CG_TT_MAX_TABLES 64
#define CG_TT_MAX_DEPTH 8 /* components of components */

typedef struct {
	guint32 tag, offset, length;
} CgTtTable;

/* Some bytes deflated on their own (see above). */
typedef struct {
	guint32 offset; /* in the pieces' bytes */
	guint32 length; /* deflated */
	guint32 plain;	/* bytes before, padding included */
	uLong adler;	/* of those */
} CgTtPiece;

struct _CgTrueType {
	GBytes *font;
	const guint8 *data;
	gsize length;
	CgTtTable tables[CG_TT_MAX_TABLES];
	guint n_tables;
	guint n_glyphs;
	guint32 *loca; /* n_glyphs + 1 offsets into glyf */
	const guint8 *glyf;
	guint head; /* index of each in @tables */
	guint glyf_index, loca_index;
	/* deflated once: glyph i is glyphs[i], table i tables_z[i] */
	GByteArray *pieces;
	CgTtPiece *glyphs_z;
	CgTtPiece tables_z[CG_TT_MAX_TABLES];
	/* raw deflate, reset for each piece: the pieces deflated once, and
	 * the small ones of each cut (a small window and hash table: a reset
	 * clears the hash table, 64 KB at zlib's default memLevel) */
	z_stream zs[2];
	gboolean zs_ready[2];
};

typedef enum {
	CG_TT_ONCE,
	CG_TT_EACH_CUT,
} CgTtStream;

static guint16
cg_tt_u16(const guint8 *p)
{
	return (guint16)((p[0] << 8) | p[1]);
}

static guint32
cg_tt_u32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static void
cg_tt_put16(GByteArray *out, guint16 v)
{
	guint8 b[2] = {(guint8)(v >> 8), (guint8)v};

	g_byte_array_append(out, b, 2);
}

static void
cg_tt_put32(GByteArray *out, guint32 v)
{
	guint8 b[4] = {(guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v};

	g_byte_array_append(out, b, 4);
}

static void
cg_tt_set32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

static gboolean
cg_tt_fail(GError **error, const char *what)
{
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Not a TrueType font as expected: %s", what);
	return FALSE;
}

static int
cg_tt_find(const CgTrueType *tt, const char *tag)
{
	guint32 t = cg_tt_u32((const guint8 *)tag);

	for (guint i = 0; i < tt->n_tables; i++) {
		if (tt->tables[i].tag == t)
			return (int)i;
	}
	return -1;
}

/* Calls @func for each component of glyph @glyph; FALSE if its records do
 * not fit in it. */
static gboolean
cg_tt_components(const CgTrueType *tt, guint glyph, void (*func)(guint, gpointer),
		 gpointer user_data)
{
	const guint8 *g = tt->glyf + tt->loca[glyph];
	gsize length = tt->loca[glyph + 1] - tt->loca[glyph];
	gsize p = 10;
	guint16 flags;

	if (length == 0)
		return TRUE;
	if (length < 10)
		return FALSE;
	if ((gint16)cg_tt_u16(g) >= 0)
		return TRUE; /* a simple glyph */
	do {
		gsize size = 4;

		if (p + 4 > length)
			return FALSE;
		flags = cg_tt_u16(g + p);
		if (func != NULL)
			func(cg_tt_u16(g + p + 2), user_data);
		size += (flags & 0x0001) ? 4 : 2; /* ARG_1_AND_2_ARE_WORDS */
		if (flags & 0x0008)		  /* WE_HAVE_A_SCALE */
			size += 2;
		else if (flags & 0x0040) /* WE_HAVE_AN_X_AND_Y_SCALE */
			size += 4;
		else if (flags & 0x0080) /* WE_HAVE_A_TWO_BY_TWO */
			size += 8;
		if (p + size > length)
			return FALSE;
		p += size;
	} while (flags & 0x0020); /* MORE_COMPONENTS */
	return TRUE;
}

CgTrueType *
cg_truetype_new(GBytes *font, GError **error)
{
	g_autoptr(CgTrueType) tt = g_new0(CgTrueType, 1);
	const guint8 *d;
	gsize length;
	int head, maxp, loca, glyf;
	gboolean long_loca;
	guint32 glyf_length;

	g_return_val_if_fail(font != NULL, NULL);

	tt->font = g_bytes_ref(font);
	d = tt->data = g_bytes_get_data(font, &length);
	tt->length = length;
	if (length < 12 || cg_tt_u32(d) != 0x00010000)
		return cg_tt_fail(error, "no TrueType header"), NULL;
	tt->n_tables = cg_tt_u16(d + 4);
	if (tt->n_tables > CG_TT_MAX_TABLES || 12 + 16 * (gsize)tt->n_tables > length)
		return cg_tt_fail(error, "a wrong number of tables"), NULL;
	for (guint i = 0; i < tt->n_tables; i++) {
		const guint8 *entry = d + 12 + 16 * i;
		CgTtTable *table = &tt->tables[i];

		table->tag = cg_tt_u32(entry);
		table->offset = cg_tt_u32(entry + 8);
		table->length = cg_tt_u32(entry + 12);
		if (table->offset > length || table->length > length - table->offset)
			return cg_tt_fail(error, "a table outside the font"), NULL;
	}
	head = cg_tt_find(tt, "head");
	maxp = cg_tt_find(tt, "maxp");
	loca = cg_tt_find(tt, "loca");
	glyf = cg_tt_find(tt, "glyf");
	if (head < 0 || maxp < 0 || loca < 0 || glyf < 0 || tt->tables[head].length < 54 ||
	    tt->tables[maxp].length < 6)
		return cg_tt_fail(error, "no outlines"), NULL;
	tt->head = (guint)head;
	tt->loca_index = (guint)loca;
	tt->glyf_index = (guint)glyf;
	tt->n_glyphs = cg_tt_u16(d + tt->tables[maxp].offset + 4);
	long_loca = cg_tt_u16(d + tt->tables[head].offset + 50) != 0;
	if (tt->n_glyphs == 0 ||
	    tt->tables[loca].length < (tt->n_glyphs + 1u) * (long_loca ? 4u : 2u))
		return cg_tt_fail(error, "a short glyph index"), NULL;
	tt->glyf = d + tt->tables[glyf].offset;
	glyf_length = tt->tables[glyf].length;
	tt->loca = g_new(guint32, tt->n_glyphs + 1);
	for (guint i = 0; i <= tt->n_glyphs; i++) {
		const guint8 *p = d + tt->tables[loca].offset + i * (long_loca ? 4 : 2);

		tt->loca[i] = long_loca ? cg_tt_u32(p) : 2u * cg_tt_u16(p);
		if (tt->loca[i] > glyf_length || (i > 0 && tt->loca[i] < tt->loca[i - 1]))
			return cg_tt_fail(error, "a glyph outside its table"), NULL;
	}
	for (guint i = 0; i < tt->n_glyphs; i++) {
		if (!cg_tt_components(tt, i, NULL, NULL))
			return cg_tt_fail(error, "a composite glyph that does not end"), NULL;
	}
	return g_steal_pointer(&tt);
}

void
cg_truetype_free(CgTrueType *tt)
{
	if (tt == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(tt->zs); i++) {
		if (tt->zs_ready[i])
			deflateEnd(&tt->zs[i]);
	}
	g_clear_pointer(&tt->pieces, g_byte_array_unref);
	g_free(tt->glyphs_z);
	g_free(tt->loca);
	g_bytes_unref(tt->font);
	g_free(tt);
}

guint
cg_truetype_get_n_glyphs(const CgTrueType *tt)
{
	g_return_val_if_fail(tt != NULL, 0);

	return tt->n_glyphs;
}

typedef struct {
	const CgTrueType *tt;
	guint8 *keep;
	guint depth;
} CgTtKeep;

static void
cg_tt_keep(guint glyph, gpointer user_data)
{
	CgTtKeep *k = user_data;

	if (glyph >= k->tt->n_glyphs || k->keep[glyph])
		return;
	k->keep[glyph] = 1;
	if (k->depth < CG_TT_MAX_DEPTH) {
		k->depth++;
		cg_tt_components(k->tt, glyph, cg_tt_keep, k);
		k->depth--;
	}
}

static guint32
cg_tt_checksum(const guint8 *p, gsize length)
{
	guint32 sum = 0;
	gsize i;

	for (i = 0; i + 4 <= length; i += 4)
		sum += cg_tt_u32(p + i);
	if (i < length) {
		guint8 last[4] = {0, 0, 0, 0};

		memcpy(last, p + i, length - i);
		sum += cg_tt_u32(last);
	}
	return sum;
}

void
cg_truetype_cut(const CgTrueType *tt, const guint *glyphs, gsize n, GByteArray *out)
{
	g_autofree guint8 *keep = NULL;
	g_autoptr(GByteArray) glyf = g_byte_array_sized_new(8192);
	g_autoptr(GByteArray) loca = g_byte_array_sized_new(4 * (tt->n_glyphs + 1));
	CgTtKeep k = {tt, NULL, 0};
	gsize start = out->len, dir;
	guint16 search = 1, selector = 0;

	g_return_if_fail(tt != NULL && (glyphs != NULL || n == 0) && out != NULL);

	keep = g_malloc0(tt->n_glyphs);
	k.keep = keep;
	cg_tt_keep(0, &k);
	for (gsize i = 0; i < n; i++)
		cg_tt_keep(glyphs[i], &k);
	for (guint i = 0; i < tt->n_glyphs; i++) {
		cg_tt_put32(loca, glyf->len);
		if (keep[i]) {
			g_byte_array_append(glyf, tt->glyf + tt->loca[i],
					    tt->loca[i + 1] - tt->loca[i]);
			while (glyf->len % 4 != 0)
				g_byte_array_append(glyf, (const guint8 *)"", 1);
		}
	}
	cg_tt_put32(loca, glyf->len);

	/* the table directory */
	while (search * 2u <= tt->n_tables) {
		search *= 2;
		selector++;
	}
	cg_tt_put32(out, 0x00010000);
	cg_tt_put16(out, (guint16)tt->n_tables);
	cg_tt_put16(out, (guint16)(search * 16));
	cg_tt_put16(out, selector);
	cg_tt_put16(out, (guint16)(tt->n_tables * 16 - search * 16));
	dir = out->len;
	g_byte_array_set_size(out, (guint)(out->len + 16 * tt->n_tables));
	for (guint i = 0; i < tt->n_tables; i++) {
		const CgTtTable *table = &tt->tables[i];
		const guint8 *data = tt->data + table->offset;
		gsize length = table->length, at = out->len;
		guint8 *entry;

		if (i == tt->glyf_index) {
			data = glyf->data;
			length = glyf->len;
		} else if (i == tt->loca_index) {
			data = loca->data;
			length = loca->len;
		}
		g_byte_array_append(out, data, (guint)length);
		if (i == tt->head) {
			cg_tt_set32(out->data + at + 8, 0); /* checkSumAdjustment */
			out->data[at + 50] = 0;		    /* indexToLocFormat: long */
			out->data[at + 51] = 1;
		}
		entry = out->data + dir + 16 * i;
		cg_tt_set32(entry, table->tag);
		cg_tt_set32(entry + 4, cg_tt_checksum(out->data + at, length));
		cg_tt_set32(entry + 8, (guint32)(at - start));
		cg_tt_set32(entry + 12, (guint32)length);
		while ((out->len - start) % 4 != 0)
			g_byte_array_append(out, (const guint8 *)"", 1);
	}
}

static const guint8 cg_tt_zero[4] = {0, 0, 0, 0};

/* Appends @length bytes of @data and the zeros that pad them to 4 to
 * @out, deflated on their own with stream @which; @piece says where and
 * what. */
static gboolean
cg_tt_deflate_piece(CgTrueType *tt, const guint8 *data, gsize length, CgTtStream which,
		    GByteArray *out, CgTtPiece *piece)
{
	gsize pad = (4 - length % 4) % 4;
	z_stream *zs = &tt->zs[which];
	guint8 *at;
	uInt room;

	if (!tt->zs_ready[which]) {
		memset(zs, 0, sizeof(*zs));
		if (which == CG_TT_ONCE ? deflateInit2(zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8,
						       Z_DEFAULT_STRATEGY) != Z_OK
					: deflateInit2(zs, Z_BEST_SPEED, Z_DEFLATED, -11, 1,
						       Z_DEFAULT_STRATEGY) != Z_OK)
			return FALSE;
		tt->zs_ready[which] = TRUE;
	} else if (deflateReset(zs) != Z_OK) {
		return FALSE;
	}
	piece->offset = out->len;
	piece->plain = (guint32)(length + pad);
	piece->adler = adler32(adler32(1, data, (uInt)length), cg_tt_zero, (uInt)pad);
	if (length + pad == 0) {
		piece->length = 0;
		return TRUE;
	}
	room = (uInt)deflateBound(zs, length + pad) + 16;
	g_byte_array_set_size(out, out->len + room);
	at = out->data + piece->offset;
	zs->next_out = at;
	zs->avail_out = room;
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)length;
	if (deflate(zs, pad > 0 ? Z_NO_FLUSH : Z_FULL_FLUSH) != Z_OK)
		return FALSE;
	if (pad > 0) {
		zs->next_in = (Bytef *)cg_tt_zero;
		zs->avail_in = (uInt)pad;
		if (deflate(zs, Z_FULL_FLUSH) != Z_OK)
			return FALSE;
	}
	if (zs->avail_in != 0 || zs->avail_out == 0)
		return FALSE;
	piece->length = room - zs->avail_out;
	g_byte_array_set_size(out, piece->offset + piece->length);
	return TRUE;
}

gboolean
cg_truetype_prepare_deflated(CgTrueType *tt, GError **error)
{
	g_return_val_if_fail(tt != NULL, FALSE);

	if (tt->pieces != NULL)
		return TRUE;
	tt->pieces = g_byte_array_sized_new((guint)(tt->length / 2));
	tt->glyphs_z = g_new0(CgTtPiece, tt->n_glyphs);
	for (guint i = 0; i < tt->n_glyphs; i++) {
		if (!cg_tt_deflate_piece(tt, tt->glyf + tt->loca[i], tt->loca[i + 1] - tt->loca[i],
					 CG_TT_ONCE, tt->pieces, &tt->glyphs_z[i]))
			return cg_tt_fail(error, "outlines that cannot be deflated");
	}
	for (guint i = 0; i < tt->n_tables; i++) {
		if (i == tt->glyf_index || i == tt->loca_index || i == tt->head)
			continue;
		if (!cg_tt_deflate_piece(tt, tt->data + tt->tables[i].offset, tt->tables[i].length,
					 CG_TT_ONCE, tt->pieces, &tt->tables_z[i]))
			return cg_tt_fail(error, "a table that cannot be deflated");
	}
	return TRUE;
}

/* Appends @piece (of @from) to @out, and its Adler-32 to *@adler. */
static void
cg_tt_put_piece(GByteArray *out, const GByteArray *from, const CgTtPiece *piece, uLong *adler)
{
	g_byte_array_append(out, from->data + piece->offset, piece->length);
	*adler = adler32_combine(*adler, piece->adler, (z_off_t)piece->plain);
}

gboolean
cg_truetype_cut_deflated(CgTrueType *tt, const guint *glyphs, gsize n, GByteArray *out,
			 gsize *length)
{
	g_autoptr(GByteArray) plain = g_byte_array_sized_new(8192);
	g_autoptr(GByteArray) now = g_byte_array_sized_new(2048);
	g_autofree guint8 *keep = NULL;
	CgTtKeep k = {tt, NULL, 0};
	guint32 offsets[CG_TT_MAX_TABLES];
	uLong adler = adler32(0, NULL, 0);
	CgTtPiece piece;
	gsize dir_length, head_at = 0, loca_at = 0;

	g_return_val_if_fail(tt != NULL && tt->pieces != NULL && out != NULL, FALSE);

	/* the plain font without its outlines' bytes: directory, head, loca */
	cg_truetype_cut(tt, glyphs, n, plain);
	keep = g_malloc0(tt->n_glyphs);
	k.keep = keep;
	cg_tt_keep(0, &k);
	for (gsize i = 0; i < n; i++)
		cg_tt_keep(glyphs[i], &k);
	dir_length = 12 + 16 * (gsize)tt->n_tables;
	for (guint i = 0; i < tt->n_tables; i++) {
		offsets[i] = cg_tt_u32(plain->data + 12 + 16 * i + 8);
		if (i == tt->head)
			head_at = offsets[i];
		if (i == tt->loca_index)
			loca_at = offsets[i];
	}

	g_byte_array_append(out, (const guint8 *)"\x78\x01", 2); /* zlib, no dictionary */
	if (!cg_tt_deflate_piece(tt, plain->data, dir_length, CG_TT_EACH_CUT, now, &piece))
		return FALSE;
	cg_tt_put_piece(out, now, &piece, &adler);
	for (guint i = 0; i < tt->n_tables; i++) {
		gsize at = i == tt->head ? head_at : loca_at;

		if (i == tt->glyf_index) {
			for (guint g = 0; g < tt->n_glyphs; g++) {
				if (keep[g])
					cg_tt_put_piece(out, tt->pieces, &tt->glyphs_z[g], &adler);
			}
		} else if (i == tt->head || i == tt->loca_index) {
			/* as cg_truetype_cut() wrote them: head's own length,
			 * loca's new one */
			gsize table_length = i == tt->head
						 ? tt->tables[i].length
						 : cg_tt_u32(plain->data + 12 + 16 * i + 12);

			g_byte_array_set_size(now, 0);
			if (!cg_tt_deflate_piece(tt, plain->data + at, table_length, CG_TT_EACH_CUT,
						 now, &piece))
				return FALSE;
			cg_tt_put_piece(out, now, &piece, &adler);
		} else {
			cg_tt_put_piece(out, tt->pieces, &tt->tables_z[i], &adler);
		}
	}
	/* the last block, empty; then the checksum */
	g_byte_array_append(out, (const guint8 *)"\x03\x00", 2);
	{
		guint8 b[4] = {(guint8)(adler >> 24), (guint8)(adler >> 16), (guint8)(adler >> 8),
			       (guint8)adler};

		g_byte_array_append(out, b, 4);
	}
	*length = plain->len;
	return TRUE;
}

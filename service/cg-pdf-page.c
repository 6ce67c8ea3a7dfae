/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-pdf-page.h"

#include <math.h>
#include <string.h>

/*
 * Coordinates: pango's layout units (1/PANGO_SCALE point at the layout's
 * size, y down) become page points (times scale / PANGO_SCALE, then y
 * flipped: PDF's y goes up). A run's text matrix is its font size
 * (size * scale) and its first glyph's origin on the baseline; the font
 * size operand is 1, so one text space unit is size * PANGO_SCALE layout
 * units, and a TJ adjustment of n moves the next glyph by -n/1000 of that.
 * Each adjustment is rounded as written and the position kept from the
 * rounded figure, so rounding never accumulates along a line.
 *
 * Objects: 1 catalog, 2 page tree, 3 page, 4 content, 5 information, then
 * the underlay's, the fonts', the QR images' and the link annotations'.
 */

#define CG_PDF_POINT_DECIMALS 3
#define CG_PDF_ORIGIN_DECIMALS 6 /* as cairo: a text origin to the pango unit */

typedef enum {
	CG_PDF_OP_TEXT,
	CG_PDF_OP_QR,
} CgPdfOpKind;

typedef struct {
	CgPdfOpKind kind;
	double color[3];
	/* text */
	PangoLayout *layout;
	double size, scale, x, y;
	GArray *faces; /* guint: the font set's index of each run, in order */
	/* QR code */
	guint8 *rows;
	int width;
	double module, x0, y0, qr_x, qr_y, qr_size;
	double background[3];
	char *url;
} CgPdfOp;

struct _CgPdfPage {
	CgPdfFonts *fonts;
	CgPdfFontSet *set;
	double width, height;
	GArray *ops; /* CgPdfOp */
	gboolean failed;
};

static void
cg_pdf_op_clear(CgPdfOp *op)
{
	g_clear_object(&op->layout);
	g_clear_pointer(&op->faces, g_array_unref);
	g_clear_pointer(&op->rows, g_free);
	g_clear_pointer(&op->url, g_free);
}

CgPdfPage *
cg_pdf_page_new(CgPdfFonts *fonts, double width, double height)
{
	CgPdfPage *page = g_new0(CgPdfPage, 1);

	g_return_val_if_fail(fonts != NULL, NULL);

	page->fonts = fonts;
	page->set = cg_pdf_font_set_new(fonts);
	page->width = width;
	page->height = height;
	page->ops = g_array_sized_new(FALSE, TRUE, sizeof(CgPdfOp), 16);
	g_array_set_clear_func(page->ops, (GDestroyNotify)cg_pdf_op_clear);
	return page;
}

void
cg_pdf_page_free(CgPdfPage *page)
{
	if (page == NULL)
		return;
	g_array_unref(page->ops);
	cg_pdf_font_set_free(page->set);
	g_free(page);
}

static gboolean
cg_pdf_glyph_is_shown(PangoGlyph glyph)
{
	return glyph != PANGO_GLYPH_EMPTY;
}

/* Registers the glyphs of @run with their texts; FALSE if one cannot be
 * shown. */
static gboolean
cg_pdf_page_use_run(CgPdfPage *page, PangoLayoutRun *run, const char *text, guint *index)
{
	CgPdfFace *face = cg_pdf_fonts_get_face(page->fonts, run->item->analysis.font);
	PangoGlyphString *glyphs = run->glyphs;
	PangoGlyphItemIter iter;
	gboolean more;
	gboolean any = FALSE;

	if (face == NULL)
		return FALSE;
	for (int i = 0; i < glyphs->num_glyphs; i++) {
		PangoGlyph glyph = glyphs->glyphs[i].glyph;

		/* a hex box of a missing glyph, or invalid input */
		if (cg_pdf_glyph_is_shown(glyph) && (glyph & PANGO_GLYPH_UNKNOWN_FLAG) != 0)
			return FALSE;
	}
	for (more = pango_glyph_item_iter_init_start(&iter, run, text); more;
	     more = pango_glyph_item_iter_next_cluster(&iter)) {
		gboolean ltr = iter.start_glyph <= iter.end_glyph;
		int first = iter.start_glyph;
		int last = ltr ? iter.end_glyph - 1 : iter.end_glyph + 1;

		/* the cluster's text goes with its first glyph in logical order */
		for (int g = first; ltr ? g <= last : g >= last; g += ltr ? 1 : -1) {
			PangoGlyph glyph = glyphs->glyphs[g].glyph;

			if (!cg_pdf_glyph_is_shown(glyph))
				continue;
			*index = cg_pdf_font_set_use(
			    page->set, face, glyph, text + iter.start_index,
			    g == first ? (gsize)(iter.end_index - iter.start_index) : 0);
			any = TRUE;
		}
	}
	if (!any)
		*index = G_MAXUINT;
	return TRUE;
}

gboolean
cg_pdf_page_add_text(CgPdfPage *page, PangoLayout *layout, double size, double scale, double x,
		     double y, const double color[3])
{
	CgPdfOp op = {CG_PDF_OP_TEXT};
	PangoLayoutIter *iter;
	const char *text;

	g_return_val_if_fail(page != NULL && PANGO_IS_LAYOUT(layout), FALSE);

	if (page->failed)
		return FALSE;
	op.layout = g_object_ref(layout);
	op.size = size;
	op.scale = scale;
	/* where cairo would draw it: a current point is kept in cairo's
	 * fixed point, 1/256 of a device unit (a point here), rounded to the
	 * nearest */
	op.x = nearbyint(x * 256) / 256;
	op.y = nearbyint(y * 256) / 256;
	memcpy(op.color, color, sizeof(op.color));
	op.faces = g_array_new(FALSE, FALSE, sizeof(guint));
	text = pango_layout_get_text(layout);
	iter = pango_layout_get_iter(layout);
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		guint index = G_MAXUINT;

		if (run == NULL)
			continue;
		if (!cg_pdf_page_use_run(page, run, text, &index)) {
			page->failed = TRUE;
			break;
		}
		g_array_append_val(op.faces, index);
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	g_array_append_val(page->ops, op);
	return !page->failed;
}

void
cg_pdf_page_add_qr(CgPdfPage *page, const CgQr *qr, double x, double y, double size,
		   guint quiet_zone, const double color[3], const double background[3],
		   const char *url)
{
	CgPdfOp op = {CG_PDF_OP_QR};

	g_return_if_fail(page != NULL && qr != NULL);

	op.width = cg_qr_get_width(qr);
	op.rows = g_malloc((gsize)op.width * ((op.width + 7) / 8));
	cg_qr_get_rows(qr, op.rows);
	cg_qr_get_placement(qr, x, y, size, quiet_zone, &op.module, &op.x0, &op.y0);
	op.qr_x = x;
	op.qr_y = y;
	op.qr_size = size;
	memcpy(op.color, color, sizeof(op.color));
	memcpy(op.background, background, sizeof(op.background));
	op.url = g_strdup(url);
	g_array_append_val(page->ops, op);
}

static void
cg_pdf_put_color(GByteArray *out, const double color[3], const char *op)
{
	for (guint i = 0; i < 3; i++) {
		cg_pdf_put_real(out, color[i], 4);
		cg_pdf_put(out, " ");
	}
	cg_pdf_put(out, op);
}

static void
cg_pdf_put_hex4(GByteArray *out, guint value)
{
	static const char hex[] = "0123456789ABCDEF";
	guint8 buf[4] = {(guint8)hex[(value >> 12) & 15], (guint8)hex[(value >> 8) & 15],
			 (guint8)hex[(value >> 4) & 15], (guint8)hex[value & 15]};

	g_byte_array_append(out, buf, 4);
}

/* A PDF string of printable ASCII @text. */
static void
cg_pdf_put_string(GByteArray *out, const char *text)
{
	cg_pdf_put(out, "(");
	for (const char *p = text; *p != '\0'; p++) {
		char c = g_ascii_isprint(*p) ? *p : '?';

		if (c == '(' || c == ')' || c == '\\')
			cg_pdf_put(out, "\\");
		g_byte_array_append(out, (const guint8 *)&c, 1);
	}
	cg_pdf_put(out, ")");
}

/* The text of @op into @content. */
static void
cg_pdf_page_put_text(const CgPdfPage *page, const CgPdfOp *op, GByteArray *content,
		     guint *current_font)
{
	PangoLayoutIter *iter = pango_layout_get_iter(op->layout);
	const double unit = op->size * PANGO_SCALE; /* layout units a text space unit */
	const double to_points = op->scale / PANGO_SCALE;
	guint run_index = 0;
	g_autoptr(GArray) origins = g_array_new(FALSE, FALSE, sizeof(double));

	cg_pdf_put(content, "BT\n");
	cg_pdf_put_color(content, op->color, "rg\n");
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		PangoGlyphString *glyphs;
		PangoRectangle logical;
		guint index;
		double pen, cur = 0, baseline;
		int rise = 0;
		gboolean started = FALSE, hex = FALSE, rtl;

		if (run == NULL)
			continue;
		index = g_array_index(op->faces, guint, run_index++);
		if (index == G_MAXUINT)
			continue;
		glyphs = run->glyphs;
		pango_layout_iter_get_run_extents(iter, NULL, &logical);
		baseline = pango_layout_iter_get_baseline(iter);
		pen = logical.x;
		if (index != *current_font) {
			cg_pdf_put(content, "/F");
			cg_pdf_put_uint(content, index);
			cg_pdf_put(content, " 1 Tf\n");
			*current_font = index;
		}
		/* each glyph's origin, in the glyphs' (visual) order */
		g_array_set_size(origins, (guint)glyphs->num_glyphs);
		for (int k = 0; k < glyphs->num_glyphs; k++) {
			g_array_index(origins, double, k) =
			    pen + glyphs->glyphs[k].geometry.x_offset;
			pen += glyphs->glyphs[k].geometry.width;
		}
		/* shown in logical order, a right-to-left run's glyphs each left
		 * of the one before, as cairo shows them: text is extracted in
		 * the order it is read, and adjustments are rounded the same */
		rtl = run->item->analysis.level % 2 == 1;
		for (int n = 0; n < glyphs->num_glyphs; n++) {
			int k = rtl ? glyphs->num_glyphs - 1 - n : n;
			const PangoGlyphInfo *info = &glyphs->glyphs[k];
			double target = g_array_index(origins, double, k);

			if (!cg_pdf_glyph_is_shown(info->glyph))
				continue;
			if (!started) {
				/* the run starts at its first glyph, or (cairo's
				 * way) a right-to-left one at its left end */
				cur = rtl ? g_array_index(origins, double, 0) : target;
				cg_pdf_put_real(content, op->size * op->scale, 4);
				cg_pdf_put(content, " 0 0 ");
				cg_pdf_put_real(content, op->size * op->scale, 4);
				cg_pdf_put(content, " ");
				cg_pdf_put_real(content, op->x + cur * to_points,
						CG_PDF_ORIGIN_DECIMALS);
				cg_pdf_put(content, " ");
				cg_pdf_put_real(content,
						page->height - (op->y + baseline * to_points),
						CG_PDF_ORIGIN_DECIMALS);
				cg_pdf_put(content, " Tm\n[");
				started = TRUE;
			}
			{
				double adjust = (cur - target) * 1000 / unit;
				gint64 rounded = (gint64)(adjust + (adjust < 0 ? -0.5 : 0.5));

				/* whole thousandths of an em, as cairo writes them;
				 * what is left over moves the next glyph */
				if (rounded != 0) {
					if (hex)
						cg_pdf_put(content, ">");
					hex = FALSE;
					cg_pdf_put_int(content, rounded);
					cur -= (double)rounded * unit / 1000;
				}
			}
			if (info->geometry.y_offset != rise) {
				/* a mark moved up or down: raised on its own */
				cg_pdf_put(content, hex ? ">]TJ\n" : "]TJ\n");
				hex = FALSE;
				rise = info->geometry.y_offset;
				cg_pdf_put_real(content, -rise / unit, 4);
				cg_pdf_put(content, " Ts\n[");
			}
			if (!hex)
				cg_pdf_put(content, "<");
			hex = TRUE;
			cg_pdf_put_hex4(
			    content, cg_pdf_font_set_subset_glyph(page->set, index, info->glyph));
			cur += cg_pdf_font_set_advance(page->set, index, info->glyph) * unit / 1000;
		}
		if (started)
			cg_pdf_put(content, hex ? ">]TJ\n" : "]TJ\n");
		if (rise != 0)
			cg_pdf_put(content, "0 Ts\n");
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	cg_pdf_put(content, "ET\n");
}

static void
cg_pdf_page_put_qr(const CgPdfPage *page, const CgPdfOp *op, guint image, GByteArray *content)
{
	double side = op->module * op->width;

	cg_pdf_put_color(content, op->background, "rg ");
	cg_pdf_put_real(content, op->qr_x, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(content, " ");
	cg_pdf_put_real(content, page->height - op->qr_y - op->qr_size, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(content, " ");
	cg_pdf_put_real(content, op->qr_size, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(content, " ");
	cg_pdf_put_real(content, op->qr_size, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(content, " re f\n");
	cg_pdf_put_color(content, op->color, "rg q ");
	/* the image's first row at the top: y0 is the code's top edge */
	cg_pdf_put_real(content, side, 6);
	cg_pdf_put(content, " 0 0 ");
	cg_pdf_put_real(content, side, 6);
	cg_pdf_put(content, " ");
	cg_pdf_put_real(content, op->x0, 6);
	cg_pdf_put(content, " ");
	cg_pdf_put_real(content, page->height - op->y0 - side, 6);
	cg_pdf_put_printf(content, " cm /Q%u Do Q\n", image);
}

gboolean
cg_pdf_page_write(CgPdfPage *page, const CgPdfUnderlay *underlay, const char *title,
		  const char *date, GByteArray *out, GError **error)
{
	CgPdfWriter writer;
	g_autoptr(GByteArray) content = g_byte_array_sized_new(4096);
	g_autoptr(GByteArray) fonts = g_byte_array_sized_new(128);
	g_autoptr(GByteArray) images = g_byte_array_sized_new(64);
	g_autoptr(GByteArray) annots = g_byte_array_sized_new(64);
	g_autofree gsize *offsets = NULL;
	guint catalog, pages, page_object, contents, info, form = 0, current_font = G_MAXUINT;
	guint n_images = 0;

	g_return_val_if_fail(page != NULL && !page->failed && title != NULL && out != NULL, FALSE);

	if (!cg_pdf_font_set_resolve(page->set, error))
		return FALSE;

	cg_pdf_writer_init(&writer, out);
	catalog = cg_pdf_writer_reserve(&writer);
	pages = cg_pdf_writer_reserve(&writer);
	page_object = cg_pdf_writer_reserve(&writer);
	contents = cg_pdf_writer_reserve(&writer);
	info = cg_pdf_writer_reserve(&writer);

	if (underlay != NULL) {
		guint n = cg_pdf_underlay_get_n_objects(underlay);

		form = writer.offsets->len;
		for (guint k = 0; k < n; k++)
			cg_pdf_writer_reserve(&writer);
		offsets = g_new(gsize, n);
		cg_pdf_underlay_write(underlay, form, out, offsets);
		for (guint k = 0; k < n; k++)
			cg_pdf_writer_mark(&writer, form + k, offsets[k]);
		cg_pdf_put(content, "/cgbg Do\n");
	}

	for (guint i = 0; i < page->ops->len; i++) {
		const CgPdfOp *op = &g_array_index(page->ops, CgPdfOp, i);
		g_autofree char *dict = NULL;
		guint number;

		if (op->kind == CG_PDF_OP_TEXT) {
			cg_pdf_page_put_text(page, op, content, &current_font);
			continue;
		}
		number = cg_pdf_writer_reserve(&writer);
		dict = g_strdup_printf(" /Type /XObject /Subtype /Image /Width %d /Height %d "
				       "/ImageMask true /BitsPerComponent 1 /Decode [1 0] "
				       "/Interpolate false",
				       op->width, op->width);
		cg_pdf_writer_stream(&writer, number, dict, op->rows,
				     (gsize)op->width * ((op->width + 7) / 8));
		cg_pdf_put_printf(images, " /Q%u %u 0 R", n_images, number);
		cg_pdf_page_put_qr(page, op, n_images++, content);
		if (op->url != NULL) {
			number = cg_pdf_writer_reserve(&writer);
			cg_pdf_writer_begin(&writer, number);
			cg_pdf_put(out, "<< /Type /Annot /Subtype /Link /Rect [");
			cg_pdf_put_real(out, op->qr_x, CG_PDF_POINT_DECIMALS);
			cg_pdf_put(out, " ");
			cg_pdf_put_real(out, page->height - op->qr_y - op->qr_size,
					CG_PDF_POINT_DECIMALS);
			cg_pdf_put(out, " ");
			cg_pdf_put_real(out, op->qr_x + op->qr_size, CG_PDF_POINT_DECIMALS);
			cg_pdf_put(out, " ");
			cg_pdf_put_real(out, page->height - op->qr_y, CG_PDF_POINT_DECIMALS);
			cg_pdf_put(out, "] /Border [0 0 0] /A << /S /URI /URI ");
			cg_pdf_put_string(out, op->url);
			cg_pdf_put(out, " >> >>");
			cg_pdf_writer_end(&writer);
			cg_pdf_put_printf(annots, " %u 0 R", number);
		}
	}
	cg_pdf_font_set_write(page->set, &writer, fonts);

	cg_pdf_writer_begin(&writer, page_object);
	cg_pdf_put_printf(out, "<< /Type /Page /Parent %u 0 R /MediaBox [0 0 ", pages);
	cg_pdf_put_real(out, page->width, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(out, " ");
	cg_pdf_put_real(out, page->height, CG_PDF_POINT_DECIMALS);
	cg_pdf_put(out, "] /Resources <<");
	if (fonts->len > 0) {
		cg_pdf_put(out, " /Font <<");
		g_byte_array_append(out, fonts->data, fonts->len);
		cg_pdf_put(out, " >>");
	}
	if (form != 0 || images->len > 0) {
		cg_pdf_put(out, " /XObject <<");
		if (form != 0)
			cg_pdf_put_printf(out, " /cgbg %u 0 R", form);
		g_byte_array_append(out, images->data, images->len);
		cg_pdf_put(out, " >>");
	}
	cg_pdf_put_printf(out, " >> /Contents %u 0 R", contents);
	if (annots->len > 0) {
		cg_pdf_put(out, " /Annots [");
		g_byte_array_append(out, annots->data, annots->len);
		cg_pdf_put(out, " ]");
	}
	cg_pdf_put(out, " >>");
	cg_pdf_writer_end(&writer);

	cg_pdf_writer_stream(&writer, contents, "", content->data, content->len);

	cg_pdf_writer_begin(&writer, pages);
	cg_pdf_put_printf(out, "<< /Type /Pages /Kids [%u 0 R] /Count 1 >>", page_object);
	cg_pdf_writer_end(&writer);
	cg_pdf_writer_begin(&writer, catalog);
	cg_pdf_put_printf(out, "<< /Type /Catalog /Pages %u 0 R >>", pages);
	cg_pdf_writer_end(&writer);
	cg_pdf_writer_begin(&writer, info);
	cg_pdf_put(out, "<< /Title ");
	cg_pdf_put_string(out, title);
	cg_pdf_put(out, " /Creator (certgen) /Producer (certgen)");
	if (date != NULL) {
		cg_pdf_put(out, " /CreationDate ");
		cg_pdf_put_string(out, date);
		cg_pdf_put(out, " /ModDate ");
		cg_pdf_put_string(out, date);
	}
	cg_pdf_put(out, " >>");
	cg_pdf_writer_end(&writer);

	cg_pdf_writer_finish(&writer, catalog, info);
	cg_pdf_writer_clear(&writer);
	return TRUE;
}

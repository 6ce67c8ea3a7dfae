/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Joining PDFs (cg-pdf-join.c): cairo's plain parts without qpdf
 * (cg-pdf-concat.c), others with it; pages in order, the title, the same
 * bytes for the same parts, parts the plain join declines, bad parts and
 * failed writes. */
#define _GNU_SOURCE /* memmem() */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <poppler.h>
#include <qpdf/qpdf-c.h>
#include <string.h>

#include "cg-error.h"
#include "cg-pdf-concat.h"
#include "cg-pdf-join.h"
#include "cg-render.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

/* A PDF of @n pages whose texts are "@label page N", each page with a link
 * to https://example.org/@label/N when @links (as certgend's QR codes: the
 * shape cairo 1.16 gives it lists an object per page it never writes). */
static GBytes *
make_part_full(const char *label, guint n, gboolean links)
{
	GByteArray *pdf = g_byte_array_new();
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(cg_render_write_to_byte_array, pdf, 200, 100);
	cairo_t *cr = cairo_create(surface);
	PangoLayout *layout = pango_cairo_create_layout(cr);

	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "part");
	for (guint i = 0; i < n; i++) {
		g_autofree char *text = g_strdup_printf("%s page %u", label, i + 1);

		cairo_move_to(cr, 10, 50);
		pango_layout_set_text(layout, text, -1);
		pango_cairo_show_layout(cr, layout);
		if (links) {
			g_autofree char *attributes = g_strdup_printf(
			    "rect=[150 10 40 40] uri='https://example.org/%s/%u'", label, i + 1);

			cairo_tag_begin(cr, CAIRO_TAG_LINK, attributes);
			cairo_tag_end(cr, CAIRO_TAG_LINK);
		}
		cairo_show_page(cr);
	}
	g_object_unref(layout);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(surface);
	return g_byte_array_free_to_bytes(pdf);
}

static GBytes *
make_part(const char *label, guint n)
{
	return make_part_full(label, n, FALSE);
}

static GBytes *
join(GBytes **parts, guint n, const char *title)
{
	g_autoptr(GError) error = NULL;
	GByteArray *out = g_byte_array_new();

	g_assert_true(cg_pdf_join(parts, n, title, cg_render_write_to_byte_array, out, &error));
	g_assert_no_error(error);
	return g_byte_array_free_to_bytes(out);
}

static gboolean
contains(GBytes *bytes, const char *text)
{
	/* memmem: streams hold NUL bytes */
	return memmem(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), text, strlen(text)) !=
	       NULL;
}

/* @joined has the pages of alpha (2), beta (3), gamma (1) in order, and
 * @title; qpdf reads it without a warning. */
static void
assert_joined(GBytes *joined, const char *title)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PopplerDocument) doc = poppler_document_new_from_bytes(joined, NULL, &error);
	const char *expected[] = {"alpha page 1", "alpha page 2", "beta page 1",
				  "beta page 2",  "beta page 3",  "gamma page 1"};
	g_autofree char *doc_title = NULL;
	qpdf_data qpdf = qpdf_init();
	gsize length;
	const char *bytes = g_bytes_get_data(joined, &length);

	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 6);
	for (int i = 0; i < 6; i++) {
		g_autoptr(PopplerPage) page = poppler_document_get_page(doc, i);
		g_autofree char *text = poppler_page_get_text(page);

		g_assert_nonnull(strstr(text, expected[i]));
	}
	doc_title = poppler_document_get_title(doc);
	g_assert_cmpstr(doc_title, ==, title);
	qpdf_silence_errors(qpdf);
	qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
	g_assert_cmpint(qpdf_read_memory(qpdf, "joined", bytes, length, NULL), ==, QPDF_SUCCESS);
	g_assert_cmpint(qpdf_get_num_pages(qpdf), ==, 6);
	/* every object and stream of the file read, the cross-reference
	 * table's offsets and the object streams' too */
	g_assert_cmpint(qpdf_check_pdf(qpdf), ==, QPDF_SUCCESS);
	g_assert_false(qpdf_more_warnings(qpdf));
	qpdf_cleanup(&qpdf);
}

/* The plain join's (cg-pdf-concat.h) bytes of @parts, @flags. */
static GBytes *
concat(GBytes **parts, guint n, const char *title, CgPdfConcatFlags flags)
{
	GByteArray *out = cg_pdf_concat(parts, n, title, flags);

	g_assert_nonnull(out);
	return g_byte_array_free_to_bytes(out);
}

static void
test_join_pages_in_order(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 2);
	g_autoptr(GBytes) b = make_part("beta", 3);
	g_autoptr(GBytes) c = make_part("gamma", 1);
	GBytes *parts[] = {a, b, c};
	g_autoptr(GBytes) joined = join(parts, 3, "Certificates A–B");
	g_autoptr(GBytes) again = join(parts, 3, "Certificates A–B");

	g_autoptr(GBytes) compact = concat(parts, 3, "Certificates A–B",
					   CG_PDF_CONCAT_OBJECT_STREAMS | CG_PDF_CONCAT_SHARE);
	g_autoptr(GBytes) plain = concat(parts, 3, "Certificates A–B", CG_PDF_CONCAT_NONE);

	assert_joined(joined, "Certificates A–B");
	/* cairo's parts: the plain join with object streams, a
	 * cross-reference stream and shared objects, and the same bytes for
	 * the same parts */
	g_assert_true(g_bytes_equal(joined, compact));
	g_assert_true(contains(joined, "/Type /ObjStm"));
	g_assert_true(contains(joined, "/Type /XRef"));
	g_assert_false(contains(joined, "\nxref\n"));
	g_assert_true(g_bytes_equal(joined, again));
	/* without them: a plain table, the same document, more bytes */
	assert_joined(plain, "Certificates A–B");
	g_assert_false(contains(plain, "/ObjStm"));
	g_assert_true(contains(plain, "\nxref\n0 "));
	g_assert_cmpuint(g_bytes_get_size(joined), <, g_bytes_get_size(plain));
	{
		/* what it wrote with object streams, it does not read again
		 * (qpdf joins it) */
		GBytes *again_parts[] = {joined, plain};
		g_autoptr(GBytes) rejoined = NULL;

		g_assert_null(cg_pdf_concat(again_parts, 2, NULL, CG_PDF_CONCAT_NONE));
		rejoined = join(again_parts, 2, NULL);
		g_assert_true(contains(rejoined, "/ObjStm"));
	}
}

/* @doc's page @index links to @uri, and only there. */
static void
assert_link(PopplerDocument *doc, int index, const char *uri)
{
	g_autoptr(PopplerPage) page = poppler_document_get_page(doc, index);
	GList *links = poppler_page_get_link_mapping(page);
	PopplerLinkMapping *link;

	g_assert_cmpuint(g_list_length(links), ==, 1);
	link = links->data;
	g_assert_cmpint(link->action->type, ==, POPPLER_ACTION_URI);
	g_assert_cmpstr(link->action->uri.uri, ==, uri);
	poppler_page_free_link_mapping(links);
}

/* Parts with links (cairo's never-written objects, a dangling reference
 * to one of them): the plain join, every page's own link. */
static void
test_join_links(void)
{
	g_autoptr(GBytes) a = make_part_full("alpha", 2, TRUE);
	g_autoptr(GBytes) b = make_part_full("beta", 3, TRUE);
	g_autoptr(GBytes) c = make_part_full("gamma", 1, TRUE);
	GBytes *parts[] = {a, b, c};
	g_autoptr(GBytes) joined = join(parts, 3, "Certificates A–B");
	g_autoptr(GError) error = NULL;
	const char *uris[] = {"alpha/1", "alpha/2", "beta/1", "beta/2", "beta/3", "gamma/1"};

	g_autoptr(GBytes) plain = concat(parts, 3, "Certificates A–B", CG_PDF_CONCAT_NONE);
	GBytes *both[] = {joined, plain};

	for (guint k = 0; k < G_N_ELEMENTS(both); k++) {
		g_autoptr(PopplerDocument) doc = NULL;

		assert_joined(both[k], "Certificates A–B");
		doc = poppler_document_new_from_bytes(both[k], NULL, &error);
		g_assert_no_error(error);
		for (int i = 0; i < 6; i++) {
			g_autofree char *uri = g_strconcat("https://example.org/", uris[i], NULL);

			assert_link(doc, i, uri);
		}
	}
}

/* How often @text is in @bytes. */
static guint
count(GBytes *bytes, const char *text)
{
	gsize length, n = strlen(text);
	const char *p = g_bytes_get_data(bytes, &length), *end = p + length;
	guint found = 0;

	while ((p = memmem(p, (gsize)(end - p), text, n)) != NULL) {
		found++;
		p += n;
	}
	return found;
}

/* A part joined with itself: its fonts, forms and content written once,
 * but every page and every annotation twice, each page its own link. */
static void
test_join_shares(void)
{
	g_autoptr(GBytes) a = make_part_full("alpha", 2, TRUE);
	GBytes *parts[] = {a, a};
	g_autoptr(GBytes) joined = join(parts, 2, NULL);
	g_autoptr(GBytes) unshared = concat(parts, 2, NULL, CG_PDF_CONCAT_OBJECT_STREAMS);
	g_autoptr(GBytes) plain = concat(parts, 2, NULL, CG_PDF_CONCAT_SHARE);
	g_autoptr(GBytes) plain_unshared = concat(parts, 2, NULL, CG_PDF_CONCAT_NONE);
	g_autoptr(GBytes) alone = concat(parts, 1, NULL, CG_PDF_CONCAT_NONE);
	g_autoptr(GBytes) compact =
	    concat(parts, 2, NULL, CG_PDF_CONCAT_OBJECT_STREAMS | CG_PDF_CONCAT_SHARE);
	GBytes *both[] = {joined, plain};

	g_assert_true(g_bytes_equal(joined, compact));
	g_assert_cmpuint(g_bytes_get_size(joined), <, g_bytes_get_size(unshared));
	g_assert_cmpuint(g_bytes_get_size(plain), <, g_bytes_get_size(plain_unshared));
	for (guint k = 0; k < G_N_ELEMENTS(both); k++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(PopplerDocument) doc =
		    poppler_document_new_from_bytes(both[k], NULL, &error);
		qpdf_data qpdf = qpdf_init();
		gsize length;
		const char *bytes = g_bytes_get_data(both[k], &length);

		g_assert_no_error(error);
		g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 4);
		for (int i = 0; i < 4; i++) {
			g_autoptr(PopplerPage) page = poppler_document_get_page(doc, i);
			g_autofree char *text = poppler_page_get_text(page);
			g_autofree char *expected = g_strdup_printf("alpha page %d", i % 2 + 1);
			g_autofree char *uri =
			    g_strdup_printf("https://example.org/alpha/%d", i % 2 + 1);

			g_assert_nonnull(strstr(text, expected));
			assert_link(doc, i, uri);
		}
		qpdf_silence_errors(qpdf);
		qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
		g_assert_cmpint(qpdf_read_memory(qpdf, "joined", bytes, length, NULL), ==,
				QPDF_SUCCESS);
		g_assert_cmpint(qpdf_get_num_pages(qpdf), ==, 4);
		g_assert_cmpint(qpdf_check_pdf(qpdf), ==, QPDF_SUCCESS);
		g_assert_false(qpdf_more_warnings(qpdf));
		qpdf_cleanup(&qpdf);
	}
	/* without object streams the objects can be counted: the font once,
	 * as in the part alone; pages and links twice */
	g_assert_cmpuint(count(plain, "/FontDescriptor"), ==, count(alone, "/FontDescriptor"));
	g_assert_cmpuint(count(plain_unshared, "/FontDescriptor"), ==,
			 2 * count(alone, "/FontDescriptor"));
	g_assert_cmpuint(count(plain, "/Type /Page "), ==, 4);
	g_assert_cmpuint(count(plain, "/Subtype /Link"), ==, 4);
	g_assert_cmpuint(count(alone, "/Subtype /Link"), ==, 2);
}

/* A PDF of the plain shape made of @objects (numbered from 1; 1 the
 * catalog), its table and trailer computed. */
static GBytes *
make_pdf(const char *const *objects, guint n)
{
	GString *pdf = g_string_new("%PDF-1.5\n");
	g_autofree gsize *offsets = g_new0(gsize, n + 1);
	gsize xref;

	for (guint i = 0; i < n; i++) {
		offsets[i + 1] = pdf->len;
		g_string_append_printf(pdf, "%u 0 obj\n%s\nendobj\n", i + 1, objects[i]);
	}
	xref = pdf->len;
	g_string_append_printf(pdf, "xref\n0 %u\n0000000000 65535 f \n", n + 1);
	for (guint i = 1; i <= n; i++)
		g_string_append_printf(pdf, "%010zu 00000 n \n", offsets[i]);
	g_string_append_printf(
	    pdf, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", n + 1, xref);
	return g_string_free_to_bytes(pdf);
}

/* Objects that refer to each other (4 and 5) are kept, each part its own;
 * an object that refers to nothing changing (6, 7) is shared; what refers
 * to a shared object refers to the one kept. */
static void
test_share_cycle(void)
{
	const char *const objects[] = {
	    "<< /Type /Catalog /Pages 2 0 R >>",
	    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Resources << /X 4 0 R /Y 6 0 R "
	    ">> >>",
	    "<< /A 5 0 R >>",
	    "<< /B 4 0 R /Q 4 0 R >>",
	    "<< /C 7 0 R >>",
	    "[ /D ]",
	};
	g_autoptr(GBytes) a = make_pdf(objects, G_N_ELEMENTS(objects));
	GBytes *parts[] = {a, a, a};
	g_autoptr(GBytes) plain = concat(parts, 3, NULL, CG_PDF_CONCAT_SHARE);
	g_autoptr(GBytes) compact =
	    concat(parts, 3, NULL, CG_PDF_CONCAT_SHARE | CG_PDF_CONCAT_OBJECT_STREAMS);
	GBytes *alone[] = {plain};
	g_autoptr(GBytes) again = concat(alone, 1, NULL, CG_PDF_CONCAT_NONE);
	GBytes *outputs[] = {plain, compact};

	g_assert_cmpuint(count(plain, "/A "), ==, 3);
	g_assert_cmpuint(count(plain, "/B "), ==, 3);
	g_assert_cmpuint(count(plain, "/C "), ==, 1);
	g_assert_cmpuint(count(plain, "/D "), ==, 1);
	g_assert_cmpuint(count(plain, "/Type /Page "), ==, 3);
	/* every page refers to the one /C: 3 pages, 4 objects, 2 for each
	 * cycle, and the head (catalog, page tree, information) */
	g_assert_cmpuint(count(plain, " 0 obj\n"), ==, 3 + 3 * 3 + 2);
	g_assert_cmpuint(count(plain, "/Y 7 0 R"), ==, 3);
	for (guint k = 0; k < G_N_ELEMENTS(outputs); k++) {
		qpdf_data qpdf = qpdf_init();
		gsize length;
		const char *bytes = g_bytes_get_data(outputs[k], &length);

		qpdf_silence_errors(qpdf);
		qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
		g_assert_cmpint(qpdf_read_memory(qpdf, "joined", bytes, length, NULL), ==,
				QPDF_SUCCESS);
		g_assert_cmpint(qpdf_get_num_pages(qpdf), ==, 3);
		g_assert_cmpint(qpdf_check_pdf(qpdf), ==, QPDF_SUCCESS);
		g_assert_false(qpdf_more_warnings(qpdf));
		qpdf_cleanup(&qpdf);
	}
	g_assert_nonnull(again);
}

static GBytes *with_object_streams(GBytes *part);

/* A part of 3 pages with links cut into pages: each its own page, text,
 * link and title, and what qpdf reads without a warning; the same bytes
 * again; a page count other than the titles', or a part of another shape,
 * declined. */
static void
test_split(void)
{
	g_autoptr(GBytes) part = make_part_full("beta", 3, TRUE);
	const char *titles[] = {"Certificate B1", "Certificate B2", "Certificate B3"};
	g_autoptr(GPtrArray) pages = cg_pdf_split(part, titles, 3);
	g_autoptr(GPtrArray) again = cg_pdf_split(part, titles, 3);
	g_autoptr(GBytes) qpdf_part = with_object_streams(part);
	gsize length;
	const char *bytes = g_bytes_get_data(part, &length);
	g_autoptr(GBytes) half = g_bytes_new(bytes, length / 2);

	g_assert_nonnull(pages);
	g_assert_cmpuint(pages->len, ==, 3);
	for (guint i = 0; i < 3; i++) {
		GBytes *page = pages->pdata[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(PopplerDocument) doc =
		    poppler_document_new_from_bytes(page, NULL, &error);
		g_autoptr(PopplerPage) first = NULL;
		g_autofree char *text = NULL;
		g_autofree char *expected = g_strdup_printf("beta page %u", i + 1);
		g_autofree char *uri = g_strdup_printf("https://example.org/beta/%u", i + 1);
		g_autofree char *title = NULL;
		qpdf_data qpdf = qpdf_init();
		const char *page_bytes;
		gsize page_length;

		g_assert_no_error(error);
		g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 1);
		first = poppler_document_get_page(doc, 0);
		text = poppler_page_get_text(first);
		g_assert_nonnull(strstr(text, expected));
		for (guint other = 0; other < 3; other++) {
			g_autofree char *other_text = g_strdup_printf("beta page %u", other + 1);

			if (other != i)
				g_assert_null(strstr(text, other_text));
		}
		assert_link(doc, 0, uri);
		title = poppler_document_get_title(doc);
		g_assert_cmpstr(title, ==, titles[i]);
		g_assert_true(g_bytes_equal(page, again->pdata[i]));
		page_bytes = g_bytes_get_data(page, &page_length);
		qpdf_silence_errors(qpdf);
		qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
		g_assert_cmpint(qpdf_read_memory(qpdf, "page", page_bytes, page_length, NULL), ==,
				QPDF_SUCCESS);
		g_assert_cmpint(qpdf_get_num_pages(qpdf), ==, 1);
		g_assert_false(qpdf_more_warnings(qpdf));
		qpdf_cleanup(&qpdf);
	}
	/* the pages are smaller than the part: each holds its own page only */
	g_assert_cmpuint(g_bytes_get_size(pages->pdata[0]), <, length);
	g_assert_null(cg_pdf_split(part, titles, 2));
	g_assert_null(cg_pdf_split(qpdf_part, titles, 3));
	g_assert_null(cg_pdf_split(half, titles, 3));
}

/* @part rewritten by qpdf with object streams and an xref stream: a valid
 * PDF the plain join does not take. */
static GBytes *
with_object_streams(GBytes *part)
{
	qpdf_data qpdf = qpdf_init();
	gsize length;
	const char *bytes = g_bytes_get_data(part, &length);
	GBytes *out;

	qpdf_silence_errors(qpdf);
	/* warnings are fine (cairo's never-written objects) */
	qpdf_set_suppress_warnings(qpdf, QPDF_TRUE);
	g_assert_cmpint(qpdf_read_memory(qpdf, "part", bytes, length, NULL) & QPDF_ERRORS, ==, 0);
	g_assert_cmpint(qpdf_init_write_memory(qpdf) & QPDF_ERRORS, ==, 0);
	qpdf_set_object_stream_mode(qpdf, qpdf_o_generate);
	g_assert_cmpint(qpdf_write(qpdf) & QPDF_ERRORS, ==, 0);
	out = g_bytes_new(qpdf_get_buffer(qpdf), qpdf_get_buffer_length(qpdf));
	qpdf_cleanup(&qpdf);
	return out;
}

static void
test_join_with_qpdf(void)
{
	g_autoptr(GBytes) cairo_a = make_part("alpha", 2);
	g_autoptr(GBytes) a = with_object_streams(cairo_a);
	g_autoptr(GBytes) b = make_part("beta", 3);
	g_autoptr(GBytes) c = make_part("gamma", 1);
	GBytes *parts[] = {a, b, c};
	g_autoptr(GBytes) joined = NULL;
	g_autoptr(GBytes) again = NULL;

	g_assert_null(cg_pdf_concat(parts, 3, "t", CG_PDF_CONCAT_NONE));
	joined = join(parts, 3, "Certificates A–B");
	again = join(parts, 3, "Certificates A–B");
	assert_joined(joined, "Certificates A–B");
	g_assert_true(contains(joined, "/ObjStm"));
	g_assert_true(g_bytes_equal(joined, again));
}

/* @part with @from (its first occurrence) replaced by @to, of the same
 * length: the cross-reference offsets stay right. */
static GBytes *
edited(GBytes *part, const char *from, const char *to)
{
	gsize length;
	const char *bytes = g_bytes_get_data(part, &length);
	char *copy = g_memdup2(bytes, length);
	char *at = memmem(copy, length, from, strlen(from));

	g_assert_cmpuint(strlen(from), ==, strlen(to));
	g_assert_nonnull(at);
	memcpy(at, to, strlen(to));
	return g_bytes_new_take(copy, length);
}

/* What the plain join does not take: NULL, not a wrong PDF. */
static void
test_concat_declines(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 2);
	g_autoptr(GBytes) b = make_part("beta", 1);
	gsize length;
	const char *bytes = g_bytes_get_data(a, &length);
	g_autoptr(GBytes) half = g_bytes_new(bytes, length / 2);
	g_autoptr(GBytes) shifted = NULL;
	GBytes *bad[] = {
	    half,
	    /* a stream whose /Length does not end at endstream */
	    edited(a, "endstream", "xndstream"),
	    /* a catalog with a key it does not know */
	    edited(a, "/Type /Catalog", "/Xype /Catalog"),
	    /* a reference of another generation */
	    edited(a, "/Parent 1 0 R", "/Parent 1 1 R"),
	    /* a reference to an object the part does not have */
	    edited(a, "/Parent 1 0 R", "/Parent 0 0 R"),
	    /* a page tree with an inherited attribute */
	    edited(a, "/Type /Pages", "/Rotate 0   "),
	    /* an xref stream */
	    with_object_streams(a),
	};
	GByteArray *shifted_bytes = g_byte_array_new();

	/* one byte more before the objects: every offset is off */
	g_byte_array_append(shifted_bytes, (const guint8 *)bytes, 9);
	g_byte_array_append(shifted_bytes, (const guint8 *)"\n", 1);
	g_byte_array_append(shifted_bytes, (const guint8 *)bytes + 9, (guint)length - 9);
	shifted = g_byte_array_free_to_bytes(shifted_bytes);

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		GBytes *first[] = {bad[i], b};
		GBytes *second[] = {b, bad[i]};

		g_assert_null(cg_pdf_concat(first, 2, "t", CG_PDF_CONCAT_NONE));
		g_assert_null(cg_pdf_concat(second, 2, "t", CG_PDF_CONCAT_NONE));
	}
	{
		GBytes *parts[] = {b, shifted};

		g_assert_null(cg_pdf_concat(parts, 2, NULL, CG_PDF_CONCAT_NONE));
	}
	for (guint i = 1; i < G_N_ELEMENTS(bad); i++)
		g_bytes_unref(bad[i]);
	{
		/* and what it takes, it joins */
		GBytes *parts[] = {a, b};
		g_autoptr(GByteArray) out = cg_pdf_concat(parts, 2, NULL, CG_PDF_CONCAT_NONE);

		g_assert_nonnull(out);
	}
}

static void
test_join_one_part(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 2);
	GBytes *parts[] = {a};
	g_autoptr(GBytes) joined = join(parts, 1, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(PopplerDocument) doc = poppler_document_new_from_bytes(joined, NULL, &error);
	g_autofree char *title = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 2);
	title = poppler_document_get_title(doc);
	g_assert_cmpstr(title, ==, "part");
}

static void
test_join_bad_part(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 1);
	g_autoptr(GBytes) bad = g_bytes_new_static("%PDF-1.5\nnot really\n", 20);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	GBytes *cases[][2] = {{a, bad}, {empty, a}};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GByteArray) out = g_byte_array_new();

		g_assert_false(
		    cg_pdf_join(cases[i], 2, "t", cg_render_write_to_byte_array, out, &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "Could not join the PDFs"));
		g_assert_cmpuint(out->len, ==, 0); /* nothing written */
	}
}

static cairo_status_t
write_fails(void *closure, const unsigned char *data, unsigned int length)
{
	(void)data;
	(void)length;
	(*(guint *)closure)++;
	return CAIRO_STATUS_WRITE_ERROR;
}

static void
test_join_write_fails(void)
{
	g_autoptr(GBytes) a = make_part("alpha", 1);
	g_autoptr(GBytes) b = make_part("beta", 1);
	GBytes *parts[] = {a, b};
	g_autoptr(GError) error = NULL;
	guint calls = 0;

	g_assert_false(cg_pdf_join(parts, 2, NULL, write_fails, &calls, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_cmpuint(calls, ==, 1);
}

static const CgTestCase cases[] = {
    {"/pdf-join/pages-in-order", test_join_pages_in_order, NULL},
    {"/pdf-join/links", test_join_links, NULL},
    {"/pdf-join/shares", test_join_shares, NULL},
    {"/pdf-join/share-cycle", test_share_cycle, NULL},
    {"/pdf-join/with-qpdf", test_join_with_qpdf, NULL},
    {"/pdf-join/concat-declines", test_concat_declines, NULL},
    {"/pdf-join/split", test_split, NULL},
    {"/pdf-join/one-part", test_join_one_part, NULL},
    {"/pdf-join/bad-part", test_join_bad_part, NULL},
    {"/pdf-join/write-fails", test_join_write_fails, NULL},
};

CG_TEST_MAIN(cases)

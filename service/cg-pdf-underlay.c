/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-pdf-underlay.h"

#include <stdlib.h>
#include <string.h>

#include "cg-error.h"

/*
 * Both PDFs are read the way cairo writes them, which is all this needs:
 * a header, numbered objects, one classic cross-reference table listing
 * them ("xref", one subsection from object 0) and a trailer dictionary.
 * Objects are found through the table, never by scanning stream data; a
 * dictionary is read with a small tokenizer that knows strings, comments,
 * names and nesting, enough to find a key of the top level and the
 * references ("N 0 R") in it. What does not look so is refused, and the
 * caller draws the background itself.
 *
 * The underlay is kept as objects with local numbers: 0 is the stream
 * "/cgbg Do" put before the page's own content, 1 the form XObject (the
 * background page's content stream as it was written, with the page's
 * resources and its media box as the form's bounding box), 2 and on the
 * objects those resources reach (the background's own forms, fonts,
 * images), in the order they were found. Applied to a PDF of n objects,
 * local number k becomes n + k and the PDF gets a new table; the page's
 * content stays a stream of its own after the underlay's, so what cairo
 * wrote for the page (its coordinate flip first) runs in the initial
 * graphics state, which the form's "Do" restores.
 */

typedef struct {
	guint number;
	gsize offset; /* of "N 0 obj" */
	gsize end;    /* the next object's offset, or the table's */
} CgPdfObject;

typedef struct {
	const guint8 *data;
	gsize length;
	gsize header_end; /* the first object's offset */
	gsize xref;	  /* of "xref" */
	gsize trailer;	  /* the trailer dictionary's "<<" */
	gsize trailer_end;
	guint size;	 /* the table's entries: objects 0 .. size - 1 */
	GArray *objects; /* CgPdfObject in the order of the file */
	guint *index;	 /* number -> index in @objects + 1; 0: no object */
} CgPdfFile;

static void
cg_pdf_file_clear(CgPdfFile *file)
{
	g_clear_pointer(&file->objects, g_array_unref);
	g_clear_pointer(&file->index, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgPdfFile, cg_pdf_file_clear)

/* A reference in the text of an underlay object, to its local number. */
typedef struct {
	gsize offset; /* of the number in @text */
	gsize length; /* of the number */
	guint target; /* local number */
} CgPdfSite;

typedef struct {
	GByteArray *text; /* after "N 0 obj", through "endobj\n" */
	GArray *sites;	  /* CgPdfSite, in order */
} CgPdfPiece;

struct _CgPdfUnderlay {
	gint ref_count;
	GArray *pieces; /* CgPdfPiece by local number */
};

static void
cg_pdf_piece_clear(CgPdfPiece *piece)
{
	g_clear_pointer(&piece->text, g_byte_array_unref);
	g_clear_pointer(&piece->sites, g_array_unref);
}

static gboolean
cg_pdf_fail(GError **error, const char *what)
{
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Not a one-page PDF as cairo writes it: %s",
		    what);
	return FALSE;
}

static gboolean
cg_pdf_is_space(guint8 c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

static gboolean
cg_pdf_is_delimiter(guint8 c)
{
	return cg_pdf_is_space(c) || strchr("()<>[]{}/%", c) != NULL;
}

/* Past white space and comments. */
static gsize
cg_pdf_skip_space(const guint8 *d, gsize p, gsize end)
{
	while (p < end) {
		if (d[p] == '%') {
			while (p < end && d[p] != '\n' && d[p] != '\r')
				p++;
		} else if (cg_pdf_is_space(d[p])) {
			p++;
		} else {
			break;
		}
	}
	return p;
}

/* Past the literal string that starts at @p, or @end. */
static gsize
cg_pdf_skip_string(const guint8 *d, gsize p, gsize end)
{
	guint depth = 0;

	for (; p < end; p++) {
		if (d[p] == '\\')
			p++;
		else if (d[p] == '(')
			depth++;
		else if (d[p] == ')' && --depth == 0)
			return p + 1;
	}
	return end;
}

/* Past the unsigned integer at @p into @value, or 0 if there is none. */
static gsize
cg_pdf_read_uint(const guint8 *d, gsize p, gsize end, guint64 *value)
{
	guint64 v = 0;
	gsize start = p;

	while (p < end && g_ascii_isdigit(d[p]) && p - start < 18)
		v = v * 10 + (d[p++] - '0');
	if (p == start || (p < end && !cg_pdf_is_delimiter(d[p])))
		return 0;
	*value = v;
	return p;
}

/* Past the reference "N 0 R" at @p (after white space) into @number, or 0. */
static gsize
cg_pdf_read_ref(const guint8 *d, gsize p, gsize end, guint *number)
{
	guint64 n = 0, gen = 1;

	p = cg_pdf_skip_space(d, p, end);
	if ((p = cg_pdf_read_uint(d, p, end, &n)) == 0 || n > G_MAXUINT)
		return 0;
	p = cg_pdf_skip_space(d, p, end);
	if ((p = cg_pdf_read_uint(d, p, end, &gen)) == 0 || gen != 0)
		return 0;
	p = cg_pdf_skip_space(d, p, end);
	if (p >= end || d[p] != 'R' || (p + 1 < end && !cg_pdf_is_delimiter(d[p + 1])))
		return 0;
	*number = (guint)n;
	return p + 1;
}

/* The tokens of [@p, @end): calls @func at every name of nesting depth
 * @depth (1: the keys of the dictionary that starts at @p) and at every
 * reference; returns past the end of the first object (a dictionary's
 * ">>"), or 0 if it does not end before @end. */
typedef gboolean (*CgPdfTokenFunc)(const guint8 *d, gsize start, gsize end, gboolean is_ref,
				   guint number, gpointer user_data);

static gsize
cg_pdf_walk(const guint8 *d, gsize p, gsize end, guint key_depth, CgPdfTokenFunc func,
	    gpointer user_data)
{
	guint depth = 0;

	while (p < end) {
		guint8 c = d[p];
		gsize next;
		guint number;

		if (c == '%' || cg_pdf_is_space(c)) {
			p = cg_pdf_skip_space(d, p, end);
		} else if (c == '(') {
			p = cg_pdf_skip_string(d, p, end);
		} else if (c == '<' && p + 1 < end && d[p + 1] == '<') {
			depth++;
			p += 2;
		} else if (c == '>' && p + 1 < end && d[p + 1] == '>') {
			p += 2;
			if (depth == 0 || --depth == 0)
				return p;
		} else if (c == '<') {
			while (p < end && d[p] != '>')
				p++;
			p++;
		} else if (c == '[') {
			depth++;
			p++;
		} else if (c == ']') {
			p++;
			if (depth == 0 || --depth == 0)
				return p;
		} else if (c == '/') {
			next = p + 1;
			while (next < end && !cg_pdf_is_delimiter(d[next]))
				next++;
			if (depth == key_depth && func != NULL &&
			    !func(d, p, next, FALSE, 0, user_data))
				return next;
			p = next;
		} else if (g_ascii_isdigit(c) &&
			   (next = cg_pdf_read_ref(d, p, end, &number)) != 0) {
			if (func != NULL && !func(d, p, next, TRUE, number, user_data))
				return next;
			p = next;
		} else {
			/* any other token; a stray delimiter is one byte */
			if (cg_pdf_is_delimiter(c))
				p++;
			while (p < end && !cg_pdf_is_delimiter(d[p]))
				p++;
			if (depth == 0)
				return p;
		}
	}
	return 0;
}

typedef struct {
	const char *key;
	gsize value; /* after the key; 0: not found */
} CgPdfKeySearch;

static gboolean
cg_pdf_key_found(const guint8 *d, gsize start, gsize end, gboolean is_ref, guint number,
		 gpointer user_data)
{
	CgPdfKeySearch *search = user_data;

	if (!is_ref && end - start == strlen(search->key) &&
	    memcmp(d + start, search->key, end - start) == 0) {
		search->value = end;
		return FALSE;
	}
	return TRUE;
}

/* Where the value of @key starts (white space before it) in the
 * dictionary at @p, or 0. */
static gsize
cg_pdf_dict_find(const guint8 *d, gsize p, gsize end, const char *key)
{
	CgPdfKeySearch search = {key, 0};

	p = cg_pdf_skip_space(d, p, end);
	if (p + 1 >= end || d[p] != '<' || d[p + 1] != '<')
		return 0;
	cg_pdf_walk(d, p, end, 1, cg_pdf_key_found, &search);
	return search.value;
}

/* The object @number of @file: where its body starts (after "N 0 obj")
 * and ends (its "endobj"), or FALSE. */
static gboolean
cg_pdf_object_body(const CgPdfFile *file, guint number, gsize *body, gsize *body_end)
{
	const CgPdfObject *object;
	const guint8 *d = file->data;
	gsize p, e;
	guint64 n = 0, gen = 1;

	if (number >= file->size || file->index[number] == 0)
		return FALSE;
	object = &g_array_index(file->objects, CgPdfObject, file->index[number] - 1);
	p = object->offset;
	e = object->end;
	if ((p = cg_pdf_read_uint(d, p, e, &n)) == 0 || n != number)
		return FALSE;
	p = cg_pdf_skip_space(d, p, e);
	if ((p = cg_pdf_read_uint(d, p, e, &gen)) == 0 || gen != 0)
		return FALSE;
	p = cg_pdf_skip_space(d, p, e);
	if (e - p < 3 || memcmp(d + p, "obj", 3) != 0)
		return FALSE;
	p += 3;
	/* the last "endobj" before the next object */
	while (e >= p + 6 && memcmp(d + e - 6, "endobj", 6) != 0)
		e--;
	if (e < p + 6)
		return FALSE;
	*body = p;
	*body_end = e - 6;
	return TRUE;
}

/* The reference after @key in the dictionary of object @number. */
static gboolean
cg_pdf_object_ref(const CgPdfFile *file, guint number, const char *key, guint *target)
{
	gsize body, body_end, value;

	return cg_pdf_object_body(file, number, &body, &body_end) &&
	       (value = cg_pdf_dict_find(file->data, body, body_end, key)) != 0 &&
	       cg_pdf_read_ref(file->data, value, body_end, target) != 0;
}

static int
cg_pdf_object_compare(gconstpointer a, gconstpointer b)
{
	gsize x = ((const CgPdfObject *)a)->offset, y = ((const CgPdfObject *)b)->offset;

	return x < y ? -1 : x > y;
}

/* Reads the table and the trailer of @data. */
static gboolean
cg_pdf_file_open(CgPdfFile *file, const guint8 *d, gsize length, GError **error)
{
	const gsize tail = MIN(length, 64);
	gsize p = length - tail, startxref = 0, value;
	guint64 offset = 0, first = 1, count = 0, size = 0;

	memset(file, 0, sizeof(*file));
	file->data = d;
	file->length = length;
	for (gsize i = length - tail; i + 9 <= length; i++) {
		if (memcmp(d + i, "startxref", 9) == 0)
			startxref = i + 9;
	}
	if (startxref == 0)
		return cg_pdf_fail(error, "no startxref");
	p = cg_pdf_skip_space(d, startxref, length);
	if (cg_pdf_read_uint(d, p, length, &offset) == 0 || offset + 4 > length ||
	    memcmp(d + offset, "xref", 4) != 0)
		return cg_pdf_fail(error, "no cross-reference table");
	file->xref = (gsize)offset;
	p = cg_pdf_skip_space(d, file->xref + 4, length);
	if ((p = cg_pdf_read_uint(d, p, length, &first)) == 0 || first != 0)
		return cg_pdf_fail(error, "a table that does not start at 0");
	p = cg_pdf_skip_space(d, p, length);
	if ((p = cg_pdf_read_uint(d, p, length, &count)) == 0 || count < 2 ||
	    count > (length - p) / 20)
		return cg_pdf_fail(error, "a table of a wrong size");
	p = cg_pdf_skip_space(d, p, length);
	file->size = (guint)count;
	file->index = g_new0(guint, file->size);
	file->objects = g_array_sized_new(FALSE, FALSE, sizeof(CgPdfObject), file->size);
	for (guint i = 0; i < file->size; i++, p += 20) {
		const guint8 *entry = d + p;
		CgPdfObject object = {i, 0, 0};
		guint64 gen = 0;

		/* "oooooooooo ggggg n\r\n": 20 bytes */
		if (cg_pdf_read_uint(d, p, p + 10, &offset) == 0 ||
		    cg_pdf_read_uint(d, p + 11, p + 16, &gen) == 0 || entry[10] != ' ' ||
		    entry[16] != ' ')
			return cg_pdf_fail(error, "a malformed table entry");
		if (entry[17] == 'f')
			continue;
		if (entry[17] != 'n' || gen != 0 || offset >= file->xref)
			return cg_pdf_fail(error, "an unexpected table entry");
		object.offset = (gsize)offset;
		g_array_append_val(file->objects, object);
	}
	if (file->objects->len == 0)
		return cg_pdf_fail(error, "no objects");
	g_array_sort(file->objects, cg_pdf_object_compare);
	for (guint i = 0; i < file->objects->len; i++) {
		CgPdfObject *object = &g_array_index(file->objects, CgPdfObject, i);

		object->end = i + 1 < file->objects->len
				  ? g_array_index(file->objects, CgPdfObject, i + 1).offset
				  : file->xref;
		if (object->end <= object->offset)
			return cg_pdf_fail(error, "objects that overlap");
		file->index[object->number] = i + 1;
	}
	file->header_end = g_array_index(file->objects, CgPdfObject, 0).offset;

	p = cg_pdf_skip_space(d, p, length);
	if (length - p < 7 || memcmp(d + p, "trailer", 7) != 0)
		return cg_pdf_fail(error, "no trailer");
	file->trailer = cg_pdf_skip_space(d, p + 7, length);
	file->trailer_end = cg_pdf_walk(d, file->trailer, length, 1, NULL, NULL);
	if (file->trailer_end == 0 || file->trailer_end > startxref)
		return cg_pdf_fail(error, "a malformed trailer");
	if ((value = cg_pdf_dict_find(d, file->trailer, file->trailer_end, "/Size")) == 0 ||
	    cg_pdf_read_uint(d, cg_pdf_skip_space(d, value, length), length, &size) == 0 ||
	    size != file->size)
		return cg_pdf_fail(error, "a trailer whose /Size is not the table's");
	return TRUE;
}

/* The page of a one-page @file, with its content stream and resources. */
static gboolean
cg_pdf_file_page(const CgPdfFile *file, guint *page, guint *contents, guint *resources,
		 GError **error)
{
	const guint8 *d = file->data;
	gsize body, body_end, value;
	guint root, pages, kid;
	guint64 count = 0;

	value = cg_pdf_dict_find(d, file->trailer, file->trailer_end, "/Root");
	if (value == 0 || cg_pdf_read_ref(d, value, file->trailer_end, &root) == 0 ||
	    !cg_pdf_object_ref(file, root, "/Pages", &pages))
		return cg_pdf_fail(error, "no page tree");
	if (!cg_pdf_object_body(file, pages, &body, &body_end) ||
	    (value = cg_pdf_dict_find(d, body, body_end, "/Count")) == 0 ||
	    cg_pdf_read_uint(d, cg_pdf_skip_space(d, value, body_end), body_end, &count) == 0 ||
	    count != 1)
		return cg_pdf_fail(error, "not one page");
	if ((value = cg_pdf_dict_find(d, body, body_end, "/Kids")) == 0 ||
	    (value = cg_pdf_skip_space(d, value, body_end)) >= body_end || d[value] != '[' ||
	    cg_pdf_read_ref(d, value + 1, body_end, &kid) == 0)
		return cg_pdf_fail(error, "no page");
	/* the content is one stream, the resources an object of their own */
	if (!cg_pdf_object_ref(file, kid, "/Contents", contents) ||
	    !cg_pdf_object_ref(file, kid, "/Resources", resources))
		return cg_pdf_fail(error, "a page without its content or resources");
	*page = kid;
	return TRUE;
}

static void
cg_pdf_append(GByteArray *out, const char *text)
{
	g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

static void cg_pdf_append_printf(GByteArray *out, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
cg_pdf_append_printf(GByteArray *out, const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list args;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	cg_pdf_append(out, text);
}

/* Gathering an object of the background's into the underlay. */
typedef struct {
	const CgPdfFile *file;
	GHashTable *local; /* number in the file -> local number + 1 */
	GQueue *todo;	   /* numbers in the file */
	const guint *forbidden;
	guint n_forbidden;
	guint next_local;
	CgPdfPiece *piece;
	gsize body; /* where the piece's text starts in the file */
	gboolean failed;
} CgPdfGather;

static guint
cg_pdf_gather_local(CgPdfGather *gather, guint number)
{
	gpointer value = g_hash_table_lookup(gather->local, GUINT_TO_POINTER(number));

	if (value != NULL)
		return GPOINTER_TO_UINT(value) - 1;
	for (guint i = 0; i < gather->n_forbidden; i++) {
		if (gather->forbidden[i] == number)
			gather->failed = TRUE;
	}
	g_hash_table_insert(gather->local, GUINT_TO_POINTER(number),
			    GUINT_TO_POINTER(gather->next_local + 1));
	g_queue_push_tail(gather->todo, GUINT_TO_POINTER(number));
	return gather->next_local++;
}

static gboolean
cg_pdf_gather_ref(const guint8 *d, gsize start, gsize end, gboolean is_ref, guint number,
		  gpointer user_data)
{
	CgPdfGather *gather = user_data;
	CgPdfSite site = {start - gather->body, 0, 0};

	if (!is_ref)
		return TRUE;
	while (site.length < end - start && g_ascii_isdigit(d[start + site.length]))
		site.length++;
	site.target = cg_pdf_gather_local(gather, number);
	g_array_append_val(gather->piece->sites, site);
	return TRUE;
}

static CgPdfPiece
cg_pdf_piece_new(void)
{
	CgPdfPiece piece = {g_byte_array_new(), g_array_new(FALSE, FALSE, sizeof(CgPdfSite))};

	return piece;
}

/* The piece of object @number: its text with every reference a site. A
 * stream's data is copied, not read. */
static gboolean
cg_pdf_gather_object(CgPdfGather *gather, guint number, CgPdfPiece *piece)
{
	const guint8 *d = gather->file->data;
	gsize body, body_end, p;

	if (!cg_pdf_object_body(gather->file, number, &body, &body_end))
		return FALSE;
	gather->piece = piece;
	gather->body = body;
	p = cg_pdf_skip_space(d, body, body_end);
	/* a stream's dictionary, or the whole of any other object */
	if (p + 1 < body_end && d[p] == '<' && d[p + 1] == '<') {
		p = cg_pdf_walk(d, p, body_end, 1, cg_pdf_gather_ref, gather);
		if (p == 0)
			return FALSE;
	} else {
		cg_pdf_walk(d, p, body_end, G_MAXUINT, cg_pdf_gather_ref, gather);
	}
	g_byte_array_append(piece->text, d + body, (guint)(body_end - body));
	cg_pdf_append(piece->text, "endobj\n");
	return !gather->failed;
}

static CgPdfUnderlay *
cg_pdf_underlay_alloc(void)
{
	CgPdfUnderlay *underlay = g_new0(CgPdfUnderlay, 1);

	underlay->ref_count = 1;
	underlay->pieces = g_array_new(FALSE, TRUE, sizeof(CgPdfPiece));
	g_array_set_clear_func(underlay->pieces, (GDestroyNotify)cg_pdf_piece_clear);
	return underlay;
}

CgPdfUnderlay *
cg_pdf_underlay_new(const guint8 *pdf, gsize length, GError **error)
{
	g_auto(CgPdfFile) file = {0};
	g_autoptr(CgPdfUnderlay) underlay = cg_pdf_underlay_alloc();
	g_autoptr(GHashTable) local = g_hash_table_new(NULL, NULL);
	g_autoptr(GQueue) todo = g_queue_new();
	CgPdfGather gather = {&file, local, todo, NULL, 0, 2, NULL, 0, FALSE};
	guint forbidden[4] = {0, 0, 0, 0};
	guint page, contents, resources, info = 0, root = 0;
	gsize body, body_end, value, box, box_end, data;
	guint64 stream_length = 0;
	const guint8 *d = pdf;
	CgPdfPiece piece;
	guint length_ref;

	g_return_val_if_fail(pdf != NULL || length == 0, NULL);

	if (!cg_pdf_file_open(&file, pdf, length, error) ||
	    !cg_pdf_file_page(&file, &page, &contents, &resources, error))
		return NULL;

	/* the page's box and its content stream as they are */
	if (!cg_pdf_object_body(&file, page, &body, &body_end) ||
	    (box = cg_pdf_dict_find(d, body, body_end, "/MediaBox")) == 0 ||
	    (box = cg_pdf_skip_space(d, box, body_end)) >= body_end || d[box] != '[' ||
	    (box_end = cg_pdf_walk(d, box, body_end, G_MAXUINT, NULL, NULL)) == 0) {
		cg_pdf_fail(error, "a page without a media box");
		return NULL;
	}
	if (!cg_pdf_object_body(&file, contents, &body, &body_end) ||
	    (value = cg_pdf_dict_find(d, body, body_end, "/Length")) == 0) {
		cg_pdf_fail(error, "a content stream without a length");
		return NULL;
	}
	value = cg_pdf_skip_space(d, value, body_end);
	if (cg_pdf_read_ref(d, value, body_end, &length_ref) != 0) {
		gsize lbody, lbody_end;

		if (!cg_pdf_object_body(&file, length_ref, &lbody, &lbody_end) ||
		    cg_pdf_read_uint(d, cg_pdf_skip_space(d, lbody, lbody_end), lbody_end,
				     &stream_length) == 0) {
			cg_pdf_fail(error, "a content stream of no length");
			return NULL;
		}
	} else if (cg_pdf_read_uint(d, value, body_end, &stream_length) == 0) {
		cg_pdf_fail(error, "a content stream of no length");
		return NULL;
	}
	/* the stream's filter, if any, is the form's: cairo writes
	 * "/Filter /FlateDecode" and nothing else there */
	data = cg_pdf_walk(d, cg_pdf_skip_space(d, body, body_end), body_end, 1, NULL, NULL);
	if (data == 0 || (data = cg_pdf_skip_space(d, data, body_end)) + 6 > body_end ||
	    memcmp(d + data, "stream", 6) != 0) {
		cg_pdf_fail(error, "a content that is no stream");
		return NULL;
	}
	data += 6;
	if (data < body_end && d[data] == '\r')
		data++;
	if (data < body_end && d[data] == '\n')
		data++;
	if (stream_length > body_end - data) {
		cg_pdf_fail(error, "a content stream longer than its object");
		return NULL;
	}
	value = cg_pdf_dict_find(d, body, body_end, "/Filter");

	/* 0: what the page of another PDF draws first */
	piece = cg_pdf_piece_new();
	cg_pdf_append(piece.text, "\n<< /Length 9 >>\nstream\n/cgbg Do\n\nendstream\nendobj\n");
	g_array_append_val(underlay->pieces, piece);

	/* 1: the form, whose resources (local 2) are the page's */
	piece = cg_pdf_piece_new();
	cg_pdf_append(piece.text, "\n<< /Type /XObject\n   /Subtype /Form\n   /BBox ");
	g_byte_array_append(piece.text, d + box, (guint)(box_end - box));
	cg_pdf_append(piece.text, "\n   /Resources ");
	{
		CgPdfSite site = {piece.text->len, 1, 2};

		cg_pdf_append(piece.text, "2 0 R\n");
		g_array_append_val(piece.sites, site);
	}
	if (value != 0) {
		gsize filter = cg_pdf_skip_space(d, value, body_end), filter_end = filter + 1;

		while (filter_end < body_end && !cg_pdf_is_delimiter(d[filter_end]))
			filter_end++;
		if (filter >= body_end || d[filter] != '/') {
			cg_pdf_fail(error, "a content stream with filters");
			return NULL;
		}
		cg_pdf_append(piece.text, "   /Filter ");
		g_byte_array_append(piece.text, d + filter, (guint)(filter_end - filter));
		cg_pdf_append(piece.text, "\n");
	}
	cg_pdf_append_printf(piece.text, "   /Length %" G_GUINT64_FORMAT "\n>>\nstream\n",
			     stream_length);
	g_byte_array_append(piece.text, d + data, (guint)stream_length);
	cg_pdf_append(piece.text, "\nendstream\nendobj\n");
	g_array_append_val(underlay->pieces, piece);

	/* 2 and on: the resources and all they refer to, but never the page,
	 * the page tree, the catalog or the document's information */
	value = cg_pdf_dict_find(d, file.trailer, file.trailer_end, "/Info");
	if (value != 0)
		cg_pdf_read_ref(d, value, file.trailer_end, &info);
	value = cg_pdf_dict_find(d, file.trailer, file.trailer_end, "/Root");
	cg_pdf_read_ref(d, value, file.trailer_end, &root);
	forbidden[0] = page;
	forbidden[1] = root;
	forbidden[2] = info;
	cg_pdf_object_ref(&file, root, "/Pages", &forbidden[3]);
	gather.forbidden = forbidden;
	gather.n_forbidden = G_N_ELEMENTS(forbidden);
	g_hash_table_insert(local, GUINT_TO_POINTER(resources), GUINT_TO_POINTER(2 + 1));
	g_queue_push_tail(todo, GUINT_TO_POINTER(resources));
	gather.next_local = 3;
	while (!g_queue_is_empty(todo)) {
		guint number = GPOINTER_TO_UINT(g_queue_pop_head(todo));

		piece = cg_pdf_piece_new();
		g_array_append_val(underlay->pieces, piece);
		if (!cg_pdf_gather_object(
			&gather, number,
			&g_array_index(underlay->pieces, CgPdfPiece, underlay->pieces->len - 1))) {
			cg_pdf_fail(error, "resources that cannot be copied");
			return NULL;
		}
	}
	return g_steal_pointer(&underlay);
}

CgPdfUnderlay *
cg_pdf_underlay_ref(CgPdfUnderlay *underlay)
{
	g_return_val_if_fail(underlay != NULL, NULL);

	g_atomic_int_inc(&underlay->ref_count);
	return underlay;
}

void
cg_pdf_underlay_unref(CgPdfUnderlay *underlay)
{
	if (underlay == NULL || !g_atomic_int_dec_and_test(&underlay->ref_count))
		return;
	g_clear_pointer(&underlay->pieces, g_array_unref);
	g_free(underlay);
}

/* Object @number's text from @file, with @edit (bytes [@from, @to) of
 * the file replaced by @with) when @from is not 0. */
static void
cg_pdf_copy(GByteArray *out, const CgPdfFile *file, const CgPdfObject *object, gsize from, gsize to,
	    const char *with)
{
	if (from == 0) {
		g_byte_array_append(out, file->data + object->offset,
				    (guint)(object->end - object->offset));
		return;
	}
	g_byte_array_append(out, file->data + object->offset, (guint)(from - object->offset));
	cg_pdf_append(out, with);
	g_byte_array_append(out, file->data + to, (guint)(object->end - to));
}

/* Piece @piece as object @number, its local number k a reference to
 * @base + k. */
static void
cg_pdf_piece_write(const CgPdfPiece *piece, guint number, guint base, GByteArray *out)
{
	gsize at = 0;

	cg_pdf_append_printf(out, "%u 0 obj", number);
	for (guint s = 0; s < piece->sites->len; s++) {
		const CgPdfSite *site = &g_array_index(piece->sites, CgPdfSite, s);

		g_byte_array_append(out, piece->text->data + at, (guint)(site->offset - at));
		cg_pdf_append_printf(out, "%u", base + site->target);
		at = site->offset + site->length;
	}
	g_byte_array_append(out, piece->text->data + at, piece->text->len - (guint)at);
}

guint
cg_pdf_underlay_get_n_objects(const CgPdfUnderlay *underlay)
{
	g_return_val_if_fail(underlay != NULL, 0);

	/* not piece 0, the stream that paints the form in cairo's PDFs */
	return underlay->pieces->len - 1;
}

void
cg_pdf_underlay_write(const CgPdfUnderlay *underlay, guint base, GByteArray *out, gsize *offsets)
{
	g_return_if_fail(underlay != NULL && base > 0 && out != NULL && offsets != NULL);

	/* local number k (from 1) is object base + k - 1 */
	for (guint k = 1; k < underlay->pieces->len; k++) {
		offsets[k - 1] = out->len;
		cg_pdf_piece_write(&g_array_index(underlay->pieces, CgPdfPiece, k), base + k - 1,
				   base - 1, out);
	}
}

gboolean
cg_pdf_underlay_apply(const CgPdfUnderlay *underlay, const guint8 *pdf, gsize length,
		      GByteArray *out, GError **error)
{
	g_auto(CgPdfFile) file = {0};
	g_autofree gsize *offsets = NULL;
	g_autofree char *contents_value = NULL;
	g_autofree char *resources_insert = NULL;
	const guint8 *d = pdf;
	guint page, contents, resources, base, size;
	gsize body, body_end, contents_at, contents_end, xobject, insert_at, size_at, size_end;
	gsize start = out->len, xref;
	guint64 old_size;
	char entry[32];

	g_return_val_if_fail(underlay != NULL && (pdf != NULL || length == 0) && out != NULL,
			     FALSE);

	if (!cg_pdf_file_open(&file, pdf, length, error) ||
	    !cg_pdf_file_page(&file, &page, &contents, &resources, error))
		return FALSE;
	if (file.objects->len != file.size - 1)
		return cg_pdf_fail(error, "free objects");
	base = file.size;
	size = base + underlay->pieces->len;

	/* the page's "/Contents C 0 R" becomes "/Contents [ U 0 R C 0 R ]" */
	cg_pdf_object_body(&file, page, &body, &body_end);
	contents_at = cg_pdf_dict_find(d, body, body_end, "/Contents");
	contents_end = cg_pdf_read_ref(d, contents_at, body_end, &contents);
	contents_value = g_strdup_printf(" [ %u 0 R %u 0 R ]", base, contents);

	/* the resources name the form /cgbg */
	if (resources == page || resources == contents || contents == page ||
	    !cg_pdf_object_body(&file, contents, &body, &body_end) ||
	    !cg_pdf_object_body(&file, resources, &body, &body_end))
		return cg_pdf_fail(error, "a page without resources of its own");
	xobject = cg_pdf_dict_find(d, body, body_end, "/XObject");
	if (xobject != 0) {
		insert_at = cg_pdf_skip_space(d, xobject, body_end);
		if (insert_at + 1 >= body_end || d[insert_at] != '<' || d[insert_at + 1] != '<')
			return cg_pdf_fail(error, "resources whose forms are not inline");
		insert_at += 2;
		resources_insert = g_strdup_printf(" /cgbg %u 0 R", base + 1);
	} else {
		insert_at = cg_pdf_skip_space(d, body, body_end);
		if (insert_at + 1 >= body_end || d[insert_at] != '<' || d[insert_at + 1] != '<')
			return cg_pdf_fail(error, "resources that are no dictionary");
		insert_at += 2;
		resources_insert = g_strdup_printf("\n   /XObject << /cgbg %u 0 R >>", base + 1);
	}

	/* the trailer's /Size */
	size_at = cg_pdf_skip_space(d, cg_pdf_dict_find(d, file.trailer, file.trailer_end, "/Size"),
				    file.trailer_end);
	size_end = cg_pdf_read_uint(d, size_at, file.trailer_end, &old_size);

	offsets = g_new0(gsize, size);
	g_byte_array_append(out, d, (guint)file.header_end);
	for (guint i = 0; i < file.objects->len; i++) {
		const CgPdfObject *object = &g_array_index(file.objects, CgPdfObject, i);

		offsets[object->number] = out->len - start;
		if (object->number == page)
			cg_pdf_copy(out, &file, object, contents_at, contents_end, contents_value);
		else if (object->number == resources)
			cg_pdf_copy(out, &file, object, insert_at, insert_at, resources_insert);
		else
			cg_pdf_copy(out, &file, object, 0, 0, NULL);
	}
	for (guint k = 0; k < underlay->pieces->len; k++) {
		offsets[base + k] = out->len - start;
		cg_pdf_piece_write(&g_array_index(underlay->pieces, CgPdfPiece, k), base + k, base,
				   out);
	}

	xref = out->len - start;
	cg_pdf_append_printf(out, "xref\n0 %u\n0000000000 65535 f \n", size);
	for (guint i = 1; i < size; i++) {
		g_snprintf(entry, sizeof(entry), "%010" G_GSIZE_FORMAT " 00000 n \n", offsets[i]);
		cg_pdf_append(out, entry);
	}
	cg_pdf_append(out, "trailer\n");
	g_byte_array_append(out, d + file.trailer, (guint)(size_at - file.trailer));
	cg_pdf_append_printf(out, "%u", size);
	g_byte_array_append(out, d + size_end, (guint)(file.trailer_end - size_end));
	cg_pdf_append_printf(out, "\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n", xref);
	return TRUE;
}

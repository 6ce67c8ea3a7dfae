/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cg-pdf-concat.h's join: each part is read just enough to find its
 * objects (the cross-reference table gives where each starts; the object's
 * value is skipped token by token, a stream's data by its /Length), then
 * copied with every "N 0 R" renumbered. Anything not of the expected shape
 * makes the whole join decline (NULL), so qpdf joins what this does not
 * know, and this never has to be right about PDFs it was not made for.
 * The output is written in one of two ways: as the parts were (a plain
 * cross-reference table; cg_pdf_split()'s pages too), or compact (object
 * streams, see cg_concat_write_compact()).
 */
#include "cg-pdf-concat.h"
#include "cg-pdf-writer.h"

#include <gio/gio.h>
#include <string.h>

/* A part's object: its value, and its stream's data when it has one. */
typedef struct {
	const guchar *value;
	const guchar *value_end;
	const guchar *data; /* NULL: not a stream */
	const guchar *data_end;
} CgConcatObject;

typedef struct {
	const guchar *bytes;
	const guchar *end;
	char version;		 /* the digit of %PDF-1.N */
	guint size;		 /* the trailer's /Size */
	const guchar **offsets;	 /* [size]: where "N 0 obj" starts, NULL: free */
	CgConcatObject *objects; /* [size] */
	guint root, pages, info; /* object numbers; info 0: none */
	guint *map;		 /* [size]: the output's number, 0: not copied */
	gboolean *shared;	 /* [size] or NULL: written as another object (map) */
	GArray *kids;		 /* of guint: the pages, in order (part numbers) */
} CgConcatPart;

static void
cg_concat_part_clear(CgConcatPart *part)
{
	g_free(part->offsets);
	g_free(part->objects);
	g_free(part->map);
	g_free(part->shared);
	if (part->kids != NULL)
		g_array_unref(part->kids);
}

static gboolean
cg_concat_is_space(guchar c)
{
	switch (c) {
	case ' ':
	case '\n':
	case '\r':
	case '\t':
	case '\f':
	case '\0':
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
cg_concat_is_delimiter(guchar c)
{
	switch (c) {
	case '(':
	case ')':
	case '<':
	case '>':
	case '[':
	case ']':
	case '{':
	case '}':
	case '/':
	case '%':
		return TRUE;
	default:
		return FALSE;
	}
}

static const guchar *
cg_concat_skip_space(const guchar *p, const guchar *end)
{
	while (p < end) {
		if (cg_concat_is_space(*p))
			p++;
		else if (*p == '%')
			while (p < end && *p != '\n' && *p != '\r')
				p++;
		else
			break;
	}
	return p;
}

/* The end of the regular token at @p (digits, keywords). */
static const guchar *
cg_concat_token_end(const guchar *p, const guchar *end)
{
	while (p < end && !cg_concat_is_space(*p) && !cg_concat_is_delimiter(*p))
		p++;
	return p;
}

/* An unsigned integer token [@p, @q); FALSE if it is not one. */
static gboolean
cg_concat_uint(const guchar *p, const guchar *q, guint64 *value)
{
	guint64 v = 0;

	if (p == q || q - p > 12)
		return FALSE;
	for (; p < q; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
		v = v * 10 + (guint64)(*p - '0');
	}
	*value = v;
	return TRUE;
}

static gboolean
cg_concat_token_is(const guchar *p, const guchar *q, const char *word)
{
	gsize n = strlen(word);

	return (gsize)(q - p) == n && memcmp(p, word, n) == 0;
}

/* After "(" at @p: the end of the literal string (nested parentheses,
 * backslash escapes); NULL when it does not end. */
static const guchar *
cg_concat_string_end(const guchar *p, const guchar *end)
{
	guint depth = 0;

	for (; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return NULL;
}

static const guchar *cg_concat_skip_value(const guchar *p, const guchar *end);

/* Values up to @close ("]" or ">>"), then past it. */
static const guchar *
cg_concat_skip_until(const guchar *p, const guchar *end, const char *close)
{
	gsize n = strlen(close);

	for (;;) {
		p = cg_concat_skip_space(p, end);
		if (p >= end)
			return NULL;
		if ((gsize)(end - p) >= n && memcmp(p, close, n) == 0)
			return p + n;
		p = cg_concat_skip_value(p, end);
		if (p == NULL)
			return NULL;
	}
}

/* One value (a reference "N G R" is one); NULL when malformed. */
static const guchar *
cg_concat_skip_value(const guchar *p, const guchar *end)
{
	const guchar *q, *r, *s;
	guint64 v;

	p = cg_concat_skip_space(p, end);
	if (p >= end)
		return NULL;
	if (*p == '<' && p + 1 < end && p[1] == '<')
		return cg_concat_skip_until(p + 2, end, ">>");
	if (*p == '[')
		return cg_concat_skip_until(p + 1, end, "]");
	if (*p == '(')
		return cg_concat_string_end(p, end);
	if (*p == '<') {
		q = memchr(p, '>', (gsize)(end - p));
		return q != NULL ? q + 1 : NULL;
	}
	if (*p == '/')
		return cg_concat_token_end(p + 1, end);
	if (cg_concat_is_delimiter(*p))
		return NULL;
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &v))
		return q;
	/* an integer, or the start of "N G R" */
	r = cg_concat_skip_space(q, end);
	s = cg_concat_token_end(r, end);
	if (!cg_concat_uint(r, s, &v))
		return q;
	r = cg_concat_skip_space(s, end);
	s = cg_concat_token_end(r, end);
	return cg_concat_token_is(r, s, "R") ? s : q;
}

/* Iterates the entries of the dictionary whose "<<" is at *@p: TRUE with
 * the next key (without "/") and value, FALSE at ">>" or when malformed
 * (*@p NULL then). Start with *@p at "<<". */
static gboolean
cg_concat_dict_next(const guchar **p, const guchar *end, const guchar **key, gsize *key_length,
		    const guchar **value, const guchar **value_end)
{
	const guchar *at = cg_concat_skip_space(*p, end);

	if (at + 1 < end && at[0] == '<' && at[1] == '<')
		at = cg_concat_skip_space(at + 2, end);
	if (at + 1 < end && at[0] == '>' && at[1] == '>') {
		*p = at + 2;
		return FALSE;
	}
	if (at >= end || *at != '/') {
		*p = NULL;
		return FALSE;
	}
	*key = at + 1;
	at = cg_concat_token_end(at + 1, end);
	*key_length = (gsize)(at - *key);
	*value = cg_concat_skip_space(at, end);
	*value_end = cg_concat_skip_value(*value, end);
	if (*value_end == NULL) {
		*p = NULL;
		return FALSE;
	}
	*p = *value_end;
	return TRUE;
}

static gboolean
cg_concat_key_is(const guchar *key, gsize length, const char *name)
{
	return length == strlen(name) && memcmp(key, name, length) == 0;
}

/* The value of @name in the dictionary at [@dict, @end), or NULL. */
static const guchar *
cg_concat_dict_get(const guchar *dict, const guchar *end, const char *name,
		   const guchar **value_end)
{
	const guchar *p = dict, *key, *value;
	gsize length;

	if (dict == NULL || end - dict < 2 || dict[0] != '<' || dict[1] != '<')
		return NULL;
	while (cg_concat_dict_next(&p, end, &key, &length, &value, value_end))
		if (cg_concat_key_is(key, length, name))
			return value;
	return NULL;
}

/* "N 0 R" at [@p, @q) -> N. */
static gboolean
cg_concat_ref(const guchar *p, const guchar *q, guint *number)
{
	const guchar *t;
	guint64 n, g;

	if (p == NULL)
		return FALSE;
	t = cg_concat_token_end(p, q);
	if (!cg_concat_uint(p, t, &n) || n == 0 || n > G_MAXUINT)
		return FALSE;
	p = cg_concat_skip_space(t, q);
	t = cg_concat_token_end(p, q);
	if (!cg_concat_uint(p, t, &g) || g != 0)
		return FALSE;
	p = cg_concat_skip_space(t, q);
	*number = (guint)n;
	return cg_concat_token_is(p, cg_concat_token_end(p, q), "R");
}

/* The trailer, the cross-reference table, the objects' starts. */
static gboolean
cg_concat_read_xref(CgConcatPart *part)
{
	const guchar *end = part->end, *p, *q, *trailer, *value, *value_end;
	const guchar *tail = end - MIN((gsize)(end - part->bytes), 1024);
	guint64 offset, first, count;

	/* the last startxref */
	p = NULL;
	for (q = tail; q + 9 <= end; q++)
		if (memcmp(q, "startxref", 9) == 0)
			p = q + 9;
	if (p == NULL)
		return FALSE;
	p = cg_concat_skip_space(p, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &offset) || offset >= (guint64)(end - part->bytes))
		return FALSE;
	p = part->bytes + offset;
	q = cg_concat_token_end(p, end);
	if (!cg_concat_token_is(p, q, "xref"))
		return FALSE; /* an xref stream */
	/* one subsection from 0 */
	p = cg_concat_skip_space(q, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &first) || first != 0)
		return FALSE;
	p = cg_concat_skip_space(q, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &count) || count == 0)
		return FALSE;
	p = cg_concat_skip_space(q, end);
	if (count >= (guint64)(end - p) / 20)
		return FALSE;
	trailer = p + count * 20;
	q = cg_concat_token_end(trailer, end);
	if (!cg_concat_token_is(trailer, q, "trailer"))
		return FALSE;
	trailer = cg_concat_skip_space(q, end);
	if (cg_concat_dict_get(trailer, end, "Prev", &value_end) != NULL ||
	    cg_concat_dict_get(trailer, end, "XRefStm", &value_end) != NULL ||
	    cg_concat_dict_get(trailer, end, "Encrypt", &value_end) != NULL)
		return FALSE;
	value = cg_concat_dict_get(trailer, end, "Size", &value_end);
	if (value == NULL || !cg_concat_uint(value, value_end, &offset) || offset != count)
		return FALSE;
	part->size = (guint)count;
	value = cg_concat_dict_get(trailer, end, "Root", &value_end);
	if (!cg_concat_ref(value, value_end, &part->root))
		return FALSE;
	value = cg_concat_dict_get(trailer, end, "Info", &value_end);
	if (value != NULL && !cg_concat_ref(value, value_end, &part->info))
		return FALSE;

	part->offsets = g_new0(const guchar *, part->size);
	for (guint i = 0; i < part->size; i++, p += 20) {
		guint64 gen;

		if (!cg_concat_uint(p, p + 10, &offset) || p[10] != ' ' ||
		    !cg_concat_uint(p + 11, p + 16, &gen) || p[16] != ' ')
			return FALSE;
		if (p[17] == 'f')
			continue;
		if (p[17] != 'n' || gen != 0 || i == 0 || offset >= (guint64)(end - part->bytes))
			return FALSE;
		part->offsets[i] = part->bytes + offset;
	}
	return part->root < part->size && part->offsets[part->root] != NULL &&
	       part->info < part->size && (part->info == 0 || part->offsets[part->info] != NULL);
}

/* An integer object's value (a stream's indirect /Length). */
static gboolean
cg_concat_int_object(const CgConcatPart *part, guint number, guint64 *value)
{
	const CgConcatObject *object;

	if (number >= part->size || part->offsets[number] == NULL)
		return FALSE;
	object = &part->objects[number];
	return object->value != NULL && object->data == NULL &&
	       cg_concat_uint(object->value, object->value_end, value);
}

/* Object @number's value, and where its stream's data would begin (past
 * "stream" and its end of line) when it has one. */
static gboolean
cg_concat_read_object(CgConcatPart *part, guint number, const guchar **stream)
{
	CgConcatObject *object = &part->objects[number];
	const guchar *end = part->end, *p = part->offsets[number], *q;
	guint64 v;

	*stream = NULL;
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &v))
		return FALSE;
	if (v != number) {
		/* cairo 1.16 lists objects it never writes (with links: one
		 * per page, whose entry points at the next object): absent */
		part->offsets[number] = NULL;
		return TRUE;
	}
	p = cg_concat_skip_space(q, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_uint(p, q, &v) || v != 0)
		return FALSE;
	p = cg_concat_skip_space(q, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_token_is(p, q, "obj"))
		return FALSE;
	object->value = cg_concat_skip_space(q, end);
	object->value_end = cg_concat_skip_value(object->value, end);
	if (object->value_end == NULL)
		return FALSE;
	p = cg_concat_skip_space(object->value_end, end);
	q = cg_concat_token_end(p, end);
	if (cg_concat_token_is(p, q, "endobj"))
		return TRUE;
	if (!cg_concat_token_is(p, q, "stream") || object->value[0] != '<')
		return FALSE;
	if (q < end && *q == '\r')
		q++;
	if (q >= end || *q != '\n')
		return FALSE;
	*stream = q + 1;
	return TRUE;
}

/* A stream's data by its /Length (direct, or an integer object read
 * already), followed by endstream and endobj. */
static gboolean
cg_concat_read_stream(CgConcatPart *part, guint number, const guchar *data)
{
	CgConcatObject *object = &part->objects[number];
	const guchar *end = part->end, *value, *value_end, *p, *q;
	guint64 length;
	guint ref;

	value = cg_concat_dict_get(object->value, object->value_end, "Length", &value_end);
	if (value == NULL)
		return FALSE;
	if (cg_concat_ref(value, value_end, &ref)) {
		if (!cg_concat_int_object(part, ref, &length))
			return FALSE;
	} else if (!cg_concat_uint(value, value_end, &length)) {
		return FALSE;
	}
	if (length > (guint64)(end - data))
		return FALSE;
	object->data = data;
	object->data_end = data + length;
	p = cg_concat_skip_space(object->data_end, end);
	q = cg_concat_token_end(p, end);
	if (!cg_concat_token_is(p, q, "endstream"))
		return FALSE;
	p = cg_concat_skip_space(q, end);
	return cg_concat_token_is(p, cg_concat_token_end(p, end), "endobj");
}

/* Every object: values first, then the streams (whose /Length may be an
 * object further on). */
static gboolean
cg_concat_read_objects(CgConcatPart *part)
{
	g_autofree const guchar **streams = g_new0(const guchar *, part->size);

	part->objects = g_new0(CgConcatObject, part->size);
	for (guint i = 1; i < part->size; i++)
		if (part->offsets[i] != NULL && !cg_concat_read_object(part, i, &streams[i]))
			return FALSE;
	for (guint i = 1; i < part->size; i++)
		if (streams[i] != NULL && !cg_concat_read_stream(part, i, streams[i]))
			return FALSE;
	return TRUE;
}

static gboolean
cg_concat_value_is(const guchar *value, const guchar *value_end, const char *word)
{
	return value != NULL && cg_concat_token_is(value, value_end, word);
}

/* The catalog holds /Type and /Pages only; the page tree is flat. */
static gboolean
cg_concat_read_pages(CgConcatPart *part)
{
	const CgConcatObject *catalog = &part->objects[part->root];
	const CgConcatObject *pages;
	const guchar *p, *key, *value, *value_end, *kids = NULL, *kids_end = NULL;
	gsize length;
	guint64 count = 0;
	gboolean has_count = FALSE;

	p = catalog->value;
	while (cg_concat_dict_next(&p, catalog->value_end, &key, &length, &value, &value_end)) {
		if (cg_concat_key_is(key, length, "Type")) {
			if (!cg_concat_value_is(value, value_end, "/Catalog"))
				return FALSE;
		} else if (!cg_concat_key_is(key, length, "Pages") ||
			   !cg_concat_ref(value, value_end, &part->pages)) {
			return FALSE;
		}
	}
	if (p == NULL || catalog->data != NULL || part->pages == 0 || part->pages >= part->size ||
	    part->offsets[part->pages] == NULL)
		return FALSE;
	/* the output numbers the catalog, the page tree and the information
	 * dictionary itself: one object cannot be two of them (nor a page) */
	if (part->info != 0 && (part->info == part->root || part->info == part->pages))
		return FALSE;

	pages = &part->objects[part->pages];
	p = pages->value;
	while (cg_concat_dict_next(&p, pages->value_end, &key, &length, &value, &value_end)) {
		if (cg_concat_key_is(key, length, "Type")) {
			if (!cg_concat_value_is(value, value_end, "/Pages"))
				return FALSE;
		} else if (cg_concat_key_is(key, length, "Kids") && *value == '[') {
			kids = value + 1;
			kids_end = value_end - 1;
		} else if (cg_concat_key_is(key, length, "Count")) {
			has_count = cg_concat_uint(value, value_end, &count);
		} else {
			return FALSE; /* inherited attributes, a parent */
		}
	}
	if (p == NULL || pages->data != NULL || kids == NULL || !has_count)
		return FALSE;

	part->kids = g_array_new(FALSE, FALSE, sizeof(guint));
	for (p = cg_concat_skip_space(kids, kids_end); p < kids_end;
	     p = cg_concat_skip_space(value_end, kids_end)) {
		const CgConcatObject *kid;
		guint number;

		value_end = cg_concat_skip_value(p, kids_end);
		if (value_end == NULL || !cg_concat_ref(p, value_end, &number) ||
		    number >= part->size || part->offsets[number] == NULL || number == part->root ||
		    number == part->pages || number == part->info)
			return FALSE;
		kid = &part->objects[number];
		value = cg_concat_dict_get(kid->value, kid->value_end, "Type", &value_end);
		if (!cg_concat_value_is(value, value_end, "/Page"))
			return FALSE;
		g_array_append_val(part->kids, number);
		value_end = cg_concat_skip_value(p, kids_end);
	}
	return part->kids->len == count && count > 0;
}

static gboolean
cg_concat_read_part(CgConcatPart *part, GBytes *bytes)
{
	gsize length;

	part->bytes = g_bytes_get_data(bytes, &length);
	/* empty bytes have no data pointer: nothing to add an offset to */
	if (length < 16 || memcmp(part->bytes, "%PDF-1.", 7) != 0 ||
	    !g_ascii_isdigit(part->bytes[7]))
		return FALSE;
	part->end = part->bytes + length;
	part->version = (char)part->bytes[7];
	/* the catalog and the information dictionary may have turned out
	 * never written (their entry pointing at another object) */
	return cg_concat_read_xref(part) && cg_concat_read_objects(part) &&
	       part->offsets[part->root] != NULL &&
	       (part->info == 0 || part->offsets[part->info] != NULL) &&
	       cg_concat_read_pages(part) &&
	       (part->info == 0 || (part->objects[part->info].value[0] == '<' &&
				    part->objects[part->info].data == NULL));
}

/* @p .. @end copied to @out, every "N 0 R" as the output's number (null
 * for an object listed free or never written, or not copied); strings,
 * names and comments copied untouched; the part's numbers referred to
 * appended to @refs when not NULL. FALSE for a reference of another
 * generation or beyond the part's /Size. */
static gboolean
cg_concat_copy_value(GByteArray *out, const CgConcatPart *part, const guchar *p, const guchar *end,
		     GArray *refs, gboolean compact)
{
	/* the last two tokens, while they are integers: where they start in
	 * @out and their value (@older, then @newer) */
	gssize older = -1, newer = -1;
	guint64 older_value = 0, newer_value = 0;

	while (p < end) {
		const guchar *q;
		guint64 v;

		if (compact && (cg_concat_is_space(*p) || *p == '%')) {
			/* spaces and comments (ISO 32000-1 7.2.3: a comment
			 * is a space) as one space */
			g_byte_array_append(out, (const guint8 *)" ", 1);
			p = cg_concat_skip_space(p, end);
			continue;
		}
		if (cg_concat_is_space(*p)) {
			for (q = p + 1; q < end && cg_concat_is_space(*q); q++)
				;
			g_byte_array_append(out, p, (guint)(q - p));
			p = q;
			continue;
		}
		if (*p == '%') {
			for (q = p; q < end && *q != '\n' && *q != '\r'; q++)
				;
		} else if (*p == '(') {
			q = cg_concat_string_end(p, end);
			if (q == NULL)
				return FALSE;
		} else if (p + 1 < end &&
			   ((p[0] == '<' && p[1] == '<') || (p[0] == '>' && p[1] == '>'))) {
			q = p + 2;
		} else if (*p == '<') {
			q = memchr(p, '>', (gsize)(end - p));
			if (q == NULL)
				return FALSE;
			q++;
		} else if (*p == '/') {
			q = cg_concat_token_end(p + 1, end);
		} else if (cg_concat_is_delimiter(*p)) {
			q = p + 1;
		} else {
			q = cg_concat_token_end(p, end);
			if (cg_concat_uint(p, q, &v)) {
				older = newer;
				older_value = newer_value;
				newer = (gssize)out->len;
				newer_value = v;
				g_byte_array_append(out, p, (guint)(q - p));
				p = q;
				continue;
			}
			if (cg_concat_token_is(p, q, "R") && older >= 0) {
				char number[24];
				int n;

				if (newer_value != 0 || older_value == 0 ||
				    older_value >= part->size)
					return FALSE;
				g_byte_array_set_size(out, (guint)older);
				/* a reference to an object that is not there is
				 * null (ISO 32000-1 7.3.10) */
				if (part->map[older_value] == 0)
					n = g_snprintf(number, sizeof(number), "null");
				else
					n = g_snprintf(number, sizeof(number), "%u 0 R",
						       part->map[older_value]);
				g_byte_array_append(out, (const guint8 *)number, (guint)n);
				if (refs != NULL) {
					guint ref = (guint)older_value;

					g_array_append_val(refs, ref);
				}
				older = newer = -1;
				p = q;
				continue;
			}
		}
		if (*p != '%') /* a comment is like a space */
			older = newer = -1;
		g_byte_array_append(out, p, (guint)(q - p));
		p = q;
	}
	return TRUE;
}

/* Numbers of the output: 1 the catalog, 2 the page tree, 3 the
 * information dictionary, then every part's other objects. */
#define CG_CONCAT_CATALOG 1
#define CG_CONCAT_PAGES 2
#define CG_CONCAT_INFO 3

static guint
cg_concat_number(CgConcatPart *parts, guint n_parts)
{
	guint next = CG_CONCAT_INFO + 1;

	for (guint k = 0; k < n_parts; k++) {
		CgConcatPart *part = &parts[k];

		part->map = g_new0(guint, part->size);
		for (guint i = 1; i < part->size; i++) {
			if (part->offsets[i] == NULL)
				continue;
			if (i == part->root)
				part->map[i] = CG_CONCAT_CATALOG;
			else if (i == part->pages)
				part->map[i] = CG_CONCAT_PAGES;
			else if (i == part->info)
				part->map[i] = CG_CONCAT_INFO;
			else
				part->map[i] = next++;
		}
	}
	return next;
}

/*
 * Sharing (CG_PDF_CONCAT_SHARE): an object whose bytes, written with the
 * output's numbers, are those of an object written already (of this part
 * or an earlier one) is not written again; what refers to it refers to
 * that one. Every range of a batch has the same background form, its
 * resources, and most of its fonts: this keeps one of each. An object is
 * compared once what it refers to is decided (depth first, without
 * recursion): on a cycle, the object that closes it is kept as it is.
 * Pages, annotations and anything with a /Parent or /P (what belongs to
 * one place of the document) are never shared.
 */
typedef struct {
	const guint8 *value; /* written with the output's numbers */
	gsize value_length;
	guint8 *owned; /* value, when it is not in a part's rendering */
	const guchar *data;
	gsize data_length;
	guint hash;
} CgConcatKey;

static void
cg_concat_key_free(gpointer key)
{
	CgConcatKey *k = key;

	g_free(k->owned);
	g_free(k);
}

static guint
cg_concat_key_hash(gconstpointer key)
{
	return ((const CgConcatKey *)key)->hash;
}

static gboolean
cg_concat_key_equal(gconstpointer a, gconstpointer b)
{
	const CgConcatKey *x = a, *y = b;

	return x->value_length == y->value_length && x->data_length == y->data_length &&
	       memcmp(x->value, y->value, x->value_length) == 0 &&
	       (x->data_length == 0 || memcmp(x->data, y->data, x->data_length) == 0);
}

/* FNV-1a of @length bytes at @p, from @hash. */
static guint
cg_concat_fnv(guint hash, const guchar *p, gsize length)
{
	for (gsize i = 0; i < length; i++)
		hash = (hash ^ p[i]) * 16777619u;
	return hash;
}

/* Object @i of @part may be one written elsewhere: not the catalog, the
 * page tree, the information dictionary, a page, an annotation, nor what
 * has a parent. */
static gboolean
cg_concat_may_share(const CgConcatPart *part, const gboolean *is_kid, guint i)
{
	const CgConcatObject *object = &part->objects[i];
	const guchar *p = object->value, *key, *value, *value_end;
	gsize length;

	if (part->offsets[i] == NULL || i == part->root || i == part->pages || i == part->info ||
	    is_kid[i])
		return FALSE;
	if (object->value[0] != '<' || object->value[1] != '<')
		return TRUE;
	while (cg_concat_dict_next(&p, object->value_end, &key, &length, &value, &value_end)) {
		if (cg_concat_key_is(key, length, "Parent") || cg_concat_key_is(key, length, "P"))
			return FALSE;
		if (cg_concat_key_is(key, length, "Type") &&
		    (cg_concat_value_is(value, value_end, "/Annot") ||
		     cg_concat_value_is(value, value_end, "/Page") ||
		     cg_concat_value_is(value, value_end, "/Pages")))
			return FALSE;
	}
	return p != NULL;
}

/* One part's objects, what they refer to and their bytes as numbered at
 * first: refs[first_ref[i] .. first_ref[i + 1]) and
 * rendered[first_byte[i] .. first_byte[i + 1]). */
typedef struct {
	gboolean *may;
	gboolean *blocked;
	guint8 *state;
	guint *first_ref;
	gsize *first_byte;
	GArray *refs;
	GByteArray *rendered;
} CgConcatShareScan;

static void
cg_concat_share_scan_clear(CgConcatShareScan *scan)
{
	g_free(scan->may);
	g_free(scan->blocked);
	g_free(scan->state);
	g_free(scan->first_ref);
	g_free(scan->first_byte);
	if (scan->refs != NULL)
		g_array_unref(scan->refs);
	if (scan->rendered != NULL)
		g_byte_array_unref(scan->rendered);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgConcatShareScan, cg_concat_share_scan_clear)

/* Object @o of @part, whose references are decided: shared with the
 * object of @written of the same bytes, or entered there. */
static gboolean
cg_concat_share_one(CgConcatPart *part, const CgConcatShareScan *scan, guint o, GHashTable *written)
{
	const CgConcatObject *object = &part->objects[o];
	g_autoptr(GByteArray) again = NULL;
	CgConcatKey key = {0};
	gpointer number;

	key.value = scan->rendered->data + scan->first_byte[o];
	key.value_length = scan->first_byte[o + 1] - scan->first_byte[o];
	for (guint k = scan->first_ref[o]; k < scan->first_ref[o + 1]; k++) {
		if (!part->shared[g_array_index(scan->refs, guint, k)])
			continue;
		/* a number it refers to has changed: its bytes again */
		again = g_byte_array_new();
		if (!cg_concat_copy_value(again, part, object->value, object->value_end, NULL,
					  FALSE))
			return FALSE;
		key.value = again->data;
		key.value_length = again->len;
		break;
	}
	key.hash = cg_concat_fnv(2166136261u, key.value, key.value_length);
	if (object->data != NULL) {
		gsize n = (gsize)(object->data_end - object->data);

		/* the length and the ends: equal ones are compared whole */
		key.data = object->data;
		key.data_length = n;
		key.hash = cg_concat_fnv(key.hash, (const guchar *)&n, sizeof(n));
		key.hash = cg_concat_fnv(key.hash, object->data, MIN(n, 64));
		key.hash = cg_concat_fnv(key.hash, object->data_end - MIN(n, 64), MIN(n, 64));
	}
	if (g_hash_table_lookup_extended(written, &key, NULL, &number)) {
		part->map[o] = GPOINTER_TO_UINT(number);
		part->shared[o] = TRUE;
	} else {
		CgConcatKey *entry = g_memdup2(&key, sizeof(key));

		if (again != NULL) {
			entry->value_length = again->len;
			entry->owned =
			    entry->value_length > 0 ? g_byte_array_steal(again, NULL) : NULL;
			entry->value = entry->owned;
		}
		g_hash_table_insert(written, entry, GUINT_TO_POINTER(part->map[o]));
	}
	return TRUE;
}

enum { CG_CONCAT_NEW, CG_CONCAT_OPEN, CG_CONCAT_DECIDED };

/* Every object of @part that may be shared, depth first; the keys of
 * @written may point into @scan's rendering, kept until the end. */
static gboolean
cg_concat_share_part(CgConcatPart *part, CgConcatShareScan *scan, GHashTable *written)
{
	g_autofree gboolean *is_kid = g_new0(gboolean, part->size);
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(guint) * 2);

	part->shared = g_new0(gboolean, part->size);
	scan->may = g_new0(gboolean, part->size);
	scan->blocked = g_new0(gboolean, part->size);
	scan->state = g_new0(guint8, part->size);
	scan->first_ref = g_new0(guint, part->size + 1);
	scan->first_byte = g_new0(gsize, part->size + 1);
	scan->refs = g_array_new(FALSE, FALSE, sizeof(guint));
	scan->rendered = g_byte_array_new();
	for (guint i = 0; i < part->kids->len; i++)
		is_kid[g_array_index(part->kids, guint, i)] = TRUE;
	for (guint i = 1; i < part->size; i++) {
		scan->first_ref[i] = scan->refs->len;
		scan->first_byte[i] = scan->rendered->len;
		scan->may[i] = cg_concat_may_share(part, is_kid, i);
		if (scan->may[i] &&
		    !cg_concat_copy_value(scan->rendered, part, part->objects[i].value,
					  part->objects[i].value_end, scan->refs, FALSE))
			return FALSE;
	}
	scan->first_ref[part->size] = scan->refs->len;
	scan->first_byte[part->size] = scan->rendered->len;

	for (guint i = 1; i < part->size; i++) {
		guint top[2] = {i, 0};

		if (!scan->may[i] || scan->state[i] != CG_CONCAT_NEW)
			continue;
		scan->state[i] = CG_CONCAT_OPEN;
		g_array_append_val(stack, top);
		while (stack->len > 0) {
			guint *at = &g_array_index(stack, guint, 2 * (stack->len - 1));
			guint o = at[0];

			if (scan->first_ref[o] + at[1] < scan->first_ref[o + 1]) {
				guint r =
				    g_array_index(scan->refs, guint, scan->first_ref[o] + at[1]);

				at[1]++;
				if (!scan->may[r])
					continue;
				if (scan->state[r] == CG_CONCAT_OPEN) {
					scan->blocked[o] = TRUE; /* a cycle: kept */
				} else if (scan->state[r] == CG_CONCAT_NEW) {
					guint next[2] = {r, 0};

					scan->state[r] = CG_CONCAT_OPEN;
					g_array_append_val(stack, next);
				}
				continue;
			}
			g_array_set_size(stack, stack->len - 1);
			scan->state[o] = CG_CONCAT_DECIDED;
			if (!scan->blocked[o] && !cg_concat_share_one(part, scan, o, written))
				return FALSE;
		}
	}
	return TRUE;
}

/* The objects of @parts shared, the others numbered again without gaps
 * (part after part, in object number order): the output's size. */
static gboolean
cg_concat_share(CgConcatPart *parts, guint n_parts, guint size, guint *new_size)
{
	g_autofree CgConcatShareScan *scans = g_new0(CgConcatShareScan, n_parts);
	g_autoptr(GHashTable) written = NULL;
	g_autofree guint *renumber = g_new0(guint, size);
	guint next = CG_CONCAT_INFO + 1;
	gboolean ok = TRUE;

	written = g_hash_table_new_full(cg_concat_key_hash, cg_concat_key_equal, cg_concat_key_free,
					NULL);
	for (guint k = 0; k < n_parts && ok; k++)
		ok = cg_concat_share_part(&parts[k], &scans[k], written);
	/* the keys point into the scans */
	g_clear_pointer(&written, g_hash_table_unref);
	for (guint k = 0; k < n_parts; k++)
		cg_concat_share_scan_clear(&scans[k]);
	if (!ok)
		return FALSE;
	for (guint n = 1; n <= CG_CONCAT_INFO; n++)
		renumber[n] = n;
	for (guint k = 0; k < n_parts; k++)
		for (guint i = 1; i < parts[k].size; i++)
			if (parts[k].map[i] > CG_CONCAT_INFO && !parts[k].shared[i])
				renumber[parts[k].map[i]] = next++;
	for (guint k = 0; k < n_parts; k++)
		for (guint i = 1; i < parts[k].size; i++)
			parts[k].map[i] = renumber[parts[k].map[i]];
	*new_size = next;
	return TRUE;
}

/* Object @i of @part is written as the output's part->map[i] (not the
 * head objects, not one shared with another). */
static gboolean
cg_concat_writes(const CgConcatPart *part, guint i)
{
	return part->map[i] > CG_CONCAT_INFO && (part->shared == NULL || !part->shared[i]);
}

/* @title as a PDF text string: UTF-16BE with its byte order mark, hex. */
static void
cg_concat_append_title(GByteArray *out, const char *title)
{
	g_autofree gunichar2 *utf16 = g_utf8_to_utf16(title, -1, NULL, NULL, NULL);

	g_byte_array_append(out, (const guint8 *)"<FEFF", 5);
	for (const gunichar2 *u = utf16; u != NULL && *u != 0; u++)
		cg_pdf_put_printf(out, "%04X", *u);
	g_byte_array_append(out, (const guint8 *)">", 1);
}

/* The first part's information dictionary, its /Title as @title. */
static gboolean
cg_concat_write_info(GByteArray *out, const CgConcatPart *part, const char *title)
{
	const guchar *p, *key, *value, *value_end;
	gsize length;

	g_byte_array_append(out, (const guint8 *)"<<", 2);
	if (part->info != 0) {
		const CgConcatObject *info = &part->objects[part->info];

		p = info->value;
		while (
		    cg_concat_dict_next(&p, info->value_end, &key, &length, &value, &value_end)) {
			if (title != NULL && cg_concat_key_is(key, length, "Title"))
				continue;
			g_byte_array_append(out, (const guint8 *)" /", 2);
			g_byte_array_append(out, key, (guint)length);
			g_byte_array_append(out, (const guint8 *)" ", 1);
			if (!cg_concat_copy_value(out, part, value, value_end, NULL, FALSE))
				return FALSE;
			g_byte_array_append(out, (const guint8 *)"\n", 1);
		}
		if (p == NULL)
			return FALSE;
	}
	if (title != NULL) {
		g_byte_array_append(out, (const guint8 *)" /Title ", 8);
		cg_concat_append_title(out, title);
		g_byte_array_append(out, (const guint8 *)"\n", 1);
	}
	g_byte_array_append(out, (const guint8 *)">>", 2);
	return TRUE;
}

/* The header, the catalog, the page tree of @kids (the output's numbers)
 * and the information dictionary (@part's, titled @title). */
static gboolean
cg_concat_write_head(GByteArray *out, char version, const GArray *kids, const CgConcatPart *part,
		     const char *title, gsize *offsets)
{
	cg_pdf_put_printf(out, "%%PDF-1.%c\n%%\xb5\xed\xae\xfb\n", version);
	offsets[CG_CONCAT_CATALOG] = out->len;
	cg_pdf_put_printf(out, "%u 0 obj\n<< /Type /Catalog /Pages %u 0 R >>\nendobj\n",
			  CG_CONCAT_CATALOG, CG_CONCAT_PAGES);
	offsets[CG_CONCAT_PAGES] = out->len;
	cg_pdf_put_printf(out, "%u 0 obj\n<< /Type /Pages /Count %u /Kids [", CG_CONCAT_PAGES,
			  kids->len);
	for (guint i = 0; i < kids->len; i++)
		cg_pdf_put_printf(out, "%s%u 0 R", (i % 16) == 0 ? "\n" : " ",
				  g_array_index(kids, guint, i));
	cg_pdf_put_printf(out, " ] >>\nendobj\n");
	offsets[CG_CONCAT_INFO] = out->len;
	cg_pdf_put_printf(out, "%u 0 obj\n", CG_CONCAT_INFO);
	if (!cg_concat_write_info(out, part, title))
		return FALSE;
	cg_pdf_put_printf(out, "\nendobj\n");
	return TRUE;
}

/* Object @i of @part, as the output's part->map[i]. */
static gboolean
cg_concat_write_object(GByteArray *out, const CgConcatPart *part, guint i, gsize *offsets)
{
	const CgConcatObject *object = &part->objects[i];

	offsets[part->map[i]] = out->len;
	cg_pdf_put_printf(out, "%u 0 obj\n", part->map[i]);
	if (!cg_concat_copy_value(out, part, object->value, object->value_end, NULL, FALSE))
		return FALSE;
	if (object->data != NULL) {
		g_byte_array_append(out, (const guint8 *)"\nstream\n", 8);
		g_byte_array_append(out, object->data, (guint)(object->data_end - object->data));
		g_byte_array_append(out, (const guint8 *)"\nendstream", 10);
	}
	g_byte_array_append(out, (const guint8 *)"\nendobj\n", 8);
	return TRUE;
}

/* The cross-reference table of objects 1 .. @size - 1 and the trailer. */
static void
cg_concat_write_tail(GByteArray *out, const gsize *offsets, guint size, const char *id)
{
	gsize xref = out->len;

	cg_pdf_put_printf(out, "xref\n0 %u\n0000000000 65535 f \n", size);
	for (guint i = 1; i < size; i++)
		cg_pdf_put_printf(out, "%010" G_GSIZE_FORMAT " 00000 n \n", offsets[i]);
	cg_pdf_put_printf(out,
			  "trailer\n<< /Size %u /Root %u 0 R /Info %u 0 R /ID [<%s> <%s>] >>\n"
			  "startxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n",
			  size, CG_CONCAT_CATALOG, CG_CONCAT_INFO, id, id, xref);
}

static gboolean
cg_concat_write(GByteArray *out, CgConcatPart *parts, guint n_parts, const char *title, guint size,
		const char *id)
{
	g_autofree gsize *offsets = g_new0(gsize, size);
	g_autoptr(GArray) kids = g_array_new(FALSE, FALSE, sizeof(guint));
	char version = '0';

	for (guint k = 0; k < n_parts; k++) {
		version = MAX(version, parts[k].version);
		for (guint i = 0; i < parts[k].kids->len; i++) {
			guint kid = parts[k].map[g_array_index(parts[k].kids, guint, i)];

			g_array_append_val(kids, kid);
		}
	}
	if (!cg_concat_write_head(out, version, kids, &parts[0], title, offsets))
		return FALSE;
	for (guint k = 0; k < n_parts; k++)
		for (guint i = 1; i < parts[k].size; i++)
			if (cg_concat_writes(&parts[k], i) &&
			    !cg_concat_write_object(out, &parts[k], i, offsets))
				return FALSE;
	cg_concat_write_tail(out, offsets, size, id);
	return TRUE;
}

/*
 * The compact output (CG_PDF_CONCAT_OBJECT_STREAMS, ISO 32000-1 7.5.7 and
 * 7.5.8): every object that is not a stream goes, as it comes, into an
 * object stream of at most CG_CONCAT_OBJSTM_OBJECTS objects, compressed;
 * the streams are written where they come, their dictionaries with every
 * run of spaces and comments as one space; the cross-reference table is a
 * stream too (PNG "Up" rows, compressed). A batch's pages, annotations,
 * resources and /Length objects are much alike: compressed together they
 * cost a few bytes each, where the plain table alone costs 20 bytes an
 * object.
 */
#define CG_CONCAT_OBJSTM_OBJECTS 200
#define CG_CONCAT_ZLIB_LEVEL 6

/* A cross-reference entry: 0 free, 1 at @field in the file, 2 object
 * @index of the object stream numbered @field. */
typedef struct {
	guint8 type;
	guint64 field;
	guint index;
} CgConcatEntry;

typedef struct {
	GByteArray *out;
	GArray *entries;       /* of CgConcatEntry, by the output's number */
	GByteArray *head;      /* the pending object stream: "number offset" pairs */
	GByteArray *body;      /* and its objects */
	GByteArray *deflated;  /* scratch */
	GZlibCompressor *zlib; /* reset for every stream */
	guint members[CG_CONCAT_OBJSTM_OBJECTS];
	guint n_members;
	guint next; /* the next number to give (an object stream, the table) */
} CgConcatCompact;

static CgConcatEntry *
cg_concat_entry(CgConcatCompact *c, guint number)
{
	if (number >= c->entries->len)
		g_array_set_size(c->entries, number + 1);
	return &g_array_index(c->entries, CgConcatEntry, number);
}

/* @data compressed into c->deflated (zlib format). */
static gboolean
cg_concat_deflate(CgConcatCompact *c, const guint8 *data, gsize length)
{
	gsize in = 0, done = 0;

	g_converter_reset(G_CONVERTER(c->zlib));
	g_byte_array_set_size(c->deflated, (guint)MIN(length + length / 8 + 64, G_MAXUINT));
	for (;;) {
		g_autoptr(GError) local_error = NULL;
		gsize read = 0, written = 0;
		GConverterResult result =
		    g_converter_convert(G_CONVERTER(c->zlib), data + in, length - in,
					c->deflated->data + done, c->deflated->len - done,
					G_CONVERTER_INPUT_AT_END, &read, &written, &local_error);

		in += read;
		done += written;
		if (result == G_CONVERTER_FINISHED)
			break;
		if (result == G_CONVERTER_ERROR &&
		    !g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
			return FALSE;
		if (c->deflated->len - done < 64) {
			if (c->deflated->len > G_MAXUINT / 2)
				return FALSE;
			g_byte_array_set_size(c->deflated, c->deflated->len * 2);
		}
	}
	g_byte_array_set_size(c->deflated, (guint)done);
	return TRUE;
}

/* The pending object stream, written (when it has objects). */
static gboolean
cg_concat_flush_objstm(CgConcatCompact *c)
{
	guint number, first;

	if (c->n_members == 0)
		return TRUE;
	number = c->next++;
	for (guint i = 0; i < c->n_members; i++)
		*cg_concat_entry(c, c->members[i]) = (CgConcatEntry){2, number, i};
	*cg_concat_entry(c, number) = (CgConcatEntry){1, c->out->len, 0};
	first = c->head->len;
	g_byte_array_append(c->head, c->body->data, c->body->len);
	if (!cg_concat_deflate(c, c->head->data, c->head->len))
		return FALSE;
	cg_pdf_put_printf(c->out,
			  "%u 0 obj\n<< /Type /ObjStm /N %u /First %u /Filter /FlateDecode /Length "
			  "%u >>\nstream\n",
			  number, c->n_members, first, c->deflated->len);
	g_byte_array_append(c->out, c->deflated->data, c->deflated->len);
	g_byte_array_append(c->out, (const guint8 *)"\nendstream\nendobj\n", 18);
	g_byte_array_set_size(c->head, 0);
	g_byte_array_set_size(c->body, 0);
	c->n_members = 0;
	return TRUE;
}

/* Object @number of the output into the pending object stream: its value
 * is appended to c->body next, then cg_concat_end_member(). */
static void
cg_concat_begin_member(CgConcatCompact *c, guint number)
{
	cg_pdf_put_printf(c->head, "%u %u ", number, c->body->len);
	c->members[c->n_members++] = number;
}

static gboolean
cg_concat_end_member(CgConcatCompact *c)
{
	g_byte_array_append(c->body, (const guint8 *)"\n", 1);
	return c->n_members < CG_CONCAT_OBJSTM_OBJECTS || cg_concat_flush_objstm(c);
}

/* Object @i of @part: a stream where it comes, any other object into the
 * pending object stream. */
static gboolean
cg_concat_compact_object(CgConcatCompact *c, const CgConcatPart *part, guint i)
{
	const CgConcatObject *object = &part->objects[i];

	if (object->data == NULL) {
		cg_concat_begin_member(c, part->map[i]);
		return cg_concat_copy_value(c->body, part, object->value, object->value_end, NULL,
					    TRUE) &&
		       cg_concat_end_member(c);
	}
	*cg_concat_entry(c, part->map[i]) = (CgConcatEntry){1, c->out->len, 0};
	cg_pdf_put_printf(c->out, "%u 0 obj\n", part->map[i]);
	if (!cg_concat_copy_value(c->out, part, object->value, object->value_end, NULL, TRUE))
		return FALSE;
	g_byte_array_append(c->out, (const guint8 *)"\nstream\n", 8);
	g_byte_array_append(c->out, object->data, (guint)(object->data_end - object->data));
	g_byte_array_append(c->out, (const guint8 *)"\nendstream\nendobj\n", 18);
	return TRUE;
}

/* The big-endian @value in @width bytes at @row. */
static void
cg_concat_put_be(guint8 *row, guint width, guint64 value)
{
	for (guint k = width; k > 0; k--) {
		row[k - 1] = (guint8)(value & 0xff);
		value >>= 8;
	}
}

/* The cross-reference stream (its own number the last one) and the end of
 * the file. */
static gboolean
cg_concat_write_xref_stream(CgConcatCompact *c, const char *id)
{
	guint number = c->next++;
	guint size = number + 1, width = 1, columns;
	gsize xref = c->out->len;
	g_autofree guint8 *rows = NULL;
	g_autofree guint8 *prev = NULL;

	*cg_concat_entry(c, number) = (CgConcatEntry){1, xref, 0};
	*cg_concat_entry(c, 0) = (CgConcatEntry){0, 0, 0xffff};
	g_assert(c->entries->len == size);
	while (width < 8 && (MAX((guint64)xref, (guint64)size) >> (8 * width)) != 0)
		width++;
	columns = 1 + width + 2;
	/* each row a PNG "Up" row: its filter byte, the difference from the
	 * row above */
	rows = g_malloc((gsize)size * (columns + 1));
	prev = g_malloc0(columns);
	for (guint i = 0; i < size; i++) {
		const CgConcatEntry *entry = &g_array_index(c->entries, CgConcatEntry, i);
		guint8 *row = rows + (gsize)i * (columns + 1);
		guint8 raw[1 + 8 + 2];

		raw[0] = entry->type;
		cg_concat_put_be(raw + 1, width, entry->field);
		cg_concat_put_be(raw + 1 + width, 2, entry->index);
		row[0] = 2;
		for (guint k = 0; k < columns; k++)
			row[1 + k] = (guint8)(raw[k] - prev[k]);
		memcpy(prev, raw, columns);
	}
	if (!cg_concat_deflate(c, rows, (gsize)size * (columns + 1)))
		return FALSE;
	cg_pdf_put_printf(c->out,
			  "%u 0 obj\n<< /Type /XRef /Size %u /W [1 %u 2] /Root %u 0 R /Info %u 0 R"
			  " /ID [<%s> <%s>]\n",
			  number, size, width, CG_CONCAT_CATALOG, CG_CONCAT_INFO, id, id);
	cg_pdf_put_printf(c->out,
			  "/Filter /FlateDecode /DecodeParms << /Columns %u /Predictor 12 >> "
			  "/Length %u >>\nstream\n",
			  columns, c->deflated->len);
	g_byte_array_append(c->out, c->deflated->data, c->deflated->len);
	cg_pdf_put_printf(c->out, "\nendstream\nendobj\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n",
			  xref);
	return TRUE;
}

/* The head objects (the catalog, the page tree of @kids, the information
 * dictionary) into the first object stream. */
static gboolean
cg_concat_compact_head(CgConcatCompact *c, const GArray *kids, const CgConcatPart *part,
		       const char *title)
{
	cg_concat_begin_member(c, CG_CONCAT_CATALOG);
	cg_pdf_put_printf(c->body, "<< /Type /Catalog /Pages %u 0 R >>", CG_CONCAT_PAGES);
	if (!cg_concat_end_member(c))
		return FALSE;
	cg_concat_begin_member(c, CG_CONCAT_PAGES);
	cg_pdf_put_printf(c->body, "<< /Type /Pages /Count %u /Kids [", kids->len);
	for (guint i = 0; i < kids->len; i++)
		cg_pdf_put_printf(c->body, " %u 0 R", g_array_index(kids, guint, i));
	cg_pdf_put_printf(c->body, " ] >>");
	if (!cg_concat_end_member(c))
		return FALSE;
	cg_concat_begin_member(c, CG_CONCAT_INFO);
	return cg_concat_write_info(c->body, part, title) && cg_concat_end_member(c);
}

static gboolean
cg_concat_write_compact(GByteArray *out, CgConcatPart *parts, guint n_parts, const char *title,
			guint size, const char *id)
{
	g_autoptr(GArray) kids = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) entries = g_array_sized_new(FALSE, TRUE, sizeof(CgConcatEntry), size);
	g_autoptr(GByteArray) head = g_byte_array_new();
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autoptr(GByteArray) deflated = g_byte_array_new();
	g_autoptr(GZlibCompressor) zlib =
	    g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB, CG_CONCAT_ZLIB_LEVEL);
	CgConcatCompact c = {out, entries, head, body, deflated, zlib, {0}, 0, size};
	char version = '5'; /* object streams: PDF 1.5 */

	for (guint k = 0; k < n_parts; k++) {
		version = MAX(version, parts[k].version);
		for (guint i = 0; i < parts[k].kids->len; i++) {
			guint kid = parts[k].map[g_array_index(parts[k].kids, guint, i)];

			g_array_append_val(kids, kid);
		}
	}
	cg_pdf_put_printf(out, "%%PDF-1.%c\n%%\xb5\xed\xae\xfb\n", version);
	if (!cg_concat_compact_head(&c, kids, &parts[0], title))
		return FALSE;
	for (guint k = 0; k < n_parts; k++)
		for (guint i = 1; i < parts[k].size; i++)
			if (cg_concat_writes(&parts[k], i) &&
			    !cg_concat_compact_object(&c, &parts[k], i))
				return FALSE;
	return cg_concat_flush_objstm(&c) && cg_concat_write_xref_stream(&c, id);
}

GByteArray *
cg_pdf_concat(GBytes *const *parts, guint n_parts, const char *title, CgPdfConcatFlags flags)
{
	g_autofree CgConcatPart *read = NULL;
	g_autoptr(GByteArray) out = NULL;
	g_autoptr(GChecksum) md5 = NULL;
	gsize total = 0;
	gboolean ok = TRUE;
	guint size;

	g_return_val_if_fail(parts != NULL && n_parts > 0, NULL);

	read = g_new0(CgConcatPart, n_parts);
	md5 = g_checksum_new(G_CHECKSUM_MD5);
	for (guint k = 0; k < n_parts && ok; k++) {
		ok = cg_concat_read_part(&read[k], parts[k]);
		total += g_bytes_get_size(parts[k]);
		g_checksum_update(md5, g_bytes_get_data(parts[k], NULL),
				  g_bytes_get_size(parts[k]));
	}
	if (title != NULL)
		g_checksum_update(md5, (const guchar *)title, -1);
	if (ok) {
		size = cg_concat_number(read, n_parts);
		if ((flags & CG_PDF_CONCAT_SHARE) != 0)
			ok = cg_concat_share(read, n_parts, size, &size);
	}
	if (ok) {
		out = g_byte_array_sized_new((guint)MIN(total + 64 * 1024 + size * 24, G_MAXUINT));
		if ((flags & CG_PDF_CONCAT_OBJECT_STREAMS) != 0)
			ok = cg_concat_write_compact(out, read, n_parts, title, size,
						     g_checksum_get_string(md5));
		else
			ok = cg_concat_write(out, read, n_parts, title, size,
					     g_checksum_get_string(md5));
	}
	for (guint k = 0; k < n_parts; k++)
		cg_concat_part_clear(&read[k]);
	return ok ? g_steal_pointer(&out) : NULL;
}

/* Marks in @reach what page @kid uses: the objects it refers to, and
 * theirs, but not the catalog, the page tree or the information
 * dictionary. */
static gboolean
cg_concat_reach(CgConcatPart *part, guint kid, gboolean *reach)
{
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) refs = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GByteArray) scratch = g_byte_array_new();

	reach[kid] = TRUE;
	g_array_append_val(stack, kid);
	while (stack->len > 0) {
		guint n = g_array_index(stack, guint, stack->len - 1);
		const CgConcatObject *object = &part->objects[n];

		g_array_set_size(stack, stack->len - 1);
		g_array_set_size(refs, 0);
		g_byte_array_set_size(scratch, 0);
		if (!cg_concat_copy_value(scratch, part, object->value, object->value_end, refs,
					  FALSE))
			return FALSE;
		for (guint i = 0; i < refs->len; i++) {
			guint ref = g_array_index(refs, guint, i);

			if (ref == part->root || ref == part->pages || ref == part->info ||
			    part->offsets[ref] == NULL || reach[ref])
				continue;
			reach[ref] = TRUE;
			g_array_append_val(stack, ref);
		}
	}
	return TRUE;
}

/* Page @index of @part alone, titled @title. */
static GBytes *
cg_concat_page(CgConcatPart *part, guint index, const char *title)
{
	g_autofree gboolean *reach = g_new0(gboolean, part->size);
	g_autofree gsize *offsets = NULL;
	g_autoptr(GByteArray) out = NULL;
	g_autoptr(GArray) kids = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
	guint kid = g_array_index(part->kids, guint, index);
	guint next = CG_CONCAT_INFO + 1;
	gsize body = 0;

	if (!cg_concat_reach(part, kid, reach))
		return NULL;
	memset(part->map, 0, part->size * sizeof(guint));
	part->map[part->root] = CG_CONCAT_CATALOG;
	part->map[part->pages] = CG_CONCAT_PAGES;
	if (part->info != 0)
		part->map[part->info] = CG_CONCAT_INFO;
	for (guint i = 1; i < part->size; i++) {
		const CgConcatObject *object = &part->objects[i];

		if (!reach[i])
			continue;
		part->map[i] = next++;
		body += (gsize)(object->value_end - object->value) + 64;
		if (object->data != NULL)
			body += (gsize)(object->data_end - object->data);
	}
	g_array_append_val(kids, part->map[kid]);
	offsets = g_new0(gsize, next);
	out = g_byte_array_sized_new((guint)MIN(body + 4096 + next * 24, G_MAXUINT));
	if (!cg_concat_write_head(out, part->version, kids, part, title, offsets))
		return NULL;
	for (guint i = 1; i < part->size; i++)
		if (reach[i] && !cg_concat_write_object(out, part, i, offsets))
			return NULL;
	/* the /ID from the content */
	g_checksum_update(md5, out->data, out->len);
	cg_concat_write_tail(out, offsets, next, g_checksum_get_string(md5));
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

GPtrArray *
cg_pdf_split(GBytes *pdf, const char *const *titles, guint n_titles)
{
	CgConcatPart part = {0};
	g_autoptr(GPtrArray) pages = NULL;
	gboolean ok;

	g_return_val_if_fail(pdf != NULL, NULL);
	g_return_val_if_fail(titles != NULL || n_titles == 0, NULL);

	ok = cg_concat_read_part(&part, pdf) && part.kids->len == n_titles;
	if (ok) {
		part.map = g_new0(guint, part.size);
		pages = g_ptr_array_new_full(n_titles, (GDestroyNotify)g_bytes_unref);
	}
	for (guint i = 0; ok && i < n_titles; i++) {
		GBytes *page = cg_concat_page(&part, i, titles[i]);

		ok = page != NULL;
		if (ok)
			g_ptr_array_add(pages, page);
	}
	cg_concat_part_clear(&part);
	return ok ? g_steal_pointer(&pages) : NULL;
}

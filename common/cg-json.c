/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Keys and values quoted in messages are cut to this many characters. */
#define CG_JSON_QUOTE_MAX_CHARS 64

/* ---- errors ------------------------------------------------------------------------------ */

typedef struct {
	char *path;
	char *what;
	gsize offset;
} CgJsonErrorPrivate;

/* The NULL checks keep -Wnull-dereference quiet about the wrappers that
 * G_DEFINE_EXTENDED_ERROR generates around these. */
static void
cg_json_error_private_init(CgJsonErrorPrivate *priv)
{
	if (priv == NULL)
		return;
	priv->offset = G_MAXSIZE;
}

static void
cg_json_error_private_copy(const CgJsonErrorPrivate *src, CgJsonErrorPrivate *dest)
{
	if (src == NULL || dest == NULL)
		return;
	dest->path = g_strdup(src->path);
	dest->what = g_strdup(src->what);
	dest->offset = src->offset;
}

static void
cg_json_error_private_clear(CgJsonErrorPrivate *priv)
{
	if (priv == NULL)
		return;
	g_clear_pointer(&priv->path, g_free);
	g_clear_pointer(&priv->what, g_free);
}

G_DEFINE_EXTENDED_ERROR(CgJsonError, cg_json_error)

static CgJsonErrorPrivate *
cg_json_error_private_of(const GError *error)
{
	if (error == NULL || error->domain != CG_JSON_ERROR)
		return NULL;
	return cg_json_error_get_private(error);
}

const char *
cg_json_error_get_path(const GError *error)
{
	CgJsonErrorPrivate *priv = cg_json_error_private_of(error);

	return priv != NULL ? priv->path : NULL;
}

const char *
cg_json_error_get_what(const GError *error)
{
	CgJsonErrorPrivate *priv = cg_json_error_private_of(error);

	return priv != NULL ? priv->what : NULL;
}

gsize
cg_json_error_get_offset(const GError *error)
{
	CgJsonErrorPrivate *priv = cg_json_error_private_of(error);

	return priv != NULL ? priv->offset : G_MAXSIZE;
}

const char *
cg_json_error_describe(const GError *error)
{
	if (error == NULL || error->domain != CG_JSON_ERROR)
		return "an error";
	switch ((CgJsonError)error->code) {
	case CG_JSON_ERROR_TOO_LARGE:
		return "too large";
	case CG_JSON_ERROR_EMPTY:
		return "empty";
	case CG_JSON_ERROR_ENCODING:
		return "not UTF-8 or a NUL byte";
	case CG_JSON_ERROR_NUL:
		return "a \\u0000 escape";
	case CG_JSON_ERROR_SYNTAX:
		return "a syntax error";
	case CG_JSON_ERROR_DEPTH:
		return "nested too deep";
	case CG_JSON_ERROR_DUPLICATE:
		return "a repeated key";
	case CG_JSON_ERROR_ARRAY_LENGTH:
		return "an array too long";
	case CG_JSON_ERROR_VALUES:
		return "too many values";
	}
	return "an error";
}

/* Takes @path and @what. */
static void
cg_json_set_error(GError **error, CgJsonError code, char *path, char *what, gsize offset)
{
	g_autofree char *owned_path = path;
	g_autofree char *owned_what = what;
	g_autofree char *where = NULL;
	CgJsonErrorPrivate *priv;
	GError *new_error;

	if (error == NULL)
		return;
	where = offset != G_MAXSIZE ? g_strdup_printf(" at byte offset %" G_GSIZE_FORMAT, offset)
				    : g_strdup("");
	if (owned_path == NULL || *owned_path == '\0')
		new_error = g_error_new(CG_JSON_ERROR, code, "%s%s", owned_what, where);
	else
		new_error =
		    g_error_new(CG_JSON_ERROR, code, "%s: %s%s", owned_path, owned_what, where);
	priv = cg_json_error_get_private(new_error);
	priv->path = owned_path != NULL ? g_steal_pointer(&owned_path) : g_strdup("");
	priv->what = g_steal_pointer(&owned_what);
	priv->offset = offset;
	g_propagate_error(error, new_error);
}

char *
cg_json_quote(const char *text)
{
	GString *out;
	const char *p = text;

	g_return_val_if_fail(text != NULL, NULL);

	if (*text == '\0')
		return g_strdup("\"\""); /* an empty key */
	out = g_string_new(NULL);
	for (guint i = 0; i < CG_JSON_QUOTE_MAX_CHARS && *p != '\0'; i++) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			g_string_append_printf(out, "\\u%04X", c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	if (*p != '\0')
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

const char *
cg_json_escape_byte(unsigned char c, char buf[8])
{
	static const char *const short_escapes[] = {
	    ['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
	    ['\n'] = "\\n", ['\r'] = "\\r",  ['\t'] = "\\t",
	};

	if (c < G_N_ELEMENTS(short_escapes) && short_escapes[c] != NULL)
		return short_escapes[c];
	if (c >= 0x20)
		return NULL;
	g_snprintf(buf, 8, "\\u%04x", c);
	return buf;
}

guint64
cg_json_values_budget(gsize length)
{
	/* An empty object, the costliest value per byte of text, takes some
	 * 320 bytes in json-glib (measured: 5.2 million of them, 1.7 GB). So
	 * 192 Ki values are some 60 MiB, and one per 40 bytes of text is 8
	 * bytes of tree per byte. */
	return (G_GUINT64_CONSTANT(192) * 1024) + length / 40;
}

/* ---- the parser -------------------------------------------------------------------------- */

/* An open container. */
typedef struct {
	JsonNode *node;	  /* owned by its parent, or the root */
	char *key;	  /* objects: the last key read */
	guint length;	  /* arrays: elements so far */
	guint index;	  /* arrays: the element being parsed */
	gboolean pending; /* a member's or element's value is being parsed */
} CgJsonFrame;

typedef struct {
	const char *text;
	gsize length;
	gsize pos;
	guint max_depth;
	guint max_array_length;
	guint64 max_values;
	guint64 n_values;
	GCancellable *cancellable;
	JsonNode *root;
	CgJsonFrame frames[CG_JSON_MAX_DEPTH];
	guint depth;
	GString *scratch;  /* the string being decoded */
	GHashTable *spans; /* top-level members, or NULL */
	gsize span_start;
} CgJsonParser;

static void
cg_json_parser_clear(CgJsonParser *parser)
{
	for (guint i = 0; i < parser->depth; i++)
		g_clear_pointer(&parser->frames[i].key, g_free);
	parser->depth = 0;
	g_clear_pointer(&parser->root, json_node_unref);
	if (parser->scratch != NULL)
		g_string_free(parser->scratch, TRUE);
	parser->scratch = NULL;
	g_clear_pointer(&parser->spans, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgJsonParser, cg_json_parser_clear)

static gboolean
cg_json_frame_is_object(const CgJsonFrame *frame)
{
	return JSON_NODE_HOLDS_OBJECT(frame->node);
}

/* The path of the value being parsed: the member or element of every open
 * container whose value is in progress; the innermost container's own path
 * if @container_only. Between members (at a ',' or a bracket) the path is
 * the container's. */
static char *
cg_json_path(const CgJsonParser *parser, gboolean container_only)
{
	GString *path = g_string_new(NULL);
	guint depth = parser->depth;

	if (container_only && depth > 0)
		depth--;
	for (guint i = 0; i < depth; i++) {
		const CgJsonFrame *frame = &parser->frames[i];

		if (!frame->pending)
			break;
		if (cg_json_frame_is_object(frame)) {
			g_autofree char *quoted = cg_json_quote(frame->key);

			if (path->len > 0)
				g_string_append_c(path, '.');
			g_string_append(path, quoted);
		} else {
			g_string_append_printf(path, "[%u]", frame->index);
		}
	}
	return g_string_free(path, FALSE);
}

static gboolean
cg_json_fail(CgJsonParser *parser, GError **error, CgJsonError code, char *what)
{
	cg_json_set_error(error, code, cg_json_path(parser, FALSE), what, parser->pos);
	return FALSE;
}

static gboolean
cg_json_syntax(CgJsonParser *parser, GError **error, const char *what)
{
	return cg_json_fail(parser, error, CG_JSON_ERROR_SYNTAX, g_strdup(what));
}

static gboolean
cg_json_unexpected(CgJsonParser *parser, GError **error, const char *expected)
{
	char *what;

	if (parser->pos >= parser->length) {
		what = g_strdup_printf("unexpected end of data, expected %s", expected);
	} else {
		gunichar c = g_utf8_get_char(parser->text + parser->pos);

		if (c > 0x20 && c < 0x7f)
			what = g_strdup_printf("unexpected '%c', expected %s", (char)c, expected);
		else
			what = g_strdup_printf("unexpected U+%04X, expected %s", c, expected);
	}
	return cg_json_fail(parser, error, CG_JSON_ERROR_SYNTAX, what);
}

static void
cg_json_skip_whitespace(CgJsonParser *parser)
{
	while (parser->pos < parser->length) {
		char c = parser->text[parser->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		parser->pos++;
	}
}

static gboolean
cg_json_peek(const CgJsonParser *parser, char c)
{
	return parser->pos < parser->length && parser->text[parser->pos] == c;
}

static gint
cg_json_hex4(const CgJsonParser *parser, gsize at)
{
	gint value = 0;

	if (at > parser->length || parser->length - at < 4)
		return -1;
	for (gsize i = at; i < at + 4; i++) {
		gint digit = g_ascii_xdigit_value(parser->text[i]);

		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

static char
cg_json_unescape(char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return '\0';
	}
}

/* A string, decoded into parser->scratch; parser->pos is at its opening
 * quote. The text is valid UTF-8 (checked before), so runs of plain
 * characters are copied as they are. */
static gboolean
cg_json_string(CgJsonParser *parser, GError **error)
{
	gsize start = parser->pos;
	gsize run;

	if (!cg_json_peek(parser, '"'))
		return cg_json_unexpected(parser, error, "a string");
	g_string_truncate(parser->scratch, 0);
	parser->pos++;
	run = parser->pos;
	while (parser->pos < parser->length) {
		guchar c = parser->text[parser->pos];
		gint unit;
		char plain;

		if (c != '"' && c != '\\' && c >= 0x20) {
			parser->pos++;
			continue;
		}
		g_string_append_len(parser->scratch, parser->text + run, parser->pos - run);
		if (c == '"') {
			parser->pos++;
			return TRUE;
		}
		if (c < 0x20) {
			return cg_json_fail(
			    parser, error, CG_JSON_ERROR_SYNTAX,
			    g_strdup_printf("unescaped control character U+%04X in a string", c));
		}
		if (parser->pos + 1 >= parser->length)
			break;
		c = parser->text[parser->pos + 1];
		plain = cg_json_unescape(c);
		if (plain != '\0') {
			g_string_append_c(parser->scratch, plain);
			parser->pos += 2;
			run = parser->pos;
			continue;
		}
		if (c != 'u')
			return cg_json_syntax(parser, error, "invalid escape");
		unit = cg_json_hex4(parser, parser->pos + 2);
		if (unit < 0)
			return cg_json_syntax(parser, error, "invalid \\u escape");
		if (unit == 0)
			return cg_json_fail(parser, error, CG_JSON_ERROR_NUL,
					    g_strdup("NUL character (\\u0000)"));
		if (unit >= 0xdc00 && unit <= 0xdfff)
			return cg_json_syntax(parser, error, "unpaired surrogate");
		if (unit >= 0xd800 && unit <= 0xdbff) {
			gint low = -1;

			if (parser->length - parser->pos >= 12 &&
			    parser->text[parser->pos + 6] == '\\' &&
			    parser->text[parser->pos + 7] == 'u')
				low = cg_json_hex4(parser, parser->pos + 8);
			if (low < 0xdc00 || low > 0xdfff)
				return cg_json_syntax(parser, error, "unpaired surrogate");
			unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
			parser->pos += 6;
		}
		g_string_append_unichar(parser->scratch, (gunichar)unit);
		parser->pos += 6;
		run = parser->pos;
	}
	parser->pos = start; /* where it opens */
	return cg_json_syntax(parser, error, "unterminated string");
}

static gboolean
cg_json_digits(CgJsonParser *parser)
{
	gsize start = parser->pos;

	while (parser->pos < parser->length && g_ascii_isdigit(parser->text[parser->pos]))
		parser->pos++;
	return parser->pos > start;
}

/* A number: an int64 when it is an integer that fits, a double otherwise
 * (as json-glib does; out of a double's range it is ±inf). */
static JsonNode *
cg_json_number(CgJsonParser *parser, GError **error)
{
	gsize start = parser->pos;
	gboolean integer = TRUE;
	JsonNode *node;

	if (cg_json_peek(parser, '-'))
		parser->pos++;
	if (cg_json_peek(parser, '0')) {
		parser->pos++;
	} else if (!cg_json_digits(parser)) {
		parser->pos = start;
		cg_json_syntax(parser, error, "invalid number");
		return NULL;
	}
	if (cg_json_peek(parser, '.')) {
		integer = FALSE;
		parser->pos++;
		if (!cg_json_digits(parser)) {
			parser->pos = start;
			cg_json_syntax(parser, error, "invalid number");
			return NULL;
		}
	}
	if (cg_json_peek(parser, 'e') || cg_json_peek(parser, 'E')) {
		integer = FALSE;
		parser->pos++;
		if (cg_json_peek(parser, '+') || cg_json_peek(parser, '-'))
			parser->pos++;
		if (!cg_json_digits(parser)) {
			parser->pos = start;
			cg_json_syntax(parser, error, "invalid number");
			return NULL;
		}
	}

	/* the text is not NUL-terminated: convert a copy */
	g_string_truncate(parser->scratch, 0);
	g_string_append_len(parser->scratch, parser->text + start, parser->pos - start);
	node = json_node_alloc();
	if (integer) {
		gint64 value;

		errno = 0;
		value = g_ascii_strtoll(parser->scratch->str, NULL, 10);
		if (errno == 0)
			return json_node_init_int(node, value);
	}
	return json_node_init_double(node, g_ascii_strtod(parser->scratch->str, NULL));
}

/* Hands @node to the open container (or makes it the root). */
static void
cg_json_attach(CgJsonParser *parser, JsonNode *node)
{
	CgJsonFrame *frame;

	if (parser->depth == 0) {
		parser->root = node;
		return;
	}
	frame = &parser->frames[parser->depth - 1];
	if (cg_json_frame_is_object(frame)) {
		json_object_set_member(json_node_get_object(frame->node), frame->key, node);
	} else {
		json_array_add_element(json_node_get_array(frame->node), node);
		frame->length++;
	}
}

/* A value has ended at parser->pos: its container's member or element is
 * complete, a top-level member's span is known. */
static void
cg_json_value_done(CgJsonParser *parser)
{
	CgJsonSpan *span;

	if (parser->depth > 0)
		parser->frames[parser->depth - 1].pending = FALSE;
	if (parser->spans == NULL || parser->depth != 1 ||
	    !cg_json_frame_is_object(&parser->frames[0]))
		return;
	span = g_new(CgJsonSpan, 1);
	span->start = parser->span_start;
	span->end = parser->pos;
	g_hash_table_insert(parser->spans, g_strdup(parser->frames[0].key), span);
}

/* A member's key and colon, in the innermost (object) container. */
static gboolean
cg_json_object_key(CgJsonParser *parser, GError **error)
{
	CgJsonFrame *frame = &parser->frames[parser->depth - 1];
	gsize key_start;

	cg_json_skip_whitespace(parser);
	if (!cg_json_peek(parser, '"'))
		return cg_json_unexpected(parser, error, "a string (object key)");
	key_start = parser->pos;
	if (!cg_json_string(parser, error))
		return FALSE;
	g_free(frame->key);
	frame->key = g_strdup(parser->scratch->str);
	frame->pending = TRUE;
	if (json_object_has_member(json_node_get_object(frame->node), frame->key)) {
		parser->pos = key_start;
		return cg_json_fail(parser, error, CG_JSON_ERROR_DUPLICATE,
				    g_strdup("duplicate field"));
	}
	cg_json_skip_whitespace(parser);
	if (!cg_json_peek(parser, ':'))
		return cg_json_unexpected(parser, error, "':'");
	parser->pos++;
	return TRUE;
}

/* Before a value: the array it goes into has room, the values budget too. */
static gboolean
cg_json_count_value(CgJsonParser *parser, GError **error)
{
	if (parser->depth > 0) {
		CgJsonFrame *frame = &parser->frames[parser->depth - 1];

		if (!cg_json_frame_is_object(frame)) {
			if (parser->max_array_length > 0 &&
			    frame->length >= parser->max_array_length) {
				cg_json_set_error(error, CG_JSON_ERROR_ARRAY_LENGTH,
						  cg_json_path(parser, TRUE),
						  g_strdup_printf("more than %u elements",
								  parser->max_array_length),
						  parser->pos);
				return FALSE;
			}
			frame->index = frame->length;
			frame->pending = TRUE;
		} else if (parser->depth == 1) {
			parser->span_start = parser->pos;
		}
	}
	parser->n_values++;
	if (parser->cancellable != NULL && parser->n_values % CG_JSON_CANCEL_STRIDE == 0 &&
	    g_cancellable_set_error_if_cancelled(parser->cancellable, error))
		return FALSE;
	if (parser->max_values > 0 && parser->n_values > parser->max_values)
		return cg_json_fail(
		    parser, error, CG_JSON_ERROR_VALUES,
		    g_strdup_printf("more than %" G_GUINT64_FORMAT " values", parser->max_values));
	return TRUE;
}

/* Opens an object or an array; parser->pos is at its bracket. */
static gboolean
cg_json_open(CgJsonParser *parser, char bracket, GError **error)
{
	JsonNode *node;
	CgJsonFrame *frame;

	if (parser->depth >= parser->max_depth)
		return cg_json_fail(
		    parser, error, CG_JSON_ERROR_DEPTH,
		    g_strdup_printf("nested deeper than %u levels", parser->max_depth));
	node = json_node_alloc();
	if (bracket == '{')
		json_node_take_object(json_node_init(node, JSON_NODE_OBJECT), json_object_new());
	else
		json_node_take_array(json_node_init(node, JSON_NODE_ARRAY), json_array_new());
	cg_json_attach(parser, node);
	frame = &parser->frames[parser->depth++];
	frame->node = node;
	frame->key = NULL;
	frame->length = 0;
	frame->index = 0;
	frame->pending = FALSE;
	parser->pos++;
	return TRUE;
}

static void
cg_json_close(CgJsonParser *parser)
{
	CgJsonFrame *frame = &parser->frames[--parser->depth];

	g_clear_pointer(&frame->key, g_free);
	parser->pos++;
	cg_json_value_done(parser);
}

/* A string, number or literal. */
static gboolean
cg_json_scalar(CgJsonParser *parser, GError **error)
{
	const char *at = parser->text + parser->pos;
	gsize left = parser->length - parser->pos;
	char c = *at;
	JsonNode *node;

	if (c == '"') {
		if (!cg_json_string(parser, error))
			return FALSE;
		node = json_node_init_string(json_node_alloc(), parser->scratch->str);
	} else if (c == '-' || g_ascii_isdigit(c)) {
		node = cg_json_number(parser, error);
		if (node == NULL)
			return FALSE;
	} else if (left >= 4 && memcmp(at, "true", 4) == 0) {
		node = json_node_init_boolean(json_node_alloc(), TRUE);
		parser->pos += 4;
	} else if (left >= 5 && memcmp(at, "false", 5) == 0) {
		node = json_node_init_boolean(json_node_alloc(), FALSE);
		parser->pos += 5;
	} else if (left >= 4 && memcmp(at, "null", 4) == 0) {
		node = json_node_init_null(json_node_alloc());
		parser->pos += 4;
	} else {
		return cg_json_unexpected(parser, error, "a value");
	}
	cg_json_attach(parser, node);
	cg_json_value_done(parser);
	return TRUE;
}

/* After a value inside a container: ',' and the next one, or the close.
 * *@want_value tells which came. */
static gboolean
cg_json_after_value(CgJsonParser *parser, gboolean *want_value, GError **error)
{
	CgJsonFrame *frame = &parser->frames[parser->depth - 1];
	gboolean is_object = cg_json_frame_is_object(frame);

	if (cg_json_peek(parser, is_object ? '}' : ']')) {
		cg_json_close(parser);
		*want_value = FALSE;
		return TRUE;
	}
	if (!cg_json_peek(parser, ','))
		return cg_json_unexpected(parser, error, is_object ? "',' or '}'" : "',' or ']'");
	parser->pos++;
	if (is_object && !cg_json_object_key(parser, error))
		return FALSE;
	*want_value = TRUE;
	return TRUE;
}

/* One value, then only whitespace. Iterative: parser->frames holds the
 * open containers. */
static gboolean
cg_json_parse_text(CgJsonParser *parser, GError **error)
{
	gboolean want_value = TRUE;

	cg_json_skip_whitespace(parser);
	if (parser->pos == parser->length) {
		cg_json_set_error(error, CG_JSON_ERROR_EMPTY, NULL, g_strdup("empty"), G_MAXSIZE);
		return FALSE;
	}
	while (TRUE) {
		char c;

		cg_json_skip_whitespace(parser);
		if (!want_value) {
			if (parser->depth == 0) {
				if (parser->pos < parser->length)
					return cg_json_unexpected(parser, error,
								  "end of data after the value");
				return TRUE;
			}
			if (!cg_json_after_value(parser, &want_value, error))
				return FALSE;
			continue;
		}

		if (parser->pos >= parser->length)
			return cg_json_unexpected(parser, error, "a value");
		if (!cg_json_count_value(parser, error))
			return FALSE;
		c = parser->text[parser->pos];
		if (c != '{' && c != '[') {
			if (!cg_json_scalar(parser, error))
				return FALSE;
			want_value = FALSE;
			continue;
		}
		if (!cg_json_open(parser, c, error))
			return FALSE;
		/* the closing bracket or the first member comes next */
		cg_json_skip_whitespace(parser);
		if (cg_json_peek(parser, c == '{' ? '}' : ']')) {
			cg_json_close(parser);
			want_value = FALSE;
			continue;
		}
		if (c == '{' && !cg_json_object_key(parser, error))
			return FALSE;
	}
}

JsonNode *
cg_json_parse_with_spans(const char *text, gsize length, const CgJsonLimits *limits,
			 GHashTable **spans, GError **error)
{
	g_auto(CgJsonParser) parser = {0};
	const char *end = NULL;

	g_return_val_if_fail(text != NULL || length == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (spans != NULL)
		*spans = NULL;
	if (text == NULL)
		text = "";
	if (limits != NULL && limits->max_bytes > 0 && length > limits->max_bytes) {
		cg_json_set_error(error, CG_JSON_ERROR_TOO_LARGE, NULL,
				  g_strdup_printf("too large (%" G_GSIZE_FORMAT
						  " bytes, at most %" G_GSIZE_FORMAT ")",
						  length, limits->max_bytes),
				  G_MAXSIZE);
		return NULL;
	}
	if (!g_utf8_validate_len(text, length, &end)) {
		cg_json_set_error(error, CG_JSON_ERROR_ENCODING, NULL,
				  g_strdup(*end == '\0' ? "NUL byte" : "not valid UTF-8"),
				  (gsize)(end - text));
		return NULL;
	}

	parser.text = text;
	parser.length = length;
	parser.max_depth = CG_JSON_MAX_DEPTH;
	if (limits != NULL) {
		if (limits->max_depth > 0 && limits->max_depth < CG_JSON_MAX_DEPTH)
			parser.max_depth = limits->max_depth;
		parser.max_array_length = limits->max_array_length;
		parser.max_values = limits->max_values;
		parser.cancellable = limits->cancellable;
	}
	parser.scratch = g_string_sized_new(64);
	if (spans != NULL)
		parser.spans = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!cg_json_parse_text(&parser, error))
		return NULL;
	if (spans != NULL && JSON_NODE_HOLDS_OBJECT(parser.root))
		*spans = g_steal_pointer(&parser.spans);
	return g_steal_pointer(&parser.root);
}

JsonNode *
cg_json_parse(const char *text, gsize length, const CgJsonLimits *limits, GError **error)
{
	return cg_json_parse_with_spans(text, length, limits, NULL, error);
}

void
cg_json_append_string(GString *out, const char *text)
{
	const char *run = text;
	char buf[8];

	g_string_append_c(out, '"');
	for (const char *p = text; *p != '\0'; p++) {
		const char *escape = cg_json_escape_byte((guchar)*p, buf);

		if (escape == NULL)
			continue;
		/* the text since the last escape at once, then this one */
		g_string_append_len(out, run, p - run);
		g_string_append(out, escape);
		run = p + 1;
	}
	g_string_append(out, run);
	g_string_append_c(out, '"');
}

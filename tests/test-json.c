/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict JSON parser (service/cg-json.c): every leniency of json-glib
 * refused, repeated keys at any depth, deep nesting, the limits, paths and
 * offsets in errors, and the tree it builds. */
#include <string.h>

#include "cg-json.h"
#include "cg-test-util.h"

static JsonNode *
parse_limits(const char *text, gsize length, const CgJsonLimits *limits, GError **error)
{
	return cg_json_parse(text, length, limits, error);
}

static void
assert_refused_full(const char *text, gsize length, const CgJsonLimits *limits, CgJsonError code,
		    const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = parse_limits(text, length, limits, &error);
	g_autofree char *shown = cg_test_printable(text, (gssize)length, 80);

	g_test_message("refused: %s", shown);
	g_assert_null(node);
	g_assert_error(error, CG_JSON_ERROR, (gint)code);
	if (message != NULL)
		g_assert_cmpstr(error->message, ==, message);
}

static void
assert_refused(const char *text, CgJsonError code, const char *message)
{
	assert_refused_full(text, strlen(text), NULL, code, message);
}

static JsonNode *
assert_parses(const char *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = cg_json_parse(text, strlen(text), NULL, &error);

	g_test_message("parses: %.80s", text);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

/* What json-glib 1.6 takes and RFC 8259 does not. */
static void
test_json_leniencies(void)
{
	static const struct {
		const char *text;
		CgJsonError code;
		const char *message;
	} cases[] = {
	    {"{\"a\":\"Alice\\u0000EVIL\"}", CG_JSON_ERROR_NUL,
	     "a: NUL character (\\u0000) at byte offset 11"},
	    {"/* c */ {}", CG_JSON_ERROR_SYNTAX,
	     "unexpected '/', expected a value at byte offset 0"},
	    {"{\"a\":1 // c\n}", CG_JSON_ERROR_SYNTAX,
	     "unexpected '/', expected ',' or '}' at byte offset 7"},
	    {"{\"a\":1 /* c */}", CG_JSON_ERROR_SYNTAX, NULL},
	    {"# c\n{}", CG_JSON_ERROR_SYNTAX, NULL},
	    {"{'a':1}", CG_JSON_ERROR_SYNTAX,
	     "unexpected ''', expected a string (object key) at byte offset 1"},
	    {"{\"a\":'x'}", CG_JSON_ERROR_SYNTAX,
	     "a: unexpected ''', expected a value at byte offset 5"},
	    {"{a:1}", CG_JSON_ERROR_SYNTAX, NULL},
	    {"{\"a\":\"\\q\"}", CG_JSON_ERROR_SYNTAX, "a: invalid escape at byte offset 6"},
	    {"[\"\\x41\"]", CG_JSON_ERROR_SYNTAX, "[0]: invalid escape at byte offset 2"},
	    {"[\"\\'\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"\\U0041\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"\\u12g4\"]", CG_JSON_ERROR_SYNTAX, "[0]: invalid \\u escape at byte offset 2"},
	    {"[\"\\u12\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"\\ud800\"]", CG_JSON_ERROR_SYNTAX, "[0]: unpaired surrogate at byte offset 2"},
	    {"[\"\\ud800\\u0041\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"\\udc00\\ud800\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"\\ud800\\ud800\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[\"a\tb\"]", CG_JSON_ERROR_SYNTAX,
	     "[0]: unescaped control character U+0009 in a string at byte offset 3"},
	    {"[\"a\nb\"]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[0x10]", CG_JSON_ERROR_SYNTAX,
	     "unexpected 'x', expected ',' or ']' at byte offset 2"},
	    {"[01]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[-01]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[+1]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[.5]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[1.]", CG_JSON_ERROR_SYNTAX, "[0]: invalid number at byte offset 1"},
	    {"[1e]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[-]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[NaN]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[Infinity]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[-Infinity]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[True]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[nul]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[undefined]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[1,]", CG_JSON_ERROR_SYNTAX,
	     "[1]: unexpected ']', expected a value at byte offset 3"},
	    {"{\"a\":1,}", CG_JSON_ERROR_SYNTAX, NULL},
	    {"[1 2]", CG_JSON_ERROR_SYNTAX, NULL},
	    {"{\"a\" 1}", CG_JSON_ERROR_SYNTAX, NULL},
	    {"{\"a\":1}{}", CG_JSON_ERROR_SYNTAX,
	     "unexpected '{', expected end of data after the value at byte offset 7"},
	    {"1 2", CG_JSON_ERROR_SYNTAX, NULL},
	    {"\xef\xbb\xbf{}", CG_JSON_ERROR_SYNTAX,
	     "unexpected U+FEFF, expected a value at byte offset 0"},
	    {"{}\x0c", CG_JSON_ERROR_SYNTAX, NULL},
	    {"\"abc", CG_JSON_ERROR_SYNTAX, "unterminated string at byte offset 0"},
	    {"[", CG_JSON_ERROR_SYNTAX,
	     "unexpected end of data, expected a value at byte offset 1"},
	    {"", CG_JSON_ERROR_EMPTY, "empty"},
	    {" \r\n\t", CG_JSON_ERROR_EMPTY, "empty"},
	    {"[\"\xff\"]", CG_JSON_ERROR_ENCODING, "not valid UTF-8 at byte offset 2"},
	    {"[\"\xed\xa0\x80\"]", CG_JSON_ERROR_ENCODING, NULL},
	    {"[\"\xc0\xaf\"]", CG_JSON_ERROR_ENCODING, NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_refused(cases[i].text, cases[i].code, cases[i].message);

	/* a NUL byte, even at the end of the given length */
	assert_refused_full("{}\0", 3, NULL, CG_JSON_ERROR_ENCODING, "NUL byte at byte offset 2");
	assert_refused_full("[\"a\0b\"]", 7, NULL, CG_JSON_ERROR_ENCODING,
			    "NUL byte at byte offset 3");
}

static void
test_json_duplicates(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	assert_refused("{\"a\":1,\"a\":2}", CG_JSON_ERROR_DUPLICATE,
		       "a: duplicate field at byte offset 7");
	/* the same key written differently */
	assert_refused("{\"a\":1,\"\\u0061\":2}", CG_JSON_ERROR_DUPLICATE, NULL);
	assert_refused("{\"\\u00e9\":1,\"\xc3\xa9\":2}", CG_JSON_ERROR_DUPLICATE, NULL);
	assert_refused("{\"\":1,\"\":2}", CG_JSON_ERROR_DUPLICATE,
		       "\"\": duplicate field at byte offset 6");
	/* at depth, with the path */
	assert_refused("{\"recipients\":[{\"recipientName\":\"A\"},{\"recipientName\":\"B\","
		       "\"recipientName\":\"C\"}]}",
		       CG_JSON_ERROR_DUPLICATE,
		       "recipients[1].recipientName: duplicate field at byte offset 58");
	assert_refused("[[[{\"x\":{\"y\":[0,{\"z\":1,\"z\":1}]}}]]]", CG_JSON_ERROR_DUPLICATE,
		       "[0][0][0].x.y[1].z: duplicate field at byte offset 23");
	/* keys quoted in paths: control characters escaped, long ones cut */
	assert_refused("{\"\\u001b[2J\":{\"k\":1,\"k\":2}}", CG_JSON_ERROR_DUPLICATE,
		       "\\u001B[2J.k: duplicate field at byte offset 20");

	node = cg_json_parse("{\"a\":{\"b\":1,\"b\":2}}", 19, NULL, &error);
	g_assert_null(node);
	g_assert_cmpstr(cg_json_error_get_path(error), ==, "a.b");
	g_assert_cmpstr(cg_json_error_get_what(error), ==, "duplicate field");
	g_assert_cmpuint(cg_json_error_get_offset(error), ==, 12);

	/* the same key in different objects is fine */
	g_clear_pointer(&node, json_node_unref);
	node = assert_parses("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
}

static char *
nested(const char *open, const char *close, guint depth, const char *inner)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < depth; i++)
		g_string_append(s, open);
	g_string_append(s, inner);
	for (guint i = 0; i < depth; i++)
		g_string_append(s, close);
	return g_string_free(s, FALSE);
}

/* json-glib recurses per level and overflows the stack: 400,000 levels
 * (800 KB) are refused at the limit, without a crash. */
static void
test_json_deep(void)
{
	CgJsonLimits limits = {.max_depth = 32};
	g_autofree char *arrays = nested("[", "]", 400000, "");
	g_autofree char *objects = nested("{\"a\":", "}", 400000, "1");
	g_autofree char *mixed = nested("[{\"k\":", "}]", 200000, "0");
	g_autofree char *at_limit = nested("[", "]", 32, "");
	g_autofree char *over_limit = nested("[", "]", 33, "");
	g_autofree char *max = nested("[", "]", CG_JSON_MAX_DEPTH, "");
	g_autofree char *over_max = nested("[", "]", CG_JSON_MAX_DEPTH + 1, "");
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(strlen(arrays), ==, 800000);
	assert_refused_full(arrays, strlen(arrays), &limits, CG_JSON_ERROR_DEPTH,
			    "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
			    "[0][0][0][0][0][0][0][0][0][0]: nested deeper than 32 levels at byte "
			    "offset 32");
	assert_refused_full(objects, strlen(objects), &limits, CG_JSON_ERROR_DEPTH, NULL);
	assert_refused_full(mixed, strlen(mixed), &limits, CG_JSON_ERROR_DEPTH, NULL);
	/* no limit given: CG_JSON_MAX_DEPTH */
	assert_refused_full(arrays, strlen(arrays), NULL, CG_JSON_ERROR_DEPTH, NULL);
	assert_refused_full(over_max, strlen(over_max), NULL, CG_JSON_ERROR_DEPTH, NULL);
	node = cg_json_parse(max, strlen(max), NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);

	assert_refused_full(over_limit, strlen(over_limit), &limits, CG_JSON_ERROR_DEPTH, NULL);
	node = cg_json_parse(at_limit, strlen(at_limit), &limits, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(node));

	/* brackets inside strings are not nesting */
	g_clear_pointer(&node, json_node_unref);
	{
		const char *text =
		    "[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{\"]";

		node = cg_json_parse(text, strlen(text), &limits, &error);
	}
	g_assert_no_error(error);
}

static void
test_json_limits(void)
{
	g_autoptr(GString) list = g_string_new("{\"recipients\":[");
	g_autoptr(GString) lists = g_string_new("[");
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	CgJsonLimits limits = {0};

	/* bytes: before anything else */
	limits.max_bytes = 3;
	assert_refused_full("\xff\xff\xff\xff", 4, &limits, CG_JSON_ERROR_TOO_LARGE,
			    "too large (4 bytes, at most 3)");
	node = cg_json_parse("[1]", 3, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);

	/* array length: the parse stops at the first element too many */
	for (guint i = 0; i < 100000; i++)
		g_string_append(list, i > 0 ? ",{}" : "{}");
	g_string_append(list, "]}");
	limits = (CgJsonLimits){.max_array_length = 10};
	assert_refused_full(list->str, list->len, &limits, CG_JSON_ERROR_ARRAY_LENGTH,
			    "recipients: more than 10 elements at byte offset 45");
	limits.max_array_length = 100000;
	node = cg_json_parse(list->str, list->len, &limits, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(node), "recipients")),
			 ==, 100000);
	g_clear_pointer(&node, json_node_unref);

	/* values in all, containers counted */
	for (guint i = 0; i < 100; i++)
		g_string_append(lists, i > 0 ? ",[1,2,3]" : "[1,2,3]");
	g_string_append(lists, "]");
	limits = (CgJsonLimits){.max_array_length = 100, .max_values = 400};
	assert_refused_full(lists->str, lists->len, &limits, CG_JSON_ERROR_VALUES,
			    "[99][2]: more than 400 values at byte offset 798");
	limits.max_values = 401;
	node = cg_json_parse(lists->str, lists->len, &limits, &error);
	g_assert_no_error(error);
	g_clear_pointer(&node, json_node_unref);

	/* the budget grows with the text */
	g_assert_cmpuint(cg_json_values_budget(0), >=, 100000);
	g_assert_cmpuint(cg_json_values_budget(1 << 30), >, cg_json_values_budget(1 << 20));
}

static void
test_json_tree(void)
{
	g_autoptr(JsonNode) node = assert_parses(
	    " {\"s\":\"J\\u00f6rg \\\"x\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\ud83d\\ude00 \xe4\xb8\xad\","
	    "\"i\":-42,\"big\":12345678901234567890,\"d\":-0.5e+2,\"e\":1E3,\"t\":true,"
	    "\"f\":false,\"n\":null,\"a\":[],\"o\":{},\"z\":0} ");
	JsonObject *object = json_node_get_object(node);
	JsonNode *member;
	g_autoptr(GList) names = json_object_get_members(object);

	g_assert_cmpstr(json_object_get_string_member(object, "s"), ==,
			"Jörg \"x\" \\ / \b\f\n\r\t \xf0\x9f\x98\x80 \xe4\xb8\xad");
	member = json_object_get_member(object, "i");
	g_assert_cmpint(json_node_get_value_type(member), ==, G_TYPE_INT64);
	g_assert_cmpint(json_node_get_int(member), ==, -42);
	member = json_object_get_member(object, "big");
	g_assert_cmpint(json_node_get_value_type(member), ==, G_TYPE_DOUBLE);
	g_assert_cmpfloat(json_node_get_double(member), ==, 12345678901234567890.0);
	member = json_object_get_member(object, "d");
	g_assert_cmpint(json_node_get_value_type(member), ==, G_TYPE_DOUBLE);
	g_assert_cmpfloat(json_node_get_double(member), ==, -50.0);
	g_assert_cmpfloat(json_object_get_double_member(object, "e"), ==, 1000.0);
	g_assert_true(json_object_get_boolean_member(object, "t"));
	g_assert_false(json_object_get_boolean_member(object, "f"));
	g_assert_true(json_object_get_null_member(object, "n"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object, "a")), ==, 0);
	g_assert_cmpuint(json_object_get_size(json_object_get_object_member(object, "o")), ==, 0);
	g_assert_cmpint(json_object_get_int_member(object, "z"), ==, 0);
	/* members in document order */
	g_assert_cmpstr(names->data, ==, "s");
	g_assert_cmpstr(g_list_last(names)->data, ==, "z");

	/* scalars at the top */
	{
		g_autoptr(JsonNode) s = assert_parses("\"x\"");
		g_autoptr(JsonNode) n = assert_parses(" -0 ");
		g_autoptr(JsonNode) l = assert_parses("null");

		g_assert_cmpstr(json_node_get_string(s), ==, "x");
		g_assert_cmpint(json_node_get_int(n), ==, 0);
		g_assert_true(JSON_NODE_HOLDS_NULL(l));
	}
	/* "\\u0000" is a backslash and text, not a NUL */
	{
		g_autoptr(JsonNode) b = assert_parses("[\"a\\\\u0000\"]");

		g_assert_cmpstr(json_array_get_string_element(json_node_get_array(b), 0), ==,
				"a\\u0000");
	}
}

static void
test_json_not_nul_terminated(void)
{
	const char *text = "{\"a\":1}garbage";
	g_autofree char *buffer = g_memdup2(text, 7);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = cg_json_parse(buffer, 7, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "a"), ==, 1);
	/* a number at the very end */
	g_clear_pointer(&node, json_node_unref);
	g_free(buffer);
	buffer = g_memdup2("12345", 3);
	node = cg_json_parse(buffer, 3, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_node_get_int(node), ==, 123);
}

static void
test_json_spans(void)
{
	const char *text = "{ \"a\" : [1, {\"b\": 2}] , \"s\":\"x\\\"y\",\"n\":null}";
	g_autoptr(GHashTable) spans = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
	    cg_json_parse_with_spans(text, strlen(text), NULL, &spans, &error);
	const CgJsonSpan *span;

	g_assert_no_error(error);
	g_assert_nonnull(spans);
	g_assert_cmpuint(g_hash_table_size(spans), ==, 3);
	span = g_hash_table_lookup(spans, "a");
	g_assert_cmpuint(span->end - span->start, ==, 13);
	g_assert_true(strncmp(text + span->start, "[1, {\"b\": 2}]", 13) == 0);
	span = g_hash_table_lookup(spans, "s");
	g_assert_cmpuint(span->end - span->start, ==, 6);
	span = g_hash_table_lookup(spans, "n");
	g_assert_cmpuint(span->end - span->start, ==, 4);

	/* no table for other roots */
	g_clear_pointer(&node, json_node_unref);
	g_clear_pointer(&spans, g_hash_table_unref);
	node = cg_json_parse_with_spans("[1]", 3, NULL, &spans, &error);
	g_assert_no_error(error);
	g_assert_null(spans);
}

/* The one escaping rule of the JSON writers (cg-data's canonical JSON,
 * certgenctl's output). */
static void
test_json_escape_byte(void)
{
	char buf[8];

	g_assert_cmpstr(cg_json_escape_byte('"', buf), ==, "\\\"");
	g_assert_cmpstr(cg_json_escape_byte('\\', buf), ==, "\\\\");
	g_assert_cmpstr(cg_json_escape_byte('\n', buf), ==, "\\n");
	g_assert_cmpstr(cg_json_escape_byte('\t', buf), ==, "\\t");
	g_assert_cmpstr(cg_json_escape_byte('\b', buf), ==, "\\b");
	g_assert_cmpstr(cg_json_escape_byte(0x01, buf), ==, "\\u0001");
	g_assert_cmpstr(cg_json_escape_byte(0x1f, buf), ==, "\\u001f");
	g_assert_null(cg_json_escape_byte(' ', buf));
	g_assert_null(cg_json_escape_byte('a', buf));
	g_assert_null(cg_json_escape_byte(0x7f, buf));
	g_assert_null(cg_json_escape_byte(0xc3, buf));
}

static void
test_json_quote(void)
{
	g_autofree char *empty = cg_json_quote("");
	g_autofree char *controls = cg_json_quote("a\x1b[2J\xc2\x85z");
	g_autofree char *long_key =
	    cg_json_quote("0123456789012345678901234567890123456789012345678901234567890123456789");

	g_assert_cmpstr(empty, ==, "\"\"");
	g_assert_cmpstr(controls, ==, "a\\u001B[2J\\u0085z");
	g_assert_cmpstr(long_key, ==,
			"0123456789012345678901234567890123456789012345678901234567890123...");
}

static void
test_json_other_errors(void)
{
	g_autoptr(GError) error = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_FAILED, "x");

	g_assert_null(cg_json_error_get_path(error));
	g_assert_null(cg_json_error_get_what(error));
	g_assert_cmpuint(cg_json_error_get_offset(error), ==, G_MAXSIZE);
	/* and the parts survive a copy */
	{
		g_autoptr(GError) json_error = NULL;
		g_autoptr(GError) copy = NULL;
		g_autoptr(JsonNode) node = cg_json_parse("{\"k\":[1,}", 9, NULL, &json_error);

		g_assert_null(node);
		copy = g_error_copy(json_error);
		g_assert_cmpstr(cg_json_error_get_path(copy), ==, "k[1]");
		g_assert_cmpuint(cg_json_error_get_offset(copy), ==, 8);
		g_assert_cmpstr(copy->message, ==,
				"k[1]: unexpected '}', expected a value at byte offset 8");
	}
}

static const CgTestCase cases[] = {
    {"/json/leniencies", test_json_leniencies},
    {"/json/duplicates", test_json_duplicates},
    {"/json/deep", test_json_deep},
    {"/json/limits", test_json_limits},
    {"/json/tree", test_json_tree},
    {"/json/not-nul-terminated", test_json_not_nul_terminated},
    {"/json/spans", test_json_spans},
    {"/json/quote", test_json_quote},
    {"/json/escape-byte", test_json_escape_byte},
    {"/json/other-errors", test_json_other_errors},
};

CG_TEST_MAIN(cases)

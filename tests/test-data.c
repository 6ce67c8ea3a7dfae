/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cg-data.h"
#include "cg-error.h"
#include "cg-test-util.h"

#define MAX_BYTES (4 * 1024 * 1024)
#define MAX_RECIPIENTS 10000

/* The shipped "classic" template's rules (DESIGN.md), built by hand. */
static GPtrArray *
classic_rules(void)
{
	GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)cg_field_rule_free);

	g_ptr_array_add(rules,
			cg_field_rule_new("recipientName", CG_FIELD_TYPE_STRING, TRUE, 1, 128));
	g_ptr_array_add(rules, cg_field_rule_new("courseName", CG_FIELD_TYPE_STRING, TRUE, 1, 200));
	g_ptr_array_add(rules, cg_field_rule_new("issueDate", CG_FIELD_TYPE_DATE, TRUE, 0, 0));
	g_ptr_array_add(rules, cg_field_rule_new("issuer", CG_FIELD_TYPE_STRING, FALSE, 0, 128));
	g_ptr_array_add(rules,
			cg_field_rule_new("description", CG_FIELD_TYPE_STRING, FALSE, 0, 1000));
	return rules;
}

static CgData *
parse_full(const char *json, gsize length, gsize max_bytes, guint max_recipients, GError **error)
{
	g_autoptr(GPtrArray) rules = classic_rules();

	return cg_data_parse(json, length, rules, max_bytes, max_recipients, NULL, error);
}

static CgData *
parse(const char *json, GError **error)
{
	return parse_full(json, strlen(json), MAX_BYTES, MAX_RECIPIENTS, error);
}

static void
assert_invalid_full(const char *json, gsize length, gsize max_bytes, guint max_recipients,
		    const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = parse_full(json, length, max_bytes, max_recipients, &error);

	g_assert_null(data);
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==, message);
}

static void
assert_invalid(const char *json, const char *message)
{
	assert_invalid_full(json, strlen(json), MAX_BYTES, MAX_RECIPIENTS, message);
}

static CgData *
assert_valid(const char *json)
{
	g_autoptr(GError) error = NULL;
	CgData *data = parse(json, &error);

	g_assert_no_error(error);
	g_assert_nonnull(data);
	return data;
}

#define VALID_REST "\"courseName\":\"C\",\"issueDate\":\"2024-01-01\""

typedef struct {
	const char *json;
	const char *message;
} BadCase;

static void
run_cases(const BadCase *cases, gsize n_cases)
{
	for (gsize i = 0; i < n_cases; i++) {
		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].json);
		assert_invalid(cases[i].json, cases[i].message);
	}
}

static void
test_data_single_bad(void)
{
	static const BadCase cases[] = {
	    /* required */
	    {"{" VALID_REST "}", "recipientName: required"},
	    {"{\"recipientName\":\"N\",\"issueDate\":\"2024-01-01\"}", "courseName: required"},
	    {"{\"recipientName\":\"N\",\"courseName\":\"C\"}", "issueDate: required"},
	    /* every problem at once (issue 14 item 3) */
	    {"{}", "recipientName: required; courseName: required; issueDate: required"},
	    /* types, named */
	    {"{\"recipientName\":42," VALID_REST "}",
	     "recipientName: must be a string, not a number"},
	    {"{\"recipientName\":4.5," VALID_REST "}",
	     "recipientName: must be a string, not a number"},
	    {"{\"recipientName\":true," VALID_REST "}",
	     "recipientName: must be a string, not a boolean"},
	    {"{\"recipientName\":null," VALID_REST "}",
	     "recipientName: must be a string, not null"},
	    {"{\"recipientName\":{}," VALID_REST "}",
	     "recipientName: must be a string, not an object"},
	    {"{\"recipientName\":[\"N\"]," VALID_REST "}",
	     "recipientName: must be a string, not an array"},
	    {"{\"recipientName\":\"N\",\"courseName\":\"C\",\"issueDate\":20240101}",
	     "issueDate: must be a string, not a number"},
	    {"{\"recipientName\":\"N\",\"issuer\":false," VALID_REST "}",
	     "issuer: must be a string, not a boolean"},
	    /* lengths */
	    {"{\"recipientName\":\"\"," VALID_REST "}",
	     "recipientName: too short (0 characters, at least 1)"},
	    {"{\"recipientName\":\"N\",\"courseName\":\"\",\"issueDate\":\"2024-01-01\"}",
	     "courseName: too short (0 characters, at least 1)"},
	    /* unknown keys */
	    {"{\"recipientName\":\"N\",\"foo\":\"x\"," VALID_REST "}", "foo: unknown field"},
	    {"{\"recipientname\":\"N\"," VALID_REST "}",
	     "recipientname: unknown field; recipientName: required"},
	    {"{\"recipientName\":\"N\",\"foo\":1," VALID_REST "}", "foo: unknown field"},
	    {"{\"recipientName\":\"N\",\"\":\"x\"," VALID_REST "}", "\"\": unknown field"},
	    {"{\"recipientName\":\"N\",\"\\u001b[2Jfoo\\u0085\":1," VALID_REST "}",
	     "\\u001B[2Jfoo\\u0085: unknown field"},
	    /* document order */
	    {"{\"foo\":1,\"recipientName\":5," VALID_REST "}",
	     "foo: unknown field; recipientName: must be a string, not a number"},
	    {"{\"recipientName\":5,\"foo\":1," VALID_REST "}",
	     "recipientName: must be a string, not a number; foo: unknown field"},
	    {"{\"issueDate\":\"2023-02-30\",\"recipientName\":\"\",\"courseName\":\"C\"}",
	     "issueDate: not a real date: 2023-02-30; recipientName: too short (0 characters, at "
	     "least 1)"},
	    {"{\"recipientName\":\"\",\"courseName\":\"C\",\"issueDate\":\"2023-02-30\"}",
	     "recipientName: too short (0 characters, at least 1); issueDate: not a real date: "
	     "2023-02-30"},
	    {"{\"courseName\":\"C\",\"issueDate\":\"x\"}",
	     "issueDate: not a date (expected YYYY-MM-DD): x; recipientName: required"},
	    /* repeated keys: json-glib would keep the last one silently */
	    {"{\"recipientName\":\"A\",\"recipientName\":\"B\"," VALID_REST "}",
	     "recipientName: duplicate field"},
	    {"{\"recipientName\":\"A\",\"recipient\\u004eame\":\"B\"," VALID_REST "}",
	     "recipientName: duplicate field"},
	    {"{\"recipientName\":\"A\"," VALID_REST ",\"recipientName\":\"B\"}",
	     "recipientName: duplicate field"},
	    /* at any depth, and named by its path (cg-json refuses it) */
	    {"{\"recipientName\":{\"a\":\"1\",\"a\":\"2\"}," VALID_REST "}",
	     "recipientName.a: duplicate field"},
	    /* control characters, with byte offsets in the value */
	    {"{\"recipientName\":\"ab\\u0007c\"," VALID_REST "}",
	     "recipientName: control character U+0007 at byte offset 2"},
	    {"{\"recipientName\":\"\\u00e9\\u0001\"," VALID_REST "}",
	     "recipientName: control character U+0001 at byte offset 2"},
	    {"{\"recipientName\":\"N\\u001b[31m\"," VALID_REST "}",
	     "recipientName: control character U+001B at byte offset 1"},
	    {"{\"recipientName\":\"N\\u007f\"," VALID_REST "}",
	     "recipientName: control character U+007F at byte offset 1"},
	    {"{\"recipientName\":\"N\\u0085\"," VALID_REST "}",
	     "recipientName: control character U+0085 at byte offset 1"},
	    {"{\"recipientName\":\"N\",\"description\":\"a\\fb\"," VALID_REST "}",
	     "description: control character U+000C at byte offset 1"},
	    {"{\"recipientName\":\"x\\u0000y\"," VALID_REST "}",
	     "data: NUL character (\\u0000) at byte offset 19"},
	    /* the top level */
	    {"[]", "data: must be a JSON object, not an array"},
	    {"\"recipientName\"", "data: must be a JSON object, not a string"},
	    {"42", "data: must be a JSON object, not a number"},
	    {"null", "data: must be a JSON object, not null"},
	    {"", "data: empty"},
	    {"  \n ", "data: empty"},
	};

	run_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_data_not_json(void)
{
	/* json-glib 1.6 takes several of these; strict JSON does not */
	static const BadCase cases[] = {
	    {"{", "data: not valid JSON: unexpected end of data, expected a string (object key) "
		  "at byte offset 1"},
	    {"{\"recipientName\":\"N\",}",
	     "data: not valid JSON: unexpected '}', expected a string (object key) at byte "
	     "offset 21"},
	    {"{\"recipientName\":\"N\" \"courseName\":\"C\"}",
	     "data: not valid JSON: unexpected '\"', expected ',' or '}' at byte offset 21"},
	    {"{\"recipientName\" \"N\"}",
	     "data: not valid JSON: unexpected '\"', expected ':' at byte offset 17"},
	    {"{\"recipientName\":\"N\"} {\"recipientName\":\"M\"}",
	     "data: not valid JSON: unexpected '{', expected end of data after the value at byte "
	     "offset 22"},
	    {"{\"recipientName\":\"N\"}x",
	     "data: not valid JSON: unexpected 'x', expected end of data after the value at byte "
	     "offset 21"},
	    {"{'recipientName':'N'}",
	     "data: not valid JSON: unexpected ''', expected a string (object key) at byte offset "
	     "1"},
	    {"{recipientName:\"N\"}",
	     "data: not valid JSON: unexpected 'r', expected a string (object key) at byte offset "
	     "1"},
	    {"/* c */ {}",
	     "data: not valid JSON: unexpected '/', expected a value at byte offset 0"},
	    {"{\"recipientName\":\"\\q\"}",
	     "data: not valid JSON: invalid escape at byte offset 18"},
	    {"{\"recipientName\":\"\\x41\"}",
	     "data: not valid JSON: invalid escape at byte offset 18"},
	    {"{\"recipientName\":\"\\u12g4\"}",
	     "data: not valid JSON: invalid \\u escape at byte offset 18"},
	    {"{\"recipientName\":\"\\ud800\"}",
	     "data: not valid JSON: unpaired surrogate at byte offset 18"},
	    {"{\"recipientName\":\"\\ud800\\u0041\"}",
	     "data: not valid JSON: unpaired surrogate at byte offset 18"},
	    {"{\"recipientName\":\"\\udc00\"}",
	     "data: not valid JSON: unpaired surrogate at byte offset 18"},
	    {"{\"recipientName\":\"N",
	     "data: not valid JSON: unterminated string at byte offset 17"},
	    {"{\"recipientName\":\"N\\",
	     "data: not valid JSON: unterminated string at byte offset 17"},
	    {"{\"recipientName\":\"\x01\"}",
	     "data: not valid JSON: unescaped control character U+0001 in a string at byte offset "
	     "18"},
	    {"{\"recipientName\":\"a\tb\"}",
	     "data: not valid JSON: unescaped control character U+0009 in a string at byte offset "
	     "19"},
	    {"{\"recipientName\":0x10}",
	     "data: not valid JSON: unexpected 'x', expected ',' or '}' at byte offset 18"},
	    {"{\"recipientName\":01}",
	     "data: not valid JSON: unexpected '1', expected ',' or '}' at byte offset 18"},
	    {"{\"recipientName\":.5}",
	     "data: not valid JSON: unexpected '.', expected a value at byte offset 17"},
	    {"{\"recipientName\":1.}", "data: not valid JSON: invalid number at byte offset 17"},
	    {"{\"recipientName\":-}", "data: not valid JSON: invalid number at byte offset 17"},
	    {"{\"recipientName\":1e+}", "data: not valid JSON: invalid number at byte offset 17"},
	    {"{\"recipientName\":tru}",
	     "data: not valid JSON: unexpected 't', expected a value at byte offset 17"},
	    {"{\"recipientName\":[1,]}",
	     "data: not valid JSON: unexpected ']', expected a value at byte offset 20"},
	    {"{\"recipientName\":[1}",
	     "data: not valid JSON: unexpected '}', expected ',' or ']' at byte offset 19"},
	    {"{\"recipientName\":\"\xc3\xa9\"\xc3\xa9}",
	     "data: not valid JSON: unexpected U+00E9, expected ',' or '}' at byte offset 21"},
	};

	run_cases(cases, G_N_ELEMENTS(cases));
}

/* json-glib recurses per level: deep nesting must be refused before it. */
static void
test_data_nesting(void)
{
	GString *json = g_string_new("{\"recipientName\":");
	g_autofree char *s = NULL;
	guint depth = 1000000;

	for (guint i = 0; i < depth; i++)
		g_string_append_c(json, '[');
	for (guint i = 0; i < depth; i++)
		g_string_append_c(json, ']');
	g_string_append_c(json, '}');
	s = g_string_free(json, FALSE);
	/* the 32nd '[' is level 33 */
	assert_invalid_full(s, strlen(s), 0, MAX_RECIPIENTS,
			    "data: not valid JSON: nested deeper than 32 levels at byte offset 48");

	/* 32 levels are fine as JSON (and then the wrong type) */
	g_free(s);
	s = g_strdup_printf("{\"recipientName\":%s%s}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
			    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_invalid(s, "recipientName: must be a string, not an array; courseName: required; "
			  "issueDate: required");

	/* every JSON value kind passes the syntax check and gets its type named */
	assert_invalid("{\"recipientName\":-0.5e+10," VALID_REST "}",
		       "recipientName: must be a string, not a number");
	assert_invalid("{\"recipientName\":{\"a\":[true,false,null,1,\"x\",{}]}," VALID_REST "}",
		       "recipientName: must be a string, not an object");
}

static void
test_data_batch_bad(void)
{
	static const BadCase cases[] = {
	    {"{\"recipients\":[]," VALID_REST "}", "recipients: at least 1 recipient"},
	    {"{\"recipients\":{}," VALID_REST "}", "recipients: must be an array, not an object"},
	    {"{\"recipients\":\"N\"}", "recipients: must be an array, not a string"},
	    {"{\"recipients\":null}", "recipients: must be an array, not null"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"},1]," VALID_REST "}",
	     "recipients[1]: must be an object, not a number"},
	    {"{\"recipients\":[[]]," VALID_REST "}",
	     "recipients[0]: must be an object, not an array"},
	    /* required, per recipient */
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{}]," VALID_REST "}",
	     "recipients[1].recipientName: required"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"issueDate\":\"2024-01-01\"}]}",
	     "recipients[0].courseName: required"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"courseName\":\"C\"}],"
	     "\"courseName\":\"D\"}",
	     "recipients[0].issueDate: required"},
	    /* per-recipient rules */
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{\"recipientName\":7}]," VALID_REST "}",
	     "recipients[1].recipientName: must be a string, not a number"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"foo\":\"x\"}]," VALID_REST "}",
	     "recipients[0].foo: unknown field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"recipients\":[]}]," VALID_REST "}",
	     "recipients[0].recipients: unknown field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{\"recipientName\":\"B\"},"
	     "{\"recipientName\":\"C\",\"issueDate\":\"2023-02-29\"}]," VALID_REST "}",
	     "recipients[2].issueDate: not a real date: 2023-02-29"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"issueDate\":\"2023-1-1\"}]," VALID_REST
	     "}",
	     "recipients[0].issueDate: not a date (expected YYYY-MM-DD): 2023-1-1"},
	    {"{\"recipients\":[{\"recipientName\":\"\"}]," VALID_REST "}",
	     "recipients[0].recipientName: too short (0 characters, at least 1)"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{\"recipientName\":\"B\\tC\\u0002\"}]"
	     "," VALID_REST "}",
	     "recipients[1].recipientName: control character U+0002 at byte offset 3"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"recipientName\":\"B\"}]," VALID_REST "}",
	     "recipients[0].recipientName: duplicate field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{\"recipientName\":\"B\",\"issuer\":\"I\","
	     "\"recipientName\":\"C\"}]," VALID_REST "}",
	     "recipients[1].recipientName: duplicate field"},
	    {"{\"recipients\":[{\"recipientName\":{\"k\":\"v\"},\"recipientName\":\"A\"},"
	     "{\"recipientName\":\"B\"}]," VALID_REST "}",
	     "recipients[0].recipientName: duplicate field"},
	    /* shared fields are named without an index */
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"courseName\":5,"
	     "\"issueDate\":\"2024-01-01\"}",
	     "courseName: must be a string, not a number"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"issueDate\":\"2024-02-30\","
	     "\"courseName\":\"C\"}",
	     "issueDate: not a real date: 2024-02-30"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"foo\":\"x\"," VALID_REST "}",
	     "foo: unknown field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"courseName\":\"\","
	     "\"issueDate\":\"2024-01-01\"}",
	     "courseName: too short (0 characters, at least 1)"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"courseName\":\"C\","
	     "\"courseName\":\"D\",\"issueDate\":\"2024-01-01\"}",
	     "courseName: duplicate field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"recipients\":[]," VALID_REST "}",
	     "recipients: duplicate field"},
	    /* document order between shared fields and the list */
	    {"{\"courseName\":5,\"recipients\":[{\"recipientName\":\"\"}],"
	     "\"issueDate\":\"2024-01-01\"}",
	     "courseName: must be a string, not a number; recipients[0].recipientName: too short "
	     "(0 "
	     "characters, at least 1)"},
	    {"{\"recipients\":[{\"recipientName\":\"\"}],\"courseName\":5,"
	     "\"issueDate\":\"2024-01-01\"}",
	     "recipients[0].recipientName: too short (0 characters, at least 1); courseName: must "
	     "be "
	     "a string, not a number"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"},{\"foo\":1}],\"courseName\":5,"
	     "\"issueDate\":\"2024-01-01\"}",
	     "recipients[1].foo: unknown field; recipients[1].recipientName: required; courseName: "
	     "must be a string, not a number"},
	    {"{\"recipients\":[{\"recipientName\":\"A\"}],\"courseName\":5,\"foo\":1,"
	     "\"issueDate\":\"2024-01-01\"}",
	     "courseName: must be a string, not a number; foo: unknown field"},
	    {"{\"recipients\":[{\"recipientName\":\"A\",\"x\":1},{}]," VALID_REST "}",
	     "recipients[0].x: unknown field; recipients[1].recipientName: required"},
	    {"{\"recipients\":[{},{\"recipientName\":\"B\",\"x\":1}]," VALID_REST "}",
	     "recipients[0].recipientName: required; recipients[1].x: unknown field"},
	};

	run_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_data_batch_index(void)
{
	GString *json = g_string_new("{\"recipients\":[");
	g_autofree char *s = NULL;

	for (guint i = 0; i < 12; i++)
		g_string_append_printf(json, "{\"recipientName\":\"R%u\"},", i);
	g_string_append(json, "{\"issuer\":\"I\"}]," VALID_REST "}");
	s = g_string_free(json, FALSE);
	assert_invalid(s, "recipients[12].recipientName: required");
}

/* A valid recipient with @field set to @value, written as is (so that
 * \u escapes in @value stay escapes). */
static char *
fields_json(const char *field, const char *value)
{
	static const char *const names[] = {"recipientName", "courseName", "issueDate", "issuer",
					    "description"};
	static const char *const defaults[] = {"N", "C", "2024-01-01", NULL, NULL};
	GString *json = g_string_new("{");

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		const char *v = g_strcmp0(names[i], field) == 0 ? value : defaults[i];

		if (v == NULL)
			continue;
		g_string_append_printf(json, "%s\"%s\":\"%s\"", json->len > 1 ? "," : "", names[i],
				       v);
	}
	g_string_append_c(json, '}');
	return g_string_free(json, FALSE);
}

static void
test_data_lengths(void)
{
	g_autofree char *e128 = cg_test_repeat("\xc3\xa9", 128); /* é: 2 bytes */
	g_autofree char *e129 = cg_test_repeat("\xc3\xa9", 129);
	g_autofree char *emoji128 = cg_test_repeat("\xf0\x9f\x98\x80", 128); /* 4 bytes */
	g_autofree char *escaped128 = cg_test_repeat("\\u00e9", 128);
	g_autofree char *a128 = cg_test_repeat("a", 128);
	g_autofree char *a129 = cg_test_repeat("a", 129);
	g_autofree char *a200 = cg_test_repeat("a", 200);
	g_autofree char *a201 = cg_test_repeat("a", 201);
	g_autofree char *a1000 = cg_test_repeat("a", 1000);
	g_autofree char *a1001 = cg_test_repeat("a", 1001);
	struct {
		const char *field;
		const char *value;
		const char *message; /* NULL: valid */
	} cases[] = {
	    {"recipientName", e128, NULL},
	    {"recipientName", emoji128, NULL},
	    {"recipientName", escaped128, NULL},
	    {"recipientName", a128, NULL},
	    {"recipientName", e129, "recipientName: too long (129 characters, at most 128)"},
	    {"recipientName", a129, "recipientName: too long (129 characters, at most 128)"},
	    {"courseName", a200, NULL},
	    {"courseName", a201, "courseName: too long (201 characters, at most 200)"},
	    {"issuer", a128, NULL},
	    {"issuer", a129, "issuer: too long (129 characters, at most 128)"},
	    {"issuer", "", NULL},
	    {"description", a1000, NULL},
	    {"description", a1001, "description: too long (1001 characters, at most 1000)"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *json = fields_json(cases[i].field, cases[i].value);
		g_autofree char *batch = NULL;
		g_autofree char *batch_message = NULL;

		batch = g_strdup_printf(
		    "{\"recipients\":[{\"recipientName\":\"A\"},%s]," VALID_REST "}", json);
		if (cases[i].message == NULL) {
			g_autoptr(CgData) data = assert_valid(json);
			g_autoptr(CgData) data2 = assert_valid(batch);
			const char *value = cg_recipient_get(g_ptr_array_index(data->recipients, 0),
							     cases[i].field);

			g_assert_nonnull(value);
			g_assert_cmpuint(data2->recipients->len, ==, 2);
			g_assert_cmpstr(value, ==,
					cg_recipient_get(g_ptr_array_index(data2->recipients, 1),
							 cases[i].field));
			continue;
		}
		assert_invalid(json, cases[i].message);
		batch_message = g_strdup_printf("recipients[1].%s", cases[i].message);
		assert_invalid(batch, batch_message);
	}
}

static void
test_data_bad_utf8(void)
{
	static const struct {
		const char *json;
		gsize length;
		const char *message;
	} cases[] = {
	    {"{\"recipientName\":\"\xff\"}", 0, "data: not valid UTF-8 at byte offset 18"},
	    {"{\"recipientName\":\"\xc0\xaf\"}", 0, "data: not valid UTF-8 at byte offset 18"},
	    {"{\"recipientName\":\"ab\xc3\"}", 0, "data: not valid UTF-8 at byte offset 20"},
	    {"{\"recipientName\":\"\xed\xa0\x80\"}", 0, "data: not valid UTF-8 at byte offset 18"},
	    {"\xef\xbb\xbf\xfe{}", 0, "data: not valid UTF-8 at byte offset 3"},
	    {"{\"recipients\":[{\"recipientName\":\"\xe9t\xe9\"}]}", 0,
	     "data: not valid UTF-8 at byte offset 33"},
	    /* a NUL byte inside the given length */
	    {"{\"recipientName\":\"a\0b\"}", 24, "data: NUL byte at byte offset 19"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gsize length = cases[i].length > 0 ? cases[i].length : strlen(cases[i].json);

		assert_invalid_full(cases[i].json, length, MAX_BYTES, MAX_RECIPIENTS,
				    cases[i].message);
	}
}

static void
test_data_dates(void)
{
	static const struct {
		const char *date;
		const char *message; /* NULL: valid */
	} cases[] = {
	    {"2024-02-29", NULL},
	    {"2000-02-29", NULL},
	    {"2023-12-31", NULL},
	    {"2023-01-01", NULL},
	    {"0001-01-01", NULL},
	    {"9999-12-31", NULL},
	    {"2023-02-29", "issueDate: not a real date: 2023-02-29"},
	    {"1900-02-29", "issueDate: not a real date: 1900-02-29"},
	    {"2100-02-29", "issueDate: not a real date: 2100-02-29"},
	    {"2023-02-30", "issueDate: not a real date: 2023-02-30"},
	    {"2023-04-31", "issueDate: not a real date: 2023-04-31"},
	    {"2023-13-01", "issueDate: not a real date: 2023-13-01"},
	    {"2023-00-10", "issueDate: not a real date: 2023-00-10"},
	    {"2023-01-00", "issueDate: not a real date: 2023-01-00"},
	    {"2023-01-32", "issueDate: not a real date: 2023-01-32"},
	    {"0000-01-01", "issueDate: not a real date: 0000-01-01"},
	    {"2023-1-1", "issueDate: not a date (expected YYYY-MM-DD): 2023-1-1"},
	    {"2023-01-01x", "issueDate: not a date (expected YYYY-MM-DD): 2023-01-01x"},
	    {" 2023-01-01", "issueDate: not a date (expected YYYY-MM-DD):  2023-01-01"},
	    {"2023/01/01", "issueDate: not a date (expected YYYY-MM-DD): 2023/01/01"},
	    {"20230101", "issueDate: not a date (expected YYYY-MM-DD): 20230101"},
	    {"2023-01-01T00:00:00Z",
	     "issueDate: not a date (expected YYYY-MM-DD): 2023-01-01T00:00:00Z"},
	    {"+023-01-01", "issueDate: not a date (expected YYYY-MM-DD): +023-01-01"},
	    {"２０２３-01-01", "issueDate: not a date (expected YYYY-MM-DD): ２０２３-01-01"},
	    {"", "issueDate: not a date (expected YYYY-MM-DD): \"\""},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *json = g_strdup_printf(
		    "{\"recipientName\":\"N\",\"courseName\":\"C\",\"issueDate\":\"%s\"}",
		    cases[i].date);
		g_autofree char *batch = g_strdup_printf(
		    "{\"recipients\":[{\"recipientName\":\"N\"}],\"courseName\":\"C\","
		    "\"issueDate\":\"%s\"}",
		    cases[i].date);

		g_test_message("date %s", cases[i].date);
		g_assert_cmpint(cg_data_date_is_valid(cases[i].date), ==, cases[i].message == NULL);
		if (cases[i].message == NULL) {
			g_autoptr(CgData) data = assert_valid(json);
			g_autoptr(CgData) data2 = assert_valid(batch);

			g_assert_cmpstr(
			    cg_recipient_get(cg_data_get_recipient(data, 0), "issueDate"), ==,
			    cases[i].date);
			g_assert_cmpstr(
			    cg_recipient_get(cg_data_get_recipient(data2, 0), "issueDate"), ==,
			    cases[i].date);
		} else {
			assert_invalid(json, cases[i].message);
			assert_invalid(batch, cases[i].message);
		}
	}
	/* quoted values are cut in messages */
	{
		g_autofree char *long_value = cg_test_repeat("x", 100);
		g_autofree char *json = g_strdup_printf(
		    "{\"recipientName\":\"N\",\"courseName\":\"C\",\"issueDate\":\"%s\"}",
		    long_value);
		g_autofree char *message = g_strdup_printf(
		    "issueDate: not a date (expected YYYY-MM-DD): %.64s...", long_value);

		assert_invalid(json, message);
	}
}

static void
test_data_oversize(void)
{
	const char *json = "{\"recipientName\":\"N\"," VALID_REST "}";
	gsize length = strlen(json);
	g_autofree char *message = g_strdup_printf("data: too large (%" G_GSIZE_FORMAT
						   " bytes, at most %" G_GSIZE_FORMAT ")",
						   length, length - 1);
	g_autoptr(CgData) data = NULL;
	g_autoptr(GError) error = NULL;

	assert_invalid_full(json, length, length - 1, MAX_RECIPIENTS, message);
	/* exactly at the limit is fine */
	data = parse_full(json, length, length, MAX_RECIPIENTS, &error);
	g_assert_no_error(error);
	g_assert_nonnull(data);

	/* the size is checked before anything else: garbage too */
	assert_invalid_full("\xff\xff\xff\xff", 4, 3, MAX_RECIPIENTS,
			    "data: too large (4 bytes, at most 3)");
}

static char *
make_batch(guint n)
{
	GString *json = g_string_new("{\"courseName\":\"Safety training\",\"issueDate\":"
				     "\"2024-05-17\",\"issuer\":\"ACME\",\"recipients\":[");

	for (guint i = 0; i < n; i++)
		g_string_append_printf(json,
				       "%s{\"recipientName\":\"Recipient number %u "
				       "J\\u00f6rg\",\"description\":\"For completing the "
				       "course with distinction.\"}",
				       i > 0 ? "," : "", i);
	g_string_append(json, "]}");
	return g_string_free(json, FALSE);
}

static void
test_data_too_many(void)
{
	g_autofree char *json4 = make_batch(4);
	g_autofree char *json_max = make_batch(MAX_RECIPIENTS + 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = NULL;

	assert_invalid_full(json4, strlen(json4), MAX_BYTES, 3, "recipients: at most 3 recipients");
	assert_invalid_full(json4, strlen(json4), MAX_BYTES, 1, "recipients: at most 1 recipient");
	assert_invalid(json_max, "recipients: at most 10000 recipients");

	data = parse_full(json4, strlen(json4), MAX_BYTES, 4, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(cg_data_get_n_recipients(data), ==, 4);
}

static void
test_data_valid_single(void)
{
	g_autoptr(CgData) data = assert_valid(
	    "{ \"recipientName\" : \"Jörg Müller-Łukasiewicz\",\n\t\"courseName\":\"C \\\"1\\\"\","
	    "\"issueDate\":\"2024-02-29\",\"issuer\":\"ACME\",\"description\":\"Line one\\nLine "
	    "two\\twith tab\\r\"}");
	const CgRecipient *recipient;

	g_assert_false(data->is_batch);
	g_assert_cmpuint(cg_data_get_n_recipients(data), ==, 1);
	recipient = cg_data_get_recipient(data, 0);
	g_assert_cmpstr(cg_recipient_get(recipient, "recipientName"), ==,
			"Jörg Müller-Łukasiewicz");
	g_assert_cmpstr(cg_recipient_get(recipient, "courseName"), ==, "C \"1\"");
	g_assert_cmpstr(cg_recipient_get(recipient, "issueDate"), ==, "2024-02-29");
	g_assert_cmpstr(cg_recipient_get(recipient, "issuer"), ==, "ACME");
	g_assert_cmpstr(cg_recipient_get(recipient, "description"), ==,
			"Line one\nLine two\twith tab\r");
	g_assert_cmpuint(g_hash_table_size(recipient->fields), ==, 5);

	/* optional fields may be absent */
	{
		g_autoptr(CgData) data2 = assert_valid("{\"recipientName\":\"N\"," VALID_REST "}");
		const CgRecipient *r = cg_data_get_recipient(data2, 0);

		g_assert_null(cg_recipient_get(r, "issuer"));
		g_assert_null(cg_recipient_get(r, "description"));
		g_assert_cmpuint(g_hash_table_size(r->fields), ==, 3);
	}
}

static void
test_data_valid_batch(void)
{
	g_autoptr(CgData) data = assert_valid(
	    "{\"courseName\":\"Shared course\",\"recipients\":["
	    "{\"recipientName\":\"A\"},"
	    "{\"recipientName\":\"B\",\"courseName\":\"Own course\",\"issuer\":\"Own\"},"
	    "{\"recipientName\":\"C\",\"issueDate\":\"2020-02-29\"}],"
	    "\"issueDate\":\"2024-01-31\",\"issuer\":\"Shared issuer\"}");
	const CgRecipient *r;

	g_assert_true(data->is_batch);
	g_assert_cmpuint(cg_data_get_n_recipients(data), ==, 3);

	r = cg_data_get_recipient(data, 0);
	g_assert_cmpstr(cg_recipient_get(r, "recipientName"), ==, "A");
	g_assert_cmpstr(cg_recipient_get(r, "courseName"), ==, "Shared course");
	g_assert_cmpstr(cg_recipient_get(r, "issueDate"), ==, "2024-01-31");
	g_assert_cmpstr(cg_recipient_get(r, "issuer"), ==, "Shared issuer");
	g_assert_null(cg_recipient_get(r, "description"));
	g_assert_null(cg_recipient_get(r, "recipients"));

	r = cg_data_get_recipient(data, 1);
	g_assert_cmpstr(cg_recipient_get(r, "recipientName"), ==, "B");
	g_assert_cmpstr(cg_recipient_get(r, "courseName"), ==, "Own course");
	g_assert_cmpstr(cg_recipient_get(r, "issuer"), ==, "Own");
	g_assert_cmpstr(cg_recipient_get(r, "issueDate"), ==, "2024-01-31");

	r = cg_data_get_recipient(data, 2);
	g_assert_cmpstr(cg_recipient_get(r, "recipientName"), ==, "C");
	g_assert_cmpstr(cg_recipient_get(r, "issueDate"), ==, "2020-02-29");
	g_assert_cmpstr(cg_recipient_get(r, "courseName"), ==, "Shared course");

	/* a batch of one is still a batch */
	{
		g_autoptr(CgData) one =
		    assert_valid("{\"recipients\":[{\"recipientName\":\"N\"," VALID_REST "}]}");

		g_assert_true(one->is_batch);
		g_assert_cmpuint(cg_data_get_n_recipients(one), ==, 1);
	}
}

static void
test_data_length_not_nul_terminated(void)
{
	const char *text = "{\"recipientName\":\"N\"," VALID_REST "}garbage\xff";
	gsize length = strlen(text) - strlen("garbage\xff");
	g_autofree char *buffer = g_memdup2(text, length); /* no NUL at the end */
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = parse_full(buffer, length, MAX_BYTES, MAX_RECIPIENTS, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(cg_recipient_get(cg_data_get_recipient(data, 0), "recipientName"), ==, "N");
}

static void
test_data_escaped_backslash_not_nul(void)
{
	/* "\\u0000" is a backslash followed by text, not a NUL */
	g_autoptr(CgData) data = assert_valid("{\"recipientName\":\"a\\\\u0000\"," VALID_REST "}");

	g_assert_cmpstr(cg_recipient_get(cg_data_get_recipient(data, 0), "recipientName"), ==,
			"a\\u0000");
	assert_invalid("{\"recipientName\":\"a\\\\\\u0000\"," VALID_REST "}",
		       "data: NUL character (\\u0000) at byte offset 21");
}

static void
test_data_canonical(void)
{
	g_autoptr(CgData) a = assert_valid(
	    "{\"issueDate\":\"2024-01-01\",\"recipientName\":\"Zoë \\\"Z\\\" \\\\ /\\n\","
	    "\"courseName\":\"C\",\"issuer\":\"I\"}");
	g_autoptr(CgData) b = assert_valid(
	    "{ \"issuer\" : \"I\", \"courseName\":\"C\",\n \"recipientName\":\"Zo\\u00eb "
	    "\\\"Z\\\" \\\\ \\/\\n\",\"issueDate\":\"2024-01-01\"}");
	g_autoptr(CgData) batch =
	    assert_valid("{\"recipients\":[{\"recipientName\":\"Zoë \\\"Z\\\" \\\\ /\\n\"}],"
			 "\"issuer\":\"I\",\"issueDate\":\"2024-01-01\",\"courseName\":\"C\"}");
	const char *expected = "{\"courseName\":\"C\",\"issueDate\":\"2024-01-01\",\"issuer\":"
			       "\"I\",\"recipientName\":\"Zoë \\\"Z\\\" \\\\ /\\n\"}";
	g_autofree char *ja = cg_recipient_canonical_json(cg_data_get_recipient(a, 0));
	g_autofree char *jb = cg_recipient_canonical_json(cg_data_get_recipient(b, 0));
	g_autofree char *jbatch = cg_recipient_canonical_json(cg_data_get_recipient(batch, 0));
	g_autofree char *again = cg_recipient_canonical_json(cg_data_get_recipient(a, 0));
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *object;

	g_assert_cmpstr(ja, ==, expected);
	g_assert_cmpstr(jb, ==, expected);
	g_assert_cmpstr(jbatch, ==, expected);
	g_assert_cmpstr(again, ==, expected);

	/* it is JSON and round-trips */
	json_parser_load_from_data(parser, ja, -1, &error);
	g_assert_no_error(error);
	object = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpuint(json_object_get_size(object), ==, 4);
	g_assert_cmpstr(json_object_get_string_member(object, "recipientName"), ==,
			"Zoë \"Z\" \\ /\n");

	/* tab and carriage return escaped, the rest raw UTF-8 */
	{
		g_autoptr(CgData) c = assert_valid(
		    "{\"recipientName\":\"\\t\\r\\u4e2d\\ud83d\\ude00\"," VALID_REST "}");
		g_autofree char *jc = cg_recipient_canonical_json(cg_data_get_recipient(c, 0));

		g_assert_cmpstr(jc, ==,
				"{\"courseName\":\"C\",\"issueDate\":\"2024-01-01\","
				"\"recipientName\":\"\\t\\r\xe4\xb8\xad\xf0\x9f\x98\x80\"}");
	}
}

static void
test_data_verification(void)
{
	g_autoptr(CgData) data = assert_valid("{\"recipientName\":\"N\"," VALID_REST "}");
	const CgRecipient *recipient = cg_data_get_recipient(data, 0);
	g_autofree char *canonical = cg_recipient_canonical_json(recipient);
	g_autofree char *verification = cg_recipient_verification(recipient, "CERT2026000042");
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *expected = NULL;

	g_checksum_update(checksum, (const guchar *)canonical, strlen(canonical));
	expected =
	    g_strdup_printf("CERTGEN1;N=CERT2026000042;H=%s", g_checksum_get_string(checksum));
	g_assert_cmpstr(verification, ==, expected);
	g_assert_true(
	    g_regex_match_simple("^CERTGEN1;N=CERT2026000042;H=[0-9a-f]{64}$", verification, 0, 0));
	/* a known value: sha256 of the canonical JSON as text */
	g_assert_cmpstr(
	    canonical, ==,
	    "{\"courseName\":\"C\",\"issueDate\":\"2024-01-01\",\"recipientName\":\"N\"}");

	/* different data, different hash */
	{
		g_autoptr(CgData) other = assert_valid("{\"recipientName\":\"M\"," VALID_REST "}");
		g_autofree char *v2 =
		    cg_recipient_verification(cg_data_get_recipient(other, 0), "CERT2026000042");

		g_assert_cmpstr(v2, !=, verification);
	}
}

static gint64
thread_cpu_time_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Not an assertion (machines differ): the time is printed for the log. */
static void
test_data_timing(void)
{
	g_autofree char *json = make_batch(MAX_RECIPIENTS);
	g_autoptr(GPtrArray) rules = classic_rules();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) data = NULL;
	gint64 start = g_get_monotonic_time();
	gint64 cpu_start = thread_cpu_time_us();
	gint64 elapsed;
	gint64 cpu;

	data = cg_data_parse(json, strlen(json), rules, MAX_BYTES, MAX_RECIPIENTS, NULL, &error);
	elapsed = g_get_monotonic_time() - start;
	cpu = thread_cpu_time_us() - cpu_start;
	g_assert_no_error(error);
	g_assert_cmpuint(cg_data_get_n_recipients(data), ==, MAX_RECIPIENTS);
	g_assert_cmpstr(cg_recipient_get(cg_data_get_recipient(data, 9999), "recipientName"), ==,
			"Recipient number 9999 Jörg");
	g_test_message("timing: %u recipients (%" G_GSIZE_FORMAT
		       " bytes) validated in %.1f ms (%.1f ms CPU)",
		       MAX_RECIPIENTS, strlen(json), elapsed / 1000.0, cpu / 1000.0);
}

/* Peak RSS (VmHWM) in bytes, reset first by writing 5 to clear_refs; 0 if
 * /proc cannot tell. */
static guint64
peak_rss_bytes(void)
{
	g_autofree char *status = NULL;
	const char *line;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return 0;
	line = strstr(status, "VmHWM:");
	return line != NULL ? g_ascii_strtoull(line + 6, NULL, 10) * 1024 : 0;
}

static gboolean
reset_peak_rss(void)
{
	FILE *file = fopen("/proc/self/clear_refs", "w");
	gboolean ok;

	if (file == NULL)
		return FALSE;
	ok = fputs("5", file) >= 0;
	return fclose(file) == 0 && ok;
}

/* Issue 15 item 3: 15 MiB of empty recipients used to build the whole tree
 * (some 1.8 GB, seconds of CPU) before the count was checked. The parse
 * stops at recipient max_recipients + 1 now. */
static void
test_data_huge_list(void)
{
	gsize size = 15 * 1024 * 1024;
	GString *json = g_string_sized_new(size + 32);
	g_autofree char *text = NULL;
	guint64 before, peak;
	gint64 cpu_start, cpu;
	gboolean measured;
	gsize length;

	g_string_append(json, "{\"recipients\":[{}");
	while (json->len < size)
		g_string_append(json, ",{}");
	g_string_append(json, "]}");
	length = json->len;
	text = g_string_free(json, FALSE);

	measured = reset_peak_rss();
	before = peak_rss_bytes();
	cpu_start = thread_cpu_time_us();
	assert_invalid_full(text, length, 16 * 1024 * 1024, MAX_RECIPIENTS,
			    "recipients: at most 10000 recipients");
	cpu = thread_cpu_time_us() - cpu_start;
	peak = peak_rss_bytes();
	g_test_message("%" G_GSIZE_FORMAT
		       " bytes refused in %.1f ms CPU, peak RSS %+" G_GINT64_FORMAT " KiB",
		       length, cpu / 1000.0, ((gint64)peak - (gint64)before) / 1024);
	/* generous for slow and sanitizer builds: it used to take seconds */
	g_assert_cmpint(cpu, <, 2 * G_USEC_PER_SEC);
	if (measured && before > 0 && peak >= before)
		g_assert_cmpuint(peak - before, <=, 8 * (guint64)length + 64 * 1024 * 1024);

	/* without a recipient limit, the values budget stops it as early */
	assert_invalid_full(text, length, 0, 0,
			    "data: more than 589824 values at byte offset 1769481");
}

/* Many small containers under the array limit: the values budget (what a
 * valid document can hold) stops them. */
static void
test_data_values_budget(void)
{
	GString *json = g_string_new("{\"recipientName\":[");
	g_autofree char *text = NULL;

	for (guint i = 0; i < 200; i++)
		g_string_append_printf(json, "%s[[],[],[],[],[],[],[],[],[],[]]", i > 0 ? "," : "");
	g_string_append(json, "]}");
	text = g_string_free(json, FALSE);
	/* 5 rules, 10 recipients: at most 2 + 5 + 6 * 10 = 67 values */
	assert_invalid_full(text, strlen(text), MAX_BYTES, 10,
			    "data: more than 67 values at byte offset 206");
	/* an array longer than max_recipients anywhere */
	assert_invalid_full("{\"recipientName\":[1,2,3]}", 25, MAX_BYTES, 2,
			    "recipientName: more than 2 elements at byte offset 22");
}

/* A cancelled parse stops with G_IO_ERROR_CANCELLED, both while the text
 * is parsed (a 10,000-recipient batch is far more values than one stride)
 * and for a small document between recipients; the same text parses when
 * the cancellable is not cancelled. */
static void
test_data_cancelled(void)
{
	g_autoptr(GPtrArray) rules = classic_rules();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	GString *json = g_string_new("{\"courseName\":\"C\",\"issueDate\":\"2024-05-17\","
				     "\"recipients\":[");
	const char *small = "{\"courseName\":\"C\",\"issueDate\":\"2024-05-17\","
			    "\"recipients\":[{\"recipientName\":\"A\"}]}";
	g_autofree char *text = NULL;

	for (guint i = 0; i < 10000; i++)
		g_string_append_printf(json, "%s{\"recipientName\":\"R %u\"}", i ? "," : "", i);
	g_string_append(json, "]}");
	text = g_string_free(json, FALSE);

	{
		g_autoptr(GError) error = NULL;
		g_autoptr(CgData) data = cg_data_parse(text, strlen(text), rules, 0, MAX_RECIPIENTS,
						       cancellable, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(cg_data_get_n_recipients(data), ==, 10000);
	}
	g_cancellable_cancel(cancellable);
	for (guint i = 0; i < 2; i++) {
		const char *json_text = i == 0 ? text : small;
		g_autoptr(GError) error = NULL;
		g_autoptr(CgData) data = cg_data_parse(json_text, strlen(json_text), rules, 0,
						       MAX_RECIPIENTS, cancellable, &error);

		g_assert_null(data);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	}
}

/* Issue 14 item 2: every character can be printed, none reorders the text. */
static void
test_data_glyphs(void)
{
	static const BadCase bad[] = {
	    /* unassigned */
	    {"{\"recipientName\":\"A\u0378B\"," VALID_REST "}",
	     "recipientName: U+0378 at byte offset 1 cannot be printed: no installed font has it"},
	    /* private use */
	    {"{\"recipientName\":\"\ue000\"," VALID_REST "}",
	     "recipientName: U+E000 at byte offset 0 cannot be printed: no installed font has it"},
	    /* bidi override and isolate controls */
	    {"{\"recipientName\":\"Ada\u202eecalovoL\"," VALID_REST "}",
	     "recipientName: bidi control character U+202E at byte offset 3 (it would reorder the "
	     "printed text)"},
	    {"{\"recipientName\":\"x\u202a\"," VALID_REST "}",
	     "recipientName: bidi control character U+202A at byte offset 1 (it would reorder the "
	     "printed text)"},
	    {"{\"recipientName\":\"N\",\"courseName\":\"\u2066C\u2069\",\"issueDate\":"
	     "\"2024-01-01\"}",
	     "courseName: bidi control character U+2066 at byte offset 0 (it would reorder the "
	     "printed text)"},
	    {"{\"recipientName\":\"x\u2069\"," VALID_REST "}",
	     "recipientName: bidi control character U+2069 at byte offset 1 (it would reorder the "
	     "printed text)"},
	};
	/* ZWJ, ZWNJ, CJK, Arabic, Hebrew, combining marks and emoji stay valid */
	static const char *const good[] = {
	    "{\"recipientName\":\"\u0645\u200c\u0646 \u200d x\"," VALID_REST "}",
	    "{\"recipientName\":\"\u738b\u5c0f\u660e \u5c71\u7530\u592a\u90ce\"," VALID_REST "}",
	    "{\"recipientName\":\"\u05d3\u05d5\u05d3 \u0639\u0644\u064a\"," VALID_REST "}",
	    "{\"recipientName\":\"Zoe\u0308 Ren\u00e9e\"," VALID_REST "}",
	};

	run_cases(bad, G_N_ELEMENTS(bad));
	for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
		cg_data_free(assert_valid(good[i]));
}

/* The problem list (cg-problems.h) on its own. */
static void
add_n(CgProblems *problems, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autofree char *path = g_strdup_printf("recipients[%u].recipientName", i);

		cg_problems_add(problems, path, "required");
	}
}

static void
test_problems_empty(void)
{
	g_autoptr(CgProblems) problems = cg_problems_new();
	g_autofree char *message = cg_problems_to_message(problems);
	g_autoptr(GVariant) list = g_variant_ref_sink(cg_problems_to_variant(problems));

	g_assert_cmpuint(cg_problems_get_count(problems), ==, 0);
	g_assert_false(cg_problems_is_full(problems));
	g_assert_cmpstr(message, ==, "");
	g_assert_cmpstr(g_variant_get_type_string(list), ==, "aa{sv}");
	g_assert_cmpuint(g_variant_n_children(list), ==, 0);
}

static void
test_problems_one(void)
{
	g_autoptr(CgProblems) problems = cg_problems_new();
	g_autofree char *message = NULL;

	g_assert_true(cg_problems_add(problems, "recipients[3].issueDate", "not a real date"));
	message = cg_problems_to_message(problems);
	/* one problem reads as the single error always did */
	g_assert_cmpstr(message, ==, "recipients[3].issueDate: not a real date");
	g_assert_cmpstr(cg_problems_get_path(problems, 0), ==, "recipients[3].issueDate");
	g_assert_cmpstr(cg_problems_get_message(problems, 0), ==, "not a real date");
}

static void
test_problems_joined(void)
{
	g_autoptr(CgProblems) problems = cg_problems_new();
	g_autofree char *message = NULL;

	add_n(problems, 20);
	message = cg_problems_to_message(problems);
	g_assert_true(g_str_has_prefix(message, "recipients[0].recipientName: required; "
						"recipients[1].recipientName: required; "));
	g_assert_true(g_str_has_suffix(message, "; recipients[19].recipientName: required"));
	g_assert_null(strstr(message, "more"));

	cg_problems_add(problems, "recipients[20].issueDate", "not a real date");
	g_clear_pointer(&message, g_free);
	message = cg_problems_to_message(problems);
	g_assert_true(
	    g_str_has_suffix(message, "; recipients[19].recipientName: required; … and 1 more"));
	g_assert_null(strstr(message, "recipients[20]"));
}

static void
test_problems_full(void)
{
	g_autoptr(CgProblems) problems = cg_problems_new();
	g_autoptr(CgProblems) more = cg_problems_new();
	g_autofree char *message = NULL;
	g_autoptr(GVariant) list = NULL;
	const char *path = NULL;
	const char *what = NULL;

	add_n(problems, 150);
	g_assert_cmpuint(cg_problems_get_count(problems), ==, CG_PROBLEMS_MAX);
	g_assert_true(cg_problems_is_full(problems));
	g_assert_false(cg_problems_add(problems, "x", "y"));
	add_n(more, 3);
	cg_problems_append(problems, more);
	g_assert_cmpuint(cg_problems_get_count(problems), ==, 100);

	message = cg_problems_to_message(problems);
	g_assert_true(
	    g_str_has_suffix(message, "; recipients[19].recipientName: required; … and 80 more"));

	list = g_variant_ref_sink(cg_problems_to_variant(problems));
	g_assert_cmpuint(g_variant_n_children(list), ==, 100);
	{
		g_autoptr(GVariant) last = g_variant_get_child_value(list, 99);

		g_assert_true(g_variant_lookup(last, "path", "&s", &path));
		g_assert_true(g_variant_lookup(last, "message", "&s", &what));
		g_assert_cmpstr(path, ==, "recipients[99].recipientName");
		g_assert_cmpstr(what, ==, "required");
	}
}

/* Every problem at once (issue 14 item 3): validation goes on after a bad
 * field and a bad recipient, and hands the list out beside the error. */
static CgProblems *
parse_problems(const char *json, GError **error)
{
	g_autoptr(GPtrArray) rules = classic_rules();
	CgProblems *problems = NULL;
	CgData *data = cg_data_parse_full(json, strlen(json), rules, MAX_BYTES, MAX_RECIPIENTS,
					  NULL, &problems, error);

	g_assert_null(data);
	g_assert_error(*error, CG_ERROR, CG_ERROR_INVALID_DATA);
	return problems;
}

static void
test_data_all_problems(void)
{
	static const char *const expected[][2] = {
	    {"recipients[0].issueDate", "not a real date: 2023-02-30"},
	    {"recipients[2].foo", "unknown field"},
	    {"recipients[2].recipientName", "required"},
	    {"recipients[3]", "must be an object, not a number"},
	    {"recipients[4].recipientName", "too long (129 characters, at most 128)"},
	    {"issuer", "must be a string, not a boolean"},
	};
	g_autofree char *long_name = g_strnfill(129, 'x');
	g_autofree char *json =
	    g_strdup_printf("{\"courseName\":\"C\",\"recipients\":["
			    "{\"recipientName\":\"A\",\"issueDate\":\"2023-02-30\"},"
			    "{\"recipientName\":\"B\",\"issueDate\":\"2024-01-01\"},"
			    "{\"issueDate\":\"2024-01-01\",\"foo\":1},"
			    "7,"
			    "{\"recipientName\":\"%s\",\"issueDate\":\"2024-01-01\"}],"
			    "\"issuer\":false}",
			    long_name);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgProblems) problems = parse_problems(json, &error);
	g_autofree char *joined = NULL;

	g_assert_nonnull(problems);
	g_assert_cmpuint(cg_problems_get_count(problems), ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_assert_cmpstr(cg_problems_get_path(problems, i), ==, expected[i][0]);
		g_assert_cmpstr(cg_problems_get_message(problems, i), ==, expected[i][1]);
	}
	joined = cg_problems_to_message(problems);
	g_assert_cmpstr(error->message, ==, joined);
	g_assert_true(g_str_has_prefix(
	    error->message,
	    "recipients[0].issueDate: not a real date: 2023-02-30; "
	    "recipients[2].foo: unknown field; recipients[2].recipientName: required; "));
}

static void
test_data_problems_capped(void)
{
	GString *json = g_string_new("{\"courseName\":\"C\",\"recipients\":[");
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CgProblems) problems = NULL;

	for (guint i = 0; i < 150; i++)
		g_string_append_printf(json,
				       "%s{\"recipientName\":\"N\",\"issueDate\":\"2023-02-%u\"}",
				       i == 0 ? "" : ",", 30 + i % 2);
	g_string_append(json, "]}");
	text = g_string_free(json, FALSE);
	problems = parse_problems(text, &error);
	g_assert_cmpuint(cg_problems_get_count(problems), ==, 100);
	g_assert_cmpstr(cg_problems_get_path(problems, 99), ==, "recipients[99].issueDate");
	g_assert_true(g_str_has_prefix(error->message,
				       "recipients[0].issueDate: not a real date: 2023-02-30; "
				       "recipients[1].issueDate: not a real date: 2023-02-31; "));
	g_assert_true(g_str_has_suffix(error->message,
				       "; recipients[19].issueDate: not a real date: 2023-02-31; "
				       "… and 80 more"));
}

static void
test_data_problems_structural(void)
{
	g_autoptr(GPtrArray) rules = classic_rules();
	static const char *const texts[] = {"{", "[1]", "{\"recipients\":5}"};

	/* what stops the check is the one error; only a list of problems
	 * (here "recipients" that is no list) comes out as a list */
	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgProblems) problems = NULL;
		g_autoptr(CgData) data =
		    cg_data_parse_full(texts[i], strlen(texts[i]), rules, MAX_BYTES, MAX_RECIPIENTS,
				       NULL, &problems, &error);

		g_assert_null(data);
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
		if (i < 2)
			g_assert_null(problems);
		else
			g_assert_cmpuint(cg_problems_get_count(problems), ==, 1);
	}
}

static const CgTestCase cases[] = {
    {"/data/single-bad", test_data_single_bad},
    {"/data/glyphs", test_data_glyphs},
    {"/data/not-json", test_data_not_json},
    {"/data/nesting", test_data_nesting},
    {"/data/batch-bad", test_data_batch_bad},
    {"/data/batch-index", test_data_batch_index},
    {"/data/lengths", test_data_lengths},
    {"/data/bad-utf8", test_data_bad_utf8},
    {"/data/dates", test_data_dates},
    {"/data/oversize", test_data_oversize},
    {"/data/too-many", test_data_too_many},
    {"/data/valid-single", test_data_valid_single},
    {"/data/valid-batch", test_data_valid_batch},
    {"/data/length-not-nul-terminated", test_data_length_not_nul_terminated},
    {"/data/escaped-backslash", test_data_escaped_backslash_not_nul},
    {"/data/canonical", test_data_canonical},
    {"/data/verification", test_data_verification},
    {"/data/timing", test_data_timing},
    {"/data/huge-list", test_data_huge_list},
    {"/data/values-budget", test_data_values_budget},
    {"/data/cancelled", test_data_cancelled},
    {"/data/problems-empty", test_problems_empty},
    {"/data/problems-one", test_problems_one},
    {"/data/problems-joined", test_problems_joined},
    {"/data/problems-full", test_problems_full},
    {"/data/all-problems", test_data_all_problems},
    {"/data/problems-capped", test_data_problems_capped},
    {"/data/problems-structural", test_data_problems_structural},
};

CG_TEST_MAIN(cases)

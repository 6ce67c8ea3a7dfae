/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the bridge's JSON helpers (cg-http-json.c): parsing and
 * checking bodies, updates and analytics as JSON, the error body. */
#include <gio/gio.h>
#include <string.h>

#include "cg-http-error.h"
#include "cg-http-json.h"
#include "cg-test-util.h"

static void
test_check_depth(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) deep = g_string_new(NULL);
	const char *strings = "{\"a\": \"[[[[[[[[[[[[\\\"{{{{{{{{\"}";

	for (guint i = 0; i < 33; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 33; i++)
		g_string_append_c(deep, ']');
	g_assert_false(cg_http_json_check(deep->str, deep->len, 32, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST);
	g_assert_nonnull(strstr(error->message, "nested deeper than 32"));
	g_clear_error(&error);
	g_assert_true(cg_http_json_check(deep->str, deep->len, 33, &error));
	g_assert_no_error(error);
	/* brackets inside strings (with escaped quotes) do not count */
	g_assert_true(cg_http_json_check(strings, strlen(strings), 2, &error));
	g_assert_no_error(error);
}

static void
test_check_encoding(void)
{
	g_autoptr(GError) error = NULL;
	const char nul[] = "{\"a\": 1}\0";
	const char bad[] = "{\"a\": \"\xff\"}";

	g_assert_false(cg_http_json_check("", 0, 32, &error));
	g_assert_nonnull(strstr(error->message, "empty"));
	g_clear_error(&error);
	g_assert_false(cg_http_json_check(nul, sizeof(nul) - 1, 32, &error));
	g_assert_nonnull(strstr(error->message, "NUL"));
	g_clear_error(&error);
	g_assert_false(cg_http_json_check(bad, strlen(bad), 32, &error));
	g_assert_nonnull(strstr(error->message, "UTF-8"));
}

static void
test_parse_object(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = cg_http_json_parse_object("[1]", 3, 32, &error);
	g_assert_null(node);
	g_assert_nonnull(strstr(error->message, "object"));
	g_clear_error(&error);
	node = cg_http_json_parse_object("{\"a\":", 5, 32, &error);
	g_assert_null(node);
	g_assert_nonnull(strstr(error->message, "Malformed JSON"));
	g_clear_error(&error);
	node = cg_http_json_parse_object("{\"a\": [1, 2]}", 13, 32, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
}

static void
test_camel_case(void)
{
	const char *cases[][2] = {
	    {"progress_id", "progressId"},
	    {"stage", "stage"},
	    {"last_certificate_number", "lastCertificateNumber"},
	    {"_odd__key_", "oddKey"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = cg_http_camel_case(cases[i][0]);

		g_assert_cmpstr(out, ==, cases[i][1]);
	}
}

static JsonObject *
parse(const char *json, JsonParser *parser)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_data(parser, json, -1, &error));
	g_assert_no_error(error);
	return json_node_get_object(json_parser_get_root(parser));
}

/* "errors" of a failed update: [{path: recipientName, message: required}] */
static GVariant *
problems_variant(void)
{
	GVariantBuilder list;

	g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
	g_variant_builder_open(&list, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&list, "{sv}", "path", g_variant_new_string("recipientName"));
	g_variant_builder_add(&list, "{sv}", "message", g_variant_new_string("required"));
	g_variant_builder_close(&list);
	return g_variant_builder_end(&list);
}

static void
test_update_to_json(void)
{
	JsonObject *problem;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_auto(GVariantBuilder) result = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GVariant) update = NULL;
	g_autofree char *json = NULL;
	JsonObject *object, *res;

	g_variant_builder_add(&result, "{sv}", "certificate_number",
			      g_variant_new_string("CERT2024000001"));
	g_variant_builder_add(&result, "{sv}", "file_size", g_variant_new_uint64(1234));
	g_variant_builder_add(&result, "{sv}", "pages", g_variant_new_uint32(1));
	g_variant_builder_add(&builder, "{sv}", "progress_id", g_variant_new_string("abc"));
	g_variant_builder_add(&builder, "{sv}", "stage_index", g_variant_new_uint32(6));
	g_variant_builder_add(&builder, "{sv}", "progress", g_variant_new_double(100.0));
	g_variant_builder_add(&builder, "{sv}", "sequence", g_variant_new_uint64(42));
	g_variant_builder_add(&builder, "{sv}", "timestamp_us", g_variant_new_int64(1500000));
	g_variant_builder_add(&builder, "{sv}", "expected_end_us", g_variant_new_int64(0));
	g_variant_builder_add(&builder, "{sv}", "cancellable", g_variant_new_boolean(FALSE));
	g_variant_builder_add(&builder, "{sv}", "owner_label", g_variant_new_string("alice"));
	g_variant_builder_add(&builder, "{sv}", "error",
			      g_variant_new_string("org.certgen.Certificates1.Error.InvalidData"));
	g_variant_builder_add(&builder, "{sv}", "error_message",
			      g_variant_new_string("recipientName: required"));
	g_variant_builder_add(&builder, "{sv}", "result", g_variant_builder_end(&result));
	g_variant_builder_add(&builder, "{sv}", "errors", problems_variant());
	update = g_variant_ref_sink(g_variant_builder_end(&builder));

	json = cg_http_update_to_json(update);
	object = parse(json, parser);
	g_assert_cmpstr(json_object_get_string_member(object, "progressId"), ==, "abc");
	g_assert_cmpint(json_object_get_int_member(object, "stageIndex"), ==, 6);
	g_assert_cmpint(json_object_get_int_member(object, "sequence"), ==, 42);
	g_assert_cmpint(json_object_get_int_member(object, "timestamp"), ==, 1500);
	g_assert_true(json_object_get_null_member(object, "expectedEnd"));
	g_assert_false(json_object_get_boolean_member(object, "cancellable"));
	g_assert_false(json_object_has_member(object, "ownerLabel"));
	g_assert_false(json_object_has_member(object, "owner_label"));
	g_assert_cmpstr(json_object_get_string_member(object, "error"), ==, "invalid_data");
	g_assert_cmpstr(json_object_get_string_member(object, "errorName"), ==,
			"org.certgen.Certificates1.Error.InvalidData");
	g_assert_cmpstr(json_object_get_string_member(object, "errorMessage"), ==,
			"recipientName: required");
	g_assert_cmpstr(json_object_get_string_member(object, "downloadUrl"), ==,
			"/api/certificates/abc/download");
	res = json_object_get_object_member(object, "result");
	g_assert_cmpstr(json_object_get_string_member(res, "certificateNumber"), ==,
			"CERT2024000001");
	g_assert_cmpint(json_object_get_int_member(res, "fileSize"), ==, 1234);
	g_assert_cmpint(json_object_get_int_member(res, "pages"), ==, 1);
	/* InvalidData's problems, one object each */
	problem = json_array_get_object_element(json_object_get_array_member(object, "errors"), 0);
	g_assert_cmpstr(json_object_get_string_member(problem, "path"), ==, "recipientName");
	g_assert_cmpstr(json_object_get_string_member(problem, "message"), ==, "required");
	g_assert_null(strchr(json, '\n'));
}

static void
test_analytics_to_json(void)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_auto(GVariantBuilder) stages = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{st}"));
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GVariant) analytics = NULL;
	g_autofree char *json = NULL;
	JsonObject *object;

	g_variant_builder_add(&stages, "{st}", "pdf_generation", (guint64)120);
	g_variant_builder_add(&builder, "{sv}", "total_duration_ms", g_variant_new_uint64(150));
	g_variant_builder_add(&builder, "{sv}", "average_progress_rate",
			      g_variant_new_double(666.5));
	g_variant_builder_add(&builder, "{sv}", "stage_durations", g_variant_builder_end(&stages));
	g_variant_builder_add(&builder, "{sv}", "status", g_variant_new_string("completed"));
	g_variant_builder_add(&builder, "{sv}", "started_at_us", g_variant_new_int64(2000000));
	g_variant_builder_add(&builder, "{sv}", "finished_at_us", g_variant_new_int64(0));
	analytics = g_variant_ref_sink(g_variant_builder_end(&builder));

	json = cg_http_analytics_to_json(analytics);
	object = parse(json, parser);
	g_assert_cmpint(json_object_get_int_member(object, "totalDuration"), ==, 150);
	g_assert_cmpfloat(json_object_get_double_member(object, "averageProgressRate"), ==, 666.5);
	g_assert_cmpint(
	    json_object_get_int_member(json_object_get_object_member(object, "stageDurations"),
				       "pdf_generation"),
	    ==, 120);
	g_assert_cmpstr(json_object_get_string_member(object, "status"), ==, "completed");
	g_assert_cmpint(json_object_get_int_member(object, "startedAt"), ==, 2000);
	g_assert_true(json_object_get_null_member(object, "finishedAt"));
}

/* ListTemplates' aa{sv}: every key camelCased, "fields" an array of
 * objects, the values as they are. */
static void
test_templates_to_json(void)
{
	g_autoptr(GVariant) templates = g_variant_ref_sink(g_variant_new_parsed(
	    "[{'id': <'classic'>, 'title': <'Classic'>, 'description': <''>,"
	    "  'width_pt': <842.0>, 'height_pt': <595.5>,"
	    "  'fields': <[{'name': <'recipientName'>, 'label': <'Recipient name'>,"
	    "               'required': <true>, 'type': <'string'>, 'min_length': <uint32 1>,"
	    "               'max_length': <uint32 128>, 'shared': <true>}]>}]"));
	g_autoptr(GVariant) none = g_variant_ref_sink(g_variant_new_parsed("@aa{sv} []"));
	g_autofree char *json = cg_http_templates_to_json(templates);
	g_autofree char *empty = cg_http_templates_to_json(none);

	g_assert_cmpstr(
	    json, ==,
	    "[{\"id\":\"classic\",\"title\":\"Classic\",\"description\":\"\","
	    "\"widthPt\":842.0,\"heightPt\":595.5,\"fields\":[{\"name\":"
	    "\"recipientName\",\"label\":\"Recipient name\",\"required\":true,"
	    "\"type\":\"string\",\"minLength\":1,\"maxLength\":128,\"shared\":true}]}]");
	g_assert_cmpstr(empty, ==, "[]");
}

/* Whether a case expected to give @parameters did (@expected_error NULL),
 * or else it was refused as INVALID_ARGUMENT with exactly @expected_error. */
static gboolean
accepted_as_expected(GVariant *parameters, const GError *error, const char *expected_error)
{
	if (expected_error != NULL) {
		g_assert_null(parameters);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT);
		g_assert_cmpstr(error->message, ==, expected_error);
		return FALSE;
	}
	g_assert_no_error(error);
	return TRUE;
}

/* The options of a POST body: validateOnly is certgend's validate_only;
 * a wrong type or an unknown option is refused, naming the known ones. */
typedef struct {
	const char *options, *error; /* error NULL: accepted */
} OptionsCase;

static void
test_start_options(void)
{
	static const OptionsCase cases[] = {
	    {"{\"validateOnly\": true}", NULL},
	    {"{\"validateOnly\": false, \"enablePersistence\": true}", NULL},
	    {"{\"validateOnly\": 1}", "options.validateOnly: expected true or false"},
	    {"{\"validate_only\": true}",
	     "options: unknown option 'validate_only' (known: timeout, enableCancellation, "
	     "enablePersistence, validateOnly, updateInterval)"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *body = g_strdup_printf(
		    "{\"data\": {\"recipientName\": \"Ada\"}, \"options\": %s}", cases[i].options);
		g_autoptr(GVariant) parameters = cg_http_start_parameters_from_body(
		    body, strlen(body), 32, "web-user", NULL, &error);
		g_autoptr(GVariant) options = NULL;
		gboolean flag = FALSE;
		g_autofree char *shown = cg_test_printable(body, -1, 200);

		g_test_message("%s", shown);
		if (!accepted_as_expected(parameters, error, cases[i].error))
			continue;
		g_variant_ref_sink(parameters);
		options = g_variant_get_child_value(parameters, 3);
		g_assert_true(g_variant_lookup(options, "validate_only", "b", &flag));
		g_assert_cmpint(flag, ==, i == 0);
		g_assert_true(g_variant_lookup(options, "owner_label", "&s", NULL));
	}
}

/* A POST /api/preview body: (ssu) with the data as sent, the defaults, and
 * what is refused, by name. */
static void
test_preview_parameters(void)
{
	static const struct {
		const char *body, *expected, *error; /* error NULL: @expected */
	} cases[] = {
	    {"{\"data\": {\"recipientName\": \"Ada\"}}",
	     "('classic', '{\"recipientName\": \"Ada\"}', uint32 1)", NULL},
	    {"{\"templateId\": \"modern\", \"data\": {\"a\":1}, \"page\": 4294967295}",
	     "('modern', '{\"a\":1}', uint32 4294967295)", NULL},
	    {"{\"data\": {}, \"page\": null}", "('classic', '{}', uint32 1)", NULL},
	    {"{\"data\": {}, \"page\": 0}", NULL,
	     "page: expected a whole number from 1 to 4294967295"},
	    {"{\"data\": {}, \"page\": 4294967296}", NULL,
	     "page: expected a whole number from 1 to 4294967295"},
	    {"{\"data\": {}, \"page\": 2.0}", NULL,
	     "page: expected a whole number from 1 to 4294967295"},
	    {"{\"data\": {}, \"page\": [1]}", NULL,
	     "page: expected a whole number from 1 to 4294967295"},
	    {"{\"data\": {}, \"templateId\": 7}", NULL, "templateId: expected a string"},
	    {"{\"data\": []}", NULL,
	     "data: expected an object (one recipient, or {\"recipients\": [...]})"},
	    {"{\"data\": {}, \"transactionId\": \"x\"}", NULL,
	     "unknown field 'transactionId' (known: templateId, data, page)"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) parameters = cg_http_preview_parameters_from_body(
		    cases[i].body, strlen(cases[i].body), 32, NULL, &error);
		g_autofree char *text = NULL;
		g_autofree char *shown = cg_test_printable(cases[i].body, -1, 200);

		g_test_message("%s", shown);
		if (!accepted_as_expected(parameters, error, cases[i].error))
			continue;
		g_variant_ref_sink(parameters);
		text = g_variant_print(parameters, TRUE);
		g_assert_cmpstr(text, ==, cases[i].expected);
	}
}

static void
test_error_json(void)
{
	g_autofree char *json = cg_http_error_json("not_found", "No \"generation\"");

	g_assert_cmpstr(json, ==,
			"{\"error\":\"not_found\",\"message\":\"No \\\"generation\\\"\"}");
}

/* A POST body with "outputFormat": @value (JSON text). */
static GVariant *
start_with_output_format(const char *value, GError **error)
{
	g_autofree char *body =
	    g_strdup_printf("{\"data\": {\"recipientName\": \"A\"}, \"outputFormat\": %s}", value);

	return cg_http_start_parameters_from_body(body, strlen(body), 32, "web", NULL, error);
}

/* The message of the InvalidArgument error a body with @value gets. */
static char *
refused_output_format(const char *value)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(start_with_output_format(value, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_str_has_prefix(error->message, "outputFormat: "));
	return g_strdup(error->message);
}

/* outputFormat "zip" becomes option output_format, "pdf" is the default;
 * anything else (or another type) is refused naming the field. */
static void
test_start_output_format(void)
{
	const char *const accepted[] = {"zip", "pdf"};
	g_autofree char *tar = refused_output_format("\"tar\"");
	g_autofree char *upper = refused_output_format("\"Zip\"");
	g_autofree char *control = refused_output_format("\"zip\\u001b\"");
	g_autofree char *boolean = refused_output_format("true");

	g_assert_cmpstr(tar, ==, "outputFormat: expected pdf or zip, not 'tar'");
	g_assert_cmpstr(upper, ==, "outputFormat: expected pdf or zip, not 'Zip'");
	g_assert_nonnull(strstr(control, "'zip\\033'"));
	g_assert_cmpstr(boolean, ==, "outputFormat: expected a string");
	for (guint i = 0; i < G_N_ELEMENTS(accepted); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *quoted = g_strdup_printf("\"%s\"", accepted[i]);
		g_autoptr(GVariant) params = start_with_output_format(quoted, &error);
		g_autoptr(GVariant) options = NULL;
		const char *format = NULL;

		g_assert_no_error(error);
		g_variant_ref_sink(params);
		options = g_variant_get_child_value(params, 3);
		/* pdf is certgend's default: only zip is asked for */
		if (g_str_equal(accepted[i], "pdf")) {
			g_assert_false(g_variant_lookup(options, "output_format", "&s", &format));
			continue;
		}
		g_assert_true(g_variant_lookup(options, "output_format", "&s", &format));
		g_assert_cmpstr(format, ==, accepted[i]);
	}
}

/* certgend's joined InvalidData message split back into "errors" */
static void
test_invalid_data_message(void)
{
	static const struct {
		const char *message;
		const char *entries[4][2];
	} cases[] = {
	    {"recipients[3].issueDate: not a real date: 2023-02-30; recipients[7].recipientName: "
	     "required; … and 12 more",
	     {{"recipients[3].issueDate", "not a real date: 2023-02-30"},
	      {"recipients[7].recipientName", "required"}}},
	    {"data: not valid JSON: unexpected end at byte offset 1",
	     {{"data", "not valid JSON: unexpected end at byte offset 1"}}},
	    {"recipientName: too short (0 characters, at least 1); issueDate: not a date "
	     "(expected YYYY-MM-DD): a; b",
	     {{"recipientName", "too short (0 characters, at least 1)"},
	      {"issueDate", "not a date (expected YYYY-MM-DD): a; b"}}},
	    {"Data is not valid", {{"data", "Data is not valid"}}},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autofree char *json = cg_http_invalid_data_message_json(cases[i].message);
		JsonObject *object = parse(json, parser);
		JsonArray *errors = json_object_get_array_member(object, "errors");
		guint n = 0;

		g_assert_cmpstr(json_object_get_string_member(object, "error"), ==, "invalid_data");
		g_assert_cmpstr(json_object_get_string_member(object, "message"), ==,
				cases[i].message);
		while (n < G_N_ELEMENTS(cases[i].entries) && cases[i].entries[n][0] != NULL)
			n++;
		g_assert_cmpuint(json_array_get_length(errors), ==, n);
		for (guint j = 0; j < n; j++) {
			JsonObject *entry = json_array_get_object_element(errors, j);

			g_assert_cmpstr(json_object_get_string_member(entry, "path"), ==,
					cases[i].entries[j][0]);
			g_assert_cmpstr(json_object_get_string_member(entry, "message"), ==,
					cases[i].entries[j][1]);
		}
	}
}

static const CgTestCase cases[] = {
    {"/http/json/check-depth", test_check_depth},
    {"/http/json/check-encoding", test_check_encoding},
    {"/http/json/parse-object", test_parse_object},
    {"/http/json/camel-case", test_camel_case},
    {"/http/json/start-output-format", test_start_output_format},
    {"/http/json/update", test_update_to_json},
    {"/http/json/analytics", test_analytics_to_json},
    {"/http/json/templates", test_templates_to_json},
    {"/http/json/start-options", test_start_options},
    {"/http/json/preview-parameters", test_preview_parameters},
    {"/http/json/error", test_error_json},
    {"/http/json/invalid-data-message", test_invalid_data_message},
};

CG_TEST_MAIN(cases)

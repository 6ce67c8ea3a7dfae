/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of text/csv start requests (client/http/cg-http-csv.c): the
 * query, the arguments of StartGeneration, the CSV's problems, updates in
 * the CSV's words and the registry of CSV generations. */
#include "cg-csv.h"
#include "cg-http-csv.h"
#include "cg-http-error.h"
#include "cg-test-util.h"

#define CSV "recipientName\nAda\n"

static GVariant *
start(const char *csv, const char *query, GError **error)
{
	return cg_http_csv_start_parameters(csv, strlen(csv), query, "alice", NULL, error);
}

static void
test_http_csv_parameters(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) parameters = NULL;
	g_autoptr(GVariant) options = NULL;
	const char *transaction, *template, *data;
	const char *owner = NULL, *format = NULL;
	gboolean persist = FALSE;

	parameters = start(CSV,
			   "transactionId=tx+1&templateId=modern&set.courseName=A%26B"
			   "&persist=1&outputFormat=zip",
			   &error);
	g_assert_no_error(error);
	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction, &template, &data, &options);
	g_assert_cmpstr(transaction, ==, "tx 1");
	g_assert_cmpstr(template, ==, "modern");
	g_assert_cmpstr(data, ==,
			"{\"courseName\":\"A&B\",\"recipients\":[{\"recipientName\":\"Ada\"}]}");
	g_assert_true(g_variant_lookup(options, "owner_label", "&s", &owner));
	g_assert_cmpstr(owner, ==, "alice");
	g_assert_true(g_variant_lookup(options, "enable_persistence", "b", &persist));
	g_assert_true(persist);
	g_assert_true(g_variant_lookup(options, "output_format", "&s", &format));
	g_assert_cmpstr(format, ==, "zip");
	g_clear_pointer(&parameters, g_variant_unref);
	g_clear_pointer(&options, g_variant_unref);

	/* the defaults; pdf is not asked for */
	parameters = start(CSV, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction, &template, &data, &options);
	g_assert_true(g_str_has_prefix(transaction, "web-"));
	g_assert_cmpstr(template, ==, "classic");
	g_assert_cmpuint(g_variant_n_children(options), ==, 1);
	g_clear_pointer(&parameters, g_variant_unref);
	g_clear_pointer(&options, g_variant_unref);
	parameters = start(CSV, "outputFormat=pdf&persist=false", &error);
	g_assert_no_error(error);
	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction, &template, &data, &options);
	g_assert_false(g_variant_lookup(options, "output_format", "&s", &format));
}

static void
test_http_csv_query_errors(void)
{
	/* each query, then its message */
	static const char *const cases[] = {
	    "x=1",
	    "unknown query parameter 'x' (known: templateId, transactionId, outputFormat, "
	    "persist, set.FIELD)",
	    "persist=1&persist=1",
	    "query parameter 'persist' given twice",
	    "set.a%3Db=1",
	    "'set.a=b': not a shared field (set.FIELD, FIELD a letter, then letters, digits or "
	    "_, at most 64)",
	    "outputFormat=PDF",
	    "outputFormat: expected pdf or zip, not 'PDF'",
	    "persist=yes",
	    "persist: expected true or false",
	    "transactionId=",
	    "transactionId: must be 1–128 bytes",
	    "%0a=1",
	    "unknown query parameter '\\n' (known: templateId, transactionId, outputFormat, "
	    "persist, set.FIELD)",
	};

	for (guint i = 0; i + 1 < G_N_ELEMENTS(cases); i += 2) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) parameters = start(CSV, cases[i], &error);

		g_test_message("%s", cases[i]);
		g_assert_null(parameters);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT);
		g_assert_cmpstr(error->message, ==, cases[i + 1]);
	}
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) parameters = start(CSV, i == 0 ? "a=%ff" : "a=%zz", &error);

		g_assert_null(parameters);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_str_has_prefix(error->message, "query: "));
	}
}

static void
test_http_csv_data_errors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autoptr(GVariant) parameters = NULL;
	const char *csv = "a,b\n1\n1,2,3\n";

	parameters = cg_http_csv_start_parameters(csv, strlen(csv), NULL, "alice", &issues, &error);
	g_assert_null(parameters);
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==,
			"row 2: expected 2 columns, found 1 (and 1 more problem)");
	g_assert_cmpuint(issues->len, ==, 2);
	g_assert_cmpstr(((CgCsvIssue *)g_ptr_array_index(issues, 1))->path, ==, "row 3");
}

static void
test_http_csv_map_update(void)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_auto(GVariantBuilder) errors = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_auto(GVariantBuilder) entry = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) update = NULL;
	g_autoptr(GVariant) mapped = NULL;
	g_autoptr(GVariant) other = NULL;
	g_autoptr(GVariant) same = NULL;
	g_autoptr(GVariant) list = NULL;
	const char *text = NULL, *path = NULL;
	guint64 sequence = 0;

	g_variant_builder_add(&entry, "{sv}", "path",
			      g_variant_new_string("recipients[3].recipientName"));
	g_variant_builder_add(&entry, "{sv}", "message", g_variant_new_string("required"));
	g_variant_builder_add_value(&errors, g_variant_builder_end(&entry));
	g_variant_builder_add(&builder, "{sv}", "error",
			      g_variant_new_string("org.certgen.Certificates1.Error.InvalidData"));
	g_variant_builder_add(&builder, "{sv}", "error_message",
			      g_variant_new_string("recipients[3].recipientName: required"));
	g_variant_builder_add(&builder, "{sv}", "message",
			      g_variant_new_string("courseName: too long"));
	g_variant_builder_add(&builder, "{sv}", "sequence", g_variant_new_uint64(9));
	g_variant_builder_add(&builder, "{sv}", "errors", g_variant_builder_end(&errors));
	update = g_variant_ref_sink(g_variant_builder_end(&builder));

	mapped = cg_http_csv_map_update(update);
	g_assert_true(g_variant_lookup(mapped, "error_message", "&s", &text));
	g_assert_cmpstr(text, ==, "row 5, column recipientName: required");
	g_assert_true(g_variant_lookup(mapped, "message", "&s", &text));
	g_assert_cmpstr(text, ==, "set.courseName: too long");
	g_assert_true(g_variant_lookup(mapped, "sequence", "t", &sequence));
	g_assert_cmpuint(sequence, ==, 9);
	list = g_variant_lookup_value(mapped, "errors", G_VARIANT_TYPE("aa{sv}"));
	g_assert_nonnull(list);
	other = g_variant_get_child_value(list, 0);
	g_assert_true(g_variant_lookup(other, "path", "&s", &path));
	g_assert_cmpstr(path, ==, "row 5, column recipientName");
	g_clear_pointer(&other, g_variant_unref);

	/* anything but InvalidData is left as it is */
	other = g_variant_ref_sink(g_variant_new_parsed(
	    "{'error': <'org.certgen.Certificates1.Error.Failed'>, 'error_message': "
	    "<'recipients[3]: x'>}"));
	same = cg_http_csv_map_update(other);
	g_assert_true(same == other);
}

static void
test_http_csv_generations(void)
{
	g_autoptr(CgHttpCsvGenerations) generations = cg_http_csv_generations_new(2, 10);
	gint64 s = G_USEC_PER_SEC;

	cg_http_csv_generations_add(generations, "a", 0);
	cg_http_csv_generations_add(generations, "b", 5 * s);
	g_assert_true(cg_http_csv_generations_contains(generations, "a"));
	g_assert_false(cg_http_csv_generations_contains(generations, "x"));
	g_assert_false(cg_http_csv_generations_contains(generations, NULL));
	/* full: not remembered */
	cg_http_csv_generations_add(generations, "c", 6 * s);
	g_assert_false(cg_http_csv_generations_contains(generations, "c"));
	/* once "a" expired there is room */
	cg_http_csv_generations_add(generations, "c", 10 * s);
	g_assert_false(cg_http_csv_generations_contains(generations, "a"));
	g_assert_true(cg_http_csv_generations_contains(generations, "c"));
	cg_http_csv_generations_prune(generations, 15 * s);
	g_assert_false(cg_http_csv_generations_contains(generations, "b"));
	g_assert_true(cg_http_csv_generations_contains(generations, "c"));
}

static const CgTestCase cases[] = {
    {"/http-csv/parameters", test_http_csv_parameters},
    {"/http-csv/query-errors", test_http_csv_query_errors},
    {"/http-csv/data-errors", test_http_csv_data_errors},
    {"/http-csv/map-update", test_http_csv_map_update},
    {"/http-csv/generations", test_http_csv_generations},
};

CG_TEST_MAIN(cases)

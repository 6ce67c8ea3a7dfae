/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the CSV reader the clients share (common/cg-csv.c): RFC 4180
 * cases, the byte order mark, line ends, quoting, ragged rows, encodings,
 * the header's rules, shared fields, caps, where errors are named, and
 * certgend's paths put in the CSV's words. */
#include <string.h>

#include "cg-csv.h"
#include "cg-json.h"
#include "cg-test-util.h"

static const CgCsvOptions default_options = {0};

static char *
convert_full(const char *csv, gsize length, const CgCsvOptions *options, GPtrArray **issues,
	     GError **error)
{
	gsize json_length = 0;
	char *json = cg_csv_to_data_json(csv, length, options, &json_length, issues, error);

	if (json != NULL) {
		g_autoptr(GError) json_error = NULL;
		g_autoptr(JsonNode) root = NULL;

		g_assert_cmpuint(json_length, ==, strlen(json));
		/* always JSON the strict parser takes */
		root = cg_json_parse(json, json_length, NULL, &json_error);
		g_assert_no_error(json_error);
		g_assert_nonnull(root);
	}
	return json;
}

/* @csv converts to exactly @expected. */
static void
assert_json_with(const char *csv, gsize length, const CgCsvOptions *options, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *json = convert_full(csv, length, options, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(json, ==, expected);
}

static void
assert_json(const char *csv, const char *expected)
{
	assert_json_with(csv, strlen(csv), &default_options, expected);
}

/* @csv fails with @code and the message @message. */
static void
assert_error_with(const char *csv, gsize length, const CgCsvOptions *options, CgCsvError code,
		  const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autofree char *json = convert_full(csv, length, options, &issues, &error);

	g_assert_null(json);
	g_assert_error(error, CG_CSV_ERROR, (gint)code);
	g_assert_cmpstr(error->message, ==, message);
	if (code != CG_CSV_ERROR_TOO_LARGE)
		g_assert_nonnull(issues);
}

static void
assert_error(const char *csv, const char *message)
{
	assert_error_with(csv, strlen(csv), &default_options, CG_CSV_ERROR_INVALID, message);
}

static void
test_csv_basic(void)
{
	assert_json("recipientName,courseName\nAda,Maths\nAlan,Logic\n",
		    "{\"recipients\":[{\"recipientName\":\"Ada\",\"courseName\":\"Maths\"},"
		    "{\"recipientName\":\"Alan\",\"courseName\":\"Logic\"}]}");
	/* no line end after the last row, CRLF, lone CR */
	assert_json("a,b\r\n1,2", "{\"recipients\":[{\"a\":\"1\",\"b\":\"2\"}]}");
	assert_json("a,b\r\n1,2\r\n", "{\"recipients\":[{\"a\":\"1\",\"b\":\"2\"}]}");
	assert_json("a,b\r1,2\r", "{\"recipients\":[{\"a\":\"1\",\"b\":\"2\"}]}");
	/* empty lines at the end */
	assert_json("a\n1\n\n\r\n\n", "{\"recipients\":[{\"a\":\"1\"}]}");
	/* one column */
	assert_json("a\nx\ny\n", "{\"recipients\":[{\"a\":\"x\"},{\"a\":\"y\"}]}");
	/* spaces are kept, nothing is trimmed */
	assert_json("a,b\n  x , y\t\n", "{\"recipients\":[{\"a\":\"  x \",\"b\":\" y\\t\"}]}");
}

static void
test_csv_bom(void)
{
	assert_json("\xef\xbb\xbf"
		    "a\nx\n",
		    "{\"recipients\":[{\"a\":\"x\"}]}");
	/* only one, at the very start */
	assert_error("\xef\xbb\xbf\xef\xbb\xbf"
		     "a\nx\n",
		     "row 1, column 1: not a field name (a letter, then letters, digits or _, "
		     "at most 64)");
	assert_error("\xef\xbb\xbf", "row 1: no header row (the CSV is empty; the first row "
				     "names the fields)");
}

static void
test_csv_quoting(void)
{
	/* quotes doubled, delimiters, CRLF and LF inside a quoted field */
	assert_json("a,b\n\"He said \"\"hi\"\"\",\"x,y\"\n",
		    "{\"recipients\":[{\"a\":\"He said \\\"hi\\\"\",\"b\":\"x,y\"}]}");
	assert_json("a,b\r\n\"line 1\r\nline 2\",\"l1\nl2\"\r\n",
		    "{\"recipients\":[{\"a\":\"line 1\\r\\nline 2\",\"b\":\"l1\\nl2\"}]}");
	/* a quoted header, an empty quoted field (left out as well) */
	assert_json("\"a\",b\n\"\",2\n", "{\"recipients\":[{\"b\":\"2\"}]}");
	/* backslashes and UTF-8 as they are */
	assert_json("a\n\"C:\\x\"\n", "{\"recipients\":[{\"a\":\"C:\\\\x\"}]}");
	assert_json("a\nZoë 李\n", "{\"recipients\":[{\"a\":\"Zoë 李\"}]}");
}

static void
test_csv_quote_errors(void)
{
	assert_error("a,b\n1,x\"y\n", "row 2, column b: a quote inside an unquoted field (quote "
				      "the whole field and write the quote twice) at byte "
				      "offset 7");
	assert_error("a,b\n1,\"x\"y\n", "row 2, column b: text after the closing quote of a "
					"field (a quote inside a quoted field is written "
					"twice) at byte offset 9");
	assert_error("a,b\n1,\"x\" \n", "row 2, column b: text after the closing quote of a "
					"field (a quote inside a quoted field is written "
					"twice) at byte offset 9");
	/* the row of a record, not the line: row 3 starts on line 4 */
	assert_error("a,b\n\"1\n2\",x\n3,\"open\n",
		     "row 3, column b: a quoted field is not closed by the end of the text");
	/* offsets count the byte order mark */
	assert_error("\xef\xbb\xbf"
		     "a\nx\"\n",
		     "row 2, column a: a quote inside an unquoted field (quote the whole field and "
		     "write the quote twice) at byte offset 6");
}

static void
test_csv_ragged(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autofree char *json = NULL;
	const CgCsvIssue *issue;

	assert_error("a,b,c,d\n1,2,3\n", "row 2: expected 4 columns, found 3");
	assert_error("a\n1,2\n", "row 2: expected 1 column, found 2");
	/* every ragged row at once */
	json = convert_full("a,b\n1\n1,2\n1,2,3\n", strlen("a,b\n1\n1,2\n1,2,3\n"),
			    &default_options, &issues, &error);
	g_assert_null(json);
	g_assert_error(error, CG_CSV_ERROR, CG_CSV_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==,
			"row 2: expected 2 columns, found 1 (and 1 more problem)");
	g_assert_cmpuint(issues->len, ==, 2);
	issue = g_ptr_array_index(issues, 1);
	g_assert_cmpstr(issue->path, ==, "row 4");
	g_assert_cmpstr(issue->message, ==, "expected 2 columns, found 3");
}

static void
test_csv_empty_lines(void)
{
	assert_error("a\nx\n\ny\n", "row 3: empty line (only the end of the text may have them)");
	assert_error("a\r\n\r\nx\r\n",
		     "row 2: empty line (only the end of the text may have them)");
	/* the line counts as a row: the next one is row 4 */
	assert_error("a,b\n\n1\n",
		     "row 2: empty line (only the end of the text may have them) (and 1 more "
		     "problem)");
	assert_error("", "row 1: no header row (the CSV is empty; the first row names the "
			 "fields)");
	assert_error("\n\r\n", "row 1: no header row (the CSV is empty; the first row names "
			       "the fields)");
	assert_error("a,b\n", "row 2: no recipients (a row per recipient follows the header)");
	assert_error("a,b\n\n\n", "row 2: no recipients (a row per recipient follows the header)");
}

static void
test_csv_encoding(void)
{
	static const char nul[] = "a,b\n1,x\0y\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autofree char *json = NULL;

	assert_error("a,b\n1,\xff\n", "row 2, column b: invalid UTF-8");
	assert_error("a,b\n\"\xc3\",1\n", "row 2, column a: invalid UTF-8");
	/* overlong and surrogate encodings are not UTF-8 either */
	assert_error("a\n\xc0\xaf\n", "row 2, column a: invalid UTF-8");
	assert_error("a\n\xed\xa0\x80\n", "row 2, column a: invalid UTF-8");
	assert_error_with(nul, sizeof(nul) - 1, &default_options, CG_CSV_ERROR_INVALID,
			  "row 2, column b: NUL byte");
	assert_error_with("a\0,b\n1,2\n", 9, &default_options, CG_CSV_ERROR_INVALID,
			  "row 1, column 1: not a field name (a letter, then letters, digits or "
			  "_, at most 64)");
	/* every cell at once */
	json = convert_full("a,b\n\xff,\xfe\n", 8, &default_options, &issues, &error);
	g_assert_null(json);
	g_assert_cmpuint(issues->len, ==, 2);
	g_assert_cmpstr(((CgCsvIssue *)g_ptr_array_index(issues, 1))->path, ==, "row 2, column b");
}

static void
test_csv_header(void)
{
	g_autofree char *long_name = g_strnfill(65, 'x');
	g_autofree char *long_header = g_strconcat(long_name, "\n1\n", NULL);
	g_autofree char *max_name = g_strnfill(64, 'x');
	g_autofree char *max_header = g_strconcat(max_name, "\n1\n", NULL);
	g_autofree char *max_json = g_strdup_printf("{\"recipients\":[{\"%s\":\"1\"}]}", max_name);

	assert_error("a,a\n1,2\n", "row 1, column 2: a named twice (also column 1)");
	assert_error("a,,b\n1,2,3\n", "row 1, column 2: empty field name");
	assert_error("a,\"b c\"\n1,2\n", "row 1, column 2: not a field name (a letter, then "
					 "letters, digits or _, at most 64)");
	assert_error("1a\n1\n", "row 1, column 1: not a field name (a letter, then letters, "
				"digits or _, at most 64)");
	assert_error("a,\xff\n1,2\n", "row 1, column 2: not a field name (a letter, then "
				      "letters, digits or _, at most 64)");
	assert_error("recipients\n1\n",
		     "row 1, column 1: recipients is reserved (the list of recipients)");
	assert_error(long_header, "row 1, column 1: not a field name (a letter, then letters, "
				  "digits or _, at most 64)");
	assert_json(max_header, max_json);
	/* a bad header does not hide the rows' problems */
	assert_error("a,a\n1\n", "row 1, column 2: a named twice (also column 1) (and 1 more "
				 "problem)");
}

static void
test_csv_set(void)
{
	const char *const set[] = {"courseName=Maths \"101\"", "issueDate=2026-01-02", NULL};
	const char *const conflict[] = {"recipientName=Ada", NULL};
	const char *const twice[] = {"a=1", "a=2", NULL};
	const char *const no_value[] = {"courseName", NULL};
	const char *const bad_name[] = {"course name=x", NULL};
	const char *const reserved[] = {"recipients=x", NULL};
	const char *const bad_utf8[] = {"a=\xff", NULL};
	const char *const empty[] = {"issuer=", NULL};
	CgCsvOptions options = {.set = set};

	assert_json_with("recipientName\nAda\n", strlen("recipientName\nAda\n"), &options,
			 "{\"courseName\":\"Maths \\\"101\\\"\",\"issueDate\":\"2026-01-02\","
			 "\"recipients\":[{\"recipientName\":\"Ada\"}]}");
	options.set = empty;
	assert_json_with("a\n1\n", 4, &options, "{\"issuer\":\"\",\"recipients\":[{\"a\":\"1\"}]}");

	options.set = conflict;
	options.set_label = "--set ";
	assert_error_with("recipientName,b\nAda,1\n", strlen("recipientName,b\nAda,1\n"), &options,
			  CG_CSV_ERROR_INVALID,
			  "--set recipientName: also a column of the CSV (column 1)");
	options.set_label = NULL;
	assert_error_with("recipientName\nAda\n", strlen("recipientName\nAda\n"), &options,
			  CG_CSV_ERROR_INVALID,
			  "set.recipientName: also a column of the CSV (column 1)");
	options.set = twice;
	assert_error_with("b\n1\n", 4, &options, CG_CSV_ERROR_SET, "set.a: given twice");
	options.set = no_value;
	assert_error_with("b\n1\n", 4, &options, CG_CSV_ERROR_SET,
			  "set.courseName: expected FIELD=VALUE");
	options.set = bad_name;
	assert_error_with("b\n1\n", 4, &options, CG_CSV_ERROR_SET,
			  "set.course name: not a field name (a letter, then letters, digits or "
			  "_, at most 64)");
	options.set = reserved;
	assert_error_with("b\n1\n", 4, &options, CG_CSV_ERROR_SET,
			  "set.recipients: reserved (the list of recipients)");
	options.set = bad_utf8;
	assert_error_with("b\n1\n", 4, &options, CG_CSV_ERROR_SET, "set.…: invalid UTF-8");
}

static GString *
make_rows(guint n_rows)
{
	GString *csv = g_string_new("recipientName,courseName,issueDate\r\n");

	for (guint i = 0; i < n_rows; i++)
		g_string_append_printf(csv, "Person %u,\"Course, %u\",2026-01-02\r\n", i, i);
	return csv;
}

/* TOO_LARGE: "@what N bytes" for options->max_bytes. */
static void
assert_too_large(const GString *csv, const CgCsvOptions *options, const char *what)
{
	g_autofree char *message =
	    g_strdup_printf("%s %" G_GSIZE_FORMAT " bytes", what, options->max_bytes);

	assert_error_with(csv->str, csv->len, options, CG_CSV_ERROR_TOO_LARGE, message);
}

static void
test_csv_caps(void)
{
	g_autoptr(GString) csv = make_rows(10);
	CgCsvOptions options = {.max_rows = 10};
	g_autofree char *json = NULL;
	gsize json_length = 0;
	g_autoptr(GError) error = NULL;

	/* rows */
	json = cg_csv_to_data_json(csv->str, csv->len, &options, &json_length, NULL, &error);
	g_assert_no_error(error);
	options.max_rows = 9;
	assert_error_with(csv->str, csv->len, &options, CG_CSV_ERROR_INVALID,
			  "rows: at most 9 recipients");
	options.max_rows = 1;
	assert_error_with(csv->str, csv->len, &options, CG_CSV_ERROR_INVALID,
			  "rows: at most 1 recipient");

	/* bytes: of the text, then of the JSON made of it */
	options.max_rows = 0;
	options.max_bytes = csv->len - 1;
	assert_too_large(csv, &options, "the CSV is larger than");
	options.max_bytes = csv->len;
	assert_too_large(csv, &options, "the data made of the CSV is larger than");
	options.max_bytes = json_length;
	g_clear_pointer(&json, g_free);
	json = cg_csv_to_data_json(csv->str, csv->len, &options, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(json);
	options.max_bytes = json_length - 1;
	assert_too_large(csv, &options, "the data made of the CSV is larger than");
}

static void
test_csv_issue_cap(void)
{
	GString *csv = g_string_new("a,b\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autofree char *json = NULL;

	for (guint i = 0; i < 250; i++)
		g_string_append(csv, "1\n");
	json = convert_full(csv->str, csv->len, &default_options, &issues, &error);
	g_assert_null(json);
	g_assert_cmpuint(issues->len, ==, CG_CSV_MAX_ISSUES);
	g_assert_cmpstr(error->message, ==,
			"row 2: expected 2 columns, found 1 (and 249 more problems)");
	g_string_free(csv, TRUE);
}

static void
test_csv_large(void)
{
	g_autoptr(GString) csv = make_rows(10000);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	gint64 start = g_get_monotonic_time();
	gsize json_length = 0;
	JsonArray *list;

	json =
	    cg_csv_to_data_json(csv->str, csv->len, &default_options, &json_length, NULL, &error);
	g_assert_no_error(error);
	g_test_message("10000 rows, %" G_GSIZE_FORMAT " bytes of CSV -> %" G_GSIZE_FORMAT
		       " bytes of JSON in %.1f ms",
		       csv->len, json_length, (g_get_monotonic_time() - start) / 1000.0);
	root = cg_json_parse(json, json_length, NULL, &error);
	g_assert_no_error(error);
	list = json_object_get_array_member(json_node_get_object(root), "recipients");
	g_assert_cmpuint(json_array_get_length(list), ==, 10000);
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(list, 9999), "courseName"),
	    ==, "Course, 9999");
}

/* cg_csv_map_path(@path) is @mapped, and a message at @path is mapped with
 * it (or left alone). */
static void
assert_mapped(const char *path, const char *label, const char *mapped)
{
	g_autofree char *got = cg_csv_map_path(path, label);
	g_autofree char *message = g_strconcat(path, ": required: \"x\"", NULL);
	g_autofree char *expected = g_strconcat(mapped, ": required: \"x\"", NULL);
	g_autofree char *got_message = cg_csv_map_message(message, label);

	g_assert_cmpstr(got, ==, mapped);
	g_assert_cmpstr(got_message, ==, expected);
}

static void
test_csv_map(void)
{
	g_autofree char *plain = cg_csv_map_message("Validating data", NULL);
	g_autofree char *empty = cg_csv_map_message("", NULL);

	/* the header is row 1: recipient 0 is row 2 */
	assert_mapped("recipients[0].recipientName", NULL, "row 2, column recipientName");
	assert_mapped("recipients[11].recipientName", NULL, "row 13, column recipientName");
	assert_mapped("recipients[4294967295].a", NULL, "row 4294967297, column a");
	assert_mapped("recipients[11]", NULL, "row 13");
	assert_mapped("recipients", NULL, "rows");
	/* a top-level field came from a shared one */
	assert_mapped("courseName", NULL, "set.courseName");
	assert_mapped("courseName", "--set ", "--set courseName");
	/* what is not a path of CSV data stays */
	assert_mapped("data", NULL, "data");
	assert_mapped("recipients[99999999999999999999].a", NULL,
		      "recipients[99999999999999999999].a");
	assert_mapped("recipients[1x].a", NULL, "recipients[1x].a");
	assert_mapped("recipients[].a", NULL, "recipients[].a");
	assert_mapped("recipients[1].\"a b\"", NULL, "recipients[1].\"a b\"");
	assert_mapped("recipients[1]x", NULL, "recipients[1]x");
	assert_mapped("", NULL, "");
	g_assert_cmpstr(plain, ==, "Validating data");
	g_assert_cmpstr(empty, ==, "");

	/* every problem of a joined message (issue 14 item 3), the tail kept */
	{
		g_autofree char *joined = cg_csv_map_message(
		    "recipients[1].issueDate: not a real date: 2023-02-30; courseName: required; "
		    "recipients[0]: must be an object, not a number; … and 3 more",
		    NULL);

		g_assert_cmpstr(joined, ==,
				"row 3, column issueDate: not a real date: 2023-02-30; "
				"set.courseName: required; row 2: must be an object, not a number; "
				"… and 3 more");
	}
}

static const CgTestCase cases[] = {
    {"/csv/basic", test_csv_basic},
    {"/csv/bom", test_csv_bom},
    {"/csv/quoting", test_csv_quoting},
    {"/csv/quote-errors", test_csv_quote_errors},
    {"/csv/ragged", test_csv_ragged},
    {"/csv/empty-lines", test_csv_empty_lines},
    {"/csv/encoding", test_csv_encoding},
    {"/csv/header", test_csv_header},
    {"/csv/set", test_csv_set},
    {"/csv/caps", test_csv_caps},
    {"/csv/issue-cap", test_csv_issue_cap},
    {"/csv/large", test_csv_large},
    {"/csv/map", test_csv_map},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-csv.h"

#include <csv.h>
#include <string.h>

#include "cg-field-name.h"
#include "cg-problem-text.h"
#include "cg-json.h"

/* The text is fed to libcsv this much at a time, so a parse that has
 * stopped (a quoting error, too many rows) stops soon. */
#define CG_CSV_CHUNK (64 * 1024)

#define CG_CSV_BOM "\xef\xbb\xbf"
#define CG_CSV_DEFAULT_SET_LABEL "set."

G_DEFINE_QUARK(cg - csv - error - quark, cg_csv_error)

void
cg_csv_issue_free(CgCsvIssue *issue)
{
	if (issue != NULL) {
		g_free(issue->path);
		g_free(issue->message);
	}
	g_free(issue);
}

typedef struct {
	const CgCsvOptions *options;
	struct csv_parser parser;
	GString *json;
	GPtrArray *issues;     /* of CgCsvIssue*, at most CG_CSV_MAX_ISSUES */
	guint n_more;	       /* issues past the cap */
	GPtrArray *names;      /* the header: a name, or NULL when it is not one */
	GPtrArray *members;    /* per column: its JSON member prefix "\"name\":" or NULL */
	GHashTable *set_names; /* the shared fields' names */
	guint n_columns;       /* once the header has ended */
	guint64 row;	       /* the current record, the header being 1 */
	guint col;	       /* fields seen in the current record */
	guint64 n_rows;	       /* recipients */
	guint64 blank_row;     /* an empty line not yet known to end the text; 0: none */
	int last_term;	       /* what ended the last record ('\r' for CRLF) */
	gboolean header_done;
	gboolean stopped; /* nothing more is looked at */
	gboolean too_large;
} CgCsvParse;

static void cg_csv_add_issue(CgCsvParse *parse, char *path, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Takes @path. */
static void
cg_csv_add_issue(CgCsvParse *parse, char *path, const char *format, ...)
{
	CgCsvIssue *issue;
	va_list args;

	if (parse->issues->len >= CG_CSV_MAX_ISSUES) {
		parse->n_more++;
		g_free(path);
		return;
	}
	issue = g_new0(CgCsvIssue, 1);
	issue->path = path;
	va_start(args, format);
	issue->message = g_strdup_vprintf(format, args);
	va_end(args);
	g_ptr_array_add(parse->issues, issue);
}

/* "row 12, column recipientName", or the column's number when the header
 * does not name it. */
static char *
cg_csv_cell_path(CgCsvParse *parse, guint col)
{
	const char *name = col < parse->names->len ? g_ptr_array_index(parse->names, col) : NULL;

	if (name != NULL && parse->header_done)
		return g_strdup_printf("row %" G_GUINT64_FORMAT ", column %s", parse->row, name);
	return g_strdup_printf("row %" G_GUINT64_FORMAT ", column %u", parse->row, col + 1);
}

static char *
cg_csv_row_path(guint64 row)
{
	return g_strdup_printf("row %" G_GUINT64_FORMAT, row);
}

static const char *
cg_csv_set_label(const CgCsvOptions *options)
{
	return options->set_label != NULL ? options->set_label : CG_CSV_DEFAULT_SET_LABEL;
}

/* One wording for the names of the header and of the shared fields. */
#define CG_CSV_NOT_A_NAME "not a field name (a letter, then letters, digits or _, at most %u)"

static void
cg_csv_header_field(CgCsvParse *parse, const char *field, gsize len)
{
	g_autofree char *name = g_strndup(field, len);
	guint col = parse->col;
	gboolean valid = FALSE;

	if (len == 0)
		cg_csv_add_issue(parse, cg_csv_cell_path(parse, col), "empty field name");
	else if (strlen(name) != len || !cg_field_name_is_valid(name))
		cg_csv_add_issue(parse, cg_csv_cell_path(parse, col), CG_CSV_NOT_A_NAME,
				 CG_FIELD_NAME_MAX);
	else if (g_str_equal(name, CG_FIELD_RECIPIENTS))
		cg_csv_add_issue(parse, cg_csv_cell_path(parse, col),
				 "%s is reserved (the list of recipients)", name);
	else
		valid = TRUE;

	for (guint i = 0; valid && i < parse->names->len; i++) {
		if (g_strcmp0(g_ptr_array_index(parse->names, i), name) == 0) {
			cg_csv_add_issue(parse, cg_csv_cell_path(parse, col),
					 "%s named twice (also column %u)", name, i + 1);
			valid = FALSE;
		}
	}
	if (valid && g_hash_table_contains(parse->set_names, name)) {
		cg_csv_add_issue(parse, g_strconcat(cg_csv_set_label(parse->options), name, NULL),
				 "also a column of the CSV (column %u)", col + 1);
		valid = FALSE;
	}
	if (valid) {
		GString *member = g_string_new(NULL);

		cg_json_append_string(member, name);
		g_string_append_c(member, ':');
		g_ptr_array_add(parse->members, g_string_free(member, FALSE));
		g_ptr_array_add(parse->names, g_steal_pointer(&name));
	} else {
		g_ptr_array_add(parse->members, NULL);
		g_ptr_array_add(parse->names, NULL);
	}
}

/* libcsv's field callback: @field has a NUL after its @len bytes
 * (CSV_APPEND_NULL). */
static void
cg_csv_field_cb(void *field, size_t len, void *data)
{
	CgCsvParse *parse = data;
	const char *text = field != NULL ? field : "";
	const char *member;

	if (parse->stopped)
		return;
	if (parse->col == 0 && parse->blank_row != 0) {
		cg_csv_add_issue(parse, cg_csv_row_path(parse->blank_row),
				 "empty line (only the end of the text may have them)");
		parse->blank_row = 0;
	}
	if (!parse->header_done) {
		cg_csv_header_field(parse, text, len);
		parse->col++;
		return;
	}

	if (parse->col == 0) {
		guint max_rows = parse->options->max_rows;

		if (max_rows > 0 && parse->n_rows >= max_rows) {
			cg_csv_add_issue(parse, g_strdup("rows"), "at most %u recipient%s",
					 max_rows, max_rows == 1 ? "" : "s");
			parse->stopped = TRUE;
			return;
		}
		g_string_append(parse->json, parse->n_rows > 0 ? ",{" : "{");
	}
	member =
	    parse->col < parse->members->len ? g_ptr_array_index(parse->members, parse->col) : NULL;
	if (memchr(text, '\0', len) != NULL) {
		cg_csv_add_issue(parse, cg_csv_cell_path(parse, parse->col), "NUL byte");
	} else if (!g_utf8_validate_len(text, len, NULL)) {
		cg_csv_add_issue(parse, cg_csv_cell_path(parse, parse->col), "invalid UTF-8");
	} else if (len > 0 && member != NULL && parse->issues->len == 0) {
		/* an empty cell is a field left out */
		if (parse->json->str[parse->json->len - 1] != '{')
			g_string_append_c(parse->json, ',');
		g_string_append(parse->json, member);
		cg_json_append_string(parse->json, text);
	}
	parse->col++;
	if (parse->options->max_bytes > 0 && parse->json->len > parse->options->max_bytes) {
		parse->too_large = TRUE;
		parse->stopped = TRUE;
	}
}

/* libcsv's end-of-record callback; @c is what ended it (-1: the end of the
 * text). With CSV_REPALL_NL it is called for empty lines too (no field). */
static void
cg_csv_row_cb(int c, void *data)
{
	CgCsvParse *parse = data;

	if (parse->stopped)
		return;
	if (parse->col == 0) {
		if (c == '\n' && parse->last_term == '\r') {
			parse->last_term = 0; /* CRLF */
			return;
		}
		if (parse->blank_row == 0)
			parse->blank_row = parse->row;
		parse->row++;
		parse->last_term = c;
		return;
	}
	if (!parse->header_done) {
		parse->header_done = TRUE;
		parse->n_columns = parse->col;
	} else {
		if (parse->col != parse->n_columns)
			cg_csv_add_issue(parse, cg_csv_row_path(parse->row),
					 "expected %u column%s, found %u", parse->n_columns,
					 parse->n_columns == 1 ? "" : "s", parse->col);
		g_string_append_c(parse->json, '}');
		parse->n_rows++;
	}
	parse->row++;
	parse->col = 0;
	parse->last_term = c;
}

/* libcsv's strict-mode error, where the parser stands (@offset: the byte,
 * or G_MAXSIZE for the end of the text). */
static void
cg_csv_quote_issue(CgCsvParse *parse, gsize offset)
{
	char *path = cg_csv_cell_path(parse, parse->col);

	if (offset == G_MAXSIZE)
		cg_csv_add_issue(parse, path,
				 "a quoted field is not closed by the end of the text");
	else if (parse->parser.quoted)
		cg_csv_add_issue(parse, path,
				 "text after the closing quote of a field (a quote inside a quoted "
				 "field is written twice) at byte offset %" G_GSIZE_FORMAT,
				 offset);
	else
		cg_csv_add_issue(parse, path,
				 "a quote inside an unquoted field (quote the whole field and "
				 "write the quote twice) at byte offset %" G_GSIZE_FORMAT,
				 offset);
	parse->stopped = TRUE;
}

static int
cg_csv_no_space(unsigned char c)
{
	return 0; /* RFC 4180: spaces are part of a field */
}

static void
cg_csv_run(CgCsvParse *parse, const char *text, gsize length, gsize skipped)
{
	gsize done = 0;

	while (done < length && !parse->stopped) {
		gsize n = MIN(length - done, CG_CSV_CHUNK);
		gsize parsed = csv_parse(&parse->parser, text + done, n, cg_csv_field_cb,
					 cg_csv_row_cb, parse);

		if (parsed < n) {
			/* only strict-mode errors: memory comes from g_realloc */
			cg_csv_quote_issue(parse, skipped + done + parsed);
			return;
		}
		done += n;
	}
	if (!parse->stopped && csv_fini(&parse->parser, cg_csv_field_cb, cg_csv_row_cb, parse) != 0)
		cg_csv_quote_issue(parse, G_MAXSIZE);
}

/* The shared fields as the data's first members; FALSE with issues. */
static gboolean
cg_csv_add_set(CgCsvParse *parse)
{
	const char *const *set = parse->options->set;
	const char *label = cg_csv_set_label(parse->options);

	for (gsize i = 0; set != NULL && set[i] != NULL; i++) {
		const char *eq = strchr(set[i], '=');
		g_autofree char *name = g_strndup(set[i], eq != NULL ? (gsize)(eq - set[i]) : 0);
		g_autofree char *shown = NULL;

		if (!g_utf8_validate(set[i], -1, NULL)) {
			cg_csv_add_issue(parse, g_strconcat(label, "…", NULL), "invalid UTF-8");
			continue;
		}
		shown = cg_json_quote(eq != NULL ? name : set[i]);
		if (eq == NULL) {
			cg_csv_add_issue(parse, g_strconcat(label, shown, NULL),
					 "expected FIELD=VALUE");
		} else if (!cg_field_name_is_valid(name)) {
			cg_csv_add_issue(parse, g_strconcat(label, shown, NULL), CG_CSV_NOT_A_NAME,
					 CG_FIELD_NAME_MAX);
		} else if (g_str_equal(name, CG_FIELD_RECIPIENTS)) {
			cg_csv_add_issue(parse, g_strconcat(label, name, NULL),
					 "reserved (the list of recipients)");
		} else if (g_hash_table_contains(parse->set_names, name)) {
			cg_csv_add_issue(parse, g_strconcat(label, name, NULL), "given twice");
		} else {
			cg_json_append_string(parse->json, name);
			g_string_append_c(parse->json, ':');
			cg_json_append_string(parse->json, eq + 1);
			g_string_append_c(parse->json, ',');
			g_hash_table_add(parse->set_names, g_steal_pointer(&name));
		}
	}
	return parse->issues->len == 0;
}

static void
cg_csv_parse_clear(CgCsvParse *parse)
{
	csv_free(&parse->parser);
	if (parse->json != NULL)
		g_string_free(parse->json, TRUE);
	g_clear_pointer(&parse->issues, g_ptr_array_unref);
	g_clear_pointer(&parse->names, g_ptr_array_unref);
	g_clear_pointer(&parse->members, g_ptr_array_unref);
	g_clear_pointer(&parse->set_names, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgCsvParse, cg_csv_parse_clear)

/* Sets @error from the issues and hands them to the caller. */
static void
cg_csv_fail(CgCsvParse *parse, CgCsvError code, GPtrArray **issues, GError **error)
{
	const CgCsvIssue *first = g_ptr_array_index(parse->issues, 0);
	guint more = parse->issues->len - 1 + parse->n_more;

	if (more == 0)
		g_set_error(error, CG_CSV_ERROR, code, "%s: %s", first->path, first->message);
	else
		g_set_error(error, CG_CSV_ERROR, code, "%s: %s (and %u more problem%s)",
			    first->path, first->message, more, more == 1 ? "" : "s");
	if (issues != NULL)
		*issues = g_steal_pointer(&parse->issues);
}

char *
cg_csv_to_data_json(const char *text, gsize length, const CgCsvOptions *options, gsize *json_length,
		    GPtrArray **issues, GError **error)
{
	g_auto(CgCsvParse) parse = {0};
	gsize skipped = 0;
	gsize out_length;

	g_return_val_if_fail(text != NULL || length == 0, NULL);
	g_return_val_if_fail(options != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (issues != NULL)
		*issues = NULL;
	if (options->max_bytes > 0 && length > options->max_bytes) {
		g_set_error(error, CG_CSV_ERROR, CG_CSV_ERROR_TOO_LARGE,
			    "the CSV is larger than %" G_GSIZE_FORMAT " bytes", options->max_bytes);
		return NULL;
	}

	parse.options = options;
	parse.json = g_string_sized_new(length + length / 2 + 64);
	parse.issues = g_ptr_array_new_with_free_func((GDestroyNotify)cg_csv_issue_free);
	parse.names = g_ptr_array_new_with_free_func(g_free);
	parse.members = g_ptr_array_new_with_free_func(g_free);
	parse.set_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	parse.row = 1;
	csv_init(&parse.parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL);
	csv_set_space_func(&parse.parser, cg_csv_no_space);
	csv_set_realloc_func(&parse.parser, g_realloc);
	csv_set_free_func(&parse.parser, g_free);

	g_string_append_c(parse.json, '{');
	if (!cg_csv_add_set(&parse)) {
		cg_csv_fail(&parse, CG_CSV_ERROR_SET, issues, error);
		return NULL;
	}
	g_string_append(parse.json, "\"" CG_FIELD_RECIPIENTS "\":[");

	if (length >= strlen(CG_CSV_BOM) && memcmp(text, CG_CSV_BOM, strlen(CG_CSV_BOM)) == 0)
		skipped = strlen(CG_CSV_BOM);
	cg_csv_run(&parse, text + skipped, length - skipped, skipped);

	if (parse.too_large) {
		g_set_error(error, CG_CSV_ERROR, CG_CSV_ERROR_TOO_LARGE,
			    "the data made of the CSV is larger than %" G_GSIZE_FORMAT " bytes",
			    options->max_bytes);
		return NULL;
	}
	if (!parse.stopped && !parse.header_done)
		cg_csv_add_issue(&parse, cg_csv_row_path(1),
				 "no header row (the CSV is empty; the first row names the "
				 "fields)");
	else if (!parse.stopped && parse.n_rows == 0)
		cg_csv_add_issue(&parse, cg_csv_row_path(2),
				 "no recipients (a row per recipient follows the header)");
	if (parse.issues->len > 0) {
		cg_csv_fail(&parse, CG_CSV_ERROR_INVALID, issues, error);
		return NULL;
	}

	g_string_append(parse.json, "]}");
	out_length = parse.json->len;
	if (options->max_bytes > 0 && out_length > options->max_bytes) {
		g_set_error(error, CG_CSV_ERROR, CG_CSV_ERROR_TOO_LARGE,
			    "the data made of the CSV is larger than %" G_GSIZE_FORMAT " bytes",
			    options->max_bytes);
		return NULL;
	}
	if (json_length != NULL)
		*json_length = out_length;
	return g_string_free(g_steal_pointer(&parse.json), FALSE);
}

/* ---- certgend's paths in the CSV's words ---- */

char *
cg_csv_map_path(const char *path, const char *set_label)
{
	const char *prefix = CG_FIELD_RECIPIENTS "[";
	const char *p;
	guint64 index = 0;

	g_return_val_if_fail(path != NULL, NULL);

	if (set_label == NULL)
		set_label = CG_CSV_DEFAULT_SET_LABEL;
	if (g_str_equal(path, CG_FIELD_RECIPIENTS))
		return g_strdup("rows");
	/* a top-level field of CSV data is a shared one; "data" is the whole */
	if (cg_field_name_is_valid(path) && !g_str_equal(path, "data"))
		return g_strconcat(set_label, path, NULL);
	if (!g_str_has_prefix(path, prefix))
		return g_strdup(path);
	p = path + strlen(prefix);
	if (!g_ascii_isdigit(*p))
		return g_strdup(path);
	for (; g_ascii_isdigit(*p); p++) {
		if (index > G_MAXUINT32)
			return g_strdup(path);
		index = index * 10 + (guint64)(*p - '0');
	}
	if (*p++ != ']')
		return g_strdup(path);
	/* the header is row 1: recipient 0 is row 2 */
	if (*p == '\0')
		return g_strdup_printf("row %" G_GUINT64_FORMAT, index + 2);
	if (*p == '.' && cg_field_name_is_valid(p + 1))
		return g_strdup_printf("row %" G_GUINT64_FORMAT ", column %s", index + 2, p + 1);
	return g_strdup(path);
}

char *
cg_csv_map_message(const char *message, const char *set_label)
{
	GString *out;
	const char *start = message;
	const char *end = message;
	gsize path_len;

	g_return_val_if_fail(message != NULL, NULL);

	/* every problem's path of a joined message (cg-problem-text.h) */
	out = g_string_new(NULL);
	while (start != NULL && cg_problem_text_path(start, &path_len)) {
		g_autofree char *path = g_strndup(start, path_len);
		g_autofree char *mapped = cg_csv_map_path(path, set_label);
		const char *what = start + path_len;

		end = cg_problem_text_end(what + 2, &start);
		g_string_append_printf(out, "%s%s%.*s", out->len > 0 ? "; " : "", mapped,
				       (int)(end - what), what);
	}
	if (out->len == 0)
		g_string_append(out, message);
	else if (*end != '\0')
		g_string_append(out, end);
	return g_string_free(out, FALSE);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "cg-data.h"
#include "cg-error.h"
#include "cg-template.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PangoContext, g_object_unref)

/* A layout that is valid with the classic background (842×595). */
#define VALID_LAYOUT                                                                               \
	"{ \"page\": { \"width\": 842, \"height\": 595 },"                                         \
	"  \"background\": { \"file\": \"background.pdf\" },"                                      \
	"  \"fields\": ["                                                                          \
	"    { \"key\": \"recipientName\", \"required\": true, \"maxLength\": 64,"                 \
	"      \"x\": 421, \"y\": 300, \"size\": 30, \"maxWidth\": 500, \"align\": \"center\" },"  \
	"    { \"key\": \"qr\", \"x\": 700, \"y\": 450, \"size\": 80 } ] }"

typedef struct {
	char *dir; /* a temporary template directory */
	GBytes *background;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autofree char *path = g_build_filename(shipped, "classic", "background.pdf", NULL);
	g_autofree char *contents = NULL;
	gsize length = 0;

	fx->dir = cg_test_make_scratch_dir("certgen-template-XXXXXX");
	g_file_get_contents(path, &contents, &length, &error);
	g_assert_no_error(error);
	fx->background = g_bytes_new_take(g_steal_pointer(&contents), length);
}

static void
fixture_tear_down(Fixture *fx, gconstpointer user_data)
{
	cg_test_remove_tree(fx->dir);
	g_free(fx->dir);
	g_bytes_unref(fx->background);
}

/* Writes <base>/<id>/layout.json and, unless @background is NULL, the
 * background file @bg_name. Returns the layout path. */
static char *
write_template(const char *base, const char *id, const char *layout, const char *bg_name,
	       GBytes *background)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename(base, id, NULL);
	g_autofree char *layout_path = g_build_filename(dir, "layout.json", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_file_set_contents(layout_path, layout, -1, &error);
	g_assert_no_error(error);
	if (background != NULL) {
		g_autofree char *bg_path = g_build_filename(dir, bg_name, NULL);
		gsize size = 0;
		const char *data = g_bytes_get_data(background, &size);

		g_file_set_contents(bg_path, data, (gssize)size, &error);
		g_assert_no_error(error);
	}
	return g_steal_pointer(&layout_path);
}

static CgTemplateStore *
store_for(const char *dir)
{
	const char *dirs[] = {dir, NULL};

	return cg_template_store_new(dirs);
}

static void
assert_texts(const CgTemplate *tmpl, const char *title, const char *description)
{
	const char *got_title = NULL;
	const char *got_description = NULL;

	cg_template_get_texts(tmpl, &got_title, &got_description);
	g_assert_cmpstr(got_title, ==, title);
	g_assert_cmpstr(got_description, ==, description);
}

static void
test_template_ids(void)
{
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autoptr(CgTemplateStore) store = store_for(shipped);
	g_autofree char *id64 = g_strnfill(64, 'a');
	g_autofree char *id65 = g_strnfill(65, 'a');
	const char *valid[] = {"classic", "a", "0", "my-template_2", "9-lives", id64};
	const char *invalid[] = {
	    "",	     "..",	"../etc", "a/b",	"/abs",	     ".hidden",
	    "UPPER", "Classic", id65,	  "with space", "a\\b",	     "caf\xc3\xa9",
	    "-a",    "_a",	"a.b",	  "classic/",	"classic\n", "a:b",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(valid); i++)
		g_assert_true(cg_template_id_is_valid(valid[i]));
	g_assert_false(cg_template_id_is_valid(NULL));
	for (gsize i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		g_autofree char *escaped = g_strescape(invalid[i], NULL);

		g_test_message("invalid id: %s", escaped);
		g_assert_false(cg_template_id_is_valid(invalid[i]));
		g_assert_false(cg_template_store_check(store, invalid[i], &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
		tmpl = cg_template_store_load(store, invalid[i], NULL, &error);
		g_assert_null(tmpl);
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_template_not_found(void)
{
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autoptr(CgTemplateStore) store = store_for(shipped);
	g_autoptr(CgTemplateStore) empty = cg_template_store_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;

	g_assert_false(cg_template_store_check(store, "no-such-template", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND);
	/* the ids there are, sorted */
	g_assert_cmpstr(error->message, ==,
			"Template 'no-such-template' not found; available: classic, modern");
	g_clear_error(&error);
	tmpl = cg_template_store_load(store, "no-such-template", NULL, &error);
	g_assert_null(tmpl);
	g_assert_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Template 'no-such-template' not found; available: classic, modern");
	g_clear_error(&error);
	/* "templates" dir itself has no layout.json: a directory is not a template */
	g_assert_false(cg_template_store_check(empty, "classic", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Template 'classic' not found; no templates are installed");
}

/* Listing: ids of directories named like ids that have a layout.json, in
 * every directory, sorted, once each; cg_template_store_list() gives those
 * that load (the first directory's copy), leaving broken ones out. */
static void
test_template_list(Fixture *fx, gconstpointer user_data)
{
	g_autofree char *admin = g_build_filename(fx->dir, "admin", NULL);
	g_autofree char *shipped = g_build_filename(fx->dir, "shipped", NULL);
	g_autofree char *outside = g_build_filename(fx->dir, "outside", NULL);
	const char *dirs[] = {admin, shipped, NULL};
	g_autoptr(CgTemplateStore) store = cg_template_store_new(dirs);
	g_autofree char *titled = NULL;
	g_autofree char *stray = NULL;
	g_autofree char *sub = NULL;
	g_autoptr(GPtrArray) templates = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) ids = NULL;
	const GPtrArray *fields;
	const CgTemplateField *field;
	const char *expected_ids[] = {"both", "broken", "only", NULL};

	titled = g_strdup_printf("{ \"title\": \"Admin's\", \"description\": \"Caf\u00e9\", %s",
				 VALID_LAYOUT + 1);
	g_free(write_template(admin, "both", titled, "background.pdf", fx->background));
	g_free(write_template(shipped, "both", VALID_LAYOUT, "background.pdf", fx->background));
	g_free(write_template(shipped, "only", VALID_LAYOUT, "background.pdf", fx->background));
	g_free(write_template(shipped, "broken", "{", "background.pdf", fx->background));
	/* not ids, or no layout.json: not templates */
	g_free(write_template(shipped, "Upper", VALID_LAYOUT, "background.pdf", fx->background));
	g_free(write_template(shipped, ".hidden", VALID_LAYOUT, "background.pdf", fx->background));
	g_free(
	    write_template(outside, "elsewhere", VALID_LAYOUT, "background.pdf", fx->background));
	sub = g_build_filename(shipped, "empty", NULL);
	g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
	stray = g_build_filename(shipped, "file", NULL);
	g_file_set_contents(stray, "x", -1, &error);
	g_assert_no_error(error);

	ids = cg_template_store_list_ids(store);
	g_assert_cmpstrv(ids, expected_ids);

	/* "broken" is logged, not listed */
	templates = cg_template_store_list(store, NULL);
	g_assert_cmpuint(templates->len, ==, 2);
	g_assert_cmpstr(cg_template_get_id(templates->pdata[0]), ==, "both");
	assert_texts(templates->pdata[0], "Admin's", "Caf\u00e9");
	g_assert_cmpstr(cg_template_get_id(templates->pdata[1]), ==, "only");
	/* the defaults: the id, no description, the key as label */
	assert_texts(templates->pdata[1], "only", "");
	fields = cg_template_get_fields(templates->pdata[1]);
	field = g_ptr_array_index(fields, 0);
	g_assert_cmpstr(field->label, ==, "recipientName");
}

/* Whether fontconfig gives the field's own family, not a substitute. */
static gboolean
font_is_installed(const CgTemplateField *field)
{
	PangoFontMap *fontmap = pango_cairo_font_map_get_default();
	g_autoptr(PangoContext) context = pango_font_map_create_context(fontmap);
	PangoFontDescription *desc = pango_font_description_new();
	g_autoptr(PangoFont) font = NULL;
	PangoFontDescription *found;
	gboolean same;

	pango_font_description_set_family(desc, field->font);
	pango_font_description_set_weight(desc, (PangoWeight)field->weight);
	pango_font_description_set_style(desc,
					 field->italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
	pango_font_description_set_absolute_size(desc, field->size * PANGO_SCALE);
	font = pango_font_map_load_font(fontmap, context, desc);
	pango_font_description_free(desc);
	if (font == NULL)
		return FALSE;
	found = pango_font_describe(font);
	same = g_ascii_strcasecmp(pango_font_description_get_family(found), field->font) == 0 &&
	       pango_font_description_get_style(found) ==
		   (field->italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL) &&
	       (guint)pango_font_description_get_weight(found) == field->weight;
	pango_font_description_free(found);
	return same;
}

static void
test_template_shipped(void)
{
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autoptr(CgTemplateStore) store = store_for(shipped);
	const char *ids[] = {"classic", "modern"};

	for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		const GPtrArray *fields;
		const GPtrArray *rules;
		double width, height;
		guint n_qr = 0, n_number = 0;

		g_assert_true(cg_template_store_check(store, ids[i], &error));
		g_assert_no_error(error);
		tmpl = cg_template_store_load(store, ids[i], NULL, &error);
		g_assert_no_error(error);
		g_assert_nonnull(tmpl);
		g_assert_cmpstr(cg_template_get_id(tmpl), ==, ids[i]);
		cg_template_get_page_size(tmpl, &width, &height);
		if (i == 0) {
			g_assert_cmpfloat(width, ==, 842);
			g_assert_cmpfloat(height, ==, 595);
		} else {
			g_assert_cmpfloat(width, ==, 595);
			g_assert_cmpfloat(height, ==, 842);
		}
		g_assert_nonnull(cg_template_get_background(tmpl, NULL));
		assert_texts(tmpl, i == 0 ? "Classic" : "Modern",
			     i == 0
				 ? "A4 landscape: serif lettering on ivory, navy and gold frames."
				 : "A4 portrait: sans-serif lettering, a teal band and amber "
				   "accents.");

		/* every font family a shipped template names is installed */
		fields = cg_template_get_fields(tmpl);
		for (guint f = 0; f < fields->len; f++) {
			const CgTemplateField *field = g_ptr_array_index(fields, f);

			n_qr += field->kind == CG_TEMPLATE_FIELD_QR;
			n_number += field->kind == CG_TEMPLATE_FIELD_NUMBER;
			/* every data field has a label of its own, other kinds none */
			if (field->kind == CG_TEMPLATE_FIELD_DATA)
				g_assert_cmpstr(field->label, !=, field->key);
			else
				g_assert_null(field->label);
			if (field->kind == CG_TEMPLATE_FIELD_QR)
				continue;
			if (!font_is_installed(field))
				g_error("%s: font family “%s” is not installed", ids[i],
					field->font);
		}
		g_assert_cmpuint(n_qr, ==, 1);
		g_assert_cmpuint(n_number, ==, 1);

		/* the data fields of DESIGN.md */
		rules = cg_template_get_rules(tmpl);
		g_assert_cmpuint(rules->len, ==, 5);
		for (guint r = 0; r < rules->len; r++) {
			const CgFieldRule *rule = g_ptr_array_index(rules, r);

			if (g_str_equal(rule->name, "recipientName")) {
				g_assert_true(rule->required);
				g_assert_cmpint(rule->type, ==, CG_FIELD_TYPE_STRING);
				g_assert_cmpuint(rule->min_length, ==, 1);
				g_assert_cmpuint(rule->max_length, ==, 128);
			} else if (g_str_equal(rule->name, "courseName")) {
				g_assert_true(rule->required);
				g_assert_cmpuint(rule->min_length, ==, 1);
				g_assert_cmpuint(rule->max_length, ==, 200);
			} else if (g_str_equal(rule->name, "issueDate")) {
				g_assert_true(rule->required);
				g_assert_cmpint(rule->type, ==, CG_FIELD_TYPE_DATE);
			} else if (g_str_equal(rule->name, "issuer")) {
				g_assert_false(rule->required);
				g_assert_cmpuint(rule->max_length, ==, 128);
			} else if (g_str_equal(rule->name, "description")) {
				g_assert_false(rule->required);
				g_assert_cmpuint(rule->max_length, ==, 1000);
			} else {
				g_error("unexpected field %s", rule->name);
			}
		}
	}
}

static void
test_template_date_format(Fixture *fx, gconstpointer user_data)
{
	const struct {
		const char *format;
		const char *date;
		const char *expected;
	} cases[] = {
	    {NULL, "2026-11-28", "28 November 2026"},
	    {NULL, "2026-01-05", "5 January 2026"},
	    {"%d/%m/%Y", "2026-01-05", "05/01/2026"},
	    {"%b %-d, %Y", "2026-09-30", "Sep 30, 2026"},
	    {"%-m.%-d. %Y (100%%)", "2026-03-04", "3.4. 2026 (100%)"},
	    {NULL, "not a date", "not a date"},
	    {NULL, "2026-13-01", "2026-13-01"},
	    /* real dates only, as data validation says (cg_data_date_is_valid) */
	    {NULL, "2026-02-31", "2026-02-31"},
	    {NULL, "2026-04-31", "2026-04-31"},
	    {NULL, "2023-02-29", "2023-02-29"},
	    {NULL, "2024-02-29", "29 February 2024"},
	    {NULL, "0000-01-01", "0000-01-01"},
	};
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		g_autofree char *id = g_strdup_printf("date%zu", i);
		g_autofree char *layout = NULL;
		g_autofree char *path = NULL;
		g_autofree char *formatted = NULL;

		if (cases[i].format != NULL)
			layout = g_strdup_printf("{ \"dateFormat\": \"%s\", %s", cases[i].format,
						 VALID_LAYOUT + 1);
		else
			layout = g_strdup(VALID_LAYOUT);
		path = write_template(fx->dir, id, layout, "background.pdf", fx->background);
		tmpl = cg_template_store_load(store, id, NULL, &error);
		g_assert_no_error(error);
		formatted = cg_template_format_date(tmpl, cases[i].date);
		g_assert_cmpstr(formatted, ==, cases[i].expected);
	}
}

typedef struct {
	const char *name;
	const char *layout;	 /* NULL: VALID_LAYOUT */
	const char *bg_name;	 /* file to write the background to */
	const char *bg_contents; /* NULL: the classic background */
	gboolean in_background;	 /* the message names the background, not layout.json */
	const char *expected;	 /* in the message, after "Template <name>: <file>: " */
} BrokenCase;

/* A layout's text up to its fields array: the 842x595 page and the
 * directory's background.pdf. */
#define LAYOUT_FIELDS_START                                                                        \
	"{ \"page\": { \"width\": 842, \"height\": 595 },"                                         \
	"  \"background\": { \"file\": \"background.pdf\" }, \"fields\": ["

static const BrokenCase broken_cases[] = {
    {"malformed", "{ \"page\": { \"width\": 842, ", "background.pdf", NULL, FALSE,
     "not valid JSON"},
    {"not-object", "[1, 2]", "background.pdf", NULL, FALSE, "expected a JSON object"},
    {"missing-page", "{ \"background\": { \"file\": \"background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "page: missing"},
    {"missing-fields",
     "{ \"page\": { \"width\": 842, \"height\": 595 },"
     "  \"background\": { \"file\": \"background.pdf\" } }",
     "background.pdf", NULL, FALSE, "fields: missing"},
    {"missing-background", NULL, "other.pdf", NULL, TRUE,
     "cannot be opened: No such file or directory"},
    {"background-not-pdf", NULL, "background.pdf", "just some text\n", TRUE, "not a PDF"},
    {"background-broken-pdf", NULL, "background.pdf", "%PDF-1.5\ngarbage\n", TRUE,
     "not a valid PDF"},
    {"background-path",
     "{ \"page\": { \"width\": 842, \"height\": 595 },"
     "  \"background\": { \"file\": \"../background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "background.file: must be a plain file name"},
    {"background-page",
     "{ \"page\": { \"width\": 842, \"height\": 595 },"
     "  \"background\": { \"file\": \"background.pdf\", \"page\": 2 }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "background.page:"},
    {"page-size",
     "{ \"page\": { \"width\": 595, \"height\": 842 },"
     "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE,
     "page: 595×842 pt, but page 1 of the background has another size"},
    {"wrong-type",
     LAYOUT_FIELDS_START
     "  { \"text\": \"Hello\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 },"
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": \"big\", \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[1].size: expected a number"},
    {"unknown-member",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100,"
     "    \"colour\": \"#000000\" } ] }",
     "background.pdf", NULL, FALSE, "fields[0]: unknown member"},
    {"unknown-top-level",
     "{ \"page\": { \"width\": 842, \"height\": 595 }, \"pages\": 2,"
     "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "unknown member at the top level"},
    {"bad-colour",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100,"
     "    \"color\": \"red\" } ] }",
     "background.pdf", NULL, FALSE, "fields[0].color: expected a colour as #rrggbb"},
    {"bad-align",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100,"
     "    \"align\": \"middle\" } ] }",
     "background.pdf", NULL, FALSE, "fields[0].align: expected one of left, center, right"},
    {"bad-key",
     LAYOUT_FIELDS_START
     "  { \"key\": \"a b\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].key: not a data field name"},
    {"duplicate-key",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 },"
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[1].key: the same data field appears twice"},
    {"key-and-text",
     LAYOUT_FIELDS_START "  { \"key\": \"name\", \"text\": \"x\", \"x\": 1, \"y\": 1, \"size\": 10,"
			 "    \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[0]: needs either \"key\" or \"text\""},
    {"qr-off-page",
     LAYOUT_FIELDS_START "  { \"key\": \"qr\", \"x\": 800, \"y\": 500, \"size\": 80 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].size: the code does not fit"},
    {"bad-date-format",
     "{ \"page\": { \"width\": 842, \"height\": 595 }, \"dateFormat\": \"%Y %Q\","
     "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "dateFormat: unknown conversion"},
    {"bad-rule",
     LAYOUT_FIELDS_START
     "  { \"key\": \"when\", \"type\": \"time\", \"x\": 1, \"y\": 1, \"size\": 10,"
     "    \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].type: expected one of string, date"},
    {"min-over-max",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"minLength\": 5, \"maxLength\": 2, \"x\": 1, \"y\": 1,"
     "    \"size\": 10, \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].minLength: larger than maxLength"},
    {"negative-size",
     LAYOUT_FIELDS_START
     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": -3, \"maxWidth\": 100 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].size: must be a number from 0.5 to 500"},
/* numbers: finite and in range before any conversion to an integer */
#define NUMBER_CASE(name, member, value, expected)                                                 \
	{                                                                                          \
		name,                                                                              \
		    "{ \"page\": { \"width\": 842, \"height\": 595 },"                             \
		    "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": ["            \
		    "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100,"  \
		    "    \"" member "\": " value " } ] }",                                         \
		    "background.pdf", NULL, FALSE, "fields[0]." member ": " expected               \
	}
/* a required member of the style, the others given */
#define STYLE_CASE(name, member, value, others, expected)                                          \
	{                                                                                          \
		name,                                                                              \
		    "{ \"page\": { \"width\": 842, \"height\": 595 },"                             \
		    "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": ["            \
		    "  { \"key\": \"name\", " others ", \"" member "\": " value " } ] }",          \
		    "background.pdf", NULL, FALSE, "fields[0]." member ": " expected               \
	}
    NUMBER_CASE("min-length-huge", "minLength", "11e308", "must be an integer from 0 to 1000000"),
    NUMBER_CASE("min-length-1e300", "minLength", "1e300", "must be an integer from 0 to 1000000"),
    NUMBER_CASE("min-length-negative", "minLength", "-1", "must be an integer from 0 to 1000000"),
    NUMBER_CASE("min-length-fraction", "minLength", "1.5", "must be an integer from 0 to 1000000"),
    NUMBER_CASE("max-length-huge", "maxLength", "1e19", "must be an integer from 0 to 1000000"),
    NUMBER_CASE("max-lines-huge", "maxLines", "-1e300", "must be an integer from 0 to 100"),
    NUMBER_CASE("weight-huge", "weight", "1e300", "must be an integer from 100 to 1000"),
    NUMBER_CASE("weight-fraction", "weight", "450.5", "must be an integer from 100 to 1000"),
    STYLE_CASE("size-huge", "size", "1e400", "\"x\": 1, \"y\": 1, \"maxWidth\": 100",
	       "must be a number from 0.5 to 500"),
    NUMBER_CASE("min-size-zero", "minSize", "0", "must be a number from 0.5 to 500"),
    NUMBER_CASE("letter-spacing-huge", "letterSpacing", "-1e999",
		"must be a number from -10 to 100"),
    STYLE_CASE("max-width-off-page", "maxWidth", "843", "\"x\": 1, \"y\": 1, \"size\": 10",
	       "must be a number from 1 to 842"),
    STYLE_CASE("x-off-page", "x", "900", "\"y\": 1, \"size\": 10, \"maxWidth\": 100",
	       "must be a number from 0 to 842"),
    STYLE_CASE("y-negative", "y", "-0.5", "\"x\": 1, \"size\": 10, \"maxWidth\": 100",
	       "must be a number from 0 to 595"),
#undef NUMBER_CASE
#undef STYLE_CASE
    {"quiet-zone-fraction",
     LAYOUT_FIELDS_START
     "  { \"key\": \"qr\", \"x\": 700, \"y\": 450, \"size\": 80, \"quietZone\": 2.5 } ] }",
     "background.pdf", NULL, FALSE, "fields[0].quietZone: must be an integer from 0 to 16"},
    {"page-width-huge",
     "{ \"page\": { \"width\": 1e308, \"height\": 595 },"
     "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": [] }",
     "background.pdf", NULL, FALSE, "page.width: must be a number from 1 to 14400"},
    {"background-page-huge",
     "{ \"page\": { \"width\": 842, \"height\": 595 },"
     "  \"background\": { \"file\": \"background.pdf\", \"page\": 4294967297 },"
     "  \"fields\": [] }",
     "background.pdf", NULL, FALSE, "background.page: must be an integer from 1 to 100000"},
};

/* A message for an unprivileged caller: no path, absolute or not. */
static void
assert_discloses_nothing(const char *message, const char *dir)
{
	if (strchr(message, '/') != NULL || strstr(message, dir) != NULL)
		g_error("the message shows a path: %s", message);
}

static void
test_template_broken(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);

	for (gsize i = 0; i < G_N_ELEMENTS(broken_cases); i++) {
		const BrokenCase *c = &broken_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		g_autoptr(GBytes) bg = NULL;
		g_autofree char *layout_path = NULL;
		g_autofree char *prefix = NULL;

		g_test_message("broken template: %s", c->name);
		bg = c->bg_contents != NULL
			 ? g_bytes_new_static(c->bg_contents, strlen(c->bg_contents))
			 : g_bytes_ref(fx->background);
		layout_path = write_template(
		    fx->dir, c->name, c->layout != NULL ? c->layout : VALID_LAYOUT, c->bg_name, bg);

		/* the cheap check only looks for the file */
		g_assert_true(cg_template_store_check(store, c->name, &error));
		g_assert_no_error(error);

		tmpl = cg_template_store_load(store, c->name, NULL, &error);
		g_assert_null(tmpl);
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_test_message("  %s", error->message);
		prefix = g_strdup_printf("Template %s: %s: ", c->name,
					 c->in_background ? "background “background.pdf”"
							  : "layout.json");
		if (!g_str_has_prefix(error->message, prefix))
			g_error("%s: expected the prefix “%s”", error->message, prefix);
		if (strstr(error->message, c->expected) == NULL)
			g_error("%s: expected “%s”", error->message, c->expected);
		assert_discloses_nothing(error->message, fx->dir);
	}
}

/* cg_template_store_load() in a thread of its own, given @seconds: a load
 * that blocks (a FIFO) or reads without end (/dev/zero) fails the test
 * instead of hanging it. */
typedef struct {
	CgTemplateStore *store;
	const char *id;
	GMutex lock;
	GCond cond;
	gboolean done;
	CgTemplate *tmpl;
	GError *error;
} GuardedLoad;

static gpointer
guarded_load_thread(gpointer user_data)
{
	GuardedLoad *load = user_data;
	GError *error = NULL;
	CgTemplate *tmpl = cg_template_store_load(load->store, load->id, NULL, &error);

	g_mutex_lock(&load->lock);
	load->tmpl = tmpl;
	load->error = error;
	load->done = TRUE;
	g_cond_signal(&load->cond);
	g_mutex_unlock(&load->lock);
	return NULL;
}

static CgTemplate *
load_guarded(CgTemplateStore *store, const char *id, guint seconds, GError **error)
{
	GuardedLoad load = {store, id};
	gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
	GThread *thread;

	g_mutex_init(&load.lock);
	g_cond_init(&load.cond);
	thread = g_thread_new("guarded-load", guarded_load_thread, &load);
	g_mutex_lock(&load.lock);
	while (!load.done) {
		if (!g_cond_wait_until(&load.cond, &load.lock, deadline))
			g_error("loading template %s did not end within %u s", id, seconds);
	}
	g_mutex_unlock(&load.lock);
	g_thread_join(thread);
	g_mutex_clear(&load.lock);
	g_cond_clear(&load.cond);
	if (load.error != NULL)
		g_propagate_error(error, load.error);
	return load.tmpl;
}

/* Loading @id fails, in time, with a message that names it and has
 * @expected, and shows no path. */
static void
assert_load_fails(CgTemplateStore *store, const char *id, const char *expected, const char *dir)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = load_guarded(store, id, 20, &error);
	g_autofree char *prefix = g_strdup_printf("Template %s: ", id);

	g_assert_null(tmpl);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_test_message("%s: %s", id, error->message);
	if (!g_str_has_prefix(error->message, prefix) || strstr(error->message, expected) == NULL)
		g_error("%s: expected “%s%s”", error->message, prefix, expected);
	assert_discloses_nothing(error->message, dir);
}

static void
test_template_special_files(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *bg_path = NULL;
	g_autofree char *big = NULL;
	int fd;

	/* a FIFO as the background: refused, not waited on */
	path = write_template(fx->dir, "fifo-background", VALID_LAYOUT, NULL, NULL);
	dir = g_path_get_dirname(path);
	bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_assert_cmpint(mkfifo(bg_path, 0644), ==, 0);
	assert_load_fails(store, "fifo-background",
			  "background “background.pdf”: not a regular file", fx->dir);

	/* a FIFO as layout.json */
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&path, g_free);
	dir = g_build_filename(fx->dir, "fifo-layout", NULL);
	path = g_build_filename(dir, "layout.json", NULL);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_cmpint(mkfifo(path, 0644), ==, 0);
	assert_load_fails(store, "fifo-layout", "layout.json: not a regular file", fx->dir);
	/* the cheap check says so too, just as discreetly */
	g_assert_false(cg_template_store_check(store, "fifo-layout", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	assert_discloses_nothing(error->message, fx->dir);
	g_clear_error(&error);

	/* /dev/zero linked as the background: refused, not read without end */
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&bg_path, g_free);
	path = write_template(fx->dir, "zero-background", VALID_LAYOUT, NULL, NULL);
	dir = g_path_get_dirname(path);
	bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_assert_cmpint(symlink("/dev/zero", bg_path), ==, 0);
	assert_load_fails(store, "zero-background",
			  "background “background.pdf”: not a regular file", fx->dir);

	/* directories as layout.json and as the background */
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&path, g_free);
	dir = g_build_filename(fx->dir, "dir-layout", "layout.json", NULL);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	assert_load_fails(store, "dir-layout", "layout.json: not a regular file", fx->dir);
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&bg_path, g_free);
	path = write_template(fx->dir, "dir-background", VALID_LAYOUT, NULL, NULL);
	dir = g_path_get_dirname(path);
	bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_assert_cmpint(g_mkdir(bg_path, 0755), ==, 0);
	assert_load_fails(store, "dir-background",
			  "background “background.pdf”: not a regular file", fx->dir);

	/* layout.json over 1 MiB: refused before it is parsed */
	big = g_strnfill(1024 * 1024 + 1, ' ');
	memcpy(big, VALID_LAYOUT, strlen(VALID_LAYOUT));
	g_clear_pointer(&path, g_free);
	path = write_template(fx->dir, "big-layout", big, "background.pdf", fx->background);
	assert_load_fails(store, "big-layout", "layout.json: larger than 1048576 bytes", fx->dir);
	/* 1 MiB exactly is fine */
	big[1024 * 1024] = '\0';
	g_clear_pointer(&path, g_free);
	path = write_template(fx->dir, "big-layout-ok", big, "background.pdf", fx->background);
	{
		g_autoptr(CgTemplate) tmpl = load_guarded(store, "big-layout-ok", 20, &error);

		g_assert_no_error(error);
		g_assert_nonnull(tmpl);
	}

	/* a background over 16 MiB (sparse: nothing is written) */
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&bg_path, g_free);
	path = write_template(fx->dir, "big-background", VALID_LAYOUT, NULL, NULL);
	dir = g_path_get_dirname(path);
	bg_path = g_build_filename(dir, "background.pdf", NULL);
	fd = g_open(bg_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, "%PDF-1.5\n", 9), ==, 9);
	g_assert_cmpint(ftruncate(fd, 16 * 1024 * 1024 + 1), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
	assert_load_fails(store, "big-background",
			  "background “background.pdf”: larger than 16777216 bytes", fx->dir);
}

static void
test_template_no_disclosure(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	g_autofree char *dir = g_build_filename(fx->dir, "linked", NULL);
	g_autofree char *path = g_build_filename(dir, "layout.json", NULL);
	g_autofree char *bg_path = NULL;
	g_autofree char *other = NULL;
	const struct {
		const char *id;
		const char *layout;
		const char *secret;
		const char *expected;
	} cases[] = {
	    {"secret-member", "{ \"secret-root-token-4711\": 1 }", "4711",
	     "layout.json: unknown member at the top level"},
	    {"secret-field-member",
	     LAYOUT_FIELDS_START
	     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100,"
	     "    \"hunter2-4711\": 1 } ] }",
	     "4711", "layout.json: fields[0]: unknown member"},
	    {"secret-key",
	     LAYOUT_FIELDS_START
	     "  { \"key\": \"root:x:4711\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 }"
	     "  ] }",
	     "4711", "fields[0].key: not a data field name"},
	    {"secret-value",
	     LAYOUT_FIELDS_START
	     "  { \"key\": \"name\", \"x\": 1, \"y\": 1, \"size\": 4711, \"maxWidth\": 100 } ] }",
	     "4711", "fields[0].size: must be a number from 0.5 to 500"},
	    {"secret-syntax", "{ \"page\": 4711x }", "4711", "layout.json: not valid JSON"},
	};

	/* layout.json linked to /etc/passwd: neither its lines nor the path */
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_cmpint(symlink("/etc/passwd", path), ==, 0);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = load_guarded(store, "linked", 20, &error);

		g_assert_null(tmpl);
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_test_message("%s", error->message);
		g_assert_true(g_str_has_prefix(error->message, "Template linked: layout.json: "));
		g_assert_null(strstr(error->message, "root"));
		g_assert_null(strstr(error->message, "/etc"));
		assert_discloses_nothing(error->message, fx->dir);
	}

	/* the background linked to /etc/passwd */
	g_clear_pointer(&path, g_free);
	g_clear_pointer(&dir, g_free);
	path = write_template(fx->dir, "passwd-background", VALID_LAYOUT, NULL, NULL);
	dir = g_path_get_dirname(path);
	bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_assert_cmpint(symlink("/etc/passwd", bg_path), ==, 0);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = load_guarded(store, "passwd-background", 20, &error);

		g_assert_null(tmpl);
		g_test_message("%s", error->message);
		g_assert_cmpstr(
		    error->message, ==,
		    "Template passwd-background: background “background.pdf”: not a PDF "
		    "file");
	}

	/* what the file says stays in the journal */
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;

		g_clear_pointer(&other, g_free);
		other = write_template(fx->dir, cases[i].id, cases[i].layout, "background.pdf",
				       fx->background);
		tmpl = load_guarded(store, cases[i].id, 20, &error);
		g_assert_null(tmpl);
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_test_message("%s: %s", cases[i].id, error->message);
		if (strstr(error->message, cases[i].expected) == NULL)
			g_error("%s: expected “%s”", error->message, cases[i].expected);
		g_assert_null(strstr(error->message, cases[i].secret));
		assert_discloses_nothing(error->message, fx->dir);
	}
}

static void
test_template_valid_custom(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autofree char *path =
	    write_template(fx->dir, "custom", VALID_LAYOUT, "background.pdf", fx->background);
	const GPtrArray *fields;
	const GPtrArray *rules;
	const CgTemplateField *name;
	const CgFieldRule *rule;

	tmpl = cg_template_store_load(store, "custom", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cg_template_get_path(tmpl), ==, path);
	fields = cg_template_get_fields(tmpl);
	g_assert_cmpuint(fields->len, ==, 2);
	name = g_ptr_array_index(fields, 0);
	g_assert_cmpint(name->kind, ==, CG_TEMPLATE_FIELD_DATA);
	g_assert_cmpstr(name->key, ==, "recipientName");
	g_assert_cmpint(name->align, ==, CG_TEMPLATE_ALIGN_CENTER);
	g_assert_cmpint(name->fit, ==, CG_TEMPLATE_FIT_SHRINK);
	g_assert_cmpstr(name->font, ==, "DejaVu Sans");
	g_assert_cmpuint(name->weight, ==, 400);
	g_assert_cmpfloat(name->min_size, ==, 15);
	g_assert_cmpstr(name->prefix, ==, "");
	g_assert_cmpint(((const CgTemplateField *)g_ptr_array_index(fields, 1))->kind, ==,
			CG_TEMPLATE_FIELD_QR);
	rules = cg_template_get_rules(tmpl);
	g_assert_cmpuint(rules->len, ==, 1);
	rule = g_ptr_array_index(rules, 0);
	g_assert_true(rule == name->rule);
	g_assert_cmpstr(rule->name, ==, "recipientName");
	g_assert_true(rule->required);
	g_assert_cmpuint(rule->min_length, ==, 1);
	g_assert_cmpuint(rule->max_length, ==, 64);
}

static void
test_template_dir_order(Fixture *fx, gconstpointer user_data)
{
	g_autofree char *admin = g_build_filename(fx->dir, "admin", NULL);
	g_autofree char *shipped = g_build_filename(fx->dir, "shipped", NULL);
	const char *dirs[] = {admin, shipped, NULL};
	g_autoptr(CgTemplateStore) store = cg_template_store_new(dirs);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) both = NULL;
	g_autoptr(CgTemplate) only = NULL;
	g_autofree char *admin_path = NULL;
	g_autofree char *shipped_path = NULL;
	g_autofree char *only_path = NULL;

	admin_path = write_template(admin, "both", VALID_LAYOUT, "background.pdf", fx->background);
	shipped_path =
	    write_template(shipped, "both", VALID_LAYOUT, "background.pdf", fx->background);
	only_path = write_template(shipped, "only", VALID_LAYOUT, "background.pdf", fx->background);

	both = cg_template_store_load(store, "both", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cg_template_get_path(both), ==, admin_path);
	only = cg_template_store_load(store, "only", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cg_template_get_path(only), ==, only_path);

	/* the admin's copy goes away: the shipped one is used */
	g_clear_pointer(&both, cg_template_unref);
	g_assert_cmpint(g_remove(admin_path), ==, 0);
	both = cg_template_store_load(store, "both", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cg_template_get_path(both), ==, shipped_path);
}

static void
bump_mtime(const char *path, gint64 seconds)
{
	GStatBuf st;
	struct utimbuf times;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	times.actime = st.st_atime;
	times.modtime = st.st_mtime + seconds;
	g_assert_cmpint(g_utime(path, &times), ==, 0);
}

static void
test_template_cache(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) first = NULL;
	g_autoptr(CgTemplate) second = NULL;
	g_autoptr(CgTemplate) third = NULL;
	g_autoptr(CgTemplate) fourth = NULL;
	g_autofree char *path =
	    write_template(fx->dir, "cached", VALID_LAYOUT, "background.pdf", fx->background);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *bg_path = g_build_filename(dir, "background.pdf", NULL);
	g_autofree char *changed = NULL;

	first = cg_template_store_load(store, "cached", NULL, &error);
	g_assert_no_error(error);
	second = cg_template_store_load(store, "cached", NULL, &error);
	g_assert_no_error(error);
	g_assert_true(first == second);

	/* same size, other content, newer mtime: reloaded */
	changed = g_strdup(VALID_LAYOUT);
	*strstr(changed, "300") = '2';
	g_file_set_contents(path, changed, -1, &error);
	g_assert_no_error(error);
	bump_mtime(path, 10);
	third = cg_template_store_load(store, "cached", NULL, &error);
	g_assert_no_error(error);
	g_assert_true(third != first);
	g_assert_cmpfloat(
	    ((const CgTemplateField *)g_ptr_array_index(cg_template_get_fields(third), 0))->y, ==,
	    200);
	/* the old one is still usable by whoever holds it */
	g_assert_cmpfloat(
	    ((const CgTemplateField *)g_ptr_array_index(cg_template_get_fields(first), 0))->y, ==,
	    300);

	/* the background changes: reloaded too */
	bump_mtime(bg_path, 20);
	fourth = cg_template_store_load(store, "cached", NULL, &error);
	g_assert_no_error(error);
	g_assert_true(fourth != third);

	/* a template broken by an edit fails, and works again when fixed */
	g_file_set_contents(path, "{", -1, &error);
	g_assert_no_error(error);
	g_assert_null(cg_template_store_load(store, "cached", NULL, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);
	g_file_set_contents(path, VALID_LAYOUT, -1, &error);
	g_assert_no_error(error);
	bump_mtime(path, 30);
	g_clear_pointer(&first, cg_template_unref);
	first = cg_template_store_load(store, "cached", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(first);
}

typedef struct {
	CgTemplateStore *store;
	const char *id;
} ThreadData;

static gpointer
load_thread(gpointer user_data)
{
	ThreadData *td = user_data;

	for (guint i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl =
		    cg_template_store_load(td->store, td->id, NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpstr(cg_template_get_id(tmpl), ==, td->id);
	}
	return NULL;
}

static void
test_template_threads(void)
{
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autoptr(CgTemplateStore) store = store_for(shipped);
	ThreadData data[] = {
	    {store, "classic"}, {store, "modern"}, {store, "classic"}, {store, "modern"}};
	GThread *threads[G_N_ELEMENTS(data)];

	for (gsize i = 0; i < G_N_ELEMENTS(data); i++)
		threads[i] = g_thread_new("load", load_thread, &data[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(data); i++)
		g_thread_join(threads[i]);
}

/* The strict layout tests' check: the load fails and the message has
 * @expected (the kind and offset of the JSON error). */
static void
strict_layout_fails(CgTemplateStore *store, const char *id, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = cg_template_store_load(store, id, NULL, &error);

	g_assert_null(tmpl);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_test_message("%s: %s", id, error->message);
	if (strstr(error->message, expected) == NULL)
		g_error("%s: expected “%s”", error->message, expected);
}

/* Issue 15 item 7: a layout.json nested 400,000 deep (800 KB) crashed
 * certgend in json-glib's recursive parser. The strict parser (cg-json)
 * stops at its depth limit; what json-glib let through (comments, repeated
 * keys) is refused too. The caller learns the kind and the offset only. */
static void
test_template_strict_layout(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	GString *deep = g_string_new("{\"page\":");
	const struct {
		const char *id;
		const char *layout;
		const char *expected;
	} cases[] = {
	    {"comment", "{ /* a comment */ \"page\": {} }",
	     "layout.json: not valid JSON (a syntax error) at byte offset 2"},
	    {"repeated", "{ \"page\": {\"width\": 842, \"width\": 10} }",
	     "layout.json: not valid JSON (a repeated key) at byte offset 25"},
	    {"single-quotes", "{ 'page': {} }",
	     "layout.json: not valid JSON (a syntax error) at byte offset 2"},
	    {"nul-escape", "{ \"page\\u0000\": {} }",
	     "layout.json: not valid JSON (a \\u0000 escape) at byte offset 7"},
	    {"trailing", "{}{}", "layout.json: not valid JSON (a syntax error) at byte offset 2"},
	    {"empty", "  ", "layout.json: not valid JSON (empty)"},
	};
	g_autofree char *deep_text = NULL;

	for (guint i = 0; i < 400000; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 400000; i++)
		g_string_append_c(deep, ']');
	g_string_append_c(deep, '}');
	deep_text = g_string_free(deep, FALSE);
	g_assert_cmpuint(strlen(deep_text), ==, 800009);

	/* the 32nd '[' opens level 33 */
	g_free(write_template(fx->dir, "deep", deep_text, "background.pdf", fx->background));
	strict_layout_fails(store, "deep",
			    "layout.json: not valid JSON (nested too deep) at byte offset 39");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_free(write_template(fx->dir, cases[i].id, cases[i].layout, "background.pdf",
				      fx->background));
		strict_layout_fails(store, cases[i].id, cases[i].expected);
	}
}

/* A cancelled load stops with G_IO_ERROR_CANCELLED (not a template
 * error, nothing for the journal); the same store loads the template when
 * not cancelled. */
static void
test_template_cancelled(void)
{
	g_autofree char *shipped = cg_test_shipped_templates_dir();
	g_autoptr(CgTemplateStore) store = store_for(shipped);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;

	g_cancellable_cancel(cancellable);
	tmpl = cg_template_store_load(store, "classic", cancellable, &error);
	g_assert_null(tmpl);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&error);

	tmpl = cg_template_store_load(store, "classic", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(tmpl);
}

/* What clients show (title, description, labels) is checked like every
 * string the service shows: its length in characters, no control
 * characters; labels only on data fields. @top: members put at the top
 * level; @field: members put in the data field. */
static void
test_template_display_texts(Fixture *fx, gconstpointer user_data)
{
	g_autofree char *chars_128 = NULL;
	g_autofree char *chars_129 = NULL;
	const struct {
		const char *top;
		const char *field;
		const char *expected; /* NULL: loads */
	} cases[] = {
	    {"\"title\": \"\",", NULL, "title: must be 1 to 128 characters"},
	    {"\"title\": 7,", NULL, "title: expected a string"},
	    {"\"title\": \"A\\u001b[31mB\",", NULL, "title: contains a control character"},
	    {"\"description\": \"x\\u0085y\",", NULL, "description: contains a control character"},
	    {"\"description\": [\"x\"],", NULL, "description: expected a string"},
	    {"\"description\": \"\",", NULL, NULL},
	    {NULL, "\"label\": \"\",", "fields[0].label: must be 1 to 128 characters"},
	    {NULL, "\"label\": \"a\\nb\",", "fields[0].label: contains a control character"},
	    {NULL, "\"label\": true,", "fields[0].label: expected a string"},
	    {NULL, "\"label\": \"Name\",", NULL},
	};
	g_autoptr(CgTemplateStore) store = store_for(fx->dir);
	GString *long_text = g_string_new(NULL);

	/* in characters, not bytes: "é" is two */
	for (guint i = 0; i < 128; i++)
		g_string_append(long_text, "\u00e9");
	chars_128 = g_strdup_printf("\"title\": \"%s\", ", long_text->str);
	chars_129 = g_strdup_printf("\"title\": \"%s\u00e9\", ", long_text->str);
	g_string_free(long_text, TRUE);

	for (gsize i = 0; i < G_N_ELEMENTS(cases) + 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		g_autofree char *id = g_strdup_printf("texts%zu", i);
		g_autofree char *layout = NULL;
		const char *top = i < G_N_ELEMENTS(cases) ? cases[i].top : NULL;
		const char *field = i < G_N_ELEMENTS(cases) ? cases[i].field : NULL;
		const char *expected = i < G_N_ELEMENTS(cases) ? cases[i].expected : NULL;

		if (i == G_N_ELEMENTS(cases))
			top = chars_128;
		if (i == G_N_ELEMENTS(cases) + 1) {
			top = chars_129;
			expected = "title: must be 1 to 128 characters";
		}
		layout = g_strdup_printf(
		    "{ %s \"page\": { \"width\": 842, \"height\": 595 },"
		    "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": ["
		    "  { \"key\": \"name\", %s \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 "
		    "},"
		    "  { \"text\": \"Hi\", \"x\": 1, \"y\": 1, \"size\": 10, \"maxWidth\": 100 } ] "
		    "}",
		    top != NULL ? top : "", field != NULL ? field : "");
		g_free(write_template(fx->dir, id, layout, "background.pdf", fx->background));
		tmpl = cg_template_store_load(store, id, NULL, &error);
		g_test_message("%s: %s", layout, error != NULL ? error->message : "loads");
		if (expected == NULL) {
			g_assert_no_error(error);
			continue;
		}
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		if (strstr(error->message, expected) == NULL)
			g_error("%s: expected “%s”", error->message, expected);
	}

	/* a label on static text or the QR code is an unknown member there */
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = NULL;
		g_autofree char *id = g_strdup_printf("label-where%u", i);
		g_autofree char *layout = g_strdup_printf(
		    "{ \"page\": { \"width\": 842, \"height\": 595 },"
		    "  \"background\": { \"file\": \"background.pdf\" }, \"fields\": [ %s ] }",
		    i == 0 ? "{ \"text\": \"Hi\", \"label\": \"Greeting\", \"x\": 1, \"y\": 1, "
			     "\"size\": 10, \"maxWidth\": 100 }"
			   : "{ \"key\": \"qr\", \"label\": \"Code\", \"x\": 700, \"y\": 450, "
			     "\"size\": 80 }");

		g_free(write_template(fx->dir, id, layout, "background.pdf", fx->background));
		tmpl = cg_template_store_load(store, id, NULL, &error);
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "fields[0]: unknown member"));
	}
}

static const CgTestCase cases[] = {
    {"/template/ids", test_template_ids},
    {"/template/not-found", test_template_not_found},
    {"/template/shipped", test_template_shipped},
    {"/template/threads", test_template_threads},
    {"/template/cancelled", test_template_cancelled},
    CG_TEST_FIXTURE_CASE("/template/date-format", test_template_date_format),
    CG_TEST_FIXTURE_CASE("/template/broken", test_template_broken),
    CG_TEST_FIXTURE_CASE("/template/special-files", test_template_special_files),
    CG_TEST_FIXTURE_CASE("/template/no-disclosure", test_template_no_disclosure),
    CG_TEST_FIXTURE_CASE("/template/valid-custom", test_template_valid_custom),
    CG_TEST_FIXTURE_CASE("/template/dir-order", test_template_dir_order),
    CG_TEST_FIXTURE_CASE("/template/list", test_template_list),
    CG_TEST_FIXTURE_CASE("/template/display-texts", test_template_display_texts),
    CG_TEST_FIXTURE_CASE("/template/cache", test_template_cache),
    CG_TEST_FIXTURE_CASE("/template/strict-layout", test_template_strict_layout),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_set_up, fixture_tear_down)

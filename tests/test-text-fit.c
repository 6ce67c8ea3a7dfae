/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <pango/pangocairo.h>
#include <string.h>

#include "cg-template.h"
#include "cg-test-util.h"
#include "cg-text-fit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PangoContext, g_object_unref)

/* A text field of DejaVu Sans 20 pt, 10 pt at least, 100 pt wide. */
static void
field_init(CgTemplateField *field, guint max_lines, double max_depth)
{
	memset(field, 0, sizeof(*field));
	field->kind = CG_TEMPLATE_FIELD_DATA;
	field->prefix = (char *)"";
	field->suffix = (char *)"";
	field->font = (char *)"DejaVu Sans";
	field->weight = 400;
	field->size = 20;
	field->min_size = 10;
	field->max_width = 100;
	field->max_lines = max_lines;
	field->max_depth = max_depth;
	field->align = CG_TEMPLATE_ALIGN_CENTER;
}

static void
fit_text(const CgTemplateField *field, const char *text, CgTextFit *fit)
{
	g_autoptr(PangoContext) context = cg_text_fit_context_new();
	g_autoptr(PangoLayout) layout = cg_text_fit_layout_new(context, field);

	pango_layout_set_text(layout, text, -1);
	cg_text_fit_layout(layout, field, fit);
	g_assert_false(pango_layout_is_ellipsized(layout));
	/* what the layout holds is what was measured */
	g_assert_cmpint(pango_layout_get_line_count(layout), ==, fit->n_lines);
}

/* Whether @text fits @field at exactly @size. */
static gboolean
fits_at(const CgTemplateField *field, const char *text, double size)
{
	CgTemplateField at = *field;
	CgTextFit fit;

	at.min_size = at.size = size;
	fit_text(&at, text, &fit);
	return fit.fits;
}

static void
test_fit_full_size(void)
{
	CgTemplateField field;
	CgTextFit fit;

	field_init(&field, 1, 0);
	fit_text(&field, "Ada", &fit);
	g_assert_true(fit.fits);
	g_assert_cmpfloat(fit.size, ==, 20);
	g_assert_cmpfloat(fit.scale, ==, 1);
	g_assert_cmpuint(fit.n_lines, ==, 1);
	g_assert_cmpfloat(fit.width, <=, 100);
	g_assert_null(cg_text_fit_check(&field, "Ada"));
}

static void
test_fit_shrinks_one_line(void)
{
	const char *text = "Ada Lovelace Byron"; /* about 190 pt at 20 pt */
	CgTemplateField field;
	CgTextFit fit;

	field_init(&field, 1, 0);
	fit_text(&field, text, &fit);
	g_assert_true(fit.fits);
	g_assert_cmpuint(fit.n_lines, ==, 1);
	g_assert_cmpfloat(fit.size, <, 20);
	g_assert_cmpfloat(fit.size, >=, 10);
	g_assert_cmpfloat(fit.width, <=, 100 + 1.0 / PANGO_SCALE);
	g_assert_cmpfloat(fit.scale, ==, fit.size / 20);
	/* the largest step: one more does not fit */
	g_assert_true(fits_at(&field, text, fit.size));
	g_assert_false(fits_at(&field, text, fit.size + CG_TEXT_FIT_STEP));
	g_assert_null(cg_text_fit_check(&field, text));
}

static void
test_fit_wraps(void)
{
	const char *text = "Ada Lovelace Byron";
	CgTemplateField field;
	CgTextFit fit;

	/* two lines at full size rather than one at a smaller one */
	field_init(&field, 2, 0);
	field.max_width = 150;
	fit_text(&field, text, &fit);
	g_assert_true(fit.fits);
	g_assert_cmpfloat(fit.size, ==, 20);
	g_assert_cmpuint(fit.n_lines, ==, 2);

	/* no limit of lines: as many as it takes */
	field_init(&field, 0, 0);
	fit_text(&field, "Ada Lovelace Byron, Countess of Lovelace", &fit);
	g_assert_true(fit.fits);
	g_assert_cmpfloat(fit.size, ==, 20);
	g_assert_cmpuint(fit.n_lines, >=, 3);

	/* a word wider than the box is broken between characters */
	field_init(&field, 3, 0);
	fit_text(&field, "Abcdefghijklmnopqrstuvwxyz", &fit);
	g_assert_true(fit.fits);
	g_assert_cmpfloat(fit.width, <=, 100 + 1.0 / PANGO_SCALE);
}

static void
test_fit_height(void)
{
	const char *text = "Ada Lovelace Byron";
	CgTemplateField field;
	CgTextFit fit;

	/* two lines of 20 pt reach further than 30 pt below the first
	 * baseline: it shrinks, to two lines of a smaller size or one line */
	field_init(&field, 2, 30);
	fit_text(&field, text, &fit);
	g_assert_true(fit.fits);
	g_assert_cmpfloat(fit.size, <, 20);
	g_assert_cmpfloat(fit.depth, <=, 30 + 1.0 / PANGO_SCALE);
	g_assert_false(fits_at(&field, text, fit.size + CG_TEXT_FIT_STEP));
}

static void
test_fit_cannot(void)
{
	g_autofree char *text = cg_test_repeat("Lovelace ", 20);
	g_autofree char *message = NULL;
	CgTemplateField field;
	CgTextFit fit;

	field_init(&field, 2, 0);
	fit_text(&field, text, &fit);
	g_assert_false(fit.fits);
	g_assert_cmpfloat(fit.size, ==, 10);
	g_assert_cmpuint(fit.n_lines, >, 2);
	message = cg_text_fit_check(&field, text);
	g_assert_cmpstr(message, ==, "does not fit in 2 lines at 10 pt");
	g_clear_pointer(&message, g_free);

	/* one line */
	field_init(&field, 1, 0);
	message = cg_text_fit_check(&field, text);
	g_assert_cmpstr(message, ==, "does not fit in 1 line at 10 pt");
	g_clear_pointer(&message, g_free);

	/* two lines reach too far below even at the smallest size */
	field_init(&field, 0, 8);
	field.max_width = 50;
	message = cg_text_fit_check(&field, "Ada Lovelace Byron");
	g_assert_cmpstr(message, ==, "does not fit in 8 pt below its first line at 10 pt");
}

static void
test_fit_compose(void)
{
	g_autoptr(GString) out = g_string_new(NULL);
	CgTemplateField field;

	field_init(&field, 1, 0);
	field.prefix = (char *)"No. ";
	field.suffix = (char *)"!";
	cg_text_fit_compose(out, &field, "a\nb\tc");
	g_assert_cmpstr(out->str, ==, "No. a b c!");
	field.max_lines = 2;
	cg_text_fit_compose(out, &field, "a\nb");
	g_assert_cmpstr(out->str, ==, "No. a\nb!");
}

/* The longest values the shipped templates' rules accept, in several
 * scripts: @unit repeated and cut to @n characters (never ending in a
 * space, which could be dropped at a line's end). */
static char *
sample(const char *unit, guint n)
{
	g_autofree char *long_text = cg_test_repeat(unit, n);
	g_autofree char *cut = g_utf8_substring(long_text, 0, n);
	GString *out = g_string_new(cut);

	if (out->len > 0 && out->str[out->len - 1] == ' ')
		out->str[out->len - 1] = 'x';
	return g_string_free(out, FALSE);
}

static const char *const scripts[][2] = {
    {"Latin", "Maria de los Ángeles Fernández-Villaverde y Rodríguez de la Fuente "},
    {"Latin capitals", "MARIA DE LOS ÁNGELES FERNÁNDEZ-VILLAVERDE Y RODRÍGUEZ "},
    {"CJK", "国际标准化组织认证高级软件工程师培训课程東京大学情報理工学系研究科"},
    {"Arabic", "محمد بن عبد الرحمن بن عبد الله الفلاني "},
    {"Hebrew", "אברהם בן דוד הכהן מירושלים "},
};

static void
test_fit_shipped_templates(void)
{
	g_autofree char *dir = cg_test_shipped_templates_dir();
	const char *const dirs[] = {dir, NULL};
	g_autoptr(CgTemplateStore) store = cg_template_store_new(dirs);
	const char *const ids[] = {"classic", "modern"};
	g_autoptr(PangoContext) context = cg_text_fit_context_new();
	guint n_problems = 0;

	for (guint t = 0; t < G_N_ELEMENTS(ids); t++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgTemplate) tmpl = cg_template_store_load(store, ids[t], NULL, &error);
		const GPtrArray *fields;

		g_assert_no_error(error);
		fields = cg_template_get_fields(tmpl);
		for (guint i = 0; i < fields->len; i++) {
			const CgTemplateField *field = g_ptr_array_index(fields, i);

			if (field->kind != CG_TEMPLATE_FIELD_DATA || field->is_date)
				continue;
			g_assert_cmpuint(field->rule->max_length, >, 0);
			for (guint s = 0; s < G_N_ELEMENTS(scripts); s++) {
				g_autofree char *text =
				    sample(scripts[s][1], field->rule->max_length);
				g_autofree char *problem = cg_text_fit_check(field, text);
				g_autoptr(PangoLayout) layout =
				    cg_text_fit_layout_new(context, field);
				CgTextFit fit;

				pango_layout_set_text(layout, text, -1);
				cg_text_fit_layout(layout, field, &fit);
				g_test_message("%s %s, %s, %u characters: %g pt, %u lines, "
					       "%.1f x %.1f pt, %.1f below",
					       ids[t], field->key, scripts[s][0],
					       field->rule->max_length, fit.size, fit.n_lines,
					       fit.width, fit.height, fit.depth);
				if (problem != NULL) {
					g_test_message("  %s", problem);
					n_problems++;
				}
			}
		}
	}
	/* every one is listed above */
	g_assert_cmpuint(n_problems, ==, 0);
}

static const CgTestCase cases[] = {
    {"/text-fit/full-size", test_fit_full_size, NULL},
    {"/text-fit/shrinks-one-line", test_fit_shrinks_one_line, NULL},
    {"/text-fit/wraps", test_fit_wraps, NULL},
    {"/text-fit/height", test_fit_height, NULL},
    {"/text-fit/cannot-fit", test_fit_cannot, NULL},
    {"/text-fit/compose", test_fit_compose, NULL},
    {"/text-fit/shipped-templates", test_fit_shipped_templates, NULL},
};

CG_TEST_MAIN(cases)

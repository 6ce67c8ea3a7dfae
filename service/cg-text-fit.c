/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-text-fit.h"

#include <math.h>
#include <pango/pangocairo.h>

/* @points in pango units, clamped to what an int holds with room to spare:
 * the template bounds every length (cg-template.c), but a width divided by
 * a scale is not bounded by the template alone, and converting a double out
 * of an int's range is undefined. */
static int
cg_text_fit_units(double points)
{
	const double limit = G_MAXINT / 2;
	double units = points * PANGO_SCALE;

	if (!(units > -limit)) /* also NaN */
		return (int)-limit;
	if (units > limit)
		return (int)limit;
	return (int)units;
}

PangoContext *
cg_text_fit_context_new(void)
{
	PangoContext *context = pango_font_map_create_context(pango_cairo_font_map_get_default());
	cairo_font_options_t *options = cairo_font_options_create();

	/* Device-independent metrics: a PDF is scaled by whoever shows it, and
	 * the same text must give the same layout on every surface (and
	 * fitting relies on metrics that scale linearly). */
	cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(context, options);
	cairo_font_options_destroy(options);
	pango_context_set_round_glyph_positions(context, FALSE);
	pango_context_set_base_dir(context, PANGO_DIRECTION_LTR);
	/* Not the locale's: the output must not depend on the environment. */
	pango_context_set_language(context, pango_language_from_string("en"));
	return context;
}

PangoLayout *
cg_text_fit_layout_new(PangoContext *context, const CgTemplateField *field)
{
	PangoLayout *layout = pango_layout_new(context);
	PangoFontDescription *desc = pango_font_description_new();

	pango_font_description_set_family(desc, field->font);
	pango_font_description_set_weight(desc, (PangoWeight)field->weight);
	pango_font_description_set_style(desc,
					 field->italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
	pango_font_description_set_absolute_size(desc, field->size * PANGO_SCALE);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);

	/* The template's alignment holds for right-to-left text too; bidi
	 * still orders the characters inside the line. */
	pango_layout_set_auto_dir(layout, FALSE);
	if (field->letter_spacing != 0) {
		PangoAttrList *attrs = pango_attr_list_new();

		pango_attr_list_insert(
		    attrs, pango_attr_letter_spacing_new(cg_text_fit_units(field->letter_spacing)));
		pango_layout_set_attributes(layout, attrs);
		pango_attr_list_unref(attrs);
	}
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_NONE);
	pango_layout_set_height(layout, -1); /* lines are counted here, not by pango */
	switch (field->align) {
	case CG_TEMPLATE_ALIGN_LEFT:
		pango_layout_set_alignment(layout, PANGO_ALIGN_LEFT);
		break;
	case CG_TEMPLATE_ALIGN_CENTER:
		pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
		break;
	case CG_TEMPLATE_ALIGN_RIGHT:
		pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT);
		break;
	}
	return layout;
}

void
cg_text_fit_compose(GString *out, const CgTemplateField *field, const char *value)
{
	g_string_assign(out, field->prefix);
	g_string_append(out, value);
	g_string_append(out, field->suffix);
	if (field->max_lines == 1) {
		for (gsize i = 0; i < out->len; i++) {
			if (out->str[i] == '\n' || out->str[i] == '\r' || out->str[i] == '\t')
				out->str[i] = ' ';
		}
	}
}

/* Lays @layout out for @size and measures it into @result; TRUE if the
 * text fits the box at that size. */
static gboolean
cg_text_fit_probe(PangoLayout *layout, const CgTemplateField *field, double size, CgTextFit *result)
{
	double scale = size / field->size;
	/* a pango unit of rounding, scaled */
	double slack = 1.0 / PANGO_SCALE;
	PangoRectangle logical;
	int widest = 0;

	pango_layout_set_width(layout, cg_text_fit_units(field->max_width / scale));
	for (GSList *l = pango_layout_get_lines_readonly(layout); l != NULL; l = l->next) {
		pango_layout_line_get_extents(l->data, NULL, &logical);
		widest = MAX(widest, logical.width);
	}
	pango_layout_get_extents(layout, NULL, &logical);

	result->size = size;
	result->scale = scale;
	result->n_lines = (guint)pango_layout_get_line_count(layout);
	result->width = (double)widest / PANGO_SCALE * scale;
	result->height = (double)logical.height / PANGO_SCALE * scale;
	result->depth = (double)(logical.y + logical.height - pango_layout_get_baseline(layout)) /
			PANGO_SCALE * scale;
	result->fits = (field->max_lines == 0 || result->n_lines <= field->max_lines) &&
		       result->width <= field->max_width + slack &&
		       (field->max_depth <= 0 || result->depth <= field->max_depth + slack);
	return result->fits;
}

/* The largest multiple of CG_TEXT_FIT_STEP at most @size. */
static double
cg_text_fit_step_down(double size)
{
	return floor(size / CG_TEXT_FIT_STEP) * CG_TEXT_FIT_STEP;
}

void
cg_text_fit_layout(PangoLayout *layout, const CgTemplateField *field, CgTextFit *result)
{
	double lo, hi;
	double min_size = MIN(field->min_size, field->size);

	g_return_if_fail(PANGO_IS_LAYOUT(layout));
	g_return_if_fail(field != NULL && result != NULL);

	/* most texts fit at their full size: one layout */
	if (cg_text_fit_probe(layout, field, field->size, result))
		return;
	if (!cg_text_fit_probe(layout, field, min_size, result))
		return;
	lo = min_size; /* fits */
	hi = field->size;

	/* On one line the width is linear in the size: the size at which the
	 * unbroken text is as wide as the box is the answer, to a step. */
	if (field->max_lines == 1) {
		PangoRectangle logical;
		double guess;

		pango_layout_set_width(layout, -1);
		pango_layout_get_extents(layout, NULL, &logical);
		guess = logical.width > 0 ? cg_text_fit_step_down(field->size * field->max_width *
								  PANGO_SCALE / logical.width)
					  : lo;
		if (guess > lo && guess < hi) {
			if (cg_text_fit_probe(layout, field, guess, result)) {
				lo = guess;
				hi = MIN(hi, guess + CG_TEXT_FIT_STEP);
			} else {
				hi = guess;
			}
		}
	}

	/* the largest step that fits, assuming that what fits at one size
	 * fits at every smaller one; whatever is chosen is measured */
	while (hi - lo > CG_TEXT_FIT_STEP) {
		double mid = cg_text_fit_step_down((lo + hi) / 2);

		if (mid <= lo)
			break;
		if (cg_text_fit_probe(layout, field, mid, result))
			lo = mid;
		else
			hi = mid;
	}
	if (result->size != lo || !result->fits)
		cg_text_fit_probe(layout, field, lo, result);
}

/* This thread's context for validation; freed when the thread ends. */
static GPrivate check_context = G_PRIVATE_INIT(g_object_unref);

char *
cg_text_fit_check(const CgTemplateField *field, const char *text)
{
	PangoContext *context = g_private_get(&check_context);
	g_autoptr(PangoLayout) layout = NULL;
	CgTextFit fit;

	g_return_val_if_fail(field != NULL && text != NULL, NULL);

	if (context == NULL) {
		context = cg_text_fit_context_new();
		g_private_set(&check_context, context);
	}
	layout = cg_text_fit_layout_new(context, field);
	pango_layout_set_text(layout, text, -1);
	cg_text_fit_layout(layout, field, &fit);
	if (fit.fits)
		return NULL;
	if (field->max_lines > 0 && fit.n_lines > field->max_lines)
		return g_strdup_printf("does not fit in %u line%s at %g pt", field->max_lines,
				       field->max_lines == 1 ? "" : "s", fit.size);
	if (fit.width > field->max_width)
		return g_strdup_printf("does not fit in a width of %g pt at %g pt",
				       field->max_width, fit.size);
	return g_strdup_printf("does not fit in %g pt below its first line at %g pt",
			       field->max_depth, fit.size);
}

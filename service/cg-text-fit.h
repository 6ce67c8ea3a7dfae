/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pango/pango.h>

#include "cg-template.h"

G_BEGIN_DECLS

/*
 * Text fitting: the one place that decides at what size a field's text is
 * drawn, for the renderer (cg-render.c) and for data validation (which
 * rejects, before any page is drawn, what cannot fit).
 *
 * A text field's box is its maxWidth, its maxLines (0: no limit) and its
 * maxDepth (0: no limit): how far below its first baseline (y, which stays
 * where the template puts it) the lines may reach, descent included. The text fits at size S when,
 * wrapped at word boundaries (or between characters where a word is wider than the box,
 * PANGO_WRAP_WORD_CHAR) at maxWidth, it takes at most maxLines lines, no line
 * is wider than the box and the last line ends at most maxDepth below y.
 * Nothing is ever ellipsized. The size chosen is the largest from size down
 * to minSize, to a CG_TEXT_FIT_STEP, at which the text fits.
 *
 * Fitting never shapes the text at another size: unhinted metrics scale
 * linearly, so the layout stays at the field's size and is laid out at a
 * width of maxWidth * size / S, then drawn scaled by S / size (letter
 * spacing scales with the text).
 */

/* the precision of the size chosen, in points */
#define CG_TEXT_FIT_STEP 0.125

typedef struct {
	gboolean fits; /* FALSE: not even at min_size (the layout is left at min_size) */
	double size;   /* the size chosen; min_size when it does not fit */
	double scale;  /* size / the field's size: how much to scale the drawing */
	guint n_lines; /* lines at that size */
	double width;  /* of the widest line, in points at that size */
	double height; /* of all lines, in points at that size */
	double depth;  /* how far the lines reach below the first baseline */
} CgTextFit;

/* A context with device-independent metrics (no hinting, unrounded glyph
 * positions, LTR base direction, language "en"): a PDF is scaled by whoever
 * shows it, and the same text must give the same layout everywhere. Pango's
 * font maps are per thread: use it in the thread that made it. */
PangoContext *cg_text_fit_context_new(void);

/* A layout for @field at its full size, with its font, letter spacing and
 * alignment; no text. */
PangoLayout *cg_text_fit_layout_new(PangoContext *context, const CgTemplateField *field);

/* prefix + value + suffix into @out; in a field of one line (maxLines 1)
 * line breaks and tabs become spaces. */
void cg_text_fit_compose(GString *out, const CgTemplateField *field, const char *value);

/* Fits the text of @layout (made by cg_text_fit_layout_new() for @field) into
 * @field's box, and leaves @layout laid out at the size chosen (see above).
 * The result depends only on the field and the text. */
void cg_text_fit_layout(PangoLayout *layout, const CgTemplateField *field, CgTextFit *result);

/* For data validation: fits @text (already composed) in @field's box with a
 * layout of this thread's own context (made once per thread). NULL when it
 * fits, else what is wrong, for a problem list: "does not fit in 2 lines at
 * 14 pt" (g_free()). Thread-safe. */
char *cg_text_fit_check(const CgTemplateField *field, const char *text);

G_END_DECLS

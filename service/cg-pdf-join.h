/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/*
 * Joining PDFs in memory into one. Parts of the plain shape cairo writes
 * (every range of a batch) are joined by cg-pdf-concat.h, which copies
 * their objects renumbered into object streams with a cross-reference
 * stream: the same pages, fonts and title as below, at about a tenth of
 * qpdf's cost. Any other part makes the whole join go through qpdf's library
 * (qpdf-c.h): the
 * pages of every part in order, copied with what they use (fonts, images,
 * form XObjects: each once per part, as qpdf copies a part's shared objects
 * once; identical objects of different parts are NOT merged, so each part
 * keeps its own font subsets). The first part's document catalog and
 * information dictionary are kept, its /Title replaced when a title is
 * given. Streams are copied as they are (no decoding, no recompression);
 * the objects go into object streams with a cross-reference stream, and the
 * /ID is computed from the content: the same parts give the same bytes.
 */

/* Writes the join of @n_parts PDFs (@parts, at least one) through
 * @write/@closure, in one call. @title (UTF-8, may be NULL) becomes the
 * document's /Title. Fails (CG_ERROR_FAILED, with qpdf's message) when a
 * part is not a PDF qpdf can read, or with the write function's failure
 * (CG_ERROR_FAILED); nothing is written then. */
gboolean cg_pdf_join(GBytes *const *parts, guint n_parts, const char *title,
		     cairo_write_func_t write, void *closure, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Joining (and cutting into pages) PDFs of the plain shape cairo writes (cg-pdf-join.h's fast path,
 * issue 12): one classic cross-reference table, generation-0 objects, a
 * catalog with nothing but /Pages, one flat page tree. The objects of every
 * part are copied as they are, renumbered (part after part, in object
 * number order) with their references rewritten; stream data is copied
 * byte for byte (no parsing of what is inside a stream). The output gets
 * a new catalog, one page tree whose kids are every part's pages in order,
 * the first part's information dictionary with @title as its /Title (when
 * given), a classic cross-reference table (or, with
 * CG_PDF_CONCAT_OBJECT_STREAMS, object streams and a cross-reference
 * stream) and an /ID that is the MD5 of the parts: the same parts give the
 * same bytes. Each part keeps its own
 * fonts, as with qpdf. It costs about one copy of the bytes, where qpdf
 * parses and rewrites every object (0.27 s of CPU for a 1,000-page batch,
 * more than half of what rendering it costs).
 *
 * A part of another shape (object streams, an xref stream, incremental
 * updates, a catalog with more than /Pages, a nested page tree, a stream
 * whose /Length does not end at endstream) is not joined here:
 * cg_pdf_concat() returns NULL without an error and the caller uses qpdf.
 */

typedef enum {
	CG_PDF_CONCAT_NONE = 0,
	/* the output's objects other than streams in compressed object
	 * streams, its cross-reference table a stream (PDF 1.5): a batch's
	 * pages, annotations and resources cost a few bytes each instead of
	 * a plain table's 20 bytes and their text. cg_pdf_concat() does not
	 * read such an output again (qpdf does); without the flag its output
	 * is of the shape above. */
	CG_PDF_CONCAT_OBJECT_STREAMS = 1 << 0,
	/* an object of the same bytes as one written already (the ranges'
	 * background form and its resources, a font subset the same in two
	 * ranges) written once: what refers to it refers to that one. Not
	 * pages, annotations, nor what has a /Parent or /P. */
	CG_PDF_CONCAT_SHARE = 1 << 1,
} CgPdfConcatFlags;

/* The joined PDF of @n_parts parts (at least one), or NULL when a part is
 * not of the shape above. @title (UTF-8) may be NULL. */
GByteArray *cg_pdf_concat(GBytes *const *parts, guint n_parts, const char *title,
			  CgPdfConcatFlags flags);

/* The other way (issue 12, the ZIP batch): @pdf, of the shape above, cut
 * into one PDF per page (a GPtrArray of GBytes, in page order), page i
 * titled @titles[i] (NULL: the part's title kept). Each holds its page and
 * what the page refers to (its contents, its links, the fonts and forms
 * of its resources: those of the whole @pdf, so a font subset has the
 * glyphs of every page of @pdf), with @pdf's information dictionary and
 * an /ID from the page's content. NULL when @pdf is not of the shape or
 * has not @n_titles pages. */
GPtrArray *cg_pdf_split(GBytes *pdf, const char *const *titles, guint n_titles);

G_END_DECLS

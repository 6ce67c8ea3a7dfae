/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * An underlay: the page of a one-page PDF that cairo wrote (a template's
 * background), kept as the objects of a form XObject, ready to be painted
 * under the page of another one-page PDF of cairo's without drawing it
 * again. A single certificate drawn by cairo costs about twice as much
 * with its background as without: cairo writes the background's paths
 * with printf() and deflates them in every PDF. With an underlay the
 * background is written once per template and each certificate's PDF gets
 * its bytes as they are.
 */
typedef struct _CgPdfUnderlay CgPdfUnderlay;

/* The page of @pdf, a one-page PDF with a classic cross-reference table
 * as cairo writes them, as an underlay; NULL and @error if @pdf is not of
 * that shape. */
CgPdfUnderlay *cg_pdf_underlay_new(const guint8 *pdf, gsize length, GError **error);
/* Read-only once made, so a reference may be used by any thread. */
CgPdfUnderlay *cg_pdf_underlay_ref(CgPdfUnderlay *underlay);
void cg_pdf_underlay_unref(CgPdfUnderlay *underlay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPdfUnderlay, cg_pdf_underlay_unref)

/* Appends to @out the one-page PDF @pdf (of the same shape) with
 * @underlay painted under its page's content: the page's /Contents becomes
 * an array whose first stream paints the underlay's form, its resources
 * name that form /cgbg, and the underlay's objects follow cairo's, with a
 * new cross-reference table. The same inputs give the same bytes. FALSE
 * and @error (nothing appended) if @pdf is not of that shape. */
gboolean cg_pdf_underlay_apply(const CgPdfUnderlay *underlay, const guint8 *pdf, gsize length,
			       GByteArray *out, GError **error);

/* For a PDF written by certgen's own writer (cg-pdf-page.c): the number
 * of objects cg_pdf_underlay_write() appends, the form first. */
guint cg_pdf_underlay_get_n_objects(const CgPdfUnderlay *underlay);
/* Appends to @out the underlay's form XObject and the objects it reaches
 * as objects @base, @base + 1, ... (the form is @base), and stores where
 * each starts in @out in @offsets (cg_pdf_underlay_get_n_objects() of
 * them). A page that names the form in its resources paints the
 * background with "Do" in its initial graphics state. */
void cg_pdf_underlay_write(const CgPdfUnderlay *underlay, guint base, GByteArray *out,
			   gsize *offsets);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-data.h"
#include "cg-template.h"

G_BEGIN_DECLS

/*
 * Previews (RenderPreview): one page of a generation as PNG, drawn by the
 * same renderer as the PDF (cg_render_page(): the same fonts, layout and QR
 * code) on a cairo image surface at CG_PREVIEW_DPI, marked as a preview: the
 * certificate number reads CG_PREVIEW_NUMBER (no number is reserved, the
 * counter is not touched) and a diagonal "PREVIEW" watermark crosses the
 * page. The PNG is written to a sealed memfd (no file in any directory).
 */

#define CG_PREVIEW_DPI 96
#define CG_PREVIEW_NUMBER "PREVIEW"

/* The pixel size of a preview of a page of @width_pt × @height_pt points. */
void cg_preview_get_size(double width_pt, double height_pt, int *width_px, int *height_px);

/* Page @page (1-based: recipient @page of @data) of @tmpl as PNG, in a
 * read-only sealed memory file positioned at its start. Fails with
 * CG_ERROR_INVALID_ARGUMENT when @page is 0 or past the last recipient
 * (the message names the page and the count), CG_ERROR_FAILED otherwise. */
int cg_preview_render(CgTemplate *tmpl, const CgData *data, guint page, GError **error);

G_END_DECLS

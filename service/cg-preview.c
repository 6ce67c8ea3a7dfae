/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memfd_create() and the file seals */
#define _GNU_SOURCE
#include "config.h"

#include "cg-preview.h"

#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cg-error.h"
#include "cg-render.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_t, cairo_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_surface_t, cairo_surface_destroy)

void
cg_preview_get_size(double width_pt, double height_pt, int *width_px, int *height_px)
{
	*width_px = (int)ceil(width_pt * CG_PREVIEW_DPI / 72.0);
	*height_px = (int)ceil(height_pt * CG_PREVIEW_DPI / 72.0);
}

/* Diagonal, translucent, across the whole page (bottom left to top right),
 * so no part of the page can pass for an issued certificate. */
static void
cg_preview_draw_mark(cairo_t *cr, double width, double height)
{
	g_autoptr(PangoLayout) layout = pango_cairo_create_layout(cr);
	g_autoptr(PangoFontDescription) font = pango_font_description_from_string("Sans Bold");
	double diagonal = sqrt(width * width + height * height);
	PangoRectangle logical;
	double scale;

	pango_font_description_set_absolute_size(font, 100 * PANGO_SCALE);
	pango_layout_set_font_description(layout, font);
	pango_layout_set_text(layout, CG_PREVIEW_NUMBER, -1);
	pango_layout_get_extents(layout, NULL, &logical);
	/* two thirds of the diagonal */
	scale = diagonal * 2 / 3 / ((double)logical.width / PANGO_SCALE);

	cairo_save(cr);
	cairo_translate(cr, width / 2, height / 2);
	cairo_rotate(cr, -atan2(height, width));
	cairo_scale(cr, scale, scale);
	cairo_move_to(cr,
		      -(double)logical.width / PANGO_SCALE / 2 - (double)logical.x / PANGO_SCALE,
		      -(double)logical.height / PANGO_SCALE / 2 - (double)logical.y / PANGO_SCALE);
	cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.3);
	pango_cairo_show_layout(cr, layout);
	cairo_restore(cr);
}

static cairo_status_t
cg_preview_write(void *closure, const unsigned char *data, unsigned int length)
{
	int fd = GPOINTER_TO_INT(closure);

	while (length > 0) {
		ssize_t n = write(fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return CAIRO_STATUS_WRITE_ERROR;
		data += n;
		length -= (unsigned int)n;
	}
	return CAIRO_STATUS_SUCCESS;
}

static gboolean
cg_preview_fail_errno(const char *what, GError **error)
{
	int saved_errno = errno;

	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the preview (%s): %s", what,
		    g_strerror(saved_errno));
	return FALSE;
}

/* @surface as PNG into the memfd @fd, sealed. */
static gboolean
cg_preview_write_png(cairo_surface_t *surface, int fd, GError **error)
{
	cairo_status_t status;

	status = cairo_surface_write_to_png_stream(surface, cg_preview_write, GINT_TO_POINTER(fd));
	if (status != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot write the preview: %s",
			    cairo_status_to_string(status));
		return FALSE;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return cg_preview_fail_errno("lseek", error);
	/* the receiver gets exactly these bytes */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		return cg_preview_fail_errno("seal", error);
	return TRUE;
}

static int
cg_preview_to_memfd(cairo_surface_t *surface, GError **error)
{
	int fd = memfd_create("certgen-preview", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		cg_preview_fail_errno("memfd_create", error);
		return -1;
	}
	if (!cg_preview_write_png(surface, fd, error)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
cg_preview_render(CgTemplate *tmpl, const CgData *data, guint page, GError **error)
{
	guint n_pages = cg_data_get_n_recipients(data);
	g_autoptr(cairo_surface_t) surface = NULL;
	g_autoptr(cairo_t) cr = NULL;
	double width, height;
	int width_px, height_px;

	g_return_val_if_fail(tmpl != NULL, -1);
	g_return_val_if_fail(data != NULL, -1);
	g_return_val_if_fail(error == NULL || *error == NULL, -1);

	if (page == 0 || page > n_pages) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "page: %u is out of range, the data has %u page%s (1–%u)", page,
			    n_pages, n_pages == 1 ? "" : "s", n_pages);
		return -1;
	}
	cg_template_get_page_size(tmpl, &width, &height);
	cg_preview_get_size(width, height, &width_px, &height_px);
	surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width_px, height_px);
	cr = cairo_create(surface);
	/* a page without a background image is white paper, not black */
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, CG_PREVIEW_DPI / 72.0, CG_PREVIEW_DPI / 72.0);
	if (!cg_render_page(tmpl, data, page - 1, CG_PREVIEW_NUMBER, cr, error))
		return -1;
	cg_preview_draw_mark(cr, width, height);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot draw the preview: %s",
			    cairo_status_to_string(cairo_status(cr)));
		return -1;
	}
	g_clear_pointer(&cr, cairo_destroy);
	cairo_surface_flush(surface);
	return cg_preview_to_memfd(surface, error);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/*
 * QR codes as vectors: @text encoded by libqrencode (error correction level
 * M, 8-bit mode) and drawn as vector squares: one rectangle per horizontal
 * run of dark modules (a line of the module's width), all in one path drawn
 * at once, on a square of @background with a quiet zone of @quiet_zone
 * modules on each side. The square's top-left corner is (@x, @y) and its
 * side @size, quiet zone included; the code is centred in it.
 */

gboolean cg_qr_draw(cairo_t *cr, const char *text, double x, double y, double size,
		    guint quiet_zone, const double color[3], const double background[3],
		    GError **error);

G_END_DECLS

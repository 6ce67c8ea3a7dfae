/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether certgend's update (a{sv}) has a terminal status. */
gboolean cg_http_update_is_terminal(GVariant *update);
/* Its sequence (0 without one). */
guint64 cg_http_update_get_sequence(GVariant *update);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The one check of every string the service stores, echoes or shows
 * (transaction_id, template_id, progress_id, option keys and strings, a
 * template's title, description and labels): valid UTF-8 without C0
 * (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F) control characters,
 * which would reach terminals and logs raw. Else CG_ERROR_INVALID_ARGUMENT
 * "NAME: contains a control character (U+001B)". */
gboolean cg_check_string_argument(const char *name, const char *value, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-tracker.h"

G_BEGIN_DECLS

/* Parse StartGeneration's a{sv} options strictly: an unknown key, a wrong
 * type or an out-of-range value is CG_ERROR_INVALID_ARGUMENT naming the key.
 * *owner_label gets the "owner_label" option (NULL when absent). */
gboolean cg_options_parse(GVariant *options, CgGenerationOptions *out, char **owner_label,
			  GError **error);

/* The one check of every string argument the service stores or echoes
 * (transaction_id, template_id, progress_id, option keys and strings):
 * valid UTF-8 without C0 (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F)
 * control characters, which would reach terminals and logs raw. Else
 * CG_ERROR_INVALID_ARGUMENT "NAME: contains a control character (U+001B)". */
gboolean cg_check_string_argument(const char *name, const char *value, GError **error);

/* Whether @label is acceptable as an owner label: 1–64 bytes of UTF-8 without
 * control characters. */
gboolean cg_owner_label_is_valid(const char *label);

G_END_DECLS

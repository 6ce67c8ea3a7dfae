/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-check.h"
#include "cg-tracker.h"

G_BEGIN_DECLS

/* Parse StartGeneration's a{sv} options strictly: an unknown key, a wrong
 * type or an out-of-range value is CG_ERROR_INVALID_ARGUMENT naming the key.
 * *owner_label gets the "owner_label" option (NULL when absent). */
gboolean cg_options_parse(GVariant *options, CgGenerationOptions *out, char **owner_label,
			  GError **error);

/* Whether @label is acceptable as an owner label: 1–64 bytes of UTF-8 without
 * control characters. */
gboolean cg_owner_label_is_valid(const char *label);

G_END_DECLS

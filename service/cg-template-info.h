/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-template.h"

G_BEGIN_DECLS

/*
 * What ListTemplates says of a template (the contract's entry): "id",
 * "title", "description", "width_pt", "height_pt" and "fields", one a{sv}
 * per data field in layout order with "name", "label", "required", "type"
 * ("string" or "date"), "min_length", "max_length" (characters, 0 = no
 * limit; both 0 for dates, which lengths do not apply to) and "shared". Built from
 * a loaded template alone: nothing here reads a file.
 */

/* Floating a{sv}. */
GVariant *cg_template_info_new(const CgTemplate *tmpl);
/* Floating aa{sv} of @templates (CgTemplate*), in their order. */
GVariant *cg_template_info_new_list(const GPtrArray *templates);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a template's data field may be called, once for the template loader
 * and for the clients that name fields (CSV headers, --set): a letter, then
 * letters, digits or '_', at most CG_FIELD_NAME_MAX bytes. A batch's list
 * is CG_FIELD_RECIPIENTS, which no field may be called. */
#define CG_FIELD_NAME_MAX 64
#define CG_FIELD_RECIPIENTS "recipients"

gboolean cg_field_name_is_valid(const char *name);

G_END_DECLS

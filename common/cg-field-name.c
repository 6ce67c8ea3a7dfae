/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-field-name.h"

gboolean
cg_field_name_is_valid(const char *name)
{
	gsize i;

	g_return_val_if_fail(name != NULL, FALSE);

	if (!g_ascii_isalpha(name[0]))
		return FALSE;
	for (i = 1; name[i] != '\0'; i++) {
		if (i >= CG_FIELD_NAME_MAX)
			return FALSE;
		if (!(g_ascii_isalnum(name[i]) || name[i] == '_'))
			return FALSE;
	}
	return TRUE;
}

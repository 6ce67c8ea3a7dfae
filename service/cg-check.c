/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-check.h"

#include "cg-error.h"

gboolean
cg_check_string_argument(const char *name, const char *value, GError **error)
{
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(value != NULL, FALSE);

	if (!g_utf8_validate(value, -1, NULL)) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT, "%s: not valid UTF-8",
			    name);
		return FALSE;
	}
	for (const char *p = value; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* C0, DEL and C1: what a terminal or a log viewer would act on */
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "%s: contains a control character (U+%04X)", name, c);
			return FALSE;
		}
	}
	return TRUE;
}

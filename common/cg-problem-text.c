/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-problem-text.h"

#include <string.h>

#define CG_PROBLEM_TEXT_MORE "… and "

gboolean
cg_problem_text_path(const char *text, gsize *path_len)
{
	const char *colon;

	g_return_val_if_fail(text != NULL && path_len != NULL, FALSE);

	colon = strstr(text, ": ");
	if (colon == NULL || colon == text)
		return FALSE;
	for (const char *p = text; p < colon; p++)
		if (*p == ' ' || *p == ';')
			return FALSE;
	*path_len = (gsize)(colon - text);
	return TRUE;
}

const char *
cg_problem_text_end(const char *what, const char **next)
{
	gsize path_len;

	g_return_val_if_fail(what != NULL && next != NULL, NULL);

	*next = NULL;
	for (const char *p = strstr(what, "; "); p != NULL; p = strstr(p + 2, "; ")) {
		if (g_str_has_prefix(p + 2, CG_PROBLEM_TEXT_MORE))
			return p;
		if (cg_problem_text_path(p + 2, &path_len)) {
			*next = p + 2;
			return p;
		}
	}
	return what + strlen(what);
}

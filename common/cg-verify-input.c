/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-verify-input.h"

#include <string.h>

static gboolean
is_number_char(char c)
{
	return g_ascii_isalnum(c) || c == '-';
}

static gboolean
is_code_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* Whether the first @len bytes of @s are @min-@max characters of @accept. */
static gboolean
span_is(const char *s, gsize len, gsize min, gsize max, gboolean (*accept)(char))
{
	if (len < min || len > max)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!accept(s[i]))
			return FALSE;
	return TRUE;
}

gboolean
cg_certificate_number_is_valid(const char *number)
{
	return number != NULL && span_is(number, strnlen(number, CG_CERTIFICATE_NUMBER_MAX + 1), 1,
					 CG_CERTIFICATE_NUMBER_MAX, is_number_char);
}

gboolean
cg_verification_code_is_valid(const char *code)
{
	return code != NULL &&
	       span_is(code, strnlen(code, CG_VERIFICATION_CODE_MAX + 1), CG_VERIFICATION_CODE_MIN,
		       CG_VERIFICATION_CODE_MAX, is_code_char);
}

gboolean
cg_verification_url_parse(const char *url, char **number, char **code)
{
	const char *rest, *query, *slash;

	g_return_val_if_fail(number != NULL && code != NULL, FALSE);
	if (url == NULL || strlen(url) > 2048)
		return FALSE;
	if (g_str_has_prefix(url, "https://"))
		rest = url + strlen("https://");
	else if (g_str_has_prefix(url, "http://"))
		rest = url + strlen("http://");
	else
		return FALSE;
	/* printable ASCII only: no space, no control, no escape of any kind */
	for (const char *p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '%' || *p == '#' || *p == '\\')
			return FALSE;
	query = strchr(rest, '?');
	if (query == NULL || !g_str_has_prefix(query, "?c="))
		return FALSE;
	slash = g_strrstr_len(rest, query - rest, "/");
	/* a host before the path; a number after its last '/' */
	if (slash == NULL || rest[0] == '/')
		return FALSE;
	if (!span_is(slash + 1, (gsize)(query - slash - 1), 1, CG_CERTIFICATE_NUMBER_MAX,
		     is_number_char))
		return FALSE;
	if (!cg_verification_code_is_valid(query + strlen("?c=")))
		return FALSE;
	*number = g_strndup(slash + 1, (gsize)(query - slash - 1));
	*code = g_strdup(query + strlen("?c="));
	return TRUE;
}

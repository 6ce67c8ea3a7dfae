/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-verification.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "cg-error.h"

#define CG_VERIFICATION_RANDOM_BYTES 17 /* 136 bits, 130 of them used */

static gboolean
cg_verification_random(guint8 *buffer, gsize length, GError **error)
{
	gsize got = 0;

	while (got < length) {
		ssize_t n = getrandom(buffer + got, length - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved_errno = errno;

			g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
				    "Cannot get random bytes for a verification code: %s",
				    g_strerror(saved_errno));
			return FALSE;
		}
		got += (gsize)n;
	}
	return TRUE;
}

char *
cg_verification_code_new(GError **error)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	guint8 bytes[CG_VERIFICATION_RANDOM_BYTES];
	char *code;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!cg_verification_random(bytes, sizeof(bytes), error))
		return NULL;
	code = g_malloc(CG_VERIFICATION_CODE_LENGTH + 1);
	/* 5 bits per character, most significant first */
	for (guint i = 0; i < CG_VERIFICATION_CODE_LENGTH; i++) {
		guint bit = i * 5;
		guint value = ((guint)bytes[bit / 8] << 8 | bytes[bit / 8 + 1]) >> (11 - bit % 8);

		code[i] = alphabet[value & 31];
	}
	code[CG_VERIFICATION_CODE_LENGTH] = '\0';
	explicit_bzero(bytes, sizeof(bytes));
	return code;
}

char *
cg_verification_code_hash(const char *code)
{
	g_return_val_if_fail(code != NULL, NULL);

	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, code, -1);
}

gboolean
cg_verification_code_matches(const char *code, const char *expected_hash)
{
	g_autofree char *hash = NULL;
	guint8 diff = 0;
	gsize length;

	g_return_val_if_fail(code != NULL, FALSE);
	g_return_val_if_fail(expected_hash != NULL, FALSE);

	hash = cg_verification_code_hash(code);
	length = strlen(hash);
	if (strlen(expected_hash) != length)
		return FALSE;
	for (gsize i = 0; i < length; i++)
		diff |= (guint8)(hash[i] ^ expected_hash[i]);
	return diff == 0;
}

char *
cg_verification_url(const char *base_url, const char *number, const char *code)
{
	g_return_val_if_fail(base_url != NULL, NULL);
	g_return_val_if_fail(number != NULL, NULL);
	g_return_val_if_fail(code != NULL, NULL);

	return g_strdup_printf("%s/%s?c=%s", base_url, number, code);
}

gboolean
cg_verification_check_base_url(const char *base_url, GError **error)
{
	const char *host;
	gsize length;

	g_return_val_if_fail(base_url != NULL, FALSE);

	length = strlen(base_url);
	if (g_str_has_prefix(base_url, "https://"))
		host = base_url + strlen("https://");
	else if (g_str_has_prefix(base_url, "http://"))
		host = base_url + strlen("http://");
	else
		host = NULL;
	if (host == NULL || host[0] == '\0' || host[0] == '/' ||
	    length > CG_VERIFICATION_BASE_URL_MAX || base_url[length - 1] == '/') {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "base_url must be an http:// or https:// URL with a host, at most %d "
			    "bytes, without a trailing '/'",
			    CG_VERIFICATION_BASE_URL_MAX);
		return FALSE;
	}
	for (const char *p = base_url; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~' || strchr("'\"\\?#<>`{}|^", *p) != NULL) {
			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "base_url: character 0x%02x at byte %u is not allowed",
				    (guint)(guchar)*p, (guint)(p - base_url));
			return FALSE;
		}
	}
	return TRUE;
}

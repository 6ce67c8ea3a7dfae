/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "cg-error.h"
#include "cg-verification.h"
#include "cg-test-util.h"

/* 26 base32 characters, different every time. */
static void
test_verification_code(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint counts[256] = {0};

	for (guint i = 0; i < 2000; i++) {
		g_autoptr(GError) error = NULL;
		char *code = cg_verification_code_new(&error);

		g_assert_no_error(error);
		g_assert_cmpuint(strlen(code), ==, CG_VERIFICATION_CODE_LENGTH);
		for (const char *p = code; *p != '\0'; p++) {
			g_assert_true((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'));
			counts[(guchar)*p]++;
		}
		g_assert_false(g_hash_table_contains(seen, code));
		g_hash_table_add(seen, code);
	}
	/* all 32 symbols turn up, in every position's mix (52,000 draws) */
	for (const char *p = "abcdefghijklmnopqrstuvwxyz234567"; *p != '\0'; p++)
		g_assert_cmpuint(counts[(guchar)*p], >, 1000);
}

static void
test_verification_hash(void)
{
	g_autofree char *hash = cg_verification_code_hash("abc");

	g_assert_cmpstr(hash, ==,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	g_assert_true(cg_verification_code_matches("abc", hash));
	g_assert_false(cg_verification_code_matches("abd", hash));
	g_assert_false(cg_verification_code_matches("abc", "ba78"));
	g_assert_false(cg_verification_code_matches("", hash));
}

static void
test_verification_url(void)
{
	g_autofree char *url = cg_verification_url("https://example.org/verify", "CERT2026000042",
						   "abcdefghijklmnopqrstuvwxyz");

	g_assert_cmpstr(url, ==,
			"https://example.org/verify/CERT2026000042?c=abcdefghijklmnopqrstuvwxyz");
}

static void
test_verification_base_url(void)
{
	const char *good[] = {"http://localhost:8080/verify", "https://certs.example.org",
			      "https://example.org/a/b-c_d.e~f"};
	const char *bad[] = {"",
			     "ftp://x",
			     "http://",
			     "http:///path",
			     "https://x/",
			     "http://x y",
			     "http://x'y",
			     "http://x\"y",
			     "http://x?a=b",
			     "http://x#f",
			     "http://x\\y",
			     "http://\xc3\xa9",
			     "javascript:alert(1)",
			     "http://x\n"};

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_true(cg_verification_check_base_url(good[i], &error));
		g_assert_no_error(error);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(cg_verification_check_base_url(bad[i], &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autofree char *host = cg_test_repeat("a", CG_VERIFICATION_BASE_URL_MAX);
		g_autofree char *base = g_strdup_printf("https://%s", host);
		g_autoptr(GError) error = NULL;

		g_assert_false(cg_verification_check_base_url(base, &error));
	}
}

static const CgTestCase cases[] = {
    {"/verification/code", test_verification_code, NULL},
    {"/verification/hash", test_verification_hash, NULL},
    {"/verification/url", test_verification_url, NULL},
    {"/verification/base-url", test_verification_base_url, NULL},
};

CG_TEST_MAIN(cases)

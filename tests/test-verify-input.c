/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the verification inputs (common/cg-verify-input.c). */
#include "cg-test-util.h"
#include "cg-verify-input.h"

static void
test_verification_number(void)
{
	g_autofree char *long_number = cg_test_repeat("1", CG_CERTIFICATE_NUMBER_MAX + 1);

	g_assert_true(cg_certificate_number_is_valid("CERT2026000042"));
	g_assert_true(cg_certificate_number_is_valid("A-1"));
	g_assert_true(cg_certificate_number_is_valid(long_number + 1));
	g_assert_false(cg_certificate_number_is_valid(long_number));
	g_assert_false(cg_certificate_number_is_valid(""));
	g_assert_false(cg_certificate_number_is_valid(NULL));
	g_assert_false(cg_certificate_number_is_valid("../etc/passwd"));
	g_assert_false(cg_certificate_number_is_valid("CERT 1"));
	g_assert_false(cg_certificate_number_is_valid("CERT\n1"));
	g_assert_false(cg_certificate_number_is_valid("CERT1%2F"));
	g_assert_false(cg_certificate_number_is_valid("CÉRT1"));
}

static void
test_verification_code(void)
{
	g_autofree char *long_code = cg_test_repeat("a", CG_VERIFICATION_CODE_MAX + 1);

	g_assert_true(cg_verification_code_is_valid("abcdefghijklmnop"));
	g_assert_true(cg_verification_code_is_valid("ABC-def_0123456789"));
	g_assert_true(cg_verification_code_is_valid(long_code + 1));
	g_assert_false(cg_verification_code_is_valid(long_code));
	g_assert_false(cg_verification_code_is_valid("abcdefghijklmno"));
	g_assert_false(cg_verification_code_is_valid("abcdefghijklmnop="));
	g_assert_false(cg_verification_code_is_valid("abcdefgh/jklmnop"));
	g_assert_false(cg_verification_code_is_valid(NULL));
}

static void
test_verification_url(void)
{
	static const struct {
		const char *url;
		const char *number; /* NULL: refused */
		const char *code;
	} cases[] = {
	    {"http://localhost:8080/verify/CERT2026000001?c=abcdefghijklmnop", "CERT2026000001",
	     "abcdefghijklmnop"},
	    {"https://certs.example.org/a/b/verify/N-1?c=abcdefghijklmnopq2", "N-1",
	     "abcdefghijklmnopq2"},
	    {"https://h/N1?c=abcdefghijklmnop", "N1", "abcdefghijklmnop"},
	    {"ftp://h/verify/N1?c=abcdefghijklmnop", NULL, NULL},
	    {"http:///N1?c=abcdefghijklmnop", NULL, NULL},
	    {"http://h/verify/N1", NULL, NULL},
	    {"http://h/verify/?c=abcdefghijklmnop", NULL, NULL},
	    {"http://h/verify/N1?c=short", NULL, NULL},
	    {"http://h/verify/N1?c=abcdefghijklmnop&x=1", NULL, NULL},
	    {"http://h/verify/N1?x=1&c=abcdefghijklmnop", NULL, NULL},
	    {"http://h/verify/N1?c=abcdefghijklmnop#f", NULL, NULL},
	    {"http://h/verify/N%31?c=abcdefghijklmnop", NULL, NULL},
	    {"http://h/verify/N.1?c=abcdefghijklmnop", NULL, NULL},
	    {"http://h/verify/N1?c=abcdefghijkl mnop", NULL, NULL},
	    {"http://h/verify/N1?c=abcdefghijklmnop\n", NULL, NULL},
	    {"http://h/verify/N1?c=abcdéfghijklmnop", NULL, NULL},
	    {"http://h/verify/N1?c=abcdefghijklmnop?c=abcdefghijklmnop", NULL, NULL},
	    {"", NULL, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *number = NULL, *code = NULL;
		gboolean ok = cg_verification_url_parse(cases[i].url, &number, &code);

		g_test_message("%s", cases[i].url);
		g_assert_cmpint(ok, ==, cases[i].number != NULL);
		g_assert_cmpstr(number, ==, cases[i].number);
		g_assert_cmpstr(code, ==, cases[i].code);
	}
}

static const CgTestCase cases[] = {
    {"/verify-input/number", test_verification_number},
    {"/verify-input/code", test_verification_code},
    {"/verify-input/url", test_verification_url},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the allowed-origin list (cg-http-cors.c); the headers and
 * preflight answers are covered by tests/http/test_http.py. */
#include "cg-http-cors.h"
#include "cg-test-util.h"

static void
test_origin_allowed(void)
{
	const char *const allow[] = {"http://a.example", "https://b.example:8443", NULL};

	g_assert_true(cg_http_cors_origin_is_allowed(allow, "http://a.example"));
	g_assert_true(cg_http_cors_origin_is_allowed(allow, "https://b.example:8443"));
	g_assert_false(cg_http_cors_origin_is_allowed(allow, "http://a.example:80"));
	g_assert_false(cg_http_cors_origin_is_allowed(allow, "https://a.example"));
	g_assert_false(cg_http_cors_origin_is_allowed(allow, "null"));
	g_assert_false(cg_http_cors_origin_is_allowed(allow, NULL));
	g_assert_false(cg_http_cors_origin_is_allowed(NULL, "http://a.example"));
}

static const CgTestCase cases[] = {
    {"/http/cors/origin-allowed", test_origin_allowed},
};

CG_TEST_MAIN(cases)

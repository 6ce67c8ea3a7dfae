/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of which web files are served and as what (cg-http-static.c). */
#include "cg-http-static.h"
#include "cg-test-util.h"

static void
test_content_type(void)
{
	g_assert_cmpstr(cg_http_static_content_type("index.html"), ==, "text/html; charset=utf-8");
	g_assert_cmpstr(cg_http_static_content_type("certificate-progress.js"), ==,
			"text/javascript; charset=utf-8");
	g_assert_cmpstr(cg_http_static_content_type("a.mjs"), ==, "text/javascript; charset=utf-8");
	g_assert_cmpstr(cg_http_static_content_type("style.css"), ==, "text/css; charset=utf-8");
	g_assert_cmpstr(cg_http_static_content_type("logo.svg"), ==, "image/svg+xml");
	g_assert_cmpstr(cg_http_static_content_type("favicon.ico"), ==, "image/x-icon");
	g_assert_null(cg_http_static_content_type("index.htm"));
	g_assert_null(cg_http_static_content_type("binary"));
	g_assert_null(cg_http_static_content_type("a.html.bak"));
}

static void
test_names(void)
{
	static const char *const good[] = {"index.html", "certificate-progress.js", "a_b.css",
					   "x.y.json"};
	static const char *const bad[] = {
	    ".hidden.html", "../etc/passwd.txt", "dir/a.html", "a\\b.html", "%2e%2e.html",
	    "a b.html",	    "a\xc3\xa9.html",	 "noext",      "a.sh",
	};
	g_autoptr(GString) long_name = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
		g_assert_true(cg_http_static_name_is_valid(good[i]));
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(cg_http_static_name_is_valid(bad[i]));
	while (long_name->len < 124)
		g_string_append_c(long_name, 'a');
	g_string_append(long_name, ".txt");
	g_assert_true(cg_http_static_name_is_valid(long_name->str));
	g_string_prepend_c(long_name, 'a');
	g_assert_false(cg_http_static_name_is_valid(long_name->str));
}

static const CgTestCase cases[] = {
    {"/http/static/content-type", test_content_type},
    {"/http/static/names", test_names},
};

CG_TEST_MAIN(cases)

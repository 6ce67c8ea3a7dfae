/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the bridge's settings (cg-http-config.c): the documented
 * defaults, deep copies. */
#include "cg-http-config.h"
#include "cg-test-util.h"

static void
test_defaults(void)
{
	CgHttpConfig config;

	cg_http_config_init(&config);
	/* DESIGN.md: 10 SSE connections and 5 generation requests per minute */
	g_assert_cmpuint(config.streams_per_minute, ==, 10);
	g_assert_cmpuint(config.starts_per_minute, ==, 5);
	g_assert_cmpuint(config.previews_per_minute, ==, 10);
	/* the SSE "retry: 2000" */
	g_assert_cmpuint(config.retry_ms, ==, 2000);
	g_assert_cmpuint(config.max_body_bytes, ==, 1024 * 1024);
	g_assert_null(config.web_root);
	g_assert_null(config.allow_origins);
	cg_http_config_clear(&config);
	cg_http_config_clear(&config);
}

static void
test_copy(void)
{
	CgHttpConfig config, copy;
	const char *const origins[] = {"http://a.example", NULL};

	cg_http_config_init(&config);
	config.web_root = g_strdup("/srv/web");
	config.allow_origins = g_strdupv((char **)origins);
	config.max_streams = 7;
	cg_http_config_copy(&copy, &config);
	cg_http_config_clear(&config);
	g_assert_cmpstr(copy.web_root, ==, "/srv/web");
	g_assert_true(g_strv_equal((const char *const *)copy.allow_origins, origins));
	g_assert_cmpuint(copy.max_streams, ==, 7);
	cg_http_config_clear(&copy);
}

static const CgTestCase cases[] = {
    {"/http/config/defaults", test_defaults},
    {"/http/config/copy", test_copy},
};

CG_TEST_MAIN(cases)

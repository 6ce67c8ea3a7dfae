/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the rate limiter and the stream caps (cg-http-limits.c). */
#include "cg-http-limits.h"

static void
test_rate_limiter(void)
{
	g_autoptr(CgHttpRateLimiter) limiter = cg_http_rate_limiter_new(3, 60 * G_USEC_PER_SEC);
	gint64 t0 = 1000 * G_USEC_PER_SEC;
	guint retry = 0;

	g_assert_true(cg_http_rate_limiter_try(limiter, "alice", t0, &retry));
	g_assert_true(cg_http_rate_limiter_try(limiter, "alice", t0 + 10 * G_USEC_PER_SEC, &retry));
	g_assert_true(cg_http_rate_limiter_try(limiter, "alice", t0 + 20 * G_USEC_PER_SEC, &retry));
	g_assert_false(
	    cg_http_rate_limiter_try(limiter, "alice", t0 + 30 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(retry, ==, 30);
	g_assert_true(cg_http_rate_limiter_try(limiter, "bob", t0 + 30 * G_USEC_PER_SEC, &retry));
	/* the first event leaves the window after 60 s */
	g_assert_false(
	    cg_http_rate_limiter_try(limiter, "alice", t0 + 59 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(retry, ==, 1);
	g_assert_true(cg_http_rate_limiter_try(limiter, "alice", t0 + 60 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(cg_http_rate_limiter_prune(limiter, t0 + 200 * G_USEC_PER_SEC), ==, 0);
}

static void
test_stream_caps(void)
{
	g_autoptr(CgHttpStreamCaps) caps = cg_http_stream_caps_new(3, 2);

	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "alice"), ==, CG_HTTP_CAP_OK);
	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "alice"), ==, CG_HTTP_CAP_OK);
	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "alice"), ==, CG_HTTP_CAP_USER_FULL);
	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "bob"), ==, CG_HTTP_CAP_OK);
	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "carol"), ==, CG_HTTP_CAP_GLOBAL_FULL);
	g_assert_cmpuint(cg_http_stream_caps_get_total(caps), ==, 3);
	cg_http_stream_caps_release(caps, "alice");
	g_assert_cmpuint(cg_http_stream_caps_get_user(caps, "alice"), ==, 1);
	g_assert_cmpint(cg_http_stream_caps_acquire(caps, "carol"), ==, CG_HTTP_CAP_OK);
	cg_http_stream_caps_release(caps, "alice");
	cg_http_stream_caps_release(caps, "bob");
	cg_http_stream_caps_release(caps, "carol");
	g_assert_cmpuint(cg_http_stream_caps_get_total(caps), ==, 0);
	g_assert_cmpuint(cg_http_stream_caps_get_user(caps, "alice"), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http/limits/rate", test_rate_limiter);
	g_test_add_func("/http/limits/streams", test_stream_caps);
	return g_test_run();
}

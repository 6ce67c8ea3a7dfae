/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the bridge's limits (cg-http-limits.c): Retry-After from the
 * common rate limiter, and the stream caps. */
#include "cg-http-limits.h"
#include "cg-test-util.h"

/* The bridge's per-user limits are the service's CgRateLimit; what the
 * bridge adds is the Retry-After in whole seconds, at least 1. */
static gboolean
try_rate(CgRateLimit *limiter, const char *key, gint64 now, guint *retry)
{
	gint64 wait_us = 0;

	if (cg_rate_limit_try(limiter, key, now, &wait_us))
		return TRUE;
	*retry = cg_http_retry_after_s(wait_us);
	return FALSE;
}

static void
test_rate_limiter(void)
{
	g_autoptr(CgRateLimit) limiter = cg_rate_limit_new(3, 60 * G_USEC_PER_SEC);
	gint64 t0 = 1000 * G_USEC_PER_SEC;
	guint retry = 0;

	g_assert_true(try_rate(limiter, "alice", t0, &retry));
	g_assert_true(try_rate(limiter, "alice", t0 + 10 * G_USEC_PER_SEC, &retry));
	g_assert_true(try_rate(limiter, "alice", t0 + 20 * G_USEC_PER_SEC, &retry));
	g_assert_false(try_rate(limiter, "alice", t0 + 30 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(retry, ==, 30);
	g_assert_true(try_rate(limiter, "bob", t0 + 30 * G_USEC_PER_SEC, &retry));
	/* the first event leaves the window after 60 s */
	g_assert_false(try_rate(limiter, "alice", t0 + 59 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(retry, ==, 1);
	g_assert_true(try_rate(limiter, "alice", t0 + 60 * G_USEC_PER_SEC, &retry));
	cg_rate_limit_prune(limiter, t0 + 200 * G_USEC_PER_SEC);
	g_assert_cmpuint(cg_rate_limit_count(limiter), ==, 0);
	/* a fraction of a second still waits a whole one */
	g_assert_cmpuint(cg_http_retry_after_s(1), ==, 1);
	g_assert_cmpuint(cg_http_retry_after_s(0), ==, 1);
	g_assert_cmpuint(cg_http_retry_after_s(G_USEC_PER_SEC + 1), ==, 2);
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

static const CgTestCase cases[] = {
    {"/http/limits/rate", test_rate_limiter},
    {"/http/limits/streams", test_stream_caps},
};

CG_TEST_MAIN(cases)

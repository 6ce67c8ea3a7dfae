/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-rate-limit.h"
#include "cg-test-util.h"

#define WINDOW (60 * G_USEC_PER_SEC)
#define T0 (1000 * G_USEC_PER_SEC)

static void
test_limit(void)
{
	g_autoptr(CgRateLimit) rl = cg_rate_limit_new(2, WINDOW);
	gint64 wait = 0;

	g_assert_true(cg_rate_limit_check(rl, "1000", T0, NULL));
	cg_rate_limit_add(rl, "1000", T0);
	g_assert_true(cg_rate_limit_check(rl, "1000", T0 + 10, NULL));
	cg_rate_limit_add(rl, "1000", T0 + 10);
	g_assert_false(cg_rate_limit_check(rl, "1000", T0 + 20, &wait));
	g_assert_cmpint(wait, ==, WINDOW - 20);
	/* another key has its own allowance */
	g_assert_true(cg_rate_limit_check(rl, "0:web-alice", T0 + 20, NULL));
	/* sliding: the first start leaves the window */
	g_assert_true(cg_rate_limit_check(rl, "1000", T0 + WINDOW, NULL));
	/* a check records nothing */
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 1);
}

static void
test_zero_limit(void)
{
	g_autoptr(CgRateLimit) rl = cg_rate_limit_new(0, WINDOW);
	gint64 wait = 0;

	g_assert_false(cg_rate_limit_check(rl, "1000", T0, &wait));
	g_assert_cmpint(wait, ==, WINDOW);
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 0);
}

/* Issue 15 item 11: one record per distinct owner (label) forever. Now a
 * key goes once its last start left the window: by the timer's prune, or
 * by the sweep a check runs at most once per window. */
static void
test_pruned(void)
{
	g_autoptr(CgRateLimit) rl = cg_rate_limit_new(5, WINDOW);

	g_assert_cmpint(cg_rate_limit_next_expiry(rl), ==, G_MAXINT64);
	for (guint i = 0; i < 1000; i++) {
		g_autofree char *key = g_strdup_printf("0:label-%u", i);

		g_assert_true(cg_rate_limit_check(rl, key, T0 + i, NULL));
		cg_rate_limit_add(rl, key, T0 + i);
	}
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 1000);
	g_assert_cmpint(cg_rate_limit_next_expiry(rl), ==, T0 + WINDOW);

	/* nothing expired yet */
	g_assert_cmpuint(cg_rate_limit_prune(rl, T0 + WINDOW - 1), ==, 0);
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 1000);
	/* half of them */
	g_assert_cmpuint(cg_rate_limit_prune(rl, T0 + WINDOW + 499), ==, 500);
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 500);
	g_assert_cmpint(cg_rate_limit_next_expiry(rl), ==, T0 + WINDOW + 500);
	/* all of them */
	g_assert_cmpuint(cg_rate_limit_prune(rl, T0 + 2 * WINDOW), ==, 500);
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 0);
	g_assert_cmpint(cg_rate_limit_next_expiry(rl), ==, G_MAXINT64);
}

/* Without the timer, checks alone keep the table to the keys of about the
 * last two windows, never one per key ever seen. */
static void
test_pruned_on_check(void)
{
	g_autoptr(CgRateLimit) rl = cg_rate_limit_new(5, WINDOW);
	gint64 now = T0;

	for (guint i = 0; i < 10000; i++, now += G_USEC_PER_SEC) {
		g_autofree char *key = g_strdup_printf("0:label-%u", i);

		g_assert_true(cg_rate_limit_check(rl, key, now, NULL));
		cg_rate_limit_add(rl, key, now);
		g_assert_cmpuint(cg_rate_limit_count(rl), <=, 2 * 60 + 1);
	}
	/* the key of the check itself goes too when its window is over */
	g_assert_true(cg_rate_limit_check(rl, "0:label-9999", now + WINDOW, NULL));
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 0);
}

/* An event taken back frees its place at once; only that one goes. */
static void
test_remove(void)
{
	g_autoptr(CgRateLimit) rl = cg_rate_limit_new(2, 60 * G_USEC_PER_SEC);

	g_assert_true(cg_rate_limit_try(rl, "alice", 1000, NULL));
	g_assert_true(cg_rate_limit_try(rl, "alice", 2000, NULL));
	g_assert_false(cg_rate_limit_check(rl, "alice", 3000, NULL));
	cg_rate_limit_remove(rl, "alice", 2000);
	g_assert_true(cg_rate_limit_check(rl, "alice", 3000, NULL));
	/* unknown times and keys change nothing */
	cg_rate_limit_remove(rl, "alice", 42);
	cg_rate_limit_remove(rl, "bob", 1000);
	g_assert_true(cg_rate_limit_try(rl, "alice", 3000, NULL));
	g_assert_false(cg_rate_limit_check(rl, "alice", 4000, NULL));
	/* a key whose last event is taken back is forgotten */
	cg_rate_limit_remove(rl, "alice", 1000);
	cg_rate_limit_remove(rl, "alice", 3000);
	g_assert_cmpuint(cg_rate_limit_count(rl), ==, 0);
}

static const CgTestCase cases[] = {
    {"/rate-limit/limit", test_limit},	 {"/rate-limit/zero-limit", test_zero_limit},
    {"/rate-limit/pruned", test_pruned}, {"/rate-limit/pruned-on-check", test_pruned_on_check},
    {"/rate-limit/remove", test_remove},
};

CG_TEST_MAIN(cases)

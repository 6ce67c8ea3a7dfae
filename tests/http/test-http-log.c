/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of cg_http_debug() (cg-http-log.h): nothing is formatted
 * (its arguments are not even evaluated) while debug messages are off, and
 * the message goes out as g_debug()'s once they are on. */
#include "cg-http-log.h"
#include "cg-test-util.h"

static guint n_evaluated;

static const char *
argument(void)
{
	n_evaluated++;
	return "value";
}

static void
test_off_formats_nothing(void)
{
	n_evaluated = 0;
	g_log_set_debug_enabled(FALSE);
	cg_http_debug("a message with %s", argument());
	g_assert_cmpuint(n_evaluated, ==, 0);
}

static void
test_on_logs(void)
{
	if (g_test_subprocess()) {
		g_log_set_debug_enabled(TRUE);
		cg_http_debug("a message with %s", argument());
		g_assert_cmpuint(n_evaluated, ==, 1);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*a message with value*");
}

static const CgTestCase cases[] = {
    {"/http/log/off-formats-nothing", test_off_formats_nothing},
    {"/http/log/on-logs", test_on_logs},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* certgenctl's helpers: how text from the bus is made fit for a terminal
 * (issue 15 item 6; certgenctl(1), ESCAPING). */
#include <glib.h>

#include "cg-ctl-util.h"
#include "cg-test-util.h"

static void
test_escape(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {"", ""},
	    {"tx-1", "tx-1"},
	    {"tx-ü-✓-日本", "tx-ü-✓-日本"},
	    {"back\\slash", "back\\slash"},
	    {"\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"},
	    {"a\tb\nc\rd", "a\\x09b\\x0ac\\x0dd"},
	    {"del\x7f", "del\\x7f"},
	    {"\x01", "\\x01"},
	    {"csi\xc2\x9b"
	     "31m",
	     "csi\\u{9b}31m"},
	    {"nel\xc2\x85", "nel\\u{85}"},
	    /* U+00A0 and U+00C2 are not controls */
	    {"nbsp\xc2\xa0 \xc3\x82", "nbsp\xc2\xa0 \xc3\x82"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *escaped = cg_escape_control(cases[i].in);

		g_assert_cmpstr(escaped, ==, cases[i].out);
		g_assert_cmpint(cg_has_control(cases[i].in), ==,
				g_strcmp0(cases[i].in, cases[i].out) != 0);
		free(escaped);
	}
}

static void
test_pool(void)
{
	CgStrings pool = {0};
	const char *plain = "plain";
	const char *hostile = "\x1b[31mred";
	const char *safe;

	/* no copy when nothing needs escaping */
	g_assert_true(cg_strings_safe(&pool, plain) == plain);
	g_assert_cmpuint(pool.n, ==, 0);
	safe = cg_strings_safe(&pool, hostile);
	g_assert_cmpstr(safe, ==, "\\x1b[31mred");
	g_assert_cmpuint(pool.n, ==, 1);
	cg_strings_done(&pool);
	g_assert_cmpuint(pool.n, ==, 0);
	g_assert_null(pool.items);
}

static const CgTestCase cases[] = {
    {"/ctl-util/escape", test_escape},
    {"/ctl-util/pool", test_pool},
};

CG_TEST_MAIN(cases)

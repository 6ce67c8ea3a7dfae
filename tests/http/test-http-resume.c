/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the resume rules (cg-http-resume.c). */
#include "cg-http-error.h"
#include "cg-http-resume.h"
#include "cg-test-util.h"

static void
test_parse_id(void)
{
	static const struct {
		const char *text;
		gboolean ok;
		guint64 value;
	} cases[] = {
	    {"0", TRUE, 0},
	    {"7", TRUE, 7},
	    {"  42", TRUE, 42},
	    {"007", TRUE, 7},
	    {"18446744073709551615", TRUE, G_MAXUINT64},
	    {"18446744073709551616", FALSE, 0},
	    {"000000000000000000001", FALSE, 0},
	    {"", FALSE, 0},
	    {"   ", FALSE, 0},
	    {"-1", FALSE, 0},
	    {"+1", FALSE, 0},
	    {"1 ", FALSE, 0},
	    {"0x10", FALSE, 0},
	    {"1e3", FALSE, 0},
	    {"not-a-number", FALSE, 0},
	};
	guint64 value = 99;

	g_assert_false(cg_http_resume_parse_id(NULL, &value));
	g_assert_cmpuint(value, ==, 99);
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		value = 99;
		g_assert_cmpint(cg_http_resume_parse_id(cases[i].text, &value), ==, cases[i].ok);
		g_assert_cmpuint(value, ==, cases[i].ok ? cases[i].value : 99);
	}
}

static void
test_parse_query(void)
{
	guint64 value = 0;

	g_assert_true(cg_http_resume_parse_query("lastEventId=12", &value));
	g_assert_cmpuint(value, ==, 12);
	g_assert_true(cg_http_resume_parse_query("a=b&lastEventId=%2034", &value));
	g_assert_cmpuint(value, ==, 34);
	g_assert_false(cg_http_resume_parse_query(NULL, &value));
	g_assert_false(cg_http_resume_parse_query("", &value));
	g_assert_false(cg_http_resume_parse_query("lastEventId", &value));
	g_assert_false(cg_http_resume_parse_query("lastEventId=x", &value));
	g_assert_false(cg_http_resume_parse_query("lasteventid=3", &value));
}

static void
test_plan(void)
{
	/* no resume, or one after an event that never existed: from the start */
	g_assert_cmpint(cg_http_resume_plan(FALSE, 0, 5, FALSE), ==, CG_HTTP_RESUME_FROM_START);
	g_assert_cmpint(cg_http_resume_plan(FALSE, 5, 5, TRUE), ==, CG_HTTP_RESUME_FROM_START);
	g_assert_cmpint(cg_http_resume_plan(TRUE, 6, 5, FALSE), ==, CG_HTTP_RESUME_FROM_START);
	g_assert_cmpint(cg_http_resume_plan(TRUE, 6, 5, TRUE), ==, CG_HTTP_RESUME_FROM_START);
	g_assert_cmpint(cg_http_resume_plan(TRUE, G_MAXUINT64, 5, TRUE), ==,
			CG_HTTP_RESUME_FROM_START);
	/* a real resume */
	g_assert_cmpint(cg_http_resume_plan(TRUE, 0, 5, FALSE), ==, CG_HTTP_RESUME_AFTER);
	g_assert_cmpint(cg_http_resume_plan(TRUE, 4, 5, TRUE), ==, CG_HTTP_RESUME_AFTER);
	g_assert_cmpint(cg_http_resume_plan(TRUE, 5, 5, FALSE), ==, CG_HTTP_RESUME_AFTER);
	/* the client has the terminal event */
	g_assert_cmpint(cg_http_resume_plan(TRUE, 5, 5, TRUE), ==, CG_HTTP_RESUME_UP_TO_DATE);
}

#define S G_USEC_PER_SEC

static void
test_table(void)
{
	g_autoptr(CgHttpResumeTable) table = cg_http_resume_table_new(2, 100, 60 * S);

	/* nothing sent: no resume is genuine */
	g_assert_false(cg_http_resume_table_check(table, "alice", "p1", 0, 0));
	cg_http_resume_table_note(table, "alice", "p1", 3, 0);
	cg_http_resume_table_note(table, "alice", "p1", 5, 1 * S);
	cg_http_resume_table_note(table, "alice", "p1", 4, 2 * S); /* never goes down */
	g_assert_true(cg_http_resume_table_check(table, "alice", "p1", 0, 3 * S));
	g_assert_true(cg_http_resume_table_check(table, "alice", "p1", 5, 3 * S));
	g_assert_false(cg_http_resume_table_check(table, "alice", "p1", 6, 3 * S));
	/* per user and per id */
	g_assert_false(cg_http_resume_table_check(table, "bob", "p1", 0, 3 * S));
	g_assert_false(cg_http_resume_table_check(table, "alice", "p2", 0, 3 * S));
	/* expiry counts from the last event sent */
	g_assert_true(cg_http_resume_table_check(table, "alice", "p1", 5, 61 * S));
	g_assert_false(cg_http_resume_table_check(table, "alice", "p1", 5, 62 * S));
	/* an expired entry starts over */
	cg_http_resume_table_note(table, "alice", "p1", 1, 63 * S);
	g_assert_false(cg_http_resume_table_check(table, "alice", "p1", 5, 63 * S));
	g_assert_true(cg_http_resume_table_check(table, "alice", "p1", 1, 63 * S));
	/* at most 2 ids per user: the least recently sent goes */
	cg_http_resume_table_note(table, "alice", "p2", 1, 64 * S);
	cg_http_resume_table_note(table, "alice", "p1", 2, 65 * S);
	cg_http_resume_table_note(table, "alice", "p3", 1, 66 * S);
	g_assert_cmpuint(cg_http_resume_table_get_user_size(table, "alice"), ==, 2);
	g_assert_true(cg_http_resume_table_check(table, "alice", "p1", 2, 66 * S));
	g_assert_false(cg_http_resume_table_check(table, "alice", "p2", 1, 66 * S));
	g_assert_true(cg_http_resume_table_check(table, "alice", "p3", 1, 66 * S));
	cg_http_resume_table_note(table, "bob", "p9", 1, 66 * S);
	g_assert_cmpuint(cg_http_resume_table_get_size(table), ==, 3);
	/* pruning */
	g_assert_cmpuint(cg_http_resume_table_prune(table, 125 * S), ==, 2);
	g_assert_cmpuint(cg_http_resume_table_prune(table, 126 * S), ==, 0);
	g_assert_cmpuint(cg_http_resume_table_get_user_size(table, "alice"), ==, 0);
}

static void
test_table_full(void)
{
	g_autoptr(CgHttpResumeTable) table = cg_http_resume_table_new(2, 3, 60 * S);

	cg_http_resume_table_note(table, "alice", "p1", 1, 0);
	cg_http_resume_table_note(table, "alice", "p2", 1, 1 * S);
	cg_http_resume_table_note(table, "bob", "p3", 1, 2 * S);
	/* full: carol is not remembered, bob's own oldest gives way */
	cg_http_resume_table_note(table, "carol", "p4", 1, 3 * S);
	g_assert_false(cg_http_resume_table_check(table, "carol", "p4", 1, 3 * S));
	cg_http_resume_table_note(table, "bob", "p5", 1, 4 * S);
	g_assert_false(cg_http_resume_table_check(table, "bob", "p3", 1, 4 * S));
	g_assert_true(cg_http_resume_table_check(table, "bob", "p5", 1, 4 * S));
	g_assert_cmpuint(cg_http_resume_table_get_size(table), ==, 3);
	/* expired entries make room */
	cg_http_resume_table_note(table, "carol", "p4", 1, 61 * S);
	g_assert_true(cg_http_resume_table_check(table, "carol", "p4", 1, 61 * S));
	g_assert_cmpuint(cg_http_resume_table_get_size(table), ==, 2);
}

static const CgTestCase cases[] = {
    {"/http/resume/parse-id", test_parse_id},
    {"/http/resume/parse-query", test_parse_query},
    {"/http/resume/plan", test_plan},
    {"/http/resume/table", test_table},
    {"/http/resume/table-full", test_table_full},
};

CG_TEST_MAIN(cases)

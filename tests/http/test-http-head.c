/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the strict request-head parser (cg-http-head.c). */
#include "cg-http-head.h"
#include "cg-test-util.h"

static CgHttpHeadResult
parse(const char *text, CgHttpHead *head)
{
	return cg_http_head_parse(text, strlen(text), head);
}

static void
test_complete(void)
{
	static const char text[] = "GET /api/certificates/progress/abc?x=1 HTTP/1.1\r\n"
				   "Host: 127.0.0.1:8080\r\n"
				   "Authorization:  Bearer t0k3n \t\r\n"
				   "Last-Event-ID: 12\r\n"
				   "\r\n"
				   "pipelined";
	CgHttpHead head = {0};

	g_assert_cmpint(parse(text, &head), ==, CG_HTTP_HEAD_COMPLETE);
	g_assert_cmpstr(head.method, ==, "GET");
	g_assert_cmpstr(head.path, ==, "/api/certificates/progress/abc");
	g_assert_cmpstr(head.query, ==, "x=1");
	g_assert_cmpint(head.version, ==, SOUP_HTTP_1_1);
	g_assert_cmpuint(head.length, ==, strlen(text) - strlen("pipelined"));
	g_assert_cmpstr(soup_message_headers_get_one(head.headers, "authorization"), ==,
			"Bearer t0k3n");
	g_assert_cmpstr(soup_message_headers_get_one(head.headers, "Last-Event-ID"), ==, "12");
	cg_http_head_clear(&head);

	/* HTTP/1.0 needs no Host; bare LF line ends are taken */
	g_assert_cmpint(parse("GET /x HTTP/1.0\n\n", &head), ==, CG_HTTP_HEAD_COMPLETE);
	g_assert_cmpint(head.version, ==, SOUP_HTTP_1_0);
	g_assert_null(head.query);
	g_assert_cmpuint(head.length, ==, strlen("GET /x HTTP/1.0\n\n"));
	cg_http_head_clear(&head);
}

static void
test_incomplete(void)
{
	static const char text[] = "GET /api/x HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n";
	CgHttpHead head = {0};

	/* every proper prefix needs more, none is refused */
	for (gsize n = 0; n < strlen(text); n++) {
		g_assert_cmpint(cg_http_head_parse(text, n, &head), ==, CG_HTTP_HEAD_INCOMPLETE);
		g_assert_null(head.headers);
	}
	g_assert_cmpint(cg_http_head_parse_request_line(text, 5, &head), ==,
			CG_HTTP_HEAD_INCOMPLETE);
	g_assert_cmpint(cg_http_head_parse(text, strlen(text), &head), ==, CG_HTTP_HEAD_COMPLETE);
	cg_http_head_clear(&head);
}

static void
test_refused(void)
{
	static const struct {
		const char *text;
		guint status;
	} cases[] = {
	    {"GET  /x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {" GET /x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /x  HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /x HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
	    {"GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /x\r\nHost: h\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\rHost: h\r\n\r\n", 400},
	    {"GET /x HTTP/1.2\r\nHost: h\r\n\r\n", 505},
	    {"GET /x HTTP/2.0\r\nHost: h\r\n\r\n", 505},
	    {"GET /x HTTP/1.10\r\nHost: h\r\n\r\n", 400},
	    {"GET /x http/1.1\r\nHost: h\r\n\r\n", 400},
	    {"G(T /x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\n\r\n", 400}, /* no Host */
	    {"GET /x HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\n: y\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX: \xff\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nX: \xc3\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", 400},
	    {"GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	};
	CgHttpHead head = {0};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *shown = cg_test_printable(cases[i].text, -1, 200);

		g_test_message("case %zu: %s", i, shown);
		g_assert_cmpint(parse(cases[i].text, &head), ==, CG_HTTP_HEAD_INVALID);
		g_assert_cmpuint(head.status, ==, cases[i].status);
		g_assert_nonnull(head.reason);
		g_assert_null(head.headers);
		cg_http_head_clear(&head);
	}
	/* a NUL byte is a control character too */
	g_assert_cmpint(cg_http_head_parse("GET /x HTTP/1.1\r\nHost: \0\r\n\r\n", 27, &head), ==,
			CG_HTTP_HEAD_INVALID);
	cg_http_head_clear(&head);
	/* a control character refuses even an incomplete request line */
	g_assert_cmpint(cg_http_head_parse_request_line("GET /\x01", 6, &head), ==,
			CG_HTTP_HEAD_INVALID);
	cg_http_head_clear(&head);
	/* Content-Length: 0 is no body */
	g_assert_cmpint(parse("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &head), ==,
			CG_HTTP_HEAD_COMPLETE);
	cg_http_head_clear(&head);
}

static void
test_limits(void)
{
	g_autoptr(GString) text = g_string_new("GET /");
	CgHttpHead head = {0};

	/* a request line as long as the cap, without its end: 400 */
	while (text->len < CG_HTTP_HEAD_MAX_BYTES)
		g_string_append_c(text, 'a');
	g_assert_cmpint(cg_http_head_parse(text->str, text->len, &head), ==, CG_HTTP_HEAD_INVALID);
	g_assert_cmpuint(head.status, ==, 400);
	cg_http_head_clear(&head);

	/* fields past the cap: 431 */
	g_string_assign(text, "GET /x HTTP/1.1\r\nHost: h\r\nX-Big: ");
	while (text->len < CG_HTTP_HEAD_MAX_BYTES + 10)
		g_string_append_c(text, 'b');
	g_string_append(text, "\r\n\r\n");
	g_assert_cmpint(cg_http_head_parse(text->str, text->len, &head), ==, CG_HTTP_HEAD_INVALID);
	g_assert_cmpuint(head.status, ==, CG_HTTP_STATUS_HEADERS_TOO_LARGE);
	cg_http_head_clear(&head);

	/* exactly the most fields, then one more */
	g_string_assign(text, "GET /x HTTP/1.1\r\nHost: h\r\n");
	for (guint i = 1; i < CG_HTTP_HEAD_MAX_FIELDS; i++)
		g_string_append_printf(text, "X-%u: v\r\n", i);
	g_string_append(text, "\r\n");
	g_assert_cmpint(cg_http_head_parse(text->str, text->len, &head), ==, CG_HTTP_HEAD_COMPLETE);
	cg_http_head_clear(&head);
	g_string_insert(text, text->len - 2, "X-Last: v\r\n");
	g_assert_cmpint(cg_http_head_parse(text->str, text->len, &head), ==, CG_HTTP_HEAD_INVALID);
	g_assert_cmpuint(head.status, ==, CG_HTTP_STATUS_HEADERS_TOO_LARGE);
	cg_http_head_clear(&head);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http/head/complete", test_complete);
	g_test_add_func("/http/head/incomplete", test_incomplete);
	g_test_add_func("/http/head/refused", test_refused);
	g_test_add_func("/http/head/limits", test_limits);
	return g_test_run();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of WebSocket client message parsing (cg-http-ws.c). */
#include "cg-http-error.h"
#include "cg-http-ws.h"
#include "cg-test-util.h"

static void
test_ws_messages(void)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[\"cancel\"]",
	    "\"cancel\"",
	    "{}",
	    "{\"type\":\"ping\"}",
	    "{\"type\":1}",
	    "{\"type\":[\"cancel\"]}",
	    "{\"type\":\"cancel\"",
	    "{\"type\":\"\xff\"}",
	    "{\"tye\\ud800\":{\"a\":1}}",
	    "{\"type\":\"\\udfff\"",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_cmpint(cg_http_ws_parse_message(TRUE, bad[i], strlen(bad[i]), &error), ==,
				CG_HTTP_WS_REQUEST_INVALID);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST);
		/* sent back in a text frame */
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
	}
	{
		g_autoptr(GError) error = NULL;
		const char *cancel = "{\"type\":\"cancel\"}";

		g_assert_cmpint(cg_http_ws_parse_message(TRUE, cancel, strlen(cancel), &error), ==,
				CG_HTTP_WS_REQUEST_CANCEL);
		g_assert_no_error(error);
		g_assert_cmpint(cg_http_ws_parse_message(FALSE, cancel, strlen(cancel), &error), ==,
				CG_HTTP_WS_REQUEST_INVALID);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST);
	}
}

static const CgTestCase cases[] = {
    {"/http/ws/messages", test_ws_messages},
};

CG_TEST_MAIN(cases)

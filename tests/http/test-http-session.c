/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of request authentication (cg-http-session.c): the session
 * cookie and the Bearer header. */
#include "cg-http-error.h"
#include "cg-http-session.h"
#include "cg-test-util.h"

static void
test_cookie_value(void)
{
	const struct {
		const char *header;
		const char *value;
	} cases[] = {
	    {"certgen_session=abc", "abc"},
	    {"a=b; certgen_session=abc; c=d", "abc"},
	    {"a=b,certgen_session=abc", "abc"},
	    {"  certgen_session=abc  ", "abc"},
	    {"certgen_session=", ""},
	    {"certgen_session=first; certgen_session=second", "first"},
	    {"other_certgen_session=abc", NULL},
	    {"certgen_sessionx=abc", NULL},
	    {"certgen_session", NULL},
	    {"", NULL},
	    {NULL, NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *value = cg_http_session_cookie_value(cases[i].header);

		g_assert_cmpstr(value, ==, cases[i].value);
	}
}

static void
test_bearer(void)
{
	const struct {
		const char *header;
		const char *token;
	} cases[] = {
	    {"Bearer abc", "abc"},	  {"bearer abc", "abc"},
	    {"BEARER   abc", "abc"},	  {"Bearer ", ""},
	    {"Basic YWxpY2U6eA==", NULL}, {"Bearer", NULL},
	    {"Bearerabc", NULL},	  {"", NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		const char *token = cg_http_session_bearer_token(cases[i].header, &error);

		g_assert_cmpstr(token, ==, cases[i].token);
		if (cases[i].token == NULL)
			g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED);
		else
			g_assert_no_error(error);
	}
}

static const CgTestCase cases[] = {
    {"/http/session/cookie-value", test_cookie_value},
    {"/http/session/bearer", test_bearer},
};

CG_TEST_MAIN(cases)

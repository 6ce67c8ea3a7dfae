/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the bridge's error domain (cg-http-error.c): statuses, JSON
 * codes and the mapping of certgend's D-Bus errors. */
#include <gio/gio.h>

#include "cg-http-error.h"
#include "cg-test-util.h"

static void
test_error_mapping(void)
{
	const struct {
		const char *name;
		guint status;
		const char *code;
	} cases[] = {
	    {"org.certgen.Certificates1.Error.NotFound", 404, "not_found"},
	    {"org.certgen.Certificates1.Error.PermissionDenied", 403, "permission_denied"},
	    {"org.certgen.Certificates1.Error.InvalidArgument", 400, "invalid_argument"},
	    {"org.certgen.Certificates1.Error.InvalidData", 400, "invalid_data"},
	    {"org.certgen.Certificates1.Error.TemplateNotFound", 400, "template_not_found"},
	    {"org.certgen.Certificates1.Error.RateLimited", 429, "rate_limited"},
	    {"org.certgen.Certificates1.Error.LimitExceeded", 429, "limit_exceeded"},
	    {"org.certgen.Certificates1.Error.NotCancellable", 409, "not_cancellable"},
	    {"org.certgen.Certificates1.Error.AlreadyFinished", 409, "already_finished"},
	    {"org.certgen.Certificates1.Error.NotReady", 409, "not_ready"},
	    {"org.certgen.Certificates1.Error.AlreadyRevoked", 409, "already_revoked"},
	    {"org.certgen.Certificates1.Error.Failed", 500, "failed"},
	    {"org.certgen.Certificates1.Error.SomethingNew", 500, "failed"},
	    {"org.freedesktop.DBus.Error.ServiceUnknown", 503, "service_unavailable"},
	    {"org.freedesktop.DBus.Error.NameHasNoOwner", 503, "service_unavailable"},
	    {"org.freedesktop.DBus.Error.NoReply", 503, "service_unavailable"},
	    {"org.freedesktop.DBus.Error.AccessDenied", 500, "failed"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) remote =
		    g_dbus_error_new_for_dbus_error(cases[i].name, "try again in 17 s");
		guint retry = 0;
		g_autoptr(GError) error = cg_http_error_from_dbus(remote, &retry);

		g_assert_cmpuint(cg_http_error_status(error), ==, cases[i].status);
		g_assert_cmpstr(cg_http_error_code(error), ==, cases[i].code);
		g_assert_null(strstr(error->message, "GDBus.Error"));
		if (g_str_equal(cases[i].code, "rate_limited"))
			g_assert_cmpuint(retry, ==, 17);
		else if (cases[i].status == 503 || g_str_equal(cases[i].code, "limit_exceeded"))
			g_assert_cmpuint(retry, >, 0);
		else
			g_assert_cmpuint(retry, ==, 0);
	}
}

static void
test_error_local(void)
{
	g_autoptr(GError) closed = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED, "closed");
	g_autoptr(GError) mapped = cg_http_error_from_dbus(closed, NULL);
	g_autofree char *code =
	    cg_http_error_code_for_dbus_name("org.certgen.Certificates1.Error.TemplateNotFound");
	g_autofree char *other = cg_http_error_code_for_dbus_name("org.example.Error.Foo");

	g_assert_error(mapped, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE);
	g_assert_cmpuint(cg_http_error_status(mapped), ==, 503);
	g_assert_cmpstr(code, ==, "template_not_found");
	g_assert_cmpstr(other, ==, "failed");
	g_assert_cmpuint(cg_http_error_status(closed), ==, 500);
}

static const CgTestCase cases[] = {
    {"/http/error/dbus-mapping", test_error_mapping},
    {"/http/error/local", test_error_local},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of cg-error: every CgError code has its D-Bus error name under the
 * contract's prefix, GDBus maps the name back to the code, and anything else
 * is Failed. */
#include <gio/gio.h>

#include "cg-error.h"
#include "cg-test-util.h"

#define PREFIX "org.certgen.Certificates1.Error."

static const struct {
	CgError code;
	const char *name;
} names[] = {
    {CG_ERROR_NOT_FOUND, PREFIX "NotFound"},
    {CG_ERROR_PERMISSION_DENIED, PREFIX "PermissionDenied"},
    {CG_ERROR_INVALID_ARGUMENT, PREFIX "InvalidArgument"},
    {CG_ERROR_INVALID_DATA, PREFIX "InvalidData"},
    {CG_ERROR_TEMPLATE_NOT_FOUND, PREFIX "TemplateNotFound"},
    {CG_ERROR_RATE_LIMITED, PREFIX "RateLimited"},
    {CG_ERROR_LIMIT_EXCEEDED, PREFIX "LimitExceeded"},
    {CG_ERROR_NOT_CANCELLABLE, PREFIX "NotCancellable"},
    {CG_ERROR_ALREADY_FINISHED, PREFIX "AlreadyFinished"},
    {CG_ERROR_NOT_READY, PREFIX "NotReady"},
    {CG_ERROR_FAILED, PREFIX "Failed"},
    {CG_ERROR_CANCELLED, PREFIX "Cancelled"},
    {CG_ERROR_TIMED_OUT, PREFIX "TimedOut"},
    {CG_ERROR_ALREADY_REVOKED, PREFIX "AlreadyRevoked"},
};

/* Every code, once: the table above is complete. */
static void
test_every_code(void)
{
	g_assert_cmpint(G_N_ELEMENTS(names), ==, CG_ERROR_LAST);
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_cmpint(names[i].code, ==, i);
}

static void
test_to_dbus_name(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GError) error = g_error_new_literal(CG_ERROR, names[i].code, "x");

		g_assert_cmpstr(cg_error_to_dbus_name(error), ==, names[i].name);
		g_assert_true(g_str_has_prefix(cg_error_to_dbus_name(error), PREFIX));
		g_assert_true(g_dbus_is_error_name(cg_error_to_dbus_name(error)));
	}
}

/* GDBus knows the domain: what g_dbus_method_invocation_return_gerror()
 * sends is the name, and a client's GError from the name is the code. */
static void
test_registered(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GError) error = g_error_new_literal(CG_ERROR, names[i].code, "message");
		g_autoptr(GError) back = NULL;
		g_autofree char *encoded = g_dbus_error_encode_gerror(error);
		g_autofree char *remote = NULL;

		g_assert_cmpstr(encoded, ==, names[i].name);
		back = g_dbus_error_new_for_dbus_error(names[i].name, "message");
		g_assert_error(back, CG_ERROR, (gint)names[i].code);
		/* the name can be recovered, and the message under GDBus's prefix */
		g_assert_true(g_dbus_error_is_remote_error(back));
		remote = g_dbus_error_get_remote_error(back);
		g_assert_cmpstr(remote, ==, names[i].name);
		g_assert_true(g_dbus_error_strip_remote_error(back));
		g_assert_cmpstr(back->message, ==, "message");
	}
}

static void
test_other_errors_are_failed(void)
{
	g_autoptr(GError) io = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "x");
	g_autoptr(GError) key = g_error_new_literal(G_KEY_FILE_ERROR, 0, "x");
	g_autoptr(GError) last = g_error_new_literal(CG_ERROR, CG_ERROR_LAST, "x");
	g_autoptr(GError) negative = g_error_new_literal(CG_ERROR, -1, "x");

	/* another domain's code 1 is not CG_ERROR_PERMISSION_DENIED */
	g_assert_cmpint(G_IO_ERROR_NOT_FOUND, ==, CG_ERROR_PERMISSION_DENIED);
	g_assert_cmpstr(cg_error_to_dbus_name(io), ==, PREFIX "Failed");
	g_assert_cmpstr(cg_error_to_dbus_name(key), ==, PREFIX "Failed");
	g_assert_cmpstr(cg_error_to_dbus_name(last), ==, PREFIX "Failed");
	g_assert_cmpstr(cg_error_to_dbus_name(negative), ==, PREFIX "Failed");
	g_assert_cmpstr(cg_error_to_dbus_name(NULL), ==, PREFIX "Failed");
}

/* A name under the prefix that is not one of ours, or a near miss, does not
 * map into CG_ERROR. */
static void
test_unknown_names(void)
{
	const char *unknown[] = {
	    PREFIX "NoSuchError",
	    PREFIX "notfound",
	    "org.certgen.Certificates1.Errors.NotFound",
	    "org.freedesktop.DBus.Error.AccessDenied",
	};

	/* registered first, so that a miss is not for want of the domain */
	GQuark domain = CG_ERROR;

	for (gsize i = 0; i < G_N_ELEMENTS(unknown); i++) {
		g_autoptr(GError) error = g_dbus_error_new_for_dbus_error(unknown[i], "m");
		g_autofree char *remote = NULL;

		g_assert_cmpuint(error->domain, !=, domain);
		remote = g_dbus_error_get_remote_error(error);
		g_assert_cmpstr(remote, ==, unknown[i]);
	}
}

static const CgTestCase cases[] = {
    {"/error/every-code", test_every_code},
    {"/error/to-dbus-name", test_to_dbus_name},
    {"/error/registered", test_registered},
    {"/error/other-errors-are-failed", test_other_errors_are_failed},
    {"/error/unknown-names", test_unknown_names},
};

CG_TEST_MAIN(cases)

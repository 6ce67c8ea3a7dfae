/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-error.h"

#include <gio/gio.h>

#include "cg-contract.h"

static const GDBusErrorEntry cg_error_entries[] = {
    {CG_ERROR_NOT_FOUND, CG_ERROR_PREFIX "NotFound"},
    {CG_ERROR_PERMISSION_DENIED, CG_ERROR_PREFIX "PermissionDenied"},
    {CG_ERROR_INVALID_ARGUMENT, CG_ERROR_PREFIX "InvalidArgument"},
    {CG_ERROR_INVALID_DATA, CG_ERROR_PREFIX "InvalidData"},
    {CG_ERROR_TEMPLATE_NOT_FOUND, CG_ERROR_PREFIX "TemplateNotFound"},
    {CG_ERROR_RATE_LIMITED, CG_ERROR_PREFIX "RateLimited"},
    {CG_ERROR_LIMIT_EXCEEDED, CG_ERROR_PREFIX "LimitExceeded"},
    {CG_ERROR_NOT_CANCELLABLE, CG_ERROR_PREFIX "NotCancellable"},
    {CG_ERROR_ALREADY_FINISHED, CG_ERROR_PREFIX "AlreadyFinished"},
    {CG_ERROR_NOT_READY, CG_ERROR_PREFIX "NotReady"},
    {CG_ERROR_FAILED, CG_ERROR_PREFIX "Failed"},
    {CG_ERROR_CANCELLED, CG_ERROR_PREFIX "Cancelled"},
    {CG_ERROR_TIMED_OUT, CG_ERROR_PREFIX "TimedOut"},
    {CG_ERROR_ALREADY_REVOKED, CG_ERROR_PREFIX "AlreadyRevoked"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(cg_error_entries) == CG_ERROR_LAST);

GQuark
cg_error_quark(void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain("cg-error-quark", &quark, cg_error_entries,
					   G_N_ELEMENTS(cg_error_entries));
	return (GQuark)quark;
}

const char *
cg_error_code_to_dbus_name(gint code)
{
	if (code >= 0 && code < CG_ERROR_LAST)
		return cg_error_entries[code].dbus_error_name;
	return CG_ERROR_PREFIX "Failed";
}

const char *
cg_error_to_dbus_name(const GError *error)
{
	if (error != NULL && error->domain == CG_ERROR)
		return cg_error_code_to_dbus_name(error->code);
	return CG_ERROR_PREFIX "Failed";
}

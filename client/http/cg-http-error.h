/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The bridge's one error domain. Every code has an HTTP status and a short
 * JSON code ("not_found", ...) sent as {"error": code, "message": ...}.
 * certgend's D-Bus errors are mapped onto it by cg_http_error_from_dbus(). */
#define CG_HTTP_ERROR (cg_http_error_quark())

typedef enum {
	CG_HTTP_ERROR_BAD_REQUEST,
	CG_HTTP_ERROR_INVALID_ARGUMENT,
	CG_HTTP_ERROR_INVALID_DATA,
	CG_HTTP_ERROR_TEMPLATE_NOT_FOUND,
	CG_HTTP_ERROR_UNAUTHORIZED,
	CG_HTTP_ERROR_PERMISSION_DENIED,
	CG_HTTP_ERROR_FORBIDDEN,
	CG_HTTP_ERROR_NOT_FOUND,
	CG_HTTP_ERROR_METHOD_NOT_ALLOWED,
	CG_HTTP_ERROR_NOT_CANCELLABLE,
	CG_HTTP_ERROR_ALREADY_FINISHED,
	CG_HTTP_ERROR_NOT_READY,
	CG_HTTP_ERROR_PAYLOAD_TOO_LARGE,
	CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE,
	CG_HTTP_ERROR_RATE_LIMITED,
	CG_HTTP_ERROR_LIMIT_EXCEEDED,
	CG_HTTP_ERROR_TOO_MANY_STREAMS,
	CG_HTTP_ERROR_FAILED,
	CG_HTTP_ERROR_UNAVAILABLE,
	CG_HTTP_ERROR_OVERLOADED,
	CG_HTTP_ERROR_ALREADY_REVOKED,
	CG_HTTP_ERROR_LAST /*< skip >*/
} CgHttpError;

GQuark cg_http_error_quark(void);

/* HTTP status of @error (500 for errors outside CG_HTTP_ERROR). */
guint cg_http_error_status(const GError *error);

/* JSON code of @error ("failed" for errors outside CG_HTTP_ERROR). */
const char *cg_http_error_code(const GError *error);

/* A CG_HTTP_ERROR for an error of a D-Bus call to certgend: its
 * org.certgen.Certificates1.Error.* names, "certgend is not running" for the
 * bus's ServiceUnknown/NameHasNoOwner/NoReply/Disconnected and a closed or
 * missing connection, FAILED for anything else. *@retry_after_s (may be
 * NULL) is set for RATE_LIMITED, LIMIT_EXCEEDED and UNAVAILABLE. */
GError *cg_http_error_from_dbus(const GError *dbus_error, guint *retry_after_s);

/* "invalid_data" for "org.certgen.Certificates1.Error.InvalidData"; the JSON
 * code of any certgen D-Bus error name, "failed" for other names. */
char *cg_http_error_code_for_dbus_name(const char *name);

G_END_DECLS

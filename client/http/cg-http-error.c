/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-error.h"
#include "cg-http-log.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "cg-contract.h"

/* Not in libsoup 3.2's SoupStatus. */
#define CG_HTTP_STATUS_TOO_MANY_REQUESTS 429

typedef struct {
	guint status;
	const char *code;
} CgHttpErrorInfo;

static const CgHttpErrorInfo cg_http_error_infos[] = {
    [CG_HTTP_ERROR_BAD_REQUEST] = {SOUP_STATUS_BAD_REQUEST, "bad_request"},
    [CG_HTTP_ERROR_INVALID_ARGUMENT] = {SOUP_STATUS_BAD_REQUEST, "invalid_argument"},
    [CG_HTTP_ERROR_INVALID_DATA] = {SOUP_STATUS_BAD_REQUEST, "invalid_data"},
    [CG_HTTP_ERROR_TEMPLATE_NOT_FOUND] = {SOUP_STATUS_BAD_REQUEST, "template_not_found"},
    [CG_HTTP_ERROR_UNAUTHORIZED] = {SOUP_STATUS_UNAUTHORIZED, "unauthorized"},
    [CG_HTTP_ERROR_PERMISSION_DENIED] = {SOUP_STATUS_FORBIDDEN, "permission_denied"},
    [CG_HTTP_ERROR_FORBIDDEN] = {SOUP_STATUS_FORBIDDEN, "forbidden"},
    [CG_HTTP_ERROR_NOT_FOUND] = {SOUP_STATUS_NOT_FOUND, "not_found"},
    [CG_HTTP_ERROR_METHOD_NOT_ALLOWED] = {SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed"},
    [CG_HTTP_ERROR_NOT_CANCELLABLE] = {SOUP_STATUS_CONFLICT, "not_cancellable"},
    [CG_HTTP_ERROR_ALREADY_FINISHED] = {SOUP_STATUS_CONFLICT, "already_finished"},
    [CG_HTTP_ERROR_NOT_READY] = {SOUP_STATUS_CONFLICT, "not_ready"},
    [CG_HTTP_ERROR_PAYLOAD_TOO_LARGE] = {SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload_too_large"},
    [CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE] = {SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
					      "unsupported_media_type"},
    [CG_HTTP_ERROR_RATE_LIMITED] = {CG_HTTP_STATUS_TOO_MANY_REQUESTS, "rate_limited"},
    [CG_HTTP_ERROR_LIMIT_EXCEEDED] = {CG_HTTP_STATUS_TOO_MANY_REQUESTS, "limit_exceeded"},
    [CG_HTTP_ERROR_TOO_MANY_STREAMS] = {CG_HTTP_STATUS_TOO_MANY_REQUESTS, "too_many_streams"},
    [CG_HTTP_ERROR_FAILED] = {SOUP_STATUS_INTERNAL_SERVER_ERROR, "failed"},
    [CG_HTTP_ERROR_UNAVAILABLE] = {SOUP_STATUS_SERVICE_UNAVAILABLE, "service_unavailable"},
    [CG_HTTP_ERROR_OVERLOADED] = {SOUP_STATUS_SERVICE_UNAVAILABLE, "overloaded"},
    [CG_HTTP_ERROR_ALREADY_REVOKED] = {SOUP_STATUS_CONFLICT, "already_revoked"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(cg_http_error_infos) == CG_HTTP_ERROR_LAST);

G_DEFINE_QUARK(cg - http - error - quark, cg_http_error)

guint
cg_http_error_status(const GError *error)
{
	if (error != NULL && error->domain == CG_HTTP_ERROR && error->code >= 0 &&
	    error->code < CG_HTTP_ERROR_LAST)
		return cg_http_error_infos[error->code].status;
	return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

const char *
cg_http_error_code(const GError *error)
{
	if (error != NULL && error->domain == CG_HTTP_ERROR && error->code >= 0 &&
	    error->code < CG_HTTP_ERROR_LAST)
		return cg_http_error_infos[error->code].code;
	return "failed";
}

typedef struct {
	const char *suffix;
	CgHttpError code;
} CgHttpDBusErrorMap;

static const CgHttpDBusErrorMap cg_http_dbus_errors[] = {
    {"NotFound", CG_HTTP_ERROR_NOT_FOUND},
    {"PermissionDenied", CG_HTTP_ERROR_PERMISSION_DENIED},
    {"InvalidArgument", CG_HTTP_ERROR_INVALID_ARGUMENT},
    {"InvalidData", CG_HTTP_ERROR_INVALID_DATA},
    {"TemplateNotFound", CG_HTTP_ERROR_TEMPLATE_NOT_FOUND},
    {"RateLimited", CG_HTTP_ERROR_RATE_LIMITED},
    {"LimitExceeded", CG_HTTP_ERROR_LIMIT_EXCEEDED},
    {"NotCancellable", CG_HTTP_ERROR_NOT_CANCELLABLE},
    {"AlreadyFinished", CG_HTTP_ERROR_ALREADY_FINISHED},
    {"NotReady", CG_HTTP_ERROR_NOT_READY},
    {"AlreadyRevoked", CG_HTTP_ERROR_ALREADY_REVOKED},
    {"Failed", CG_HTTP_ERROR_FAILED},
};

static const char *const cg_http_unavailable_names[] = {
    "org.freedesktop.DBus.Error.ServiceUnknown",   "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoReply",	   "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.NoServer",	   "org.freedesktop.DBus.Error.Timeout",
    "org.freedesktop.DBus.Error.TimedOut",	   "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownInterface",
};

/* "try again in 42 s" in certgend's RateLimited message. */
static guint
parse_retry_after(const char *message)
{
	const char *p = message != NULL ? strstr(message, "try again in ") : NULL;
	guint64 value = 0;

	if (p == NULL)
		return 60;
	p += strlen("try again in ");
	while (g_ascii_isdigit(*p) && value < 3600)
		value = value * 10 + (guint64)(*p++ - '0');
	return value == 0 ? 1 : (guint)MIN(value, 3600);
}

GError *
cg_http_error_from_dbus(const GError *dbus_error, guint *retry_after_s)
{
	g_autofree char *name = NULL;
	g_autofree char *message = NULL;
	guint retry = 0;
	GError *error = NULL;

	if (dbus_error == NULL)
		return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED, "Unknown error");

	if (g_error_matches(dbus_error, G_IO_ERROR, G_IO_ERROR_BUSY) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED)) {
		if (retry_after_s != NULL)
			*retry_after_s = 5;
		return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_OVERLOADED,
					   "Too many requests are waiting for the certificate "
					   "service; try again later");
	}
	if (g_error_matches(dbus_error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
	    g_error_matches(dbus_error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
	    g_error_matches(dbus_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
	    g_error_matches(dbus_error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT)) {
		if (retry_after_s != NULL)
			*retry_after_s = 5;
		return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
					   "The certificate service is not available; try "
					   "again later");
	}

	name = g_dbus_error_get_remote_error(dbus_error);
	message = g_strdup(dbus_error->message);
	if (name != NULL) {
		g_autoptr(GError) copy = g_error_copy(dbus_error);

		g_dbus_error_strip_remote_error(copy);
		g_free(message);
		message = g_strdup(copy->message);
		for (gsize i = 0; i < G_N_ELEMENTS(cg_http_unavailable_names); i++) {
			if (g_str_equal(name, cg_http_unavailable_names[i])) {
				if (retry_after_s != NULL)
					*retry_after_s = 5;
				return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
							   "The certificate service is not "
							   "available; try again later");
			}
		}
		if (g_str_has_prefix(name, CG_ERROR_PREFIX)) {
			const char *suffix = name + strlen(CG_ERROR_PREFIX);

			for (gsize i = 0; i < G_N_ELEMENTS(cg_http_dbus_errors); i++) {
				if (g_str_equal(suffix, cg_http_dbus_errors[i].suffix)) {
					error = g_error_new_literal(
					    CG_HTTP_ERROR, cg_http_dbus_errors[i].code, message);
					break;
				}
			}
		}
	}
	if (error == NULL) {
		cg_http_debug("D-Bus error %s: %s", name != NULL ? name : "(local)", message);
		error = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
				    "The certificate service failed: %s", message);
	}
	if (error->code == CG_HTTP_ERROR_RATE_LIMITED)
		retry = parse_retry_after(error->message);
	else if (error->code == CG_HTTP_ERROR_LIMIT_EXCEEDED)
		retry = 5;
	if (retry_after_s != NULL)
		*retry_after_s = retry;
	return error;
}

char *
cg_http_error_code_for_dbus_name(const char *name)
{
	const char *suffix;
	GString *code;

	if (name == NULL || !g_str_has_prefix(name, CG_ERROR_PREFIX))
		return g_strdup("failed");
	suffix = name + strlen(CG_ERROR_PREFIX);
	if (*suffix == '\0')
		return g_strdup("failed");
	code = g_string_new(NULL);
	for (const char *p = suffix; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p))
			continue;
		if (g_ascii_isupper(*p) && code->len > 0)
			g_string_append_c(code, '_');
		g_string_append_c(code, g_ascii_tolower(*p));
	}
	return g_string_free(code, FALSE);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge's responses: JSON bodies, JSON errors (status, WWW-Authenticate,
 * Retry-After), 405 with Allow, and the default security headers. */
#include "cg-http-response.h"

#include "cg-http-json.h"

/* libsoup's own phrase, or one it does not know (it would say "Unknown
 * Error"); NULL: libsoup's. */
static const char *
reason_phrase(guint status)
{
	if (status == 429) /* RFC 6585 */
		return "Too Many Requests";
	if (status == 431)
		return "Request Header Fields Too Large";
	return NULL;
}

const char *
cg_http_response_reason_phrase(guint status)
{
	const char *phrase = reason_phrase(status);

	return phrase != NULL ? phrase : soup_status_get_phrase(status);
}

/* What every JSON response carries besides its body. */
static void
add_json_headers(SoupMessageHeaders *headers)
{
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
}

void
cg_http_respond_json(SoupServerMessage *msg, guint status, const char *json)
{
	add_json_headers(soup_server_message_get_response_headers(msg));
	soup_server_message_set_status(msg, status, reason_phrase(status));
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json,
					 strlen(json));
}

void
cg_http_respond_error(SoupServerMessage *msg, const GError *error, guint retry_after_s)
{
	guint status = 0;
	g_autofree char *json = cg_http_error_response(
	    error, retry_after_s, soup_server_message_get_response_headers(msg), &status);

	cg_http_respond_json(msg, status, json);
}

char *
cg_http_error_response(const GError *error, guint retry_after_s, SoupMessageHeaders *headers,
		       guint *status_out)
{
	guint status = cg_http_error_status(error);
	/* every invalid_data body lists its problems in "errors" */
	g_autofree char *json = g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_DATA)
				    ? cg_http_invalid_data_message_json(error->message)
				    : cg_http_error_json(cg_http_error_code(error), error->message);

	if (status == SOUP_STATUS_UNAUTHORIZED)
		soup_message_headers_replace(headers, "WWW-Authenticate",
					     "Bearer realm=\"certgen\"");
	if (retry_after_s > 0) {
		g_autofree char *value = g_strdup_printf("%u", retry_after_s);

		soup_message_headers_replace(headers, "Retry-After", value);
	}
	*status_out = status;
	return g_steal_pointer(&json);
}

GBytes *
cg_http_response_render(SoupHTTPVersion version, guint status, SoupMessageHeaders *headers,
			const char *content_type, const char *body)
{
	GString *out = g_string_sized_new(512);
	SoupMessageHeadersIter iter;
	const char *name, *value;

	g_string_append_printf(out, "HTTP/1.%d %u %s\r\n", version == SOUP_HTTP_1_1 ? 1 : 0, status,
			       cg_http_response_reason_phrase(status));
	soup_message_headers_iter_init(&iter, headers);
	while (soup_message_headers_iter_next(&iter, &name, &value))
		g_string_append_printf(out, "%s: %s\r\n", name, value);
	if (content_type != NULL)
		g_string_append_printf(out, "Content-Type: %s\r\n", content_type);
	if (body != NULL)
		g_string_append_printf(out, "Content-Length: %zu\r\n", strlen(body));
	g_string_append(out, "\r\n");
	if (body != NULL)
		g_string_append(out, body);
	return g_string_free_to_bytes(out);
}

GBytes *
cg_http_response_render_error(SoupHTTPVersion version, const GError *error, guint retry_after_s,
			      SoupMessageHeaders *headers)
{
	guint status = 0;
	g_autofree char *json = cg_http_error_response(error, retry_after_s, headers, &status);

	add_json_headers(headers);
	return cg_http_response_render(version, status, headers, "application/json", json);
}

void
cg_http_respond_new_error(SoupServerMessage *msg, CgHttpError code, guint retry_after_s,
			  const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start(args, format);
	error = g_error_new_valist(CG_HTTP_ERROR, code, format, args);
	va_end(args);
	cg_http_respond_error(msg, error, retry_after_s);
}

void
cg_http_respond_method_not_allowed(SoupServerMessage *msg, const char *allow)
{
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
	cg_http_respond_new_error(msg, CG_HTTP_ERROR_METHOD_NOT_ALLOWED, 0, "Allowed methods: %s",
				  allow);
}

void
cg_http_response_add_default_headers(SoupServerMessage *msg)
{
	cg_http_response_add_default_headers_to(soup_server_message_get_response_headers(msg));
}

void
cg_http_response_add_default_headers_to(SoupMessageHeaders *response)
{
	soup_message_headers_replace(response, "X-Content-Type-Options", "nosniff");
	soup_message_headers_replace(response, "Referrer-Policy", "no-referrer");
}

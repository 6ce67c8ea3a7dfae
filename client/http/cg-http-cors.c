/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which origins may call the bridge, the CORS response headers and the
 * OPTIONS (preflight) answer. */
#include "cg-http-cors.h"

#include "cg-http-response.h"

gboolean
cg_http_cors_origin_is_allowed(const char *const *allow_origins, const char *origin)
{
	if (origin == NULL || allow_origins == NULL)
		return FALSE;
	return g_strv_contains(allow_origins, origin);
}

gboolean
cg_http_cors_origin_is_same(SoupServerMessage *msg, const char *origin)
{
	return cg_http_cors_origin_is_same_host(soup_server_message_get_request_headers(msg),
						origin);
}

gboolean
cg_http_cors_origin_is_same_host(SoupMessageHeaders *request, const char *origin)
{
	const char *host = soup_message_headers_get_one(request, "Host");
	g_autofree char *expected = NULL;

	if (host == NULL)
		return FALSE;
	expected = g_strdup_printf("http://%s", host);
	return g_ascii_strcasecmp(origin, expected) == 0;
}

gboolean
cg_http_cors_origin_is_acceptable(const char *const *allow_origins, SoupServerMessage *msg)
{
	return cg_http_cors_request_origin_is_acceptable(
	    allow_origins, soup_server_message_get_request_headers(msg));
}

gboolean
cg_http_cors_request_origin_is_acceptable(const char *const *allow_origins,
					  SoupMessageHeaders *request)
{
	const char *origin = soup_message_headers_get_one(request, "Origin");

	return origin == NULL || cg_http_cors_origin_is_same_host(request, origin) ||
	       cg_http_cors_origin_is_allowed(allow_origins, origin);
}

void
cg_http_cors_add_headers(const char *const *allow_origins, SoupServerMessage *msg)
{
	cg_http_cors_add_response_headers(allow_origins,
					  soup_server_message_get_request_headers(msg),
					  soup_server_message_get_response_headers(msg));
}

void
cg_http_cors_add_response_headers(const char *const *allow_origins, SoupMessageHeaders *request,
				  SoupMessageHeaders *response)
{
	const char *origin = soup_message_headers_get_one(request, "Origin");

	if (allow_origins != NULL)
		soup_message_headers_append(response, "Vary", "Origin");
	if (!cg_http_cors_origin_is_allowed(allow_origins, origin))
		return;
	soup_message_headers_replace(response, "Access-Control-Allow-Origin", origin);
	soup_message_headers_replace(response, "Access-Control-Allow-Credentials", "true");
	soup_message_headers_replace(response, "Access-Control-Expose-Headers",
				     "Retry-After, Location, Content-Disposition");
}

void
cg_http_cors_handle_options(const char *const *allow_origins, SoupServerMessage *msg,
			    const char *path)
{
	SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
	const char *origin = soup_message_headers_get_one(request, "Origin");
	const char *allow =
	    g_str_has_prefix(path, "/api/") ? "GET, POST, DELETE, OPTIONS" : "GET, HEAD, OPTIONS";

	if (origin != NULL && !cg_http_cors_origin_is_same(msg, origin) &&
	    !cg_http_cors_origin_is_allowed(allow_origins, origin)) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_FORBIDDEN, 0, "Origin not allowed");
		return;
	}
	soup_message_headers_replace(response, "Allow", allow);
	if (origin != NULL &&
	    soup_message_headers_get_one(request, "Access-Control-Request-Method") != NULL) {
		soup_message_headers_replace(response, "Access-Control-Allow-Methods", allow);
		soup_message_headers_replace(response, "Access-Control-Allow-Headers",
					     "Authorization, Content-Type, Last-Event-ID");
		soup_message_headers_replace(response, "Access-Control-Max-Age", "600");
	}
	soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Request authentication (Bearer token or session cookie) and the
 * /api/session endpoint that issues and clears the cookie. */
#include "cg-http-session.h"

#include "cg-http-cors.h"
#include "cg-http-response.h"

char *
cg_http_session_cookie_value(const char *cookie_header)
{
	g_auto(GStrv) parts = NULL;

	if (cookie_header == NULL)
		return NULL;
	parts = g_strsplit_set(cookie_header, ";,", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		const char *part = g_strstrip(parts[i]);

		if (g_str_has_prefix(part, CG_HTTP_SESSION_COOKIE "="))
			return g_strdup(part + strlen(CG_HTTP_SESSION_COOKIE "="));
	}
	return NULL;
}

static char *
cookie_session_id(SoupServerMessage *msg)
{
	return cg_http_session_cookie_value(
	    soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie"));
}

const char *
cg_http_session_bearer_token(const char *authorization, GError **error)
{
	const char *token;

	if (g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
				    "Use Authorization: Bearer <token>");
		return NULL;
	}
	token = authorization + 7;
	while (*token == ' ')
		token++;
	return token;
}

char *
cg_http_session_authenticate(CgHttpAuth *auth, SoupServerMessage *msg, gboolean allow_cookie,
			     GError **error)
{
	return cg_http_session_authenticate_request(
	    auth, soup_server_message_get_request_headers(msg), allow_cookie, error);
}

char *
cg_http_session_authenticate_request(CgHttpAuth *auth, SoupMessageHeaders *request,
				     gboolean allow_cookie, GError **error)
{
	const char *authorization = soup_message_headers_get_one(request, "Authorization");
	g_autofree char *session = NULL;
	char *user;

	if (authorization != NULL) {
		const char *token = cg_http_session_bearer_token(authorization, error);

		if (token == NULL)
			return NULL;
		user = cg_http_auth_check_token(auth, token);
		if (user == NULL)
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
					    "Invalid token");
		return user;
	}
	session =
	    allow_cookie
		? cg_http_session_cookie_value(soup_message_headers_get_list(request, "Cookie"))
		: NULL;
	if (session != NULL) {
		user = cg_http_auth_session_lookup(auth, session);
		if (user == NULL)
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
					    "The session has expired or is unknown; sign in "
					    "again");
		return user;
	}
	g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
			    allow_cookie ? "Authorization: Bearer <token> or a session cookie is "
					   "required"
					 : "This request needs the Authorization: Bearer <token> "
					   "header");
	return NULL;
}

char *
cg_http_session_authenticate_or_respond(CgHttpAuth *auth, const char *const *allow_origins,
					SoupServerMessage *msg, gboolean allow_cookie)
{
	g_autoptr(GError) error = NULL;
	char *user =
	    cg_http_session_admit(auth, allow_origins, soup_server_message_get_request_headers(msg),
				  allow_cookie, &error);

	if (user == NULL)
		cg_http_respond_error(msg, error, 0);
	return user;
}

char *
cg_http_session_admit(CgHttpAuth *auth, const char *const *allow_origins,
		      SoupMessageHeaders *request, gboolean allow_cookie, GError **error)
{
	if (!cg_http_cors_request_origin_is_acceptable(allow_origins, request)) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FORBIDDEN,
				    "Origin not allowed");
		return NULL;
	}
	return cg_http_session_authenticate_request(auth, request, allow_cookie, error);
}

void
cg_http_session_handle(CgHttpAuth *auth, const char *const *allow_origins, SoupServerMessage *msg,
		       const char *method)
{
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
	g_autofree char *user = NULL;

	if (!g_str_equal(method, SOUP_METHOD_POST) && !g_str_equal(method, SOUP_METHOD_DELETE)) {
		cg_http_respond_method_not_allowed(msg, "POST, DELETE");
		return;
	}
	user = cg_http_session_authenticate_or_respond(auth, allow_origins, msg, FALSE);
	if (user == NULL)
		return;
	if (g_str_equal(method, SOUP_METHOD_POST)) {
		guint ttl_s = 0;
		g_autofree char *session = cg_http_auth_session_new(auth, user, &ttl_s);
		g_autofree char *cookie = NULL;
		g_autofree char *json = NULL;
		g_autofree char *escaped = NULL;

		if (session == NULL) {
			cg_http_respond_new_error(msg, CG_HTTP_ERROR_FAILED, 0,
						  "Could not create a session");
			return;
		}
		cookie = g_strdup_printf(CG_HTTP_SESSION_COOKIE "=%s; Path=/; Max-Age=%u; "
								"HttpOnly; SameSite=Strict",
					 session, ttl_s);
		soup_message_headers_append(response, "Set-Cookie", cookie);
		escaped = g_strescape(user, NULL);
		json = g_strdup_printf("{\"success\":true,\"user\":\"%s\",\"expiresIn\":%u}",
				       escaped, ttl_s);
		cg_http_respond_json(msg, SOUP_STATUS_OK, json);
	} else {
		g_autofree char *session = cookie_session_id(msg);

		if (session != NULL)
			cg_http_auth_session_remove(auth, session, user);
		soup_message_headers_append(response, "Set-Cookie",
					    CG_HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; "
								   "HttpOnly; SameSite=Strict");
		cg_http_respond_json(msg, SOUP_STATUS_OK, "{\"success\":true}");
	}
}

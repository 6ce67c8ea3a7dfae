/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-auth.h"

G_BEGIN_DECLS

/* Who a request comes from: the Bearer token, or for GET requests the
 * session cookie that POST /api/session sets (so EventSource works in
 * browsers); and /api/session itself. Tokens and sessions are kept by
 * CgHttpAuth (cg-http-auth.h). */
#define CG_HTTP_SESSION_COOKIE "certgen_session"

/* The certgen_session value of a Cookie header ("a=b; certgen_session=X"),
 * or NULL. */
char *cg_http_session_cookie_value(const char *cookie_header);

/* The token of an Authorization header value "Bearer <token>" (the scheme
 * in any case, spaces before the token skipped); NULL with *@error
 * (UNAUTHORIZED) for any other scheme. */
const char *cg_http_session_bearer_token(const char *authorization, GError **error);

/* The web user of @msg: the Bearer token, or (when @allow_cookie: GET
 * requests) the session cookie; NULL with *@error (UNAUTHORIZED). */
char *cg_http_session_authenticate(CgHttpAuth *auth, SoupServerMessage *msg, gboolean allow_cookie,
				   GError **error);

/* The same for the request headers @request (the bridge's own accept path
 * has no libsoup message). */
char *cg_http_session_authenticate_request(CgHttpAuth *auth, SoupMessageHeaders *request,
					   gboolean allow_cookie, GError **error);

/* The origin check (cg-http-cors.h) then cg_http_session_authenticate_request():
 * the web user, or NULL with *@error (FORBIDDEN, UNAUTHORIZED). */
char *cg_http_session_admit(CgHttpAuth *auth, const char *const *allow_origins,
			    SoupMessageHeaders *request, gboolean allow_cookie, GError **error);

/* cg_http_session_admit() and, on
 * failure, the error response: NULL when @msg is answered. */
char *cg_http_session_authenticate_or_respond(CgHttpAuth *auth, const char *const *allow_origins,
					      SoupServerMessage *msg, gboolean allow_cookie);

/* POST /api/session (Bearer): sets an HttpOnly, SameSite=Strict session
 * cookie; DELETE /api/session: removes the session and clears the cookie. */
void cg_http_session_handle(CgHttpAuth *auth, const char *const *allow_origins,
			    SoupServerMessage *msg, const char *method);

G_END_DECLS

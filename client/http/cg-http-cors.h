/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Origins and CORS. @allow_origins is the NULL-terminated list of other
 * sites allowed to call the bridge from a browser (NULL: none). */

/* TRUE when @origin is in @allow_origins (FALSE for a NULL @origin). */
gboolean cg_http_cors_origin_is_allowed(const char *const *allow_origins, const char *origin);
/* TRUE when @origin is "http://" + the request's Host. */
gboolean cg_http_cors_origin_is_same(SoupServerMessage *msg, const char *origin);
/* A request without Origin, from the same site or from an allowed one; a
 * browser's request for any other site is refused. */
gboolean cg_http_cors_origin_is_acceptable(const char *const *allow_origins,
					   SoupServerMessage *msg);
/* Vary: Origin when cross-origin access is configured, and the
 * Access-Control-* headers for an allowed Origin. */
void cg_http_cors_add_headers(const char *const *allow_origins, SoupServerMessage *msg);
/* The same three for request headers @request and response headers
 * @response (the bridge's own accept path has no libsoup message). */
gboolean cg_http_cors_origin_is_same_host(SoupMessageHeaders *request, const char *origin);
gboolean cg_http_cors_request_origin_is_acceptable(const char *const *allow_origins,
						   SoupMessageHeaders *request);
void cg_http_cors_add_response_headers(const char *const *allow_origins,
				       SoupMessageHeaders *request, SoupMessageHeaders *response);
/* Answers OPTIONS @path (a CORS preflight or a plain OPTIONS). */
void cg_http_cors_handle_options(const char *const *allow_origins, SoupServerMessage *msg,
				 const char *path);

G_END_DECLS

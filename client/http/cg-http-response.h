/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-error.h"

G_BEGIN_DECLS

/* How the bridge answers: JSON bodies, {"error", "message"} errors with
 * their status and headers, and the headers every response carries. */

/* @json with @status, not cached. */
void cg_http_respond_json(SoupServerMessage *msg, guint status, const char *json);
/* @error as JSON with its status; WWW-Authenticate for 401, Retry-After when
 * @retry_after_s > 0. */
void cg_http_respond_error(SoupServerMessage *msg, const GError *error, guint retry_after_s);
/* cg_http_respond_error() of a new CG_HTTP_ERROR @code. */
void cg_http_respond_new_error(SoupServerMessage *msg, CgHttpError code, guint retry_after_s,
			       const char *format, ...) G_GNUC_PRINTF(4, 5);
/* 405 with Allow: @allow. */
void cg_http_respond_method_not_allowed(SoupServerMessage *msg, const char *allow);
/* The headers set on every response once the request headers are in. */
void cg_http_response_add_default_headers(SoupServerMessage *msg);

/* The same for response headers @response (the bridge's own accept path has
 * no libsoup message). */
void cg_http_response_add_default_headers_to(SoupMessageHeaders *response);

/* The JSON body of the error response to @error (its status in *@status,
 * its headers, WWW-Authenticate and Retry-After, added to @headers): what
 * cg_http_respond_error() answers, for both paths. */
char *cg_http_error_response(const GError *error, guint retry_after_s, SoupMessageHeaders *headers,
			     guint *status);

/* The reason phrase the bridge sends with @status. */
const char *cg_http_response_reason_phrase(guint status);

/* The bytes of a response written by the bridge itself: status line,
 * @headers, Content-Type when @content_type is set, and with @body (not
 * NULL) Content-Length and the body. */
GBytes *cg_http_response_render(SoupHTTPVersion version, guint status, SoupMessageHeaders *headers,
				const char *content_type, const char *body);

/* The same for cg_http_respond_error()'s answer to @error. */
GBytes *cg_http_response_render_error(SoupHTTPVersion version, const GError *error,
				      guint retry_after_s, SoupMessageHeaders *headers);

G_END_DECLS

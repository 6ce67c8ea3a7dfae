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

G_END_DECLS

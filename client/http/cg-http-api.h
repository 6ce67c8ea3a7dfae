/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-auth.h"
#include "cg-http-head.h"
#include "cg-http-stream-context.h"

G_BEGIN_DECLS

/* The /api routes: POST /api/certificates, the progress stream (SSE) and
 * its cancel (DELETE), analytics, download, /api/session, and the WebSocket
 * at CG_HTTP_WS_PATH/{id}. Each authenticates, checks the id and calls
 * certgend; answers that need D-Bus keep the request paused meanwhile
 * (cg-http-pending.h). */
#define CG_HTTP_WS_PATH "/api/certificates/ws"
#define CG_HTTP_STREAM_PATH "/api/certificates/progress"

#define CG_TYPE_HTTP_API (cg_http_api_get_type())
G_DECLARE_FINAL_TYPE(CgHttpApi, cg_http_api, CG, HTTP_API, GObject)

/* Takes references on @context and @auth; the settings are @context's. */
CgHttpApi *cg_http_api_new(CgHttpStreamContext *context, CgHttpAuth *auth);

/* Answers @method @path, a path under /api/. */
void cg_http_api_handle(CgHttpApi *self, SoupServerMessage *msg, const char *path,
			const char *method);

/* Before a WebSocket upgrade of @path: method, origin, authentication, id,
 * rate limit and stream caps; a status set on @msg refuses the upgrade. */
void cg_http_api_check_websocket(CgHttpApi *self, SoupServerMessage *msg, const char *path);
/* After the upgrade cg_http_api_check_websocket() allowed. */
void cg_http_api_start_websocket(CgHttpApi *self, SoupServerMessage *msg, const char *path,
				 SoupWebsocketConnection *connection);

/* The id in @path when it is the SSE route's (CG_HTTP_STREAM_PATH/{id},
 * the id possibly empty or malformed: the route answers that), or NULL. */
const char *cg_http_api_stream_route_id(const char *path);

/* GET CG_HTTP_STREAM_PATH/{id} read by the bridge's own accept path
 * (cg-http-accept.h) from @socket: the same decisions as for libsoup's
 * requests; NULL when the stream took the connection, or the bytes of the
 * refusal. @response holds the headers every response carries. */
GBytes *cg_http_api_serve_stream(CgHttpApi *self, GSocket *socket, const CgHttpHead *head,
				 SoupMessageHeaders *response);

/* GET /verify/{number}?c={code}, public (cg-http-verify.h). */
void cg_http_api_handle_verify(CgHttpApi *self, SoupServerMessage *msg, const char *path,
			       const char *method);

/* Requests still waiting for certgend. */
guint cg_http_api_get_n_pending(CgHttpApi *self);
/* Forgets what the generation rate limit no longer needs. */
void cg_http_api_prune(CgHttpApi *self, gint64 now_us);

G_END_DECLS

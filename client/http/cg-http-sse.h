/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-stream-context.h"

G_BEGIN_DECLS

/* Serves GET /api/certificates/progress/{id} as text/event-stream (WHATWG
 * server-sent events) once the caller is authenticated and holds a stream
 * slot (which the stream releases when it ends): "retry:" and a comment
 * first, then the current snapshot (when newer than @last_event_id), then
 * every update as "id: <sequence>" + "data: <JSON>", keep-alive comments,
 * and the end of the response after the terminal event. A resume whose
 * Last-Event-ID already is the terminal sequence gets 204 (no reconnects). */
void cg_http_sse_start(CgHttpStreamContext *context, SoupServerMessage *msg,
		       const char *progress_id, const char *user, gboolean have_last_event_id,
		       guint64 last_event_id);

/* The same stream for a connection of the bridge's own accept path
 * (cg-http-accept.h): @socket, whose request head was read already, and
 * @response, the headers every response of it carries (Server, Date,
 * defaults, CORS, Connection: close), to which the stream adds its own.
 * The stream writes its status line and headers itself. */
void cg_http_sse_start_raw(CgHttpStreamContext *context, GSocket *socket, SoupHTTPVersion version,
			   SoupMessageHeaders *response, const char *progress_id, const char *user,
			   gboolean have_last_event_id, guint64 last_event_id);

G_END_DECLS

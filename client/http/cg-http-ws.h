/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-stream-context.h"

G_BEGIN_DECLS

/* Serves an upgraded /api/certificates/ws/{id}: the same events as the SSE
 * stream, one JSON text message each; the client may send
 * {"type":"cancel"}; closes (1000) after the terminal event. Takes a stream
 * slot for @user itself. Unknown or foreign ids: an error message and close
 * code 4404. */
typedef enum {
	CG_HTTP_WS_REQUEST_INVALID,
	CG_HTTP_WS_REQUEST_CANCEL, /* {"type": "cancel"} */
} CgHttpWsRequest;

/* What a client's message asks for; INVALID with *@error (BAD_REQUEST) for
 * binary messages, malformed JSON, non-objects and unknown types. */
CgHttpWsRequest cg_http_ws_parse_message(gboolean text, const char *data, gsize len,
					 GError **error);

/* A cancel waits for the owner check of the id (cg-http-owner.h) and goes
 * through it itself; it is refused (a "cancel" error message) when the check
 * failed. */
/* --redis: the checks after the upgrade refused the connection: an
 * {"type":"error"} message, then the close (4404 not found, 1008
 * unauthorized, 1013 rate limited or full, 4503 otherwise). */
void cg_http_ws_refuse(SoupWebsocketConnection *connection, const GError *error);

void cg_http_ws_start(CgHttpStreamContext *context, SoupWebsocketConnection *connection,
		      const char *progress_id, const char *user, gboolean have_since,
		      guint64 since);

G_END_DECLS

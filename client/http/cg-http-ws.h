/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-server.h"

G_BEGIN_DECLS

/* Serves an upgraded /api/certificates/ws/{id}: the same events as the SSE
 * stream, one JSON text message each; the client may send
 * {"type":"cancel"}; closes (1000) after the terminal event. Takes a stream
 * slot for @user itself. Unknown or foreign ids: an error message and close
 * code 4404. */
void cg_http_ws_start(CgHttpServer *server, SoupWebsocketConnection *connection,
		      const char *progress_id, const char *user, gboolean have_since,
		      guint64 since);

G_END_DECLS

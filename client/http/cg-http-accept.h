/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-head.h"

G_BEGIN_DECLS

/* The bridge's own accept path: it owns the listening sockets, accepts in
 * batches and peeks at each new connection's first bytes. A request line
 * that starts with the route's @prefix and that @route_func takes is read
 * and parsed here (cg-http-head.h, a malformed one on the prefix refused)
 * and given to @serve_func; any other connection goes unchanged (nothing
 * consumed) to libsoup with soup_server_accept_iostream(). */
typedef struct _CgHttpAccept CgHttpAccept;

/* Whether the connection whose request line is @head (method, path,
 * query, version) is served by @serve_func rather than by libsoup. */
typedef gboolean (*CgHttpAcceptRouteFunc)(gpointer user_data, const CgHttpHead *head);

/* Serves the complete head @head (consumed from @socket): NULL when it
 * took the connection (with a reference on @socket), or the bytes of a
 * refusal that the acceptor writes before it closes the connection. */
typedef GBytes *(*CgHttpAcceptServeFunc)(gpointer user_data, GSocket *socket, CgHttpHead *head);

/* @head_timeout_ms: how long a new connection may take to send its request
 * line (and a served one its whole head); 0: no limit. */
CgHttpAccept *cg_http_accept_new(SoupServer *soup, guint head_timeout_ms, const char *prefix,
				 CgHttpAcceptRouteFunc route_func, CgHttpAcceptServeFunc serve_func,
				 gpointer user_data);
void cg_http_accept_free(CgHttpAccept *self);

/* Accepts on @listener (bound and listening; it is made non-blocking). */
gboolean cg_http_accept_add_listener(CgHttpAccept *self, GSocket *listener, GError **error);

/* The listening sockets (owned by @self). */
GPtrArray *cg_http_accept_get_listeners(CgHttpAccept *self);

/* Stops listening and drops the connections whose head is being read. */
void cg_http_accept_close(CgHttpAccept *self);

/* The response bytes of a refused head (@status and @reason of
 * cg_http_head_parse()): a JSON error, Connection: close. */
GBytes *cg_http_accept_refusal(SoupHTTPVersion version, guint status, const char *reason);

/* The GSocket under a libsoup message whose connection the acceptor handed
 * over (soup_server_message_get_socket() is NULL for those), or libsoup's
 * own; NULL when there is none. */
GSocket *cg_http_accept_message_socket(SoupServerMessage *msg);

/* The same for a connection stolen from libsoup (a SoupIOStream over the
 * handed-over GSocketConnection, or libsoup's own carrying "GSocket"). */
GSocket *cg_http_accept_stream_socket(GIOStream *stream);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The sockets of the open SSE streams (connections the bridge took over
 * from libsoup, cg-http-sse.c): noticing that a client left (end-of-file)
 * and, for a stream with bytes waiting, that its socket can take more.
 * With a GSource per stream the main loop would poll every one of
 * thousands of sockets on each iteration (connecting N streams costs N²).
 * Instead all of them are in one epoll set, which is the one descriptor
 * the main loop polls. Main thread only. */
typedef struct _CgHttpPeers CgHttpPeers;
typedef struct _CgHttpPeer CgHttpPeer;

/* @why: "the client hung up" or "the client left". Called once at most,
 * after which the socket is no longer watched (the watch still has to be
 * removed). */
typedef void (*CgHttpPeerGoneFunc)(gpointer stream, const char *why);

/* The socket can take more (EPOLLOUT). */
typedef void (*CgHttpPeerWritableFunc)(gpointer stream);

CgHttpPeers *cg_http_peers_new(void);
void cg_http_peers_free(CgHttpPeers *self);

/* Watches @socket (referenced) for @stream; NULL when it cannot (the
 * stream then learns of a departure from its next write). When the client
 * sends more (a pipelined request), the watch stops quietly: libsoup reads
 * it after the stream. */
CgHttpPeer *cg_http_peers_add(CgHttpPeers *self, GSocket *socket, CgHttpPeerGoneFunc func,
			      gpointer stream);
/* Ends the watch; no call of its function after this. NULL is ignored. */
void cg_http_peers_remove(CgHttpPeers *self, CgHttpPeer *peer);
/* The stream took the connection over (soup_server_message_steal_connection):
 * what the client sends more is read and dropped, the watch goes on. */
void cg_http_peers_own(CgHttpPeer *peer);
/* Calls @func (NULL: none) each time the socket can take more: one writer
 * for every stream, driven by the one epoll set, no GSource per stream.
 * Ask only while there is something to write. NULL @peer is ignored. */
void cg_http_peers_want_write(CgHttpPeers *self, CgHttpPeer *peer, CgHttpPeerWritableFunc func);
guint cg_http_peers_get_size(CgHttpPeers *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpPeers, cg_http_peers_free)

G_END_DECLS

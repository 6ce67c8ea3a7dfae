/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Noticing that the clients of idle streams left. A paused libsoup message
 * does not read its socket, so each open SSE stream's socket is watched for
 * end-of-file; with a GSource per stream the main loop would poll every one
 * of thousands of sockets on each iteration (connecting N streams costs
 * N²). Instead all of them are in one epoll set, which is the one
 * descriptor the main loop polls. Main thread only. */
typedef struct _CgHttpPeers CgHttpPeers;
typedef struct _CgHttpPeer CgHttpPeer;

/* @why: "the client hung up" or "the client left". Called once at most,
 * after which the socket is no longer watched (the watch still has to be
 * removed). */
typedef void (*CgHttpPeerGoneFunc)(gpointer stream, const char *why);

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
guint cg_http_peers_get_size(CgHttpPeers *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpPeers, cg_http_peers_free)

G_END_DECLS

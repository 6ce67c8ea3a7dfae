/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Who is calling: the credentials of bus peers, asked from the bus daemon
 * (GetConnectionCredentials) once per unique name, cached, and dropped when
 * the name leaves the bus (NameOwnerChanged). Never from an argument.
 */

typedef struct {
	char *name; /* unique name */
	guint32 uid;
	guint32 pid; /* 0 when unknown */
} CgPeer;

typedef struct _CgPeers CgPeers;

/* Called when a peer that was looked up leaves the bus, before it is freed. */
typedef void (*CgPeerVanishedFunc)(const CgPeer *peer, gpointer user_data);

CgPeers *cg_peers_new(GDBusConnection *connection, CgPeerVanishedFunc vanished, gpointer user_data);
void cg_peers_free(CgPeers *peers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPeers, cg_peers_free)

/* The cached peer, or NULL. */
CgPeer *cg_peers_get(CgPeers *peers, const char *name);
void cg_peers_lookup_async(CgPeers *peers, const char *name, GAsyncReadyCallback callback,
			   gpointer user_data);
/* Borrowed pointer, valid until the peer vanishes. */
CgPeer *cg_peers_lookup_finish(CgPeers *peers, GAsyncResult *result, GError **error);

G_END_DECLS

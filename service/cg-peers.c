/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-peers.h"

struct _CgPeers {
	GDBusConnection *connection;
	GHashTable *peers; /* unique name → CgPeer */
	guint name_owner_changed_id;
	CgPeerVanishedFunc vanished;
	gpointer user_data;
};

static void
cg_peer_free(CgPeer *peer)
{
	g_free(peer->name);
	g_free(peer);
}

static void
name_owner_changed_cb(GDBusConnection *connection, const char *sender, const char *path,
		      const char *iface, const char *signal, GVariant *parameters,
		      gpointer user_data)
{
	CgPeers *peers = user_data;
	const char *name, *old_owner, *new_owner;
	CgPeer *peer;

	g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
	if (name[0] != ':' || new_owner[0] != '\0')
		return;
	peer = g_hash_table_lookup(peers->peers, name);
	if (peer == NULL)
		return;
	g_debug("peer %s (uid %u) left the bus", peer->name, peer->uid);
	if (peers->vanished != NULL)
		peers->vanished(peer, peers->user_data);
	g_hash_table_remove(peers->peers, name);
}

CgPeers *
cg_peers_new(GDBusConnection *connection, CgPeerVanishedFunc vanished, gpointer user_data)
{
	CgPeers *peers = g_new0(CgPeers, 1);

	peers->connection = g_object_ref(connection);
	peers->peers =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)cg_peer_free);
	peers->vanished = vanished;
	peers->user_data = user_data;
	peers->name_owner_changed_id = g_dbus_connection_signal_subscribe(
	    connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
	    "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb, peers,
	    NULL);
	return peers;
}

void
cg_peers_free(CgPeers *peers)
{
	if (peers == NULL)
		return;
	if (peers->name_owner_changed_id != 0)
		g_dbus_connection_signal_unsubscribe(peers->connection,
						     peers->name_owner_changed_id);
	g_clear_pointer(&peers->peers, g_hash_table_unref);
	g_clear_object(&peers->connection);
	g_free(peers);
}

CgPeer *
cg_peers_get(CgPeers *peers, const char *name)
{
	return g_hash_table_lookup(peers->peers, name);
}

typedef struct {
	CgPeers *peers;
	char *name;
} LookupData;

static void
lookup_data_free(LookupData *data)
{
	g_free(data->name);
	g_free(data);
}

static void
get_credentials_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	LookupData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) credentials = NULL;
	guint32 uid, pid = 0;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	credentials = g_variant_get_child_value(reply, 0);
	if (!g_variant_lookup(credentials, "UnixUserID", "u", &uid)) {
		g_task_return_new_error(task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
					"The bus did not tell the Unix user of %s", data->name);
		return;
	}
	g_variant_lookup(credentials, "ProcessID", "u", &pid);

	/* Another lookup for the same name may have finished first. */
	if (g_hash_table_lookup(data->peers->peers, data->name) == NULL) {
		CgPeer *peer = g_new0(CgPeer, 1);

		peer->name = g_strdup(data->name);
		peer->uid = uid;
		peer->pid = pid;
		g_hash_table_insert(data->peers->peers, peer->name, peer);
	}
	g_task_return_boolean(task, TRUE);
}

void
cg_peers_lookup_async(CgPeers *peers, const char *name, GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
	LookupData *data = g_new0(LookupData, 1);

	data->peers = peers;
	data->name = g_strdup(name);
	g_task_set_task_data(task, data, (GDestroyNotify)lookup_data_free);
	if (g_hash_table_contains(peers->peers, name)) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	g_dbus_connection_call(peers->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetConnectionCredentials",
			       g_variant_new("(s)", name), G_VARIANT_TYPE("(a{sv})"),
			       G_DBUS_CALL_FLAGS_NONE, -1, NULL, get_credentials_cb,
			       g_steal_pointer(&task));
}

CgPeer *
cg_peers_lookup_finish(CgPeers *peers, GAsyncResult *result, GError **error)
{
	LookupData *data = g_task_get_task_data(G_TASK(result));
	CgPeer *peer;

	if (!g_task_propagate_boolean(G_TASK(result), error))
		return NULL;
	/* Looked up again: the peer may have left while the answer travelled. */
	peer = g_hash_table_lookup(peers->peers, data->name);
	if (peer == NULL)
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER, "%s left the bus",
			    data->name);
	return peer;
}

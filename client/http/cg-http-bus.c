/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-bus.h"
#include "cg-http-log.h"
#include "cg-http-metrics.h"

#define CG_HTTP_CALL_TIMEOUT_MS 25000
#define CG_HTTP_RECONNECT_S 2
/* The bus limits replies pending per connection (dbus-daemon's
 * max_replies_per_connection, 128 by default): calls beyond this many in
 * flight wait in a queue; beyond the queue's length they fail at once. */
#define CG_HTTP_MAX_IN_FLIGHT 64
#define CG_HTTP_MAX_QUEUED 20000

typedef struct {
	guint id;
	char *progress_id;
	CgHttpUpdateFunc update_func;
	CgHttpVanishedFunc vanished_func;
	gpointer user_data;
} CgHttpWatch;

struct _CgHttpBus {
	GObject parent_instance;
	char *address; /* NULL: the system bus */
	GDBusConnection *connection;
	GCancellable *cancellable;
	guint reconnect_id;
	gboolean seen_owner; /* certgend was there once: its return is a reconnect */
	gulong closed_id;
	guint name_watch_id;
	guint signal_id;
	char *owner;
	guint next_watch_id;
	GHashTable *watches;	 /* id -> CgHttpWatch */
	GHashTable *by_progress; /* progress id -> GPtrArray of CgHttpWatch (not owned) */
	guint in_flight;
	GQueue queue; /* GTask of calls waiting for a slot */
};

G_DEFINE_TYPE(CgHttpBus, cg_http_bus, G_TYPE_OBJECT)

static void connect_bus(CgHttpBus *self);

static void
watch_free(gpointer data)
{
	CgHttpWatch *watch = data;

	g_free(watch->progress_id);
	g_free(watch);
}

/* Watch ids now, so callbacks may unwatch (themselves or others). */
static GArray *
watch_ids(CgHttpBus *self, const char *progress_id)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));

	if (progress_id != NULL) {
		GPtrArray *list = g_hash_table_lookup(self->by_progress, progress_id);

		for (guint i = 0; list != NULL && i < list->len; i++)
			g_array_append_val(ids, ((CgHttpWatch *)list->pdata[i])->id);
	} else {
		GHashTableIter iter;
		gpointer value;

		g_hash_table_iter_init(&iter, self->watches);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			g_array_append_val(ids, ((CgHttpWatch *)value)->id);
	}
	return ids;
}

static void
notify_vanished(CgHttpBus *self)
{
	g_autoptr(GArray) ids = watch_ids(self, NULL);

	for (guint i = 0; i < ids->len; i++) {
		CgHttpWatch *watch = g_hash_table_lookup(
		    self->watches, GUINT_TO_POINTER(g_array_index(ids, guint, i)));

		if (watch != NULL && watch->vanished_func != NULL)
			watch->vanished_func(watch->user_data);
	}
}

static void
progress_changed_cb(GDBusConnection *connection, const char *sender, const char *object_path,
		    const char *interface_name, const char *signal_name, GVariant *parameters,
		    gpointer user_data)
{
	CgHttpBus *self = user_data;
	g_autoptr(GVariant) update = NULL;
	g_autoptr(GArray) ids = NULL;
	const char *progress_id;

	/* GDBus matched the sender already; check it against the current owner
	 * anyway: only certgend's unique name may speak for it. */
	if (self->owner == NULL || g_strcmp0(sender, self->owner) != 0) {
		cg_http_debug("Ignoring ProgressChanged from %s",
			      sender != NULL ? sender : "(none)");
		return;
	}
	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv})")))
		return;
	g_variant_get(parameters, "(&s@a{sv})", &progress_id, &update);
	cg_http_metrics_update_seen(update);
	ids = watch_ids(self, progress_id);
	for (guint i = 0; i < ids->len; i++) {
		CgHttpWatch *watch = g_hash_table_lookup(
		    self->watches, GUINT_TO_POINTER(g_array_index(ids, guint, i)));

		if (watch != NULL)
			watch->update_func(update, watch->user_data);
	}
}

static void
drop_owner(CgHttpBus *self)
{
	if (self->signal_id != 0 && self->connection != NULL)
		g_dbus_connection_signal_unsubscribe(self->connection, self->signal_id);
	self->signal_id = 0;
	if (self->owner != NULL) {
		g_message("certgend (%s) left the bus", self->owner);
		g_clear_pointer(&self->owner, g_free);
		notify_vanished(self);
	}
}

static void
name_appeared_cb(GDBusConnection *connection, const char *name, const char *name_owner,
		 gpointer user_data)
{
	CgHttpBus *self = user_data;

	if (g_strcmp0(self->owner, name_owner) == 0)
		return;
	drop_owner(self);
	if (self->seen_owner)
		cg_http_metrics_bus_reconnected();
	self->seen_owner = TRUE;
	self->owner = g_strdup(name_owner);
	self->signal_id = g_dbus_connection_signal_subscribe(
	    connection, name_owner, CG_MANAGER_INTERFACE, "ProgressChanged", CG_OBJECT_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, progress_changed_cb, self, NULL);
	g_message("certgend is %s", name_owner);
}

static void
name_vanished_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	CgHttpBus *self = user_data;

	drop_owner(self);
}

static gboolean
reconnect_cb(gpointer user_data)
{
	CgHttpBus *self = user_data;

	self->reconnect_id = 0;
	connect_bus(self);
	return G_SOURCE_REMOVE;
}

static void
schedule_reconnect(CgHttpBus *self)
{
	if (self->reconnect_id == 0)
		self->reconnect_id = g_timeout_add_seconds(CG_HTTP_RECONNECT_S, reconnect_cb, self);
}

static void
drop_connection(CgHttpBus *self)
{
	if (self->name_watch_id != 0)
		g_bus_unwatch_name(self->name_watch_id);
	self->name_watch_id = 0;
	drop_owner(self);
	if (self->connection != NULL) {
		g_clear_signal_handler(&self->closed_id, self->connection);
		g_clear_object(&self->connection);
	}
}

static void
connection_closed_cb(GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
		     gpointer user_data)
{
	CgHttpBus *self = user_data;

	g_warning("Lost the connection to the bus: %s", error != NULL ? error->message : "closed");
	drop_connection(self);
	schedule_reconnect(self);
}

static void
connected_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_finish(result, &error);
	CgHttpBus *self;

	if (connection == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		self = user_data;
		g_warning("Could not connect to the bus: %s; retrying", error->message);
		schedule_reconnect(self);
		return;
	}
	self = user_data;
	self->connection = connection;
	g_dbus_connection_set_exit_on_close(connection, FALSE);
	self->closed_id =
	    g_signal_connect(connection, "closed", G_CALLBACK(connection_closed_cb), self);
	cg_http_debug("Connected to the bus as %s", g_dbus_connection_get_unique_name(connection));
	self->name_watch_id =
	    g_bus_watch_name_on_connection(connection, CG_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
					   name_appeared_cb, name_vanished_cb, self, NULL);
}

static void
connect_bus(CgHttpBus *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *address = NULL;

	if (self->address != NULL)
		address = g_strdup(self->address);
	else
		address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (address == NULL) {
		g_warning("No system bus address: %s", error->message);
		schedule_reconnect(self);
		return;
	}
	g_dbus_connection_new_for_address(address,
					  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
					      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
					  NULL, self->cancellable, connected_cb, self);
}

static void
cg_http_bus_dispose(GObject *object)
{
	CgHttpBus *self = CG_HTTP_BUS(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	while (!g_queue_is_empty(&self->queue)) {
		g_autoptr(GTask) task = g_queue_pop_head(&self->queue);

		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CLOSED,
					"The bridge is stopping");
	}
	if (self->connection != NULL) {
		GDBusConnection *connection = g_object_ref(self->connection);

		drop_connection(self);
		g_dbus_connection_flush_sync(connection, NULL, NULL);
		g_dbus_connection_close_sync(connection, NULL, NULL);
		g_object_unref(connection);
	}
	G_OBJECT_CLASS(cg_http_bus_parent_class)->dispose(object);
}

static void
cg_http_bus_finalize(GObject *object)
{
	CgHttpBus *self = CG_HTTP_BUS(object);

	g_clear_object(&self->cancellable);
	g_clear_pointer(&self->by_progress, g_hash_table_unref);
	g_clear_pointer(&self->watches, g_hash_table_unref);
	g_free(self->owner);
	g_free(self->address);
	G_OBJECT_CLASS(cg_http_bus_parent_class)->finalize(object);
}

static void
cg_http_bus_class_init(CgHttpBusClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = cg_http_bus_dispose;
	object_class->finalize = cg_http_bus_finalize;
}

static void
cg_http_bus_init(CgHttpBus *self)
{
	self->cancellable = g_cancellable_new();
	self->watches = g_hash_table_new_full(NULL, NULL, NULL, watch_free);
	self->by_progress = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						  (GDestroyNotify)g_ptr_array_unref);
}

CgHttpBus *
cg_http_bus_new(const char *address)
{
	CgHttpBus *self = g_object_new(CG_TYPE_HTTP_BUS, NULL);

	self->address = g_strdup(address);
	connect_bus(self);
	return self;
}

const char *
cg_http_bus_get_owner(CgHttpBus *self)
{
	return self->owner;
}

guint
cg_http_bus_watch(CgHttpBus *self, const char *progress_id, CgHttpUpdateFunc update_func,
		  CgHttpVanishedFunc vanished_func, gpointer user_data)
{
	CgHttpWatch *watch = g_new0(CgHttpWatch, 1);
	GPtrArray *list = g_hash_table_lookup(self->by_progress, progress_id);

	watch->id = ++self->next_watch_id;
	if (watch->id == 0)
		watch->id = ++self->next_watch_id;
	watch->progress_id = g_strdup(progress_id);
	watch->update_func = update_func;
	watch->vanished_func = vanished_func;
	watch->user_data = user_data;
	g_hash_table_insert(self->watches, GUINT_TO_POINTER(watch->id), watch);
	if (list == NULL) {
		list = g_ptr_array_new();
		g_hash_table_insert(self->by_progress, g_strdup(progress_id), list);
	}
	g_ptr_array_add(list, watch);
	return watch->id;
}

void
cg_http_bus_unwatch(CgHttpBus *self, guint watch_id)
{
	CgHttpWatch *watch = g_hash_table_lookup(self->watches, GUINT_TO_POINTER(watch_id));
	GPtrArray *list;

	if (watch == NULL)
		return;
	list = g_hash_table_lookup(self->by_progress, watch->progress_id);
	if (list != NULL) {
		g_ptr_array_remove_fast(list, watch);
		if (list->len == 0)
			g_hash_table_remove(self->by_progress, watch->progress_id);
	}
	g_hash_table_remove(self->watches, GUINT_TO_POINTER(watch_id));
}

guint
cg_http_bus_get_n_watches(CgHttpBus *self)
{
	return g_hash_table_size(self->watches);
}

typedef struct {
	GVariant *value;
	GUnixFDList *fd_list;
} CgHttpReply;

static void
reply_free(gpointer data)
{
	CgHttpReply *reply = data;

	g_clear_pointer(&reply->value, g_variant_unref);
	g_clear_object(&reply->fd_list);
	g_free(reply);
}

typedef struct {
	char *method;
	GVariant *parameters;
	GVariantType *reply_type;
} CgHttpCall;

static void
call_free(gpointer data)
{
	CgHttpCall *call = data;

	g_free(call->method);
	g_clear_pointer(&call->parameters, g_variant_unref);
	g_clear_pointer(&call->reply_type, g_variant_type_free);
	g_free(call);
}

static void send_call(CgHttpBus *self, GTask *task);

/* Sends queued calls while slots are free. */
static void
pump_queue(CgHttpBus *self)
{
	while (self->in_flight < CG_HTTP_MAX_IN_FLIGHT && !g_queue_is_empty(&self->queue)) {
		GTask *task = g_queue_pop_head(&self->queue);

		if (g_task_return_error_if_cancelled(task)) {
			g_object_unref(task);
			continue;
		}
		send_call(self, task);
	}
}

static void
call_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgHttpBus *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;
	CgHttpReply *reply = g_new0(CgHttpReply, 1);

	self->in_flight--;
	reply->value = g_dbus_connection_call_with_unix_fd_list_finish(
	    G_DBUS_CONNECTION(source), &reply->fd_list, result, &error);
	if (reply->value == NULL) {
		reply_free(reply);
		g_task_return_error(task, g_steal_pointer(&error));
	} else {
		g_task_return_pointer(task, reply, reply_free);
	}
	pump_queue(self);
}

/* Takes over @task. */
static void
send_call(CgHttpBus *self, GTask *task)
{
	CgHttpCall *call = g_task_get_task_data(task);

	if (self->connection == NULL || g_dbus_connection_is_closed(self->connection)) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					"Not connected to the bus");
		g_object_unref(task);
		return;
	}
	self->in_flight++;
	g_dbus_connection_call_with_unix_fd_list(
	    self->connection, CG_BUS_NAME, CG_OBJECT_PATH, CG_MANAGER_INTERFACE, call->method,
	    call->parameters, call->reply_type, G_DBUS_CALL_FLAGS_NONE, CG_HTTP_CALL_TIMEOUT_MS,
	    NULL, g_task_get_cancellable(task), call_done_cb, task);
}

/* The source tag of cg_http_bus_call()'s tasks (a datum: ISO C has no
 * function pointer to void * conversion). */
static char cg_http_bus_call_tag;

void
cg_http_bus_call(CgHttpBus *self, const char *method, GVariant *parameters,
		 const GVariantType *reply_type, GCancellable *cancellable,
		 GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	CgHttpCall *call = g_new0(CgHttpCall, 1);

	call->method = g_strdup(method);
	call->parameters = parameters != NULL ? g_variant_ref_sink(parameters) : NULL;
	call->reply_type = reply_type != NULL ? g_variant_type_copy(reply_type) : NULL;
	g_task_set_task_data(task, call, call_free);
	g_task_set_source_tag(task, &cg_http_bus_call_tag);
	if (self->in_flight < CG_HTTP_MAX_IN_FLIGHT) {
		send_call(self, task);
		return;
	}
	if (g_queue_get_length(&self->queue) >= CG_HTTP_MAX_QUEUED) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
					"Too many requests are waiting for certgend");
		g_object_unref(task);
		return;
	}
	g_queue_push_tail(&self->queue, task);
}

guint
cg_http_bus_get_n_queued(CgHttpBus *self)
{
	return g_queue_get_length(&self->queue);
}

GVariant *
cg_http_bus_call_finish(CgHttpBus *self, GAsyncResult *result, GUnixFDList **out_fd_list,
			GError **error)
{
	CgHttpReply *reply;
	GVariant *value;

	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	reply = g_task_propagate_pointer(G_TASK(result), error);
	if (reply == NULL)
		return NULL;
	value = g_steal_pointer(&reply->value);
	if (out_fd_list != NULL)
		*out_fd_list = g_steal_pointer(&reply->fd_list);
	reply_free(reply);
	return value;
}

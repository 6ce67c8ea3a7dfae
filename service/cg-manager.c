/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bus face of certgend (see cg-manager.h): one handle_<method> per
 * method of the interface, each reading its own typed arguments once, then
 * authorize_async() (who calls, and may they), then the engine, then the
 * reply. Errors become D-Bus errors in reply_error() alone.
 */
#include "config.h"

#include "cg-manager.h"

#include <gio/gunixfdlist.h>

#include "cg-auth.h"
#include "cg-contract.h"
#include "cg-dbus-generated.h"
#include "cg-engine.h"
#include "cg-error.h"
#include "cg-options.h"
#include "cg-peers.h"
#include "cg-record.h"
#include "cg-template-info.h"

struct _CgManager {
	GDBusConnection *connection;
	CgDBusManager *skeleton;
	CgEngine *engine;
	CgPeers *peers;
	CgAuth *auth;
	guint n_pacing;		   /* round trips to the bus under way */
	guint round_copies;	   /* copies sent since the last round trip began */
	GCancellable *cancellable; /* cancelled when the manager goes */
};

/* ---- one call: its arguments, from the handler to the reply -------------- */

typedef struct {
	CgManager *self;
	GDBusMethodInvocation *invocation; /* NULL once replied */
	char *sender;			   /* the caller's unique name */
	CgCaller caller; /* connection: sender; uid, is_admin: authorize_finish() */
	char *progress_id;
	/* StartGeneration */
	char *transaction_id;
	char *template_id;
	char *data_json;
	char *owner_label;
	CgGenerationOptions options;
	/* RenderPreview (template_id and data_json above) */
	guint page;
	/* Revoke (the number in progress_id) */
	char *reason;
} CgCall;

static void
cg_call_free(CgCall *call)
{
	g_clear_object(&call->invocation);
	g_free(call->sender);
	g_free(call->progress_id);
	g_free(call->transaction_id);
	g_free(call->template_id);
	g_free(call->data_json);
	g_free(call->owner_label);
	g_free(call->reason);
	g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgCall, cg_call_free)

/* The handler owns @invocation from here. */
static CgCall *
cg_call_new(CgManager *self, GDBusMethodInvocation *invocation, const char *progress_id)
{
	CgCall *call = g_new0(CgCall, 1);

	call->self = self;
	call->invocation = invocation;
	call->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	call->caller.connection = call->sender;
	call->progress_id = g_strdup(progress_id);
	return call;
}

/* The one place a failure becomes a D-Bus error (CG_ERROR codes carry their
 * registered names; anything else is org.freedesktop.DBus.Error.Failed or
 * its own registered name). */
static void
reply_error(CgCall *call, const GError *error)
{
	g_dbus_method_invocation_return_gerror(g_steal_pointer(&call->invocation), error);
}

/* ---- identity and authorization --------------------------------------------- */

/* What a method needs to be allowed. */
typedef enum {
	CG_NEED_GENERATE,	/* generate, and delegate when an owner label is asked */
	CG_NEED_OWNER_OR_ADMIN, /* progress_id's owner, or manage-all for is_admin */
	CG_NEED_ADMIN_FLAG,	/* anyone; manage-all decides is_admin */
	CG_NEED_CERTIFICATE_OWNER_OR_ADMIN, /* the uid that issued the number, or manage-all */
} CgNeed;

typedef struct {
	CgManager *self;
	char *sender;
	char *progress_id;
	gboolean delegate;
	gboolean interactive;
	CgNeed need;
	guint32 uid;
	gboolean is_admin;
} CgAuthorization;

static void
cg_authorization_free(CgAuthorization *auth)
{
	g_free(auth->sender);
	g_free(auth->progress_id);
	g_free(auth);
}

static void
check_action(GTask *task, const char *action, GAsyncReadyCallback callback)
{
	CgAuthorization *auth = g_task_get_task_data(task);

	cg_auth_check_async(auth->self->auth, auth->sender, auth->uid, action, auth->interactive,
			    callback, task);
}

static void
admin_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgAuthorization *auth = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	/* Not an administrator is no error: the engine answers NotFound for
	 * what is not the caller's. */
	auth->is_admin = cg_auth_check_finish(res, &error);
	if (!auth->is_admin && !g_error_matches(error, CG_ERROR, CG_ERROR_PERMISSION_DENIED))
		g_warning("manage-all check failed: %s", error->message);
	g_task_return_boolean(task, TRUE);
}

static void
action_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GError) error = NULL;

	if (!cg_auth_check_finish(res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
generate_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgAuthorization *auth = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!cg_auth_check_finish(res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (auth->delegate) {
		check_action(g_steal_pointer(&task), CG_ACTION_DELEGATE, action_checked_cb);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
peer_known_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgAuthorization *auth = g_task_get_task_data(task);
	CgManager *self = auth->self;
	g_autoptr(GError) error = NULL;
	CgPeer *peer;

	peer = cg_peers_lookup_finish(self->peers, res, &error);
	if (peer == NULL) {
		g_debug("Could not identify %s: %s", auth->sender, error->message);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	auth->uid = peer->uid;

	switch (auth->need) {
	case CG_NEED_GENERATE:
		check_action(g_steal_pointer(&task), CG_ACTION_GENERATE, generate_checked_cb);
		return;
	case CG_NEED_OWNER_OR_ADMIN:
		/* The owner needs no polkit round trip. */
		if (cg_engine_is_owner(self->engine, auth->uid, auth->progress_id)) {
			g_task_return_boolean(task, TRUE);
			return;
		}
		check_action(g_steal_pointer(&task), CG_ACTION_MANAGE_ALL, admin_checked_cb);
		return;
	case CG_NEED_CERTIFICATE_OWNER_OR_ADMIN:
		/* progress_id holds the certificate number here */
		if (cg_engine_is_certificate_owner(self->engine, auth->uid, auth->progress_id)) {
			g_task_return_boolean(task, TRUE);
			return;
		}
		check_action(g_steal_pointer(&task), CG_ACTION_MANAGE_ALL, admin_checked_cb);
		return;
	case CG_NEED_ADMIN_FLAG:
		check_action(g_steal_pointer(&task), CG_ACTION_MANAGE_ALL, admin_checked_cb);
		return;
	}
	g_return_if_reached();
}

/*
 * The one identity and authorization helper of every method: the caller's
 * uid from the bus (CgPeers), then CgAuth as @need says. @progress_id: the
 * generation of CG_NEED_OWNER_OR_ADMIN; @delegate: CG_NEED_GENERATE with an
 * owner label. Refusals are errors (CG_ERROR_PERMISSION_DENIED); not being
 * an administrator is not.
 */
static void
authorize_async(CgManager *self, GDBusMethodInvocation *invocation, CgNeed need,
		const char *progress_id, gboolean delegate, GAsyncReadyCallback callback,
		gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
	CgAuthorization *auth = g_new0(CgAuthorization, 1);
	GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);

	auth->self = self;
	auth->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	auth->progress_id = g_strdup(progress_id);
	auth->delegate = delegate;
	auth->interactive = (g_dbus_message_get_flags(message) &
			     G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
	auth->need = need;
	g_task_set_task_data(task, auth, (GDestroyNotify)cg_authorization_free);
	if (auth->sender == NULL) {
		g_task_return_new_error(task, CG_ERROR, CG_ERROR_PERMISSION_DENIED,
					"Callers must be on a bus");
		return;
	}
	cg_peers_lookup_async(self->peers, auth->sender, peer_known_cb, g_steal_pointer(&task));
}

/* On success, @caller gets the uid and is_admin; its other fields stay. */
static gboolean
authorize_finish(GAsyncResult *result, CgCaller *caller, GError **error)
{
	CgAuthorization *auth = g_task_get_task_data(G_TASK(result));

	if (!g_task_propagate_boolean(G_TASK(result), error))
		return FALSE;
	caller->uid = auth->uid;
	caller->is_admin = auth->is_admin;
	return TRUE;
}

/* The end of the authorization of a method whose work goes on elsewhere:
 * @call, or NULL when refused (replied to and freed). */
static CgCall *
finish_authorized(GAsyncResult *res, CgCall *call)
{
	g_autoptr(GError) error = NULL;

	if (authorize_finish(res, &call->caller, &error))
		return call;
	reply_error(call, error);
	cg_call_free(call);
	return NULL;
}

/* The common start of the methods on one generation. */
static gboolean
authorize_for_id(CgManager *self, GDBusMethodInvocation *invocation, const char *progress_id,
		 GAsyncReadyCallback callback)
{
	g_autoptr(CgCall) call = cg_call_new(self, invocation, progress_id);
	g_autoptr(GError) error = NULL;

	/* It is echoed in errors (NotFound) and logs. */
	if (!cg_check_string_argument("progress_id", progress_id, &error)) {
		reply_error(call, error);
		return TRUE;
	}
	authorize_async(self, invocation, CG_NEED_OWNER_OR_ADMIN, progress_id, FALSE, callback,
			g_steal_pointer(&call));
	return TRUE;
}

/* ---- updates ---------------------------------------------------------------- */

static void pacing_done_cb(GObject *source, GAsyncResult *res, gpointer user_data);

/* Backpressure. The copies of updates go in rounds, each closed by a
 * round trip to the bus daemon (GetId): its reply comes once the daemon
 * has read and routed everything sent before it. A round is closed once it
 * holds CG_PACING_ROUND copies, or at once when no round trip is under way;
 * with CG_PACING_WINDOW round trips under way and a full round waiting, the
 * engine is backlogged: in-stage reports wait, the latest of each
 * generation replacing the one before, so certgend never serializes
 * updates faster than the bus takes them, and at most about
 * (CG_PACING_WINDOW + 1) * CG_PACING_ROUND copies (plus one update's) are
 * on their way. Unbounded, in the fan-out benchmark the main thread spent
 * itself serializing copies nobody would get soon, and method replies
 * waited behind them in GDBus's queue for tens of seconds.
 *
 * Rounds of copies, not one round trip per update: with one copy an update
 * (each generation followed by its starter alone) a round trip per update
 * let two updates be on their way; the bus idled (6 % of a core) while
 * the reports of the rendering generations waited: 658 updates/s sent of
 * 2,326 pages/s reported, beside other work. Two round trips, not one: the
 * bus routes one round while the next is built. (With
 * g_dbus_connection_flush() as the measure, its callback at times did not
 * come for seconds, nothing left to write, and certgend sent nothing
 * meanwhile: GLib 2.74.) */
#define CG_PACING_WINDOW 2
#define CG_PACING_ROUND 64

static void
start_round_trip(CgManager *self)
{
	self->n_pacing++;
	self->round_copies = 0;
	g_dbus_connection_call(self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE("(s)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, pacing_done_cb, self);
}

/* Whether the round under way is full and no round trip may close it. */
static gboolean
pacing_is_behind(const CgManager *self)
{
	return self->n_pacing >= CG_PACING_WINDOW && self->round_copies >= CG_PACING_ROUND;
}

/* After @n_copies copies of an update were sent. */
static void
pace(CgManager *self, guint n_copies)
{
	self->round_copies += n_copies;
	if (self->n_pacing == 0 ||
	    (self->n_pacing < CG_PACING_WINDOW && self->round_copies >= CG_PACING_ROUND))
		start_round_trip(self);
	if (pacing_is_behind(self))
		cg_engine_set_backlogged(self->engine, TRUE);
}

static void
pacing_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	CgManager *self;

	if (reply == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return; /* the manager is gone (or going) */
		g_debug("Pacing the updates: %s", error->message);
	}
	self = user_data;
	self->n_pacing--;
	/* the round sent meanwhile (full or not) is closed now */
	if (self->round_copies > 0)
		start_round_trip(self);
	/* the held reports go now, and start the next round */
	cg_engine_set_backlogged(self->engine, FALSE);
}

/* One ProgressChanged, unicast to each receiver: the message is built
 * once, each receiver gets a copy with its destination (a sent message is
 * locked to its serial); the copies share the body's GVariant, though
 * GDBus still serializes it for each. */
static void
engine_update_cb(const char *const *connections, guint n_connections, const char *progress_id,
		 GVariant *update, gpointer user_data)
{
	CgManager *self = user_data;
	g_autoptr(GDBusMessage) signal =
	    g_dbus_message_new_signal(CG_OBJECT_PATH, CG_MANAGER_INTERFACE, "ProgressChanged");

	g_dbus_message_set_body(signal, g_variant_new("(s@a{sv})", progress_id, update));
	for (guint i = 0; i < n_connections; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GDBusMessage) copy = i + 1 < n_connections
						   ? g_dbus_message_copy(signal, &error)
						   : g_object_ref(signal);

		if (copy != NULL) {
			g_dbus_message_set_destination(copy, connections[i]);
			g_dbus_connection_send_message(
			    self->connection, copy, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, &error);
		}
		if (error != NULL)
			g_debug("Could not send ProgressChanged to %s: %s", connections[i],
				error->message);
	}
	pace(self, n_connections);
}

static void
peer_vanished_cb(const CgPeer *peer, gpointer user_data)
{
	CgManager *self = user_data;

	cg_engine_connection_closed(self->engine, peer->name);
}

/* ---- StartGeneration ------------------------------------------------------ */

static void
start_generation_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	CgManager *self = call->self;
	g_autoptr(GError) error = NULL;
	g_autofree char *progress_id = NULL;

	if (!authorize_finish(res, &call->caller, &error)) {
		reply_error(call, error);
		return;
	}
	call->caller.owner_label = call->owner_label;
	progress_id = cg_engine_start(self->engine, &call->caller, call->transaction_id,
				      call->template_id, call->data_json, &call->options, &error);
	if (progress_id == NULL) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_start_generation(self->skeleton,
						  g_steal_pointer(&call->invocation), progress_id);
}

static gboolean
handle_start_generation(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
			const char *transaction_id, const char *template_id, const char *data_json,
			GVariant *options, CgManager *self)
{
	g_autoptr(CgCall) call = cg_call_new(self, invocation, NULL);
	g_autoptr(GError) error = NULL;
	gboolean delegate;

	/* Checked before anything is asked or created, in this order. */
	if (!cg_engine_check_ids(transaction_id, template_id, &error) ||
	    !cg_options_parse(options, &call->options, &call->owner_label, &error) ||
	    !cg_engine_check_content(self->engine, template_id, data_json, &error)) {
		reply_error(call, error);
		return TRUE;
	}
	call->transaction_id = g_strdup(transaction_id);
	call->template_id = g_strdup(template_id);
	call->data_json = g_strdup(data_json);
	delegate = call->owner_label != NULL;
	authorize_async(self, invocation, CG_NEED_GENERATE, NULL, delegate,
			start_generation_authorized_cb, g_steal_pointer(&call));
	return TRUE;
}

/* ---- Verify, Revoke ---------------------------------------------------------- */

/* Anyone may verify: no identity, no polkit; a lookup by primary key on
 * the registry's reading connection, which never waits for a writer. */
static gboolean
handle_verify(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
	      const char *certificate_number, const char *code, CgManager *self)
{
	g_autoptr(CgCall) call = cg_call_new(self, invocation, NULL);
	g_autoptr(GError) error = NULL;
	GVariant *record;

	if (!cg_check_string_argument("certificate_number", certificate_number, &error) ||
	    !cg_check_string_argument("code", code, &error)) {
		reply_error(call, error);
		return TRUE;
	}
	record = cg_engine_verify(self->engine, certificate_number, code, &error);
	if (record == NULL) {
		reply_error(call, error);
		return TRUE;
	}
	cg_dbus_manager_complete_verify(skeleton, g_steal_pointer(&call->invocation), record);
	return TRUE;
}

static void
revoke_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    !cg_engine_revoke(call->self->engine, &call->caller, call->progress_id, call->reason,
			      &error)) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_revoke(call->self->skeleton, g_steal_pointer(&call->invocation));
}

static gboolean
handle_revoke(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
	      const char *certificate_number, const char *reason, CgManager *self)
{
	g_autoptr(CgCall) call = cg_call_new(self, invocation, certificate_number);
	g_autoptr(GError) error = NULL;

	/* Both are echoed or stored: checked before anything is asked. */
	if (!cg_check_string_argument("certificate_number", certificate_number, &error) ||
	    !cg_record_check_reason(reason, &error)) {
		reply_error(call, error);
		return TRUE;
	}
	call->reason = g_strdup(reason);
	authorize_async(self, invocation, CG_NEED_CERTIFICATE_OWNER_OR_ADMIN, certificate_number,
			FALSE, revoke_authorized_cb, g_steal_pointer(&call));
	return TRUE;
}

/* ---- the methods on one generation ------------------------------------------ */

static void
cancel_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    !cg_engine_cancel(call->self->engine, &call->caller, call->progress_id, &error)) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_cancel(call->self->skeleton, g_steal_pointer(&call->invocation));
}

static gboolean
handle_cancel(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, const char *progress_id,
	      CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, cancel_authorized_cb);
}

static void
get_progress_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	GVariant *snapshot = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    (snapshot = cg_engine_get_progress(call->self->engine, &call->caller, call->progress_id,
					       &error)) == NULL) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_get_progress(call->self->skeleton,
					      g_steal_pointer(&call->invocation), snapshot);
}

static gboolean
handle_get_progress(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
		    const char *progress_id, CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, get_progress_authorized_cb);
}

static void
get_analytics_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	GVariant *analytics = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    (analytics = cg_engine_get_analytics(call->self->engine, &call->caller,
						 call->progress_id, &error)) == NULL) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_get_analytics(call->self->skeleton,
					       g_steal_pointer(&call->invocation), analytics);
}

static gboolean
handle_get_analytics(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
		     const char *progress_id, CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, get_analytics_authorized_cb);
}

static void
subscribe_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    !cg_engine_subscribe(call->self->engine, &call->caller, call->progress_id, &error)) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_subscribe(call->self->skeleton,
					   g_steal_pointer(&call->invocation));
}

static gboolean
handle_subscribe(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
		 const char *progress_id, CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, subscribe_authorized_cb);
}

static void
unsubscribe_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!authorize_finish(res, &call->caller, &error) ||
	    !cg_engine_unsubscribe(call->self->engine, &call->caller, call->progress_id, &error)) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_unsubscribe(call->self->skeleton,
					     g_steal_pointer(&call->invocation));
}

static gboolean
handle_unsubscribe(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
		   const char *progress_id, CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, unsubscribe_authorized_cb);
}

/* The reply of a method whose one out argument is a file descriptor: @fd
 * (taken), or @error when @fd is -1. */
static void
reply_fd(CgCall *call, int fd, const GError *error)
{
	g_autoptr(GUnixFDList) fd_list = NULL;

	if (fd < 0) {
		reply_error(call, error);
		return;
	}
	fd_list = g_unix_fd_list_new_from_array(&fd, 1);
	g_dbus_method_invocation_return_value_with_unix_fd_list(g_steal_pointer(&call->invocation),
								g_variant_new("(h)", 0), fd_list);
}

static void
open_certificate_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	int fd = -1;

	if (authorize_finish(res, &call->caller, &error))
		fd = cg_engine_open_certificate(call->self->engine, &call->caller,
						call->progress_id, &error);
	reply_fd(call, fd, error);
}

static gboolean
handle_open_certificate(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
			GUnixFDList *fd_list, const char *progress_id, CgManager *self)
{
	return authorize_for_id(self, invocation, progress_id, open_certificate_authorized_cb);
}

/* ---- RenderPreview -------------------------------------------------------------- */

static void
preview_rendered_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	int fd = cg_engine_render_preview_finish(call->self->engine, res, &error);

	reply_fd(call, fd, error);
}

static void
render_preview_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	CgCall *call = finish_authorized(res, user_data);

	/* rendering is work: off the main loop */
	if (call != NULL)
		cg_engine_render_preview_async(call->self->engine, &call->caller, call->template_id,
					       call->data_json, call->page, preview_rendered_cb,
					       call);
}

static gboolean
handle_render_preview(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
		      GUnixFDList *fd_list, const char *template_id, const char *data_json,
		      guint page, CgManager *self)
{
	g_autoptr(CgCall) call = cg_call_new(self, invocation, NULL);
	g_autoptr(GError) error = NULL;

	/* Checked before anything is asked, as for StartGeneration. */
	if (!cg_check_string_argument("template_id", template_id, &error) ||
	    !cg_engine_check_content(self->engine, template_id, data_json, &error)) {
		reply_error(call, error);
		return TRUE;
	}
	call->template_id = g_strdup(template_id);
	call->data_json = g_strdup(data_json);
	call->page = page;
	authorize_async(self, invocation, CG_NEED_GENERATE, NULL, FALSE,
			render_preview_authorized_cb, g_steal_pointer(&call));
	return TRUE;
}

/* ---- the methods on all of the caller's generations --------------------------- */

/* authorize_finish() for calls that need no more checks: FALSE when
 * refused, the error replied already. */
static gboolean
call_authorized(CgCall *call, GAsyncResult *res)
{
	g_autoptr(GError) error = NULL;

	if (authorize_finish(res, &call->caller, &error))
		return TRUE;
	reply_error(call, error);
	return FALSE;
}

static void
list_generations_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;

	if (!call_authorized(call, res))
		return;
	cg_dbus_manager_complete_list_generations(
	    call->self->skeleton, g_steal_pointer(&call->invocation),
	    cg_engine_list(call->self->engine, &call->caller));
}

static gboolean
handle_list_generations(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	authorize_async(self, invocation, CG_NEED_ADMIN_FLAG, NULL, FALSE,
			list_generations_authorized_cb, cg_call_new(self, invocation, NULL));
	return TRUE;
}

static void
templates_listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) templates = cg_engine_list_templates_finish(res, &error);

	if (templates == NULL) {
		reply_error(call, error);
		return;
	}
	cg_dbus_manager_complete_list_templates(call->self->skeleton,
						g_steal_pointer(&call->invocation),
						cg_template_info_new_list(templates));
}

static void
list_templates_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	CgCall *call = finish_authorized(res, user_data);

	/* loading templates is work: off the main loop */
	if (call != NULL)
		cg_engine_list_templates_async(call->self->engine, templates_listed_cb, call);
}

/* Whoever may generate may see what to generate with. */
static gboolean
handle_list_templates(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	authorize_async(self, invocation, CG_NEED_GENERATE, NULL, FALSE,
			list_templates_authorized_cb, cg_call_new(self, invocation, NULL));
	return TRUE;
}

static void
get_statistics_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;

	if (!call_authorized(call, res))
		return;
	cg_dbus_manager_complete_get_statistics(call->self->skeleton,
						g_steal_pointer(&call->invocation),
						cg_engine_get_statistics(call->self->engine));
}

/* Aggregates only (no ids, no owners): whoever may generate. */
static gboolean
handle_get_statistics(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	authorize_async(self, invocation, CG_NEED_GENERATE, NULL, FALSE,
			get_statistics_authorized_cb, cg_call_new(self, invocation, NULL));
	return TRUE;
}

static void
cleanup_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;

	if (!call_authorized(call, res))
		return;
	cg_dbus_manager_complete_cleanup(call->self->skeleton, g_steal_pointer(&call->invocation),
					 cg_engine_cleanup(call->self->engine, &call->caller));
}

static gboolean
handle_cleanup(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	authorize_async(self, invocation, CG_NEED_ADMIN_FLAG, NULL, FALSE, cleanup_authorized_cb,
			cg_call_new(self, invocation, NULL));
	return TRUE;
}

/* ---- life cycle ---------------------------------------------------------------- */

CgManager *
cg_manager_new(GDBusConnection *connection, const CgConfig *config,
	       const char *const *template_dirs, const char *state_dir, GError **error)
{
	g_autoptr(CgManager) self = g_new0(CgManager, 1);

	self->connection = g_object_ref(connection);
	self->cancellable = g_cancellable_new();
	self->engine = cg_engine_new(config, template_dirs, state_dir, error);
	if (self->engine == NULL)
		return NULL;
	cg_engine_set_update_func(self->engine, engine_update_cb, self);
	self->peers = cg_peers_new(connection, peer_vanished_cb, self);
	self->auth = cg_auth_new(connection);

	self->skeleton = cg_dbus_manager_skeleton_new();
	cg_dbus_manager_set_version(self->skeleton, CG_VERSION);
	g_signal_connect(self->skeleton, "handle-start-generation",
			 G_CALLBACK(handle_start_generation), self);
	g_signal_connect(self->skeleton, "handle-cancel", G_CALLBACK(handle_cancel), self);
	g_signal_connect(self->skeleton, "handle-get-progress", G_CALLBACK(handle_get_progress),
			 self);
	g_signal_connect(self->skeleton, "handle-get-analytics", G_CALLBACK(handle_get_analytics),
			 self);
	g_signal_connect(self->skeleton, "handle-subscribe", G_CALLBACK(handle_subscribe), self);
	g_signal_connect(self->skeleton, "handle-unsubscribe", G_CALLBACK(handle_unsubscribe),
			 self);
	g_signal_connect(self->skeleton, "handle-list-generations",
			 G_CALLBACK(handle_list_generations), self);
	g_signal_connect(self->skeleton, "handle-open-certificate",
			 G_CALLBACK(handle_open_certificate), self);
	g_signal_connect(self->skeleton, "handle-cleanup", G_CALLBACK(handle_cleanup), self);
	g_signal_connect(self->skeleton, "handle-verify", G_CALLBACK(handle_verify), self);
	g_signal_connect(self->skeleton, "handle-revoke", G_CALLBACK(handle_revoke), self);
	g_signal_connect(self->skeleton, "handle-list-templates", G_CALLBACK(handle_list_templates),
			 self);
	g_signal_connect(self->skeleton, "handle-get-statistics", G_CALLBACK(handle_get_statistics),
			 self);
	g_signal_connect(self->skeleton, "handle-render-preview", G_CALLBACK(handle_render_preview),
			 self);
	return g_steal_pointer(&self);
}

gboolean
cg_manager_export(CgManager *self, GError **error)
{
	return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton),
						self->connection, CG_OBJECT_PATH, error);
}

/*
 * Shutdown, in this order (each step relies on the ones before):
 *  1. stop accepting calls: unexport the object, disconnect the handlers;
 *  2. the engine: it cancels what runs, joins its workers and forgets
 *     everything; the last updates still go out on the connection, and the
 *     status callback still finds it (self->engine is cleared after);
 *  3. the peers (their NameOwnerChanged subscription), authorization;
 *  4. the connection last.
 */
void
cg_manager_free(CgManager *self)
{
	if (self == NULL)
		return;
	if (self->skeleton != NULL) {
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
		g_signal_handlers_disconnect_by_data(self->skeleton, self);
		g_clear_object(&self->skeleton);
	}
	/* A round trip under way (or started by the engine's last updates)
	 * ends cancelled, and its callback leaves the manager alone. */
	g_cancellable_cancel(self->cancellable);
	cg_engine_free(self->engine);
	self->engine = NULL;
	g_clear_object(&self->cancellable);
	g_clear_pointer(&self->peers, cg_peers_free);
	g_clear_pointer(&self->auth, cg_auth_free);
	g_clear_object(&self->connection);
	g_free(self);
}

CgEngine *
cg_manager_get_engine(CgManager *self)
{
	return self->engine;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-manager.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "cg-auth.h"
#include "cg-counter.h"
#include "cg-dbus-generated.h"
#include "cg-error.h"
#include "cg-options.h"
#include "cg-peers.h"
#include "cg-pipeline.h"
#include "cg-rate-limit.h"
#include "cg-template.h"
#include "cg-tracker.h"

#define CG_OBJECT_PATH "/org/certgen/Certificates1"
#define CG_INTERFACE "org.certgen.Certificates1.Manager"
#define CG_MAX_TRANSACTION_ID 128
#define CG_RATE_WINDOW_US (60 * G_USEC_PER_SEC)

struct _CgManager {
	GDBusConnection *connection;
	CgDBusManager *skeleton;
	CgConfig config;
	char *output_dir;
	CgTemplateStore *templates;
	CgCounter *counter;
	CgPipeline *pipeline;
	CgTracker *tracker;
	CgPeers *peers;
	CgAuth *auth;
	GHashTable *active;    /* progress id → CgGeneration*, still in progress */
	CgRateLimit *starts;   /* StartGeneration per owner key, per minute */
	guint starts_prune_id; /* timer dropping owners whose minute is over */
	CgManagerStatusFunc status_func;
	gpointer status_data;
};

/* What the manager keeps for a generation in progress (the tracker's user
 * data); dropped when it ends: no update is sent after the terminal one. */
typedef struct {
	char *starter;		/* unique name, NULL once it left the bus */
	GPtrArray *subscribers; /* unique names receiving ProgressChanged */
	CgStage logged_stage;
} CgGenerationInfo;

typedef enum {
	CG_METHOD_START_GENERATION,
	CG_METHOD_CANCEL,
	CG_METHOD_GET_PROGRESS,
	CG_METHOD_GET_ANALYTICS,
	CG_METHOD_SUBSCRIBE,
	CG_METHOD_UNSUBSCRIBE,
	CG_METHOD_LIST_GENERATIONS,
	CG_METHOD_OPEN_CERTIFICATE,
	CG_METHOD_CLEANUP,
} CgMethod;

/* One method call on its way through identity and authorization checks. */
typedef struct {
	CgManager *self;
	GDBusMethodInvocation *invocation;
	CgMethod method;
	char *sender;
	guint32 uid;
	gboolean admin;
	char *progress_id;
	/* StartGeneration only */
	CgGenerationOptions options;
	char *owner_label;
} CgCall;

static void cg_call_free(CgCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgCall, cg_call_free)

static void
cg_generation_info_free(CgGenerationInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->starter);
	g_ptr_array_unref(info->subscribers);
	g_free(info);
}

static void
cg_call_free(CgCall *call)
{
	g_clear_object(&call->invocation);
	g_free(call->sender);
	g_free(call->progress_id);
	g_free(call->owner_label);
	g_free(call);
}

static void
return_error(CgCall *call, const GError *error)
{
	g_dbus_method_invocation_return_gerror(g_steal_pointer(&call->invocation), error);
}

static void return_new_error(CgCall *call, CgError code, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static void
return_new_error(CgCall *call, CgError code, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start(args, format);
	error = g_error_new_valist(CG_ERROR, code, format, args);
	va_end(args);
	return_error(call, error);
}

static void
return_not_found(CgCall *call)
{
	return_new_error(call, CG_ERROR_NOT_FOUND, "No generation %s", call->progress_id);
}

static void
notify_status(CgManager *self)
{
	if (self->status_func != NULL)
		self->status_func(self, self->status_data);
}

static char *
owner_key(guint32 uid, const char *label)
{
	return label != NULL ? g_strdup_printf("%u:%s", uid, label) : g_strdup_printf("%u", uid);
}

static gboolean
same_owner(CgGeneration *generation, guint32 uid, const char *label)
{
	return cg_generation_get_owner_uid(generation) == uid &&
	       g_strcmp0(cg_generation_get_owner_label(generation), label) == 0;
}

/* ---- logging ------------------------------------------------------------ */

static void
log_generation(GLogLevelFlags level, CgGeneration *generation, const char *text)
{
	const char *stage = cg_stage_to_string(cg_generation_get_stage(generation));
	const char *status = cg_status_to_string(cg_generation_get_status(generation));
	g_autofree char *message = g_strdup_printf(
	    "%s: %s (stage %s, status %s)", cg_generation_get_id(generation), text, stage, status);
	g_autofree char *uid = g_strdup_printf("%u", cg_generation_get_owner_uid(generation));

	g_log_structured(G_LOG_DOMAIN, level, "CERTGEN_PROGRESS_ID", "%s",
			 cg_generation_get_id(generation), "CERTGEN_STAGE", "%s", stage,
			 "CERTGEN_STATUS", "%s", status, "CERTGEN_OWNER_UID", "%s", uid, "MESSAGE",
			 "%s", message);
}

/* ---- tracker callbacks ---------------------------------------------------- */

static void
send_update(CgManager *self, const char *destination, GVariant *update, const char *id)
{
	g_autoptr(GError) error = NULL;

	if (!g_dbus_connection_emit_signal(self->connection, destination, CG_OBJECT_PATH,
					   CG_INTERFACE, "ProgressChanged",
					   g_variant_new("(s@a{sv})", id, update), &error))
		g_debug("Could not send ProgressChanged to %s: %s", destination, error->message);
}

/* Subscriptions count against max_subscriptions_per_connection, except the
 * starter's own (capped by max_active_per_owner already). */
static gboolean
subscription_counts(const CgGenerationInfo *info, const char *name)
{
	return g_strcmp0(info->starter, name) != 0;
}

static void
uncount_subscription(CgManager *self, const CgGenerationInfo *info, const char *name)
{
	CgPeer *peer = cg_peers_get(self->peers, name);

	if (peer != NULL && peer->n_subscriptions > 0 && subscription_counts(info, name))
		peer->n_subscriptions--;
}

static void
drop_generation_info(CgManager *self, CgGeneration *generation)
{
	CgGenerationInfo *info = cg_generation_get_user_data(generation);

	if (info == NULL)
		return;
	for (guint i = 0; i < info->subscribers->len; i++)
		uncount_subscription(self, info, info->subscribers->pdata[i]);
	cg_generation_info_free(info);
	cg_generation_set_user_data(generation, NULL);
}

static void
tracker_emit_cb(CgTracker *tracker, CgGeneration *generation, GVariant *update, gpointer user_data)
{
	CgManager *self = user_data;
	CgGenerationInfo *info = cg_generation_get_user_data(generation);
	const char *id = cg_generation_get_id(generation);
	CgStatus status = cg_generation_get_status(generation);

	if (info == NULL)
		return;
	for (guint i = 0; i < info->subscribers->len; i++)
		send_update(self, info->subscribers->pdata[i], update, id);

	if (cg_status_is_terminal(status)) {
		log_generation(G_LOG_LEVEL_MESSAGE, generation, "finished");
		drop_generation_info(self, generation);
		g_hash_table_remove(self->active, id);
		notify_status(self);
	} else if (cg_generation_get_stage(generation) != info->logged_stage) {
		info->logged_stage = cg_generation_get_stage(generation);
		log_generation(G_LOG_LEVEL_DEBUG, generation, "entered a stage");
	}
}

static void
tracker_forget_cb(CgTracker *tracker, CgGeneration *generation, gpointer user_data)
{
	CgManager *self = user_data;

	g_debug("Forgetting %s", cg_generation_get_id(generation));
	drop_generation_info(self, generation);
	g_hash_table_remove(self->active, cg_generation_get_id(generation));
	notify_status(self);
}

/* ---- pipeline callbacks (main context) ------------------------------------ */

static void
pipeline_progress_cb(const char *progress_id, CgStage stage, guint stage_progress, guint pages_done,
		     guint pages_total, const char *message, gpointer user_data)
{
	CgManager *self = user_data;
	CgGeneration *generation = g_hash_table_lookup(self->active, progress_id);

	if (generation != NULL)
		cg_tracker_report(self->tracker, generation, stage, stage_progress, pages_done,
				  pages_total, message);
}

static void
pipeline_done_cb(const char *progress_id, const CgResult *result, const GError *error,
		 gpointer user_data)
{
	CgManager *self = user_data;
	CgGeneration *generation = g_hash_table_lookup(self->active, progress_id);

	if (generation == NULL) {
		/* Forgotten while it ran: leave nothing behind. */
		if (result != NULL && result->path != NULL && g_unlink(result->path) != 0)
			g_warning("Could not remove %s: %s", result->path, g_strerror(errno));
		return;
	}
	if (result != NULL)
		cg_tracker_complete(self->tracker, generation, result);
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		cg_tracker_finish_cancelled(self->tracker, generation);
	else
		cg_tracker_fail(self->tracker, generation, error);
}

/* ---- peers ------------------------------------------------------------------ */

static void
peer_vanished_cb(const CgPeer *peer, gpointer user_data)
{
	CgManager *self = user_data;
	GHashTableIter iter;
	gpointer value;
	g_autoptr(GPtrArray) to_cancel = g_ptr_array_new();

	g_hash_table_iter_init(&iter, self->active);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		CgGeneration *generation = value;
		CgGenerationInfo *info = cg_generation_get_user_data(generation);

		if (info == NULL)
			continue;
		while (g_ptr_array_remove(info->subscribers, peer->name))
			;
		if (g_strcmp0(info->starter, peer->name) == 0) {
			g_clear_pointer(&info->starter, g_free);
			if (cg_generation_get_cancel_on_disconnect(generation))
				g_ptr_array_add(to_cancel, generation);
		}
	}
	for (guint i = 0; i < to_cancel->len; i++) {
		g_autoptr(GError) error = NULL;
		CgGeneration *generation = to_cancel->pdata[i];

		log_generation(G_LOG_LEVEL_MESSAGE, generation,
			       "starter left the bus; cancelling (cancel_on_disconnect)");
		if (!cg_tracker_cancel(self->tracker, generation, &error))
			g_debug("Could not cancel: %s", error->message);
	}
}

/* ---- rate limit ---------------------------------------------------------------- */

/* Owners whose last start left the window are forgotten (issue 15: one
 * record per owner label ever seen, before). One timer, armed while any
 * owner is kept. */
static gboolean
starts_prune_cb(gpointer user_data)
{
	CgManager *self = user_data;
	guint dropped = cg_rate_limit_prune(self->starts, g_get_monotonic_time());
	guint kept = cg_rate_limit_count(self->starts);

	if (dropped > 0)
		g_debug("Rate limit: forgot %u owner%s, %u kept", dropped, dropped == 1 ? "" : "s",
			kept);
	if (kept > 0)
		return G_SOURCE_CONTINUE;
	self->starts_prune_id = 0;
	return G_SOURCE_REMOVE;
}

static void
arm_starts_prune(CgManager *self)
{
	if (self->starts_prune_id != 0)
		return;
	self->starts_prune_id =
	    g_timeout_add_seconds(CG_RATE_WINDOW_US / G_USEC_PER_SEC, starts_prune_cb, self);
	g_source_set_static_name(g_main_context_find_source_by_id(NULL, self->starts_prune_id),
				 "[certgen] rate limit pruning");
}

/* ---- the methods, once the caller is known and allowed ------------------------ */

static void
complete_start_generation(CgCall *call)
{
	CgManager *self = call->self;
	GVariant *parameters = g_dbus_method_invocation_get_parameters(call->invocation);
	const char *transaction_id, *template_id, *data_json;
	g_autofree char *key = owner_key(call->uid, call->owner_label);
	g_autoptr(GCancellable) cancellable = NULL;
	gint64 now = g_get_monotonic_time();
	gint64 wait_us = 0;
	guint owner_active = 0;
	CgGeneration *generation;
	CgGenerationInfo *info;
	GHashTableIter iter;
	gpointer value;

	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction_id, &template_id, &data_json,
		      NULL);

	/* Rate limit: a sliding window of the last minute's starts. */
	if (!cg_rate_limit_check(self->starts, key, now, &wait_us)) {
		return_new_error(call, CG_ERROR_RATE_LIMITED,
				 "At most %u generations may be started per minute; "
				 "try again in %" G_GINT64_FORMAT " s",
				 self->config.start_per_minute,
				 (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
		return;
	}

	/* Caps. */
	g_hash_table_iter_init(&iter, self->active);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (same_owner(value, call->uid, call->owner_label))
			owner_active++;
	}
	if (owner_active >= self->config.max_active_per_owner) {
		return_new_error(call, CG_ERROR_LIMIT_EXCEEDED,
				 "At most %u generations may run at once per owner",
				 self->config.max_active_per_owner);
		return;
	}
	if (g_hash_table_size(self->active) >= self->config.max_active) {
		return_new_error(call, CG_ERROR_LIMIT_EXCEEDED,
				 "The service runs its maximum of %u generations; try again later",
				 self->config.max_active);
		return;
	}
	if (cg_tracker_count(self->tracker) >= self->config.max_tracked) {
		return_new_error(call, CG_ERROR_LIMIT_EXCEEDED,
				 "The service keeps its maximum of %u generations; "
				 "call Cleanup or try again later",
				 self->config.max_tracked);
		return;
	}

	cg_rate_limit_add(self->starts, key, now);
	arm_starts_prune(self);

	generation = cg_tracker_add(self->tracker, transaction_id, call->uid, call->owner_label,
				    &call->options);
	info = g_new0(CgGenerationInfo, 1);
	info->starter = g_strdup(call->sender);
	info->subscribers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(info->subscribers, g_strdup(call->sender));
	info->logged_stage = CG_STAGE_INITIALIZING;
	cg_generation_set_user_data(generation, info);
	g_hash_table_insert(self->active, (gpointer)cg_generation_get_id(generation), generation);
	log_generation(G_LOG_LEVEL_MESSAGE, generation, "started");

	cancellable = cg_generation_ref_cancellable(generation);
	cg_tracker_report(self->tracker, generation, CG_STAGE_INITIALIZING, 0, 0, 0,
			  "Waiting for a worker");
	cg_pipeline_submit(self->pipeline, cg_generation_get_id(generation), template_id, data_json,
			   g_get_real_time(), cancellable);
	cg_dbus_manager_complete_start_generation(
	    self->skeleton, g_steal_pointer(&call->invocation), cg_generation_get_id(generation));
	notify_status(self);
}

static void
complete_subscribe(CgCall *call, CgGeneration *generation)
{
	CgManager *self = call->self;
	CgGenerationInfo *info = cg_generation_get_user_data(generation);
	CgPeer *peer = cg_peers_get(self->peers, call->sender);
	guint index;

	/* A finished generation has nothing more to send; GetProgress tells its end. */
	if (info != NULL && peer != NULL &&
	    !g_ptr_array_find_with_equal_func(info->subscribers, call->sender, g_str_equal,
					      &index)) {
		gboolean counts = subscription_counts(info, call->sender);

		if (counts &&
		    peer->n_subscriptions >= self->config.max_subscriptions_per_connection) {
			return_new_error(call, CG_ERROR_LIMIT_EXCEEDED,
					 "At most %u subscriptions per connection",
					 self->config.max_subscriptions_per_connection);
			return;
		}
		g_ptr_array_add(info->subscribers, g_strdup(call->sender));
		if (counts)
			peer->n_subscriptions++;
	}
	cg_dbus_manager_complete_subscribe(self->skeleton, g_steal_pointer(&call->invocation));
}

static void
complete_unsubscribe(CgCall *call, CgGeneration *generation)
{
	CgManager *self = call->self;
	CgGenerationInfo *info = cg_generation_get_user_data(generation);
	guint index;

	if (info != NULL && g_ptr_array_find_with_equal_func(info->subscribers, call->sender,
							     g_str_equal, &index)) {
		uncount_subscription(self, info, call->sender);
		g_ptr_array_remove_index(info->subscribers, index);
	}
	cg_dbus_manager_complete_unsubscribe(self->skeleton, g_steal_pointer(&call->invocation));
}

static void
complete_open_certificate(CgCall *call, CgGeneration *generation)
{
	CgManager *self = call->self;
	const CgResult *result = cg_generation_get_result(generation);
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GError) error = NULL;
	int fd;

	if (result == NULL || cg_generation_get_status(generation) != CG_STATUS_COMPLETED) {
		return_new_error(call, CG_ERROR_NOT_READY,
				 "The certificate of %s is not ready (stage %s, status %s)",
				 call->progress_id,
				 cg_stage_to_string(cg_generation_get_stage(generation)),
				 cg_status_to_string(cg_generation_get_status(generation)));
		return;
	}
	fd = open(result->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		int saved_errno = errno;

		return_new_error(call, CG_ERROR_FAILED, "Could not open the certificate: %s",
				 g_strerror(saved_errno));
		return;
	}
	fd_list = g_unix_fd_list_new_from_array(&fd, 1);
	cg_dbus_manager_complete_open_certificate(
	    self->skeleton, g_steal_pointer(&call->invocation), fd_list, g_variant_new_handle(0));
}

static void
complete_for_generation(CgCall *call, CgGeneration *generation)
{
	CgManager *self = call->self;
	g_autoptr(GError) error = NULL;

	switch (call->method) {
	case CG_METHOD_CANCEL:
		if (!cg_tracker_cancel(self->tracker, generation, &error)) {
			return_error(call, error);
			return;
		}
		log_generation(G_LOG_LEVEL_MESSAGE, generation, "cancel requested");
		cg_dbus_manager_complete_cancel(self->skeleton, g_steal_pointer(&call->invocation));
		return;
	case CG_METHOD_GET_PROGRESS:
		cg_dbus_manager_complete_get_progress(self->skeleton,
						      g_steal_pointer(&call->invocation),
						      cg_generation_snapshot(generation));
		return;
	case CG_METHOD_GET_ANALYTICS:
		cg_dbus_manager_complete_get_analytics(self->skeleton,
						       g_steal_pointer(&call->invocation),
						       cg_generation_analytics(generation));
		return;
	case CG_METHOD_SUBSCRIBE:
		complete_subscribe(call, generation);
		return;
	case CG_METHOD_UNSUBSCRIBE:
		complete_unsubscribe(call, generation);
		return;
	case CG_METHOD_OPEN_CERTIFICATE:
		complete_open_certificate(call, generation);
		return;
	case CG_METHOD_START_GENERATION:
	case CG_METHOD_LIST_GENERATIONS:
	case CG_METHOD_CLEANUP:
		break;
	}
	g_assert_not_reached();
}

static void
complete_list_generations(CgCall *call)
{
	CgManager *self = call->self;
	g_autoptr(GPtrArray) all = cg_tracker_list(self->tracker);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < all->len; i++) {
		CgGeneration *generation = all->pdata[i];

		if (call->admin || cg_generation_get_owner_uid(generation) == call->uid)
			g_variant_builder_add_value(&builder, cg_generation_snapshot(generation));
	}
	cg_dbus_manager_complete_list_generations(
	    self->skeleton, g_steal_pointer(&call->invocation), g_variant_builder_end(&builder));
}

static void
complete_cleanup(CgCall *call)
{
	CgManager *self = call->self;
	guint removed = cg_tracker_cleanup(self->tracker, call->admin ? -1 : (gint64)call->uid);

	cg_dbus_manager_complete_cleanup(self->skeleton, g_steal_pointer(&call->invocation),
					 removed);
	notify_status(self);
}

/* ---- the chain: identity → authorization → method ----------------------------- */

static gboolean
call_is_interactive(CgCall *call)
{
	GDBusMessage *message = g_dbus_method_invocation_get_message(call->invocation);

	return (g_dbus_message_get_flags(message) &
		G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
}

/* Ask CgAuth about @action for @call, then continue in @callback, which
 * takes over @call. */
static void
check_action(CgCall *call, const char *action, GAsyncReadyCallback callback)
{
	CgAuth *auth = call->self->auth;
	const char *sender = call->sender;
	guint32 uid = call->uid;
	gboolean interactive = call_is_interactive(call);

	cg_auth_check_async(auth, sender, uid, action, interactive, callback, call);
}

static void
admin_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;
	CgGeneration *generation;

	call->admin = cg_auth_check_finish(res, &error);
	if (!call->admin && !g_error_matches(error, CG_ERROR, CG_ERROR_PERMISSION_DENIED))
		g_warning("manage-all check failed: %s", error->message);

	switch (call->method) {
	case CG_METHOD_LIST_GENERATIONS:
		complete_list_generations(call);
		return;
	case CG_METHOD_CLEANUP:
		complete_cleanup(call);
		return;
	default:
		break;
	}
	/* Someone else's (or no) generation: visible to administrators only, and
	 * otherwise exactly as unknown as an id that never existed. */
	generation = cg_tracker_lookup(call->self->tracker, call->progress_id);
	if (generation == NULL || !call->admin) {
		return_not_found(call);
		return;
	}
	complete_for_generation(call, generation);
}

static void start_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
delegate_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!cg_auth_check_finish(res, &error)) {
		return_error(call, error);
		return;
	}
	complete_start_generation(call);
}

static void
start_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!cg_auth_check_finish(res, &error)) {
		return_error(call, error);
		return;
	}
	if (call->owner_label != NULL) {
		check_action(g_steal_pointer(&call), CG_ACTION_DELEGATE, delegate_authorized_cb);
		return;
	}
	complete_start_generation(call);
}

/* Synchronous argument checks of StartGeneration: nothing is created when
 * one fails. */
static gboolean
check_start_arguments(CgCall *call, GError **error)
{
	CgManager *self = call->self;
	GVariant *parameters = g_dbus_method_invocation_get_parameters(call->invocation);
	const char *transaction_id, *template_id, *data_json;
	g_autoptr(GVariant) options = NULL;
	gsize transaction_len, data_len;

	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction_id, &template_id, &data_json,
		      &options);
	/* data_json is JSON text (line breaks and tabs are fine there); the
	 * data validator checks the strings inside it. */
	if (!cg_check_string_argument("transaction_id", transaction_id, error) ||
	    !cg_check_string_argument("template_id", template_id, error))
		return FALSE;
	transaction_len = strlen(transaction_id);
	if (transaction_len == 0 || transaction_len > CG_MAX_TRANSACTION_ID) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "transaction_id: must be 1–%u bytes, got %zu", CG_MAX_TRANSACTION_ID,
			    transaction_len);
		return FALSE;
	}
	if (!cg_options_parse(options, &call->options, &call->owner_label, error))
		return FALSE;
	if (!cg_template_store_check(self->templates, template_id, error))
		return FALSE;
	data_len = strlen(data_json);
	if (data_len > self->config.max_data_bytes) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA,
			    "data_json: %zu bytes, at most %" G_GUINT64_FORMAT, data_len,
			    self->config.max_data_bytes);
		return FALSE;
	}
	if (!g_utf8_validate(data_json, data_len, NULL)) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_DATA,
				    "data_json: not valid UTF-8");
		return FALSE;
	}
	return TRUE;
}

static void
peer_known_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CgCall) call = user_data;
	CgManager *self = call->self;
	g_autoptr(GError) error = NULL;
	CgGeneration *generation;
	CgPeer *peer;

	peer = cg_peers_lookup_finish(self->peers, res, &error);
	if (peer == NULL) {
		g_debug("Could not identify %s: %s", call->sender, error->message);
		return_error(call, error);
		return;
	}
	call->uid = peer->uid;

	switch (call->method) {
	case CG_METHOD_START_GENERATION:
		if (!check_start_arguments(call, &error)) {
			return_error(call, error);
			return;
		}
		check_action(g_steal_pointer(&call), CG_ACTION_GENERATE, start_authorized_cb);
		return;
	case CG_METHOD_LIST_GENERATIONS:
	case CG_METHOD_CLEANUP:
		check_action(g_steal_pointer(&call), CG_ACTION_MANAGE_ALL, admin_checked_cb);
		return;
	default:
		break;
	}

	generation = cg_tracker_lookup(self->tracker, call->progress_id);
	if (generation != NULL && cg_generation_get_owner_uid(generation) == call->uid) {
		complete_for_generation(call, generation);
		return;
	}
	check_action(g_steal_pointer(&call), CG_ACTION_MANAGE_ALL, admin_checked_cb);
}

static gboolean
begin_call(CgManager *self, GDBusMethodInvocation *invocation, CgMethod method,
	   const char *progress_id)
{
	CgCall *call = g_new0(CgCall, 1);

	call->self = self;
	call->invocation = invocation; /* the handler owns it from here */
	call->method = method;
	call->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	call->progress_id = g_strdup(progress_id);
	if (call->sender == NULL) {
		g_autoptr(CgCall) owned = call;

		return_new_error(owned, CG_ERROR_PERMISSION_DENIED, "Callers must be on a bus");
		return TRUE;
	}
	if (progress_id != NULL) {
		g_autoptr(GError) error = NULL;

		/* It is echoed in errors (NotFound) and logs. */
		if (!cg_check_string_argument("progress_id", progress_id, &error)) {
			g_autoptr(CgCall) owned = call;

			return_error(owned, error);
			return TRUE;
		}
	}
	cg_peers_lookup_async(self->peers, call->sender, peer_known_cb, call);
	return TRUE;
}

static gboolean
handle_start_generation(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
			const char *transaction_id, const char *template_id, const char *data_json,
			GVariant *options, CgManager *self)
{
	return begin_call(self, invocation, CG_METHOD_START_GENERATION, NULL);
}

#define ID_HANDLER(name, method)                                                                   \
	static gboolean name(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,           \
			     const char *progress_id, CgManager *self)                             \
	{                                                                                          \
		return begin_call(self, invocation, method, progress_id);                          \
	}

ID_HANDLER(handle_cancel, CG_METHOD_CANCEL)
ID_HANDLER(handle_get_progress, CG_METHOD_GET_PROGRESS)
ID_HANDLER(handle_get_analytics, CG_METHOD_GET_ANALYTICS)
ID_HANDLER(handle_subscribe, CG_METHOD_SUBSCRIBE)
ID_HANDLER(handle_unsubscribe, CG_METHOD_UNSUBSCRIBE)

static gboolean
handle_open_certificate(CgDBusManager *skeleton, GDBusMethodInvocation *invocation,
			GUnixFDList *fd_list, const char *progress_id, CgManager *self)
{
	return begin_call(self, invocation, CG_METHOD_OPEN_CERTIFICATE, progress_id);
}

static gboolean
handle_list_generations(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	return begin_call(self, invocation, CG_METHOD_LIST_GENERATIONS, NULL);
}

static gboolean
handle_cleanup(CgDBusManager *skeleton, GDBusMethodInvocation *invocation, CgManager *self)
{
	return begin_call(self, invocation, CG_METHOD_CLEANUP, NULL);
}

/* ---- life cycle ---------------------------------------------------------------- */

CgManager *
cg_manager_new(GDBusConnection *connection, const CgConfig *config,
	       const char *const *template_dirs, const char *state_dir, GError **error)
{
	g_autoptr(CgManager) self = g_new0(CgManager, 1);
	CgTrackerConfig tracker_config = {config->finished_ttl_s, config->max_age_s};
	CgPipelineConfig pipeline_config = {0};

	self->connection = g_object_ref(connection);
	self->config = *config;
	self->output_dir = g_build_filename(state_dir, "certificates", NULL);
	if (g_mkdir_with_parents(self->output_dir, 0750) != 0) {
		int saved_errno = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
			    "Could not create %s: %s", self->output_dir, g_strerror(saved_errno));
		return NULL;
	}
	self->counter = cg_counter_new(state_dir, error);
	if (self->counter == NULL)
		return NULL;
	self->templates = cg_template_store_new(template_dirs);
	self->active = g_hash_table_new(g_str_hash, g_str_equal);
	self->starts = cg_rate_limit_new(config->start_per_minute, CG_RATE_WINDOW_US);
	self->tracker = cg_tracker_new(&tracker_config, tracker_emit_cb, tracker_forget_cb, self);
	self->peers = cg_peers_new(connection, peer_vanished_cb, self);
	self->auth = cg_auth_new(connection);

	pipeline_config.templates = self->templates;
	pipeline_config.counter = self->counter;
	pipeline_config.output_dir = self->output_dir;
	pipeline_config.max_recipients = config->max_recipients;
	pipeline_config.max_data_bytes = config->max_data_bytes;
	pipeline_config.threads = config->threads;
	self->pipeline =
	    cg_pipeline_new(&pipeline_config, pipeline_progress_cb, pipeline_done_cb, self);

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
 *  2. cancel every generation in progress (queued jobs leave the queue);
 *  3. stop and join the workers: their last reports reach the tracker, so
 *     every generation has ended and no worker thread (nor its
 *     thread-local render state) is left when certgend's main() returns;
 *  4. forget and free the tracker (the forget callback still finds the
 *     peers and the active table);
 *  5. the peers (their NameOwnerChanged subscription), authorization;
 *  6. the rest, and the connection last.
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
	g_clear_handle_id(&self->starts_prune_id, g_source_remove);
	if (self->active != NULL) {
		GHashTableIter iter;
		gpointer value;

		/* Cancelling only queues reports: the table stays as it is. */
		g_hash_table_iter_init(&iter, self->active);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			g_autoptr(GCancellable) cancellable = cg_generation_ref_cancellable(value);

			g_cancellable_cancel(cancellable);
		}
	}
	g_clear_pointer(&self->pipeline, cg_pipeline_free);
	if (self->tracker != NULL) {
		/* Files of generations not asked to persist go too, as nothing
		 * could reach them after a restart. */
		cg_tracker_cleanup(self->tracker, -1);
		g_clear_pointer(&self->tracker, cg_tracker_free);
	}
	g_clear_pointer(&self->peers, cg_peers_free);
	g_clear_pointer(&self->auth, cg_auth_free);
	g_clear_pointer(&self->active, g_hash_table_unref);
	g_clear_pointer(&self->starts, cg_rate_limit_free);
	g_clear_pointer(&self->templates, cg_template_store_free);
	g_clear_pointer(&self->counter, cg_counter_free);
	g_clear_object(&self->connection);
	g_free(self->output_dir);
	g_free(self);
}

void
cg_manager_set_status_func(CgManager *self, CgManagerStatusFunc func, gpointer user_data)
{
	self->status_func = func;
	self->status_data = user_data;
}

guint
cg_manager_count_active(CgManager *self)
{
	return g_hash_table_size(self->active);
}

guint
cg_manager_count_tracked(CgManager *self)
{
	return cg_tracker_count(self->tracker);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-owner.h"

#include "cg-http-error.h"

GError *
cg_http_not_found_error(const char *progress_id)
{
	return g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND, "No generation %s", progress_id);
}

static gboolean
is_owned_by(GVariant *snapshot, const char *user)
{
	const char *label = NULL;

	return g_variant_lookup(snapshot, "owner_label", "&s", &label) &&
	       g_strcmp0(label, user) == 0;
}

/* certgend's error as CG_HTTP_ERROR; its NotFound as ours. */
static GError *
map_error(const GError *dbus_error, const char *progress_id, guint *retry_after_s)
{
	GError *mapped = cg_http_error_from_dbus(dbus_error, retry_after_s);

	if (g_error_matches(mapped, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND)) {
		g_error_free(mapped);
		mapped = cg_http_not_found_error(progress_id);
	}
	return mapped;
}

/* ---- GetProgress + ownership -------------------------------------------- */

typedef struct {
	char *progress_id;
	char *user;
	guint retry_after_s;
} CgHttpOwnedCheck;

static void
owned_check_free(gpointer data)
{
	CgHttpOwnedCheck *check = data;

	g_free(check->progress_id);
	g_free(check->user);
	g_free(check);
}

static void
owned_progress_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgHttpOwnedCheck *check = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) snapshot = NULL;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL) {
		g_task_return_error(task,
				    map_error(error, check->progress_id, &check->retry_after_s));
		return;
	}
	g_variant_get(reply, "(@a{sv})", &snapshot);
	if (!is_owned_by(snapshot, check->user)) {
		g_task_return_error(task, cg_http_not_found_error(check->progress_id));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&snapshot), (GDestroyNotify)g_variant_unref);
}

/* Source tags of the tasks below (data: ISO C has no function pointer to
 * void * conversion). */
static char cg_http_get_owned_progress_tag;
static char cg_http_owned_call_tag;

void
cg_http_get_owned_progress(CgHttpBus *bus, const char *progress_id, const char *user,
			   GCancellable *cancellable, GAsyncReadyCallback callback,
			   gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	CgHttpOwnedCheck *check = g_new0(CgHttpOwnedCheck, 1);

	check->progress_id = g_strdup(progress_id);
	check->user = g_strdup(user);
	g_task_set_task_data(task, check, owned_check_free);
	g_task_set_source_tag(task, &cg_http_get_owned_progress_tag);
	cg_http_bus_call(bus, "GetProgress", g_variant_new("(s)", progress_id),
			 G_VARIANT_TYPE("(a{sv})"), cancellable, owned_progress_cb, task);
}

GVariant *
cg_http_get_owned_progress_finish(GAsyncResult *result, guint *retry_after_s, GError **error)
{
	CgHttpOwnedCheck *check = g_task_get_task_data(G_TASK(result));

	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	if (retry_after_s != NULL)
		*retry_after_s = check->retry_after_s;
	return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- the check, then the call ------------------------------------------- */

typedef struct {
	CgHttpBus *bus;
	char *progress_id;
	char *user;
	char *method;
	GVariantType *reply_type;
	GVariant *snapshot;
	GUnixFDList *fd_list;
	guint retry_after_s;
} CgHttpOwnedCall;

static void
owned_call_free(gpointer data)
{
	CgHttpOwnedCall *call = data;

	g_clear_object(&call->bus);
	g_free(call->progress_id);
	g_free(call->user);
	g_free(call->method);
	g_variant_type_free(call->reply_type);
	g_clear_pointer(&call->snapshot, g_variant_unref);
	g_clear_object(&call->fd_list);
	g_free(call);
}

static void
method_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgHttpOwnedCall *call = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GVariant *reply;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, &call->fd_list, &error);
	if (reply == NULL) {
		g_task_return_error(task,
				    map_error(error, call->progress_id, &call->retry_after_s));
		return;
	}
	g_task_return_pointer(task, reply, (GDestroyNotify)g_variant_unref);
}

static void
checked_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CgHttpOwnedCall *call = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	g_autoptr(GError) error = NULL;

	call->snapshot = cg_http_get_owned_progress_finish(result, &call->retry_after_s, &error);
	if (call->snapshot == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_task_return_error_if_cancelled(task))
		return;
	cg_http_bus_call(call->bus, call->method, g_variant_new("(s)", call->progress_id),
			 call->reply_type, cancellable, method_cb, g_steal_pointer(&task));
}

void
cg_http_owned_call(CgHttpBus *bus, const char *progress_id, const char *user, const char *method,
		   const GVariantType *reply_type, GCancellable *cancellable,
		   GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	CgHttpOwnedCall *call = g_new0(CgHttpOwnedCall, 1);

	call->bus = g_object_ref(bus);
	call->progress_id = g_strdup(progress_id);
	call->user = g_strdup(user);
	call->method = g_strdup(method);
	call->reply_type = g_variant_type_copy(reply_type);
	g_task_set_task_data(task, call, owned_call_free);
	g_task_set_source_tag(task, &cg_http_owned_call_tag);
	cg_http_get_owned_progress(bus, progress_id, user, cancellable, checked_cb, task);
}

GVariant *
cg_http_owned_call_finish(GAsyncResult *result, GVariant **snapshot, GUnixFDList **fd_list,
			  guint *retry_after_s, GError **error)
{
	CgHttpOwnedCall *call = g_task_get_task_data(G_TASK(result));
	GVariant *reply;

	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	if (retry_after_s != NULL)
		*retry_after_s = call->retry_after_s;
	reply = g_task_propagate_pointer(G_TASK(result), error);
	if (reply == NULL)
		return NULL;
	if (snapshot != NULL)
		*snapshot = g_variant_ref(call->snapshot);
	if (fd_list != NULL)
		*fd_list = g_steal_pointer(&call->fd_list);
	return reply;
}

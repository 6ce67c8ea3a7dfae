/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-follow.h"

#include "cg-http-error.h"
#include "cg-http-owner.h"

/* ---- following a generation ---------------------------------------------- */

struct _CgHttpFollow {
	gint ref_count;
	gboolean stopped;
	gboolean ready;
	gboolean subscribed; /* Subscribe succeeded: the next snapshot makes it ready */
	CgHttpBus *bus;
	char *progress_id;
	char *user;
	const CgHttpFollowFuncs *funcs;
	gpointer user_data;
	guint watch_id;
	GCancellable *cancellable;
	GPtrArray *buffer; /* updates before ready, GVariant */
	guint64 last_sequence;
};

static CgHttpFollow *
follow_ref(CgHttpFollow *self)
{
	g_atomic_int_inc(&self->ref_count);
	return self;
}

static void
follow_unref(CgHttpFollow *self)
{
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_clear_pointer(&self->buffer, g_ptr_array_unref);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->bus);
	g_free(self->progress_id);
	g_free(self->user);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpFollow, follow_unref)

static void
follow_fail(CgHttpFollow *self, const GError *error, guint retry_after_s)
{
	if (self->stopped)
		return;
	self->funcs->failed(self->user_data, error, retry_after_s);
}

static void
deliver(CgHttpFollow *self, GVariant *update)
{
	guint64 sequence = cg_http_update_get_sequence(update);

	if (self->stopped || sequence <= self->last_sequence)
		return;
	self->last_sequence = sequence;
	self->funcs->update(self->user_data, update);
}

static void
update_cb(GVariant *update, gpointer user_data)
{
	CgHttpFollow *self = user_data;

	if (self->stopped)
		return;
	if (!self->ready) {
		g_ptr_array_add(self->buffer, g_variant_ref(update));
		return;
	}
	deliver(self, update);
}

static void
vanished_cb(gpointer user_data)
{
	CgHttpFollow *self = user_data;

	if (!self->stopped)
		self->funcs->vanished(self->user_data);
}

static void
become_ready(CgHttpFollow *self, GVariant *snapshot)
{
	g_autoptr(GPtrArray) buffer = NULL;

	self->ready = TRUE;
	self->last_sequence = cg_http_update_get_sequence(snapshot);
	self->funcs->ready(self->user_data, snapshot);
	buffer = g_steal_pointer(&self->buffer);
	self->buffer = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	for (guint i = 0; i < buffer->len && !self->stopped; i++)
		deliver(self, buffer->pdata[i]);
}

static void snapshot_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static void
subscribed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CgHttpFollow) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (self->stopped)
		return;
	if (reply == NULL) {
		guint retry_after_s = 0;
		g_autoptr(GError) mapped = cg_http_error_from_dbus(error, &retry_after_s);

		if (g_error_matches(mapped, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND)) {
			g_autoptr(GError) not_found = cg_http_not_found_error(self->progress_id);

			follow_fail(self, not_found, 0);
			return;
		}
		follow_fail(self, mapped, retry_after_s);
		return;
	}
	self->subscribed = TRUE;
	cg_http_get_owned_progress(self->bus, self->progress_id, self->user, self->cancellable,
				   snapshot_cb, follow_ref(self));
}

/* The owner check's snapshot, asked for first and again once subscribed. */
static void
snapshot_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CgHttpFollow) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) snapshot = NULL;
	guint retry_after_s = 0;

	snapshot = cg_http_get_owned_progress_finish(result, &retry_after_s, &error);
	if (self->stopped)
		return;
	if (snapshot == NULL) {
		follow_fail(self, error, retry_after_s);
		return;
	}
	/* Subscribed (updates from here on come as signals), or finished
	 * (nothing more will be sent; the snapshot is the end). */
	if (self->subscribed || cg_http_update_is_terminal(snapshot)) {
		become_ready(self, snapshot);
		return;
	}
	cg_http_bus_call(self->bus, "Subscribe", g_variant_new("(s)", self->progress_id),
			 G_VARIANT_TYPE("()"), self->cancellable, subscribed_cb, follow_ref(self));
}

CgHttpFollow *
cg_http_follow_start(CgHttpBus *bus, const char *progress_id, const char *user,
		     const CgHttpFollowFuncs *funcs, gpointer user_data)
{
	CgHttpFollow *self = g_new0(CgHttpFollow, 1);

	self->ref_count = 1;
	self->bus = g_object_ref(bus);
	self->progress_id = g_strdup(progress_id);
	self->user = g_strdup(user);
	self->funcs = funcs;
	self->user_data = user_data;
	self->cancellable = g_cancellable_new();
	self->buffer = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	self->watch_id = cg_http_bus_watch(bus, progress_id, update_cb, vanished_cb, self);
	cg_http_get_owned_progress(bus, progress_id, user, self->cancellable, snapshot_cb,
				   follow_ref(self));
	return self;
}

void
cg_http_follow_stop(CgHttpFollow *self)
{
	if (self == NULL)
		return;
	self->stopped = TRUE;
	if (self->watch_id != 0)
		cg_http_bus_unwatch(self->bus, self->watch_id);
	self->watch_id = 0;
	g_cancellable_cancel(self->cancellable);
	follow_unref(self);
}

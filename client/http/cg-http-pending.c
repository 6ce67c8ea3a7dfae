/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests kept paused while certgend answers (CgHttpPending). */
#include "cg-http-pending.h"

#include "cg-http-error.h"
#include "cg-http-owner.h"
#include "cg-http-response.h"

static void
pending_disconnect(CgHttpPending *pending)
{
	g_clear_signal_handler(&pending->finished_id, pending->msg);
	g_clear_signal_handler(&pending->disconnected_id, pending->msg);
}

static void
pending_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	CgHttpPending *pending = user_data;

	pending->closed = TRUE;
	pending_disconnect(pending);
}

CgHttpPending *
cg_http_pending_new(GObject *owner, guint *counter, SoupServerMessage *msg, const char *user,
		    const char *progress_id)
{
	CgHttpPending *pending = g_new0(CgHttpPending, 1);

	pending->owner = g_object_ref(owner);
	pending->counter = counter;
	pending->msg = g_object_ref(msg);
	pending->user = g_strdup(user);
	pending->progress_id = g_strdup(progress_id);
	pending->finished_id =
	    g_signal_connect(msg, "finished", G_CALLBACK(pending_finished_cb), pending);
	pending->disconnected_id =
	    g_signal_connect(msg, "disconnected", G_CALLBACK(pending_finished_cb), pending);
	(*pending->counter)++;
	soup_server_message_pause(msg);
	return pending;
}

void
cg_http_pending_done(CgHttpPending *pending)
{
	if (!pending->closed) {
		pending_disconnect(pending);
		soup_server_message_unpause(pending->msg);
	}
	(*pending->counter)--;
	g_clear_pointer(&pending->snapshot, g_variant_unref);
	g_clear_object(&pending->msg);
	g_clear_object(&pending->owner);
	g_free(pending->user);
	g_free(pending->progress_id);
	g_free(pending);
}

void
cg_http_pending_fail(CgHttpPending *pending, const GError *error, guint retry_after_s)
{
	if (!pending->closed)
		cg_http_respond_error(pending->msg, error, retry_after_s);
	cg_http_pending_done(pending);
}

void
cg_http_pending_fail_dbus(CgHttpPending *pending, const GError *dbus_error)
{
	guint retry_after_s = 0;
	g_autoptr(GError) error = cg_http_error_from_dbus(dbus_error, &retry_after_s);

	if (g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND) &&
	    pending->progress_id != NULL) {
		g_clear_error(&error);
		error = cg_http_not_found_error(pending->progress_id);
	}
	cg_http_pending_fail(pending, error, retry_after_s);
}

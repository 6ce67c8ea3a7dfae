/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A request answered after D-Bus calls: the message stays paused until
 * then. `closed` is set when libsoup finished it (the client left or the
 * server went down): such a message is never touched again. While it lives
 * it holds a reference on @owner and counts in *@counter (a field of
 * @owner), so the owner can tell when no request is left open. */
typedef struct {
	GObject *owner;
	guint *counter;
	SoupServerMessage *msg;
	char *user;
	char *progress_id; /* NULL when the request names none */
	gboolean closed;
	gulong finished_id;
	gulong disconnected_id;
	GVariant *snapshot;
	gint64 rate_event_us; /* the rate-limit event to take back if refused (0: none) */
} CgHttpPending;

/* Pauses @msg. */
CgHttpPending *cg_http_pending_new(GObject *owner, guint *counter, SoupServerMessage *msg,
				   const char *user, const char *progress_id);
/* Sends what was set on the message (unless it is closed) and frees. */
void cg_http_pending_done(CgHttpPending *pending);
/* Answers with @error (unless closed) and frees. */
void cg_http_pending_fail(CgHttpPending *pending, const GError *error, guint retry_after_s);
/* cg_http_pending_fail() with the error of a D-Bus call to certgend; a
 * NotFound names the request's id. */
void cg_http_pending_fail_dbus(CgHttpPending *pending, const GError *dbus_error);

G_END_DECLS

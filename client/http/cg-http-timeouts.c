/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Header, body and idle timeouts of HTTP connections. */
#include "cg-http-timeouts.h"
#include "cg-http-log.h"

#define CG_HTTP_TIMER_KEY "cg-http-timer"
#define CG_HTTP_IDLE_TIMER_KEY "cg-http-idle-timer"

typedef struct {
	GSource *source;
	GSocket *socket;
	gboolean owns_socket; /* FALSE for the timer kept on the socket itself */
	const char *what;
} CgHttpTimer;

static void
timer_free(gpointer data)
{
	CgHttpTimer *timer = data;

	g_source_destroy(timer->source);
	g_source_unref(timer->source);
	if (timer->owns_socket)
		g_object_unref(timer->socket);
	g_free(timer);
}

static gboolean
timer_fired_cb(gpointer user_data)
{
	CgHttpTimer *timer = user_data;

	cg_http_debug("Closing a connection: %s", timer->what);
	g_socket_shutdown(timer->socket, TRUE, TRUE, NULL);
	return G_SOURCE_REMOVE;
}

static CgHttpTimer *
timer_new(GSocket *socket, gboolean owns_socket, guint timeout_ms, const char *what)
{
	CgHttpTimer *timer = g_new0(CgHttpTimer, 1);

	timer->socket = owns_socket ? g_object_ref(socket) : socket;
	timer->owns_socket = owns_socket;
	timer->what = what;
	timer->source = g_timeout_source_new(timeout_ms);
	g_source_set_callback(timer->source, timer_fired_cb, timer, NULL);
	g_source_attach(timer->source, NULL);
	return timer;
}

void
cg_http_timeout_arm(SoupServerMessage *msg, guint timeout_ms, const char *what)
{
	GSocket *socket = soup_server_message_get_socket(msg);

	if (socket == NULL || timeout_ms == 0) {
		cg_http_timeout_disarm(msg);
		return;
	}
	g_object_set_data_full(G_OBJECT(msg), CG_HTTP_TIMER_KEY,
			       timer_new(socket, TRUE, timeout_ms, what), timer_free);
}

void
cg_http_timeout_disarm(SoupServerMessage *msg)
{
	g_object_set_data(G_OBJECT(msg), CG_HTTP_TIMER_KEY, NULL);
}

void
cg_http_timeout_arm_idle(GSocket *socket, guint timeout_ms)
{
	if (timeout_ms == 0 || g_socket_is_closed(socket))
		return;
	g_object_set_data_full(G_OBJECT(socket), CG_HTTP_IDLE_TIMER_KEY,
			       timer_new(socket, FALSE, timeout_ms, "idle timeout"), timer_free);
}

void
cg_http_timeout_disarm_idle(GSocket *socket)
{
	g_object_set_data(G_OBJECT(socket), CG_HTTP_IDLE_TIMER_KEY, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Header, body and idle timeouts of HTTP connections.
 *
 * Every request arms one or two timers and most are disarmed long before
 * they fire. A GSource per timer put thousands of timeout sources into the
 * main context during a burst of connections, and the context prepares
 * and checks every source on each iteration. Instead the timers of one
 * duration form a lane: armed in deadline order (same duration, later
 * arming, later deadline), kept in a queue, with one GSource per lane that
 * is ready at the first deadline. Disarming unlinks in O(1) and leaves the
 * source's time alone; a wake-up that finds its first timer not yet due
 * just sets the next time. There are as many lanes as configured durations
 * (header, body, idle: three), alive for the process. Main thread only.
 */
#include "cg-http-timeouts.h"

#include "cg-http-log.h"

#include "cg-http-accept.h"

#define CG_HTTP_TIMER_KEY "cg-http-timer"
#define CG_HTTP_IDLE_TIMER_KEY "cg-http-idle-timer"

typedef struct _CgHttpTimerLane CgHttpTimerLane;

typedef struct {
	GList link;	       /* in lane->timers; data: the timer */
	CgHttpTimerLane *lane; /* NULL once fired */
	gint64 deadline_us;    /* monotonic */
	GSocket *socket;
	gboolean owns_socket; /* FALSE for the timer kept on the socket itself */
	const char *what;
} CgHttpTimer;

struct _CgHttpTimerLane {
	GQueue timers; /* CgHttpTimer, first deadline first */
	GSource *source;
};

static GHashTable *lanes; /* timeout_ms -> CgHttpTimerLane */

static void
lane_schedule(CgHttpTimerLane *lane)
{
	CgHttpTimer *first = g_queue_peek_head(&lane->timers);

	g_source_set_ready_time(lane->source, first != NULL ? first->deadline_us : -1);
}

static gboolean
lane_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	CgHttpTimerLane *lane = user_data;
	gint64 now = g_source_get_time(source);
	CgHttpTimer *timer;

	while ((timer = g_queue_peek_head(&lane->timers)) != NULL && timer->deadline_us <= now) {
		g_queue_unlink(&lane->timers, &timer->link);
		timer->lane = NULL;
		cg_http_debug("Closing a connection: %s", timer->what);
		/* libsoup sees end-of-file and drops the connection (and the
		 * timer with its message or socket), later */
		g_socket_shutdown(timer->socket, TRUE, TRUE, NULL);
	}
	lane_schedule(lane);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs lane_funcs = {
    .dispatch = lane_dispatch,
};

static CgHttpTimerLane *
lane_for(guint timeout_ms)
{
	CgHttpTimerLane *lane;

	if (lanes == NULL)
		lanes = g_hash_table_new(NULL, NULL);
	lane = g_hash_table_lookup(lanes, GUINT_TO_POINTER(timeout_ms));
	if (lane != NULL)
		return lane;
	lane = g_new0(CgHttpTimerLane, 1);
	g_queue_init(&lane->timers);
	lane->source = g_source_new(&lane_funcs, sizeof(GSource));
	g_source_set_callback(lane->source, NULL, lane, NULL);
	g_source_set_static_name(lane->source, "cg-http-timeouts");
	g_source_set_ready_time(lane->source, -1);
	g_source_attach(lane->source, NULL);
	g_hash_table_insert(lanes, GUINT_TO_POINTER(timeout_ms), lane);
	return lane;
}

static void
timer_free(gpointer data)
{
	CgHttpTimer *timer = data;

	if (timer->lane != NULL)
		g_queue_unlink(&timer->lane->timers, &timer->link);
	if (timer->owns_socket)
		g_object_unref(timer->socket);
	g_free(timer);
}

static CgHttpTimer *
timer_new(GSocket *socket, gboolean owns_socket, guint timeout_ms, const char *what)
{
	CgHttpTimerLane *lane = lane_for(timeout_ms);
	CgHttpTimer *timer = g_new0(CgHttpTimer, 1);

	timer->socket = owns_socket ? g_object_ref(socket) : socket;
	timer->owns_socket = owns_socket;
	timer->what = what;
	timer->deadline_us = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	timer->lane = lane;
	timer->link.data = timer;
	g_queue_push_tail_link(&lane->timers, &timer->link);
	if (lane->timers.length == 1)
		lane_schedule(lane);
	return timer;
}

void
cg_http_timeout_arm(SoupServerMessage *msg, guint timeout_ms, const char *what)
{
	GSocket *socket = cg_http_accept_message_socket(msg);

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

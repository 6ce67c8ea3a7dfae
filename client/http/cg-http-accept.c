/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bridge accepts TCP connections itself so that the event-stream
 * route, the one a burst of 10,000 clients opens, never goes through
 * libsoup's accept and request parsing (libsoup 3.2 also keeps a GSocket
 * reference per connection it accepted: its memory never comes back).
 *
 * One epoll set holds the listening sockets and every connection whose
 * request head is being read, with one GSource for all of them. A
 * listener that is readable is accepted from (accept4, non-blocking) until
 * EAGAIN, at most CG_HTTP_ACCEPT_BATCH per wake-up so the main loop keeps
 * turning; when the process is out of descriptors the listener rests for
 * CG_HTTP_ACCEPT_REST_MS instead of spinning. A new connection is watched
 * edge-triggered: each time bytes arrive the head is peeked at
 * (recv(MSG_PEEK) into one stack buffer; nothing is kept per connection
 * but this small struct and its GSocket). Bytes that cannot begin with
 * the route's prefix ("GET /api/certificates/progress/") send the
 * connection to libsoup at once; on the prefix, once the whole request line
 * is there, the route function decides: not ours, and the connection goes
 * to libsoup untouched (soup_server_accept_iostream(); its GSocket rides on the
 * remote address object, where cg_http_accept_message_socket() finds it
 * for the timeouts); ours, and the head is parsed strictly
 * (cg-http-head.h), consumed, and given to the serve function. A refusal
 * is written, the sending side shut, and what the client still sends is
 * drained for a moment (a close with unread input would reset the
 * connection and could destroy the response before it is read).
 *
 * libsoup 3.2 keeps a connection alive after a response only while the
 * server has a listener of its own (request_finished() checks
 * priv->listeners). It gets one nobody can reach: a Unix socket bound in a
 * private temporary directory, listening, its name removed at once.
 *
 * Deadlines: the connections of one kind (reading a head, lingering) share
 * one duration, so they are kept in arming order, which is deadline order,
 * with one timer per kind at the first deadline (as cg-http-timeouts.c).
 */
#define _GNU_SOURCE /* accept4() */
#include "cg-http-accept.h"
#include "cg-http-log.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cg-http-json.h"
#include "cg-http-response.h"

#define CG_HTTP_ACCEPT_BATCH 4096
#define CG_HTTP_ACCEPT_EVENTS 256
#define CG_HTTP_ACCEPT_ROUNDS 8
#define CG_HTTP_ACCEPT_REST_MS 100
#define CG_HTTP_ACCEPT_LINGER_MS 1000
#define CG_HTTP_ACCEPT_SOCKET_KEY "cg-http-accepted-socket"

typedef enum { ENTRY_LISTENER, ENTRY_CONN } EntryKind;

typedef struct {
	EntryKind kind;
	GSocket *socket;
} Listener;

typedef struct _Lane Lane;

typedef struct {
	EntryKind kind;
	GSocket *socket;
	GList link; /* in its lane */
	Lane *lane; /* NULL: no deadline */
	gint64 deadline_us;
	gboolean lingering;
} Conn;

struct _Lane {
	CgHttpAccept *owner;
	GQueue conns; /* first deadline first */
	guint timeout_ms;
	guint source_id;
};

struct _CgHttpAccept {
	SoupServer *soup;
	int epoll_fd;
	guint source_id;
	guint rest_id;
	GPtrArray *listeners; /* GSocket */
	GPtrArray *listener_entries;
	GHashTable *conns; /* Conn set */
	Lane reading;
	Lane lingering;
	char *prefix; /* of the request lines that may be the route's */
	gsize prefix_length;
	CgHttpAcceptRouteFunc route_func;
	CgHttpAcceptServeFunc serve_func;
	gpointer user_data;
};

static void conn_free(CgHttpAccept *self, Conn *conn);

/* ---- deadlines ------------------------------------------------------------------------ */

static gboolean lane_cb(gpointer user_data);

static void
lane_schedule(Lane *lane)
{
	Conn *first = g_queue_peek_head(&lane->conns);
	gint64 wait_us;

	g_clear_handle_id(&lane->source_id, g_source_remove);
	if (first == NULL)
		return;
	wait_us = first->deadline_us - g_get_monotonic_time();
	lane->source_id =
	    g_timeout_add(wait_us > 0 ? (guint)((wait_us + 999) / 1000) : 0, lane_cb, lane);
}

static void
conn_disarm(Conn *conn)
{
	Lane *lane = conn->lane;

	if (lane == NULL)
		return;
	conn->lane = NULL;
	g_queue_unlink(&lane->conns, &conn->link);
	/* the timer may fire early: it finds nothing due and reschedules */
}

static void
conn_arm(Conn *conn, Lane *lane)
{
	gboolean was_empty = g_queue_is_empty(&lane->conns);

	conn_disarm(conn);
	if (lane->timeout_ms == 0)
		return;
	conn->lane = lane;
	conn->deadline_us = g_get_monotonic_time() + (gint64)lane->timeout_ms * 1000;
	conn->link.data = conn;
	g_queue_push_tail_link(&lane->conns, &conn->link);
	if (was_empty || lane->source_id == 0)
		lane_schedule(lane);
}

static gboolean
lane_cb(gpointer user_data)
{
	Lane *lane = user_data;
	gint64 now = g_get_monotonic_time();
	Conn *conn;

	lane->source_id = 0;
	while ((conn = g_queue_peek_head(&lane->conns)) != NULL && conn->deadline_us <= now) {
		cg_http_debug("%s: closed",
			      conn->lingering ? "refused connection" : "request head timeout");
		conn_free(lane->owner, conn);
	}
	lane_schedule(lane);
	return G_SOURCE_REMOVE;
}

/* ---- connections ------------------------------------------------------------------------ */

static void
conn_free(CgHttpAccept *self, Conn *conn)
{
	conn_disarm(conn);
	g_hash_table_remove(self->conns, conn);
	if (conn->socket != NULL) {
		(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, g_socket_get_fd(conn->socket), NULL);
		g_socket_close(conn->socket, NULL);
		g_object_unref(conn->socket);
	}
	g_free(conn);
}

/* Leaves the acceptor's care: the connection is libsoup's or a stream's. */
static GSocket *
conn_release(CgHttpAccept *self, Conn *conn)
{
	GSocket *socket = g_steal_pointer(&conn->socket);

	(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, g_socket_get_fd(socket), NULL);
	conn_free(self, conn);
	return socket;
}

GBytes *
cg_http_accept_refusal(SoupHTTPVersion version, guint status, const char *reason)
{
	g_autoptr(SoupMessageHeaders) headers =
	    soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
	g_autofree char *json = cg_http_error_json(
	    status == CG_HTTP_STATUS_HEADERS_TOO_LARGE	       ? "headers_too_large"
	    : status == SOUP_STATUS_HTTP_VERSION_NOT_SUPPORTED ? "http_version_not_supported"
							       : "bad_request",
	    reason);

	soup_message_headers_append(headers, "Server", "certgen-http");
	cg_http_response_add_default_headers_to(headers);
	soup_message_headers_append(headers, "Cache-Control", "no-store");
	soup_message_headers_append(headers, "Connection", "close");
	return cg_http_response_render(version, status, headers, "application/json", json);
}

/* Writes @response (one non-blocking send: a new connection's send buffer
 * takes a few kilobytes), shuts the sending side and drains the rest. */
static void
conn_refuse(CgHttpAccept *self, Conn *conn, GBytes *response)
{
	int fd = g_socket_get_fd(conn->socket);
	gsize size = 0;
	const char *data = g_bytes_get_data(response, &size);

	(void)send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
	conn->lingering = TRUE;
	conn_arm(conn, &self->lingering);
}

static void
conn_linger(CgHttpAccept *self, Conn *conn)
{
	char sink[4096];
	ssize_t n;

	do
		n = recv(g_socket_get_fd(conn->socket), sink, sizeof sink, MSG_DONTWAIT);
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		conn_free(self, conn);
}

/* libsoup takes the connection as it is (nothing of it was read). */
static void
conn_hand_over(CgHttpAccept *self, Conn *conn)
{
	g_autoptr(GSocket) socket = conn_release(self, conn);
	g_autoptr(GSocketConnection) connection = NULL;
	g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, NULL);
	g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(socket, NULL);
	g_autoptr(GError) error = NULL;

	if (local == NULL || remote == NULL)
		return; /* gone already */
	if (g_socket_get_family(socket) != G_SOCKET_FAMILY_UNIX)
		(void)g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
	g_object_set_data_full(G_OBJECT(remote), CG_HTTP_ACCEPT_SOCKET_KEY, g_object_ref(socket),
			       g_object_unref);
	connection = g_socket_connection_factory_create_connection(socket);
	if (!soup_server_accept_iostream(self->soup, G_IO_STREAM(connection), local, remote,
					 &error))
		cg_http_debug("libsoup refused a connection: %s", error->message);
}

/* Consumes the @length bytes of the head that were peeked at. */
static gboolean
conn_consume(Conn *conn, gsize length)
{
	char sink[CG_HTTP_HEAD_MAX_BYTES];

	while (length > 0) {
		ssize_t n = recv(g_socket_get_fd(conn->socket), sink, length, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		length -= (gsize)n;
	}
	return TRUE;
}

static void
conn_read(CgHttpAccept *self, Conn *conn)
{
	char data[CG_HTTP_HEAD_MAX_BYTES];
	CgHttpHead head = {0};
	CgHttpHeadResult result;
	ssize_t n;

	do
		n = recv(g_socket_get_fd(conn->socket), data, sizeof data, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_free(self, conn); /* the client left */
		return;
	}
	if (memcmp(data, self->prefix, MIN((gsize)n, self->prefix_length)) != 0) {
		conn_hand_over(self, conn);
		return;
	}
	if ((gsize)n < self->prefix_length)
		return; /* could still be the route's */
	result = cg_http_head_parse_request_line(data, (gsize)n, &head);
	if (result == CG_HTTP_HEAD_COMPLETE && !self->route_func(self->user_data, &head)) {
		cg_http_head_clear(&head);
		conn_hand_over(self, conn);
		return;
	}
	if (result == CG_HTTP_HEAD_COMPLETE)
		result = cg_http_head_parse(data, (gsize)n, &head);
	if (result == CG_HTTP_HEAD_INVALID) {
		g_autoptr(GBytes) refusal =
		    cg_http_accept_refusal(head.version, head.status, head.reason);

		cg_http_debug("request head refused: %u %s", head.status, head.reason);
		conn_refuse(self, conn, refusal);
	} else if (result == CG_HTTP_HEAD_COMPLETE) {
		if (!conn_consume(conn, head.length)) {
			conn_free(self, conn);
		} else {
			g_autoptr(GSocket) socket = conn_release(self, conn);
			g_autoptr(GBytes) refusal =
			    self->serve_func(self->user_data, socket, &head);

			if (refusal != NULL) {
				/* back into care for the refusal */
				Conn *again = g_new0(Conn, 1);
				struct epoll_event event = {
				    .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = again};

				again->kind = ENTRY_CONN;
				again->socket = g_steal_pointer(&socket);
				g_hash_table_add(self->conns, again);
				(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD,
						g_socket_get_fd(again->socket), &event);
				conn_refuse(self, again, refusal);
			}
		}
	}
	cg_http_head_clear(&head);
}

/* ---- listening ------------------------------------------------------------------------ */

static gboolean
rest_done_cb(gpointer user_data)
{
	CgHttpAccept *self = user_data;

	self->rest_id = 0;
	for (guint i = 0; i < self->listener_entries->len; i++) {
		Listener *listener = g_ptr_array_index(self->listener_entries, i);
		struct epoll_event event = {.events = EPOLLIN, .data.ptr = listener};

		(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, g_socket_get_fd(listener->socket),
				&event);
	}
	return G_SOURCE_REMOVE;
}

/* Out of descriptors: the listeners are not watched for a moment (the
 * kernel keeps the new connections queued meanwhile). */
static void
rest_listeners(CgHttpAccept *self)
{
	if (self->rest_id != 0)
		return;
	g_warning("accept: %s; not accepting for %u ms", g_strerror(errno), CG_HTTP_ACCEPT_REST_MS);
	for (guint i = 0; i < self->listener_entries->len; i++) {
		Listener *listener = g_ptr_array_index(self->listener_entries, i);
		struct epoll_event event = {.events = 0, .data.ptr = listener};

		(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, g_socket_get_fd(listener->socket),
				&event);
	}
	self->rest_id = g_timeout_add(CG_HTTP_ACCEPT_REST_MS, rest_done_cb, self);
}

static void
listener_accept(CgHttpAccept *self, Listener *listener)
{
	for (guint i = 0; i < CG_HTTP_ACCEPT_BATCH; i++) {
		int fd = accept4(g_socket_get_fd(listener->socket), NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET};
		g_autoptr(GError) error = NULL;
		Conn *conn;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				rest_listeners(self);
			return;
		}
		conn = g_new0(Conn, 1);
		conn->kind = ENTRY_CONN;
		conn->socket = g_socket_new_from_fd(fd, &error);
		if (conn->socket == NULL) {
			close(fd);
			g_free(conn);
			continue;
		}
		event.data.ptr = conn;
		g_hash_table_add(self->conns, conn);
		if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
			conn_free(self, conn);
			continue;
		}
		conn_arm(conn, &self->reading);
		/* the request may be there already */
		conn_read(self, conn);
	}
}

static void epoll_dispatch(CgHttpAccept *self, struct epoll_event *events, int n);

static gboolean
epoll_cb(int fd, GIOCondition condition, gpointer user_data)
{
	CgHttpAccept *self = user_data;
	struct epoll_event events[CG_HTTP_ACCEPT_EVENTS];
	int n;

	/* a few rounds per wake-up: in a burst the loop's other sources
	 * (the streams' writes) would otherwise hold back every next round */
	for (guint round = 0; round < CG_HTTP_ACCEPT_ROUNDS; round++) {
		n = epoll_wait(fd, events, G_N_ELEMENTS(events), 0);
		epoll_dispatch(self, events, n);
		if (n < (int)G_N_ELEMENTS(events))
			break;
	}
	return G_SOURCE_CONTINUE;
}

static void
epoll_dispatch(CgHttpAccept *self, struct epoll_event *events, int n)
{
	for (int i = 0; i < n; i++) {
		EntryKind *kind = events[i].data.ptr;

		if (*kind == ENTRY_LISTENER) {
			listener_accept(self, events[i].data.ptr);
			continue;
		}
		/* freed by an earlier event of this batch? (should a new
		 * connection have its address, the stale event only makes it
		 * peek or drain once more, which is harmless) */
		if (!g_hash_table_contains(self->conns, kind))
			continue;
		if (((Conn *)kind)->lingering)
			conn_linger(self, (Conn *)kind);
		else
			conn_read(self, (Conn *)kind);
	}
}

/* The listener that makes libsoup keep handed-over connections alive; see
 * the top of the file. */
static gboolean
give_libsoup_a_listener(SoupServer *soup, GError **error)
{
	g_autofree char *dir = g_dir_make_tmp("certgen-http-XXXXXX", error);
	g_autofree char *path = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	gboolean listening;

	if (dir == NULL)
		return FALSE;
	path = g_build_filename(dir, "unreachable", NULL);
	address = g_unix_socket_address_new(path);
	socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
			      error);
	listening = socket != NULL && g_socket_bind(socket, address, FALSE, error) &&
		    g_socket_listen(socket, error);
	(void)g_unlink(path);
	(void)g_rmdir(dir);
	return listening && soup_server_listen_socket(soup, socket, 0, error);
}

CgHttpAccept *
cg_http_accept_new(SoupServer *soup, guint head_timeout_ms, const char *prefix,
		   CgHttpAcceptRouteFunc route_func, CgHttpAcceptServeFunc serve_func,
		   gpointer user_data)
{
	CgHttpAccept *self = g_new0(CgHttpAccept, 1);
	g_autoptr(GError) error = NULL;

	if (!give_libsoup_a_listener(soup, &error))
		g_warning("No listener for libsoup (%s): kept-alive connections end after "
			  "each response",
			  error->message);
	self->soup = g_object_ref(soup);
	self->prefix = g_strdup(prefix);
	self->prefix_length = strlen(prefix);
	self->route_func = route_func;
	self->serve_func = serve_func;
	self->user_data = user_data;
	self->listeners = g_ptr_array_new_with_free_func(g_object_unref);
	self->listener_entries = g_ptr_array_new_with_free_func(g_free);
	self->conns = g_hash_table_new(NULL, NULL);
	self->reading = (Lane){.owner = self, .timeout_ms = head_timeout_ms};
	self->lingering = (Lane){.owner = self, .timeout_ms = CG_HTTP_ACCEPT_LINGER_MS};
	self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (self->epoll_fd >= 0)
		self->source_id = g_unix_fd_add(self->epoll_fd, G_IO_IN, epoll_cb, self);
	return self;
}

gboolean
cg_http_accept_add_listener(CgHttpAccept *self, GSocket *socket, GError **error)
{
	Listener *listener;
	struct epoll_event event = {.events = EPOLLIN};

	if (self->epoll_fd < 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "No epoll set for the listeners");
		return FALSE;
	}
	g_socket_set_blocking(socket, FALSE);
	listener = g_new0(Listener, 1);
	listener->kind = ENTRY_LISTENER;
	listener->socket = socket;
	event.data.ptr = listener;
	if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, g_socket_get_fd(socket), &event) < 0) {
		int saved = errno;

		g_free(listener);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "epoll_ctl: %s",
			    g_strerror(saved));
		return FALSE;
	}
	g_ptr_array_add(self->listeners, g_object_ref(socket));
	g_ptr_array_add(self->listener_entries, listener);
	return TRUE;
}

GPtrArray *
cg_http_accept_get_listeners(CgHttpAccept *self)
{
	return self->listeners;
}

void
cg_http_accept_close(CgHttpAccept *self)
{
	g_autoptr(GList) conns = g_hash_table_get_keys(self->conns);

	g_clear_handle_id(&self->rest_id, g_source_remove);
	for (guint i = 0; i < self->listeners->len; i++)
		g_socket_close(g_ptr_array_index(self->listeners, i), NULL);
	g_ptr_array_set_size(self->listener_entries, 0);
	g_ptr_array_set_size(self->listeners, 0);
	for (GList *l = conns; l != NULL; l = l->next)
		conn_free(self, l->data);
	g_clear_handle_id(&self->reading.source_id, g_source_remove);
	g_clear_handle_id(&self->lingering.source_id, g_source_remove);
}

void
cg_http_accept_free(CgHttpAccept *self)
{
	if (self == NULL)
		return;
	cg_http_accept_close(self);
	g_clear_handle_id(&self->source_id, g_source_remove);
	if (self->epoll_fd >= 0)
		close(self->epoll_fd);
	g_ptr_array_unref(self->listeners);
	g_ptr_array_unref(self->listener_entries);
	g_hash_table_unref(self->conns);
	g_object_unref(self->soup);
	g_free(self->prefix);
	g_free(self);
}

GSocket *
cg_http_accept_message_socket(SoupServerMessage *msg)
{
	GSocket *socket = soup_server_message_get_socket(msg);
	GSocketAddress *remote;

	if (socket != NULL)
		return socket;
	remote = soup_server_message_get_remote_address(msg);
	return remote != NULL ? g_object_get_data(G_OBJECT(remote), CG_HTTP_ACCEPT_SOCKET_KEY)
			      : NULL;
}

GSocket *
cg_http_accept_stream_socket(GIOStream *stream)
{
	g_autoptr(GIOStream) base = NULL;
	GSocket *socket;

	if (stream == NULL)
		return NULL;
	socket = g_object_get_data(G_OBJECT(stream), "GSocket");
	if (socket != NULL)
		return socket;
	if (G_IS_SOCKET_CONNECTION(stream))
		return g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
	/* libsoup's SoupIOStream over the connection handed over */
	if (g_object_class_find_property(G_OBJECT_GET_CLASS(stream), "base-iostream") == NULL)
		return NULL;
	g_object_get(stream, "base-iostream", &base, NULL);
	return G_IS_SOCKET_CONNECTION(base)
		   ? g_socket_connection_get_socket(G_SOCKET_CONNECTION(base))
		   : NULL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The departure watch of every idle stream, in one epoll set. */
#include "cg-http-peers.h"
#include "cg-http-log.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CG_HTTP_PEERS_BATCH 256

struct _CgHttpPeer {
	GSocket *socket;
	CgHttpPeerGoneFunc func;
	CgHttpPeerWritableFunc writable; /* EPOLLOUT wanted */
	gpointer stream;
	gboolean owned;	   /* the stream owns the connection: input is dropped */
	gboolean watching; /* in the epoll set */
	gboolean removed;  /* removed during a dispatch: freed after it */
};

struct _CgHttpPeers {
	int epoll_fd;
	guint source_id;
	guint size;
	gboolean dispatching;
	GPtrArray *removed; /* CgHttpPeer removed during the dispatch */
};

static void
peer_free(CgHttpPeer *peer)
{
	g_object_unref(peer->socket);
	g_free(peer);
}

static void
peer_unwatch(CgHttpPeers *self, CgHttpPeer *peer)
{
	if (!peer->watching)
		return;
	peer->watching = FALSE;
	/* a closed socket left the set when its descriptor was closed (and
	 * the number may already be another socket's) */
	if (!g_socket_is_closed(peer->socket))
		(void)epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, g_socket_get_fd(peer->socket), NULL);
}

/* -> the reason the client is gone, or NULL (still there). */
static const char *
peer_check(CgHttpPeers *self, CgHttpPeer *peer, guint32 events)
{
	char byte;
	ssize_t n;

	if ((events & (EPOLLHUP | EPOLLERR)) != 0)
		return "the client hung up";
	n = recv(g_socket_get_fd(peer->socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return NULL;
	if (n <= 0)
		return "the client left";
	if (peer->owned) {
		/* nobody else reads this connection: what the client sends
		 * after its request is dropped */
		char sink[512];

		while (recv(g_socket_get_fd(peer->socket), sink, sizeof sink, MSG_DONTWAIT) > 0)
			;
		return NULL;
	}
	/* the client sent more (a pipelined request): libsoup reads it after
	 * the stream, the keep-alive comments notice a departure */
	peer_unwatch(self, peer);
	return NULL;
}

static gboolean
epoll_cb(int fd, GIOCondition condition, gpointer user_data)
{
	CgHttpPeers *self = user_data;
	struct epoll_event events[CG_HTTP_PEERS_BATCH];
	int n = epoll_wait(fd, events, G_N_ELEMENTS(events), 0);

	self->dispatching = TRUE;
	for (int i = 0; i < n; i++) {
		CgHttpPeer *peer = events[i].data.ptr;
		const char *why;

		/* removed or stopped by an earlier one of this batch */
		if (peer->removed || !peer->watching)
			continue;
		why = (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0
			  ? peer_check(self, peer, events[i].events)
			  : NULL;
		if (why != NULL) {
			peer_unwatch(self, peer);
			peer->func(peer->stream, why);
			continue;
		}
		if ((events[i].events & EPOLLOUT) != 0 && peer->watching && peer->writable != NULL)
			peer->writable(peer->stream);
	}
	self->dispatching = FALSE;
	g_ptr_array_set_size(self->removed, 0);
	return G_SOURCE_CONTINUE;
}

CgHttpPeers *
cg_http_peers_new(void)
{
	CgHttpPeers *self = g_new0(CgHttpPeers, 1);

	self->removed = g_ptr_array_new_with_free_func((GDestroyNotify)peer_free);
	self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (self->epoll_fd < 0)
		g_warning("epoll_create1: %s; departed clients are noticed when written to",
			  g_strerror(errno));
	else
		self->source_id = g_unix_fd_add(self->epoll_fd, G_IO_IN, epoll_cb, self);
	return self;
}

void
cg_http_peers_free(CgHttpPeers *self)
{
	if (self == NULL)
		return;
	g_warn_if_fail(self->size == 0);
	g_clear_handle_id(&self->source_id, g_source_remove);
	if (self->epoll_fd >= 0)
		close(self->epoll_fd);
	g_ptr_array_unref(self->removed);
	g_free(self);
}

CgHttpPeer *
cg_http_peers_add(CgHttpPeers *self, GSocket *socket, CgHttpPeerGoneFunc func, gpointer stream)
{
	CgHttpPeer *peer;
	struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP};

	if (self->epoll_fd < 0)
		return NULL;
	peer = g_new0(CgHttpPeer, 1);
	peer->socket = g_object_ref(socket);
	peer->func = func;
	peer->stream = stream;
	event.data.ptr = peer;
	if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, g_socket_get_fd(socket), &event) != 0) {
		cg_http_debug("epoll_ctl: %s", g_strerror(errno));
		peer_free(peer);
		return NULL;
	}
	peer->watching = TRUE;
	self->size++;
	return peer;
}

void
cg_http_peers_remove(CgHttpPeers *self, CgHttpPeer *peer)
{
	if (peer == NULL)
		return;
	peer_unwatch(self, peer);
	self->size--;
	if (self->dispatching) {
		peer->removed = TRUE;
		g_ptr_array_add(self->removed, peer);
		return;
	}
	peer_free(peer);
}

static void
peer_modify(CgHttpPeers *self, CgHttpPeer *peer)
{
	struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = peer};

	if (!peer->watching)
		return;
	if (peer->writable != NULL)
		event.events |= EPOLLOUT;
	if (epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, g_socket_get_fd(peer->socket), &event) != 0)
		cg_http_debug("epoll_ctl: %s", g_strerror(errno));
}

void
cg_http_peers_own(CgHttpPeer *peer)
{
	peer->owned = TRUE;
}

void
cg_http_peers_want_write(CgHttpPeers *self, CgHttpPeer *peer, CgHttpPeerWritableFunc func)
{
	if (peer == NULL || peer->writable == func)
		return;
	peer->writable = func;
	peer_modify(self, peer);
}

guint
cg_http_peers_get_size(CgHttpPeers *self)
{
	return self->size;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the departure watch of idle streams (cg-http-peers.c). */
#include <sys/socket.h>
#include <unistd.h>

#include "cg-http-peers.h"
#include "cg-test-util.h"

typedef struct {
	guint calls;
	const char *why;
} Gone;

static void
gone_cb(gpointer stream, const char *why)
{
	Gone *gone = stream;

	gone->calls++;
	gone->why = why;
}

/* A connected pair: *@client's descriptor, the server side as a GSocket. */
static GSocket *
socket_pair(int *client)
{
	int fds[2];
	g_autoptr(GError) error = NULL;
	GSocket *server;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
	server = g_socket_new_from_fd(fds[0], &error);
	g_assert_no_error(error);
	*client = fds[1];
	return server;
}

/* Two connected pairs whose server sides are watched. */
typedef struct {
	CgHttpPeers *peers;
	GSocket *socket[2];
	int client[2];
	Gone gone[2];
	CgHttpPeer *peer[2];
} Pairs;

static void
pairs_set_up(Pairs *pairs)
{
	pairs->peers = cg_http_peers_new();
	for (guint i = 0; i < 2; i++) {
		pairs->socket[i] = socket_pair(&pairs->client[i]);
		pairs->peer[i] =
		    cg_http_peers_add(pairs->peers, pairs->socket[i], gone_cb, &pairs->gone[i]);
		g_assert_nonnull(pairs->peer[i]);
	}
	g_assert_cmpuint(cg_http_peers_get_size(pairs->peers), ==, 2);
}

/* Removes what is still watched, closes the rest. */
static void
pairs_tear_down(Pairs *pairs)
{
	for (guint i = 0; i < 2; i++) {
		cg_http_peers_remove(pairs->peers, g_steal_pointer(&pairs->peer[i]));
		if (pairs->client[i] >= 0)
			close(pairs->client[i]);
		g_clear_object(&pairs->socket[i]);
	}
	g_assert_cmpuint(cg_http_peers_get_size(pairs->peers), ==, 0);
	g_clear_pointer(&pairs->peers, cg_http_peers_free);
}

static void
spin(guint ms)
{
	gint64 until = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, FALSE);
}

static void
test_client_leaves(void)
{
	Pairs pairs = {0};

	pairs_set_up(&pairs);
	spin(50);
	g_assert_cmpuint(pairs.gone[0].calls + pairs.gone[1].calls, ==, 0);
	close(g_steal_fd(&pairs.client[1]));
	spin(50);
	g_assert_cmpuint(pairs.gone[1].calls, ==, 1);
	/* HUP on a socket pair, EOF (peeked) on TCP */
	g_assert_nonnull(pairs.gone[1].why);
	g_assert_cmpuint(pairs.gone[0].calls, ==, 0);
	/* once only */
	spin(50);
	g_assert_cmpuint(pairs.gone[1].calls, ==, 1);
	cg_http_peers_remove(pairs.peers, NULL);
	/* removed: no call when that client leaves too */
	cg_http_peers_remove(pairs.peers, g_steal_pointer(&pairs.peer[0]));
	close(g_steal_fd(&pairs.client[0]));
	spin(50);
	g_assert_cmpuint(pairs.gone[0].calls, ==, 0);
	pairs_tear_down(&pairs);
}

/* Ends that are no departure: a pipelined request (the client sends more:
 * no longer watched), a socket libsoup closed before the stream removed its
 * watch. */
static void
test_not_departures(void)
{
	Pairs pairs = {0};

	pairs_set_up(&pairs);
	g_assert_cmpint(write(pairs.client[0], "GET", 3), ==, 3);
	spin(50);
	close(g_steal_fd(&pairs.client[0]));
	g_assert_true(g_socket_close(pairs.socket[1], NULL));
	cg_http_peers_remove(pairs.peers, g_steal_pointer(&pairs.peer[1]));
	close(g_steal_fd(&pairs.client[1]));
	spin(50);
	g_assert_cmpuint(pairs.gone[0].calls + pairs.gone[1].calls, ==, 0);
	pairs_tear_down(&pairs);
}

static void
writable_cb(gpointer stream)
{
	Gone *gone = stream;

	/* counted apart from departures: why stays NULL */
	gone->calls += 100;
}

/* A connection the stream owns: told when it can write while it asks,
 * what the client sends is dropped and the watch goes on (its leaving is
 * still noticed). */
static void
test_owned_writer(void)
{
	Pairs pairs = {0};
	char byte;

	pairs_set_up(&pairs);
	cg_http_peers_own(pairs.peer[0]);
	cg_http_peers_want_write(pairs.peers, pairs.peer[0], writable_cb);
	spin(20);
	g_assert_cmpuint(pairs.gone[0].calls, >=, 100);
	g_assert_null(pairs.gone[0].why);
	g_assert_cmpuint(pairs.gone[1].calls, ==, 0);
	cg_http_peers_want_write(pairs.peers, pairs.peer[0], NULL);
	spin(20);
	pairs.gone[0].calls = 0;
	spin(50);
	g_assert_cmpuint(pairs.gone[0].calls, ==, 0);
	/* input from the client: read and dropped */
	g_assert_cmpint(write(pairs.client[0], "GET / HTTP/1.1\r\n\r\n", 18), ==, 18);
	spin(50);
	g_assert_cmpint(recv(g_socket_get_fd(pairs.socket[0]), &byte, 1, MSG_DONTWAIT), <, 0);
	g_assert_cmpuint(pairs.gone[0].calls, ==, 0);
	/* still watched: the departure is noticed */
	close(g_steal_fd(&pairs.client[0]));
	spin(50);
	g_assert_cmpuint(pairs.gone[0].calls, ==, 1);
	g_assert_nonnull(pairs.gone[0].why);
	pairs_tear_down(&pairs);
}

static const CgTestCase cases[] = {
    {"/http/peers/client-leaves", test_client_leaves},
    {"/http/peers/not-departures", test_not_departures},
    {"/http/peers/owned-writer", test_owned_writer},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CgRedis against a real redis-server of its own (a unix socket in a
 * temporary directory, no persistence): addresses, binary-safe commands,
 * Redis's errors, cancellation, a server that goes away (pending replies
 * fail, sends are refused) and comes back (the connection is re-made), and
 * frees from inside a reply.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "cg-redis.h"
#include "cg-test-util.h"

typedef struct {
	char *dir;
	char *socket;
	GSubprocess *server;
} Server;

static void
server_start(Server *server)
{
	g_autoptr(GError) error = NULL;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	server->server =
	    g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "redis-server", "--port",
			     "0", "--unixsocket", server->socket, "--unixsocketperm", "700",
			     "--save", "", "--appendonly", "no", "--daemonize", "no", NULL);
	g_assert_no_error(error);
	while (!g_file_test(server->socket, G_FILE_TEST_EXISTS)) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(10000);
	}
}

static void
server_stop(Server *server)
{
	g_subprocess_send_signal(server->server, SIGKILL);
	g_subprocess_wait(server->server, NULL, NULL);
	g_clear_object(&server->server);
	g_unlink(server->socket);
}

static void
server_init(Server *server)
{
	g_autoptr(GError) error = NULL;

	server->dir = g_dir_make_tmp("cg-redis-XXXXXX", &error);
	g_assert_no_error(error);
	server->socket = g_build_filename(server->dir, "redis.sock", NULL);
	server_start(server);
}

static void
server_clear(Server *server)
{
	if (server->server != NULL)
		server_stop(server);
	g_rmdir(server->dir);
	g_free(server->socket);
	g_free(server->dir);
}

/* Replies */

typedef struct {
	gboolean done;
	int type;
	char *str;
	gsize len;
	long long integer;
	GError *error;
	guint calls;
} Reply;

static void
reply_clear(Reply *reply)
{
	g_free(reply->str);
	g_clear_error(&reply->error);
	memset(reply, 0, sizeof(*reply));
}

static void
reply_cb(CgRedis *redis, const redisReply *r, const GError *error, gpointer user_data)
{
	Reply *reply = user_data;
	const char *str;

	(void)redis;
	reply->calls++;
	reply->done = TRUE;
	if (error != NULL) {
		reply->error = g_error_copy(error);
		g_assert_null(r);
		return;
	}
	reply->type = r->type;
	str = cg_redis_reply_string(r, &reply->len);
	reply->str = str != NULL ? g_memdup2(str, reply->len + 1) : NULL;
	cg_redis_reply_integer(r, &reply->integer);
}

static void
wait_done(Reply *reply)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (!reply->done) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

static void
state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	int *state = user_data;

	(void)redis;
	*state = connected ? 1 : 0;
}

static void
wait_state(int *state, int wanted)
{
	gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

	while (*state != wanted) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

static void
test_address(void)
{
	const char *good[] = {"/run/redis.sock", "unix:/tmp/x.sock", "localhost", "127.0.0.1:6379",
			      "redis.example.org:1"};
	const char *bad[] = {
	    "",
	    ":6379",
	    "host:",
	    "host:0",
	    "host:65536",
	    "host:12x",
	    "unix:",
	    "host name:1",
	    "host;rm:1",
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++)
		g_assert_true(cg_redis_address_is_valid(good[i], NULL));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(cg_redis_address_is_valid(bad[i], &error));
		g_assert_error(error, CG_REDIS_ERROR, CG_REDIS_ERROR_ADDRESS);
		g_assert_null(cg_redis_new(bad[i], "test", NULL));
	}
	g_assert_false(cg_redis_address_is_valid(NULL, NULL));
}

static void
test_commands(void)
{
	Server server = {0};
	g_autoptr(CgRedis) redis = NULL;
	CgRedisCommand *command;
	Reply reply = {0};
	int state = -1;
	static const char binary[] = {'a', '\0', 'b', '\r', '\n', (char)0xff};

	server_init(&server);
	redis = cg_redis_new(server.socket, "test", NULL);
	g_assert_nonnull(redis);
	cg_redis_set_state_func(redis, state_cb, &state);
	wait_state(&state, 1);
	g_assert_true(cg_redis_is_connected(redis));
	g_assert_cmpuint(cg_redis_get_n_reconnects(redis), ==, 0);

	/* binary-safe arguments and replies */
	command = cg_redis_command_new("SET");
	cg_redis_command_add_printf(command, "key:%d", 1);
	cg_redis_command_add_data(command, binary, sizeof(binary));
	cg_redis_send(redis, command, NULL, reply_cb, &reply);
	g_assert_false(reply.done); /* never from inside the send */
	wait_done(&reply);
	g_assert_no_error(reply.error);
	g_assert_cmpstr(reply.str, ==, "OK");
	reply_clear(&reply);
	cg_redis_sendv(redis, NULL, reply_cb, &reply, "GET", "key:1", NULL);
	wait_done(&reply);
	g_assert_cmpuint(reply.len, ==, sizeof(binary));
	g_assert_cmpmem(reply.str, reply.len, binary, sizeof(binary));
	reply_clear(&reply);

	/* Redis's own error, with its message */
	cg_redis_sendv(redis, NULL, reply_cb, &reply, "INCR", "key:1", NULL);
	wait_done(&reply);
	g_assert_error(reply.error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY);
	g_assert_true(g_str_has_prefix(reply.error->message, "ERR"));
	reply_clear(&reply);

	/* a flat field/value reply */
	cg_redis_sendv(redis, NULL, NULL, NULL, "HSET", "h", "user", "alice", "state", "queued",
		       NULL);
	{
		Reply all = {0};

		cg_redis_sendv(redis, NULL, reply_cb, &all, "HGET", "h", "state", NULL);
		wait_done(&all);
		g_assert_cmpstr(all.str, ==, "queued");
		reply_clear(&all);
	}

	/* cancelled: not called, even though the reply comes */
	{
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		Reply after = {0};

		cg_redis_sendv(redis, cancellable, reply_cb, &reply, "PING", NULL);
		g_cancellable_cancel(cancellable);
		cg_redis_sendv(redis, NULL, reply_cb, &after, "PING", NULL);
		wait_done(&after);
		g_assert_cmpuint(reply.calls, ==, 0);
		reply_clear(&after);
	}
	server_clear(&server);
}

static void
hgetall_cb(CgRedis *redis, const redisReply *r, const GError *error, gpointer user_data)
{
	gboolean *done = user_data;
	gsize len = 0;

	(void)redis;
	g_assert_no_error(error);
	g_assert_cmpstr(cg_redis_reply_string(cg_redis_reply_field(r, "user"), &len), ==, "alice");
	g_assert_cmpuint(len, ==, 5);
	g_assert_cmpstr(cg_redis_reply_string(cg_redis_reply_field(r, "state"), NULL), ==, "run");
	g_assert_null(cg_redis_reply_field(r, "missing"));
	g_assert_null(cg_redis_reply_field(NULL, "user"));
	*done = TRUE;
}

static void
test_fields(void)
{
	Server server = {0};
	g_autoptr(CgRedis) redis = NULL;
	g_autofree char *address = NULL;
	gboolean done = FALSE;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	server_init(&server);
	address = g_strconcat("unix:", server.socket, NULL);
	redis = cg_redis_new(address, "test", NULL);
	g_assert_nonnull(redis);
	/* sent while the connect is under way: queued, not refused */
	cg_redis_sendv(redis, NULL, NULL, NULL, "HSET", "h", "user", "alice", "state", "run", NULL);
	cg_redis_sendv(redis, NULL, hgetall_cb, &done, "HGETALL", "h", NULL);
	while (!done) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	server_clear(&server);
}

static void
test_reconnect(void)
{
	Server server = {0};
	g_autoptr(CgRedis) redis = NULL;
	Reply pending = {0};
	Reply refused = {0};
	Reply again = {0};
	int state = -1;

	server_init(&server);
	redis = cg_redis_new(server.socket, "test", NULL);
	cg_redis_set_state_func(redis, state_cb, &state);
	wait_state(&state, 1);

	/* a reply that will never come: the server dies under it */
	cg_redis_sendv(redis, NULL, reply_cb, &pending, "BLPOP", "nothing", "0", NULL);
	g_main_context_iteration(NULL, FALSE);
	g_usleep(100000);
	g_main_context_iteration(NULL, FALSE);
	server_stop(&server);
	wait_done(&pending);
	g_assert_error(pending.error, CG_REDIS_ERROR, CG_REDIS_ERROR_DISCONNECTED);
	g_assert_cmpuint(pending.calls, ==, 1);
	wait_state(&state, 0);
	g_assert_false(cg_redis_is_connected(redis));

	/* refused while down (the retry finds no socket) */
	while (TRUE) {
		reply_clear(&refused);
		cg_redis_sendv(redis, NULL, reply_cb, &refused, "PING", NULL);
		wait_done(&refused);
		if (g_error_matches(refused.error, CG_REDIS_ERROR, CG_REDIS_ERROR_NOT_CONNECTED))
			break;
	}

	/* back: the connection is made again, commands work */
	server_start(&server);
	wait_state(&state, 1);
	g_assert_cmpuint(cg_redis_get_n_reconnects(redis), ==, 1);
	cg_redis_sendv(redis, NULL, reply_cb, &again, "PING", NULL);
	wait_done(&again);
	g_assert_no_error(again.error);
	g_assert_cmpstr(again.str, ==, "PONG");
	reply_clear(&pending);
	reply_clear(&refused);
	reply_clear(&again);
	server_clear(&server);
}

typedef struct {
	CgRedis *redis;
	guint calls;
} FreeInReply;

static void
free_in_reply_cb(CgRedis *redis, const redisReply *r, const GError *error, gpointer user_data)
{
	FreeInReply *data = user_data;

	(void)r;
	(void)error;
	data->calls++;
	g_assert_true(redis == data->redis);
	g_clear_pointer(&data->redis, cg_redis_free);
}

static void
test_free(void)
{
	Server server = {0};
	FreeInReply data = {0};
	Reply never = {0};
	int state = -1;
	gint64 deadline;

	server_init(&server);
	/* freed from inside a reply, with more replies pending behind it */
	data.redis = cg_redis_new(server.socket, "test", NULL);
	cg_redis_set_state_func(data.redis, state_cb, &state);
	wait_state(&state, 1);
	cg_redis_sendv(data.redis, NULL, free_in_reply_cb, &data, "PING", NULL);
	cg_redis_sendv(data.redis, NULL, reply_cb, &never, "PING", NULL);
	cg_redis_sendv(data.redis, NULL, reply_cb, &never, "BLPOP", "nothing", "0", NULL);
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (data.calls == 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(data.calls, ==, 1);
	g_assert_cmpuint(never.calls, ==, 0);

	/* freed with replies pending, and with a refusal queued */
	{
		CgRedis *redis = cg_redis_new(server.socket, "test", NULL);

		cg_redis_sendv(redis, NULL, reply_cb, &never, "BLPOP", "nothing", "0", NULL);
		cg_redis_free(redis);
		for (guint i = 0; i < 20; i++)
			g_main_context_iteration(NULL, FALSE);
		g_assert_cmpuint(never.calls, ==, 0);
	}
	server_clear(&server);
	{
		/* nothing listens: a refusal, then freed before it is delivered */
		CgRedis *redis = cg_redis_new("/nonexistent/certgen-test.sock", "test", NULL);

		g_assert_nonnull(redis);
		cg_redis_sendv(redis, NULL, reply_cb, &never, "PING", NULL);
		cg_redis_free(redis);
		for (guint i = 0; i < 20; i++)
			g_main_context_iteration(NULL, FALSE);
		g_assert_cmpuint(never.calls, ==, 0);
	}
}

/* Wakes the loop every 100 ms, so that every wait checks its deadline and a
 * reply that never comes fails the case with its line, not the timeout. */
static gboolean
tick_cb(gpointer user_data)
{
	(void)user_data;
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	g_autofree char *server = g_find_program_in_path("redis-server");

	g_test_init(&argc, &argv, NULL);
	if (server == NULL) {
		g_printerr("redis-server is not installed (tests/scripts/deps.sh installs it)\n");
		return 1;
	}
	g_timeout_add(100, tick_cb, NULL);
	g_test_add_func("/redis/address", test_address);
	g_test_add_func("/redis/commands", test_commands);
	g_test_add_func("/redis/fields", test_fields);
	g_test_add_func("/redis/reconnect", test_reconnect);
	g_test_add_func("/redis/free", test_free);
	return g_test_run();
}

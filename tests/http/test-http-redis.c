/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the pure parts of certgen-http --redis
 * (cg-http-redis-values.c, cg-http-redis-leases.c): the id rule, reading
 * hostile values back, the request parameters, the replies of the limit
 * scripts; and the scripts themselves run by a real redis-server of the
 * test's own (skipped without one), with the arguments the bridge builds. */
#include <glib/gstdio.h>
#include <signal.h>

#include "cg-http-error.h"
#include "cg-http-redis-leases.h"
#include "cg-http-redis-values.h"
#include "cg-test-util.h"

static void
test_ids(void)
{
	g_autofree char *a = cg_http_redis_id_new();
	g_autofree char *b = cg_http_redis_id_new();
	const char *bad[] = {"",
			     "0123456789abcdef0123456789abcde",	  /* 31 */
			     "0123456789abcdef0123456789abcdef0", /* 33 */
			     "0123456789ABCDEF0123456789abcdef",  /* upper case */
			     "0123456789abcdef0123456789abcdeg",
			     "../../../../../../../../../etc/pa",
			     "0123456789abcdef0123456789abcde\n",
			     "0123456789abcdef 123456789abcdef"};

	g_assert_true(cg_http_redis_id_is_valid(a));
	g_assert_true(cg_http_redis_id_is_valid(b));
	g_assert_cmpstr(a, !=, b);
	g_assert_true(cg_http_redis_id_is_valid("0123456789abcdef0123456789abcdef"));
	g_assert_false(cg_http_redis_id_is_valid(NULL));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(cg_http_redis_id_is_valid(bad[i]));
}

static void
test_numbers(void)
{
	guint64 n = 0;

	g_assert_true(cg_http_redis_parse_u64("0", 1, &n));
	g_assert_cmpuint(n, ==, 0);
	g_assert_true(cg_http_redis_parse_u64("18446744073709551615", 20, &n));
	g_assert_cmpuint(n, ==, G_MAXUINT64);
	g_assert_false(cg_http_redis_parse_u64("18446744073709551616", 20, &n));
	g_assert_false(cg_http_redis_parse_u64("", 0, &n));
	g_assert_false(cg_http_redis_parse_u64("-1", 2, &n));
	g_assert_false(cg_http_redis_parse_u64(" 1", 2, &n));
	g_assert_false(cg_http_redis_parse_u64("1e3", 3, &n));
	g_assert_false(cg_http_redis_parse_u64(NULL, 0, &n));
	/* the length counts, not a NUL */
	g_assert_true(cg_http_redis_parse_u64("12junk", 2, &n));
	g_assert_cmpuint(n, ==, 12);

	g_assert_true(cg_http_redis_parse_event_id("7-0", 3, &n));
	g_assert_cmpuint(n, ==, 7);
	g_assert_false(cg_http_redis_parse_event_id("7-1", 3, &n));
	g_assert_false(cg_http_redis_parse_event_id("7", 1, &n));
	g_assert_false(cg_http_redis_parse_event_id("-0", 2, &n));
	g_assert_false(cg_http_redis_parse_event_id("1796320284002-0x", 16, &n));
	g_assert_false(cg_http_redis_parse_event_id("a-0", 3, &n));
}

static redisReply
string_reply(const char *data, gsize len)
{
	redisReply reply = {0};

	reply.type = REDIS_REPLY_STRING;
	reply.str = (char *)data;
	reply.len = len;
	return reply;
}

static void
test_hostile_variants(void)
{
	g_autoptr(GVariant) good = g_variant_ref_sink(
	    g_variant_new_parsed("{'status': <'completed'>, 'sequence': <uint64 3>}"));
	redisReply reply = string_reply(g_variant_get_data(good), g_variant_get_size(good));
	redisReply nil = {.type = REDIS_REPLY_NIL};
	redisReply integer = {.type = REDIS_REPLY_INTEGER, .integer = 7};
	/* an a{sv} whose offsets point outside the data */
	static const char garbage[] = {'s', 't', 'a', 't', 'u', 's', '\0', 'x', 0x7f, 0x7f};
	redisReply bad = string_reply(garbage, sizeof garbage);
	redisReply empty = string_reply("", 0);
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GError) error = NULL;

	value = cg_http_redis_reply_variant(&reply, G_VARIANT_TYPE_VARDICT, "snapshot", &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_equal(value, good));
	g_clear_pointer(&value, g_variant_unref);

	for (guint i = 0; i < 4; i++) {
		const redisReply *hostile[] = {&nil, &integer, &bad, NULL};

		value = cg_http_redis_reply_variant(hostile[i], G_VARIANT_TYPE_VARDICT, "snapshot",
						    &error);
		g_assert_null(value);
		g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "snapshot"));
		g_clear_error(&error);
	}
	/* the empty a{sv} is valid; an empty (sss) is not */
	value = cg_http_redis_reply_variant(&empty, G_VARIANT_TYPE_VARDICT, "event", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_variant_n_children(value), ==, 0);
	g_clear_pointer(&value, g_variant_unref);
	value = cg_http_redis_reply_variant(&empty, G_VARIANT_TYPE("(sss)"), "event", &error);
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED);
	g_assert_null(value);
}

static void
test_hostile_users(void)
{
	const char *bad[] = {"", "alice bob", "alice\n", "<script>", "é"};
	redisReply reply = string_reply("alice", 5);
	redisReply with_nul = string_reply("alice\0bob", 9);
	redisReply nil = {.type = REDIS_REPLY_NIL};
	g_autofree char *long_name = g_strnfill(65, 'a');
	g_autofree char *user = cg_http_redis_reply_user(&reply);

	g_assert_cmpstr(user, ==, "alice");
	g_assert_null(cg_http_redis_reply_user(&with_nul));
	g_assert_null(cg_http_redis_reply_user(&nil));
	g_assert_null(cg_http_redis_reply_user(NULL));
	reply = string_reply(long_name, 65);
	g_assert_null(cg_http_redis_reply_user(&reply));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		reply = string_reply(bad[i], strlen(bad[i]));
		g_assert_null(cg_http_redis_reply_user(&reply));
	}
}

static void
test_request_params(void)
{
	GVariant *start = g_variant_new_parsed(
	    "('tx', 'classic', '{}', {'owner_label': <'alice'>, 'timeout_ms': <uint32 5000>})");
	g_autoptr(GVariant) params = cg_http_redis_request_params(start);
	g_autoptr(GVariant) options = g_variant_get_child_value(params, 3);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) back = NULL;
	guint32 timeout = 0;

	g_assert_cmpstr(g_variant_get_type_string(params), ==, "(sssa{sv})");
	g_assert_false(g_variant_lookup(options, "owner_label", "s", NULL));
	g_assert_true(g_variant_lookup(options, "timeout_ms", "u", &timeout));
	g_assert_cmpuint(timeout, ==, 5000);
	/* what the relay reads back is the same value */
	bytes = g_bytes_new(g_variant_get_data(params), g_variant_get_size(params));
	back = g_variant_new_from_bytes(G_VARIANT_TYPE("(sssa{sv})"), bytes, FALSE);
	g_assert_true(g_variant_is_normal_form(back));
	g_assert_true(g_variant_equal(back, params));
}

static void
test_queued_snapshot(void)
{
	g_autoptr(GVariant) snapshot =
	    cg_http_redis_queued_snapshot("0123456789abcdef0123456789abcdef", 1700000000000);
	guint64 sequence = 1;
	const char *status = NULL;
	gint64 timestamp = 0;

	g_assert_true(g_variant_lookup(snapshot, "sequence", "t", &sequence));
	g_assert_cmpuint(sequence, ==, 0);
	g_assert_true(g_variant_lookup(snapshot, "status", "&s", &status));
	g_assert_cmpstr(status, ==, "queued");
	g_assert_true(g_variant_lookup(snapshot, "timestamp_us", "x", &timestamp));
	g_assert_cmpint(timestamp, ==, 1700000000000 * 1000);
}

static void
test_limit_replies(void)
{
	redisReply one = {.type = REDIS_REPLY_INTEGER, .integer = 1};
	redisReply zero = {.type = REDIS_REPLY_INTEGER, .integer = 0};
	redisReply three = {.type = REDIS_REPLY_INTEGER, .integer = 3};
	redisReply wait = {.type = REDIS_REPLY_INTEGER, .integer = 1500};
	redisReply negative = {.type = REDIS_REPLY_INTEGER, .integer = -5};
	redisReply text = string_reply("1", 1);
	redisReply *admitted_elements[] = {&one, &zero};
	redisReply *refused_elements[] = {&zero, &wait};
	redisReply *bad_elements[] = {&three, &wait};
	redisReply *negative_elements[] = {&zero, &negative};
	redisReply *text_elements[] = {&text, &zero};
	redisReply admitted = {
	    .type = REDIS_REPLY_ARRAY, .elements = 2, .element = admitted_elements};
	redisReply refused = {
	    .type = REDIS_REPLY_ARRAY, .elements = 2, .element = refused_elements};
	redisReply odd = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = bad_elements};
	redisReply below = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = negative_elements};
	redisReply strings = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = text_elements};
	redisReply short_array = {
	    .type = REDIS_REPLY_ARRAY, .elements = 1, .element = admitted_elements};
	guint64 wait_ms = 9;
	gboolean bad = TRUE;

	g_assert_true(cg_http_redis_rate_reply(&admitted, &wait_ms, &bad));
	g_assert_false(bad);
	g_assert_cmpuint(wait_ms, ==, 0);
	g_assert_false(cg_http_redis_rate_reply(&refused, &wait_ms, &bad));
	g_assert_false(bad);
	g_assert_cmpuint(wait_ms, ==, 1500);
	for (guint i = 0; i < 5; i++) {
		redisReply *hostile[] = {&odd, &below, &strings, &short_array, &one};

		g_assert_false(cg_http_redis_rate_reply(hostile[i], &wait_ms, &bad));
		g_assert_true(bad);
		g_assert_cmpuint(wait_ms, ==, 0);
	}
	g_assert_false(cg_http_redis_rate_reply(NULL, &wait_ms, &bad));
	g_assert_true(bad);

	g_assert_cmpint(cg_http_redis_admit_reply(&refused, &wait_ms), ==, CG_HTTP_REDIS_ADMIT_OK);
	g_assert_cmpint(cg_http_redis_admit_reply(&odd, &wait_ms), ==,
			CG_HTTP_REDIS_ADMIT_USER_FULL);
	g_assert_cmpuint(wait_ms, ==, 1500);
	g_assert_cmpint(cg_http_redis_admit_reply(&below, &wait_ms), ==, -1);
	g_assert_cmpint(cg_http_redis_admit_reply(&strings, &wait_ms), ==, -1);
	g_assert_cmpint(cg_http_redis_admit_reply(NULL, &wait_ms), ==, -1);
}

static void
test_leases(void)
{
	g_autoptr(CgHttpRedisLeases) leases = cg_http_redis_leases_new("bridge-a");
	g_autofree char *m1 = cg_http_redis_leases_next_member(leases);
	g_autofree char *m2 = cg_http_redis_leases_next_member(leases);
	g_autofree char *m3 = cg_http_redis_leases_next_member(leases);
	g_autoptr(GPtrArray) renew = NULL;
	g_autoptr(GPtrArray) released = NULL;

	g_assert_cmpstr(m1, ==, "bridge-a:1");
	g_assert_cmpstr(m2, ==, "bridge-a:2");
	/* a member made is not held before hold() */
	g_assert_cmpuint(cg_http_redis_leases_get_n_held(leases), ==, 0);
	g_assert_null(cg_http_redis_leases_release(leases, m1));
	cg_http_redis_leases_hold(leases, m1, "alice");
	cg_http_redis_leases_hold(leases, m2, "alice");
	cg_http_redis_leases_hold(leases, m3, "bob");
	cg_http_redis_leases_hold(leases, m3, "bob"); /* twice: once */
	g_assert_cmpuint(cg_http_redis_leases_get_n_held(leases), ==, 3);
	g_assert_cmpuint(cg_http_redis_leases_get_n_users(leases), ==, 2);
	/* one renewal per user, whatever the number of streams */
	renew = cg_http_redis_leases_renew_commands(leases, 15000);
	g_assert_cmpuint(renew->len, ==, 2);
	released = cg_http_redis_leases_release(leases, m3);
	g_assert_nonnull(released);
	g_assert_cmpuint(released->len, ==, 2); /* the user's set and the overall one */
	g_assert_cmpuint(cg_http_redis_leases_get_n_users(leases), ==, 1);
	g_assert_null(cg_http_redis_leases_release(leases, m3));
	g_clear_pointer(&released, g_ptr_array_unref);
	released = cg_http_redis_leases_release(leases, m1);
	g_clear_pointer(&released, g_ptr_array_unref);
	released = cg_http_redis_leases_release(leases, m2);
	g_assert_cmpuint(cg_http_redis_leases_get_n_held(leases), ==, 0);
	g_assert_cmpuint(cg_http_redis_leases_get_n_users(leases), ==, 0);
	g_clear_pointer(&renew, g_ptr_array_unref);
	renew = cg_http_redis_leases_renew_commands(leases, 15000);
	g_assert_cmpuint(renew->len, ==, 0);
}

/* ---- the scripts, on a real redis-server ------------------------------------------------ */

typedef struct {
	char *dir;
	char *socket;
	GSubprocess *server;
	CgRedis *redis;
} Server;

typedef struct {
	gboolean done;
	redisReply *copy; /* only the shapes the scripts answer */
	long long integers[2];
	int type;
	gsize elements;
	GError *error;
} Answer;

static void
answer_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	Answer *answer = user_data;

	answer->done = TRUE;
	if (error != NULL) {
		answer->error = g_error_copy(error);
		return;
	}
	answer->type = reply->type;
	answer->elements = reply->elements;
	for (gsize i = 0; reply->type == REDIS_REPLY_ARRAY && i < MIN(reply->elements, 2); i++)
		cg_redis_reply_integer(reply->element[i], &answer->integers[i]);
	if (reply->type == REDIS_REPLY_INTEGER)
		answer->integers[0] = reply->integer;
}

static void
run(Server *server, CgRedisCommand *command, Answer *answer)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	memset(answer, 0, sizeof *answer);
	cg_redis_send(server->redis, command, NULL, answer_cb, answer);
	while (!answer->done) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	g_assert_no_error(answer->error);
}

static gboolean
server_start(Server *server)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *program = g_find_program_in_path("redis-server");
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	if (program == NULL)
		return FALSE;
	server->dir = g_dir_make_tmp("cg-http-redis-XXXXXX", &error);
	g_assert_no_error(error);
	server->socket = g_build_filename(server->dir, "redis.sock", NULL);
	server->server =
	    g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, program, "--port", "0",
			     "--unixsocket", server->socket, "--unixsocketperm", "700", "--save",
			     "", "--appendonly", "no", "--daemonize", "no", NULL);
	g_assert_no_error(error);
	server->redis = cg_redis_new(server->socket, "test", &error);
	g_assert_no_error(error);
	while (!cg_redis_is_connected(server->redis)) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	return TRUE;
}

static void
server_stop(Server *server)
{
	g_clear_pointer(&server->redis, cg_redis_free);
	g_subprocess_send_signal(server->server, SIGKILL);
	g_subprocess_wait(server->server, NULL, NULL);
	g_clear_object(&server->server);
	g_unlink(server->socket);
	g_rmdir(server->dir);
	g_free(server->socket);
	g_free(server->dir);
}

static CgRedisCommand *
command(const char *name, const char *first, ...)
{
	CgRedisCommand *c = cg_redis_command_new(name);
	va_list args;

	va_start(args, first);
	for (const char *arg = first; arg != NULL; arg = va_arg(args, const char *))
		cg_redis_command_add(c, arg);
	va_end(args);
	return c;
}

static void
test_scripts(void)
{
	Server server = {0};
	Answer answer;
	CgHttpRedisAdmitArgs args = {
	    .user = "alice",
	    .progress_id = "0123456789abcdef0123456789abcdef",
	    .member = "A:1",
	    .streams_per_minute = 2,
	    .resumes_per_minute = 1,
	    .max_per_user = 2,
	    .max_total = 3,
	    .lease_ms = 15000,
	};
	g_autoptr(CgHttpRedisLeases) leases = cg_http_redis_leases_new("A");
	g_autoptr(GPtrArray) renew = NULL;

	if (!server_start(&server)) {
		g_test_skip("redis-server is not installed");
		return;
	}
	/* the generation rate limit: 2 a minute; the third waits for the
	 * first to leave the window (under a minute, at least 1 ms) */
	run(&server, cg_http_redis_rate_command("generation", "alice", 2, 60000, "A:e1"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	run(&server, cg_http_redis_rate_command("generation", "alice", 2, 60000, "B:e1"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	run(&server, cg_http_redis_rate_command("generation", "alice", 2, 60000, "A:e2"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 0);
	g_assert_cmpint(answer.integers[1], >, 0);
	g_assert_cmpint(answer.integers[1], <=, 60000);
	run(&server, cg_http_redis_rate_command("generation", "bob", 2, 60000, "A:e3"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	/* refused events are not recorded; the key expires with the window */
	run(&server, command("ZCARD", "certgen:rate:generation:alice", NULL), &answer);
	g_assert_cmpint(answer.integers[0], ==, 2);
	run(&server, command("PTTL", "certgen:rate:generation:alice", NULL), &answer);
	g_assert_cmpint(answer.integers[0], >, 0);
	/* a window of 1 ms: free again at once */
	run(&server, cg_http_redis_rate_command("preview", "alice", 1, 1, "A:e4"), &answer);
	g_usleep(5000);
	run(&server, cg_http_redis_rate_command("preview", "alice", 1, 1, "A:e5"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	/* limit 0 refuses everything, as CgRateLimit does */
	run(&server, cg_http_redis_rate_command("generation", "carol", 0, 60000, "A:e6"), &answer);
	g_assert_cmpint(answer.integers[0], ==, 0);

	/* streams: the caps, per user and overall */
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_OK);
	args.member = "A:2";
	args.streams_per_minute = 10;
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_OK);
	args.member = "B:1";
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_USER_FULL);
	g_assert_cmpint(answer.integers[1], >, 0);
	args.user = "bob";
	args.member = "B:2";
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_OK);
	args.member = "B:3";
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_ALL_FULL);
	/* the rate: bob's third new stream within the minute (limit 2) */
	args.streams_per_minute = 2;
	args.member = "B:4";
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_STREAM_RATE);

	/* a resume counts as one only when the hash says the events exist and
	 * are the user's: alice's generation at sequence 5 */
	run(&server,
	    command("HSET", "certgen:gen:0123456789abcdef0123456789abcdef", "user", "alice",
		    "last_seq", "5", NULL),
	    &answer);
	args.resume = TRUE;
	args.since = 9; /* beyond the last event: a new stream */
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_STREAM_RATE);
	args.since = 5; /* bob's claim on alice's events: a new stream too */
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_STREAM_RATE);
	/* alice's genuine resume: the resume limit (1), then her caps */
	args.user = "alice";
	args.member = "A:3";
	args.streams_per_minute = 0;
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_USER_FULL);
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_RESUME_RATE);
	/* a hostile last_seq counts as no events */
	run(&server,
	    command("HSET", "certgen:gen:0123456789abcdef0123456789abcdef", "last_seq", "lots",
		    NULL),
	    &answer);
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_STREAM_RATE);

	/* leases expire unless renewed: a lease of 1 ms frees alice's slot */
	run(&server, command("ZREM", "certgen:streams:alice", "A:2", NULL), &answer);
	run(&server, command("ZREM", "certgen:streams", "A:2", NULL), &answer);
	cg_http_redis_leases_hold(leases, "A:1", "alice");
	renew = cg_http_redis_leases_renew_commands(leases, 1);
	run(&server, g_steal_pointer(&renew->pdata[0]), &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	g_usleep(5000);
	args.resume = FALSE;
	args.member = "A:4";
	args.streams_per_minute = 100;
	args.max_total = 100;
	run(&server, cg_http_redis_admit_command(&args), &answer);
	g_assert_cmpint(answer.integers[0], ==, CG_HTTP_REDIS_ADMIT_OK);
	run(&server, command("ZSCORE", "certgen:streams:alice", "A:1", NULL), &answer);
	g_assert_cmpint(answer.type, ==, REDIS_REPLY_NIL);

	/* a session is its user's only while the user has a token */
	run(&server, command("SET", "certgen:session:y", "carol", NULL), &answer);
	run(&server,
	    command("EVAL", cg_http_redis_session_lookup_script, "2", "certgen:session:y",
		    "certgen:token-users", NULL),
	    &answer);
	g_assert_cmpint(answer.type, ==, REDIS_REPLY_NIL);
	run(&server, command("EXISTS", "certgen:session:y", NULL), &answer);
	g_assert_cmpint(answer.integers[0], ==, 0);
	run(&server, command("SET", "certgen:session:y", "carol", NULL), &answer);
	run(&server, command("SADD", "certgen:token-users", "carol", NULL), &answer);
	run(&server,
	    command("EVAL", cg_http_redis_session_lookup_script, "2", "certgen:session:y",
		    "certgen:token-users", NULL),
	    &answer);
	g_assert_cmpint(answer.type, ==, REDIS_REPLY_STRING);

	/* the session delete script deletes only the user's own */
	run(&server, command("SET", "certgen:session:x", "alice", NULL), &answer);
	run(&server,
	    command("EVAL", cg_http_redis_session_delete_script, "1", "certgen:session:x", "bob",
		    NULL),
	    &answer);
	g_assert_cmpint(answer.integers[0], ==, 0);
	run(&server,
	    command("EVAL", cg_http_redis_session_delete_script, "1", "certgen:session:x", "alice",
		    NULL),
	    &answer);
	g_assert_cmpint(answer.integers[0], ==, 1);
	server_stop(&server);
}

static const CgTestCase cases[] = {
    {"/http-redis/ids", test_ids},
    {"/http-redis/numbers", test_numbers},
    {"/http-redis/hostile-variants", test_hostile_variants},
    {"/http-redis/hostile-users", test_hostile_users},
    {"/http-redis/request-params", test_request_params},
    {"/http-redis/queued-snapshot", test_queued_snapshot},
    {"/http-redis/limit-replies", test_limit_replies},
    {"/http-redis/leases", test_leases},
    {"/http-redis/scripts", test_scripts},
};

CG_TEST_MAIN(cases)

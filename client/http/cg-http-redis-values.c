/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of certgen-http --redis (cg-http-redis-values.h): ids,
 * checked reads of Redis values, the request parameters, the Lua scripts
 * and their arguments. */
#include "cg-http-redis-values.h"

#include <errno.h>
#include <sys/random.h>

#include "cg-http-auth.h"
#include "cg-http-error.h"

gboolean
cg_http_redis_id_is_valid(const char *id)
{
	gsize i;

	if (id == NULL)
		return FALSE;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= CG_HTTP_REDIS_ID_LEN || !g_ascii_isxdigit(id[i]) || g_ascii_isupper(id[i]))
			return FALSE;
	}
	return i == CG_HTTP_REDIS_ID_LEN;
}

char *
cg_http_redis_id_new(void)
{
	guint8 buf[CG_HTTP_REDIS_ID_LEN / 2];
	gsize got = 0;
	GString *id = g_string_sized_new(CG_HTTP_REDIS_ID_LEN);

	while (got < sizeof buf) {
		ssize_t r = getrandom(buf + got, sizeof buf - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* never happens on Linux ≥ 3.17 once the pool is ready;
			 * ids need to be unique, not secret (the owner check
			 * guards every route) */
			for (; got < sizeof buf; got++)
				buf[got] = (guint8)g_random_int_range(0, 256);
			break;
		}
		got += (gsize)r;
	}
	for (gsize i = 0; i < sizeof buf; i++)
		g_string_append_printf(id, "%02x", buf[i]);
	return g_string_free(id, FALSE);
}

char *
cg_http_redis_gen_key(const char *id, const char *suffix)
{
	return g_strconcat(CG_HTTP_REDIS_PREFIX "gen:", id, suffix, NULL);
}

GVariant *
cg_http_redis_reply_variant(const redisReply *reply, const GVariantType *type, const char *what,
			    GError **error)
{
	gsize len = 0;
	const char *data = cg_redis_reply_string(reply, &len);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) value = NULL;

	if (data == NULL) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED, "The stored %s is missing",
			    what);
		return NULL;
	}
	bytes = g_bytes_new(data, len);
	value = g_variant_ref_sink(g_variant_new_from_bytes(type, bytes, FALSE));
	if (!g_variant_is_normal_form(value)) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
			    "The stored %s is not a valid %s value", what,
			    g_variant_type_peek_string(type));
		return NULL;
	}
	return g_steal_pointer(&value);
}

gboolean
cg_http_redis_parse_u64(const char *text, gsize len, guint64 *out)
{
	g_autofree char *copy = NULL;

	if (text == NULL || len == 0 || len > 20)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(text[i]))
			return FALSE;
	}
	copy = g_strndup(text, len);
	return g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT64, out, NULL);
}

gboolean
cg_http_redis_parse_event_id(const char *text, gsize len, guint64 *sequence)
{
	if (text == NULL || len < 3 || text[len - 2] != '-' || text[len - 1] != '0')
		return FALSE;
	return cg_http_redis_parse_u64(text, len - 2, sequence);
}

char *
cg_http_redis_reply_user(const redisReply *reply)
{
	gsize len = 0;
	const char *data = cg_redis_reply_string(reply, &len);
	g_autofree char *user = NULL;

	if (data == NULL || len == 0 || len > 64 || memchr(data, '\0', len) != NULL)
		return NULL;
	user = g_strndup(data, len);
	return cg_http_user_name_is_valid(user) ? g_steal_pointer(&user) : NULL;
}

GVariant *
cg_http_redis_request_params(GVariant *parameters)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(parameters);
	g_autoptr(GVariant) options = NULL;
	const char *transaction_id, *template_id, *data_json;
	GVariantBuilder builder;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_get(sunk, "(&s&s&s@a{sv})", &transaction_id, &template_id, &data_json, &options);
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (!g_str_equal(key, "owner_label"))
			g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	return g_variant_ref_sink(g_variant_new("(sss@a{sv})", transaction_id, template_id,
						data_json, g_variant_builder_end(&builder)));
}

GVariant *
cg_http_redis_queued_snapshot(const char *id, gint64 created_ms)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "progress_id", g_variant_new_string(id));
	g_variant_builder_add(&builder, "{sv}", "sequence", g_variant_new_uint64(0));
	g_variant_builder_add(&builder, "{sv}", "status", g_variant_new_string("queued"));
	g_variant_builder_add(&builder, "{sv}", "progress", g_variant_new_double(0.0));
	g_variant_builder_add(&builder, "{sv}", "message",
			      g_variant_new_string("Waiting for a rendering host"));
	if (created_ms > 0)
		g_variant_builder_add(&builder, "{sv}", "timestamp_us",
				      g_variant_new_int64(created_ms * 1000));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* ---- scripts ------------------------------------------------------------------------ */

#define CG_HTTP_REDIS_LUA_NOW                                                                      \
	"local t = redis.call('TIME')\n"                                                           \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* Adds ARGV[member] to KEYS[key] when fewer than limit events are in the
 * window, else returns the wait. */
#define CG_HTTP_REDIS_LUA_WINDOW                                                                   \
	"local function window(key, limit, win, member, code)\n"                                   \
	"  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)\n"                               \
	"  if redis.call('ZCARD', key) >= limit then\n"                                            \
	"    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')\n"                       \
	"    local wait = win\n"                                                                   \
	"    if oldest[2] then wait = tonumber(oldest[2]) + win - now end\n"                       \
	"    if wait < 1 then wait = 1 end\n"                                                      \
	"    return {code, wait}\n"                                                                \
	"  end\n"                                                                                  \
	"  redis.call('ZADD', key, now, member)\n"                                                 \
	"  redis.call('PEXPIRE', key, win)\n"                                                      \
	"  return nil\n"                                                                           \
	"end\n"

const char cg_http_redis_rate_script[] = CG_HTTP_REDIS_LUA_NOW CG_HTTP_REDIS_LUA_WINDOW
    "local refused = window(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], 0)\n"
    "if refused then return refused end\n"
    "return {1, 0}\n";

const char cg_http_redis_admit_script[] = CG_HTTP_REDIS_LUA_NOW CG_HTTP_REDIS_LUA_WINDOW
    "local key, limit, code = KEYS[1], tonumber(ARGV[1]), 1\n"
    "if ARGV[9] ~= '' then\n"
    "  local owner = redis.call('HGET', KEYS[5], 'user')\n"
    "  local last = tonumber(redis.call('HGET', KEYS[5], 'last_seq') or '')\n"
    "  local since = tonumber(ARGV[9])\n"
    "  if owner == ARGV[8] and last and since and since >= 1 and last >= since then\n"
    "    key, limit, code = KEYS[2], tonumber(ARGV[2]), 2\n"
    "  end\n"
    "end\n"
    "local refused = window(key, limit, tonumber(ARGV[3]), ARGV[4], code)\n"
    "if refused then return refused end\n"
    "local lease = tonumber(ARGV[5])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)\n"
    "if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then return {3, 5000} end\n"
    "if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[7]) then return {4, 5000} end\n"
    "redis.call('ZADD', KEYS[3], now + lease, ARGV[4])\n"
    "redis.call('ZADD', KEYS[4], now + lease, ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[3], lease)\n"
    "redis.call('PEXPIRE', KEYS[4], lease)\n"
    "return {0, 0}\n";

const char cg_http_redis_lease_script[] =
    CG_HTTP_REDIS_LUA_NOW "local lease = tonumber(ARGV[1])\n"
			  "for i = 2, #ARGV do\n"
			  "  redis.call('ZADD', KEYS[1], now + lease, ARGV[i])\n"
			  "  redis.call('ZADD', KEYS[2], now + lease, ARGV[i])\n"
			  "end\n"
			  "redis.call('PEXPIRE', KEYS[1], lease)\n"
			  "redis.call('PEXPIRE', KEYS[2], lease)\n"
			  "return #ARGV - 1\n";

const char cg_http_redis_session_lookup_script[] =
    "local user = redis.call('GET', KEYS[1])\n"
    "if not user then return false end\n"
    "if redis.call('SISMEMBER', KEYS[2], user) == 1 then return user end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return false\n";

const char cg_http_redis_session_delete_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

CgRedisCommand *
cg_http_redis_rate_command(const char *kind, const char *user, guint limit, guint window_ms,
			   const char *member)
{
	CgRedisCommand *command = cg_redis_command_new("EVAL");

	cg_redis_command_add(command, cg_http_redis_rate_script);
	cg_redis_command_add(command, "1");
	cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "rate:%s:%s", kind, user);
	cg_redis_command_add_printf(command, "%u", limit);
	cg_redis_command_add_printf(command, "%u", window_ms);
	cg_redis_command_add(command, member);
	return command;
}

/* {integer, integer} -> the two. */
static gboolean
pair_reply(const redisReply *reply, long long *first, long long *second)
{
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
		return FALSE;
	return cg_redis_reply_integer(reply->element[0], first) &&
	       cg_redis_reply_integer(reply->element[1], second) && *second >= 0;
}

gboolean
cg_http_redis_rate_reply(const redisReply *reply, guint64 *wait_ms, gboolean *bad)
{
	long long admitted = 0, wait = 0;

	*wait_ms = 0;
	*bad = !pair_reply(reply, &admitted, &wait) || (admitted != 0 && admitted != 1);
	if (*bad)
		return FALSE;
	*wait_ms = (guint64)wait;
	return admitted == 1;
}

CgRedisCommand *
cg_http_redis_admit_command(const CgHttpRedisAdmitArgs *args)
{
	CgRedisCommand *command = cg_redis_command_new("EVAL");

	cg_redis_command_add(command, cg_http_redis_admit_script);
	cg_redis_command_add(command, "5");
	cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "rate:stream:%s", args->user);
	cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "rate:resume:%s", args->user);
	cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "streams:%s", args->user);
	cg_redis_command_add(command, CG_HTTP_REDIS_PREFIX "streams");
	cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "gen:%s", args->progress_id);
	cg_redis_command_add_printf(command, "%u", args->streams_per_minute);
	cg_redis_command_add_printf(command, "%u", args->resumes_per_minute);
	cg_redis_command_add(command, "60000");
	cg_redis_command_add(command, args->member);
	cg_redis_command_add_printf(command, "%u", args->lease_ms);
	cg_redis_command_add_printf(command, "%u", args->max_per_user);
	cg_redis_command_add_printf(command, "%u", args->max_total);
	cg_redis_command_add(command, args->user);
	if (args->resume)
		cg_redis_command_add_printf(command, "%" G_GUINT64_FORMAT, args->since);
	else
		cg_redis_command_add(command, "");
	return command;
}

int
cg_http_redis_admit_reply(const redisReply *reply, guint64 *wait_ms)
{
	long long code = 0, wait = 0;

	*wait_ms = 0;
	if (!pair_reply(reply, &code, &wait) || code < CG_HTTP_REDIS_ADMIT_OK ||
	    code > CG_HTTP_REDIS_ADMIT_ALL_FULL)
		return -1;
	*wait_ms = (guint64)wait;
	return (int)code;
}

GError *
cg_http_redis_route_error(const GError *redis_error, guint *retry_after_s)
{
	if (g_error_matches(redis_error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY)) {
		*retry_after_s = 0;
		return g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED, "Redis refused: %s",
				   redis_error->message);
	}
	*retry_after_s = CG_HTTP_REDIS_RETRY_AFTER_S;
	return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
				   "The shared state (Redis) is not reachable; try again later");
}

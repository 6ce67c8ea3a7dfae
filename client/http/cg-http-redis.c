/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge's Redis side (cg-http-redis.h): its two connections, what it
 * writes again after Redis lost everything, the lease renewal. */
#include "cg-http-redis.h"
#include "cg-http-log.h"

#include "cg-http-error.h"
#include "cg-http-redis-values.h"

struct _CgHttpRedis {
	CgRedis *command;
	CgRedis *blocking;
	CgHttpRedisFeed *feed;
	CgHttpRedisLeases *leases;
	char *bridge_id;
	guint64 n_events;
	char **tokens;	     /* flat pairs; NULL: this bridge loaded no tokens file */
	gboolean group_made; /* on this connection */
	guint renew_id;
	GCancellable *cancellable;
};

/* Fills @temporary with @command's name and every pair's field(s), then
 * RENAMEs it over @key: readers see the old table or the new one. */
static void
publish_table(CgHttpRedis *self, const char *key, CgRedisCommand *fill, const char *temporary)
{
	cg_redis_sendv(self->command, NULL, NULL, NULL, "DEL", temporary, NULL);
	cg_redis_send(self->command, fill, NULL, NULL, NULL);
	cg_redis_sendv(self->command, NULL, NULL, NULL, "RENAME", temporary, key, NULL);
}

static void
publish_tokens(CgHttpRedis *self)
{
	g_autofree char *tokens_new = NULL;
	g_autofree char *users_new = NULL;
	CgRedisCommand *hset, *sadd;

	if (self->tokens == NULL || !cg_redis_is_connected(self->command))
		return;
	if (self->tokens[0] == NULL) {
		cg_redis_sendv(self->command, NULL, NULL, NULL, "DEL",
			       CG_HTTP_REDIS_PREFIX "tokens", CG_HTTP_REDIS_PREFIX "token-users",
			       NULL);
		return;
	}
	tokens_new = g_strdup_printf(CG_HTTP_REDIS_PREFIX "tokens:new:%s", self->bridge_id);
	users_new = g_strdup_printf(CG_HTTP_REDIS_PREFIX "token-users:new:%s", self->bridge_id);
	hset = cg_redis_command_new("HSET");
	sadd = cg_redis_command_new("SADD");
	cg_redis_command_add(hset, tokens_new);
	cg_redis_command_add(sadd, users_new);
	for (guint i = 0; self->tokens[i] != NULL && self->tokens[i + 1] != NULL; i += 2) {
		cg_redis_command_add(hset, self->tokens[i]);
		cg_redis_command_add(hset, self->tokens[i + 1]);
		cg_redis_command_add(sadd, self->tokens[i + 1]);
	}
	/* the users first: a session never outlives its user's token */
	publish_table(self, CG_HTTP_REDIS_PREFIX "token-users", sadd, users_new);
	publish_table(self, CG_HTTP_REDIS_PREFIX "tokens", hset, tokens_new);
}

static void
renew_leases(CgHttpRedis *self)
{
	g_autoptr(GPtrArray) commands = NULL;

	if (!cg_redis_is_connected(self->command))
		return;
	commands = cg_http_redis_leases_renew_commands(self->leases, CG_HTTP_REDIS_LEASE_MS);
	for (guint i = 0; i < commands->len; i++)
		cg_redis_send(self->command, g_steal_pointer(&commands->pdata[i]), NULL, NULL,
			      NULL);
}

static gboolean
renew_cb(gpointer user_data)
{
	renew_leases(user_data);
	return G_SOURCE_CONTINUE;
}

static void
command_state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	CgHttpRedis *self = user_data;

	self->group_made = FALSE;
	if (!connected) {
		g_warning("Redis %s: connection lost; reconnecting", cg_redis_get_address(redis));
		return;
	}
	g_message("Connected to Redis %s", cg_redis_get_address(redis));
	/* a server that restarted without persistence forgot them */
	publish_tokens(self);
	renew_leases(self);
}

CgHttpRedis *
cg_http_redis_new(const char *address, const char *bridge_id, GError **error)
{
	g_autoptr(CgRedis) command = cg_redis_new(address, "bridge", error);
	g_autoptr(CgRedis) blocking = NULL;
	CgHttpRedis *self;

	if (command == NULL)
		return NULL;
	blocking = cg_redis_new(address, "bridge-block", error);
	if (blocking == NULL)
		return NULL;
	self = g_new0(CgHttpRedis, 1);
	self->command = g_steal_pointer(&command);
	self->blocking = g_steal_pointer(&blocking);
	self->bridge_id = g_strdup(bridge_id);
	self->cancellable = g_cancellable_new();
	self->leases = cg_http_redis_leases_new(bridge_id);
	self->feed = cg_http_redis_feed_new(self->command, self->blocking);
	cg_redis_set_state_func(self->command, command_state_cb, self);
	self->renew_id = g_timeout_add_seconds(CG_HTTP_REDIS_RENEW_S, renew_cb, self);
	return self;
}

void
cg_http_redis_free(CgHttpRedis *self)
{
	if (self == NULL)
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->renew_id, g_source_remove);
	cg_redis_set_state_func(self->command, NULL, NULL);
	g_clear_pointer(&self->feed, cg_http_redis_feed_free);
	g_clear_pointer(&self->blocking, cg_redis_free);
	g_clear_pointer(&self->command, cg_redis_free);
	g_clear_pointer(&self->leases, cg_http_redis_leases_free);
	g_clear_pointer(&self->tokens, g_strfreev);
	g_clear_object(&self->cancellable);
	g_free(self->bridge_id);
	g_free(self);
}

CgRedis *
cg_http_redis_get_connection(CgHttpRedis *self)
{
	return self->command;
}

CgHttpRedisFeed *
cg_http_redis_get_feed(CgHttpRedis *self)
{
	return self->feed;
}

const char *
cg_http_redis_get_bridge_id(CgHttpRedis *self)
{
	return self->bridge_id;
}

gboolean
cg_http_redis_is_connected(CgHttpRedis *self)
{
	return cg_redis_is_connected(self->command) && cg_redis_is_connected(self->blocking);
}

guint
cg_http_redis_get_n_reconnects(CgHttpRedis *self)
{
	return cg_redis_get_n_reconnects(self->command) + cg_redis_get_n_reconnects(self->blocking);
}

char *
cg_http_redis_next_event_member(CgHttpRedis *self)
{
	return g_strdup_printf("%s:e%" G_GUINT64_FORMAT, self->bridge_id, ++self->n_events);
}

static void
group_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedis *self = user_data;

	if (error == NULL || (g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY) &&
			      g_str_has_prefix(error->message, "BUSYGROUP")))
		self->group_made = TRUE;
	else
		cg_http_debug("XGROUP CREATE: %s", error->message);
}

void
cg_http_redis_ensure_group(CgHttpRedis *self)
{
	if (self->group_made)
		return;
	cg_redis_sendv(self->command, self->cancellable, group_cb, self, "XGROUP", "CREATE",
		       CG_HTTP_REDIS_PREFIX "requests", "hosts", "0", "MKSTREAM", NULL);
}

void
cg_http_redis_publish_tokens(CgHttpRedis *self, const char *const *tokens)
{
	g_clear_pointer(&self->tokens, g_strfreev);
	self->tokens = g_strdupv((char **)tokens);
	if (self->tokens == NULL)
		self->tokens = g_new0(char *, 1);
	publish_tokens(self);
}

CgHttpRedisLeases *
cg_http_redis_get_leases(CgHttpRedis *self)
{
	return self->leases;
}

void
cg_http_redis_release_lease(CgHttpRedis *self, const char *member)
{
	g_autoptr(GPtrArray) commands = NULL;

	if (member == NULL)
		return;
	commands = cg_http_redis_leases_release(self->leases, member);
	for (guint i = 0; commands != NULL && i < commands->len; i++)
		cg_redis_send(self->command, g_steal_pointer(&commands->pdata[i]), NULL, NULL,
			      NULL);
}

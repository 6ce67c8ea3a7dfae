/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay's loops. Three Redis connections: "relay" for every short
 * command (the jobs' transactions, XCLAIM, XACK, XGROUP), "relay-block"
 * for the blocking XREADGROUP and, between two reads, XAUTOCLAIM (one at
 * a time on one connection, so the room counted before each is exact:
 * never more entries than --max-active), and the control stream's own.
 *
 * The read loop reads only while certgend owns its name on the bus and
 * there is room; an entry that arrives anyway while certgend is away is
 * left pending (not acknowledged, not re-claimed), so after the claim
 * timeout another host, or this one once certgend is back, takes it.
 */
#include "cg-relay.h"

#include <string.h>

#include "cg-http-bus.h"
#include "cg-redis.h"
#include "cg-relay-control.h"
#include "cg-relay-entry.h"
#include "cg-relay-job.h"
#include "cg-relay-keys.h"
#include "cg-relay-stream.h"

#define CG_RELAY_RETRY_MS 1000
#define CG_RELAY_OWNER_POLL_MS 250
#define CG_RELAY_MAX_BLOCK_MS 2000

struct _CgRelay {
	const CgRelayConfig *config;
	CgRelayContext context;
	CgRedis *redis;
	CgRedis *redis_block;
	CgRelayControl *control;
	CgHttpBus *bus;
	GHashTable *jobs; /* global id -> CgRelayJob */
	GCancellable *cancellable;
	gboolean group_ready;
	gboolean group_busy;
	gboolean ready_sent;
	gboolean reading;
	gboolean owner_seen; /* for the log: certgend there or not */
	gint64 next_takeover_us;
	char *claim_cursor;
	guint block_ms;
	guint read_retry_id;
	guint group_retry_id;
	guint heartbeat_id;
	CgRelayReadyFunc ready_func;
	gpointer user_data;
};

static void read_step(CgRelay *self);
static void ensure_group(CgRelay *self);

static gboolean
is_connection_error(const GError *error)
{
	return g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_NOT_CONNECTED) ||
	       g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_DISCONNECTED);
}

static gboolean
is_nogroup(const GError *error)
{
	return g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY) &&
	       g_str_has_prefix(error->message, "NOGROUP");
}

guint
cg_relay_get_n_active(CgRelay *self)
{
	return g_hash_table_size(self->jobs);
}

/* ---- jobs ----------------------------------------------------------------- */

static void
job_ended_cb(CgRelayJob *job, gboolean acked, gpointer user_data)
{
	CgRelay *self = user_data;

	g_hash_table_remove(self->jobs, cg_relay_job_get_id(job));
	read_step(self);
}

static void
xack(CgRelay *self, const char *stream_id)
{
	cg_relay_stream_ack_request(self->redis, stream_id);
}

/* An entry of certgen:requests delivered to this host (read or claimed). */
static void
handle_entry(CgRelay *self, const redisReply *reply)
{
	const char *stream_id = cg_relay_stream_entry_id(reply);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) fields = NULL;
	g_autoptr(CgRelayEntry) entry = NULL;
	gboolean malformed = FALSE;
	CgRelayJob *job;

	if (stream_id == NULL) {
		g_warning("Ignoring a request entry without a valid id");
		return;
	}
	fields = cg_relay_stream_entry_fields(reply, &malformed);
	if (fields == NULL) {
		g_warning("Ignoring request %s: %s", stream_id,
			  malformed ? "its fields are not pairs of strings" : "deleted");
		xack(self, stream_id);
		return;
	}
	entry = cg_relay_entry_new(stream_id, (const CgRelayField *)(void *)fields->data,
				   fields->len, &error);
	if (entry == NULL) {
		g_warning("Ignoring request %s: %s", stream_id, error->message);
		xack(self, stream_id);
		return;
	}
	job = g_hash_table_lookup(self->jobs, entry->id);
	if (job != NULL) {
		if (g_strcmp0(cg_relay_job_get_stream_id(job), stream_id) != 0) {
			g_warning("Ignoring request %s: %s runs already (request %s)", stream_id,
				  entry->id, cg_relay_job_get_stream_id(job));
			xack(self, stream_id);
		}
		return;
	}
	if (cg_http_bus_get_owner(self->bus) == NULL) {
		g_message("Leaving request %s (%s) pending: certgend is not on the bus", stream_id,
			  entry->id);
		return;
	}
	if (g_hash_table_size(self->jobs) >= self->config->max_active) {
		g_message("Leaving request %s pending: no room", stream_id);
		return;
	}
	job = cg_relay_job_new(&self->context, g_steal_pointer(&entry), job_ended_cb, self);
	g_hash_table_insert(self->jobs, g_strdup(cg_relay_job_get_id(job)), job);
	cg_relay_job_start(job);
}

/* ---- reading and taking over ------------------------------------------------ */

static gboolean
read_retry_cb(gpointer user_data)
{
	CgRelay *self = user_data;

	self->read_retry_id = 0;
	read_step(self);
	return G_SOURCE_REMOVE;
}

static void
read_retry(CgRelay *self, guint ms)
{
	if (self->read_retry_id == 0)
		self->read_retry_id = g_timeout_add(ms, read_retry_cb, self);
}

static void
read_failed(CgRelay *self, const char *what, const GError *error)
{
	if (is_nogroup(error)) {
		g_message("The group %s is gone (Redis restarted?): making it again",
			  CG_RELAY_GROUP);
		self->group_ready = FALSE;
		ensure_group(self);
		return;
	}
	if (!is_connection_error(error))
		g_warning("%s: %s", what, error->message);
	/* after a lost connection the state function goes on */
	if (cg_redis_is_connected(self->redis_block))
		read_retry(self, CG_RELAY_RETRY_MS);
}

static void
read_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelay *self = user_data;
	const redisReply *entries;

	self->reading = FALSE;
	if (error != NULL) {
		read_failed(self, "XREADGROUP", error);
		return;
	}
	entries = cg_relay_stream_entries(reply, CG_RELAY_REQUESTS);
	for (size_t i = 0; entries != NULL && i < entries->elements; i++)
		handle_entry(self, entries->element[i]);
	read_step(self);
}

static void
autoclaim_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelay *self = user_data;
	const char *cursor;
	gsize len = 0;

	self->reading = FALSE;
	if (error != NULL) {
		read_failed(self, "XAUTOCLAIM", error);
		return;
	}
	/* [next cursor, entries, ids deleted meanwhile] */
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
		const redisReply *entries = reply->element[1];

		cursor = cg_redis_reply_string(reply->element[0], &len);
		g_free(self->claim_cursor);
		self->claim_cursor = g_strdup(
		    cursor != NULL && cg_relay_stream_id_parse(cursor, NULL, NULL) ? cursor
										   : "0-0");
		for (size_t i = 0;
		     entries != NULL && entries->type == REDIS_REPLY_ARRAY && i < entries->elements;
		     i++) {
			const char *stream_id = cg_relay_stream_entry_id(entries->element[i]);

			if (stream_id != NULL)
				g_message("Took over request %s", stream_id);
			handle_entry(self, entries->element[i]);
		}
	}
	read_step(self);
}

static void
read_step(CgRelay *self)
{
	guint n_jobs = g_hash_table_size(self->jobs);
	g_autofree char *room = NULL;
	g_autofree char *block = NULL;
	g_autofree char *min_idle = NULL;
	gint64 now = g_get_monotonic_time();

	if (self->reading || self->read_retry_id != 0 || !self->group_ready ||
	    !cg_redis_is_connected(self->redis_block))
		return;
	if (cg_http_bus_get_owner(self->bus) == NULL) {
		if (self->owner_seen)
			g_message("certgend is not on the bus: taking no requests");
		self->owner_seen = FALSE;
		read_retry(self, CG_RELAY_OWNER_POLL_MS);
		return;
	}
	if (!self->owner_seen)
		g_message("certgend is on the bus: taking requests");
	self->owner_seen = TRUE;
	if (n_jobs >= self->config->max_active)
		return; /* job_ended_cb reads again */
	room = g_strdup_printf("%u", self->config->max_active - n_jobs);
	self->reading = TRUE;
	if (now >= self->next_takeover_us) {
		self->next_takeover_us = now + self->config->claim_timeout_ms * (gint64)500;
		min_idle = g_strdup_printf("%u", self->config->claim_timeout_ms);
		cg_redis_sendv(self->redis_block, self->cancellable, autoclaim_cb, self,
			       "XAUTOCLAIM", CG_RELAY_REQUESTS, CG_RELAY_GROUP,
			       self->config->host_id, min_idle, self->claim_cursor, "COUNT", room,
			       NULL);
		return;
	}
	block = g_strdup_printf("%u", self->block_ms);
	cg_redis_sendv(self->redis_block, self->cancellable, read_cb, self, "XREADGROUP", "GROUP",
		       CG_RELAY_GROUP, self->config->host_id, "COUNT", room, "BLOCK", block,
		       "STREAMS", CG_RELAY_REQUESTS, ">", NULL);
}

/* ---- the group ---------------------------------------------------------------- */

static gboolean
group_retry_cb(gpointer user_data)
{
	CgRelay *self = user_data;

	self->group_retry_id = 0;
	ensure_group(self);
	return G_SOURCE_REMOVE;
}

static void
group_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelay *self = user_data;

	self->group_busy = FALSE;
	if (error != NULL && !(g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY) &&
			       g_str_has_prefix(error->message, "BUSYGROUP"))) {
		if (!is_connection_error(error))
			g_warning("XGROUP CREATE: %s", error->message);
		if (cg_redis_is_connected(self->redis) && self->group_retry_id == 0)
			self->group_retry_id =
			    g_timeout_add(CG_RELAY_RETRY_MS, group_retry_cb, self);
		return;
	}
	self->group_ready = TRUE;
	if (!self->ready_sent) {
		self->ready_sent = TRUE;
		self->ready_func(self->user_data);
	}
	read_step(self);
}

static void
ensure_group(CgRelay *self)
{
	if (self->group_ready || self->group_busy || !cg_redis_is_connected(self->redis))
		return;
	self->group_busy = TRUE;
	/* id 0: entries added before the group existed are delivered too */
	cg_redis_sendv(self->redis, self->cancellable, group_cb, self, "XGROUP", "CREATE",
		       CG_RELAY_REQUESTS, CG_RELAY_GROUP, "0", "MKSTREAM", NULL);
}

/* ---- keeping the entries ------------------------------------------------------- */

static void
heartbeat_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelay *self = user_data;

	if (error == NULL)
		return;
	if (is_nogroup(error)) {
		self->group_ready = FALSE;
		ensure_group(self);
	} else if (!is_connection_error(error)) {
		g_warning("XCLAIM: %s", error->message);
	}
}

/* Resets the idle time of the entries this host works on, so no other
 * host takes them over. */
static gboolean
heartbeat_timeout_cb(gpointer user_data)
{
	CgRelay *self = user_data;
	g_autoptr(CgRedisCommand) command = NULL;
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	command = cg_redis_command_new("XCLAIM");
	cg_redis_command_add(command, CG_RELAY_REQUESTS);
	cg_redis_command_add(command, CG_RELAY_GROUP);
	cg_redis_command_add(command, self->config->host_id);
	cg_redis_command_add(command, "0");
	g_hash_table_iter_init(&iter, self->jobs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (cg_relay_job_is_alive(value)) {
			cg_redis_command_add(command, cg_relay_job_get_stream_id(value));
			n++;
		}
	}
	cg_redis_command_add(command, "JUSTID");
	if (n > 0 && cg_redis_is_connected(self->redis))
		cg_redis_send(self->redis, g_steal_pointer(&command), self->cancellable,
			      heartbeat_cb, self);
	return G_SOURCE_CONTINUE;
}

/* ---- connections ----------------------------------------------------------------- */

static void
redis_state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	CgRelay *self = user_data;
	g_autoptr(GList) jobs = NULL;

	if (!connected) {
		g_message("Lost Redis: generations go on, their updates wait");
		return;
	}
	g_message("Connected to Redis at %s", cg_redis_get_address(redis));
	ensure_group(self);
	jobs = g_hash_table_get_values(self->jobs);
	for (GList *l = jobs; l != NULL; l = l->next)
		cg_relay_job_redis_back(l->data);
}

static void
block_state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	CgRelay *self = user_data;

	if (connected)
		read_step(self);
}

static void
cancel_cb(const char *id, gpointer user_data)
{
	CgRelay *self = user_data;
	CgRelayJob *job = g_hash_table_lookup(self->jobs, id);

	if (job == NULL) {
		g_message("Cancel of %s: not a generation this host runs", id);
		return;
	}
	cg_relay_job_cancel(job);
}

CgRelay *
cg_relay_new(const CgRelayConfig *config, const char *bus_address, CgRelayReadyFunc ready_func,
	     gpointer user_data, GError **error)
{
	g_autoptr(CgRelay) self = g_new0(CgRelay, 1);

	self->config = config;
	self->ready_func = ready_func;
	self->user_data = user_data;
	self->cancellable = g_cancellable_new();
	self->claim_cursor = g_strdup("0-0");
	self->block_ms = CLAMP(config->claim_timeout_ms / 3, 50, CG_RELAY_MAX_BLOCK_MS);
	self->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)cg_relay_job_free);
	self->redis = cg_redis_new(config->redis_address, "relay", error);
	if (self->redis == NULL)
		return NULL;
	self->redis_block = cg_redis_new(config->redis_address, "relay-block", error);
	if (self->redis_block == NULL)
		return NULL;
	self->control = cg_relay_control_new(config->redis_address, config->host_id, self->block_ms,
					     cancel_cb, self, error);
	if (self->control == NULL)
		return NULL;
	self->bus = cg_http_bus_new(bus_address);
	self->context.redis = self->redis;
	self->context.bus = self->bus;
	self->context.config = config;
	cg_redis_set_state_func(self->redis, redis_state_cb, self);
	cg_redis_set_state_func(self->redis_block, block_state_cb, self);
	self->heartbeat_id =
	    g_timeout_add(MAX(config->claim_timeout_ms / 3, 1), heartbeat_timeout_cb, self);
	ensure_group(self);
	return g_steal_pointer(&self);
}

void
cg_relay_free(CgRelay *self)
{
	if (self == NULL)
		return;
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->heartbeat_id, g_source_remove);
	g_clear_handle_id(&self->read_retry_id, g_source_remove);
	g_clear_handle_id(&self->group_retry_id, g_source_remove);
	/* the jobs first: they use the connections */
	g_clear_pointer(&self->jobs, g_hash_table_unref);
	g_clear_pointer(&self->control, cg_relay_control_free);
	g_clear_pointer(&self->redis_block, cg_redis_free);
	g_clear_pointer(&self->redis, cg_redis_free);
	g_clear_object(&self->bus);
	g_clear_object(&self->cancellable);
	g_free(self->claim_cursor);
	g_free(self);
}

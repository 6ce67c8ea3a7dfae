/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control stream's reader (see the header). */
#include "cg-relay-control.h"

#include <string.h>

#include "cg-redis.h"
#include "cg-relay-keys.h"
#include "cg-relay-stream.h"

#define CG_RELAY_CONTROL_COUNT "32"
#define CG_RELAY_CONTROL_RETRY_MS 1000
#define CG_RELAY_CONTROL_KEEP "1000"

struct _CgRelayControl {
	CgRedis *redis;
	char *key;
	char *last_id;	     /* NULL until the first XREVRANGE */
	gboolean need_check; /* XREVRANGE first: at the start and after an error */
	guint block_ms;
	gboolean busy; /* a command is in flight */
	guint retry_id;
	GCancellable *cancellable;
	CgRelayCancelFunc cancel_func;
	gpointer user_data;
};

static void step(CgRelayControl *self);

static gboolean
retry_cb(gpointer user_data)
{
	CgRelayControl *self = user_data;

	self->retry_id = 0;
	step(self);
	return G_SOURCE_REMOVE;
}

static void
failed(CgRelayControl *self, const GError *error)
{
	if (!g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_NOT_CONNECTED) &&
	    !g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_DISCONNECTED))
		g_warning("Reading %s: %s", self->key, error->message);
	/* state_cb goes on when the connection comes back; a retry otherwise */
	self->need_check = TRUE;
	if (cg_redis_is_connected(self->redis) && self->retry_id == 0)
		self->retry_id = g_timeout_add(CG_RELAY_CONTROL_RETRY_MS, retry_cb, self);
}

static void
handle_entry(CgRelayControl *self, const redisReply *entry)
{
	const char *stream_id = cg_relay_stream_entry_id(entry);
	gboolean malformed = FALSE;
	g_autoptr(GArray) fields = NULL;
	g_autofree char *cmd = NULL;
	g_autofree char *id = NULL;

	if (stream_id == NULL)
		return;
	g_free(self->last_id);
	self->last_id = g_strdup(stream_id);
	fields = cg_relay_stream_entry_fields(entry, &malformed);
	cmd = cg_relay_stream_field(fields, "cmd");
	id = cg_relay_stream_field(fields, "id");
	if (g_strcmp0(cmd, "cancel") != 0 || id == NULL || !cg_relay_id_is_valid(id, strlen(id))) {
		g_warning("Ignoring control entry %s: not \"cmd cancel id ID\"", stream_id);
		return;
	}
	self->cancel_func(id, self->user_data);
}

static void
read_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelayControl *self = user_data;
	const redisReply *entries;

	self->busy = FALSE;
	if (error != NULL) {
		failed(self, error);
		return;
	}
	entries = cg_relay_stream_entries(reply, self->key);
	for (size_t i = 0; entries != NULL && i < entries->elements; i++)
		handle_entry(self, entries->element[i]);
	/* nobody else reads it: keep it short */
	if (entries != NULL && entries->elements > 0)
		cg_redis_sendv(self->redis, self->cancellable, NULL, NULL, "XTRIM", self->key,
			       "MAXLEN", "~", CG_RELAY_CONTROL_KEEP, NULL);
	step(self);
}

/* Where to go on from: after the newest entry, or from the start when the
 * stream lost what was read. */
static void
newest_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelayControl *self = user_data;
	const char *newest = NULL;

	self->busy = FALSE;
	if (error != NULL) {
		failed(self, error);
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
		newest = cg_relay_stream_entry_id(reply->element[0]);
	self->need_check = FALSE;
	if (self->last_id == NULL) {
		self->last_id = g_strdup(newest != NULL ? newest : "0-0");
	} else if (newest == NULL || cg_relay_stream_id_compare(newest, self->last_id) < 0) {
		g_free(self->last_id);
		self->last_id = g_strdup("0-0");
	}
	step(self);
}

static void
step(CgRelayControl *self)
{
	g_autofree char *block = NULL;

	if (self->busy || self->retry_id != 0 || !cg_redis_is_connected(self->redis))
		return;
	self->busy = TRUE;
	if (self->need_check) {
		cg_redis_sendv(self->redis, self->cancellable, newest_cb, self, "XREVRANGE",
			       self->key, "+", "-", "COUNT", "1", NULL);
		return;
	}
	block = g_strdup_printf("%u", self->block_ms);
	cg_redis_sendv(self->redis, self->cancellable, read_cb, self, "XREAD", "COUNT",
		       CG_RELAY_CONTROL_COUNT, "BLOCK", block, "STREAMS", self->key, self->last_id,
		       NULL);
}

static void
state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	CgRelayControl *self = user_data;

	if (connected)
		step(self);
	else
		self->need_check = TRUE;
}

CgRelayControl *
cg_relay_control_new(const char *address, const char *host_id, guint block_ms,
		     CgRelayCancelFunc cancel_func, gpointer user_data, GError **error)
{
	g_autoptr(CgRelayControl) self = g_new0(CgRelayControl, 1);

	self->key = cg_relay_key_control(host_id);
	self->block_ms = block_ms;
	self->cancel_func = cancel_func;
	self->user_data = user_data;
	self->cancellable = g_cancellable_new();
	self->need_check = TRUE;
	self->redis = cg_redis_new(address, "relay-control", error);
	if (self->redis == NULL)
		return NULL;
	cg_redis_set_state_func(self->redis, state_cb, self);
	step(self);
	return g_steal_pointer(&self);
}

void
cg_relay_control_free(CgRelayControl *self)
{
	if (self == NULL)
		return;
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	g_clear_pointer(&self->redis, cg_redis_free);
	g_clear_object(&self->cancellable);
	g_free(self->key);
	g_free(self->last_id);
	g_free(self);
}

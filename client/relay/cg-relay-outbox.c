/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One generation's ordered, idempotent, bounded publishing (see the header). */
#include "cg-relay-outbox.h"

#include "cg-http-update.h"
#include "cg-relay-keys.h"
#include "cg-relay-update.h"

#define CG_RELAY_RETRY_MS 200
#define CG_RELAY_MAX_ATTEMPTS 5

typedef struct {
	GVariant *update;    /* certgend's */
	guint64 sequence;    /* 0 until first sent */
	GVariant *published; /* the rewritten update, once sent */
	gboolean terminal;
	GBytes *analytics;
	GBytes *file;
	char *content_type;
	char *file_error;
	guint attempts;
} CgRelayItem;

struct _CgRelayOutbox {
	CgRedis *redis;
	const CgRelayConfig *config;
	char *id;
	char *user;
	char *local_id;
	char *first_message;
	gint64 created_ms;
	guint64 last_assigned; /* the sequence of the newest update sent */
	double floor;	       /* its progress */
	GVariant *last_published;
	GQueue items; /* CgRelayItem, oldest first */
	gboolean in_flight;
	gboolean terminal_queued;
	gboolean done;
	gboolean add_to_user; /* SADD to the user's set with the next transaction */
	guint retry_id;
	GCancellable *cancellable;
	CgRelayOutboxDoneFunc done_func;
	gpointer user_data;
};

static void
item_free(CgRelayItem *item)
{
	g_clear_pointer(&item->update, g_variant_unref);
	g_clear_pointer(&item->published, g_variant_unref);
	g_clear_pointer(&item->analytics, g_bytes_unref);
	g_clear_pointer(&item->file, g_bytes_unref);
	g_free(item->content_type);
	g_free(item->file_error);
	g_free(item);
}

CgRelayOutbox *
cg_relay_outbox_new(CgRedis *redis, const CgRelayConfig *config, const char *id, const char *user,
		    gint64 created_ms, guint64 last_seq, double progress, const char *first_message,
		    CgRelayOutboxDoneFunc done_func, gpointer user_data)
{
	CgRelayOutbox *self = g_new0(CgRelayOutbox, 1);

	self->redis = redis;
	self->config = config;
	self->id = g_strdup(id);
	self->user = g_strdup(user);
	self->first_message = g_strdup(first_message);
	self->created_ms = created_ms;
	self->last_assigned = last_seq;
	self->floor = progress;
	self->cancellable = g_cancellable_new();
	self->done_func = done_func;
	self->user_data = user_data;
	g_queue_init(&self->items);
	return self;
}

void
cg_relay_outbox_free(CgRelayOutbox *self)
{
	if (self == NULL)
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	g_queue_clear_full(&self->items, (GDestroyNotify)item_free);
	g_clear_pointer(&self->last_published, g_variant_unref);
	g_free(self->id);
	g_free(self->user);
	g_free(self->local_id);
	g_free(self->first_message);
	g_free(self);
}

void
cg_relay_outbox_set_local_id(CgRelayOutbox *self, const char *local_id)
{
	g_free(self->local_id);
	self->local_id = g_strdup(local_id);
}

guint64
cg_relay_outbox_get_last_seq(CgRelayOutbox *self)
{
	return self->last_assigned;
}

guint
cg_relay_outbox_get_n_waiting(CgRelayOutbox *self)
{
	return g_queue_get_length(&self->items);
}

/* ---- expiry --------------------------------------------------------------- */

/* Seconds left of the max age counted from the generation's creation (at
 * least 1). */
static gint64
max_age_left_s(CgRelayOutbox *self)
{
	gint64 age_s = (g_get_real_time() / 1000 - self->created_ms) / 1000;

	return MAX((gint64)self->config->max_age_s - age_s, 1);
}

static gint64
ttl_s(CgRelayOutbox *self, gboolean terminal)
{
	gint64 left = max_age_left_s(self);

	return terminal ? MIN((gint64)self->config->finished_ttl_s, left) : left;
}

/* ---- one transaction ---------------------------------------------------- */

static void pump(CgRelayOutbox *self);

static void
send_simple(CgRelayOutbox *self, CgRedisCommand *command)
{
	cg_redis_send(self->redis, command, self->cancellable, NULL, NULL);
}

static void
send_expire(CgRelayOutbox *self, const char *key, gint64 ttl)
{
	CgRedisCommand *command = cg_redis_command_new("EXPIRE");

	cg_redis_command_add(command, key);
	cg_redis_command_add_printf(command, "%" G_GINT64_FORMAT, ttl);
	send_simple(self, command);
}

static void
add_bytes_field(CgRedisCommand *command, const char *name, GVariant *value)
{
	cg_redis_command_add(command, name);
	cg_redis_command_add_data(command, g_variant_get_data(value), g_variant_get_size(value));
}

static void
send_transaction(CgRelayOutbox *self, CgRelayItem *item, CgRedisReplyFunc func)
{
	g_autofree char *gen_key = cg_relay_key_gen(self->id);
	g_autofree char *events_key = cg_relay_key_events(self->id);
	g_autofree char *file_key = cg_relay_key_file(self->id);
	gint64 ttl = ttl_s(self, item->terminal);
	CgRedisCommand *command;

	send_simple(self, cg_redis_command_new("MULTI"));
	if (item->file != NULL) {
		command = cg_redis_command_new("SET");
		cg_redis_command_add(command, file_key);
		cg_redis_command_add_bytes(command, item->file);
		cg_redis_command_add(command, "EX");
		cg_redis_command_add_printf(command, "%" G_GINT64_FORMAT, ttl);
		send_simple(self, command);
	}

	command = cg_redis_command_new("XADD");
	cg_redis_command_add(command, events_key);
	cg_redis_command_add_printf(command, "%" G_GUINT64_FORMAT "-0", item->sequence);
	add_bytes_field(command, "u", item->published);
	send_simple(self, command);

	command = cg_redis_command_new("HSET");
	cg_redis_command_add(command, gen_key);
	cg_redis_command_add(command, "user");
	cg_redis_command_add(command, self->user);
	cg_redis_command_add(command, "state");
	cg_redis_command_add(command, item->terminal ? "done" : "running");
	cg_redis_command_add(command, "host");
	cg_redis_command_add(command, self->config->host_id);
	if (self->local_id != NULL) {
		cg_redis_command_add(command, "local_id");
		cg_redis_command_add(command, self->local_id);
	}
	cg_redis_command_add(command, "last_seq");
	cg_redis_command_add_printf(command, "%" G_GUINT64_FORMAT, item->sequence);
	cg_redis_command_add(command, "progress");
	cg_redis_command_add_printf(command, "%.17g",
				    cg_relay_update_get_progress(item->published));
	add_bytes_field(command, "snapshot", item->published);
	if (item->terminal) {
		cg_redis_command_add(command, "status");
		cg_redis_command_add(command, cg_relay_update_get_status(item->published));
	}
	if (item->analytics != NULL) {
		cg_redis_command_add(command, "analytics");
		cg_redis_command_add_bytes(command, item->analytics);
	}
	if (item->file != NULL) {
		cg_redis_command_add(command, "file_size");
		cg_redis_command_add_printf(command, "%" G_GSIZE_FORMAT,
					    g_bytes_get_size(item->file));
		if (item->content_type != NULL) {
			cg_redis_command_add(command, "file_type");
			cg_redis_command_add(command, item->content_type);
		}
	}
	if (item->file_error != NULL) {
		cg_redis_command_add(command, "file_error");
		cg_redis_command_add(command, item->file_error);
	}
	send_simple(self, command);

	send_expire(self, gen_key, ttl);
	send_expire(self, events_key, ttl);
	if (self->add_to_user) {
		/* the user's list, in case Redis lost it */
		g_autofree char *user_key = cg_relay_key_user_gens(self->user);

		command = cg_redis_command_new("SADD");
		cg_redis_command_add(command, user_key);
		cg_redis_command_add(command, self->id);
		send_simple(self, command);
		self->add_to_user = FALSE;
	}
	cg_redis_send(self->redis, cg_redis_command_new("EXEC"), self->cancellable, func, self);
}

static gboolean
retry_cb(gpointer user_data)
{
	CgRelayOutbox *self = user_data;

	self->retry_id = 0;
	pump(self);
	return G_SOURCE_REMOVE;
}

static void
schedule_retry(CgRelayOutbox *self, guint ms)
{
	if (self->retry_id == 0)
		self->retry_id = g_timeout_add(ms, retry_cb, self);
}

/* Errors of the commands inside the transaction, for the debug log (an
 * XADD sent again fails; that is expected). */
static void
log_exec_errors(CgRelayOutbox *self, const redisReply *reply)
{
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		const redisReply *element = reply->element[i];

		if (element != NULL && element->type == REDIS_REPLY_ERROR)
			g_debug("%s: command %zu of the transaction: %.*s", self->id, i,
				(int)element->len, element->str);
	}
}

static void
exec_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelayOutbox *self = user_data;
	CgRelayItem *item = g_queue_peek_head(&self->items);
	gboolean terminal;

	self->in_flight = FALSE;
	if (item == NULL)
		return;
	if (error != NULL || reply->type != REDIS_REPLY_ARRAY) {
		/* lost with the connection: resume() or the retry sends it again */
		if (error != NULL &&
		    !g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY)) {
			g_debug("%s: update %" G_GUINT64_FORMAT " not published yet: %s", self->id,
				item->sequence, error->message);
			if (cg_redis_is_connected(redis))
				schedule_retry(self, CG_RELAY_RETRY_MS);
			return;
		}
		if (++item->attempts < CG_RELAY_MAX_ATTEMPTS) {
			g_warning("%s: publishing update %" G_GUINT64_FORMAT
				  " failed (%s); retrying",
				  self->id, item->sequence,
				  error != NULL ? error->message : "the transaction was aborted");
			schedule_retry(self, CG_RELAY_RETRY_MS * item->attempts);
			return;
		}
		g_warning("%s: giving up on update %" G_GUINT64_FORMAT, self->id, item->sequence);
	} else {
		log_exec_errors(self, reply);
	}
	g_queue_pop_head(&self->items);
	terminal = item->terminal;
	g_clear_pointer(&self->last_published, g_variant_unref);
	self->last_published = g_variant_ref(item->published);
	item_free(item);
	if (terminal) {
		self->done = TRUE;
		self->done_func(self->user_data);
		return; /* may be freed */
	}
	pump(self);
}

static void
pump(CgRelayOutbox *self)
{
	CgRelayItem *item = g_queue_peek_head(&self->items);

	if (item == NULL || self->in_flight || self->retry_id != 0 || self->done)
		return;
	if (!cg_redis_is_connected(self->redis))
		return; /* cg_relay_outbox_resume() */
	if (item->sequence == 0) {
		const char *message = self->first_message;

		item->sequence = ++self->last_assigned;
		item->published = g_variant_ref_sink(cg_relay_update_rewrite(
		    item->update, self->id, item->sequence, self->floor, message));
		self->floor = cg_relay_update_get_progress(item->published);
		g_clear_pointer(&self->first_message, g_free);
	}
	self->in_flight = TRUE;
	send_transaction(self, item, exec_cb);
}

/* ---- queueing -------------------------------------------------------------- */

/* Room for one more: drops the newest waiting update that is neither sent
 * nor terminal. */
static void
make_room(CgRelayOutbox *self)
{
	if (g_queue_get_length(&self->items) < CG_RELAY_OUTBOX_MAX)
		return;
	for (GList *l = self->items.tail; l != NULL; l = l->prev) {
		CgRelayItem *item = l->data;

		if (item->sequence == 0 && !item->terminal) {
			g_queue_delete_link(&self->items, l);
			item_free(item);
			return;
		}
	}
}

static void
queue_item(CgRelayOutbox *self, CgRelayItem *item)
{
	make_room(self);
	g_queue_push_tail(&self->items, item);
	pump(self);
}

void
cg_relay_outbox_push(CgRelayOutbox *self, GVariant *update)
{
	CgRelayItem *item;

	if (self->terminal_queued)
		return;
	item = g_new0(CgRelayItem, 1);
	item->update = g_variant_ref_sink(update);
	queue_item(self, item);
}

void
cg_relay_outbox_push_terminal(CgRelayOutbox *self, GVariant *update, GBytes *analytics,
			      GBytes *file, const char *content_type, const char *file_error)
{
	CgRelayItem *item;

	if (self->terminal_queued)
		return;
	self->terminal_queued = TRUE;
	item = g_new0(CgRelayItem, 1);
	item->update = g_variant_ref_sink(update);
	item->terminal = TRUE;
	item->analytics = analytics != NULL ? g_bytes_ref(analytics) : NULL;
	item->file = file != NULL ? g_bytes_ref(file) : NULL;
	item->content_type = g_strdup(content_type);
	item->file_error = g_strdup(file_error);
	/* the terminal update is never the one dropped, and never drops
	 * another terminal: it is the last */
	queue_item(self, item);
}

void
cg_relay_outbox_resume(CgRelayOutbox *self)
{
	if (self->done)
		return;
	self->add_to_user = TRUE;
	if (self->in_flight)
		return;
	if (g_queue_is_empty(&self->items) && self->last_published != NULL) {
		CgRelayItem *item = g_new0(CgRelayItem, 1);

		item->update = g_variant_ref(self->last_published);
		item->published = g_variant_ref(self->last_published);
		g_variant_lookup(item->published, "sequence", "t", &item->sequence);
		g_queue_push_tail(&self->items, item);
	}
	g_clear_handle_id(&self->retry_id, g_source_remove);
	pump(self);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The progress streams of a --redis bridge.
 *
 * A follow starts with the owner check: HGETALL certgen:gen:ID on the
 * command connection. A missing hash or another user's is the very
 * NOT_FOUND of an unknown id; the snapshot (GVariant a{sv} bytes, checked:
 * normal form) is handed to ready(), or, for a generation no host has
 * published yet, a "queued" snapshot of sequence 0. From then on the
 * follow reads its events stream from the snapshot's sequence on: entry
 * ids are SEQ-0, so "after sequence N" is "after N-0", and the events
 * written in the MULTI of that snapshot are exactly those after it.
 *
 * One blocking connection reads the streams of every followed generation
 * at once: XREAD BLOCK with all their keys and last ids. Redis answers as
 * soon as any of them has new entries (one reply, possibly for many
 * streams), or after CG_HTTP_REDIS_FEED_BLOCK_MS with nil; either way the
 * next XREAD goes out at once. When the set grows while a read blocks, the
 * command connection sends CLIENT UNBLOCK with the blocking connection's
 * id (asked with CLIENT ID after every connect): the read returns nil at
 * once and the next one includes the new stream. (One connection per
 * followed generation would cost Redis a client and a blocked key each, and
 * the bridge a socket each; a poll loop would add its interval to every
 * event's latency.) A follow that leaves is simply left out of the next
 * read; entries of it in a reply in flight are dropped.
 *
 * Every entry is checked: its id must be SEQ-0 with SEQ above the last
 * one handed out, its field "u" GVariant a{sv} bytes in normal form. An
 * entry that is not is skipped with a warning (a stream of garbage cannot
 * crash or stall the others); a key that is no stream at all (XREAD
 * answers WRONGTYPE for the whole read) is found with TYPE and its follows
 * fail with FAILED.
 *
 * Redis going away: the read fails with DISCONNECTED; the follows stay
 * (their streams keep their keep-alives, from the hubs' timer) and the
 * first read after the reconnect continues from each one's last id:
 * nothing is lost, and the hub hands out each event once.
 *
 * Resumes (Last-Event-ID, lastEventId N) replay what is stored: the hub
 * (cg_http_hubs_set_replay()) asks cg_http_redis_feed_replay() for the
 * events after N and before the newest state (XREVRANGE (newest-0 (N-0,
 * the last 1000 of them), hands them to the resuming stream first, then
 * the newest state, then the live events: nothing is lost when a client
 * moves to another bridge, and the terminal event always comes.
 */
#include "cg-http-redis-feed.h"
#include "cg-http-log.h"

#include "cg-http-error.h"
#include "cg-http-metrics.h"
#include "cg-http-owner.h"
#include "cg-http-redis-values.h"
#include "cg-http-update.h"

#define CG_HTTP_REDIS_FEED_BLOCK_MS 5000
#define CG_HTTP_REDIS_FEED_COUNT 64
#define CG_HTTP_REDIS_FEED_RETRY_MS 500
#define CG_HTTP_REDIS_FEED_UNBLOCK_RETRY_MS 20
#define CG_HTTP_REDIS_FEED_REPLAY_MAX 1000

struct _CgHttpRedisFollow {
	CgHttpRedisFeed *feed;
	char *progress_id;
	char *user;
	char *events_key;
	const CgHttpFollowFuncs *funcs;
	gpointer user_data;
	GCancellable *cancellable; /* the owner check */
	guint64 last;		   /* the newest sequence handed out */
	gboolean reading;	   /* in feed->reading */
	gboolean stopped;
	guint idle_id; /* failed() from the main loop */
	GError *error;
};

struct _CgHttpRedisFeed {
	CgRedis *command;
	CgRedis *blocking;
	GHashTable *reading; /* events key -> GPtrArray of CgHttpRedisFollow */
	guint n_reading;
	long long client_id;
	gboolean have_client_id;
	gboolean in_flight;  /* an XREAD was sent */
	gboolean grown;	     /* the set grew since the XREAD went out */
	gboolean unblocking; /* a CLIENT UNBLOCK is on its way */
	guint retry_id;
	guint dispatching;
	GPtrArray *stopped; /* stopped during a dispatch: freed after it */
	GCancellable *cancellable;
	guint64 n_reads;
	CgHttpRedisCsvFunc csv_func;
	gpointer csv_data;
};

static void feed_read(CgHttpRedisFeed *self);

static void
follow_free(CgHttpRedisFollow *self)
{
	g_clear_handle_id(&self->idle_id, g_source_remove);
	g_clear_object(&self->cancellable);
	g_clear_error(&self->error);
	g_free(self->progress_id);
	g_free(self->user);
	g_free(self->events_key);
	g_free(self);
}

static void
feed_add_reading(CgHttpRedisFeed *self, CgHttpRedisFollow *follow)
{
	GPtrArray *follows = g_hash_table_lookup(self->reading, follow->events_key);

	if (follows == NULL) {
		follows = g_ptr_array_new();
		g_hash_table_insert(self->reading, g_strdup(follow->events_key), follows);
	}
	g_ptr_array_add(follows, follow);
	follow->reading = TRUE;
	self->n_reading++;
	self->grown = TRUE;
	feed_read(self);
}

static void
feed_remove_reading(CgHttpRedisFeed *self, CgHttpRedisFollow *follow)
{
	GPtrArray *follows;

	if (!follow->reading)
		return;
	follow->reading = FALSE;
	self->n_reading--;
	follows = g_hash_table_lookup(self->reading, follow->events_key);
	if (follows == NULL)
		return;
	g_ptr_array_remove_fast(follows, follow);
	if (follows->len == 0)
		g_hash_table_remove(self->reading, follow->events_key);
}

/* ---- the blocking read ---------------------------------------------------------------- */

static gboolean
retry_cb(gpointer user_data)
{
	CgHttpRedisFeed *self = user_data;

	self->retry_id = 0;
	feed_read(self);
	return G_SOURCE_REMOVE;
}

static void
feed_retry_later(CgHttpRedisFeed *self)
{
	if (self->retry_id == 0)
		self->retry_id = g_timeout_add(CG_HTTP_REDIS_FEED_RETRY_MS, retry_cb, self);
}

/* The lowest sequence still wanted of the follows of one key (they may
 * differ: two users' hubs, or a hub that started later). */
static guint64
follows_last(GPtrArray *follows)
{
	guint64 last = G_MAXUINT64;

	for (guint i = 0; i < follows->len; i++)
		last = MIN(last, ((CgHttpRedisFollow *)follows->pdata[i])->last);
	return last;
}

static void
follow_fail_now(CgHttpRedisFollow *self, GError *error)
{
	feed_remove_reading(self->feed, self);
	self->funcs->failed(self->user_data, error, 0);
}

/* The update of a stream entry [id, [field, value, ...]] with a sequence
 * above @last, or NULL (skipped: with a warning when it is not an update);
 * *@sequence is the entry's when its id is SEQ-0. */
static GVariant *
entry_update(const char *progress_id, const redisReply *entry, guint64 last, guint64 *sequence)
{
	g_autoptr(GError) error = NULL;
	GVariant *update;
	const char *id;
	gsize id_len = 0;

	*sequence = 0;
	if (entry == NULL || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
		return NULL;
	id = cg_redis_reply_string(entry->element[0], &id_len);
	if (!cg_http_redis_parse_event_id(id, id_len, sequence)) {
		g_warning("Skipping an event of %s with the id %.*s (not SEQ-0)", progress_id,
			  (int)MIN(id_len, 64), id != NULL ? id : "");
		return NULL;
	}
	if (*sequence <= last)
		return NULL;
	update = cg_http_redis_reply_variant(cg_redis_reply_field(entry->element[1], "u"),
					     G_VARIANT_TYPE_VARDICT, "event", &error);
	if (update == NULL)
		g_warning("Skipping event %" G_GUINT64_FORMAT " of %s: %s", *sequence, progress_id,
			  error->message);
	return update;
}

/* One entry of @follow's stream. */
static void
follow_entry(CgHttpRedisFollow *self, const redisReply *entry)
{
	g_autoptr(GVariant) update = NULL;
	guint64 sequence = 0;

	update = entry_update(self->progress_id, entry, self->last, &sequence);
	if (sequence > self->last)
		self->last = sequence;
	if (update == NULL)
		return;
	/* the terminal ones count, as those seen on the bus do without Redis */
	cg_http_metrics_update_seen(update);
	self->funcs->update(self->user_data, update);
	if (!self->stopped && cg_http_update_is_terminal(update))
		feed_remove_reading(self->feed, self);
}

/* The reply of XREAD: [[key, [entry, ...]], ...]. */
static void
feed_dispatch(CgHttpRedisFeed *self, const redisReply *reply)
{
	self->dispatching++;
	for (gsize i = 0; i < reply->elements; i++) {
		const redisReply *stream = reply->element[i];
		g_autoptr(GPtrArray) follows = NULL;
		GPtrArray *current;
		const char *key;

		if (stream == NULL || stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
		    stream->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		key = cg_redis_reply_string(stream->element[0], NULL);
		current = key != NULL ? g_hash_table_lookup(self->reading, key) : NULL;
		if (current == NULL)
			continue;
		/* the set may change while the follows are told */
		follows = g_ptr_array_copy(current, NULL, NULL);
		for (guint f = 0; f < follows->len; f++) {
			CgHttpRedisFollow *follow = follows->pdata[f];

			for (gsize e = 0; e < stream->element[1]->elements; e++) {
				if (follow->stopped || !follow->reading)
					break;
				follow_entry(follow, stream->element[1]->element[e]);
			}
		}
	}
	if (--self->dispatching == 0)
		g_ptr_array_set_size(self->stopped, 0);
}

static void type_cb(CgRedis *redis, const redisReply *reply, const GError *error,
		    gpointer user_data);

typedef struct {
	CgHttpRedisFeed *feed;
	char *key;
} CgHttpRedisTypeCheck;

/* XREAD refused the whole read (a key that is not a stream): TYPE of each. */
static void
feed_check_types(CgHttpRedisFeed *self)
{
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->reading);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		CgHttpRedisTypeCheck *check = g_new0(CgHttpRedisTypeCheck, 1);

		check->feed = self;
		check->key = g_strdup(key);
		cg_redis_sendv(self->command, self->cancellable, type_cb, check, "TYPE", key, NULL);
	}
}

static void
type_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisTypeCheck *check = user_data;
	CgHttpRedisFeed *self = check->feed;
	const char *type = reply != NULL ? cg_redis_reply_string(reply, NULL) : NULL;
	GPtrArray *current = g_hash_table_lookup(self->reading, check->key);

	if (type == NULL && reply != NULL && reply->type == REDIS_REPLY_STATUS)
		type = reply->str;
	if (current != NULL && type != NULL && !g_str_equal(type, "stream") &&
	    !g_str_equal(type, "none")) {
		g_autoptr(GPtrArray) follows = g_ptr_array_copy(current, NULL, NULL);

		self->dispatching++;
		for (guint i = 0; i < follows->len; i++) {
			CgHttpRedisFollow *follow = follows->pdata[i];
			g_autoptr(GError) bad = NULL;

			if (follow->stopped)
				continue;
			bad = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
					  "The stored events of %s are not a stream",
					  follow->progress_id);
			g_warning("%s", bad->message);
			follow_fail_now(follow, bad);
		}
		if (--self->dispatching == 0)
			g_ptr_array_set_size(self->stopped, 0);
	}
	g_free(check->key);
	g_free(check);
}

static void
read_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisFeed *self = user_data;

	self->in_flight = FALSE;
	if (error != NULL) {
		if (g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY)) {
			cg_http_debug("XREAD refused: %s", error->message);
			feed_check_types(self);
			feed_retry_later(self);
		}
		/* disconnected: the state function reads again once connected */
		return;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY) {
		self->n_reads++;
		feed_dispatch(self, reply);
	}
	feed_read(self);
}

static void
unblock_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisFeed *self = user_data;
	long long n = 0;

	self->unblocking = FALSE;
	/* the XREAD was not blocking yet when the UNBLOCK came: again soon */
	if (error == NULL && cg_redis_reply_integer(reply, &n) && n == 0 && self->in_flight &&
	    self->grown && self->retry_id == 0)
		self->retry_id = g_timeout_add(CG_HTTP_REDIS_FEED_UNBLOCK_RETRY_MS, retry_cb, self);
}

static void
feed_unblock(CgHttpRedisFeed *self)
{
	g_autofree char *id = NULL;

	if (!self->have_client_id || self->unblocking)
		return;
	id = g_strdup_printf("%lld", self->client_id);
	self->unblocking = TRUE;
	cg_redis_sendv(self->command, self->cancellable, unblock_cb, self, "CLIENT", "UNBLOCK", id,
		       NULL);
}

static void
feed_read(CgHttpRedisFeed *self)
{
	g_autoptr(CgRedisCommand) command = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	GHashTableIter iter;
	gpointer key, value;

	if (self->in_flight) {
		if (self->grown)
			feed_unblock(self);
		return;
	}
	if (!self->have_client_id || g_hash_table_size(self->reading) == 0 ||
	    !cg_redis_is_connected(self->blocking))
		return;
	command = cg_redis_command_new("XREAD");
	cg_redis_command_add(command, "COUNT");
	cg_redis_command_add_printf(command, "%u", CG_HTTP_REDIS_FEED_COUNT);
	cg_redis_command_add(command, "BLOCK");
	cg_redis_command_add_printf(command, "%u", CG_HTTP_REDIS_FEED_BLOCK_MS);
	cg_redis_command_add(command, "STREAMS");
	ids = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&iter, self->reading);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		cg_redis_command_add(command, key);
		g_ptr_array_add(ids,
				g_strdup_printf("%" G_GUINT64_FORMAT "-0", follows_last(value)));
	}
	for (guint i = 0; i < ids->len; i++)
		cg_redis_command_add(command, ids->pdata[i]);
	self->in_flight = TRUE;
	self->grown = FALSE;
	cg_redis_send(self->blocking, g_steal_pointer(&command), self->cancellable, read_cb, self);
}

static void
client_id_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisFeed *self = user_data;

	if (error != NULL || !cg_redis_reply_integer(reply, &self->client_id))
		return;
	self->have_client_id = TRUE;
	feed_read(self);
}

static void
blocking_state_cb(CgRedis *redis, gboolean connected, gpointer user_data)
{
	CgHttpRedisFeed *self = user_data;

	self->have_client_id = FALSE;
	self->in_flight = FALSE;
	if (connected)
		cg_redis_sendv(redis, self->cancellable, client_id_cb, self, "CLIENT", "ID", NULL);
}

CgHttpRedisFeed *
cg_http_redis_feed_new(CgRedis *command, CgRedis *blocking)
{
	CgHttpRedisFeed *self = g_new0(CgHttpRedisFeed, 1);

	self->command = command;
	self->blocking = blocking;
	self->reading = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)g_ptr_array_unref);
	self->stopped = g_ptr_array_new_with_free_func((GDestroyNotify)follow_free);
	self->cancellable = g_cancellable_new();
	cg_redis_set_state_func(blocking, blocking_state_cb, self);
	if (cg_redis_is_connected(blocking))
		blocking_state_cb(blocking, TRUE, self);
	return self;
}

void
cg_http_redis_feed_free(CgHttpRedisFeed *self)
{
	if (self == NULL)
		return;
	g_warn_if_fail(self->n_reading == 0);
	g_cancellable_cancel(self->cancellable);
	cg_redis_set_state_func(self->blocking, NULL, NULL);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	g_clear_pointer(&self->reading, g_hash_table_unref);
	g_clear_pointer(&self->stopped, g_ptr_array_unref);
	g_clear_object(&self->cancellable);
	g_free(self);
}

guint
cg_http_redis_feed_get_n_reading(CgHttpRedisFeed *self)
{
	return self->n_reading;
}

guint64
cg_http_redis_feed_get_n_reads(CgHttpRedisFeed *self)
{
	return self->n_reads;
}

void
cg_http_redis_feed_set_csv_func(CgHttpRedisFeed *self, CgHttpRedisCsvFunc func, gpointer data)
{
	self->csv_func = func;
	self->csv_data = data;
}

/* ---- replays --------------------------------------------------------------------------- */

typedef struct {
	char *progress_id;
	guint64 after;
	void (*done)(gpointer user_data, GPtrArray *updates);
	gpointer user_data;
} CgHttpRedisReplay;

/* XREVRANGE: the newest first; handed out oldest first. */
static void
replay_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisReplay *replay = user_data;
	g_autoptr(GPtrArray) updates =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	guint64 last = replay->after;

	if (error != NULL)
		cg_http_debug("No replay of %s: %s", replay->progress_id, error->message);
	for (gsize i = reply != NULL && reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
	     i > 0; i--) {
		guint64 sequence = 0;
		GVariant *update =
		    entry_update(replay->progress_id, reply->element[i - 1], last, &sequence);

		if (sequence > last)
			last = sequence;
		if (update != NULL)
			g_ptr_array_add(updates, update);
	}
	replay->done(replay->user_data, updates);
	g_free(replay->progress_id);
	g_free(replay);
}

void
cg_http_redis_feed_replay(CgHttpRedisFeed *self, const char *progress_id, guint64 after,
			  guint64 before, GCancellable *cancellable,
			  void (*done)(gpointer user_data, GPtrArray *updates), gpointer user_data)
{
	CgHttpRedisReplay *replay = g_new0(CgHttpRedisReplay, 1);
	g_autofree char *key = cg_http_redis_gen_key(progress_id, ":events");
	g_autofree char *start = g_strdup_printf("(%" G_GUINT64_FORMAT "-0", after);
	g_autofree char *end = g_strdup_printf("(%" G_GUINT64_FORMAT "-0", before);

	replay->progress_id = g_strdup(progress_id);
	replay->after = after;
	replay->done = done;
	replay->user_data = user_data;
	/* the newest CG_HTTP_REDIS_FEED_REPLAY_MAX before @before: the hub
	 * hands out the newest state after them anyway */
	cg_redis_sendv(self->command, cancellable, replay_cb, replay, "XREVRANGE", key, end, start,
		       "COUNT", G_STRINGIFY(CG_HTTP_REDIS_FEED_REPLAY_MAX), NULL);
}

/* ---- one follow ------------------------------------------------------------------------ */

static gboolean
failed_idle_cb(gpointer user_data)
{
	CgHttpRedisFollow *self = user_data;
	g_autoptr(GError) error = g_steal_pointer(&self->error);

	self->idle_id = 0;
	self->funcs->failed(self->user_data, error,
			    error->domain == CG_HTTP_ERROR &&
				    error->code == CG_HTTP_ERROR_UNAVAILABLE
				? CG_HTTP_REDIS_RETRY_AFTER_S
				: 0);
	return G_SOURCE_REMOVE;
}

static void
follow_fail(CgHttpRedisFollow *self, GError *error)
{
	self->error = error;
	self->idle_id = g_idle_add(failed_idle_cb, self);
}

static void owner_checked(CgHttpRedisFollow *self, const redisReply *reply, const GError *error);

/* The follow is told inside a dispatch: stopped meanwhile, it is freed
 * after. */
static void
owner_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisFollow *self = user_data;
	CgHttpRedisFeed *feed = self->feed;

	feed->dispatching++;
	owner_checked(self, reply, error);
	if (--feed->dispatching == 0)
		g_ptr_array_set_size(feed->stopped, 0);
}

static void
owner_checked(CgHttpRedisFollow *self, const redisReply *reply, const GError *error)
{
	g_autoptr(GVariant) snapshot = NULL;
	g_autofree char *owner = NULL;
	g_autoptr(GError) bad = NULL;
	const redisReply *stored;
	const char *source;
	guint64 created_ms = 0;
	gsize len = 0;

	if (error != NULL) {
		guint retry_after_s = 0;

		bad = cg_http_redis_route_error(error, &retry_after_s);
		self->funcs->failed(self->user_data, bad, retry_after_s);
		return;
	}
	owner = cg_http_redis_reply_user(cg_redis_reply_field(reply, "user"));
	if (owner == NULL || !g_str_equal(owner, self->user)) {
		bad = cg_http_not_found_error(self->progress_id);
		self->funcs->failed(self->user_data, bad, 0);
		return;
	}
	source = cg_redis_reply_string(cg_redis_reply_field(reply, "source"), &len);
	if (source != NULL && len == 3 && memcmp(source, "csv", 3) == 0 &&
	    self->feed->csv_func != NULL)
		self->feed->csv_func(self->feed->csv_data, self->progress_id);
	stored = cg_redis_reply_field(reply, "snapshot");
	if (stored != NULL) {
		snapshot =
		    cg_http_redis_reply_variant(stored, G_VARIANT_TYPE_VARDICT, "snapshot", &bad);
		if (snapshot == NULL) {
			g_warning("Generation %s: %s", self->progress_id, bad->message);
			self->funcs->failed(self->user_data, bad, 0);
			return;
		}
	} else {
		const char *text =
		    cg_redis_reply_string(cg_redis_reply_field(reply, "created_ms"), &len);

		if (!cg_http_redis_parse_u64(text, len, &created_ms))
			created_ms = 0;
		snapshot = cg_http_redis_queued_snapshot(self->progress_id, (gint64)created_ms);
	}
	self->last = cg_http_update_get_sequence(snapshot);
	self->funcs->ready(self->user_data, snapshot);
	if (!self->stopped && !cg_http_update_is_terminal(snapshot))
		feed_add_reading(self->feed, self);
}

CgHttpRedisFollow *
cg_http_redis_follow_start(CgHttpRedisFeed *feed, const char *progress_id, const char *user,
			   const CgHttpFollowFuncs *funcs, gpointer user_data)
{
	CgHttpRedisFollow *self = g_new0(CgHttpRedisFollow, 1);
	g_autofree char *key = NULL;

	self->feed = feed;
	self->progress_id = g_strdup(progress_id);
	self->user = g_strdup(user);
	self->events_key = cg_http_redis_gen_key(progress_id, ":events");
	self->funcs = funcs;
	self->user_data = user_data;
	self->cancellable = g_cancellable_new();
	if (!cg_http_redis_id_is_valid(progress_id)) {
		follow_fail(self, cg_http_not_found_error(progress_id));
		return self;
	}
	key = cg_http_redis_gen_key(progress_id, "");
	cg_redis_sendv(feed->command, self->cancellable, owner_cb, self, "HGETALL", key, NULL);
	return self;
}

void
cg_http_redis_follow_stop(CgHttpRedisFollow *self)
{
	CgHttpRedisFeed *feed;

	if (self == NULL || self->stopped)
		return;
	feed = self->feed;
	self->stopped = TRUE;
	g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->idle_id, g_source_remove);
	feed_remove_reading(feed, self);
	if (feed->dispatching > 0)
		g_ptr_array_add(feed->stopped, self);
	else
		follow_free(self);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context handed to the stream modules: config, bus and registry. */
#include "cg-http-stream-context.h"

#include "cg-http-json.h"
#include "cg-http-metrics.h"

/* Generations started from CSV are remembered this long, at most this
 * many (starts are rate-limited per web user). */
#define CG_HTTP_CSV_GENERATIONS_TTL_S 3600
#define CG_HTTP_CSV_GENERATIONS_MAX 100000

static void
stream_context_clear(gpointer data)
{
	CgHttpStreamContext *self = data;

	g_clear_pointer(&self->hubs, cg_http_hubs_free);
	cg_http_metrics_set_redis(NULL, NULL);
	g_clear_pointer(&self->redis, cg_http_redis_free);
	g_clear_pointer(&self->peers, cg_http_peers_free);
	g_clear_pointer(&self->steals, cg_http_deferred_free);
	g_clear_pointer(&self->streams, cg_http_streams_free);
	g_clear_pointer(&self->csv_generations, cg_http_csv_generations_free);
	g_clear_object(&self->bus);
	cg_http_config_clear(&self->config);
}

static char *
hub_json(gpointer data, const char *progress_id, GVariant *update)
{
	return cg_http_stream_context_update_json(data, progress_id, update);
}

static gpointer
redis_follow_start(gpointer data, const char *progress_id, const char *user,
		   const CgHttpFollowFuncs *funcs, gpointer user_data)
{
	return cg_http_redis_follow_start(data, progress_id, user, funcs, user_data);
}

static void
redis_metrics(gpointer data, gboolean *connected, guint *reconnects)
{
	*connected = cg_http_redis_is_connected(data);
	*reconnects = cg_http_redis_get_n_reconnects(data);
}

static void
redis_release_lease(gpointer data, const char *member)
{
	cg_http_redis_release_lease(data, member);
}

static void
redis_replay(gpointer data, const char *progress_id, guint64 after, guint64 before,
	     GCancellable *cancellable, CgHttpHubReplayDone done, gpointer user_data)
{
	cg_http_redis_feed_replay(data, progress_id, after, before, cancellable, done, user_data);
}

/* A generation started from CSV on another bridge. */
static void
redis_csv_cb(gpointer data, const char *progress_id)
{
	CgHttpStreamContext *self = data;

	if (!cg_http_csv_generations_contains(self->csv_generations, progress_id))
		cg_http_csv_generations_add(self->csv_generations, progress_id,
					    g_get_monotonic_time());
}

CgHttpStreamContext *
cg_http_stream_context_new(const CgHttpConfig *config, CgHttpBus *bus)
{
	CgHttpStreamContext *self = g_rc_box_new0(CgHttpStreamContext);

	cg_http_config_copy(&self->config, config);
	self->bus = g_object_ref(bus);
	self->streams = cg_http_streams_new(config);
	/* the hubs are freed with the context: no reference on it */
	self->hubs = cg_http_hubs_new(bus, config->keepalive_ms, hub_json, self);
	self->peers = cg_http_peers_new();
	/* the default priority: an idle one would wait while the loop is
	 * busy, and the connection with it */
	self->steals = cg_http_deferred_new(G_PRIORITY_DEFAULT);
	self->csv_generations =
	    cg_http_csv_generations_new(CG_HTTP_CSV_GENERATIONS_MAX, CG_HTTP_CSV_GENERATIONS_TTL_S);
	if (config->redis_address != NULL) {
		g_autoptr(GError) error = NULL;

		self->redis = cg_http_redis_new(config->redis_address, config->bridge_id, &error);
		if (self->redis == NULL)
			g_error("--redis %s: %s", config->redis_address, error->message);
		cg_http_hubs_set_source(self->hubs, redis_follow_start,
					(GDestroyNotify)cg_http_redis_follow_stop,
					cg_http_redis_get_feed(self->redis));
		cg_http_hubs_set_replay(self->hubs, redis_replay,
					cg_http_redis_get_feed(self->redis));
		cg_http_redis_feed_set_csv_func(cg_http_redis_get_feed(self->redis), redis_csv_cb,
						self);
		cg_http_metrics_set_redis(redis_metrics, self->redis);
		cg_http_streams_set_lease_release(self->streams, redis_release_lease, self->redis);
	}
	return self;
}

CgHttpStreamContext *
cg_http_stream_context_ref(CgHttpStreamContext *self)
{
	return g_rc_box_acquire(self);
}

void
cg_http_stream_context_unref(CgHttpStreamContext *self)
{
	if (self != NULL)
		g_rc_box_release_full(self, stream_context_clear);
}

char *
cg_http_stream_context_update_json(CgHttpStreamContext *self, const char *progress_id,
				   GVariant *update)
{
	g_autoptr(GVariant) shown = NULL;

	if (!cg_http_csv_generations_contains(self->csv_generations, progress_id))
		return cg_http_update_to_json(update);
	shown = cg_http_csv_map_update(update);
	return cg_http_update_to_json(shown);
}

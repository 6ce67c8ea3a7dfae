/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context handed to the stream modules: config, bus and registry. */
#include "cg-http-stream-context.h"

#include "cg-http-json.h"

/* Generations started from CSV are remembered this long, at most this
 * many (starts are rate-limited per web user). */
#define CG_HTTP_CSV_GENERATIONS_TTL_S 3600
#define CG_HTTP_CSV_GENERATIONS_MAX 100000

static void
stream_context_clear(gpointer data)
{
	CgHttpStreamContext *self = data;

	g_clear_pointer(&self->hubs, cg_http_hubs_free);
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-bus.h"
#include "cg-http-config.h"
#include "cg-http-csv.h"
#include "cg-http-deferred.h"
#include "cg-http-hub.h"
#include "cg-http-peers.h"
#include "cg-http-redis.h"
#include "cg-http-streams.h"

G_BEGIN_DECLS

/* What the stream modules (cg-http-sse.c, cg-http-ws.c) are handed: the
 * settings, the connection to certgend and the stream registry. Reference
 * counted (main thread only): every open stream holds a reference, so the
 * registry and the hubs outlive the streams in them. */
typedef struct {
	CgHttpConfig config; /* a copy */
	CgHttpBus *bus;
	CgHttpStreams *streams;		       /* owned */
	CgHttpHubs *hubs;		       /* the fan-out (cg-http-hub.h); owned */
	CgHttpPeers *peers;		       /* departure watch of idle streams; owned */
	CgHttpDeferred *steals;		       /* SSE connections to take over; owned */
	CgHttpCsvGenerations *csv_generations; /* started from CSV; owned */
	CgHttpRedis *redis;		       /* --redis (cg-http-redis.h), else NULL; owned */
} CgHttpStreamContext;

/* Copies @config, takes a reference on @bus, creates the registry and the
 * hubs; with @config's redis_address, the Redis side too (its hubs follow
 * Redis). The address must be valid (cg_redis_address_is_valid()). */
CgHttpStreamContext *cg_http_stream_context_new(const CgHttpConfig *config, CgHttpBus *bus);
CgHttpStreamContext *cg_http_stream_context_ref(CgHttpStreamContext *self);
void cg_http_stream_context_unref(CgHttpStreamContext *self);

/* An update or snapshot of @progress_id as a stream sends it
 * (cg_http_update_to_json()), in the CSV's words for a generation started
 * from CSV. */
char *cg_http_stream_context_update_json(CgHttpStreamContext *self, const char *progress_id,
					 GVariant *update);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpStreamContext, cg_http_stream_context_unref)

G_END_DECLS

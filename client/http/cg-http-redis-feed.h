/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-follow.h"
#include "cg-redis.h"

G_BEGIN_DECLS

/*
 * The progress streams' source in --redis mode (design at the top of
 * cg-http-redis-feed.c): CgHttpRedisFollow is to the hubs (cg-http-hub.h)
 * what CgHttpFollow is without Redis: ready(snapshot) after the owner check
 * on the generation's hash, then every newer event of its stream, in order,
 * from one blocking connection that reads all followed streams at once.
 * failed() reports NOT_FOUND (unknown or foreign id), UNAVAILABLE (Redis
 * unreachable at the start) or FAILED (a stored value that is not what the
 * schema says). vanished() never comes: a host that dies is replaced by
 * another (the relays' claim).
 */
typedef struct _CgHttpRedisFeed CgHttpRedisFeed;
typedef struct _CgHttpRedisFollow CgHttpRedisFollow;

/* @command: owner checks and CLIENT UNBLOCK; @blocking: only the XREADs.
 * Neither is owned. */
CgHttpRedisFeed *cg_http_redis_feed_new(CgRedis *command, CgRedis *blocking);
/* Only once every follow has stopped. */
void cg_http_redis_feed_free(CgHttpRedisFeed *self);
/* Follows whose stream is being read. */
guint cg_http_redis_feed_get_n_reading(CgHttpRedisFeed *self);
/* XREADs answered with entries (tests: one read serves many streams). */
guint64 cg_http_redis_feed_get_n_reads(CgHttpRedisFeed *self);
/* A generation hash (certgen:gen:ID) had "source" "csv": its events speak
 * of rows and columns (cg-http-csv.h). */
typedef void (*CgHttpRedisCsvFunc)(gpointer data, const char *progress_id);
void cg_http_redis_feed_set_csv_func(CgHttpRedisFeed *self, CgHttpRedisCsvFunc func, gpointer data);

/* The stored updates of @progress_id after @after and before @before
 * (XRANGE on the command connection), checked like the live ones, for
 * cg_http_hubs_set_replay(); an unreachable Redis or a key that is no
 * stream replays nothing. */
void cg_http_redis_feed_replay(CgHttpRedisFeed *self, const char *progress_id, guint64 after,
			       guint64 before, GCancellable *cancellable,
			       void (*done)(gpointer user_data, GPtrArray *updates),
			       gpointer user_data);

/* The callbacks run from the main loop, never from inside this call. */
CgHttpRedisFollow *cg_http_redis_follow_start(CgHttpRedisFeed *feed, const char *progress_id,
					      const char *user, const CgHttpFollowFuncs *funcs,
					      gpointer user_data);
/* No callback after this; NULL is ignored. */
void cg_http_redis_follow_stop(CgHttpRedisFollow *self);

G_END_DECLS

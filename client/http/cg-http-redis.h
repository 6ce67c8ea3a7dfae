/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-redis-feed.h"
#include "cg-http-redis-leases.h"
#include "cg-http-redis-values.h"
#include "cg-redis.h"

G_BEGIN_DECLS

/*
 * certgen-http --redis: the bridge's side of Redis (README "Beyond one
 * host"). Two connections (common/cg-redis.h): one for commands, pipelined,
 * and one that only blocks in XREAD for the progress streams
 * (cg-http-redis-feed.h). It also keeps what must survive a Redis restart
 * (a server without persistence comes back empty): the consumer group is
 * created again before the next request is queued, the tokens file (when
 * this bridge loaded one) is written again, and the stream leases are
 * renewed every CG_HTTP_REDIS_RENEW_S seconds whatever happened.
 */
#define CG_HTTP_REDIS_LEASE_MS 15000
#define CG_HTTP_REDIS_RENEW_S 5
/* Generations expire this long after their creation (the relay's
 * --max-age-s default). */
#define CG_HTTP_REDIS_MAX_AGE_S 1800

typedef struct _CgHttpRedis CgHttpRedis;

/* NULL with *@error for an invalid @address; connects in the background. */
CgHttpRedis *cg_http_redis_new(const char *address, const char *bridge_id, GError **error);
void cg_http_redis_free(CgHttpRedis *self);

CgRedis *cg_http_redis_get_connection(CgHttpRedis *self);
CgHttpRedisFeed *cg_http_redis_get_feed(CgHttpRedis *self);
const char *cg_http_redis_get_bridge_id(CgHttpRedis *self);
gboolean cg_http_redis_is_connected(CgHttpRedis *self);
/* Reconnects of both connections. */
guint cg_http_redis_get_n_reconnects(CgHttpRedis *self);

/* A member name unique to this bridge and process ("BRIDGE:e1", ...) for
 * a rate-limit event. */
char *cg_http_redis_next_event_member(CgHttpRedis *self);

/* XGROUP CREATE certgen:requests hosts 0 MKSTREAM, once per connection
 * (BUSYGROUP ignored): queued on the command connection, so it precedes
 * whatever is sent after it. */
void cg_http_redis_ensure_group(CgHttpRedis *self);

/* Publishes @tokens (pairs SHA256HEX, user; NULL-terminated flat array,
 * copied) as certgen:tokens: a temporary key filled and RENAMEd over it
 * (readers never see a half-written table); again after every reconnect.
 * An empty table deletes certgen:tokens. */
void cg_http_redis_publish_tokens(CgHttpRedis *self, const char *const *tokens);

/* Stream leases (cg-http-redis-leases.h), renewed by this object. */
CgHttpRedisLeases *cg_http_redis_get_leases(CgHttpRedis *self);
/* Gives @member up now (ZREM); NULL is ignored. */
void cg_http_redis_release_lease(CgHttpRedis *self, const char *member);

G_END_DECLS

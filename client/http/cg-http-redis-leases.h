/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-redis.h"

G_BEGIN_DECLS

/*
 * The bookkeeping of this bridge's leases on the shared stream caps
 * (certgen:streams:USER and certgen:streams, sorted sets whose members are
 * "BRIDGE:N" scored by their lease's expiry in Redis's clock). Every open
 * stream holds one member; the bridge re-leases all of them every few
 * seconds (one EVAL per user, cg_http_redis_lease_script), so the members
 * of a bridge that died expire by themselves and stop counting. Pure: it
 * makes the commands, the caller sends them.
 */
typedef struct _CgHttpRedisLeases CgHttpRedisLeases;

CgHttpRedisLeases *cg_http_redis_leases_new(const char *bridge_id);
void cg_http_redis_leases_free(CgHttpRedisLeases *self);

/* A new member name, unique to this bridge ("BRIDGE:N"), not held yet. */
char *cg_http_redis_leases_next_member(CgHttpRedisLeases *self);
/* @member (of @user) is held: it is re-leased from now on. */
void cg_http_redis_leases_hold(CgHttpRedisLeases *self, const char *member, const char *user);
/* Not held any more; the command that gives it up at once (ZREMs in a
 * MULTI-free pipeline: two commands), or NULL when it was not held. The
 * array holds CgRedisCommand (free function set). */
GPtrArray *cg_http_redis_leases_release(CgHttpRedisLeases *self, const char *member);
guint cg_http_redis_leases_get_n_held(CgHttpRedisLeases *self);
guint cg_http_redis_leases_get_n_users(CgHttpRedisLeases *self);

/* The re-lease commands of every member held, one per user, each member
 * leased for @lease_ms from Redis's now. */
GPtrArray *cg_http_redis_leases_renew_commands(CgHttpRedisLeases *self, guint lease_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpRedisLeases, cg_http_redis_leases_free)

G_END_DECLS

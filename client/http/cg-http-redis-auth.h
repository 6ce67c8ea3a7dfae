/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-auth.h"
#include "cg-redis.h"

G_BEGIN_DECLS

/*
 * Web users in --redis mode: the token table certgen:tokens (SHA-256 hex
 * -> user, published by the bridges that load a tokens file) and the
 * sessions certgen:session:SHA256(id) (the user, EX the session's
 * lifetime), so that a session made on one bridge works on every other and
 * DELETE /api/session on any bridge ends it everywhere. Only hashes reach
 * Redis: neither a token nor a session id is ever stored.
 */

/* Called once the credential is resolved: @error when Redis could not be
 * asked (the request gets 503), else the request may be dispatched:
 * @auth answers for its credential (cg_http_auth_set_resolved()) during
 * the call, and only then. */
typedef void (*CgHttpRedisAuthFunc)(gpointer user_data, const GError *error);

/* Looks up the one credential of @request, as cg_http_session_authenticate_request()
 * will read it: the Bearer token when there is an Authorization header,
 * else the session cookie. Without either (or with a malformed one) @func
 * is called at once, nothing resolved (the route answers 401). A value read
 * back that is not a valid user name counts as unknown. */
void cg_http_redis_auth_resolve(CgRedis *redis, CgHttpAuth *auth, SoupMessageHeaders *request,
				GCancellable *cancellable, CgHttpRedisAuthFunc func,
				gpointer user_data);

/* The Redis key of a session id: certgen:session:SHA256HEX(id). */
char *cg_http_redis_session_key(const char *session_id);

/* POST /api/session (Bearer, already authenticated as @user) and DELETE
 * /api/session in --redis mode, answered like cg_http_session_handle(). */
void cg_http_redis_session_handle(CgRedis *redis, CgHttpAuth *auth,
				  const char *const *allow_origins, guint ttl_s,
				  SoupServerMessage *msg, const char *method, GObject *owner,
				  guint *n_pending);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Web users: the tokens file (one "NAME SHA256HEX" a line; only hashes of
 * tokens are kept) and the browser sessions created with a token. */
#define CG_TYPE_HTTP_AUTH (cg_http_auth_get_type())
G_DECLARE_FINAL_TYPE(CgHttpAuth, cg_http_auth, CG, HTTP_AUTH, GObject)

#define CG_HTTP_SESSION_ID_LEN 64

CgHttpAuth *cg_http_auth_new(guint session_ttl_s, guint max_sessions_per_user, guint max_sessions);

/* Replaces the tokens with those of @path; on error nothing changes. Sessions
 * of users no longer listed are dropped. */
gboolean cg_http_auth_load_tokens(CgHttpAuth *self, const char *path, GError **error);
guint cg_http_auth_get_n_tokens(CgHttpAuth *self);

/* The web user of a token (compared as SHA-256 in constant time over all
 * entries), or NULL. */
char *cg_http_auth_check_token(CgHttpAuth *self, const char *token);

/* A new random session of @user; *@ttl_s is how long it lives. */
char *cg_http_auth_session_new(CgHttpAuth *self, const char *user, guint *ttl_s);
/* The web user of a live session, or NULL. */
char *cg_http_auth_session_lookup(CgHttpAuth *self, const char *session_id);
/* Removes @session_id when it belongs to @user. */
gboolean cg_http_auth_session_remove(CgHttpAuth *self, const char *session_id, const char *user);
/* Forgets expired sessions; returns how many. */
guint cg_http_auth_sessions_expire(CgHttpAuth *self);
guint cg_http_auth_get_n_sessions(CgHttpAuth *self);

/* A session id: CG_HTTP_SESSION_ID_LEN hex digits. */
gboolean cg_http_session_id_is_valid(const char *id);
/* A new random session id (getrandom), or NULL. */
char *cg_http_auth_new_session_id(void);

/*
 * --redis (cg-http-redis-auth.h): tokens and sessions live in Redis, and
 * the request's one credential (its Bearer token or its session id) is
 * looked up there before the request is dispatched. In remote mode
 * cg_http_auth_check_token() and cg_http_auth_session_lookup() answer only
 * that credential, with the user cg_http_auth_set_resolved() gave (NULL:
 * unknown), and know no other token or session; the tokens file, when one
 * is loaded, is only what the bridge publishes.
 */
void cg_http_auth_set_remote(CgHttpAuth *self, gboolean remote);
gboolean cg_http_auth_is_remote(CgHttpAuth *self);
/* @credential (a token or a session id) is @user's (NULL: unknown);
 * NULL @credential forgets it. */
void cg_http_auth_set_resolved(CgHttpAuth *self, const char *credential, const char *user);
/* The tokens loaded: a NULL-terminated flat array SHA256HEX, user, ... */
char **cg_http_auth_dup_token_pairs(CgHttpAuth *self);

/* Lower-case hex SHA-256 of @len bytes of @token. */
char *cg_http_hash_token(const char *token, gsize len);

/* A web user name is 1–64 of [A-Za-z0-9._@+-]. */
gboolean cg_http_user_name_is_valid(const char *name);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tokens and sessions in Redis (cg-http-redis-auth.h). */
#include "cg-http-redis-auth.h"

#include "cg-http-error.h"
#include "cg-http-pending.h"
#include "cg-http-redis-values.h"
#include "cg-http-redis.h"
#include "cg-http-response.h"
#include "cg-http-session.h"

#define CG_HTTP_REDIS_MAX_TOKEN_LEN 4096

typedef struct {
	CgHttpAuth *auth;
	char *credential;
	CgHttpRedisAuthFunc func;
	gpointer user_data;
} CgHttpRedisResolve;

char *
cg_http_redis_session_key(const char *session_id)
{
	g_autofree char *hash = cg_http_hash_token(session_id, strlen(session_id));

	return g_strconcat(CG_HTTP_REDIS_PREFIX "session:", hash, NULL);
}

static void
resolve_free(CgHttpRedisResolve *resolve)
{
	g_clear_object(&resolve->auth);
	g_free(resolve->credential);
	g_free(resolve);
}

static void
resolved_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisResolve *resolve = user_data;
	g_autofree char *user = NULL;

	if (error != NULL) {
		resolve->func(resolve->user_data, error);
		resolve_free(resolve);
		return;
	}
	user = cg_http_redis_reply_user(reply);
	cg_http_auth_set_resolved(resolve->auth, resolve->credential, user);
	resolve->func(resolve->user_data, NULL);
	cg_http_auth_set_resolved(resolve->auth, NULL, NULL);
	resolve_free(resolve);
}

typedef struct {
	CgHttpRedisAuthFunc func;
	gpointer user_data;
} CgHttpRedisNothing;

static gboolean
nothing_cb(gpointer data)
{
	CgHttpRedisNothing *nothing = data;

	nothing->func(nothing->user_data, NULL);
	g_free(nothing);
	return G_SOURCE_REMOVE;
}

void
cg_http_redis_auth_resolve(CgRedis *redis, CgHttpAuth *auth, SoupMessageHeaders *request,
			   GCancellable *cancellable, CgHttpRedisAuthFunc func, gpointer user_data)
{
	const char *authorization = soup_message_headers_get_one(request, "Authorization");
	g_autofree char *session = NULL;
	g_autofree char *key = NULL;
	g_autofree char *hash = NULL;
	CgHttpRedisResolve *resolve;

	if (authorization != NULL) {
		const char *token = cg_http_session_bearer_token(authorization, NULL);
		gsize len = token != NULL ? strlen(token) : 0;

		if (len > 0 && len <= CG_HTTP_REDIS_MAX_TOKEN_LEN) {
			hash = cg_http_hash_token(token, len);
			resolve = g_new0(CgHttpRedisResolve, 1);
			resolve->credential = g_strdup(token);
			resolve->auth = g_object_ref(auth);
			resolve->func = func;
			resolve->user_data = user_data;
			cg_redis_sendv(redis, cancellable, resolved_cb, resolve, "HGET",
				       CG_HTTP_REDIS_PREFIX "tokens", hash, NULL);
			return;
		}
	} else {
		session =
		    cg_http_session_cookie_value(soup_message_headers_get_list(request, "Cookie"));
		if (session != NULL && cg_http_session_id_is_valid(session)) {
			key = cg_http_redis_session_key(session);
			resolve = g_new0(CgHttpRedisResolve, 1);
			resolve->credential = g_steal_pointer(&session);
			resolve->auth = g_object_ref(auth);
			resolve->func = func;
			resolve->user_data = user_data;
			cg_redis_sendv(redis, cancellable, resolved_cb, resolve, "EVAL",
				       cg_http_redis_session_lookup_script, "2", key,
				       CG_HTTP_REDIS_PREFIX "token-users", NULL);
			return;
		}
	}
	/* nothing to look up: the route says 401 */
	{
		CgHttpRedisNothing *nothing = g_new0(CgHttpRedisNothing, 1);

		nothing->func = func;
		nothing->user_data = user_data;
		g_idle_add(nothing_cb, nothing);
	}
}

/* ---- /api/session ------------------------------------------------------------------- */

typedef struct {
	CgHttpPending *pending;
	char *session;
	guint ttl_s;
} CgHttpRedisSessionNew;

static void
session_set_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisSessionNew *made = user_data;
	CgHttpPending *pending = made->pending;

	if (error != NULL) {
		guint retry_after_s = 0;
		g_autoptr(GError) failed = cg_http_redis_route_error(error, &retry_after_s);

		cg_http_pending_fail(pending, failed, retry_after_s);
	} else if (!pending->closed) {
		SoupMessageHeaders *response =
		    soup_server_message_get_response_headers(pending->msg);
		g_autofree char *cookie = NULL;
		g_autofree char *escaped = g_strescape(pending->user, NULL);
		g_autofree char *json = NULL;

		cookie = g_strdup_printf(CG_HTTP_SESSION_COOKIE "=%s; Path=/; Max-Age=%u; "
								"HttpOnly; SameSite=Strict",
					 made->session, made->ttl_s);
		soup_message_headers_append(response, "Set-Cookie", cookie);
		json = g_strdup_printf("{\"success\":true,\"user\":\"%s\",\"expiresIn\":%u}",
				       escaped, made->ttl_s);
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
		cg_http_pending_done(pending);
	} else {
		cg_http_pending_done(pending);
	}
	g_free(made->session);
	g_free(made);
}

static void
session_deleted_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpPending *pending = user_data;

	if (error != NULL) {
		guint retry_after_s = 0;
		g_autoptr(GError) failed = cg_http_redis_route_error(error, &retry_after_s);

		cg_http_pending_fail(pending, failed, retry_after_s);
		return;
	}
	if (!pending->closed) {
		soup_message_headers_append(soup_server_message_get_response_headers(pending->msg),
					    "Set-Cookie",
					    CG_HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; "
								   "HttpOnly; SameSite=Strict");
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, "{\"success\":true}");
	}
	cg_http_pending_done(pending);
}

void
cg_http_redis_session_handle(CgRedis *redis, CgHttpAuth *auth, const char *const *allow_origins,
			     guint ttl_s, SoupServerMessage *msg, const char *method,
			     GObject *owner, guint *n_pending)
{
	g_autofree char *user = NULL;
	g_autofree char *key = NULL;
	g_autofree char *ttl = NULL;

	if (!g_str_equal(method, SOUP_METHOD_POST) && !g_str_equal(method, SOUP_METHOD_DELETE)) {
		cg_http_respond_method_not_allowed(msg, "POST, DELETE");
		return;
	}
	user = cg_http_session_authenticate_or_respond(auth, allow_origins, msg, FALSE);
	if (user == NULL)
		return;
	if (g_str_equal(method, SOUP_METHOD_POST)) {
		CgHttpRedisSessionNew *made;
		g_autofree char *session = cg_http_auth_new_session_id();

		if (session == NULL) {
			cg_http_respond_new_error(msg, CG_HTTP_ERROR_FAILED, 0,
						  "Could not create a session");
			return;
		}
		key = cg_http_redis_session_key(session);
		ttl = g_strdup_printf("%u", ttl_s);
		made = g_new0(CgHttpRedisSessionNew, 1);
		made->pending = cg_http_pending_new(owner, n_pending, msg, user, NULL);
		made->session = g_steal_pointer(&session);
		made->ttl_s = ttl_s;
		cg_redis_sendv(redis, NULL, session_set_cb, made, "SET", key, user, "EX", ttl,
			       NULL);
	} else {
		g_autofree char *session =
		    cg_http_session_cookie_value(soup_message_headers_get_list(
			soup_server_message_get_request_headers(msg), "Cookie"));
		CgHttpPending *pending = cg_http_pending_new(owner, n_pending, msg, user, NULL);

		if (session == NULL || !cg_http_session_id_is_valid(session)) {
			session_deleted_cb(redis, NULL, NULL, pending);
			return;
		}
		key = cg_http_redis_session_key(session);
		cg_redis_sendv(redis, NULL, session_deleted_cb, pending, "EVAL",
			       cg_http_redis_session_delete_script, "1", key, user, NULL);
	}
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A sliding-window rate limit per key (web user): at most @limit events in
 * any @window_us. Keys whose window is empty are forgotten. */
typedef struct _CgHttpRateLimiter CgHttpRateLimiter;

CgHttpRateLimiter *cg_http_rate_limiter_new(guint limit, gint64 window_us);
void cg_http_rate_limiter_free(CgHttpRateLimiter *self);
/* Records an event for @key at @now_us when the limit allows it and returns
 * TRUE; otherwise returns FALSE with *@retry_after_s, the whole seconds until
 * the oldest event leaves the window (at least 1). */
gboolean cg_http_rate_limiter_try(CgHttpRateLimiter *self, const char *key, gint64 now_us,
				  guint *retry_after_s);
/* Forgets keys without events in the window; returns how many keys remain. */
guint cg_http_rate_limiter_prune(CgHttpRateLimiter *self, gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpRateLimiter, cg_http_rate_limiter_free)

/* Concurrent streams (SSE and WebSocket), per web user and overall. */
typedef struct _CgHttpStreamCaps CgHttpStreamCaps;

typedef enum {
	CG_HTTP_CAP_OK,
	CG_HTTP_CAP_USER_FULL,
	CG_HTTP_CAP_GLOBAL_FULL,
} CgHttpCapResult;

CgHttpStreamCaps *cg_http_stream_caps_new(guint max_total, guint max_per_user);
void cg_http_stream_caps_free(CgHttpStreamCaps *self);
CgHttpCapResult cg_http_stream_caps_acquire(CgHttpStreamCaps *self, const char *user);
void cg_http_stream_caps_release(CgHttpStreamCaps *self, const char *user);
guint cg_http_stream_caps_get_total(CgHttpStreamCaps *self);
guint cg_http_stream_caps_get_user(CgHttpStreamCaps *self, const char *user);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpStreamCaps, cg_http_stream_caps_free)

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-rate-limit.h"

G_BEGIN_DECLS

/* Per-user rate limits are common/cg-rate-limit.h's CgRateLimit, the
 * service's own. Its wait in whole seconds for Retry-After (at least 1). */
guint cg_http_retry_after_s(gint64 retry_after_us);

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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Settings of the bridge; cg_http_config_init() sets the defaults. */
typedef struct {
	char *web_root;
	char *metrics_token_hash;	/* SHA-256 hex of --metrics-token; NULL: loopback only */
	char **allow_origins;		/* NULL-terminated; NULL: no cross-origin access */
	guint header_timeout_ms;	/* a new connection must send its headers within */
	guint idle_timeout_ms;		/* a kept-alive connection may idle this long */
	guint body_timeout_ms;		/* a request body must arrive within */
	guint keepalive_ms;		/* SSE comment / WebSocket ping interval */
	guint retry_ms;			/* SSE "retry:" */
	gsize max_body_bytes;		/* request bodies (413 beyond) */
	guint max_json_depth;		/* nesting of JSON bodies (400 beyond) */
	guint streams_per_minute;	/* new SSE/WebSocket connections per web user */
	guint resumes_per_minute;	/* genuine resumes (cg-http-resume.h) per web user */
	guint resume_ttl_s;		/* a stream's events count for resumes this long */
	guint resumable_per_user;	/* ids remembered for resumes per web user */
	guint max_resumable;		/* ... and overall */
	guint starts_per_minute;	/* POST /api/certificates per web user */
	guint previews_per_minute;	/* POST /api/preview per web user */
	guint verifications_per_minute; /* GET /verify/... per client address */
	guint max_streams;		/* open streams overall (503 beyond) */
	guint max_streams_per_user;	/* open streams per web user (429 beyond) */
	guint session_ttl_s;
	guint max_sessions_per_user;
	guint max_sessions;
	char *redis_address; /* --redis: NULL without (cg-http-redis.h) */
	char *bridge_id;     /* --bridge-id, with --redis */
} CgHttpConfig;

void cg_http_config_init(CgHttpConfig *config);
/* Makes @dest a deep copy of @src (@dest is overwritten, not cleared). */
void cg_http_config_copy(CgHttpConfig *dest, const CgHttpConfig *src);
void cg_http_config_clear(CgHttpConfig *config);

G_END_DECLS

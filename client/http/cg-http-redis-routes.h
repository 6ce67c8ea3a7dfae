/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-csv.h"
#include "cg-http-pending.h"
#include "cg-http-redis-values.h"
#include "cg-http-redis.h"

G_BEGIN_DECLS

/*
 * The generation routes of a --redis bridge (README "Beyond one host"):
 * every one works on any bridge, for any generation, whichever host runs
 * it. Each reads the generation's hash first and goes on only when its
 * "user" is the web user (else the very NOT_FOUND of an unknown id), and
 * answers 503 with Retry-After while Redis is unreachable. Each ends
 * @pending.
 */

/* POST /api/certificates after the validation and the authentication:
 * the shared rate limit (certgen:rate:generation:USER), then in one MULTI
 * the hash, the user's set and the request entry; 201 {"progressId"}.
 * @csv_generations: the start came from CSV (else NULL). certgend's own
 * refusal comes later, as the generation's terminal failed event. */
void cg_http_redis_start(CgHttpRedis *redis, CgHttpPending *pending, GVariant *parameters,
			 guint per_minute, CgHttpCsvGenerations *csv_generations);

/* GET /api/certificates: the user's set, each hash (expired ids dropped
 * from the set). */
void cg_http_redis_list(CgHttpRedis *redis, CgHttpPending *pending);

/* Cancel for @user: queued -> the hash's cancel_requested, running -> a
 * cancel on the host's control stream, done -> ALREADY_FINISHED. */
typedef void (*CgHttpRedisDoneFunc)(gpointer user_data, const GError *error, guint retry_after_s);
void cg_http_redis_cancel(CgHttpRedis *redis, const char *progress_id, const char *user,
			  GCancellable *cancellable, CgHttpRedisDoneFunc func, gpointer user_data);
/* DELETE /api/certificates/progress/{id}: cg_http_redis_cancel(), 200. */
void cg_http_redis_cancel_route(CgHttpRedis *redis, CgHttpPending *pending);

/* GET .../{id}/analytics: the hash's analytics once done (NOT_READY before). */
void cg_http_redis_analytics(CgHttpRedis *redis, CgHttpPending *pending);

/* GET /api/certificates/{id}/download: certgen:gen:ID:file, named and typed
 * from the snapshot (cg-http-download.h); NOT_READY until completed. */
void cg_http_redis_download(CgHttpRedis *redis, CgHttpPending *pending);

/* The admission of a progress stream (cg_http_redis_admit_script): the
 * shared per-minute limits with the resume exemption checked against the
 * generation's hash, the shared caps. On success @member is the stream's
 * lease, already held (cg_http_redis_leases_hold()). */
typedef void (*CgHttpRedisAdmitFunc)(gpointer user_data, const char *member, const GError *error,
				     guint retry_after_s);
void cg_http_redis_admit_stream(CgHttpRedis *redis, const CgHttpRedisAdmitArgs *args,
				GCancellable *cancellable, CgHttpRedisAdmitFunc func,
				gpointer user_data);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hiredis/hiredis.h>

#include "cg-redis.h"

G_BEGIN_DECLS

/*
 * What certgen-http --redis writes to and reads from Redis, as pure
 * functions (no connection): the global ids, the values read back (never
 * trusted: README "Beyond one host"), the request parameters and the
 * arguments of the bridge's Lua scripts. The scripts themselves are here
 * too, so that the tests run them against a real redis-server.
 */

/* Key prefix of everything certgen keeps in Redis. */
#define CG_HTTP_REDIS_PREFIX "certgen:"

/* Retry-After of a 503 while Redis is unreachable. */
#define CG_HTTP_REDIS_RETRY_AFTER_S 2

/* The error of a route whose Redis command failed: unreachable or dropped
 * -> UNAVAILABLE (503) with *@retry_after_s CG_HTTP_REDIS_RETRY_AFTER_S;
 * Redis refusing the command -> FAILED (500). */
GError *cg_http_redis_route_error(const GError *redis_error, guint *retry_after_s);

/* A global progress id: 32 lowercase hex digits. */
#define CG_HTTP_REDIS_ID_LEN 32
gboolean cg_http_redis_id_is_valid(const char *id);
/* A new random global id (getrandom). */
char *cg_http_redis_id_new(void);

/* "certgen:gen:ID", "certgen:gen:ID:events", ... (@id is not checked here). */
char *cg_http_redis_gen_key(const char *id, const char *suffix);

/* The value of a reply that must be GVariant bytes of @type in normal form
 * (a snapshot, an event's "u", analytics); NULL with *@error
 * (CG_HTTP_ERROR_FAILED, naming @what) for anything else: not a string,
 * bytes that are not in normal form, the wrong type. */
GVariant *cg_http_redis_reply_variant(const redisReply *reply, const GVariantType *type,
				      const char *what, GError **error);

/* A decimal number of at most 20 digits without sign or spaces in @text
 * (@len bytes: Redis strings are not NUL-terminated in general). */
gboolean cg_http_redis_parse_u64(const char *text, gsize len, guint64 *out);
/* The sequence of an event entry id "SEQ-0"; FALSE for anything else. */
gboolean cg_http_redis_parse_event_id(const char *text, gsize len, guint64 *sequence);

/* A web user name read back from Redis (cg_http_user_name_is_valid()), as
 * a new string, or NULL. */
char *cg_http_redis_reply_user(const redisReply *reply);

/* The request's parameters (sssa{sv}) as they go into certgen:requests:
 * @parameters (StartGeneration's arguments, sss@a{sv}) without the option
 * owner_label (the relay adds the user's); floating refs are sunk. */
GVariant *cg_http_redis_request_params(GVariant *parameters);

/* A snapshot for a generation still queued (no host has published yet):
 * progress_id @id, sequence 0, status "queued", progress 0. */
GVariant *cg_http_redis_queued_snapshot(const char *id, gint64 created_ms);

/*
 * The sliding-window rate limit, shared by every bridge (KEYS[1] the sorted
 * set certgen:rate:KIND:USER; ARGV limit, window ms, a unique member):
 * expired members dropped, then either the event is added (reply {1, 0}) or
 * refused (reply {0, ms until the oldest event leaves the window}). Redis's
 * own clock (TIME), so bridges with skewed clocks still agree.
 */
extern const char cg_http_redis_rate_script[];
/* EVAL cg_http_redis_rate_script 1 certgen:rate:@kind:@user @limit
 * @window_ms @member. */
CgRedisCommand *cg_http_redis_rate_command(const char *kind, const char *user, guint limit,
					   guint window_ms, const char *member);
/* The reply of either limit script: TRUE when admitted; otherwise
 * *@wait_ms. FALSE with *@wait_ms 0 and *@bad for a reply that is not
 * {integer, integer}. */
gboolean cg_http_redis_rate_reply(const redisReply *reply, guint64 *wait_ms, gboolean *bad);

/*
 * Admission of a progress stream, in one script: the resume exemption
 * (KEYS[5] = the generation's hash: its user is ARGV[8] and its last_seq at
 * least ARGV[9]: the events exist and are the user's: then the resume limit
 * KEYS[2], else the stream limit KEYS[1]), then the caps on open streams:
 * leased members of KEYS[3] (certgen:streams:USER) and KEYS[4]
 * (certgen:streams, every user), expired leases dropped first. Reply
 * {code, wait_ms}: code CG_HTTP_REDIS_ADMIT_*.
 */
typedef enum {
	CG_HTTP_REDIS_ADMIT_OK = 0,
	CG_HTTP_REDIS_ADMIT_STREAM_RATE = 1,
	CG_HTTP_REDIS_ADMIT_RESUME_RATE = 2,
	CG_HTTP_REDIS_ADMIT_USER_FULL = 3,
	CG_HTTP_REDIS_ADMIT_ALL_FULL = 4,
} CgHttpRedisAdmit;

extern const char cg_http_redis_admit_script[];

typedef struct {
	const char *user;
	const char *progress_id;
	gboolean resume;    /* Last-Event-ID / lastEventId given */
	guint64 since;	    /* ... and its value */
	const char *member; /* the stream's lease member BRIDGE:N */
	guint streams_per_minute;
	guint resumes_per_minute;
	guint max_per_user;
	guint max_total;
	guint lease_ms;
} CgHttpRedisAdmitArgs;

CgRedisCommand *cg_http_redis_admit_command(const CgHttpRedisAdmitArgs *args);
/* The code of the reply, CG_HTTP_REDIS_ADMIT_*, with *@wait_ms; -1 for a
 * reply of any other shape. */
int cg_http_redis_admit_reply(const redisReply *reply, guint64 *wait_ms);

/* Re-lease: KEYS[1] certgen:streams:USER, KEYS[2] certgen:streams; ARGV
 * lease ms then the members: each gets Redis's TIME + lease as score. */
extern const char cg_http_redis_lease_script[];

/* A session's user: KEYS[1] the session key, KEYS[2] certgen:token-users
 * (the users with a token, published with certgen:tokens); a session of a
 * user who has no token any more is deleted and unknown, as without
 * Redis. */
extern const char cg_http_redis_session_lookup_script[];

/* DELETE /api/session: KEYS[1] the session key, ARGV[1] the user; deleted
 * only when the session is that user's. */
extern const char cg_http_redis_session_delete_script[];

G_END_DECLS

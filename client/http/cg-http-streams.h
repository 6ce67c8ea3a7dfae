/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-config.h"

G_BEGIN_DECLS

/* The registry of progress streams (SSE and WebSocket): the per-minute
 * limits on new streams and on genuine resumes, the concurrency caps (one
 * slot per open stream, per web user and overall), the open streams with
 * how to end each at shutdown, and which events each web user was sent
 * (what makes a later resume genuine, cg-http-resume.h). */
typedef struct _CgHttpStreams CgHttpStreams;

typedef void (*CgHttpStreamShutdownFunc)(gpointer stream);

/* The limits are those of @config. */
CgHttpStreams *cg_http_streams_new(const CgHttpConfig *config);
void cg_http_streams_free(CgHttpStreams *self);

/* The per-minute stream limit for a new stream of @progress_id at @now_us.
 * A genuine resume — @user was sent events of @progress_id up to @since —
 * counts against the (higher) resume limit instead; any other claimed
 * Last-Event-ID / lastEventId counts as a new stream. FALSE with *@error
 * (RATE_LIMITED) and *@retry_after_s when over the limit. */
gboolean cg_http_streams_check_rate(CgHttpStreams *self, const char *user, const char *progress_id,
				    gboolean have_since, guint64 since, gint64 now_us,
				    guint *retry_after_s, GError **error);

/* Takes a stream slot for @user; FALSE with *@error (TOO_MANY_STREAMS: 429,
 * OVERLOADED: 503) and *@retry_after_s when full. */
gboolean cg_http_streams_acquire_slot(CgHttpStreams *self, const char *user, guint *retry_after_s,
				      GError **error);
/* Releases a slot taken but never registered. */
void cg_http_streams_release_slot(CgHttpStreams *self, const char *user);

/* Registers an open @stream of @user whose slot is held. */
void cg_http_streams_add(CgHttpStreams *self, gpointer stream, const char *user,
			 CgHttpStreamShutdownFunc shutdown_func);
/* Unregisters @stream (when registered) and releases its slot. */
void cg_http_streams_remove(CgHttpStreams *self, gpointer stream);
guint cg_http_streams_get_n_open(CgHttpStreams *self);
/* Calls every open stream's shutdown function (which may remove it). */
void cg_http_streams_shutdown_all(CgHttpStreams *self);

/* A stream sent @user the event @sequence of @progress_id. */
void cg_http_streams_note_sent(CgHttpStreams *self, const char *user, const char *progress_id,
			       guint64 sequence);

/* --redis: every open stream also holds a lease on the shared caps
 * (cg-http-redis-leases.h). The lease handed here is taken by the next
 * cg_http_streams_add() and given back with @release when that stream is
 * removed; one handed but never taken (the stream did not start) is given
 * back by cg_http_streams_drop_handed_lease(). */
typedef void (*CgHttpStreamLeaseFunc)(gpointer data, const char *member);
void cg_http_streams_set_lease_release(CgHttpStreams *self, CgHttpStreamLeaseFunc release,
				       gpointer data);
void cg_http_streams_hand_lease(CgHttpStreams *self, const char *member);
void cg_http_streams_drop_handed_lease(CgHttpStreams *self);

/* Forgets what the limits and the resume table no longer need. */
void cg_http_streams_prune(CgHttpStreams *self, gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpStreams, cg_http_streams_free)

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Resuming a progress stream: an SSE reconnect's Last-Event-ID, a
 * WebSocket's ?lastEventId=. One set of rules for both:
 *  - the value is a decimal event sequence (cg_http_resume_parse_id);
 *  - a resume is exempt from the per-minute stream limit only when this web
 *    user really was sent events of that id recently, up to at least that
 *    sequence (CgHttpResumeTable); any other counts as a new stream;
 *  - whatever is claimed, the stream delivers the current state and the
 *    terminal event unless the client has already seen that terminal event
 *    (cg_http_resume_plan).
 */

/* The sequence of a Last-Event-ID header or lastEventId parameter: decimal
 * digits (leading spaces allowed), 0 … G_MAXUINT64. FALSE for anything else
 * (NULL included). */
gboolean cg_http_resume_parse_id(const char *text, guint64 *out);

/* The lastEventId parameter of a URI query ("a=b&lastEventId=7"). */
gboolean cg_http_resume_parse_query(const char *query, guint64 *out);

typedef enum {
	CG_HTTP_RESUME_FROM_START, /* send the snapshot and everything after it */
	CG_HTTP_RESUME_AFTER,	   /* send what comes after @since */
	CG_HTTP_RESUME_UP_TO_DATE, /* the client has the terminal event: send nothing */
} CgHttpResumePlan;

/* What a stream that resumes after @since (when @resume) sends once the
 * generation's snapshot (@sequence, @terminal) is known. A @since above
 * @sequence names an event that never existed: from the start. */
CgHttpResumePlan cg_http_resume_plan(gboolean resume, guint64 since, guint64 sequence,
				     gboolean terminal);

/* Which ids each web user was sent events of, and up to which sequence.
 * Bounded: at most @max_per_user ids per user (the least recently sent
 * forgotten first) and @max_total overall; entries expire @ttl_us after
 * their last event. */
typedef struct _CgHttpResumeTable CgHttpResumeTable;

CgHttpResumeTable *cg_http_resume_table_new(guint max_per_user, guint max_total, gint64 ttl_us);
void cg_http_resume_table_free(CgHttpResumeTable *self);
/* @user was sent the event @sequence of @progress_id at @now_us. */
void cg_http_resume_table_note(CgHttpResumeTable *self, const char *user, const char *progress_id,
			       guint64 sequence, gint64 now_us);
/* TRUE when @user was sent events of @progress_id up to @since or beyond
 * within the expiry. */
gboolean cg_http_resume_table_check(CgHttpResumeTable *self, const char *user,
				    const char *progress_id, guint64 since, gint64 now_us);
/* Forgets expired entries; returns how many remain. */
guint cg_http_resume_table_prune(CgHttpResumeTable *self, gint64 now_us);
guint cg_http_resume_table_get_size(CgHttpResumeTable *self);
guint cg_http_resume_table_get_user_size(CgHttpResumeTable *self, const char *user);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpResumeTable, cg_http_resume_table_free)

G_END_DECLS

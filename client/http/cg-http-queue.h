/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-frame.h"

G_BEGIN_DECLS

/* The frames one stream has not handed to its connection yet. Bounded: at
 * most CG_HTTP_QUEUE_MAX frames. A push onto a full queue coalesces it to
 * the latest state: the queued frames (never terminal: nothing follows the
 * terminal event) are dropped and the new one is kept, so a slow client
 * jumps to the newest update instead of holding memory or other streams
 * back. Sequences stay increasing (frames older than the newest queued or
 * sent are refused) and the terminal frame is never dropped. Embedded in
 * the stream; zero-filled is empty. */
#define CG_HTTP_QUEUE_MAX 4

/* Replayed frames (events a resuming stream missed, read back from Redis:
 * cg_http_queue_push_replayed) are never coalesced: what does not fit the
 * queue waits in a backlog, in order, and live frames pushed meanwhile are
 * coalesced into one frame that follows the backlog. The backlog is
 * bounded by the replay (at most CG_HTTP_REDIS_FEED_REPLAY_MAX events). */
typedef struct {
	CgHttpFrame *frames[CG_HTTP_QUEUE_MAX];
	GQueue *backlog;    /* replayed frames after frames[], or NULL */
	CgHttpFrame *after; /* the newest live frame pushed while backlog, or NULL */
	guint8 len;
	gboolean terminal; /* the terminal frame was pushed: nothing more is taken */
	guint64 last;	   /* the newest sequence pushed */
	guint dropped;	   /* frames dropped by coalescing */
} CgHttpQueue;

/* Queues a reference to @frame; FALSE (nothing queued) when it is not newer
 * than the last frame pushed or comes after the terminal one. Frames
 * without an id (sequence 0) are always taken unless after the terminal. */
gboolean cg_http_queue_push(CgHttpQueue *self, CgHttpFrame *frame);
/* The same for a replayed frame: never dropped. */
gboolean cg_http_queue_push_replayed(CgHttpQueue *self, CgHttpFrame *frame);
/* The oldest queued frame (transfer full), NULL when empty. */
CgHttpFrame *cg_http_queue_pop(CgHttpQueue *self);
guint cg_http_queue_get_length(const CgHttpQueue *self);
void cg_http_queue_clear(CgHttpQueue *self);

G_END_DECLS

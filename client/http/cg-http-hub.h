/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-bus.h"
#include "cg-http-follow.h"
#include "cg-http-frame.h"

G_BEGIN_DECLS

/* The fan-out of progress streams (design at the top of cg-http-hub.c):
 * every stream (SSE or WebSocket) of one web user on one generation is a
 * member of one hub, which follows the generation once (CgHttpFollow: one
 * watch, one owner check, one Subscribe) and hands each update to every
 * member as one shared CgHttpFrame. */
typedef struct _CgHttpHubs CgHttpHubs;
typedef struct _CgHttpHubMember CgHttpHubMember;

/* What a member is told, in this order: READY once with the latest state
 * (@frame: the snapshot, or the newest update when the member joined a
 * followed generation), then FRAME for every newer frame; or FAILED (the
 * owner check or Subscribe failed: foreign and unknown ids alike NOT_FOUND;
 * @error, @retry_after_s) or VANISHED (certgend left the bus). KEEPALIVE
 * comes to ready members from the one keep-alive timer of all hubs. Nothing
 * comes after cg_http_hub_leave(). */
typedef enum {
	CG_HTTP_HUB_READY,
	CG_HTTP_HUB_FRAME,
	CG_HTTP_HUB_FAILED,
	CG_HTTP_HUB_VANISHED,
	CG_HTTP_HUB_KEEPALIVE,
} CgHttpHubEvent;

typedef struct {
	CgHttpHubEvent event;
	CgHttpFrame *frame;
	gboolean replayed; /* @frame is a stored event a resuming member missed */
	const GError *error;
	guint retry_after_s;
} CgHttpHubNotice;

typedef void (*CgHttpHubFunc)(gpointer user_data, const CgHttpHubNotice *notice);

/* An update as a stream sends it (cg_http_stream_context_update_json). */
typedef char *(*CgHttpHubJsonFunc)(gpointer data, const char *progress_id, GVariant *update);

CgHttpHubs *cg_http_hubs_new(CgHttpBus *bus, guint keepalive_ms, CgHttpHubJsonFunc json_func,
			     gpointer json_data);
/* Where hubs started from now on follow their generation: @start returns
 * the follow (CgHttpFollowFuncs, as cg_http_follow_start() does), @stop
 * ends it. Without this, certgend on @bus (CgHttpFollow); with --redis,
 * Redis (cg-http-redis-feed.h). */
typedef gpointer (*CgHttpHubStartFunc)(gpointer data, const char *progress_id, const char *user,
				       const CgHttpFollowFuncs *funcs, gpointer user_data);
void cg_http_hubs_set_source(CgHttpHubs *self, CgHttpHubStartFunc start, GDestroyNotify stop,
			     gpointer data);
/* A source that keeps the events (--redis): @replay hands @done the
 * updates of @progress_id with a sequence above @after and below @before,
 * oldest first (a GPtrArray of GVariant, possibly empty), from the main
 * loop and never once @cancellable is cancelled. A member that resumes
 * (cg_http_hubs_join_after()) then gets them before the newest state:
 * READY with the first, FRAME with the others and the newest. Without a
 * replay function, a resuming member gets the newest state only. */
typedef void (*CgHttpHubReplayDone)(gpointer user_data, GPtrArray *updates);
typedef void (*CgHttpHubReplayFunc)(gpointer data, const char *progress_id, guint64 after,
				    guint64 before, GCancellable *cancellable,
				    CgHttpHubReplayDone done, gpointer user_data);
void cg_http_hubs_set_replay(CgHttpHubs *self, CgHttpHubReplayFunc replay, gpointer data);
/* Only once every member has left. */
void cg_http_hubs_free(CgHttpHubs *self);
/* The hubs that new streams can join (generations being followed). */
guint cg_http_hubs_get_n_hubs(CgHttpHubs *self);
guint cg_http_hubs_get_n_members(CgHttpHubs *self);

/* Joins (or starts) the hub of @progress_id for @user. The callbacks run
 * later, from the main loop, never from inside this call. */
CgHttpHubMember *cg_http_hubs_join(CgHttpHubs *self, const char *progress_id, const char *user,
				   CgHttpHubFunc func, gpointer user_data);
/* The same for a stream that resumes after the event @since (when @resume:
 * Last-Event-ID, lastEventId): with a replay function, the stored events
 * after @since come first. */
CgHttpHubMember *cg_http_hubs_join_after(CgHttpHubs *self, const char *progress_id,
					 const char *user, gboolean resume, guint64 since,
					 CgHttpHubFunc func, gpointer user_data);
/* Leaves; the hub is released with its last member. NULL is ignored. */
void cg_http_hub_leave(CgHttpHubMember *member);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpHubs, cg_http_hubs_free)

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bridge's fan-out of progress streams.
 *
 * One hub per followed generation and web user, keyed by progress id and
 * user: it holds one CgHttpFollow (one signal watch, one owner check, one
 * Subscribe and GetProgress) however many streams follow the generation.
 * A stream of the same web user joins the hub and is admitted on the owner
 * check the hub already passed, answered from the hub's latest frame with
 * no D-Bus round trip. A stream of another web user never joins that hub:
 * it gets a hub (and an owner check) of its own, which fails with the very
 * NOT_FOUND of an unknown id, exactly as before the hubs.
 *
 * An update that arrives late (the bridge is behind) is handed out on the
 * next main loop iteration, the newest of those that arrived meanwhile: a
 * bridge that falls behind coalesces instead of building a backlog (the
 * terminal frame is never skipped). Each update
 * is serialized once, into a reference-counted CgHttpFrame
 * (its JSON, which is also the WebSocket payload, and its SSE event, made
 * on first use), and every member gets a reference, never a copy. The
 * members (cg-http-sse.c, cg-http-ws.c) keep their own bounded queue
 * (cg-http-queue.h) so that a slow client coalesces to the latest state and
 * never holds the others back (an SSE stream writes its connection itself,
 * taken over from libsoup after the headers; a WebSocket hands libsoup a
 * frame only while the kernel has room); sequences stay increasing per stream and the
 * terminal frame is never dropped; Last-Event-ID is applied per member
 * (cg-http-resume.h) to the frame it is first handed.
 *
 * Life: the hub leaves the table (new streams start a new one) when the
 * follow failed, when certgend vanished (every member is told, as before)
 * and after the terminal frame (a later stream asks certgend again, which
 * knows whether the generation still exists); it is freed when its last
 * member leaves. One keep-alive timer serves every member of every hub,
 * running only while there are members (WebSockets use its tick to retry
 * their queue).
 */
#include "cg-http-hub.h"

#include "cg-http-deferred.h"
#include "cg-http-follow.h"

/* An update older than this when it reaches the hub (certgend's
 * timestamp_us) means the bridge is behind: coalesce. */
#define CG_HTTP_HUB_LATE_US (100 * G_TIME_SPAN_MILLISECOND)

typedef struct _CgHttpHub CgHttpHub;

struct _CgHttpHubMember {
	GList link; /* in hub->members, hub->waiting before READY, or
		     * hub->replaying while its replay is fetched */
	CgHttpHub *hub;
	CgHttpHubFunc func;
	gpointer user_data;
	gboolean told_ready;
	gboolean left; /* left during a dispatch: unlinked once it is over */
	gboolean resume;
	guint64 since;
	GCancellable *replay; /* non-NULL: in hub->replaying */
};

struct _CgHttpHub {
	CgHttpHubs *hubs;
	char *key; /* NULL once out of the table */
	char *progress_id;
	gpointer follow; /* the source's (CgHttpFollow without --redis) */
	GDestroyNotify follow_stop;
	gboolean ready;
	CgHttpFrame *latest;
	GQueue members;		   /* CgHttpHubMember told READY, by link */
	GQueue waiting;		   /* CgHttpHubMember not told READY yet: telling
				    * them never walks the others (N joins: N, not
				    * N² steps) */
	GQueue replaying;	   /* CgHttpHubMember whose replay is on its way */
	guint dispatching;	   /* the members list is being walked */
	guint ready_id;		   /* idle: tell new members of a ready hub */
	CgHttpDeferredItem fanout; /* queued: hand @latest to the members */
};

struct _CgHttpHubs {
	CgHttpBus *bus;
	guint keepalive_ms;
	CgHttpHubJsonFunc json_func;
	gpointer json_data;
	GHashTable *table;	 /* key -> CgHttpHub */
	GPtrArray *all;		 /* every hub with members, in the table or not */
	CgHttpDeferred *fanouts; /* hubs with an update for their members */
	guint n_members;
	guint keepalive_id;
	CgHttpHubReplayFunc replay;
	gpointer replay_data;
	CgHttpHubStartFunc source_start; /* NULL: CgHttpFollow on @bus */
	GDestroyNotify source_stop;
	gpointer source_data;
};

static char *
hub_key(const char *progress_id, const char *user)
{
	return g_strconcat(progress_id, "/", user, NULL);
}

static void
hub_untable(CgHttpHub *hub)
{
	if (hub->key == NULL)
		return;
	g_hash_table_remove(hub->hubs->table, hub->key);
	g_clear_pointer(&hub->key, g_free);
}

static void
hub_free(CgHttpHub *hub)
{
	hub_untable(hub);
	g_ptr_array_remove_fast(hub->hubs->all, hub);
	if (hub->follow != NULL)
		hub->follow_stop(g_steal_pointer(&hub->follow));
	g_clear_handle_id(&hub->ready_id, g_source_remove);
	cg_http_deferred_cancel(hub->hubs->fanouts, &hub->fanout);
	g_clear_pointer(&hub->latest, cg_http_frame_unref);
	g_free(hub->progress_id);
	g_free(hub);
}

static GQueue *
member_queue(CgHttpHubMember *member)
{
	if (member->replay != NULL)
		return &member->hub->replaying;
	return member->told_ready ? &member->hub->members : &member->hub->waiting;
}

static void
member_free(CgHttpHubMember *member)
{
	CgHttpHubs *hubs = member->hub->hubs;

	g_queue_unlink(member_queue(member), &member->link);
	if (member->replay != NULL) {
		g_cancellable_cancel(member->replay);
		g_clear_object(&member->replay);
	}
	g_free(member);
	if (--hubs->n_members == 0)
		g_clear_handle_id(&hubs->keepalive_id, g_source_remove);
}

static gboolean
hub_is_empty(CgHttpHub *hub)
{
	return hub->members.length == 0 && hub->waiting.length == 0 && hub->replaying.length == 0;
}

static void
free_left(GQueue *queue)
{
	GList *next;

	for (GList *l = queue->head; l != NULL; l = next) {
		CgHttpHubMember *member = l->data;

		next = l->next;
		if (member->left)
			member_free(member);
	}
}

/* Walking the members: leaving ones are only marked, the hub kept. */
static void
dispatch_begin(CgHttpHub *hub)
{
	hub->dispatching++;
}

static void
dispatch_end(CgHttpHub *hub)
{
	if (--hub->dispatching > 0)
		return;
	free_left(&hub->members);
	free_left(&hub->waiting);
	free_left(&hub->replaying);
	if (hub_is_empty(hub))
		hub_free(hub);
}

static gboolean member_needs_replay(CgHttpHubMember *member, CgHttpFrame *latest);
static void member_start_replay(CgHttpHubMember *member);

static void
emit_to(GQueue *queue, const CgHttpHubNotice *notice)
{
	for (GList *l = queue->head; l != NULL; l = l->next) {
		CgHttpHubMember *member = l->data;

		if (!member->left)
			member->func(member->user_data, notice);
	}
}

/* Tells the members what @notice says: READY those not told yet (they
 * join the told ones), FRAME and KEEPALIVE those told, FAILED and
 * VANISHED all. */
static void
hub_emit(CgHttpHub *hub, const CgHttpHubNotice *notice)
{
	dispatch_begin(hub);
	if (notice->event == CG_HTTP_HUB_READY) {
		/* those joining meanwhile wait for the next READY */
		GQueue batch = hub->waiting;
		GList *link;

		g_queue_init(&hub->waiting);
		while ((link = g_queue_pop_head_link(&batch)) != NULL) {
			CgHttpHubMember *member = link->data;

			if (!member->left && member_needs_replay(member, notice->frame)) {
				g_queue_push_tail_link(&hub->replaying, link);
				member_start_replay(member);
				continue;
			}
			member->told_ready = TRUE;
			g_queue_push_tail_link(&hub->members, link);
			if (!member->left)
				member->func(member->user_data, notice);
		}
	} else if (notice->event == CG_HTTP_HUB_FRAME || notice->event == CG_HTTP_HUB_KEEPALIVE) {
		/* the waiting ones get the latest with READY */
		emit_to(&hub->members, notice);
	} else {
		emit_to(&hub->replaying, notice);
		emit_to(&hub->waiting, notice);
		emit_to(&hub->members, notice);
	}
	dispatch_end(hub);
}

static void
tell_ready(gpointer user_data)
{
	CgHttpHub *hub = user_data;
	CgHttpHubNotice notice = {.event = CG_HTTP_HUB_READY, .frame = hub->latest};

	hub->ready_id = 0;
	hub_emit(hub, &notice);
}

static gboolean
tell_ready_cb(gpointer user_data)
{
	tell_ready(user_data);
	return G_SOURCE_REMOVE;
}

static CgHttpFrame *
hub_frame(CgHttpHub *hub, GVariant *update)
{
	CgHttpHubs *hubs = hub->hubs;
	CgHttpFrame *frame;
	gint64 timestamp_us = 0;

	frame = cg_http_frame_new(cg_http_update_get_sequence(update), TRUE,
				  cg_http_update_is_terminal(update),
				  hubs->json_func(hubs->json_data, hub->progress_id, update));
	if (g_variant_lookup(update, "timestamp_us", "x", &timestamp_us))
		cg_http_frame_set_timestamp_us(frame, timestamp_us);
	return frame;
}

/* ---- replays (--redis) --------------------------------------------------------------- */

/* A member resuming after @since when the newest state is @latest: the
 * events in between are worth fetching (at least one). */
static gboolean
member_needs_replay(CgHttpHubMember *member, CgHttpFrame *latest)
{
	return member->hub->hubs->replay != NULL && member->resume && latest != NULL &&
	       member->since > 0 && cg_http_frame_get_sequence(latest) > member->since + 1;
}

static void
replayed_cb(gpointer user_data, GPtrArray *updates)
{
	CgHttpHubMember *member = user_data;
	CgHttpHub *hub = member->hub;
	g_autoptr(CgHttpFrame) latest = cg_http_frame_ref(hub->latest);
	guint64 before = cg_http_frame_get_sequence(latest);
	gboolean told = FALSE;

	g_clear_object(&member->replay);
	/* told READY from here on: among the members */
	g_queue_unlink(&hub->replaying, &member->link);
	member->told_ready = TRUE;
	g_queue_push_tail_link(&hub->members, &member->link);
	dispatch_begin(hub);
	for (guint i = 0; updates != NULL && i < updates->len && !member->left; i++) {
		GVariant *update = updates->pdata[i];
		guint64 sequence = cg_http_update_get_sequence(update);
		g_autoptr(CgHttpFrame) frame = NULL;
		CgHttpHubNotice notice = {.event = told ? CG_HTTP_HUB_FRAME : CG_HTTP_HUB_READY,
					  .replayed = TRUE};

		if (sequence <= member->since || sequence >= before)
			continue;
		notice.frame = frame = hub_frame(hub, update);
		member->func(member->user_data, &notice);
		told = TRUE;
	}
	if (!member->left) {
		CgHttpHubNotice notice = {.event = told ? CG_HTTP_HUB_FRAME : CG_HTTP_HUB_READY,
					  .frame = latest};

		member->func(member->user_data, &notice);
	}
	dispatch_end(hub);
}

static void
member_start_replay(CgHttpHubMember *member)
{
	CgHttpHub *hub = member->hub;
	CgHttpHubs *hubs = hub->hubs;

	member->replay = g_cancellable_new();
	hubs->replay(hubs->replay_data, hub->progress_id, member->since,
		     cg_http_frame_get_sequence(hub->latest), member->replay, replayed_cb, member);
}

/* The latest state is @update; after the terminal one no stream joins. */
static void
hub_set_latest(CgHttpHub *hub, GVariant *update)
{
	g_clear_pointer(&hub->latest, cg_http_frame_unref);
	hub->latest = hub_frame(hub, update);
	if (cg_http_frame_is_terminal(hub->latest))
		hub_untable(hub);
}

static void
follow_ready_cb(gpointer user_data, GVariant *snapshot)
{
	CgHttpHub *hub = user_data;

	hub->ready = TRUE;
	hub_set_latest(hub, snapshot);
	tell_ready(hub);
}

/* Hands the latest frame to the members. */
static void
fanout_cb(gpointer user_data)
{
	CgHttpHub *hub = user_data;
	g_autoptr(CgHttpFrame) frame = NULL;
	CgHttpHubNotice notice = {.event = CG_HTTP_HUB_FRAME};

	/* the hub may go with its last member while they are told */
	notice.frame = frame = cg_http_frame_ref(hub->latest);
	hub_emit(hub, &notice);
}

/* An update pending for the members goes out now (before a failure). */
static void
fanout_flush(CgHttpHub *hub)
{
	if (!cg_http_deferred_is_queued(&hub->fanout))
		return;
	cg_http_deferred_cancel(hub->hubs->fanouts, &hub->fanout);
	fanout_cb(hub);
}

/* certgend stamped @frame longer ago than CG_HTTP_HUB_LATE_US. */
static gboolean
frame_is_late(CgHttpFrame *frame)
{
	gint64 stamped = cg_http_frame_get_timestamp_us(frame);

	return stamped > 0 && g_get_real_time() - stamped > CG_HTTP_HUB_LATE_US;
}

/* Handed out at once while the bridge keeps up. When it falls behind
 * (thousands of members to write to, on a busy machine: the update arrives
 * late), not from here but on the next iteration, once for all the updates
 * that arrived meanwhile: the signals waiting in the main context coalesce
 * to the newest state instead of each one being written to every member,
 * late (a backlog that only grows). Every member gets the newest frame;
 * the terminal one is never skipped. */
static void
follow_update_cb(gpointer user_data, GVariant *update)
{
	CgHttpHub *hub = user_data;

	hub_set_latest(hub, update);
	/* a pending fan-out takes the newest */
	if (cg_http_deferred_is_queued(&hub->fanout))
		return;
	if (frame_is_late(hub->latest)) {
		cg_http_deferred_queue(hub->hubs->fanouts, &hub->fanout, fanout_cb, hub);
		return;
	}
	fanout_cb(hub);
}

static void
follow_failed_cb(gpointer user_data, const GError *error, guint retry_after_s)
{
	CgHttpHubNotice notice = {
	    .event = CG_HTTP_HUB_FAILED, .error = error, .retry_after_s = retry_after_s};

	/* the hub stays while the pending update and this are told */
	dispatch_begin(user_data);
	fanout_flush(user_data);
	hub_untable(user_data);
	hub_emit(user_data, &notice);
	dispatch_end(user_data);
}

static void
follow_vanished_cb(gpointer user_data)
{
	CgHttpHubNotice notice = {.event = CG_HTTP_HUB_VANISHED};

	/* the hub stays while the pending update and this are told */
	dispatch_begin(user_data);
	fanout_flush(user_data);
	hub_untable(user_data);
	hub_emit(user_data, &notice);
	dispatch_end(user_data);
}

static const CgHttpFollowFuncs hub_follow_funcs = {
    .ready = follow_ready_cb,
    .update = follow_update_cb,
    .failed = follow_failed_cb,
    .vanished = follow_vanished_cb,
};

static gboolean
keepalive_cb(gpointer user_data)
{
	CgHttpHubs *self = user_data;
	g_autoptr(GPtrArray) hubs = g_ptr_array_copy(self->all, NULL, NULL);
	CgHttpHubNotice notice = {.event = CG_HTTP_HUB_KEEPALIVE};

	/* no hub goes while the others are told */
	for (guint i = 0; i < hubs->len; i++)
		dispatch_begin(hubs->pdata[i]);
	for (guint i = 0; i < hubs->len; i++)
		hub_emit(hubs->pdata[i], &notice);
	for (guint i = 0; i < hubs->len; i++)
		dispatch_end(hubs->pdata[i]);
	/* the timer may have gone with the last member */
	return self->keepalive_id != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

CgHttpHubs *
cg_http_hubs_new(CgHttpBus *bus, guint keepalive_ms, CgHttpHubJsonFunc json_func,
		 gpointer json_data)
{
	CgHttpHubs *self = g_new0(CgHttpHubs, 1);

	self->bus = g_object_ref(bus);
	self->keepalive_ms = MAX(keepalive_ms, 10u);
	self->json_func = json_func;
	self->json_data = json_data;
	self->all = g_ptr_array_new();
	/* the default priority, like the signals it coalesces: below them
	 * (an idle) a stream following a fast generation would see only a
	 * fraction of its updates */
	self->fanouts = cg_http_deferred_new(G_PRIORITY_DEFAULT);
	self->table = g_hash_table_new(g_str_hash, g_str_equal);
	return self;
}

void
cg_http_hubs_free(CgHttpHubs *self)
{
	if (self == NULL)
		return;
	/* every stream holds the context, which owns the hubs */
	g_warn_if_fail(self->n_members == 0 && self->all->len == 0);
	g_clear_handle_id(&self->keepalive_id, g_source_remove);
	g_clear_pointer(&self->fanouts, cg_http_deferred_free);
	g_clear_pointer(&self->table, g_hash_table_unref);
	g_clear_pointer(&self->all, g_ptr_array_unref);
	g_clear_object(&self->bus);
	g_free(self);
}

void
cg_http_hubs_set_source(CgHttpHubs *self, CgHttpHubStartFunc start, GDestroyNotify stop,
			gpointer data)
{
	self->source_start = start;
	self->source_stop = stop;
	self->source_data = data;
}

guint
cg_http_hubs_get_n_hubs(CgHttpHubs *self)
{
	return g_hash_table_size(self->table);
}

guint
cg_http_hubs_get_n_members(CgHttpHubs *self)
{
	return self->n_members;
}

void
cg_http_hubs_set_replay(CgHttpHubs *self, CgHttpHubReplayFunc replay, gpointer data)
{
	self->replay = replay;
	self->replay_data = data;
}

CgHttpHubMember *
cg_http_hubs_join(CgHttpHubs *self, const char *progress_id, const char *user, CgHttpHubFunc func,
		  gpointer user_data)
{
	return cg_http_hubs_join_after(self, progress_id, user, FALSE, 0, func, user_data);
}

CgHttpHubMember *
cg_http_hubs_join_after(CgHttpHubs *self, const char *progress_id, const char *user,
			gboolean resume, guint64 since, CgHttpHubFunc func, gpointer user_data)
{
	g_autofree char *key = hub_key(progress_id, user);
	CgHttpHub *hub = g_hash_table_lookup(self->table, key);
	CgHttpHubMember *member = g_new0(CgHttpHubMember, 1);
	gboolean fresh = hub == NULL;

	if (fresh) {
		hub = g_new0(CgHttpHub, 1);
		hub->hubs = self;
		hub->key = g_steal_pointer(&key);
		hub->progress_id = g_strdup(progress_id);
		g_queue_init(&hub->members);
		g_queue_init(&hub->waiting);
		g_queue_init(&hub->replaying);
		g_hash_table_insert(self->table, hub->key, hub);
		g_ptr_array_add(self->all, hub);
	}
	member->hub = hub;
	member->func = func;
	member->user_data = user_data;
	member->resume = resume;
	member->since = since;
	member->link.data = member;
	g_queue_push_tail_link(&hub->waiting, &member->link);
	if (self->n_members++ == 0)
		self->keepalive_id = g_timeout_add(self->keepalive_ms, keepalive_cb, self);
	if (fresh && self->source_start != NULL) {
		/* its callbacks come from Redis replies, never from here */
		hub->follow_stop = self->source_stop;
		hub->follow = self->source_start(self->source_data, progress_id, user,
						 &hub_follow_funcs, hub);
	} else if (fresh) {
		/* its callbacks come from D-Bus replies, never from here */
		hub->follow_stop = (GDestroyNotify)cg_http_follow_stop;
		hub->follow =
		    cg_http_follow_start(self->bus, progress_id, user, &hub_follow_funcs, hub);
	} else if (hub->ready && hub->ready_id == 0)
		/* the default priority: an idle one waits while the loop is
		 * busy, and a generation with 10,000 streams keeps it busy (a
		 * joining stream waited seconds for its first bytes) */
		hub->ready_id = g_idle_add_full(G_PRIORITY_DEFAULT, tell_ready_cb, hub, NULL);
	return member;
}

void
cg_http_hub_leave(CgHttpHubMember *member)
{
	CgHttpHub *hub;

	if (member == NULL || member->left)
		return;
	hub = member->hub;
	member->left = TRUE;
	if (hub->dispatching > 0)
		return;
	member_free(member);
	if (hub_is_empty(hub))
		hub_free(hub);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Calls to make on the next main loop iteration, all through one GSource.
 * A g_idle_add() per call would put one GSource per waiting item into the
 * main context, which walks every source on each iteration: with
 * thousands of streams connecting at once (each waits for its connection
 * to be taken over, cg-http-sse.c) that costs every iteration a walk over
 * all of them. Here the items wait in one list, in order; one source runs
 * those queued before it started (items queued meanwhile wait for the next
 * iteration, so a call that queues again cannot starve the loop). An item
 * is embedded in its owner and can be cancelled in O(1), also while the
 * batch it is in is being run. Main thread only. */
typedef struct _CgHttpDeferred CgHttpDeferred;

typedef void (*CgHttpDeferredFunc)(gpointer owner);

/* Zero-filled is idle. */
typedef struct {
	GList link;    /* in the queue it waits in; data: the owner */
	GQueue *queue; /* NULL: not queued */
	CgHttpDeferredFunc func;
} CgHttpDeferredItem;

/* @priority: of the one source (G_PRIORITY_DEFAULT: on the next
 * iteration however busy the loop is; lower: only when nothing of higher
 * priority is ready). */
CgHttpDeferred *cg_http_deferred_new(int priority);
/* Drops what is queued without calling it. NULL is ignored. */
void cg_http_deferred_free(CgHttpDeferred *self);
/* @func(@owner) on the next iteration; nothing when @item is queued
 * already. */
void cg_http_deferred_queue(CgHttpDeferred *self, CgHttpDeferredItem *item, CgHttpDeferredFunc func,
			    gpointer owner);
/* No call for @item (nothing when it is not queued). */
void cg_http_deferred_cancel(CgHttpDeferred *self, CgHttpDeferredItem *item);
gboolean cg_http_deferred_is_queued(const CgHttpDeferredItem *item);
guint cg_http_deferred_get_length(CgHttpDeferred *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpDeferred, cg_http_deferred_free)

G_END_DECLS

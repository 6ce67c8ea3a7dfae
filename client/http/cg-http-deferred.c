/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Next-iteration calls through one GSource (CgHttpDeferred). */
#include "cg-http-deferred.h"

struct _CgHttpDeferred {
	GQueue waiting; /* queued for the next run */
	GQueue running; /* taken by the run in progress */
	int priority;
	guint source_id;
};

static void
item_unlink(CgHttpDeferredItem *item)
{
	g_queue_unlink(item->queue, &item->link);
	item->queue = NULL;
}

static gboolean
run_cb(gpointer user_data)
{
	CgHttpDeferred *self = user_data;
	GList *link;

	self->source_id = 0;
	/* those queued from here on wait for the next iteration */
	self->running = self->waiting;
	g_queue_init(&self->waiting);
	for (GList *l = self->running.head; l != NULL; l = l->next)
		((CgHttpDeferredItem *)l)->queue = &self->running;
	while ((link = self->running.head) != NULL) {
		CgHttpDeferredItem *item = (CgHttpDeferredItem *)link;

		item_unlink(item);
		/* may free the owner (and @item), queue or cancel others */
		item->func(link->data);
	}
	return G_SOURCE_REMOVE;
}

CgHttpDeferred *
cg_http_deferred_new(int priority)
{
	CgHttpDeferred *self = g_new0(CgHttpDeferred, 1);

	self->priority = priority;
	g_queue_init(&self->waiting);
	g_queue_init(&self->running);
	return self;
}

void
cg_http_deferred_free(CgHttpDeferred *self)
{
	GList *link;

	if (self == NULL)
		return;
	g_clear_handle_id(&self->source_id, g_source_remove);
	while ((link = self->waiting.head) != NULL)
		item_unlink((CgHttpDeferredItem *)link);
	while ((link = self->running.head) != NULL)
		item_unlink((CgHttpDeferredItem *)link);
	g_free(self);
}

void
cg_http_deferred_queue(CgHttpDeferred *self, CgHttpDeferredItem *item, CgHttpDeferredFunc func,
		       gpointer owner)
{
	if (item->queue != NULL)
		return;
	/* the link is the item's first member: a GList * is the item */
	item->link.data = owner;
	item->func = func;
	item->queue = &self->waiting;
	g_queue_push_tail_link(&self->waiting, &item->link);
	if (self->source_id == 0)
		self->source_id = g_idle_add_full(self->priority, run_cb, self, NULL);
}

void
cg_http_deferred_cancel(CgHttpDeferred *self, CgHttpDeferredItem *item)
{
	if (item->queue == NULL)
		return;
	item_unlink(item);
	if (self->waiting.length == 0 && self->running.length == 0)
		g_clear_handle_id(&self->source_id, g_source_remove);
}

gboolean
cg_http_deferred_is_queued(const CgHttpDeferredItem *item)
{
	return item->queue != NULL;
}

guint
cg_http_deferred_get_length(CgHttpDeferred *self)
{
	return self->waiting.length + self->running.length;
}

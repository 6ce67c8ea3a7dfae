/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's bounded, coalescing queue of frames. */
#include "cg-http-queue.h"

static gboolean
queue_takes(const CgHttpQueue *self, guint64 sequence)
{
	return !self->terminal && (sequence == 0 || sequence > self->last);
}

static void
queue_noted(CgHttpQueue *self, CgHttpFrame *frame)
{
	guint64 sequence = cg_http_frame_get_sequence(frame);

	if (sequence != 0)
		self->last = sequence;
	self->terminal = cg_http_frame_is_terminal(frame);
}

gboolean
cg_http_queue_push_replayed(CgHttpQueue *self, CgHttpFrame *frame)
{
	if (!queue_takes(self, cg_http_frame_get_sequence(frame)))
		return FALSE;
	if (self->backlog == NULL && self->after == NULL && self->len < CG_HTTP_QUEUE_MAX) {
		self->frames[self->len++] = cg_http_frame_ref(frame);
	} else {
		/* a live frame already waits behind the backlog: it is newer,
		 * so this one would not be taken (queue_takes) */
		if (self->backlog == NULL)
			self->backlog = g_queue_new();
		g_queue_push_tail(self->backlog, cg_http_frame_ref(frame));
	}
	queue_noted(self, frame);
	return TRUE;
}

gboolean
cg_http_queue_push(CgHttpQueue *self, CgHttpFrame *frame)
{
	guint64 sequence = cg_http_frame_get_sequence(frame);

	if (!queue_takes(self, sequence))
		return FALSE;
	if (self->backlog != NULL) {
		/* behind the replayed frames, coalesced to the latest */
		if (self->after != NULL)
			self->dropped++;
		g_clear_pointer(&self->after, cg_http_frame_unref);
		self->after = cg_http_frame_ref(frame);
		queue_noted(self, frame);
		return TRUE;
	}
	if (self->len == CG_HTTP_QUEUE_MAX) {
		/* full: coalesce to the latest state (what is queued is
		 * older and not terminal) */
		self->dropped += self->len;
		cg_http_queue_clear(self);
	}
	self->frames[self->len++] = cg_http_frame_ref(frame);
	queue_noted(self, frame);
	return TRUE;
}

CgHttpFrame *
cg_http_queue_pop(CgHttpQueue *self)
{
	CgHttpFrame *frame;

	if (self->len == 0 && self->backlog != NULL) {
		frame = g_queue_pop_head(self->backlog);
		if (g_queue_is_empty(self->backlog)) {
			/* the backlog is sent: the live frame behind it comes next */
			g_clear_pointer(&self->backlog, g_queue_free);
			if (self->after != NULL)
				self->frames[self->len++] = g_steal_pointer(&self->after);
		}
		return frame;
	}
	if (self->len == 0)
		return NULL;
	frame = self->frames[0];
	self->len--;
	memmove(&self->frames[0], &self->frames[1], self->len * sizeof(self->frames[0]));
	self->frames[self->len] = NULL;
	return frame;
}

guint
cg_http_queue_get_length(const CgHttpQueue *self)
{
	return self->len + (self->backlog != NULL ? self->backlog->length : 0) +
	       (self->after != NULL ? 1 : 0);
}

void
cg_http_queue_clear(CgHttpQueue *self)
{
	for (guint i = 0; i < self->len; i++)
		g_clear_pointer(&self->frames[i], cg_http_frame_unref);
	self->len = 0;
	if (self->backlog != NULL)
		g_queue_free_full(g_steal_pointer(&self->backlog),
				  (GDestroyNotify)cg_http_frame_unref);
	g_clear_pointer(&self->after, cg_http_frame_unref);
}

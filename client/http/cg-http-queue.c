/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's bounded, coalescing queue of frames. */
#include "cg-http-queue.h"

gboolean
cg_http_queue_push(CgHttpQueue *self, CgHttpFrame *frame)
{
	guint64 sequence = cg_http_frame_get_sequence(frame);

	if (self->terminal || (sequence != 0 && sequence <= self->last))
		return FALSE;
	if (self->len == CG_HTTP_QUEUE_MAX) {
		/* full: coalesce to the latest state (what is queued is
		 * older and not terminal) */
		self->dropped += self->len;
		cg_http_queue_clear(self);
	}
	self->frames[self->len++] = cg_http_frame_ref(frame);
	if (sequence != 0)
		self->last = sequence;
	self->terminal = cg_http_frame_is_terminal(frame);
	return TRUE;
}

CgHttpFrame *
cg_http_queue_pop(CgHttpQueue *self)
{
	CgHttpFrame *frame;

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
	return self->len;
}

void
cg_http_queue_clear(CgHttpQueue *self)
{
	for (guint i = 0; i < self->len; i++)
		g_clear_pointer(&self->frames[i], cg_http_frame_unref);
	self->len = 0;
}

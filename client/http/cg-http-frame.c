/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream event serialized once, shared by reference. */
#include "cg-http-frame.h"

struct _CgHttpFrame {
	grefcount ref_count;
	guint64 sequence;
	gboolean with_id;
	gboolean terminal;
	GBytes *json;
	GBytes *sse;	     /* NULL until asked for */
	gint64 timestamp_us; /* certgend's time of the update; 0: none */
};

CgHttpFrame *
cg_http_frame_new(guint64 sequence, gboolean with_id, gboolean terminal, char *json)
{
	CgHttpFrame *self = g_new0(CgHttpFrame, 1);

	g_ref_count_init(&self->ref_count);
	self->sequence = sequence;
	self->with_id = with_id;
	self->terminal = terminal;
	self->json = g_bytes_new_take(json, strlen(json));
	return self;
}

CgHttpFrame *
cg_http_frame_ref(CgHttpFrame *self)
{
	g_ref_count_inc(&self->ref_count);
	return self;
}

void
cg_http_frame_unref(CgHttpFrame *self)
{
	if (self == NULL || !g_ref_count_dec(&self->ref_count))
		return;
	g_bytes_unref(self->json);
	if (self->sse != NULL)
		g_bytes_unref(self->sse);
	g_free(self);
}

guint64
cg_http_frame_get_sequence(CgHttpFrame *self)
{
	return self->sequence;
}

gboolean
cg_http_frame_is_terminal(CgHttpFrame *self)
{
	return self->terminal;
}

GBytes *
cg_http_frame_get_json(CgHttpFrame *self)
{
	return self->json;
}

GBytes *
cg_http_frame_get_sse(CgHttpFrame *self)
{
	gsize len = 0;
	const char *json;
	char *text;

	if (self->sse != NULL)
		return self->sse;
	json = g_bytes_get_data(self->json, &len);
	if (self->with_id)
		text = g_strdup_printf("id: %" G_GUINT64_FORMAT "\ndata: %.*s\n\n", self->sequence,
				       (int)len, json);
	else
		text = g_strdup_printf("data: %.*s\n\n", (int)len, json);
	self->sse = g_bytes_new_take(text, strlen(text));
	return self->sse;
}

void
cg_http_frame_set_timestamp_us(CgHttpFrame *self, gint64 timestamp_us)
{
	self->timestamp_us = timestamp_us;
}

gint64
cg_http_frame_get_timestamp_us(CgHttpFrame *self)
{
	return self->timestamp_us;
}

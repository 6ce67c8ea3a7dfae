/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context handed to the stream modules: config, bus and registry. */
#include "cg-http-stream-context.h"

static void
stream_context_clear(gpointer data)
{
	CgHttpStreamContext *self = data;

	g_clear_pointer(&self->streams, cg_http_streams_free);
	g_clear_object(&self->bus);
	cg_http_config_clear(&self->config);
}

CgHttpStreamContext *
cg_http_stream_context_new(const CgHttpConfig *config, CgHttpBus *bus)
{
	CgHttpStreamContext *self = g_rc_box_new0(CgHttpStreamContext);

	cg_http_config_copy(&self->config, config);
	self->bus = g_object_ref(bus);
	self->streams = cg_http_streams_new(config);
	return self;
}

CgHttpStreamContext *
cg_http_stream_context_ref(CgHttpStreamContext *self)
{
	return g_rc_box_acquire(self);
}

void
cg_http_stream_context_unref(CgHttpStreamContext *self)
{
	if (self != NULL)
		g_rc_box_release_full(self, stream_context_clear);
}

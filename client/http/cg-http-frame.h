/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One event of a progress stream, serialized once and shared by every
 * stream that sends it (cg-http-hub.h): its sequence, whether it is the
 * terminal event, its JSON (a WebSocket's text payload) and its SSE frame
 * ("id: N\ndata: JSON\n\n", or without the id line), made on first use.
 * Reference counted, main thread only; the bytes are never copied. */
typedef struct _CgHttpFrame CgHttpFrame;

/* Takes @json. @with_id: the SSE frame carries "id: @sequence". */
CgHttpFrame *cg_http_frame_new(guint64 sequence, gboolean with_id, gboolean terminal, char *json);
CgHttpFrame *cg_http_frame_ref(CgHttpFrame *self);
void cg_http_frame_unref(CgHttpFrame *self);

guint64 cg_http_frame_get_sequence(CgHttpFrame *self);
gboolean cg_http_frame_is_terminal(CgHttpFrame *self);
/* The JSON text (without a terminating NUL in the bytes). */
GBytes *cg_http_frame_get_json(CgHttpFrame *self);
/* The SSE event, built the first time it is asked for. */
GBytes *cg_http_frame_get_sse(CgHttpFrame *self);

/* certgend's timestamp of the update (metrics: delivery latency); 0 for
 * frames the bridge made itself. */
void cg_http_frame_set_timestamp_us(CgHttpFrame *self, gint64 timestamp_us);
gint64 cg_http_frame_get_timestamp_us(CgHttpFrame *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpFrame, cg_http_frame_unref)

G_END_DECLS

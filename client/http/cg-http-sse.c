/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-sse.h"

#include <sys/socket.h>

#include "cg-http-error.h"
#include "cg-http-hub.h"
#include "cg-http-json.h"
#include "cg-http-metrics.h"
#include "cg-http-queue.h"
#include "cg-http-response.h"
#include "cg-http-resume.h"

/*
 * libsoup 3.2 notes. The response is streamed: accumulate is off, every
 * chunk is appended and the message unpaused; libsoup pauses it again when
 * it runs out of chunks. Unpausing a message whose I/O is gone (the client
 * left and "finished"/"disconnected" were emitted) is a critical in 3.2.3,
 * so `closed` is set from those signals and nothing touches the message
 * afterwards. A paused message does not notice a client that left, so the
 * socket is watched for end-of-file while the stream idles.
 */

/* Frames go to libsoup while less than this is unwritten; the rest waits
 * in the stream's coalescing queue (cg-http-queue.h). */
#define CG_HTTP_SSE_IN_FLIGHT 2048
/* The kernel's send buffer of a stream's socket (it doubles the value):
 * bounded, so that a client that does not read backs up into the queue,
 * which coalesces, instead of growing the kernel's buffer to megabytes. */
#define CG_HTTP_SSE_SNDBUF (32 * 1024)

static const char cg_http_sse_keepalive[] = ": keep-alive\n\n";

typedef struct {
	CgHttpStreamContext *context;
	SoupServerMessage *msg;
	char *progress_id;
	char *user;
	gboolean closed;  /* the message is finished: never touch it again */
	gboolean ending;  /* the body is complete or the response set */
	gboolean started; /* status and headers of the stream are set */
	CgHttpHubMember *member;
	CgHttpQueue queue;
	CgHttpPeer *peer;
	gsize backlog; /* bytes handed to libsoup, not written yet */
} CgHttpSse;

static void sse_end(CgHttpSse *self);
static void sse_flush(CgHttpSse *self);

static void
sse_stop_following(CgHttpSse *self)
{
	g_clear_pointer(&self->member, cg_http_hub_leave);
	cg_http_peers_remove(self->context->peers, g_steal_pointer(&self->peer));
}

static void
sse_close(CgHttpSse *self)
{
	if (self->closed)
		return;
	self->closed = TRUE;
	sse_stop_following(self);
	cg_http_queue_clear(&self->queue);
	g_signal_handlers_disconnect_by_data(self->msg, self);
	g_debug("SSE stream of %s for %s closed", self->progress_id, self->user);
	cg_http_streams_remove(self->context->streams, self);
	g_clear_object(&self->msg);
	g_clear_pointer(&self->context, cg_http_stream_context_unref);
	g_free(self->progress_id);
	g_free(self->user);
	g_free(self);
}

static void
finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	sse_close(user_data);
}

static void
wrote_body_data_cb(SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
	CgHttpSse *self = user_data;

	self->backlog = chunk_size >= self->backlog ? 0 : self->backlog - chunk_size;
	if (self->backlog < CG_HTTP_SSE_IN_FLIGHT)
		sse_flush(self);
}

/* The client is gone or too slow: end the response and shut the socket so
 * that libsoup's next write fails and the message finishes. */
static void
sse_abort(CgHttpSse *self, const char *why)
{
	GSocket *socket;

	if (self->closed)
		return;
	g_debug("SSE stream of %s for %s: %s", self->progress_id, self->user, why);
	socket = soup_server_message_get_socket(self->msg);
	if (socket != NULL)
		g_socket_shutdown(socket, TRUE, TRUE, NULL);
	sse_end(self);
}

/* Hands @bytes (shared, not copied) to libsoup. */
static void
sse_append(CgHttpSse *self, GBytes *bytes)
{
	const CgHttpConfig *config = &self->context->config;

	if (self->closed || self->ending)
		return;
	soup_message_body_append_bytes(soup_server_message_get_response_body(self->msg), bytes);
	self->backlog += g_bytes_get_size(bytes);
	if (self->backlog > config->max_stream_backlog) {
		sse_abort(self, "the client does not read; dropping the stream");
		return;
	}
	soup_server_message_unpause(self->msg);
}

static void
sse_write_frame(CgHttpSse *self, CgHttpFrame *frame)
{
	guint64 sequence = cg_http_frame_get_sequence(frame);

	if (sequence != 0)
		cg_http_streams_note_sent(self->context->streams, self->user, self->progress_id,
					  sequence);
	sse_append(self, cg_http_frame_get_sse(frame));
	cg_http_metrics_event_delivered(cg_http_frame_get_timestamp_us(frame));
	if (cg_http_frame_is_terminal(frame))
		sse_end(self);
}

/* The queued frames, as far as the client keeps up. */
static void
sse_flush(CgHttpSse *self)
{
	while (!self->closed && !self->ending && self->backlog < CG_HTTP_SSE_IN_FLIGHT) {
		g_autoptr(CgHttpFrame) frame = cg_http_queue_pop(&self->queue);

		if (frame == NULL)
			return;
		sse_write_frame(self, frame);
	}
}

static void
sse_send(CgHttpSse *self, CgHttpFrame *frame)
{
	if (self->closed || self->ending)
		return;
	if (!cg_http_queue_push(&self->queue, frame))
		return;
	sse_flush(self);
}

static void
sse_end(CgHttpSse *self)
{
	if (self->closed || self->ending)
		return;
	sse_stop_following(self);
	cg_http_queue_clear(&self->queue);
	self->ending = TRUE;
	soup_message_body_complete(soup_server_message_get_response_body(self->msg));
	soup_server_message_unpause(self->msg);
}

static void
sse_fail(CgHttpSse *self, const GError *error, guint retry_after_s)
{
	if (self->closed || self->ending)
		return;
	sse_stop_following(self);
	self->ending = TRUE;
	cg_http_respond_error(self->msg, error, retry_after_s);
	soup_server_message_unpause(self->msg);
}

/* From the hubs' one timer: a comment when nothing else is on its way. */
static void
sse_keepalive(CgHttpSse *self)
{
	g_autoptr(GBytes) bytes = NULL;

	if (!self->started || self->backlog > 0 || cg_http_queue_get_length(&self->queue) > 0)
		return;
	bytes = g_bytes_new_static(cg_http_sse_keepalive, sizeof cg_http_sse_keepalive - 1);
	sse_append(self, bytes);
}

static void
peer_gone_cb(gpointer stream, const char *why)
{
	sse_abort(stream, why);
}

static void
sse_start_stream(CgHttpSse *self)
{
	const CgHttpConfig *config = &self->context->config;
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(self->msg);
	g_autofree char *hello = NULL;
	g_autoptr(GBytes) bytes = NULL;
	GSocket *socket;

	self->started = TRUE;
	soup_server_message_set_status(self->msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(headers, "Content-Type", "text/event-stream; charset=utf-8");
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
	soup_message_headers_set_encoding(
	    headers, soup_server_message_get_http_version(self->msg) == SOUP_HTTP_1_0
			 ? SOUP_ENCODING_EOF
			 : SOUP_ENCODING_CHUNKED);
	soup_message_body_set_accumulate(soup_server_message_get_response_body(self->msg), FALSE);
	socket = soup_server_message_get_socket(self->msg);
	if (socket != NULL)
		g_socket_set_option(socket, SOL_SOCKET, SO_SNDBUF, CG_HTTP_SSE_SNDBUF, NULL);
	hello = g_strdup_printf("retry: %u\n: connected\n\n", config->retry_ms);
	bytes = g_bytes_new_take(g_steal_pointer(&hello), strlen(hello));
	sse_append(self, bytes);
}

static void
sse_ready(CgHttpSse *self, CgHttpFrame *latest)
{
	gboolean terminal = cg_http_frame_is_terminal(latest);
	GSocket *socket;

	if (self->closed || self->ending)
		return;
	switch (cg_http_resume_plan(self->queue.last != 0, self->queue.last,
				    cg_http_frame_get_sequence(latest), terminal)) {
	case CG_HTTP_RESUME_FROM_START:
		self->queue.last = 0;
		break;
	case CG_HTTP_RESUME_AFTER:
		break;
	case CG_HTTP_RESUME_UP_TO_DATE:
	default:
		/* The client has the terminal event: 204 tells EventSource not
		 * to reconnect. */
		sse_stop_following(self);
		self->ending = TRUE;
		soup_server_message_set_status(self->msg, SOUP_STATUS_NO_CONTENT, NULL);
		soup_server_message_unpause(self->msg);
		return;
	}
	sse_start_stream(self);
	sse_send(self, latest);
	if (terminal || self->closed || self->ending)
		return;
	socket = soup_server_message_get_socket(self->msg);
	if (socket != NULL)
		self->peer = cg_http_peers_add(self->context->peers, socket, peer_gone_cb, self);
}

static void
sse_vanished(CgHttpSse *self)
{
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(CgHttpFrame) frame = NULL;

	if (self->closed || self->ending)
		return;
	if (!self->started) {
		g_autoptr(GError) error =
		    g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
					"The certificate service is not available; try again "
					"later");

		sse_fail(self, error, 5);
		return;
	}
	/* The generation died with certgend: say so (after what is queued)
	 * and end the stream. */
	builder = json_builder_new_immutable();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "progressId");
	json_builder_add_string_value(builder, self->progress_id);
	json_builder_set_member_name(builder, "status");
	json_builder_add_string_value(builder, "failed");
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, "service_unavailable");
	json_builder_set_member_name(builder, "errorMessage");
	json_builder_add_string_value(builder, "The certificate service stopped; this "
					       "generation is lost");
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	frame = cg_http_frame_new(0, FALSE, TRUE, cg_http_json_to_string(root));
	sse_stop_following(self);
	sse_send(self, frame);
}

static void
hub_cb(gpointer user_data, const CgHttpHubNotice *notice)
{
	CgHttpSse *self = user_data;

	switch (notice->event) {
	case CG_HTTP_HUB_READY:
		sse_ready(self, notice->frame);
		break;
	case CG_HTTP_HUB_FRAME:
		sse_send(self, notice->frame);
		break;
	case CG_HTTP_HUB_FAILED:
		sse_fail(self, notice->error, notice->retry_after_s);
		break;
	case CG_HTTP_HUB_VANISHED:
		sse_vanished(self);
		break;
	case CG_HTTP_HUB_KEEPALIVE:
	default:
		sse_keepalive(self);
		break;
	}
}

static void
sse_shutdown(gpointer stream)
{
	CgHttpSse *self = stream;

	if (self->started) {
		sse_end(self);
	} else {
		g_autoptr(GError) error =
		    g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
					"The bridge is stopping; try again later");

		sse_fail(self, error, 5);
	}
}

void
cg_http_sse_start(CgHttpStreamContext *context, SoupServerMessage *msg, const char *progress_id,
		  const char *user, gboolean have_last_event_id, guint64 last_event_id)
{
	CgHttpSse *self = g_new0(CgHttpSse, 1);

	self->context = cg_http_stream_context_ref(context);
	self->msg = g_object_ref(msg);
	self->progress_id = g_strdup(progress_id);
	self->user = g_strdup(user);
	/* Last-Event-ID: 0 is "before the first event" either way */
	self->queue.last = have_last_event_id ? last_event_id : 0;
	g_signal_connect(msg, "finished", G_CALLBACK(finished_cb), self);
	g_signal_connect(msg, "disconnected", G_CALLBACK(finished_cb), self);
	g_signal_connect(msg, "wrote-body-data", G_CALLBACK(wrote_body_data_cb), self);
	cg_http_streams_add(context->streams, self, user, sse_shutdown);
	soup_server_message_pause(msg);
	g_debug("SSE stream of %s for %s%s", progress_id, user,
		have_last_event_id ? " (resumed)" : "");
	self->member = cg_http_hubs_join(context->hubs, progress_id, user, hub_cb, self);
}

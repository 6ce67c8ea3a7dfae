/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-sse.h"
#include "cg-http-log.h"

#include <errno.h>
#include <sys/socket.h>

#include "cg-http-accept.h"
#include "cg-http-error.h"
#include "cg-http-hub.h"
#include "cg-http-json.h"
#include "cg-http-metrics.h"
#include "cg-http-queue.h"
#include "cg-http-response.h"
#include "cg-http-resume.h"
#include "cg-http-timeouts.h"

/*
 * The stream's connection is taken over once the response headers are out.
 * Until then it is a libsoup message: the owner check, the caps, the
 * resume plan and every error response are libsoup's. sse_start_stream()
 * sets status and headers and unpauses the message without a body chunk:
 * libsoup writes the headers completely ("wrote-headers"), finds no chunk
 * and pauses again; on the next iteration (stealing inside the signal would free
 * libsoup's I/O under it) the connection is stolen
 * (soup_server_message_steal_connection()) and the message let go. From
 * then on a stream is its socket, its queue and the bytes being written:
 * no libsoup message, no GSource of its own. Writes are non-blocking
 * send() of the shared frame bytes; the body ends with the connection
 * (Connection: close, no chunking); when the socket is full the one epoll
 * set of the peers (cg-http-peers.h) says when it can take
 * more, and that set also notices a client that left. After the terminal
 * event the connection is shut and closed, which ends the body.
 *
 * A stream of the bridge's own accept path (cg_http_sse_start_raw(),
 * cg-http-accept.h) never was a libsoup message: it starts as its socket
 * with the response headers prepared (server, defaults, CORS), and every
 * answer, the 200 head with the first bytes, 204 or an error, is written by
 * the same pump. The decisions are the same code either way; only how the
 * status line and headers reach the client differs.
 */

/* The kernel's send buffer of a stream's socket (it doubles the value):
 * bounded, so that a client that does not read backs up into the queue,
 * which coalesces, instead of growing the kernel's buffer to megabytes. */
#define CG_HTTP_SSE_SNDBUF (32 * 1024)

static const char cg_http_sse_keepalive[] = ": keep-alive\n\n";

typedef struct {
	CgHttpStreamContext *context;
	SoupServerMessage *msg; /* until the connection is stolen */
	char *progress_id;
	char *user;
	gboolean closed;	  /* freed: never touch it again */
	gboolean ending;	  /* the body is complete or the response set */
	gboolean started;	  /* status and headers of the stream are set */
	gboolean done;		  /* the last bytes are queued: close after them */
	CgHttpDeferredItem steal; /* queued: take the connection over */
	CgHttpHubMember *member;
	CgHttpQueue queue;
	CgHttpPeer *peer;
	GIOStream *stream; /* the stolen connection */
	GSocket *socket;   /* the stolen connection's, or the own accept path's */
	gboolean writing;  /* the connection is ours to write */
	/* own accept path, until the head is out */
	SoupMessageHeaders *raw_headers;
	SoupHTTPVersion raw_version;
	int fd;
	GBytes *out;	  /* being written */
	gsize out_offset; /* written of @out */
} CgHttpSse;

static void sse_end(CgHttpSse *self);
static void sse_pump(CgHttpSse *self);

static void
sse_stop_following(CgHttpSse *self)
{
	g_clear_pointer(&self->member, cg_http_hub_leave);
}

static void
sse_close(CgHttpSse *self)
{
	if (self->closed)
		return;
	self->closed = TRUE;
	sse_stop_following(self);
	cg_http_peers_remove(self->context->peers, g_steal_pointer(&self->peer));
	cg_http_queue_clear(&self->queue);
	cg_http_deferred_cancel(self->context->steals, &self->steal);
	if (self->msg != NULL)
		g_signal_handlers_disconnect_by_data(self->msg, self);
	g_clear_object(&self->msg);
	if (self->socket != NULL && self->done)
		(void)shutdown(self->fd, SHUT_WR);
	if (self->stream != NULL)
		(void)g_io_stream_close(self->stream, NULL, NULL);
	else if (self->socket != NULL)
		(void)g_socket_close(self->socket, NULL);
	g_clear_object(&self->stream);
	g_clear_object(&self->socket);
	g_clear_pointer(&self->raw_headers, soup_message_headers_unref);
	g_clear_pointer(&self->out, g_bytes_unref);
	cg_http_debug("SSE stream of %s for %s closed", self->progress_id, self->user);
	cg_http_streams_remove(self->context->streams, self);
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

/* The client is gone: nothing more to write. */
static void
sse_abort(CgHttpSse *self, const char *why)
{
	if (self->closed)
		return;
	cg_http_debug("SSE stream of %s for %s: %s", self->progress_id, self->user, why);
	sse_close(self);
}

static void
sse_set_out(CgHttpSse *self, GBytes *bytes)
{
	g_clear_pointer(&self->out, g_bytes_unref);
	self->out = g_bytes_ref(bytes);
	self->out_offset = 0;
}

/* The next bytes to write, the queued frames; FALSE when there is nothing
 * (and, ending, the stream is done). */
static gboolean
sse_next_out(CgHttpSse *self)
{
	g_autoptr(CgHttpFrame) frame = NULL;
	guint64 sequence;

	frame = cg_http_queue_pop(&self->queue);
	if (frame != NULL) {
		sequence = cg_http_frame_get_sequence(frame);
		if (sequence != 0)
			cg_http_streams_note_sent(self->context->streams, self->user,
						  self->progress_id, sequence);
		sse_set_out(self, cg_http_frame_get_sse(frame));
		cg_http_metrics_event_delivered(cg_http_frame_get_timestamp_us(frame));
		if (cg_http_frame_is_terminal(frame)) {
			sse_stop_following(self);
			self->ending = TRUE;
		}
		return TRUE;
	}
	if (self->ending)
		self->done = TRUE;
	return FALSE;
}

/* One non-blocking write of what is left of @out; -> bytes written, 0 when
 * the socket is full, -1 when the client is gone. */
static gssize
sse_write_out(CgHttpSse *self)
{
	gsize size = 0;
	const char *data = g_bytes_get_data(self->out, &size);
	ssize_t n;

	do
		n = send(self->fd, data + self->out_offset, size - self->out_offset,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	self->out_offset += (gsize)n;
	return n;
}

static void
writable_cb(gpointer stream)
{
	sse_pump(stream);
}

/* Writes as much as the socket takes; the rest when it is writable. */
static void
sse_pump(CgHttpSse *self)
{
	if (self->closed || !self->writing)
		return;
	for (;;) {
		gssize n;

		if (self->out == NULL && !sse_next_out(self)) {
			if (self->done) {
				sse_close(self);
				return;
			}
			cg_http_peers_want_write(self->context->peers, self->peer, NULL);
			return;
		}
		n = sse_write_out(self);
		if (n < 0) {
			sse_abort(self, "the client left");
			return;
		}
		if (n == 0) {
			/* no watch: the socket cannot be watched, the client is
			 * told by the close instead */
			if (self->peer == NULL) {
				sse_abort(self, "the socket is not watched");
				return;
			}
			cg_http_peers_want_write(self->context->peers, self->peer, writable_cb);
			return;
		}
		if (self->out_offset >= g_bytes_get_size(self->out))
			g_clear_pointer(&self->out, g_bytes_unref);
	}
}

static void
sse_send(CgHttpSse *self, CgHttpFrame *frame, gboolean replayed)
{
	if (self->closed || self->ending)
		return;
	if (!(replayed ? cg_http_queue_push_replayed : cg_http_queue_push)(&self->queue, frame))
		return;
	sse_pump(self);
}

/* Nothing more is taken: what is queued is written, then the body
 * completed and the connection closed. */
static void
sse_end(CgHttpSse *self)
{
	if (self->closed || self->ending)
		return;
	sse_stop_following(self);
	self->ending = TRUE;
	sse_pump(self);
}

/* Own accept path: @response is the first thing written, then what is
 * queued. */
static void
sse_write_head(CgHttpSse *self, GBytes *response)
{
	g_clear_pointer(&self->raw_headers, soup_message_headers_unref);
	sse_set_out(self, response);
	self->writing = TRUE;
	sse_pump(self);
}

static void
sse_fail(CgHttpSse *self, const GError *error, guint retry_after_s)
{
	if (self->closed || self->ending)
		return;
	if (self->started) {
		/* the stream's headers went out: it can only end */
		sse_end(self);
		return;
	}
	sse_stop_following(self);
	self->ending = TRUE;
	if (self->msg == NULL) {
		g_autoptr(GBytes) response = cg_http_response_render_error(
		    self->raw_version, error, retry_after_s, self->raw_headers);

		sse_write_head(self, response);
		return;
	}
	cg_http_respond_error(self->msg, error, retry_after_s);
	soup_server_message_unpause(self->msg);
}

/* From the hubs' one timer: a comment when nothing else is on its way. */
static void
sse_keepalive(CgHttpSse *self)
{
	g_autoptr(GBytes) bytes = NULL;

	if (!self->writing || self->ending || self->out != NULL ||
	    cg_http_queue_get_length(&self->queue) > 0)
		return;
	bytes = g_bytes_new_static(cg_http_sse_keepalive, sizeof cg_http_sse_keepalive - 1);
	sse_set_out(self, bytes);
	sse_pump(self);
}

static void
peer_gone_cb(gpointer stream, const char *why)
{
	sse_abort(stream, why);
}

/* The stream writes @socket itself from now on; the peers notice when the
 * client leaves. */
static void
sse_take_socket(CgHttpSse *self, GSocket *socket)
{
	self->socket = g_object_ref(socket);
	self->fd = g_socket_get_fd(socket);
	g_socket_set_option(socket, SOL_SOCKET, SO_SNDBUF, CG_HTTP_SSE_SNDBUF, NULL);
	self->peer = cg_http_peers_add(self->context->peers, socket, peer_gone_cb, self);
	if (self->peer != NULL)
		cg_http_peers_own(self->peer);
}

/* The headers are out and libsoup paused the message for want of a body:
 * the connection is ours from here. */
static void
steal_cb(gpointer user_data)
{
	CgHttpSse *self = user_data;
	g_autoptr(SoupServerMessage) msg = g_steal_pointer(&self->msg);
	GSocket *socket;

	g_signal_handlers_disconnect_by_data(msg, self);
	self->stream = soup_server_message_steal_connection(msg);
	socket = cg_http_accept_stream_socket(self->stream);
	if (socket == NULL) {
		sse_abort(self, "the connection could not be taken over");
		return;
	}
	/* the stream's socket has no timer: the server's idle timeout is for
	 * connections between requests, and libsoup may have armed it when
	 * it let go of the message */
	cg_http_timeout_disarm_idle(socket);
	sse_take_socket(self, socket);
	self->writing = TRUE;
	sse_pump(self);
}

static void
wrote_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	CgHttpSse *self = user_data;

	/* libsoup's I/O is still on the stack: not from here, but on the
	 * next iteration, in the one list of connections waiting for it
	 * (a GSource each would cost every iteration a walk over all) */
	cg_http_deferred_queue(self->context->steals, &self->steal, steal_cb, self);
}

/* The stream's response headers, either path. */
static void
sse_stream_headers(SoupMessageHeaders *headers)
{
	soup_message_headers_replace(headers, "Content-Type", "text/event-stream; charset=utf-8");
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
	/* The body ends with the connection (HTTP/1.0 and 1.1 alike): the
	 * bridge writes it itself after the steal, and libsoup, letting go
	 * of a chunked body, would write its last chunk first. */
	soup_message_headers_replace(headers, "Connection", "close");
}

static GBytes *
sse_hello(CgHttpSse *self)
{
	g_autofree char *hello =
	    g_strdup_printf("retry: %u\n: connected\n\n", self->context->config.retry_ms);
	gsize size = strlen(hello);

	return g_bytes_new_take(g_steal_pointer(&hello), size);
}

static void
sse_start_stream(CgHttpSse *self)
{
	SoupMessageHeaders *headers;
	g_autoptr(GBytes) bytes = NULL;

	self->started = TRUE;
	if (self->msg == NULL) {
		g_autoptr(GBytes) head = NULL;
		g_autoptr(GBytes) hello = sse_hello(self);
		GByteArray *both;

		sse_stream_headers(self->raw_headers);
		head = cg_http_response_render(self->raw_version, SOUP_STATUS_OK, self->raw_headers,
					       NULL, NULL);
		both = g_bytes_unref_to_array(g_steal_pointer(&head));
		g_byte_array_append(both, g_bytes_get_data(hello, NULL), g_bytes_get_size(hello));
		bytes = g_byte_array_free_to_bytes(both);
		sse_write_head(self, bytes);
		return;
	}
	headers = soup_server_message_get_response_headers(self->msg);
	soup_server_message_set_status(self->msg, SOUP_STATUS_OK, NULL);
	sse_stream_headers(headers);
	soup_message_headers_set_encoding(headers, SOUP_ENCODING_EOF);
	soup_message_body_set_accumulate(soup_server_message_get_response_body(self->msg), FALSE);
	g_signal_connect(self->msg, "wrote-headers", G_CALLBACK(wrote_headers_cb), self);
	bytes = sse_hello(self);
	sse_set_out(self, bytes);
	soup_server_message_unpause(self->msg);
}

static void
sse_ready(CgHttpSse *self, CgHttpFrame *latest, gboolean replayed)
{
	if (self->closed || self->ending)
		return;
	switch (cg_http_resume_plan(self->queue.last != 0, self->queue.last,
				    cg_http_frame_get_sequence(latest),
				    cg_http_frame_is_terminal(latest))) {
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
		if (self->msg == NULL) {
			g_autoptr(GBytes) response = NULL;

			soup_message_headers_replace(self->raw_headers, "Connection", "close");
			response =
			    cg_http_response_render(self->raw_version, SOUP_STATUS_NO_CONTENT,
						    self->raw_headers, NULL, NULL);
			sse_write_head(self, response);
			return;
		}
		soup_server_message_set_status(self->msg, SOUP_STATUS_NO_CONTENT, NULL);
		soup_server_message_unpause(self->msg);
		return;
	}
	sse_start_stream(self);
	sse_send(self, latest, replayed);
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
	sse_send(self, frame, FALSE);
}

static void
hub_cb(gpointer user_data, const CgHttpHubNotice *notice)
{
	CgHttpSse *self = user_data;

	switch (notice->event) {
	case CG_HTTP_HUB_READY:
		sse_ready(self, notice->frame, notice->replayed);
		break;
	case CG_HTTP_HUB_FRAME:
		sse_send(self, notice->frame, notice->replayed);
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

static CgHttpSse *
sse_new(CgHttpStreamContext *context, const char *progress_id, const char *user,
	gboolean have_last_event_id, guint64 last_event_id)
{
	CgHttpSse *self = g_new0(CgHttpSse, 1);

	self->context = cg_http_stream_context_ref(context);
	self->progress_id = g_strdup(progress_id);
	self->user = g_strdup(user);
	self->fd = -1;
	/* Last-Event-ID: 0 is "before the first event" either way */
	self->queue.last = have_last_event_id ? last_event_id : 0;
	return self;
}

static void
sse_follow(CgHttpSse *self, gboolean have_last_event_id)
{
	cg_http_streams_add(self->context->streams, self, self->user, sse_shutdown);
	cg_http_debug("SSE stream of %s for %s%s", self->progress_id, self->user,
		      have_last_event_id ? " (resumed)" : "");
	self->member = cg_http_hubs_join_after(self->context->hubs, self->progress_id, self->user,
					       have_last_event_id, self->queue.last, hub_cb, self);
}

void
cg_http_sse_start(CgHttpStreamContext *context, SoupServerMessage *msg, const char *progress_id,
		  const char *user, gboolean have_last_event_id, guint64 last_event_id)
{
	CgHttpSse *self = sse_new(context, progress_id, user, have_last_event_id, last_event_id);

	self->msg = g_object_ref(msg);
	g_signal_connect(msg, "finished", G_CALLBACK(finished_cb), self);
	g_signal_connect(msg, "disconnected", G_CALLBACK(finished_cb), self);
	soup_server_message_pause(msg);
	sse_follow(self, have_last_event_id);
}

void
cg_http_sse_start_raw(CgHttpStreamContext *context, GSocket *socket, SoupHTTPVersion version,
		      SoupMessageHeaders *response, const char *progress_id, const char *user,
		      gboolean have_last_event_id, guint64 last_event_id)
{
	CgHttpSse *self = sse_new(context, progress_id, user, have_last_event_id, last_event_id);

	self->raw_headers = soup_message_headers_ref(response);
	self->raw_version = version;
	/* watched from the start: a client that leaves before the hub
	 * answers is noticed */
	sse_take_socket(self, socket);
	sse_follow(self, have_last_event_id);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-sse.h"

#include <errno.h>
#include <sys/socket.h>

#include "cg-http-error.h"
#include "cg-http-follow.h"
#include "cg-http-json.h"
#include "cg-http-metrics.h"
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

typedef struct {
	CgHttpStreamContext *context;
	SoupServerMessage *msg;
	char *progress_id;
	char *user;
	gboolean closed;  /* the message is finished: never touch it again */
	gboolean ending;  /* the body is complete or the response set */
	gboolean started; /* status and headers of the stream are set */
	gboolean have_last_event_id;
	guint64 last_sent;
	CgHttpFollow *follow;
	guint keepalive_id;
	GSource *peer_source;
	gulong finished_id;
	gulong disconnected_id;
	gulong wrote_id;
	gsize backlog;
} CgHttpSse;

static void sse_end(CgHttpSse *self);

static void
sse_close(CgHttpSse *self)
{
	if (self->closed)
		return;
	self->closed = TRUE;
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	g_clear_handle_id(&self->keepalive_id, g_source_remove);
	if (self->peer_source != NULL) {
		g_source_destroy(self->peer_source);
		g_clear_pointer(&self->peer_source, g_source_unref);
	}
	g_clear_signal_handler(&self->finished_id, self->msg);
	g_clear_signal_handler(&self->disconnected_id, self->msg);
	g_clear_signal_handler(&self->wrote_id, self->msg);
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

static void
sse_append(CgHttpSse *self, const char *text)
{
	const CgHttpConfig *config = &self->context->config;
	gsize len = strlen(text);

	if (self->closed || self->ending)
		return;
	soup_message_body_append(soup_server_message_get_response_body(self->msg), SOUP_MEMORY_COPY,
				 text, len);
	self->backlog += len;
	if (self->backlog > config->max_stream_backlog) {
		sse_abort(self, "the client does not read; dropping the stream");
		return;
	}
	soup_server_message_unpause(self->msg);
}

static void
sse_send_update(CgHttpSse *self, GVariant *update)
{
	guint64 sequence = cg_http_update_get_sequence(update);
	g_autofree char *json = NULL;
	g_autofree char *event = NULL;

	if (self->have_last_event_id && sequence <= self->last_sent)
		return;
	json = cg_http_stream_context_update_json(self->context, self->progress_id, update);
	event = g_strdup_printf("id: %" G_GUINT64_FORMAT "\ndata: %s\n\n", sequence, json);
	self->have_last_event_id = TRUE;
	self->last_sent = sequence;
	if (self->closed || self->ending)
		return;
	cg_http_streams_note_sent(self->context->streams, self->user, self->progress_id, sequence);
	sse_append(self, event);
	cg_http_metrics_update_delivered(update);
}

static void
sse_end(CgHttpSse *self)
{
	if (self->closed || self->ending)
		return;
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	g_clear_handle_id(&self->keepalive_id, g_source_remove);
	if (self->peer_source != NULL) {
		g_source_destroy(self->peer_source);
		g_clear_pointer(&self->peer_source, g_source_unref);
	}
	self->ending = TRUE;
	soup_message_body_complete(soup_server_message_get_response_body(self->msg));
	soup_server_message_unpause(self->msg);
}

static void
sse_fail(CgHttpSse *self, const GError *error, guint retry_after_s)
{
	if (self->closed || self->ending)
		return;
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	self->ending = TRUE;
	cg_http_respond_error(self->msg, error, retry_after_s);
	soup_server_message_unpause(self->msg);
}

static gboolean
keepalive_cb(gpointer user_data)
{
	CgHttpSse *self = user_data;

	sse_append(self, ": keep-alive\n\n");
	return G_SOURCE_CONTINUE;
}

static gboolean
peer_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	CgHttpSse *self = user_data;
	char byte;
	ssize_t n;

	if ((condition & (G_IO_HUP | G_IO_ERR)) != 0) {
		g_clear_pointer(&self->peer_source, g_source_unref);
		sse_abort(self, "the client hung up");
		return G_SOURCE_REMOVE;
	}
	n = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&self->peer_source, g_source_unref);
	if (n <= 0)
		sse_abort(self, "the client left");
	/* n > 0: the client sent more (a pipelined request); libsoup reads it
	 * after the stream, the keep-alive comments notice a departure. */
	return G_SOURCE_REMOVE;
}

static void
sse_start_stream(CgHttpSse *self)
{
	const CgHttpConfig *config = &self->context->config;
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(self->msg);
	g_autofree char *hello = NULL;

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
	hello = g_strdup_printf("retry: %u\n: connected\n\n", config->retry_ms);
	sse_append(self, hello);
}

static void
ready_cb(gpointer user_data, GVariant *snapshot)
{
	CgHttpSse *self = user_data;
	const CgHttpConfig *config = &self->context->config;
	gboolean terminal = cg_http_update_is_terminal(snapshot);
	GSocket *socket;

	if (self->closed || self->ending)
		return;
	switch (cg_http_resume_plan(self->have_last_event_id, self->last_sent,
				    cg_http_update_get_sequence(snapshot), terminal)) {
	case CG_HTTP_RESUME_FROM_START:
		self->have_last_event_id = FALSE;
		break;
	case CG_HTTP_RESUME_AFTER:
		break;
	case CG_HTTP_RESUME_UP_TO_DATE:
	default:
		/* The client has the terminal event: 204 tells EventSource not
		 * to reconnect. */
		g_clear_pointer(&self->follow, cg_http_follow_stop);
		self->ending = TRUE;
		soup_server_message_set_status(self->msg, SOUP_STATUS_NO_CONTENT, NULL);
		soup_server_message_unpause(self->msg);
		return;
	}
	sse_start_stream(self);
	sse_send_update(self, snapshot);
	if (terminal) {
		sse_end(self);
		return;
	}
	if (self->closed || self->ending)
		return;
	self->keepalive_id = g_timeout_add(MAX(config->keepalive_ms, 10u), keepalive_cb, self);
	socket = soup_server_message_get_socket(self->msg);
	if (socket != NULL) {
		self->peer_source =
		    g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
		g_source_set_callback(self->peer_source, G_SOURCE_FUNC(peer_cb), self, NULL);
		g_source_attach(self->peer_source, NULL);
	}
}

static void
update_cb(gpointer user_data, GVariant *update)
{
	CgHttpSse *self = user_data;

	if (self->closed || self->ending)
		return;
	sse_send_update(self, update);
	if (cg_http_update_is_terminal(update))
		sse_end(self);
}

static void
failed_cb(gpointer user_data, const GError *error, guint retry_after_s)
{
	sse_fail(user_data, error, retry_after_s);
}

static void
vanished_cb(gpointer user_data)
{
	CgHttpSse *self = user_data;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	g_autofree char *event = NULL;

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
	/* The generation died with certgend: say so and end the stream. */
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
	json = cg_http_json_to_string(root);
	event = g_strdup_printf("data: %s\n\n", json);
	sse_append(self, event);
	sse_end(self);
}

static const CgHttpFollowFuncs sse_follow_funcs = {
    .ready = ready_cb,
    .update = update_cb,
    .failed = failed_cb,
    .vanished = vanished_cb,
};

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
	self->have_last_event_id = have_last_event_id;
	self->last_sent = last_event_id;
	self->finished_id = g_signal_connect(msg, "finished", G_CALLBACK(finished_cb), self);
	self->disconnected_id =
	    g_signal_connect(msg, "disconnected", G_CALLBACK(finished_cb), self);
	self->wrote_id =
	    g_signal_connect(msg, "wrote-body-data", G_CALLBACK(wrote_body_data_cb), self);
	cg_http_streams_add(context->streams, self, user, sse_shutdown);
	soup_server_message_pause(msg);
	g_debug("SSE stream of %s for %s%s", progress_id, user,
		have_last_event_id ? " (resumed)" : "");
	self->follow =
	    cg_http_follow_start(context->bus, progress_id, user, &sse_follow_funcs, self);
}

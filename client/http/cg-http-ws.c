/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-ws.h"
#include "cg-http-log.h"

#include "cg-http-accept.h"

#include "cg-http-error.h"
#include "cg-http-hub.h"
#include "cg-http-json.h"
#include "cg-http-metrics.h"
#include "cg-http-owner.h"
#include "cg-http-queue.h"
#include "cg-http-redis-routes.h"
#include "cg-http-resume.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define CG_HTTP_WS_CLOSE_NOT_FOUND 4404
#define CG_HTTP_WS_CLOSE_UNAVAILABLE 4503
#define CG_HTTP_WS_CLOSE_TRY_AGAIN_LATER 1013
#define CG_HTTP_WS_MAX_INCOMING 4096
#define CG_HTTP_WS_MAX_JSON_DEPTH 8
#define CG_HTTP_WS_MAX_QUEUED_CANCELS 4
/* Frames go to libsoup (whose outgoing queue is unbounded) only while the
 * kernel holds less than this unsent; the rest waits in the connection's
 * coalescing queue (cg-http-queue.h), retried on the next frame and on the
 * hubs' one keep-alive tick. */
#define CG_HTTP_WS_ROOM (16 * 1024)
/* The kernel's send buffer (doubled by the kernel): a client that does not
 * read backs up into the queue soon. */
#define CG_HTTP_WS_SNDBUF (32 * 1024)

/* The owner check of the connection's id, done by its hub: no
 * action on the id (a cancel) goes out before it passed. */
typedef enum {
	CG_HTTP_WS_OWNER_CHECKING,
	CG_HTTP_WS_OWNER_PASSED,
	CG_HTTP_WS_OWNER_REFUSED,
} CgHttpWsOwner;

typedef struct {
	gint ref_count;
	CgHttpStreamContext *context;
	SoupWebsocketConnection *connection;
	char *progress_id;
	char *user;
	gboolean registered;
	gboolean closed;
	gboolean have_since;
	guint64 last_sent;
	CgHttpHubMember *member;
	CgHttpWsOwner owner;
	guint queued_cancels; /* cancels that wait for the owner check */
	CgHttpQueue queue;    /* frames not handed to libsoup yet */
	int fd;		      /* the connection's socket, -1 when unknown */
	gulong message_id;
	gulong closed_id;
	GCancellable *cancellable;
} CgHttpWs;

static CgHttpWs *
ws_ref(CgHttpWs *self)
{
	self->ref_count++;
	return self;
}

static void
ws_unref(CgHttpWs *self)
{
	if (--self->ref_count > 0)
		return;
	cg_http_queue_clear(&self->queue);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->connection);
	g_clear_pointer(&self->context, cg_http_stream_context_unref);
	g_free(self->progress_id);
	g_free(self->user);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgHttpWs, ws_unref)

static gboolean
ws_is_open(CgHttpWs *self)
{
	return !self->closed &&
	       soup_websocket_connection_get_state(self->connection) == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
ws_send(CgHttpWs *self, const char *text)
{
	g_autofree char *valid = NULL;

	if (!ws_is_open(self))
		return;
	/* a text frame must be UTF-8 (libsoup refuses it with a critical
	 * otherwise), whatever an error message quotes */
	if (!g_utf8_validate(text, -1, NULL))
		text = valid = g_utf8_make_valid(text, -1);
	soup_websocket_connection_send_text(self->connection, text);
}

static void
ws_close(CgHttpWs *self, gushort code, const char *reason)
{
	g_clear_pointer(&self->member, cg_http_hub_leave);
	cg_http_queue_clear(&self->queue);
	if (ws_is_open(self))
		soup_websocket_connection_close(self->connection, code, reason);
}

static void
ws_send_error(CgHttpWs *self, const char *type, const GError *error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, type);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, cg_http_error_code(error));
	json_builder_set_member_name(builder, "message");
	json_builder_add_string_value(builder, error->message);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json = cg_http_json_to_string(root);
	ws_send(self, json);
}

/* The kernel has room: libsoup's own queue is empty. */
static gboolean
ws_has_room(CgHttpWs *self)
{
	int unsent = 0;

	if (self->fd < 0 || ioctl(self->fd, SIOCOUTQ, &unsent) != 0)
		return TRUE;
	return unsent < CG_HTTP_WS_ROOM;
}

/* The queued frames, as far as the client keeps up; after the terminal
 * one the connection is closed. */
static void
ws_flush(CgHttpWs *self)
{
	while (ws_is_open(self) && cg_http_queue_get_length(&self->queue) > 0 &&
	       ws_has_room(self)) {
		g_autoptr(CgHttpFrame) frame = cg_http_queue_pop(&self->queue);
		guint64 sequence = cg_http_frame_get_sequence(frame);

		cg_http_streams_note_sent(self->context->streams, self->user, self->progress_id,
					  sequence);
		/* the frame's JSON, shared: made from GVariant strings, so UTF-8 */
		soup_websocket_connection_send_message(self->connection, SOUP_WEBSOCKET_DATA_TEXT,
						       cg_http_frame_get_json(frame));
		cg_http_metrics_event_delivered(cg_http_frame_get_timestamp_us(frame));
		if (cg_http_frame_is_terminal(frame))
			ws_close(self, SOUP_WEBSOCKET_CLOSE_NORMAL, "finished");
	}
}

static void
ws_send_frame(CgHttpWs *self, CgHttpFrame *frame, gboolean replayed)
{
	guint64 sequence = cg_http_frame_get_sequence(frame);

	if (self->have_since && sequence <= self->last_sent)
		return;
	self->have_since = TRUE;
	self->last_sent = sequence;
	if (!ws_is_open(self))
		return;
	(void)(replayed ? cg_http_queue_push_replayed : cg_http_queue_push)(&self->queue, frame);
	ws_flush(self);
}

static void ws_cancel(CgHttpWs *self);

/* The cancels that waited for the owner check: sent now that it passed, or
 * refused with @error. */
static void
flush_queued_cancels(CgHttpWs *self, const GError *error)
{
	for (; self->queued_cancels > 0; self->queued_cancels--) {
		if (error != NULL)
			ws_send_error(self, "cancel", error);
		else
			ws_cancel(self);
	}
}

static void
ws_ready(CgHttpWs *self, CgHttpFrame *latest, gboolean replayed)
{
	gboolean terminal = cg_http_frame_is_terminal(latest);

	self->owner = CG_HTTP_WS_OWNER_PASSED;
	if (cg_http_resume_plan(self->have_since, self->last_sent,
				cg_http_frame_get_sequence(latest),
				terminal) == CG_HTTP_RESUME_FROM_START)
		self->have_since = FALSE;
	ws_send_frame(self, latest, replayed);
	if (terminal) {
		g_autoptr(GError) finished =
		    g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_ALREADY_FINISHED,
				"Generation %s has already finished", self->progress_id);

		/* the connection closes once the terminal frame is out */
		flush_queued_cancels(self, finished);
		return;
	}
	flush_queued_cancels(self, NULL);
}

static void
ws_frame(CgHttpWs *self, CgHttpFrame *frame, gboolean replayed)
{
	/* closed once the terminal frame is out (ws_flush) */
	ws_send_frame(self, frame, replayed);
}

static void
ws_failed(CgHttpWs *self, const GError *error)
{
	gboolean not_found = g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND);

	self->owner = CG_HTTP_WS_OWNER_REFUSED;
	flush_queued_cancels(self, error);
	ws_send_error(self, "error", error);
	ws_close(self, not_found ? CG_HTTP_WS_CLOSE_NOT_FOUND : CG_HTTP_WS_CLOSE_UNAVAILABLE,
		 cg_http_error_code(error));
}

static void
ws_vanished(CgHttpWs *self)
{
	g_autoptr(GError) error =
	    g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
				"The certificate service stopped; this generation is lost");

	if (self->owner == CG_HTTP_WS_OWNER_CHECKING)
		self->owner = CG_HTTP_WS_OWNER_REFUSED;
	flush_queued_cancels(self, error);
	ws_send_error(self, "error", error);
	ws_close(self, CG_HTTP_WS_CLOSE_UNAVAILABLE, "service_unavailable");
}

/* libsoup pings the connection itself: KEEPALIVE only retries the queue. */
static void
hub_cb(gpointer user_data, const CgHttpHubNotice *notice)
{
	CgHttpWs *self = user_data;

	if (notice->event == CG_HTTP_HUB_READY)
		ws_ready(self, notice->frame, notice->replayed);
	else if (notice->event == CG_HTTP_HUB_FRAME)
		ws_frame(self, notice->frame, notice->replayed);
	else if (notice->event == CG_HTTP_HUB_FAILED)
		ws_failed(self, notice->error);
	else if (notice->event == CG_HTTP_HUB_VANISHED)
		ws_vanished(self);
	else if (notice->event == CG_HTTP_HUB_KEEPALIVE)
		ws_flush(self);
}

static void
cancelled_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CgHttpWs) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = cg_http_owned_call_finish(result, NULL, NULL, NULL, &error);
	if (self->closed)
		return;
	if (reply == NULL) {
		ws_send_error(self, "cancel", error);
		return;
	}
	ws_send(self, "{\"type\":\"cancel\",\"success\":true}");
}

static void
redis_cancelled_cb(gpointer user_data, const GError *error, guint retry_after_s)
{
	g_autoptr(CgHttpWs) self = user_data;

	if (self->closed)
		return;
	if (error != NULL) {
		ws_send_error(self, "cancel", error);
		return;
	}
	ws_send(self, "{\"type\":\"cancel\",\"success\":true}");
}

/* Cancel through the owner check, like DELETE /api/certificates/progress/{id}. */
static void
ws_cancel(CgHttpWs *self)
{
	if (self->closed)
		return;
	if (self->context->redis != NULL) {
		cg_http_redis_cancel(self->context->redis, self->progress_id, self->user, NULL,
				     redis_cancelled_cb, ws_ref(self));
		return;
	}
	cg_http_owned_call(self->context->bus, self->progress_id, self->user, "Cancel",
			   G_VARIANT_TYPE("()"), self->cancellable, cancelled_cb, ws_ref(self));
}

CgHttpWsRequest
cg_http_ws_parse_message(gboolean text, const char *data, gsize len, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	JsonNode *kind;

	if (!text) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Only text messages are accepted");
		return CG_HTTP_WS_REQUEST_INVALID;
	}
	root = cg_http_json_parse_object(data, len, CG_HTTP_WS_MAX_JSON_DEPTH, error);
	if (root == NULL)
		return CG_HTTP_WS_REQUEST_INVALID;
	kind = json_object_get_member(json_node_get_object(root), "type");
	if (kind == NULL || json_node_get_value_type(kind) != G_TYPE_STRING ||
	    g_strcmp0(json_node_get_string(kind), "cancel") != 0) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Unknown message type; known: {\"type\": \"cancel\"}");
		return CG_HTTP_WS_REQUEST_INVALID;
	}
	return CG_HTTP_WS_REQUEST_CANCEL;
}

static void
message_cb(SoupWebsocketConnection *connection, gint type, GBytes *message, gpointer user_data)
{
	CgHttpWs *self = user_data;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const char *data = g_bytes_get_data(message, &len);

	switch (cg_http_ws_parse_message(type == SOUP_WEBSOCKET_DATA_TEXT, data, len, &error)) {
	case CG_HTTP_WS_REQUEST_CANCEL:
		break;
	case CG_HTTP_WS_REQUEST_INVALID:
	default:
		ws_send_error(self, "error", error);
		return;
	}
	switch (self->owner) {
	case CG_HTTP_WS_OWNER_PASSED:
		ws_cancel(self);
		return;
	case CG_HTTP_WS_OWNER_CHECKING:
		if (self->queued_cancels < CG_HTTP_WS_MAX_QUEUED_CANCELS) {
			self->queued_cancels++;
			return;
		}
		error = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
					    "Too many cancels before the stream started");
		ws_send_error(self, "cancel", error);
		return;
	case CG_HTTP_WS_OWNER_REFUSED:
	default:
		error = cg_http_not_found_error(self->progress_id);
		ws_send_error(self, "cancel", error);
		return;
	}
}

static void
closed_cb(SoupWebsocketConnection *connection, gpointer user_data)
{
	CgHttpWs *self = user_data;

	if (self->closed)
		return;
	self->closed = TRUE;
	g_clear_pointer(&self->member, cg_http_hub_leave);
	g_cancellable_cancel(self->cancellable);
	g_clear_signal_handler(&self->message_id, self->connection);
	g_clear_signal_handler(&self->closed_id, self->connection);
	cg_http_debug("WebSocket of %s for %s closed", self->progress_id, self->user);
	if (self->registered)
		cg_http_streams_remove(self->context->streams, self);
	ws_unref(self);
}

static void
ws_shutdown(gpointer stream)
{
	ws_close(stream, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "the bridge is stopping");
}

/* The socket under @connection (libsoup's stolen connection carries it),
 * its send buffer bounded; -1 when it is not found. */
static int
ws_socket_fd(SoupWebsocketConnection *connection)
{
	GIOStream *stream = soup_websocket_connection_get_io_stream(connection);
	GSocket *socket = cg_http_accept_stream_socket(stream);
	if (socket == NULL)
		return -1;
	g_socket_set_option(socket, SOL_SOCKET, SO_SNDBUF, CG_HTTP_WS_SNDBUF, NULL);
	return g_socket_get_fd(socket);
}

void
cg_http_ws_start(CgHttpStreamContext *context, SoupWebsocketConnection *connection,
		 const char *progress_id, const char *user, gboolean have_since, guint64 since)
{
	const CgHttpConfig *config = &context->config;
	CgHttpWs *self = g_new0(CgHttpWs, 1);
	g_autoptr(GError) error = NULL;
	guint retry_after_s = 0;

	self->ref_count = 1;
	self->context = cg_http_stream_context_ref(context);
	self->connection = g_object_ref(connection);
	self->progress_id = g_strdup(progress_id);
	self->user = g_strdup(user);
	self->have_since = have_since;
	self->last_sent = since;
	self->cancellable = g_cancellable_new();
	self->fd = ws_socket_fd(connection);
	soup_websocket_connection_set_max_incoming_payload_size(connection,
								CG_HTTP_WS_MAX_INCOMING);
	soup_websocket_connection_set_keepalive_interval(connection,
							 MAX(config->keepalive_ms / 1000, 1u));
	self->message_id = g_signal_connect(connection, "message", G_CALLBACK(message_cb), self);
	self->closed_id = g_signal_connect(connection, "closed", G_CALLBACK(closed_cb), self);

	if (!cg_http_streams_acquire_slot(context->streams, user, &retry_after_s, &error)) {
		ws_send_error(self, "error", error);
		soup_websocket_connection_close(connection, CG_HTTP_WS_CLOSE_TRY_AGAIN_LATER,
						cg_http_error_code(error));
		return;
	}
	self->registered = TRUE;
	cg_http_streams_add(context->streams, self, user, ws_shutdown);
	cg_http_debug("WebSocket of %s for %s", progress_id, user);
	self->member = cg_http_hubs_join_after(context->hubs, progress_id, user, have_since, since,
					       hub_cb, self);
}

void
cg_http_ws_refuse(SoupWebsocketConnection *connection, const GError *error)
{
	g_autofree char *json = cg_http_error_json(cg_http_error_code(error), error->message);
	g_autofree char *typed = NULL;
	gushort code = CG_HTTP_WS_CLOSE_UNAVAILABLE;

	if (soup_websocket_connection_get_state(connection) != SOUP_WEBSOCKET_STATE_OPEN)
		return;
	/* {"type":"error", "error": ..., "message": ...} */
	typed = g_strdup_printf("{\"type\":\"error\",%s", json + 1);
	soup_websocket_connection_send_text(connection, typed);
	if (g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND))
		code = CG_HTTP_WS_CLOSE_NOT_FOUND;
	else if (g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED) ||
		 g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_FORBIDDEN))
		code = SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION;
	else if (g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED) ||
		 g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_TOO_MANY_STREAMS))
		code = CG_HTTP_WS_CLOSE_TRY_AGAIN_LATER;
	soup_websocket_connection_close(connection, code, cg_http_error_code(error));
}

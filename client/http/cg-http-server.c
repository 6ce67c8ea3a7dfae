/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge's HTTP server: the SoupServer, the listeners (accepted by the
 * bridge itself, cg-http-accept.h: the SSE route is served without libsoup,
 * every other connection is handed to it), the life of every request
 * (timeouts, body size, default and CORS headers), the first routing step
 * (OPTIONS, /api, the WebSocket, static files), housekeeping and the
 * graceful shutdown. */
#include "cg-http-server.h"
#include "cg-http-log.h"

#include "cg-http-accept.h"

#include "cg-http-api.h"
#include "cg-http-cors.h"
#include "cg-http-metrics-route.h"
#include "cg-http-redis-auth.h"
#include "cg-http-response.h"
#include "cg-http-static.h"
#include "cg-http-verify.h"
#include "cg-http-stream-context.h"
#include "cg-http-timeouts.h"

#define CG_HTTP_HOUSEKEEPING_S 60
/* As many pending connections as the kernel allows (it caps the value at
 * net.core.somaxconn, 4096 on Debian 12): 10,000 streams may connect
 * within 2 s, and the acceptor takes them in batches. */
#define CG_HTTP_LISTEN_BACKLOG 65535

struct _CgHttpServer {
	GObject parent_instance;
	CgHttpConfig config;
	SoupServer *soup;
	CgHttpAccept *accept;
	CgHttpAuth *auth;
	CgHttpStreamContext *context;
	CgHttpApi *api;
	guint n_scrapes;   /* GET /metrics waiting for certgend */
	guint n_resolving; /* --redis: requests whose credential is looked up */
	guint housekeeping_id;
	gboolean shutting_down;
};

G_DEFINE_TYPE(CgHttpServer, cg_http_server, G_TYPE_OBJECT)

static const char *const *
allow_origins(CgHttpServer *self)
{
	return (const char *const *)self->config.allow_origins;
}

/* ---- request life --------------------------------------------------------------- */

static void
got_chunk_cb(SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
	CgHttpServer *self = user_data;
	gsize total = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(msg), "cg-http-body-bytes"));

	total += g_bytes_get_size(chunk);
	g_object_set_data(G_OBJECT(msg), "cg-http-body-bytes", GSIZE_TO_POINTER(total));
	if (total > self->config.max_body_bytes && soup_server_message_get_status(msg) == 0) {
		SoupMessageBody *body = soup_server_message_get_request_body(msg);

		soup_message_body_truncate(body);
		soup_message_body_set_accumulate(body, FALSE);
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Connection", "close");
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_PAYLOAD_TOO_LARGE, 0,
					  "The request body is larger than %zu bytes",
					  self->config.max_body_bytes);
	}
}

static void
got_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	CgHttpServer *self = user_data;
	SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);

	cg_http_timeout_arm(msg, self->config.body_timeout_ms, "request body timeout");
	cg_http_response_add_default_headers(msg);
	cg_http_cors_add_headers(allow_origins(self), msg);
	if (soup_message_headers_get_encoding(request) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_content_length(request) >
		(goffset)self->config.max_body_bytes) {
		soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
		soup_message_headers_replace(response, "Connection", "close");
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_PAYLOAD_TOO_LARGE, 0,
					  "The request body is larger than %zu bytes",
					  self->config.max_body_bytes);
	}
}

static void
got_body_cb(SoupServerMessage *msg, gpointer user_data)
{
	cg_http_timeout_disarm(msg);
}

static void
request_started_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	CgHttpServer *self = user_data;
	GSocket *socket = cg_http_accept_message_socket(msg);

	if (socket != NULL)
		cg_http_timeout_disarm_idle(socket);
	cg_http_timeout_arm(msg, self->config.header_timeout_ms, "header timeout");
	g_signal_connect_object(msg, "got-headers", G_CALLBACK(got_headers_cb), self, 0);
	g_signal_connect_object(msg, "got-chunk", G_CALLBACK(got_chunk_cb), self, 0);
	g_signal_connect_object(msg, "got-body", G_CALLBACK(got_body_cb), self, 0);
}

static void
request_finished_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	CgHttpServer *self = user_data;
	GSocket *socket = cg_http_accept_message_socket(msg);
	GUri *uri = soup_server_message_get_uri(msg);

	cg_http_timeout_disarm(msg);
	if (socket != NULL)
		cg_http_timeout_arm_idle(socket, self->config.idle_timeout_ms);
	cg_http_debug("%s %s -> %u", soup_server_message_get_method(msg),
		      uri != NULL ? g_uri_get_path(uri) : "?", soup_server_message_get_status(msg));
}

static void
request_aborted_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	GUri *uri = soup_server_message_get_uri(msg);

	cg_http_timeout_disarm(msg);
	cg_http_debug("%s %s -> aborted (%u)", soup_server_message_get_method(msg),
		      uri != NULL ? g_uri_get_path(uri) : "?", soup_server_message_get_status(msg));
}

/* ---- routing --------------------------------------------------------------------- */

static GError *
stopping_error(void)
{
	return g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_UNAVAILABLE,
				   "The bridge is stopping");
}

/* The acceptor's question: GET of the SSE route is served without libsoup. */
static gboolean
accept_route_cb(gpointer user_data, const CgHttpHead *head)
{
	CgHttpServer *self = user_data;

	/* --redis: libsoup's, whose requests can wait for Redis (the
	 * credential) before they are routed */
	if (self->context->redis != NULL)
		return FALSE;
	return g_str_equal(head->method, SOUP_METHOD_GET) &&
	       cg_http_api_stream_route_id(head->path) != NULL;
}

/* What libsoup and got_headers_cb() put on every response, for one of the
 * acceptor's (the body ends with the connection). */
static SoupMessageHeaders *
own_response_headers(CgHttpServer *self, SoupMessageHeaders *request)
{
	SoupMessageHeaders *response = soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = soup_date_time_to_string(now, SOUP_DATE_HTTP);

	soup_message_headers_append(response, "Date", date);
	soup_message_headers_append(response, "Server", "certgen-http");
	cg_http_response_add_default_headers_to(response);
	cg_http_cors_add_response_headers(allow_origins(self), request, response);
	soup_message_headers_append(response, "Connection", "close");
	return response;
}

static GBytes *
accept_serve_cb(gpointer user_data, GSocket *socket, CgHttpHead *head)
{
	CgHttpServer *self = user_data;
	g_autoptr(SoupMessageHeaders) response = own_response_headers(self, head->headers);

	cg_http_debug("GET %s (own accept path)", head->path);
	if (self->shutting_down) {
		g_autoptr(GError) error = stopping_error();

		return cg_http_response_render_error(head->version, error, 5, response);
	}
	return cg_http_api_serve_stream(self->api, socket, head, response);
}

/* --redis: an /api request waits for its credential (cg-http-redis-auth.h),
 * then is routed with it resolved. */
typedef struct {
	CgHttpServer *server;
	SoupServerMessage *msg;
	char *path;
	gboolean closed;
} CgHttpResolving;

static void
resolving_closed_cb(SoupServerMessage *msg, gpointer user_data)
{
	CgHttpResolving *resolving = user_data;

	resolving->closed = TRUE;
}

static void
resolved_cb(gpointer user_data, const GError *error)
{
	CgHttpResolving *resolving = user_data;
	CgHttpServer *self = resolving->server;
	SoupServerMessage *msg = resolving->msg;

	g_signal_handlers_disconnect_by_data(msg, resolving);
	if (!resolving->closed) {
		soup_server_message_unpause(msg);
		if (error != NULL) {
			guint retry_after_s = 0;
			g_autoptr(GError) failed = cg_http_redis_route_error(error, &retry_after_s);

			cg_http_respond_error(msg, failed, retry_after_s);
		} else if (self->shutting_down) {
			g_autoptr(GError) stopping = stopping_error();

			cg_http_respond_error(msg, stopping, 5);
		} else {
			cg_http_api_handle(self->api, msg, resolving->path,
					   soup_server_message_get_method(msg));
		}
	}
	self->n_resolving--;
	g_object_unref(msg);
	g_object_unref(self);
	g_free(resolving->path);
	g_free(resolving);
}

static void
resolve_and_handle(CgHttpServer *self, SoupServerMessage *msg, const char *path)
{
	CgHttpResolving *resolving = g_new0(CgHttpResolving, 1);

	resolving->server = g_object_ref(self);
	resolving->msg = g_object_ref(msg);
	resolving->path = g_strdup(path);
	g_signal_connect(msg, "finished", G_CALLBACK(resolving_closed_cb), resolving);
	g_signal_connect(msg, "disconnected", G_CALLBACK(resolving_closed_cb), resolving);
	self->n_resolving++;
	soup_server_message_pause(msg);
	cg_http_redis_auth_resolve(cg_http_redis_get_connection(self->context->redis), self->auth,
				   soup_server_message_get_request_headers(msg), NULL, resolved_cb,
				   resolving);
}

static void
handler(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
	gpointer user_data)
{
	CgHttpServer *self = user_data;
	const char *method = soup_server_message_get_method(msg);

	if (soup_server_message_get_status(msg) != 0)
		return;
	if (g_str_equal(method, SOUP_METHOD_OPTIONS)) {
		cg_http_cors_handle_options(allow_origins(self), msg, path);
		return;
	}
	if (g_str_equal(path, CG_HTTP_METRICS_PATH)) {
		cg_http_metrics_route_handle(msg, method, self->config.metrics_token_hash,
					     self->context->bus, G_OBJECT(self), &self->n_scrapes);
		return;
	}
	if (g_str_has_prefix(path, "/api/")) {
		if (self->shutting_down) {
			g_autoptr(GError) error = stopping_error();

			cg_http_respond_error(msg, error, 5);
			return;
		}
		if (self->context->redis != NULL) {
			resolve_and_handle(self, msg, path);
			return;
		}
		cg_http_api_handle(self->api, msg, path, method);
		return;
	}
	if (g_str_has_prefix(path, CG_HTTP_VERIFY_PATH)) {
		cg_http_api_handle_verify(self->api, msg, path, method);
		return;
	}
	cg_http_static_handle(self->config.web_root, msg, path, method);
}

/* Before a WebSocket upgrade; any status set here refuses it. */
static void
ws_pre_handler(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
	       gpointer user_data)
{
	CgHttpServer *self = user_data;

	if (self->shutting_down) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNAVAILABLE, 5,
					  "The bridge is stopping");
		return;
	}
	cg_http_api_check_websocket(self->api, msg, path);
}

static void
ws_handler(SoupServer *soup, SoupServerMessage *msg, const char *path,
	   SoupWebsocketConnection *connection, gpointer user_data)
{
	CgHttpServer *self = user_data;

	cg_http_api_start_websocket(self->api, msg, path, connection);
}

/* ---- the object ------------------------------------------------------------------- */

static gboolean
housekeeping_cb(gpointer user_data)
{
	CgHttpServer *self = user_data;
	gint64 now = g_get_monotonic_time();
	guint expired = cg_http_auth_sessions_expire(self->auth);

	cg_http_streams_prune(self->context->streams, now);
	cg_http_csv_generations_prune(self->context->csv_generations, now);
	cg_http_api_prune(self->api, now);
	if (expired > 0)
		cg_http_debug("%u sessions expired", expired);
	return G_SOURCE_CONTINUE;
}

static void
cg_http_server_dispose(GObject *object)
{
	CgHttpServer *self = CG_HTTP_SERVER(object);

	g_clear_handle_id(&self->housekeeping_id, g_source_remove);
	g_clear_pointer(&self->accept, cg_http_accept_free);
	if (self->soup != NULL) {
		soup_server_disconnect(self->soup);
		g_clear_object(&self->soup);
	}
	g_clear_object(&self->api);
	g_clear_object(&self->auth);
	G_OBJECT_CLASS(cg_http_server_parent_class)->dispose(object);
}

static void
cg_http_server_finalize(GObject *object)
{
	CgHttpServer *self = CG_HTTP_SERVER(object);

	g_clear_pointer(&self->context, cg_http_stream_context_unref);
	cg_http_config_clear(&self->config);
	G_OBJECT_CLASS(cg_http_server_parent_class)->finalize(object);
}

static void
cg_http_server_class_init(CgHttpServerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = cg_http_server_dispose;
	object_class->finalize = cg_http_server_finalize;
}

static void
cg_http_server_init(CgHttpServer *self)
{
}

CgHttpServer *
cg_http_server_new(const CgHttpConfig *config, CgHttpAuth *auth, CgHttpBus *bus)
{
	CgHttpServer *self = g_object_new(CG_TYPE_HTTP_SERVER, NULL);

	cg_http_config_copy(&self->config, config);
	self->auth = g_object_ref(auth);
	self->context = cg_http_stream_context_new(config, bus);
	self->api = cg_http_api_new(self->context, auth);
	self->soup = soup_server_new("server-header", "certgen-http", NULL);
	g_signal_connect_object(self->soup, "request-started", G_CALLBACK(request_started_cb), self,
				0);
	g_signal_connect_object(self->soup, "request-finished", G_CALLBACK(request_finished_cb),
				self, 0);
	g_signal_connect_object(self->soup, "request-aborted", G_CALLBACK(request_aborted_cb), self,
				0);
	soup_server_add_handler(self->soup, NULL, handler, self, NULL);
	soup_server_add_handler(self->soup, CG_HTTP_WS_PATH, ws_pre_handler, self, NULL);
	soup_server_add_websocket_handler(self->soup, CG_HTTP_WS_PATH, NULL, NULL, ws_handler, self,
					  NULL);
	self->accept = cg_http_accept_new(self->soup, self->config.header_timeout_ms,
					  "GET " CG_HTTP_STREAM_PATH "/", accept_route_cb,
					  accept_serve_cb, self);
	self->housekeeping_id =
	    g_timeout_add_seconds(CG_HTTP_HOUSEKEEPING_S, housekeeping_cb, self);
	return self;
}

CgHttpRedis *
cg_http_server_get_redis(CgHttpServer *self)
{
	return self->context->redis;
}

gboolean
cg_http_server_listen(CgHttpServer *self, GSocketAddress *address, GError **error)
{
	g_autoptr(GSocket) socket = NULL;

	/* Our own socket rather than soup_server_listen(): GSocket's default
	 * backlog of 10 drops connections in a burst of new streams (libsoup
	 * keeps it), and the bridge accepts itself. */
	socket = g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL)
		return FALSE;
	g_socket_set_listen_backlog(socket, CG_HTTP_LISTEN_BACKLOG);
	if (!g_socket_bind(socket, address, TRUE, error) || !g_socket_listen(socket, error))
		return FALSE;
	return cg_http_accept_add_listener(self->accept, socket, error);
}

gboolean
cg_http_server_listen_fd(CgHttpServer *self, int fd, GError **error)
{
	g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, error);

	if (socket == NULL)
		return FALSE;
	return cg_http_accept_add_listener(self->accept, socket, error);
}

GPtrArray *
cg_http_server_get_addresses(CgHttpServer *self)
{
	GPtrArray *addresses = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *listeners = cg_http_accept_get_listeners(self->accept);

	for (guint i = 0; i < listeners->len; i++) {
		g_autoptr(GSocketAddress) address =
		    g_socket_get_local_address(g_ptr_array_index(listeners, i), NULL);
		g_autofree char *host = NULL;
		GInetAddress *inet;

		if (address == NULL || !G_IS_INET_SOCKET_ADDRESS(address))
			continue;
		inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
		host = g_inet_address_to_string(inet);
		g_ptr_array_add(
		    addresses,
		    g_strdup_printf(
			g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6 ? "http://[%s]:%u/"
										: "http://%s:%u/",
			host, g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address))));
	}
	return addresses;
}

gboolean
cg_http_server_begin_shutdown(CgHttpServer *self)
{
	self->shutting_down = TRUE;
	cg_http_streams_shutdown_all(self->context->streams);
	return !cg_http_server_is_idle(self);
}

gboolean
cg_http_server_is_idle(CgHttpServer *self)
{
	return cg_http_streams_get_n_open(self->context->streams) == 0 &&
	       cg_http_api_get_n_pending(self->api) == 0 && self->n_resolving == 0;
}

void
cg_http_server_disconnect(CgHttpServer *self)
{
	if (self->accept != NULL)
		cg_http_accept_close(self->accept);
	if (self->soup != NULL)
		soup_server_disconnect(self->soup);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg-http-error.h"
#include "cg-http-follow.h"
#include "cg-http-json.h"
#include "cg-http-limits.h"
#include "cg-http-resume.h"
#include "cg-http-sse.h"
#include "cg-http-ws.h"

#define CG_HTTP_COOKIE "certgen_session"
#define CG_HTTP_MAX_STATIC_BYTES (8 * 1024 * 1024)
#define CG_HTTP_MAX_ID_LEN 128
#define CG_HTTP_HOUSEKEEPING_S 60
#define CG_HTTP_WS_PATH "/api/certificates/ws"
#define CG_HTTP_LISTEN_BACKLOG 1024

void
cg_http_config_init(CgHttpConfig *config)
{
	memset(config, 0, sizeof(*config));
	config->header_timeout_ms = 10000;
	config->idle_timeout_ms = 60000;
	config->body_timeout_ms = 30000;
	config->keepalive_ms = 15000;
	config->retry_ms = 2000;
	config->max_body_bytes = 1024 * 1024;
	config->max_json_depth = 32;
	config->streams_per_minute = 10;
	config->resumes_per_minute = 60;
	config->resume_ttl_s = 1800; /* certgend's [cleanup] max_age_s */
	config->resumable_per_user = 64;
	config->max_resumable = 65536;
	config->starts_per_minute = 5;
	config->max_streams = 5000;
	config->max_streams_per_user = 20;
	config->max_stream_backlog = 256 * 1024;
	config->session_ttl_s = 12 * 3600;
	config->max_sessions_per_user = 16;
	config->max_sessions = 10000;
}

void
cg_http_config_clear(CgHttpConfig *config)
{
	g_clear_pointer(&config->web_root, g_free);
	g_clear_pointer(&config->allow_origins, g_strfreev);
}

typedef struct {
	char *user;
	CgHttpStreamShutdownFunc shutdown_func;
} CgHttpStreamEntry;

struct _CgHttpServer {
	GObject parent_instance;
	CgHttpConfig config;
	SoupServer *soup;
	CgHttpAuth *auth;
	CgHttpBus *bus;
	CgHttpRateLimiter *streams_limiter;
	CgHttpRateLimiter *resumes_limiter;
	CgHttpRateLimiter *starts_limiter;
	CgHttpResumeTable *resumable;
	CgHttpStreamCaps *caps;
	GHashTable *streams; /* stream -> CgHttpStreamEntry */
	guint n_pending;
	guint housekeeping_id;
	gboolean shutting_down;
};

G_DEFINE_TYPE(CgHttpServer, cg_http_server, G_TYPE_OBJECT)

static void
stream_entry_free(gpointer data)
{
	CgHttpStreamEntry *entry = data;

	g_free(entry->user);
	g_free(entry);
}

/* ---- responses ------------------------------------------------------------ */

void
cg_http_respond_json(SoupServerMessage *msg, guint status, const char *json)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json,
					 strlen(json));
}

void
cg_http_respond_error(SoupServerMessage *msg, const GError *error, guint retry_after_s)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	guint status = cg_http_error_status(error);
	g_autofree char *json = cg_http_error_json(cg_http_error_code(error), error->message);

	if (status == SOUP_STATUS_UNAUTHORIZED)
		soup_message_headers_replace(headers, "WWW-Authenticate",
					     "Bearer realm=\"certgen\"");
	if (retry_after_s > 0) {
		g_autofree char *value = g_strdup_printf("%u", retry_after_s);

		soup_message_headers_replace(headers, "Retry-After", value);
	}
	cg_http_respond_json(msg, status, json);
}

static void respond_new_error(SoupServerMessage *msg, CgHttpError code, guint retry_after_s,
			      const char *format, ...) G_GNUC_PRINTF(4, 5);

static void
respond_new_error(SoupServerMessage *msg, CgHttpError code, guint retry_after_s, const char *format,
		  ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start(args, format);
	error = g_error_new_valist(CG_HTTP_ERROR, code, format, args);
	va_end(args);
	cg_http_respond_error(msg, error, retry_after_s);
}

static void
respond_method_not_allowed(SoupServerMessage *msg, const char *allow)
{
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
	respond_new_error(msg, CG_HTTP_ERROR_METHOD_NOT_ALLOWED, 0, "Allowed methods: %s", allow);
}

/* ---- pending asynchronous requests ------------------------------------------ */

/* A request answered after D-Bus calls: the message stays paused until then.
 * `closed` is set when libsoup finished it (the client left or the server
 * went down): such a message is never touched again. */
typedef struct {
	CgHttpServer *server;
	SoupServerMessage *msg;
	char *user;
	char *progress_id;
	gboolean closed;
	gulong finished_id;
	gulong disconnected_id;
	GVariant *snapshot;
} CgHttpPending;

static void
pending_disconnect(CgHttpPending *pending)
{
	g_clear_signal_handler(&pending->finished_id, pending->msg);
	g_clear_signal_handler(&pending->disconnected_id, pending->msg);
}

static void
pending_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	CgHttpPending *pending = user_data;

	pending->closed = TRUE;
	pending_disconnect(pending);
}

static CgHttpPending *
pending_new(CgHttpServer *self, SoupServerMessage *msg, const char *user, const char *progress_id)
{
	CgHttpPending *pending = g_new0(CgHttpPending, 1);

	pending->server = g_object_ref(self);
	pending->msg = g_object_ref(msg);
	pending->user = g_strdup(user);
	pending->progress_id = g_strdup(progress_id);
	pending->finished_id =
	    g_signal_connect(msg, "finished", G_CALLBACK(pending_finished_cb), pending);
	pending->disconnected_id =
	    g_signal_connect(msg, "disconnected", G_CALLBACK(pending_finished_cb), pending);
	self->n_pending++;
	soup_server_message_pause(msg);
	return pending;
}

/* Sends what was set on the message (unless it is closed) and frees. */
static void
pending_done(CgHttpPending *pending)
{
	if (!pending->closed) {
		pending_disconnect(pending);
		soup_server_message_unpause(pending->msg);
	}
	pending->server->n_pending--;
	g_clear_pointer(&pending->snapshot, g_variant_unref);
	g_clear_object(&pending->msg);
	g_clear_object(&pending->server);
	g_free(pending->user);
	g_free(pending->progress_id);
	g_free(pending);
}

static void
pending_fail(CgHttpPending *pending, const GError *error, guint retry_after_s)
{
	if (!pending->closed)
		cg_http_respond_error(pending->msg, error, retry_after_s);
	pending_done(pending);
}

static void
pending_fail_dbus(CgHttpPending *pending, const GError *dbus_error)
{
	guint retry_after_s = 0;
	g_autoptr(GError) error = cg_http_error_from_dbus(dbus_error, &retry_after_s);

	if (g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND) &&
	    pending->progress_id != NULL) {
		g_clear_error(&error);
		error = cg_http_not_found_error(pending->progress_id);
	}
	pending_fail(pending, error, retry_after_s);
}

/* ---- connection timeouts ------------------------------------------------------ */

/* libsoup has no timeouts of its own. Each request gets a timer from
 * request-started to got-headers (the header timeout) and from got-headers
 * to got-body (the body timeout), kept as data on the message; a kept-alive
 * connection gets one from request-finished to its next request (the idle
 * timeout: libsoup 3.2 starts the next request only when bytes arrive),
 * kept as data on the socket. When one fires the socket is shut down,
 * libsoup sees end-of-file and drops the connection. */
typedef struct {
	GSource *source;
	GSocket *socket;
	gboolean owns_socket; /* FALSE for the timer kept on the socket itself */
	const char *what;
} CgHttpTimer;

static void
timer_free(gpointer data)
{
	CgHttpTimer *timer = data;

	g_source_destroy(timer->source);
	g_source_unref(timer->source);
	if (timer->owns_socket)
		g_object_unref(timer->socket);
	g_free(timer);
}

static gboolean
timer_fired_cb(gpointer user_data)
{
	CgHttpTimer *timer = user_data;

	g_debug("Closing a connection: %s", timer->what);
	g_socket_shutdown(timer->socket, TRUE, TRUE, NULL);
	return G_SOURCE_REMOVE;
}

static CgHttpTimer *
timer_new(GSocket *socket, gboolean owns_socket, guint timeout_ms, const char *what)
{
	CgHttpTimer *timer = g_new0(CgHttpTimer, 1);

	timer->socket = owns_socket ? g_object_ref(socket) : socket;
	timer->owns_socket = owns_socket;
	timer->what = what;
	timer->source = g_timeout_source_new(timeout_ms);
	g_source_set_callback(timer->source, timer_fired_cb, timer, NULL);
	g_source_attach(timer->source, NULL);
	return timer;
}

static void
arm_timer(SoupServerMessage *msg, guint timeout_ms, const char *what)
{
	GSocket *socket = soup_server_message_get_socket(msg);

	if (socket == NULL || timeout_ms == 0) {
		g_object_set_data(G_OBJECT(msg), "cg-http-timer", NULL);
		return;
	}
	g_object_set_data_full(G_OBJECT(msg), "cg-http-timer",
			       timer_new(socket, TRUE, timeout_ms, what), timer_free);
}

static void
arm_idle_timer(GSocket *socket, guint timeout_ms)
{
	if (timeout_ms == 0 || g_socket_is_closed(socket))
		return;
	g_object_set_data_full(G_OBJECT(socket), "cg-http-idle-timer",
			       timer_new(socket, FALSE, timeout_ms, "idle timeout"), timer_free);
}

/* ---- CORS and origins ----------------------------------------------------------- */

static gboolean
origin_is_allowed(CgHttpServer *self, const char *origin)
{
	if (origin == NULL || self->config.allow_origins == NULL)
		return FALSE;
	return g_strv_contains((const char *const *)self->config.allow_origins, origin);
}

static gboolean
origin_is_same(SoupServerMessage *msg, const char *origin)
{
	const char *host =
	    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");
	g_autofree char *expected = NULL;

	if (host == NULL)
		return FALSE;
	expected = g_strdup_printf("http://%s", host);
	return g_ascii_strcasecmp(origin, expected) == 0;
}

/* A request a browser made for another site: refused unless allowed. */
static gboolean
origin_is_acceptable(CgHttpServer *self, SoupServerMessage *msg)
{
	const char *origin =
	    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Origin");

	return origin == NULL || origin_is_same(msg, origin) || origin_is_allowed(self, origin);
}

static void
add_cors_headers(CgHttpServer *self, SoupServerMessage *msg)
{
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
	const char *origin =
	    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Origin");

	if (self->config.allow_origins != NULL)
		soup_message_headers_append(response, "Vary", "Origin");
	if (!origin_is_allowed(self, origin))
		return;
	soup_message_headers_replace(response, "Access-Control-Allow-Origin", origin);
	soup_message_headers_replace(response, "Access-Control-Allow-Credentials", "true");
	soup_message_headers_replace(response, "Access-Control-Expose-Headers",
				     "Retry-After, Location, Content-Disposition");
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
		respond_new_error(msg, CG_HTTP_ERROR_PAYLOAD_TOO_LARGE, 0,
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

	arm_timer(msg, self->config.body_timeout_ms, "request body timeout");
	soup_message_headers_replace(response, "X-Content-Type-Options", "nosniff");
	soup_message_headers_replace(response, "Referrer-Policy", "no-referrer");
	add_cors_headers(self, msg);
	if (soup_message_headers_get_encoding(request) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_content_length(request) >
		(goffset)self->config.max_body_bytes) {
		soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
		soup_message_headers_replace(response, "Connection", "close");
		respond_new_error(msg, CG_HTTP_ERROR_PAYLOAD_TOO_LARGE, 0,
				  "The request body is larger than %zu bytes",
				  self->config.max_body_bytes);
	}
}

static void
got_body_cb(SoupServerMessage *msg, gpointer user_data)
{
	g_object_set_data(G_OBJECT(msg), "cg-http-timer", NULL);
}

static void
request_started_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	CgHttpServer *self = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);

	if (socket != NULL)
		g_object_set_data(G_OBJECT(socket), "cg-http-idle-timer", NULL);
	arm_timer(msg, self->config.header_timeout_ms, "header timeout");
	g_signal_connect_object(msg, "got-headers", G_CALLBACK(got_headers_cb), self, 0);
	g_signal_connect_object(msg, "got-chunk", G_CALLBACK(got_chunk_cb), self, 0);
	g_signal_connect_object(msg, "got-body", G_CALLBACK(got_body_cb), self, 0);
}

static void
request_finished_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	CgHttpServer *self = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);
	GUri *uri = soup_server_message_get_uri(msg);

	g_object_set_data(G_OBJECT(msg), "cg-http-timer", NULL);
	if (socket != NULL)
		arm_idle_timer(socket, self->config.idle_timeout_ms);
	g_debug("%s %s -> %u", soup_server_message_get_method(msg),
		uri != NULL ? g_uri_get_path(uri) : "?", soup_server_message_get_status(msg));
}

static void
request_aborted_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	GUri *uri = soup_server_message_get_uri(msg);

	g_object_set_data(G_OBJECT(msg), "cg-http-timer", NULL);
	g_debug("%s %s -> aborted (%u)", soup_server_message_get_method(msg),
		uri != NULL ? g_uri_get_path(uri) : "?", soup_server_message_get_status(msg));
}

/* ---- authentication --------------------------------------------------------------- */

static char *
cookie_session_id(SoupServerMessage *msg)
{
	const char *header =
	    soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
	g_auto(GStrv) parts = NULL;

	if (header == NULL)
		return NULL;
	parts = g_strsplit_set(header, ";,", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		const char *part = g_strstrip(parts[i]);

		if (g_str_has_prefix(part, CG_HTTP_COOKIE "="))
			return g_strdup(part + strlen(CG_HTTP_COOKIE "="));
	}
	return NULL;
}

/* The web user of a request: the Bearer token, or (when @allow_cookie: GET
 * requests) the session cookie. */
static char *
authenticate(CgHttpServer *self, SoupServerMessage *msg, gboolean allow_cookie, GError **error)
{
	const char *authorization = soup_message_headers_get_one(
	    soup_server_message_get_request_headers(msg), "Authorization");
	g_autofree char *session = NULL;
	char *user;

	if (authorization != NULL) {
		const char *token;

		if (g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0) {
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
					    "Use Authorization: Bearer <token>");
			return NULL;
		}
		token = authorization + 7;
		while (*token == ' ')
			token++;
		user = cg_http_auth_check_token(self->auth, token);
		if (user == NULL)
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
					    "Invalid token");
		return user;
	}
	session = allow_cookie ? cookie_session_id(msg) : NULL;
	if (session != NULL) {
		user = cg_http_auth_session_lookup(self->auth, session);
		if (user == NULL)
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
					    "The session has expired or is unknown; sign in "
					    "again");
		return user;
	}
	g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_UNAUTHORIZED,
			    allow_cookie ? "Authorization: Bearer <token> or a session cookie is "
					   "required"
					 : "This request needs the Authorization: Bearer <token> "
					   "header");
	return NULL;
}

/* authenticate() + the origin check + the error response. */
static char *
authenticate_or_respond(CgHttpServer *self, SoupServerMessage *msg, gboolean allow_cookie)
{
	g_autoptr(GError) error = NULL;
	char *user;

	if (!origin_is_acceptable(self, msg)) {
		respond_new_error(msg, CG_HTTP_ERROR_FORBIDDEN, 0, "Origin not allowed");
		return NULL;
	}
	user = authenticate(self, msg, allow_cookie, &error);
	if (user == NULL)
		cg_http_respond_error(msg, error, 0);
	return user;
}

static gboolean
progress_id_is_valid(const char *id)
{
	gsize len = strlen(id);

	if (len == 0 || len > CG_HTTP_MAX_ID_LEN)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_progress_id(SoupServerMessage *msg, const char *id)
{
	g_autoptr(GError) error = NULL;

	if (progress_id_is_valid(id))
		return TRUE;
	error = cg_http_not_found_error(id);
	cg_http_respond_error(msg, error, 0);
	return FALSE;
}

/* ---- POST /api/certificates ----------------------------------------------------------- */

static void
started_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	g_autofree char *location = NULL;
	const char *progress_id;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL) {
		pending_fail_dbus(pending, error);
		return;
	}
	g_variant_get(reply, "(&s)", &progress_id);
	g_debug("%s started %s", pending->user, progress_id);
	if (pending->closed) {
		pending_done(pending);
		return;
	}
	builder = json_builder_new_immutable();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "progressId");
	json_builder_add_string_value(builder, progress_id);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json = cg_http_json_to_string(root);
	location = g_strdup_printf("/api/certificates/progress/%s", progress_id);
	soup_message_headers_replace(soup_server_message_get_response_headers(pending->msg),
				     "Location", location);
	cg_http_respond_json(pending->msg, SOUP_STATUS_CREATED, json);
	pending_done(pending);
}

static void
handle_start(CgHttpServer *self, SoupServerMessage *msg)
{
	SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
	g_autofree char *user = authenticate_or_respond(self, msg, FALSE);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *data_path = NULL;
	GVariant *parameters;
	const char *content_type;
	guint retry_after_s = 0;

	if (user == NULL)
		return;
	if (!cg_http_rate_limiter_try(self->starts_limiter, user, g_get_monotonic_time(),
				      &retry_after_s)) {
		respond_new_error(msg, CG_HTTP_ERROR_RATE_LIMITED, retry_after_s,
				  "At most %u generation requests per minute; try again in %u s",
				  self->config.starts_per_minute, retry_after_s);
		return;
	}
	content_type = soup_message_headers_get_content_type(request, NULL);
	if (content_type != NULL && g_ascii_strcasecmp(content_type, "application/json") != 0) {
		respond_new_error(msg, CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE, 0,
				  "The request body must be application/json");
		return;
	}
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	parameters = cg_http_start_parameters_from_body(
	    g_bytes_get_data(body, NULL), g_bytes_get_size(body), self->config.max_json_depth, user,
	    &data_path, &error);
	if (parameters == NULL && data_path != NULL) {
		/* what certgend would call InvalidData, with its "errors" list */
		g_autofree char *json = cg_http_invalid_data_json(error->message, data_path);

		cg_http_respond_json(msg, cg_http_error_status(error), json);
		return;
	}
	if (parameters == NULL) {
		cg_http_respond_error(msg, error, 0);
		return;
	}
	cg_http_bus_call(self->bus, "StartGeneration", parameters, G_VARIANT_TYPE("(s)"), NULL,
			 started_cb, pending_new(self, msg, user, NULL));
}

/* ---- DELETE /api/certificates/progress/{id} ---------------------------------------------- */

static void
cancelled_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint retry_after_s = 0;

	reply = cg_http_owned_call_finish(result, NULL, NULL, &retry_after_s, &error);
	if (reply == NULL) {
		pending_fail(pending, error, retry_after_s);
		return;
	}
	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, "{\"success\":true}");
	pending_done(pending);
}

/* ---- GET .../{id}/analytics ----------------------------------------------------------------- */

static void
analytics_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) analytics = NULL;
	g_autofree char *json = NULL;
	guint retry_after_s = 0;

	reply = cg_http_owned_call_finish(result, NULL, NULL, &retry_after_s, &error);
	if (reply == NULL) {
		pending_fail(pending, error, retry_after_s);
		return;
	}
	g_variant_get(reply, "(@a{sv})", &analytics);
	json = cg_http_analytics_to_json(analytics);
	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
	pending_done(pending);
}

/* ---- GET /api/certificates/{id}/download ------------------------------------------------- */

static char *
download_filename(CgHttpPending *pending)
{
	g_autoptr(GVariant) result = NULL;
	const char *number = NULL;
	GString *name = g_string_new(NULL);

	result = g_variant_lookup_value(pending->snapshot, "result", G_VARIANT_TYPE_VARDICT);
	if (result != NULL)
		g_variant_lookup(result, "certificate_number", "&s", &number);
	if (number == NULL)
		number = pending->progress_id;
	for (const char *p = number; *p != '\0' && name->len < 64; p++) {
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_')
			g_string_append_c(name, *p);
	}
	if (name->len == 0)
		g_string_append(name, "certificate");
	g_string_append(name, ".pdf");
	return g_string_free(name, FALSE);
}

static void
opened_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *filename = NULL;
	g_autofree char *disposition = NULL;
	SoupMessageHeaders *headers;
	gint32 handle = -1;
	guint retry_after_s = 0;
	int fd;

	reply =
	    cg_http_owned_call_finish(result, &pending->snapshot, &fd_list, &retry_after_s, &error);
	if (reply == NULL) {
		pending_fail(pending, error, retry_after_s);
		return;
	}
	g_variant_get(reply, "(h)", &handle);
	if (fd_list == NULL || handle < 0 || handle >= g_unix_fd_list_get_length(fd_list)) {
		g_autoptr(GError) bad = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
							    "certgend sent no file descriptor");

		pending_fail(pending, bad, 0);
		return;
	}
	fd = g_unix_fd_list_get(fd_list, handle, &error);
	if (fd >= 0) {
		mapped = g_mapped_file_new_from_fd(fd, FALSE, &error);
		close(fd);
	}
	if (mapped == NULL) {
		g_autoptr(GError) bad =
		    g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
				"Could not read the certificate: %s", error->message);

		pending_fail(pending, bad, 0);
		return;
	}
	if (pending->closed) {
		pending_done(pending);
		return;
	}
	bytes = g_mapped_file_get_bytes(mapped);
	filename = download_filename(pending);
	disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
	headers = soup_server_message_get_response_headers(pending->msg);
	soup_message_headers_replace(headers, "Content-Disposition", disposition);
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_set_content_type(headers, "application/pdf", NULL);
	soup_message_headers_set_content_length(headers, (goffset)g_bytes_get_size(bytes));
	soup_message_body_set_accumulate(soup_server_message_get_response_body(pending->msg),
					 FALSE);
	soup_message_body_append_bytes(soup_server_message_get_response_body(pending->msg), bytes);
	soup_message_body_complete(soup_server_message_get_response_body(pending->msg));
	soup_server_message_set_status(pending->msg, SOUP_STATUS_OK, NULL);
	pending_done(pending);
}

/* ---- GET /api/certificates/progress/{id} (SSE) ---------------------------------------------- */

gboolean
cg_http_server_acquire_stream_slot(CgHttpServer *self, const char *user, guint *retry_after_s,
				   GError **error)
{
	switch (cg_http_stream_caps_acquire(self->caps, user)) {
	case CG_HTTP_CAP_OK:
		return TRUE;
	case CG_HTTP_CAP_USER_FULL:
		*retry_after_s = 5;
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_TOO_MANY_STREAMS,
			    "At most %u progress streams may be open at once per user",
			    self->config.max_streams_per_user);
		return FALSE;
	case CG_HTTP_CAP_GLOBAL_FULL:
	default:
		*retry_after_s = 5;
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_OVERLOADED,
			    "The bridge serves its maximum of %u progress streams; try again "
			    "later",
			    self->config.max_streams);
		return FALSE;
	}
}

void
cg_http_server_release_stream_slot(CgHttpServer *self, const char *user)
{
	cg_http_stream_caps_release(self->caps, user);
}

void
cg_http_server_note_sent(CgHttpServer *self, const char *user, const char *progress_id,
			 guint64 sequence)
{
	cg_http_resume_table_note(self->resumable, user, progress_id, sequence,
				  g_get_monotonic_time());
}

/* The per-minute stream limit. A genuine resume — this user was sent
 * events of @progress_id up to @since — counts against the (higher) resume
 * limit instead; any other Last-Event-ID / lastEventId counts as a new
 * stream. */
static gboolean
check_stream_rate(CgHttpServer *self, SoupServerMessage *msg, const char *user,
		  const char *progress_id, gboolean have_since, guint64 since)
{
	gint64 now = g_get_monotonic_time();
	guint retry_after_s = 0;

	if (have_since &&
	    cg_http_resume_table_check(self->resumable, user, progress_id, since, now)) {
		if (cg_http_rate_limiter_try(self->resumes_limiter, user, now, &retry_after_s))
			return TRUE;
		respond_new_error(msg, CG_HTTP_ERROR_RATE_LIMITED, retry_after_s,
				  "At most %u stream reconnects per minute; try again in %u s",
				  self->config.resumes_per_minute, retry_after_s);
		return FALSE;
	}
	if (cg_http_rate_limiter_try(self->streams_limiter, user, now, &retry_after_s))
		return TRUE;
	respond_new_error(msg, CG_HTTP_ERROR_RATE_LIMITED, retry_after_s,
			  "At most %u progress streams per minute; try again in %u s",
			  self->config.streams_per_minute, retry_after_s);
	return FALSE;
}

static void
handle_stream(CgHttpServer *self, SoupServerMessage *msg, const char *progress_id)
{
	g_autofree char *user = authenticate_or_respond(self, msg, TRUE);
	g_autoptr(GError) error = NULL;
	const char *last_event_id;
	gboolean resume;
	guint64 sequence = 0;
	guint retry_after_s = 0;

	if (user == NULL || !check_progress_id(msg, progress_id))
		return;
	last_event_id = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
						     "Last-Event-ID");
	resume = cg_http_resume_parse_id(last_event_id, &sequence);
	if (!check_stream_rate(self, msg, user, progress_id, resume, sequence))
		return;
	if (!cg_http_server_acquire_stream_slot(self, user, &retry_after_s, &error)) {
		cg_http_respond_error(msg, error, retry_after_s);
		return;
	}
	cg_http_sse_start(self, msg, progress_id, user, resume, sequence);
}

/* ---- /api/certificates/ws/{id} ----------------------------------------------------------------
 */

static gboolean
ws_since(SoupServerMessage *msg, guint64 *since)
{
	return cg_http_resume_parse_query(g_uri_get_query(soup_server_message_get_uri(msg)), since);
}

static const char *
ws_progress_id(const char *path)
{
	if (!g_str_has_prefix(path, CG_HTTP_WS_PATH "/"))
		return NULL;
	return path + strlen(CG_HTTP_WS_PATH "/");
}

/* Before the upgrade: method, origin, authentication, id, rate limit and
 * stream caps; any status set here refuses the upgrade. */
static void
ws_pre_handler(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
	       gpointer user_data)
{
	CgHttpServer *self = user_data;
	const char *progress_id = ws_progress_id(path);
	g_autofree char *user = NULL;
	g_autoptr(GError) error = NULL;
	guint64 since = 0;
	gboolean have_since;
	guint retry_after_s = 0;

	if (self->shutting_down) {
		respond_new_error(msg, CG_HTTP_ERROR_UNAVAILABLE, 5, "The bridge is stopping");
		return;
	}
	if (progress_id == NULL || strchr(progress_id, '/') != NULL) {
		respond_new_error(msg, CG_HTTP_ERROR_NOT_FOUND, 0, "No such API route");
		return;
	}
	if (!g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_GET)) {
		respond_method_not_allowed(msg, "GET");
		return;
	}
	user = authenticate_or_respond(self, msg, TRUE);
	if (user == NULL || !check_progress_id(msg, progress_id))
		return;
	have_since = ws_since(msg, &since);
	if (!check_stream_rate(self, msg, user, progress_id, have_since, since))
		return;
	if (!cg_http_server_acquire_stream_slot(self, user, &retry_after_s, &error)) {
		cg_http_respond_error(msg, error, retry_after_s);
		return;
	}
	cg_http_server_release_stream_slot(self, user);
	g_object_set_data_full(G_OBJECT(msg), "cg-http-user", g_steal_pointer(&user), g_free);
}

static void
ws_handler(SoupServer *soup, SoupServerMessage *msg, const char *path,
	   SoupWebsocketConnection *connection, gpointer user_data)
{
	CgHttpServer *self = user_data;
	const char *user = g_object_get_data(G_OBJECT(msg), "cg-http-user");
	const char *progress_id = ws_progress_id(path);
	guint64 since = 0;
	gboolean have_since = ws_since(msg, &since);

	if (user == NULL || progress_id == NULL) {
		soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
						NULL);
		return;
	}
	cg_http_ws_start(self, connection, progress_id, user, have_since, since);
}

/* ---- /api/session ------------------------------------------------------------------------------
 */

static void
handle_session(CgHttpServer *self, SoupServerMessage *msg, const char *method)
{
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
	g_autofree char *user = NULL;

	if (!g_str_equal(method, SOUP_METHOD_POST) && !g_str_equal(method, SOUP_METHOD_DELETE)) {
		respond_method_not_allowed(msg, "POST, DELETE");
		return;
	}
	user = authenticate_or_respond(self, msg, FALSE);
	if (user == NULL)
		return;
	if (g_str_equal(method, SOUP_METHOD_POST)) {
		guint ttl_s = 0;
		g_autofree char *session = cg_http_auth_session_new(self->auth, user, &ttl_s);
		g_autofree char *cookie = NULL;
		g_autofree char *json = NULL;
		g_autofree char *escaped = NULL;

		if (session == NULL) {
			respond_new_error(msg, CG_HTTP_ERROR_FAILED, 0,
					  "Could not create a session");
			return;
		}
		cookie = g_strdup_printf(CG_HTTP_COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; "
							"SameSite=Strict",
					 session, ttl_s);
		soup_message_headers_append(response, "Set-Cookie", cookie);
		escaped = g_strescape(user, NULL);
		json = g_strdup_printf("{\"success\":true,\"user\":\"%s\",\"expiresIn\":%u}",
				       escaped, ttl_s);
		cg_http_respond_json(msg, SOUP_STATUS_OK, json);
	} else {
		g_autofree char *session = cookie_session_id(msg);

		if (session != NULL)
			cg_http_auth_session_remove(self->auth, session, user);
		soup_message_headers_append(response, "Set-Cookie",
					    CG_HTTP_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
							   "SameSite=Strict");
		cg_http_respond_json(msg, SOUP_STATUS_OK, "{\"success\":true}");
	}
}

/* ---- static files
 * -------------------------------------------------------------------------------- */

static const char *
static_content_type(const char *name)
{
	static const struct {
		const char *suffix;
		const char *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		if (g_str_has_suffix(name, types[i].suffix))
			return types[i].type;
	}
	return NULL;
}

static void
respond_not_found_page(SoupServerMessage *msg)
{
	const char *text = "Not found\n";

	soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
	soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, text,
					 strlen(text));
}

/* GET / and GET /<name> for a plain file name of the web root (no
 * directories, no hidden files, known types only). */
static void
handle_static(CgHttpServer *self, SoupServerMessage *msg, const char *path, const char *method)
{
	const char *name = g_str_equal(path, "/") ? "index.html" : path + 1;
	const char *content_type = static_content_type(name);
	g_autofree char *file = NULL;
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	struct stat st;
	int fd;

	if (!g_str_equal(method, SOUP_METHOD_GET) && !g_str_equal(method, SOUP_METHOD_HEAD)) {
		respond_method_not_allowed(msg, "GET, HEAD");
		return;
	}
	if (content_type == NULL || name[0] == '.' || strchr(name, '/') != NULL ||
	    strchr(name, '\\') != NULL || strchr(name, '%') != NULL || strlen(name) > 128) {
		respond_not_found_page(msg);
		return;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_') {
			respond_not_found_page(msg);
			return;
		}
	}
	file = g_build_filename(self->config.web_root, name, NULL);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		respond_not_found_page(msg);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CG_HTTP_MAX_STATIC_BYTES) {
		close(fd);
		respond_not_found_page(msg);
		return;
	}
	close(fd);
	if (!g_file_get_contents(file, &contents, &length, &error)) {
		g_debug("Could not read %s: %s", file, error->message);
		respond_not_found_page(msg);
		return;
	}
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
				     "no-cache");
	if (g_str_has_suffix(name, ".html"))
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "X-Frame-Options", "DENY");
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, content_type, SOUP_MEMORY_TAKE,
					 g_steal_pointer(&contents), length);
}

/* ---- OPTIONS (CORS preflight)
 * -------------------------------------------------------------------- */

static void
handle_options(CgHttpServer *self, SoupServerMessage *msg, const char *path)
{
	SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
	const char *origin = soup_message_headers_get_one(request, "Origin");
	const char *allow =
	    g_str_has_prefix(path, "/api/") ? "GET, POST, DELETE, OPTIONS" : "GET, HEAD, OPTIONS";

	if (origin != NULL && !origin_is_same(msg, origin) && !origin_is_allowed(self, origin)) {
		respond_new_error(msg, CG_HTTP_ERROR_FORBIDDEN, 0, "Origin not allowed");
		return;
	}
	soup_message_headers_replace(response, "Allow", allow);
	if (origin != NULL &&
	    soup_message_headers_get_one(request, "Access-Control-Request-Method") != NULL) {
		soup_message_headers_replace(response, "Access-Control-Allow-Methods", allow);
		soup_message_headers_replace(response, "Access-Control-Allow-Headers",
					     "Authorization, Content-Type, Last-Event-ID");
		soup_message_headers_replace(response, "Access-Control-Max-Age", "600");
	}
	soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- routing
 * -------------------------------------------------------------------------------------- */

static void
handle_api(CgHttpServer *self, SoupServerMessage *msg, const char *path, const char *method)
{
	g_auto(GStrv) parts = g_strsplit(path + strlen("/api/"), "/", 6);
	guint n = g_strv_length(parts);
	gboolean get = g_str_equal(method, SOUP_METHOD_GET);
	gboolean delete = g_str_equal(method, SOUP_METHOD_DELETE);

	if (n == 1 && g_str_equal(parts[0], "session")) {
		handle_session(self, msg, method);
		return;
	}
	if (n >= 1 && g_str_equal(parts[0], "certificates")) {
		if (n == 1) {
			if (!g_str_equal(method, SOUP_METHOD_POST)) {
				respond_method_not_allowed(msg, "POST");
				return;
			}
			handle_start(self, msg);
			return;
		}
		if (n == 3 && g_str_equal(parts[1], "progress")) {
			g_autofree char *user = NULL;

			if (get) {
				handle_stream(self, msg, parts[2]);
				return;
			}
			if (!delete) {
				respond_method_not_allowed(msg, "GET, DELETE");
				return;
			}
			user = authenticate_or_respond(self, msg, FALSE);
			if (user == NULL || !check_progress_id(msg, parts[2]))
				return;
			cg_http_owned_call(self->bus, parts[2], user, "Cancel",
					   G_VARIANT_TYPE("()"), NULL, cancelled_cb,
					   pending_new(self, msg, user, parts[2]));
			return;
		}
		if (n == 4 && g_str_equal(parts[1], "progress") &&
		    g_str_equal(parts[3], "analytics")) {
			g_autofree char *user = NULL;

			if (!get) {
				respond_method_not_allowed(msg, "GET");
				return;
			}
			user = authenticate_or_respond(self, msg, TRUE);
			if (user == NULL || !check_progress_id(msg, parts[2]))
				return;
			cg_http_owned_call(self->bus, parts[2], user, "GetAnalytics",
					   G_VARIANT_TYPE("(a{sv})"), NULL, analytics_cb,
					   pending_new(self, msg, user, parts[2]));
			return;
		}
		if (n == 3 && g_str_equal(parts[2], "download")) {
			g_autofree char *user = NULL;

			if (!get) {
				respond_method_not_allowed(msg, "GET");
				return;
			}
			user = authenticate_or_respond(self, msg, TRUE);
			if (user == NULL || !check_progress_id(msg, parts[1]))
				return;
			cg_http_owned_call(self->bus, parts[1], user, "OpenCertificate",
					   G_VARIANT_TYPE("(h)"), NULL, opened_cb,
					   pending_new(self, msg, user, parts[1]));
			return;
		}
	}
	respond_new_error(msg, CG_HTTP_ERROR_NOT_FOUND, 0, "No such API route");
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
		handle_options(self, msg, path);
		return;
	}
	if (g_str_has_prefix(path, "/api/")) {
		if (self->shutting_down) {
			respond_new_error(msg, CG_HTTP_ERROR_UNAVAILABLE, 5,
					  "The bridge is stopping");
			return;
		}
		handle_api(self, msg, path, method);
		return;
	}
	handle_static(self, msg, path, method);
}

/* ---- the object
 * ------------------------------------------------------------------------------------ */

static gboolean
housekeeping_cb(gpointer user_data)
{
	CgHttpServer *self = user_data;
	gint64 now = g_get_monotonic_time();
	guint expired = cg_http_auth_sessions_expire(self->auth);

	cg_http_rate_limiter_prune(self->streams_limiter, now);
	cg_http_rate_limiter_prune(self->resumes_limiter, now);
	cg_http_rate_limiter_prune(self->starts_limiter, now);
	cg_http_resume_table_prune(self->resumable, now);
	if (expired > 0)
		g_debug("%u sessions expired", expired);
	return G_SOURCE_CONTINUE;
}

static void
cg_http_server_dispose(GObject *object)
{
	CgHttpServer *self = CG_HTTP_SERVER(object);

	g_clear_handle_id(&self->housekeeping_id, g_source_remove);
	if (self->soup != NULL) {
		soup_server_disconnect(self->soup);
		g_clear_object(&self->soup);
	}
	g_clear_object(&self->auth);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(cg_http_server_parent_class)->dispose(object);
}

static void
cg_http_server_finalize(GObject *object)
{
	CgHttpServer *self = CG_HTTP_SERVER(object);

	g_clear_pointer(&self->streams, g_hash_table_unref);
	g_clear_pointer(&self->streams_limiter, cg_http_rate_limiter_free);
	g_clear_pointer(&self->resumes_limiter, cg_http_rate_limiter_free);
	g_clear_pointer(&self->starts_limiter, cg_http_rate_limiter_free);
	g_clear_pointer(&self->resumable, cg_http_resume_table_free);
	g_clear_pointer(&self->caps, cg_http_stream_caps_free);
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
	self->streams = g_hash_table_new_full(NULL, NULL, NULL, stream_entry_free);
}

CgHttpServer *
cg_http_server_new(const CgHttpConfig *config, CgHttpAuth *auth, CgHttpBus *bus)
{
	CgHttpServer *self = g_object_new(CG_TYPE_HTTP_SERVER, NULL);
	const gint64 minute = 60 * G_USEC_PER_SEC;

	self->config = *config;
	self->config.web_root = g_strdup(config->web_root);
	self->config.allow_origins = g_strdupv(config->allow_origins);
	self->auth = g_object_ref(auth);
	self->bus = g_object_ref(bus);
	self->streams_limiter = cg_http_rate_limiter_new(config->streams_per_minute, minute);
	self->resumes_limiter = cg_http_rate_limiter_new(config->resumes_per_minute, minute);
	self->starts_limiter = cg_http_rate_limiter_new(config->starts_per_minute, minute);
	self->resumable =
	    cg_http_resume_table_new(config->resumable_per_user, config->max_resumable,
				     (gint64)config->resume_ttl_s * G_USEC_PER_SEC);
	self->caps = cg_http_stream_caps_new(config->max_streams, config->max_streams_per_user);
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
	self->housekeeping_id =
	    g_timeout_add_seconds(CG_HTTP_HOUSEKEEPING_S, housekeeping_cb, self);
	return self;
}

gboolean
cg_http_server_listen(CgHttpServer *self, GSocketAddress *address, GError **error)
{
	g_autoptr(GSocket) socket = NULL;

	/* Our own socket rather than soup_server_listen(): GSocket's default
	 * backlog of 10 drops connections in a burst of new streams. */
	socket = g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL)
		return FALSE;
	g_socket_set_listen_backlog(socket, CG_HTTP_LISTEN_BACKLOG);
	if (!g_socket_bind(socket, address, TRUE, error) || !g_socket_listen(socket, error))
		return FALSE;
	return soup_server_listen_socket(self->soup, socket, 0, error);
}

gboolean
cg_http_server_listen_fd(CgHttpServer *self, int fd, GError **error)
{
	g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, error);

	if (socket == NULL)
		return FALSE;
	return soup_server_listen_socket(self->soup, socket, 0, error);
}

GPtrArray *
cg_http_server_get_addresses(CgHttpServer *self)
{
	GPtrArray *addresses = g_ptr_array_new_with_free_func(g_free);
	GSList *listeners = soup_server_get_listeners(self->soup);

	/* Not soup_server_get_uris(): libsoup 3.2 leaks an address there. */
	for (GSList *l = listeners; l != NULL; l = l->next) {
		g_autoptr(GSocketAddress) address = g_socket_get_local_address(l->data, NULL);
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
	g_slist_free(listeners);
	return addresses;
}

CgHttpBus *
cg_http_server_get_bus(CgHttpServer *self)
{
	return self->bus;
}

const CgHttpConfig *
cg_http_server_get_config(CgHttpServer *self)
{
	return &self->config;
}

void
cg_http_server_add_stream(CgHttpServer *self, gpointer stream, const char *user,
			  CgHttpStreamShutdownFunc shutdown_func)
{
	CgHttpStreamEntry *entry = g_new0(CgHttpStreamEntry, 1);

	entry->user = g_strdup(user);
	entry->shutdown_func = shutdown_func;
	g_hash_table_insert(self->streams, stream, entry);
}

void
cg_http_server_remove_stream(CgHttpServer *self, gpointer stream)
{
	CgHttpStreamEntry *entry = g_hash_table_lookup(self->streams, stream);

	if (entry == NULL)
		return;
	cg_http_stream_caps_release(self->caps, entry->user);
	g_hash_table_remove(self->streams, stream);
}

gboolean
cg_http_server_begin_shutdown(CgHttpServer *self)
{
	g_autoptr(GList) streams = NULL;

	self->shutting_down = TRUE;
	streams = g_hash_table_get_keys(self->streams);
	for (GList *l = streams; l != NULL; l = l->next) {
		CgHttpStreamEntry *entry = g_hash_table_lookup(self->streams, l->data);

		if (entry != NULL)
			entry->shutdown_func(l->data);
	}
	return !cg_http_server_is_idle(self);
}

gboolean
cg_http_server_is_idle(CgHttpServer *self)
{
	return g_hash_table_size(self->streams) == 0 && self->n_pending == 0;
}

void
cg_http_server_disconnect(CgHttpServer *self)
{
	if (self->soup != NULL)
		soup_server_disconnect(self->soup);
}

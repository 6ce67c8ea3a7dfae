/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /api handlers: start, progress stream and WebSocket entry, cancel,
 * analytics, download, templates, and the routing of /api paths among them and
 * /api/session (cg-http-session.c). */
#include "cg-http-api.h"
#include "cg-http-log.h"

#include <unistd.h>

#include "cg-http-csv.h"
#include "cg-http-download.h"
#include "cg-http-error.h"
#include "cg-http-json.h"
#include "cg-http-limits.h"
#include "cg-http-metrics.h"
#include "cg-http-owner.h"
#include "cg-http-cors.h"
#include "cg-http-pending.h"
#include "cg-http-redis-auth.h"
#include "cg-http-redis-routes.h"
#include "cg-http-redis-values.h"
#include "cg-http-response.h"
#include "cg-http-resume.h"
#include "cg-http-session.h"
#include "cg-http-sse.h"
#include "cg-http-verify.h"
#include "cg-http-ws.h"

#define CG_HTTP_MAX_ID_LEN 128

struct _CgHttpApi {
	GObject parent_instance;
	CgHttpStreamContext *context;
	const CgHttpConfig *config; /* the context's */
	CgHttpAuth *auth;
	CgRateLimit *starts_limiter;
	CgRateLimit *previews_limiter; /* POST /api/preview per web user */
	CgHttpVerifyContext verify;    /* GET /verify/..., POST .../revoke */
	guint n_pending;
	CgHttpRedis *redis; /* --redis: the context's, else NULL */
};

G_DEFINE_TYPE(CgHttpApi, cg_http_api, G_TYPE_OBJECT)

static CgHttpPending *
pending_new(CgHttpApi *self, SoupServerMessage *msg, const char *user, const char *progress_id)
{
	return cg_http_pending_new(G_OBJECT(self), &self->n_pending, msg, user, progress_id);
}

static char *
authenticate_or_respond(CgHttpApi *self, SoupServerMessage *msg, gboolean allow_cookie)
{
	return cg_http_session_authenticate_or_respond(
	    self->auth, (const char *const *)self->config->allow_origins, msg, allow_cookie);
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

/* --redis: the global ids' rule (32 lowercase hex digits). */
static gboolean
api_id_is_valid(CgHttpApi *self, const char *id)
{
	return self->redis != NULL ? cg_http_redis_id_is_valid(id) : progress_id_is_valid(id);
}

static gboolean
check_progress_id(CgHttpApi *self, SoupServerMessage *msg, const char *id)
{
	g_autoptr(GError) error = NULL;

	if (api_id_is_valid(self, id))
		return TRUE;
	error = cg_http_not_found_error(id);
	cg_http_respond_error(msg, error, 0);
	return FALSE;
}

/* ---- POST /api/certificates ----------------------------------------------------------- */

/* StartGeneration's reply: 201 {"progressId"}; a generation started from
 * CSV (@csv) is remembered, so its streams name errors by row and column. */
static void
start_finished(GObject *source, GAsyncResult *result, CgHttpPending *pending, gboolean csv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	g_autofree char *location = NULL;
	const char *progress_id;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL) {
		/* certgend created nothing: the request does not count */
		cg_rate_limit_remove(CG_HTTP_API(pending->owner)->starts_limiter, pending->user,
				     pending->rate_event_us);
		cg_http_pending_fail_dbus(pending, error);
		return;
	}
	g_variant_get(reply, "(&s)", &progress_id);
	cg_http_debug("%s started %s%s", pending->user, progress_id, csv ? " from CSV" : "");
	if (csv)
		cg_http_csv_generations_add(CG_HTTP_API(pending->owner)->context->csv_generations,
					    progress_id, g_get_monotonic_time());
	if (pending->closed) {
		cg_http_pending_done(pending);
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
	cg_http_pending_done(pending);
}

static void
started_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	start_finished(source, result, user_data, FALSE);
}

static void
csv_started_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	start_finished(source, result, user_data, TRUE);
}

/* Answers a start request refused with @error; with @invalid_data_json,
 * an invalid_data answer with its "errors", when there is one. */
static void
respond_start_error(SoupServerMessage *msg, const GError *error, const char *invalid_data_json)
{
	if (invalid_data_json != NULL)
		cg_http_respond_json(msg, cg_http_error_status(error), invalid_data_json);
	else
		cg_http_respond_error(msg, error, 0);
}

/* Answers a request whose body was refused with @error: invalid_data with
 * its "errors" when @data_path names where in "data" it is. */
static void
respond_body_error(SoupServerMessage *msg, const GError *error, const char *data_path)
{
	g_autofree char *json =
	    data_path != NULL ? cg_http_invalid_data_json(error->message, data_path) : NULL;

	respond_start_error(msg, error, json);
}

/* The StartGeneration arguments of a text/csv body (cg-http-csv.h), or
 * NULL with @msg answered: 400 invalid_data with every CSV problem in
 * "errors", or the error. */
static GVariant *
csv_start_parameters(SoupServerMessage *msg, GBytes *body, const char *user)
{
	g_autoptr(GPtrArray) issues = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *parameters;

	parameters = cg_http_csv_start_parameters(
	    g_bytes_get_data(body, NULL), g_bytes_get_size(body),
	    g_uri_get_query(soup_server_message_get_uri(msg)), user, &issues, &error);
	if (parameters == NULL) {
		g_autofree char *json =
		    issues != NULL ? cg_http_invalid_data_issues_json(error->message, issues)
				   : NULL;

		respond_start_error(msg, error, json);
	}
	return parameters;
}

/* The StartGeneration arguments of a JSON body, or NULL with @msg answered:
 * 400 invalid_data (with "errors") for what certgend would call
 * InvalidData, or the error. */
static GVariant *
json_start_parameters(CgHttpApi *self, SoupServerMessage *msg, GBytes *body, const char *user)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *data_path = NULL;
	GVariant *parameters;

	parameters = cg_http_start_parameters_from_body(
	    g_bytes_get_data(body, NULL), g_bytes_get_size(body), self->config->max_json_depth,
	    user, &data_path, &error);
	/* what certgend would call InvalidData, with its "errors" list */
	if (parameters == NULL)
		respond_body_error(msg, error, data_path);
	return parameters;
}

/* Whether the body is CSV; FALSE with @msg answered (415) when it is
 * neither CSV nor JSON. */
static gboolean
start_body_is_csv(SoupServerMessage *msg, gboolean *csv)
{
	SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
	g_autoptr(GHashTable) params = NULL;
	const char *content_type = soup_message_headers_get_content_type(request, &params);
	const char *charset = params != NULL ? g_hash_table_lookup(params, "charset") : NULL;

	*csv = content_type != NULL && g_ascii_strcasecmp(content_type, "text/csv") == 0;
	if (content_type != NULL && !*csv &&
	    g_ascii_strcasecmp(content_type, "application/json") != 0) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE, 0,
					  "The request body must be application/json or text/csv");
		return FALSE;
	}
	if (*csv && charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE, 0,
					  "A text/csv body must be UTF-8 (charset=utf-8)");
		return FALSE;
	}
	return TRUE;
}

/* The web user of a state-changing request (the Bearer header) that
 * @limiter (@limit per minute of @what) still admits, or NULL with @msg
 * answered. Checked first (a refused client is told so before it sends
 * more), but recorded only once the request is sound (count_and_call). */
static char *
admit_limited(CgHttpApi *self, SoupServerMessage *msg, CgRateLimit *limiter, guint limit,
	      const char *what, gint64 now)
{
	g_autofree char *user = authenticate_or_respond(self, msg, FALSE);
	guint retry_after_s = 0;
	gint64 wait_us = 0;

	if (user == NULL)
		return NULL;
	if (!cg_rate_limit_check(limiter, user, now, &wait_us)) {
		retry_after_s = cg_http_retry_after_s(wait_us);
		cg_http_metrics_rate_limited(what);
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_RATE_LIMITED, retry_after_s,
					  "At most %u %s requests per minute; try again in %u s",
					  limit, what, retry_after_s);
		return NULL;
	}
	return g_steal_pointer(&user);
}

/* Records the request of @user at @now in @limiter, then calls certgend;
 * the callback takes the event back when certgend refuses. */
static void
count_and_call(CgHttpApi *self, SoupServerMessage *msg, CgRateLimit *limiter, const char *user,
	       gint64 now, const char *method, GVariant *parameters, const GVariantType *reply_type,
	       GAsyncReadyCallback callback)
{
	CgHttpPending *pending;

	cg_rate_limit_add(limiter, user, now);
	pending = pending_new(self, msg, user, NULL);
	pending->rate_event_us = now;
	cg_http_bus_call(self->context->bus, method, parameters, reply_type, NULL, callback,
			 pending);
}

/* --redis: the same validation, then the shared rate limit and the
 * request's MULTI (cg-http-redis-routes.h). */
static void
handle_redis_start(CgHttpApi *self, SoupServerMessage *msg)
{
	g_autofree char *user = authenticate_or_respond(self, msg, FALSE);
	g_autoptr(GBytes) body = NULL;
	GVariant *parameters;
	gboolean csv = FALSE;

	if (user == NULL || !start_body_is_csv(msg, &csv))
		return;
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	if (csv)
		parameters = csv_start_parameters(msg, body, user);
	else
		parameters = json_start_parameters(self, msg, body, user);
	if (parameters == NULL)
		return;
	cg_http_redis_start(self->redis, pending_new(self, msg, user, NULL), parameters,
			    self->config->starts_per_minute,
			    csv ? self->context->csv_generations : NULL);
}

static void
handle_start(CgHttpApi *self, SoupServerMessage *msg)
{
	gint64 now = g_get_monotonic_time();
	g_autofree char *user = admit_limited(self, msg, self->starts_limiter,
					      self->config->starts_per_minute, "generation", now);
	g_autoptr(GBytes) body = NULL;
	GVariant *parameters;
	gboolean csv = FALSE;

	/* only generations count: taken back when certgend refuses
	 * (start_finished) */
	if (user == NULL || !start_body_is_csv(msg, &csv))
		return;
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	if (csv)
		parameters = csv_start_parameters(msg, body, user);
	else
		parameters = json_start_parameters(self, msg, body, user);
	if (parameters == NULL)
		return;
	count_and_call(self, msg, self->starts_limiter, user, now, "StartGeneration", parameters,
		       G_VARIANT_TYPE("(s)"), csv ? csv_started_cb : started_cb);
}

/* ---- GET /api/certificates: the web user's generations ----------------------------------- */

static void
listed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) list = NULL;
	g_autofree char *json = NULL;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL) {
		cg_http_pending_fail_dbus(pending, error);
		return;
	}
	if (!pending->closed) {
		list = g_variant_get_child_value(reply, 0);
		json = cg_http_owned_list_to_json(list, pending->user);
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
	}
	cg_http_pending_done(pending);
}

/* A GET answered by @bus_method, which takes no arguments and returns an
 * aa{sv}, for an authenticated web user (the session cookie does). */
static void
list_route(CgHttpApi *self, SoupServerMessage *msg, const char *bus_method,
	   GAsyncReadyCallback callback)
{
	g_autofree char *user = authenticate_or_respond(self, msg, TRUE);

	if (user == NULL)
		return;
	cg_http_bus_call(self->context->bus, bus_method, NULL, G_VARIANT_TYPE("(aa{sv})"), NULL,
			 callback, pending_new(self, msg, user, NULL));
}

static void
handle_list(CgHttpApi *self, SoupServerMessage *msg)
{
	if (self->redis != NULL) {
		g_autofree char *user = authenticate_or_respond(self, msg, TRUE);

		if (user != NULL)
			cg_http_redis_list(self->redis, pending_new(self, msg, user, NULL));
		return;
	}
	list_route(self, msg, "ListGenerations", listed_cb);
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
		cg_http_pending_fail(pending, error, retry_after_s);
		return;
	}
	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, "{\"success\":true}");
	cg_http_pending_done(pending);
}

/* Answers 200 with @to_json of the reply's one value, unless the client
 * has gone. */
static void
respond_converted(CgHttpPending *pending, GVariant *reply, char *(*to_json)(GVariant *value))
{
	g_autoptr(GVariant) value = g_variant_get_child_value(reply, 0);
	g_autofree char *json = to_json(value);

	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
	cg_http_pending_done(pending);
}

/* ---- GET .../{id}/analytics ----------------------------------------------------------------- */

static void
analytics_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint retry_after_s = 0;

	reply = cg_http_owned_call_finish(result, NULL, NULL, &retry_after_s, &error);
	if (reply == NULL) {
		cg_http_pending_fail(pending, error, retry_after_s);
		return;
	}
	respond_converted(pending, reply, cg_http_analytics_to_json);
}

/* ---- GET /api/templates ------------------------------------------------------------------ */

static void
templates_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL) {
		cg_http_pending_fail_dbus(pending, error);
		return;
	}
	respond_converted(pending, reply, cg_http_templates_to_json);
}

/* The templates are the same for every web user; the bridge asks as
 * itself (it may generate), for an authenticated user only. */
static void
handle_templates(CgHttpApi *self, SoupServerMessage *msg)
{
	list_route(self, msg, "ListTemplates", templates_cb);
}

/* ---- GET /api/certificates/{id}/download ------------------------------------------------- */

/* The file of a reply "(h)" (@what names it in errors), or NULL with
 * @pending failed. */
static GBytes *
passed_file_bytes(CgHttpPending *pending, GVariant *reply, GUnixFDList *fd_list, const char *what)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMappedFile) mapped = NULL;
	gint32 handle = -1;
	int fd;

	g_variant_get(reply, "(h)", &handle);
	if (fd_list == NULL || handle < 0 || handle >= g_unix_fd_list_get_length(fd_list)) {
		g_autoptr(GError) bad = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
							    "certgend sent no file descriptor");

		cg_http_pending_fail(pending, bad, 0);
		return NULL;
	}
	fd = g_unix_fd_list_get(fd_list, handle, &error);
	if (fd >= 0) {
		mapped = g_mapped_file_new_from_fd(fd, FALSE, &error);
		close(fd);
	}
	if (mapped == NULL) {
		g_autoptr(GError) bad =
		    g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED, "Could not read the %s: %s",
				what, error->message);

		cg_http_pending_fail(pending, bad, 0);
		return NULL;
	}
	return g_mapped_file_get_bytes(mapped);
}

/* 200 with the file of a reply "(h)" as @content_type (@what names it in
 * errors; @disposition: a Content-Disposition, or NULL), never cached,
 * unless the client has gone; ends @pending. */
static void
respond_passed_file(CgHttpPending *pending, GVariant *reply, GUnixFDList *fd_list, const char *what,
		    const char *content_type, const char *disposition)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(pending->msg);
	SoupMessageBody *body = soup_server_message_get_response_body(pending->msg);
	g_autoptr(GBytes) bytes = passed_file_bytes(pending, reply, fd_list, what);

	if (bytes == NULL)
		return;
	if (pending->closed) {
		cg_http_pending_done(pending);
		return;
	}
	if (disposition != NULL)
		soup_message_headers_replace(headers, "Content-Disposition", disposition);
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_set_content_type(headers, content_type, NULL);
	soup_message_headers_set_content_length(headers, (goffset)g_bytes_get_size(bytes));
	soup_message_body_set_accumulate(body, FALSE);
	soup_message_body_append_bytes(body, bytes);
	soup_message_body_complete(body);
	soup_server_message_set_status(pending->msg, SOUP_STATUS_OK, NULL);
	cg_http_pending_done(pending);
}

static void
opened_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	guint retry_after_s = 0;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *disposition = NULL;
	g_autofree char *filename = NULL;
	gboolean zip;

	reply =
	    cg_http_owned_call_finish(result, &pending->snapshot, &fd_list, &retry_after_s, &error);
	if (reply == NULL) {
		cg_http_pending_fail(pending, error, retry_after_s);
		return;
	}
	zip = cg_http_download_is_zip(pending->snapshot);
	filename = cg_http_download_filename(pending->snapshot, pending->progress_id, zip);
	disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
	respond_passed_file(pending, reply, fd_list, "certificate",
			    zip ? "application/zip" : "application/pdf", disposition);
}

/* ---- POST /api/preview -------------------------------------------------------------------- */

static void
previewed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, &fd_list, &error);

	if (reply != NULL) {
		respond_passed_file(pending, reply, fd_list, "preview", "image/png", NULL);
		return;
	}
	/* refused: it does not count */
	cg_rate_limit_remove(CG_HTTP_API(pending->owner)->previews_limiter, pending->user,
			     pending->rate_event_us);
	cg_http_pending_fail_dbus(pending, error);
}

/* {templateId, data, page} -> image/png. The bridge asks certgend as
 * itself (RenderPreview takes no owner label), so it keeps a rate limit of
 * its own per web user, as for starts. */
/* The RenderPreview arguments of the JSON body, or NULL with @msg
 * answered. */
static GVariant *
preview_parameters(CgHttpApi *self, SoupServerMessage *msg)
{
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *data_path = NULL;
	GVariant *parameters;
	gboolean csv = FALSE;

	if (!start_body_is_csv(msg, &csv))
		return NULL;
	if (csv) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_UNSUPPORTED_MEDIA_TYPE, 0,
					  "A preview request body must be application/json");
		return NULL;
	}
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	parameters = cg_http_preview_parameters_from_body(
	    g_bytes_get_data(body, NULL), g_bytes_get_size(body), self->config->max_json_depth,
	    &data_path, &error);
	if (parameters == NULL)
		respond_body_error(msg, error, data_path);
	return parameters;
}

static void
handle_preview(CgHttpApi *self, SoupServerMessage *msg)
{
	gint64 now = g_get_monotonic_time();
	g_autofree char *user = admit_limited(self, msg, self->previews_limiter,
					      self->config->previews_per_minute, "preview", now);
	GVariant *parameters = user != NULL ? preview_parameters(self, msg) : NULL;

	if (parameters != NULL)
		count_and_call(self, msg, self->previews_limiter, user, now, "RenderPreview",
			       parameters, G_VARIANT_TYPE("(h)"), previewed_cb);
}

/* The stream rate limit and a stream slot (held by the caller on TRUE);
 * otherwise FALSE with *@error and *@retry_after_s. */
static gboolean
admit_stream_slot(CgHttpApi *self, const char *user, const char *progress_id, gboolean have_since,
		  guint64 since, guint *retry_after_s, GError **error)
{
	CgHttpStreams *streams = self->context->streams;

	return cg_http_streams_check_rate(streams, user, progress_id, have_since, since,
					  g_get_monotonic_time(), retry_after_s, error) &&
	       cg_http_streams_acquire_slot(streams, user, retry_after_s, error);
}

/* The same, with @msg answered on FALSE. */
static gboolean
admit_stream(CgHttpApi *self, SoupServerMessage *msg, const char *user, const char *progress_id,
	     gboolean have_since, guint64 since)
{
	g_autoptr(GError) error = NULL;
	guint retry_after_s = 0;

	if (!admit_stream_slot(self, user, progress_id, have_since, since, &retry_after_s,
			       &error)) {
		cg_http_respond_error(msg, error, retry_after_s);
		return FALSE;
	}
	return TRUE;
}

/* The decisions of GET /api/certificates/progress/{id}, for libsoup's
 * requests and the bridge's own accept path alike: origin, Bearer token or
 * session cookie, the id, Last-Event-ID, the stream rate limits and caps.
 * The web user (holding a stream slot), or NULL with *@error and
 * *@retry_after_s. */
static char *
admit_stream_request(CgHttpApi *self, SoupMessageHeaders *request, const char *progress_id,
		     gboolean *resume, guint64 *sequence, guint *retry_after_s, GError **error)
{
	g_autofree char *user = cg_http_session_admit(
	    self->auth, (const char *const *)self->config->allow_origins, request, TRUE, error);

	if (user == NULL)
		return NULL;
	if (!progress_id_is_valid(progress_id)) {
		g_propagate_error(error, cg_http_not_found_error(progress_id));
		return NULL;
	}
	*resume = cg_http_resume_parse_id(soup_message_headers_get_one(request, "Last-Event-ID"),
					  sequence);
	if (!admit_stream_slot(self, user, progress_id, *resume, *sequence, retry_after_s, error))
		return NULL;
	return g_steal_pointer(&user);
}

/* ---- --redis streams ---------------------------------------------------------------------- */

typedef struct {
	CgHttpApi *api;
	CgHttpPending *pending;		     /* SSE: the paused request */
	SoupWebsocketConnection *connection; /* WebSocket: the upgraded connection */
	SoupMessageHeaders *request;	     /* WebSocket: the upgrade's headers */
	char *progress_id;
	char *user;
	gboolean resume;
	guint64 since;
} CgHttpRedisStream;

static void
redis_stream_free(CgHttpRedisStream *stream)
{
	g_clear_object(&stream->api);
	g_clear_object(&stream->connection);
	g_clear_pointer(&stream->request, soup_message_headers_unref);
	g_free(stream->progress_id);
	g_free(stream->user);
	g_free(stream);
}

static void
redis_stream_admit(CgHttpRedisStream *stream, CgHttpRedisAdmitFunc func)
{
	const CgHttpConfig *config = stream->api->config;
	CgHttpRedisAdmitArgs args = {
	    .user = stream->user,
	    .progress_id = stream->progress_id,
	    .resume = stream->resume,
	    .since = stream->since,
	    .streams_per_minute = config->streams_per_minute,
	    .resumes_per_minute = config->resumes_per_minute,
	    .max_per_user = config->max_streams_per_user,
	    .max_total = config->max_streams,
	};

	cg_http_redis_admit_stream(stream->api->redis, &args, NULL, func, stream);
}

static void
redis_sse_admitted_cb(gpointer user_data, const char *member, const GError *error,
		      guint retry_after_s)
{
	CgHttpRedisStream *stream = user_data;
	CgHttpApi *self = stream->api;
	CgHttpPending *pending = stream->pending;
	g_autoptr(GError) full = NULL;
	g_autoptr(SoupServerMessage) msg = NULL;

	if (error != NULL) {
		cg_http_pending_fail(pending, error, retry_after_s);
		redis_stream_free(stream);
		return;
	}
	/* the bridge's own cap too (the shared ones passed) */
	if (pending->closed || !cg_http_streams_acquire_slot(self->context->streams, stream->user,
							     &retry_after_s, &full)) {
		cg_http_redis_release_lease(self->redis, member);
		if (full != NULL)
			cg_http_pending_fail(pending, full, retry_after_s);
		else
			cg_http_pending_done(pending);
		redis_stream_free(stream);
		return;
	}
	msg = g_object_ref(pending->msg);
	/* unpaused here, paused again by the stream before libsoup runs */
	cg_http_pending_done(pending);
	cg_http_streams_hand_lease(self->context->streams, member);
	cg_http_sse_start(self->context, msg, stream->progress_id, stream->user, stream->resume,
			  stream->since);
	cg_http_streams_drop_handed_lease(self->context->streams);
	redis_stream_free(stream);
}

static void
handle_redis_stream(CgHttpApi *self, SoupServerMessage *msg, const char *progress_id)
{
	g_autofree char *user = authenticate_or_respond(self, msg, TRUE);
	CgHttpRedisStream *stream;

	if (user == NULL || !check_progress_id(self, msg, progress_id))
		return;
	stream = g_new0(CgHttpRedisStream, 1);
	stream->api = g_object_ref(self);
	stream->progress_id = g_strdup(progress_id);
	stream->resume = cg_http_resume_parse_id(
	    soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					 "Last-Event-ID"),
	    &stream->since);
	stream->pending = pending_new(self, msg, user, progress_id);
	stream->user = g_steal_pointer(&user);
	redis_stream_admit(stream, redis_sse_admitted_cb);
}

static void
redis_ws_admitted_cb(gpointer user_data, const char *member, const GError *error,
		     guint retry_after_s)
{
	CgHttpRedisStream *stream = user_data;
	CgHttpApi *self = stream->api;

	if (error != NULL) {
		cg_http_ws_refuse(stream->connection, error);
	} else if (soup_websocket_connection_get_state(stream->connection) !=
		   SOUP_WEBSOCKET_STATE_OPEN) {
		cg_http_redis_release_lease(self->redis, member);
	} else {
		cg_http_streams_hand_lease(self->context->streams, member);
		cg_http_ws_start(self->context, stream->connection, stream->progress_id,
				 stream->user, stream->resume, stream->since);
		cg_http_streams_drop_handed_lease(self->context->streams);
	}
	redis_stream_free(stream);
}

static void
redis_ws_resolved_cb(gpointer user_data, const GError *error)
{
	CgHttpRedisStream *stream = user_data;
	g_autoptr(GError) refused = NULL;
	guint retry_after_s = 0;

	if (error != NULL) {
		refused = cg_http_redis_route_error(error, &retry_after_s);
		cg_http_ws_refuse(stream->connection, refused);
		redis_stream_free(stream);
		return;
	}
	stream->user = cg_http_session_authenticate_request(stream->api->auth, stream->request,
							    TRUE, &refused);
	if (stream->user == NULL) {
		cg_http_ws_refuse(stream->connection, refused);
		redis_stream_free(stream);
		return;
	}
	redis_stream_admit(stream, redis_ws_admitted_cb);
}

/* GET /api/certificates/progress/{id}: the SSE stream. */
static void
handle_stream(CgHttpApi *self, SoupServerMessage *msg, const char *progress_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *user = NULL;
	gboolean resume = FALSE;
	guint64 sequence = 0;
	guint retry_after_s = 0;

	if (self->redis != NULL) {
		handle_redis_stream(self, msg, progress_id);
		return;
	}
	user = admit_stream_request(self, soup_server_message_get_request_headers(msg), progress_id,
				    &resume, &sequence, &retry_after_s, &error);
	if (user == NULL) {
		cg_http_respond_error(msg, error, retry_after_s);
		return;
	}
	cg_http_sse_start(self->context, msg, progress_id, user, resume, sequence);
}

const char *
cg_http_api_stream_route_id(const char *path)
{
	const char *id;

	if (!g_str_has_prefix(path, CG_HTTP_STREAM_PATH "/"))
		return NULL;
	id = path + strlen(CG_HTTP_STREAM_PATH "/");
	return strchr(id, '/') == NULL ? id : NULL;
}

GBytes *
cg_http_api_serve_stream(CgHttpApi *self, GSocket *socket, const CgHttpHead *head,
			 SoupMessageHeaders *response)
{
	const char *progress_id = cg_http_api_stream_route_id(head->path);
	g_autoptr(GError) error = NULL;
	g_autofree char *user = NULL;
	gboolean resume = FALSE;
	guint64 sequence = 0;
	guint retry_after_s = 0;

	g_return_val_if_fail(progress_id != NULL, NULL);
	user = admit_stream_request(self, head->headers, progress_id, &resume, &sequence,
				    &retry_after_s, &error);
	if (user == NULL)
		return cg_http_response_render_error(head->version, error, retry_after_s, response);
	cg_http_sse_start_raw(self->context, socket, head->version, response, progress_id, user,
			      resume, sequence);
	return NULL;
}

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

void
cg_http_api_check_websocket(CgHttpApi *self, SoupServerMessage *msg, const char *path)
{
	const char *progress_id = ws_progress_id(path);
	g_autofree char *user = NULL;
	guint64 since = 0;
	gboolean have_since;

	if (progress_id == NULL || strchr(progress_id, '/') != NULL) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_NOT_FOUND, 0, "No such API route");
		return;
	}
	if (!g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_GET)) {
		cg_http_respond_method_not_allowed(msg, "GET");
		return;
	}
	if (self->redis != NULL) {
		/* the credential, the limits and the caps need Redis: after the
		 * upgrade (cg_http_api_start_websocket()), which this handler
		 * cannot wait for */
		if (!cg_http_cors_request_origin_is_acceptable(
			(const char *const *)self->config->allow_origins,
			soup_server_message_get_request_headers(msg))) {
			cg_http_respond_new_error(msg, CG_HTTP_ERROR_FORBIDDEN, 0,
						  "Origin not allowed");
			return;
		}
		if (check_progress_id(self, msg, progress_id))
			g_object_set_data(G_OBJECT(msg), "cg-http-redis-ws", GINT_TO_POINTER(1));
		return;
	}
	user = authenticate_or_respond(self, msg, TRUE);
	if (user == NULL || !check_progress_id(self, msg, progress_id))
		return;
	have_since = ws_since(msg, &since);
	if (!admit_stream(self, msg, user, progress_id, have_since, since))
		return;
	/* cg_http_ws_start() takes its own slot after the upgrade */
	cg_http_streams_release_slot(self->context->streams, user);
	g_object_set_data_full(G_OBJECT(msg), "cg-http-user", g_steal_pointer(&user), g_free);
}

void
cg_http_api_start_websocket(CgHttpApi *self, SoupServerMessage *msg, const char *path,
			    SoupWebsocketConnection *connection)
{
	const char *user = g_object_get_data(G_OBJECT(msg), "cg-http-user");
	const char *progress_id = ws_progress_id(path);
	guint64 since = 0;
	gboolean have_since = ws_since(msg, &since);

	if (self->redis != NULL && progress_id != NULL &&
	    g_object_get_data(G_OBJECT(msg), "cg-http-redis-ws") != NULL) {
		CgHttpRedisStream *stream = g_new0(CgHttpRedisStream, 1);

		stream->api = g_object_ref(self);
		stream->connection = g_object_ref(connection);
		stream->request =
		    soup_message_headers_ref(soup_server_message_get_request_headers(msg));
		stream->progress_id = g_strdup(progress_id);
		stream->resume = have_since;
		stream->since = since;
		cg_http_redis_auth_resolve(cg_http_redis_get_connection(self->redis), self->auth,
					   stream->request, NULL, redis_ws_resolved_cb, stream);
		return;
	}

	if (user == NULL || progress_id == NULL) {
		soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
						NULL);
		return;
	}
	cg_http_ws_start(self->context, connection, progress_id, user, have_since, since);
}

/* A route that calls @bus_method on generation @progress_id for the web
 * user: authenticated (@allow_cookie: by the session cookie too), the id
 * checked, then the call through the bridge's one owner check. */
static void
owned_route(CgHttpApi *self, SoupServerMessage *msg, gboolean allow_cookie, const char *progress_id,
	    const char *bus_method, const GVariantType *reply_type, GAsyncReadyCallback callback)
{
	g_autofree char *user = authenticate_or_respond(self, msg, allow_cookie);

	if (user == NULL || !check_progress_id(self, msg, progress_id))
		return;
	if (self->redis != NULL) {
		CgHttpPending *pending = pending_new(self, msg, user, progress_id);

		if (g_str_equal(bus_method, "Cancel"))
			cg_http_redis_cancel_route(self->redis, pending);
		else if (g_str_equal(bus_method, "GetAnalytics"))
			cg_http_redis_analytics(self->redis, pending);
		else
			cg_http_redis_download(self->redis, pending);
		return;
	}
	cg_http_owned_call(self->context->bus, progress_id, user, bus_method, reply_type, NULL,
			   callback, pending_new(self, msg, user, progress_id));
}

void
cg_http_api_handle(CgHttpApi *self, SoupServerMessage *msg, const char *path, const char *method)
{
	g_auto(GStrv) parts = g_strsplit(path + strlen("/api/"), "/", 6);
	guint n = g_strv_length(parts);
	gboolean get = g_str_equal(method, SOUP_METHOD_GET);
	gboolean delete = g_str_equal(method, SOUP_METHOD_DELETE);

	if (n == 1 && g_str_equal(parts[0], "session") && self->redis != NULL) {
		cg_http_redis_session_handle(cg_http_redis_get_connection(self->redis), self->auth,
					     (const char *const *)self->config->allow_origins,
					     self->config->session_ttl_s, msg, method,
					     G_OBJECT(self), &self->n_pending);
		return;
	}
	if (n == 1 && g_str_equal(parts[0], "session")) {
		cg_http_session_handle(self->auth, (const char *const *)self->config->allow_origins,
				       msg, method);
		return;
	}
	if (n == 1 && g_str_equal(parts[0], "preview")) {
		if (!g_str_equal(method, SOUP_METHOD_POST)) {
			cg_http_respond_method_not_allowed(msg, "POST");
			return;
		}
		handle_preview(self, msg);
		return;
	}
	if (n == 1 && g_str_equal(parts[0], "templates")) {
		if (!get) {
			cg_http_respond_method_not_allowed(msg, "GET");
			return;
		}
		handle_templates(self, msg);
		return;
	}
	if (n >= 1 && g_str_equal(parts[0], "certificates")) {
		if (n == 1) {
			if (get)
				handle_list(self, msg);
			else if (g_str_equal(method, SOUP_METHOD_POST) && self->redis != NULL)
				handle_redis_start(self, msg);
			else if (g_str_equal(method, SOUP_METHOD_POST))
				handle_start(self, msg);
			else
				cg_http_respond_method_not_allowed(msg, "GET, POST");
			return;
		}
		if (n == 3 && g_str_equal(parts[1], "progress")) {
			if (get) {
				handle_stream(self, msg, parts[2]);
				return;
			}
			if (!delete) {
				cg_http_respond_method_not_allowed(msg, "GET, DELETE");
				return;
			}
			owned_route(self, msg, FALSE, parts[2], "Cancel", G_VARIANT_TYPE("()"),
				    cancelled_cb);
			return;
		}
		if (n == 4 && g_str_equal(parts[1], "progress") &&
		    g_str_equal(parts[3], "analytics")) {
			if (!get) {
				cg_http_respond_method_not_allowed(msg, "GET");
				return;
			}
			owned_route(self, msg, TRUE, parts[2], "GetAnalytics",
				    G_VARIANT_TYPE("(a{sv})"), analytics_cb);
			return;
		}
		if (n == 3 && g_str_equal(parts[2], "revoke")) {
			g_autofree char *user = NULL;

			if (!g_str_equal(method, SOUP_METHOD_POST)) {
				cg_http_respond_method_not_allowed(msg, "POST");
				return;
			}
			user = authenticate_or_respond(self, msg, FALSE);
			if (user != NULL)
				cg_http_verify_handle_revoke(&self->verify, msg, user, parts[1],
							     self->config->max_json_depth);
			return;
		}
		if (n == 3 && g_str_equal(parts[2], "download")) {
			if (!get) {
				cg_http_respond_method_not_allowed(msg, "GET");
				return;
			}
			owned_route(self, msg, TRUE, parts[1], "OpenCertificate",
				    G_VARIANT_TYPE("(h)"), opened_cb);
			return;
		}
	}
	cg_http_respond_new_error(msg, CG_HTTP_ERROR_NOT_FOUND, 0, "No such API route");
}

void
cg_http_api_handle_verify(CgHttpApi *self, SoupServerMessage *msg, const char *path,
			  const char *method)
{
	cg_http_verify_handle(&self->verify, msg, path, method);
}

void
cg_http_api_prune(CgHttpApi *self, gint64 now_us)
{
	cg_rate_limit_prune(self->verify.limiter, now_us);
	cg_rate_limit_prune(self->starts_limiter, now_us);
	cg_rate_limit_prune(self->previews_limiter, now_us);
}

guint
cg_http_api_get_n_pending(CgHttpApi *self)
{
	return self->n_pending;
}

static void
cg_http_api_finalize(GObject *object)
{
	CgHttpApi *self = CG_HTTP_API(object);

	g_clear_pointer(&self->starts_limiter, cg_rate_limit_free);
	g_clear_pointer(&self->previews_limiter, cg_rate_limit_free);
	g_clear_pointer(&self->verify.limiter, cg_rate_limit_free);
	g_clear_object(&self->auth);
	g_clear_pointer(&self->context, cg_http_stream_context_unref);
	G_OBJECT_CLASS(cg_http_api_parent_class)->finalize(object);
}

static void
cg_http_api_class_init(CgHttpApiClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = cg_http_api_finalize;
}

static void
cg_http_api_init(CgHttpApi *self)
{
}

CgHttpApi *
cg_http_api_new(CgHttpStreamContext *context, CgHttpAuth *auth)
{
	CgHttpApi *self = g_object_new(CG_TYPE_HTTP_API, NULL);

	self->context = cg_http_stream_context_ref(context);
	self->config = &context->config;
	self->auth = g_object_ref(auth);
	self->redis = context->redis;
	self->starts_limiter =
	    cg_rate_limit_new(self->config->starts_per_minute, 60 * G_USEC_PER_SEC);
	self->previews_limiter =
	    cg_rate_limit_new(self->config->previews_per_minute, 60 * G_USEC_PER_SEC);
	/* the requests hold a reference on the api, as the other routes' do */
	self->verify = (CgHttpVerifyContext){
	    .bus = context->bus,
	    .limiter =
		cg_rate_limit_new(self->config->verifications_per_minute, 60 * G_USEC_PER_SEC),
	    .per_minute = self->config->verifications_per_minute,
	    .owner = G_OBJECT(self),
	    .n_pending = &self->n_pending,
	};
	return self;
}

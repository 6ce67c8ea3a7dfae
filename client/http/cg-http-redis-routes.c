/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The generation routes of a --redis bridge (cg-http-redis-routes.h). */
#include "cg-http-redis-routes.h"
#include "cg-http-log.h"

#include "cg-http-download.h"
#include "cg-http-error.h"
#include "cg-http-json.h"
#include "cg-http-limits.h"
#include "cg-http-metrics.h"
#include "cg-http-owner.h"
#include "cg-http-redis-values.h"
#include "cg-http-response.h"

/* Cancel, atomically: the state and host read and acted on in one go
 * (a generation a relay takes meanwhile is either still queued or already
 * running, never lost in between). KEYS[1] the hash; ARGV user, id. */
static const char cancel_script[] =
    "local v = redis.call('HMGET', KEYS[1], 'user', 'state', 'host')\n"
    "if v[1] ~= ARGV[1] then return 'not_found' end\n"
    "if v[2] == 'queued' then\n"
    "  redis.call('HSET', KEYS[1], 'cancel_requested', '1')\n"
    "  return 'queued'\n"
    "end\n"
    "if v[2] == 'running' then\n"
    "  if not v[3] or not string.match(v[3], '^[%w%.%-_]+$') then return 'bad' end\n"
    "  redis.call('XADD', 'certgen:host:' .. v[3] .. ':control', 'MAXLEN', '~', '10000', '*',\n"
    "             'cmd', 'cancel', 'id', ARGV[2])\n"
    "  return 'running'\n"
    "end\n"
    "if v[2] == 'done' then return 'done' end\n"
    "return 'bad'\n";

static void
fail_redis(CgHttpPending *pending, const GError *error)
{
	guint retry_after_s = 0;
	g_autoptr(GError) failed = cg_http_redis_route_error(error, &retry_after_s);

	cg_http_pending_fail(pending, failed, retry_after_s);
}

static void
fail_not_found(CgHttpPending *pending)
{
	g_autoptr(GError) error = cg_http_not_found_error(pending->progress_id);

	cg_http_pending_fail(pending, error, 0);
}

static void
fail_new(CgHttpPending *pending, CgHttpError code, const char *message)
{
	g_autoptr(GError) error = g_error_new_literal(CG_HTTP_ERROR, code, message);

	cg_http_pending_fail(pending, error, 0);
}

/* Whether element @i of an HMGET reply is @user. */
static gboolean
reply_is_owner(const redisReply *reply, const char *user)
{
	g_autofree char *owner = NULL;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1)
		return FALSE;
	owner = cg_http_redis_reply_user(reply->element[0]);
	return owner != NULL && g_str_equal(owner, user);
}

/* Element @i of an HMGET reply as a string, or NULL. */
static const char *
element_string(const redisReply *reply, gsize i, gsize *len)
{
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || i >= reply->elements)
		return NULL;
	return cg_redis_reply_string(reply->element[i], len);
}

static gboolean
element_is(const redisReply *reply, gsize i, const char *text)
{
	gsize len = 0;
	const char *value = element_string(reply, i, &len);

	return value != NULL && len == strlen(text) && memcmp(value, text, len) == 0;
}

/* ---- POST /api/certificates ------------------------------------------------------------ */

typedef struct {
	CgHttpRedis *redis;
	CgHttpPending *pending;
	GVariant *params; /* as queued: without owner_label */
	guint per_minute;
	CgHttpCsvGenerations *csv_generations;
	char *id;
} CgHttpRedisStart;

static void
start_free(CgHttpRedisStart *start)
{
	g_clear_pointer(&start->params, g_variant_unref);
	g_free(start->id);
	g_free(start);
}

static void
queued_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisStart *start = user_data;
	CgHttpPending *pending = start->pending;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *json = NULL;
	g_autofree char *location = NULL;

	if (error != NULL) {
		fail_redis(pending, error);
		start_free(start);
		return;
	}
	for (gsize i = 0; reply != NULL && reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	     i++) {
		if (reply->element[i]->type == REDIS_REPLY_ERROR) {
			g_warning("Queueing %s: %s", start->id, reply->element[i]->str);
			fail_new(pending, CG_HTTP_ERROR_FAILED,
				 "The shared state refused the request");
			start_free(start);
			return;
		}
	}
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		/* EXEC answered nil: the transaction was discarded */
		fail_new(pending, CG_HTTP_ERROR_FAILED, "The shared state refused the request");
		start_free(start);
		return;
	}
	cg_http_debug("%s queued %s", pending->user, start->id);
	if (start->csv_generations != NULL)
		cg_http_csv_generations_add(start->csv_generations, start->id,
					    g_get_monotonic_time());
	if (pending->closed) {
		cg_http_pending_done(pending);
		start_free(start);
		return;
	}
	builder = json_builder_new_immutable();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "progressId");
	json_builder_add_string_value(builder, start->id);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json = cg_http_json_to_string(root);
	location = g_strdup_printf("/api/certificates/progress/%s", start->id);
	soup_message_headers_replace(soup_server_message_get_response_headers(pending->msg),
				     "Location", location);
	cg_http_respond_json(pending->msg, SOUP_STATUS_CREATED, json);
	cg_http_pending_done(pending);
	start_free(start);
}

/* The MULTI of README's schema: the hash, its expiry, the user's set, the
 * request entry. */
static void
start_queue(CgHttpRedisStart *start)
{
	CgRedis *connection = cg_http_redis_get_connection(start->redis);
	const char *user = start->pending->user;
	g_autofree char *key = cg_http_redis_gen_key(start->id, "");
	g_autofree char *user_key = g_strdup_printf(CG_HTTP_REDIS_PREFIX "user:%s:gens", user);
	g_autofree char *now_ms = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / 1000);
	g_autofree char *max_age = g_strdup_printf("%u", CG_HTTP_REDIS_MAX_AGE_S);
	g_autoptr(CgRedisCommand) hset = cg_redis_command_new("HSET");
	g_autoptr(CgRedisCommand) xadd = cg_redis_command_new("XADD");

	cg_redis_command_add(hset, key);
	cg_redis_command_add(hset, "user");
	cg_redis_command_add(hset, user);
	cg_redis_command_add(hset, "state");
	cg_redis_command_add(hset, "queued");
	cg_redis_command_add(hset, "created_ms");
	cg_redis_command_add(hset, now_ms);
	if (start->csv_generations != NULL) {
		cg_redis_command_add(hset, "source");
		cg_redis_command_add(hset, "csv");
	}
	cg_redis_command_add(xadd, CG_HTTP_REDIS_PREFIX "requests");
	cg_redis_command_add(xadd, "*");
	cg_redis_command_add(xadd, "id");
	cg_redis_command_add(xadd, start->id);
	cg_redis_command_add(xadd, "user");
	cg_redis_command_add(xadd, user);
	cg_redis_command_add(xadd, "params");
	cg_redis_command_add_data(xadd, g_variant_get_data(start->params),
				  g_variant_get_size(start->params));
	cg_redis_command_add(xadd, "at_ms");
	cg_redis_command_add(xadd, now_ms);

	cg_http_redis_ensure_group(start->redis);
	cg_redis_sendv(connection, NULL, NULL, NULL, "MULTI", NULL);
	cg_redis_send(connection, g_steal_pointer(&hset), NULL, NULL, NULL);
	cg_redis_sendv(connection, NULL, NULL, NULL, "EXPIRE", key, max_age, NULL);
	cg_redis_sendv(connection, NULL, NULL, NULL, "SADD", user_key, start->id, NULL);
	cg_redis_sendv(connection, NULL, NULL, NULL, "EXPIRE", user_key, max_age, NULL);
	cg_redis_send(connection, g_steal_pointer(&xadd), NULL, NULL, NULL);
	cg_redis_sendv(connection, NULL, queued_cb, start, "EXEC", NULL);
}

static void
start_rated_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisStart *start = user_data;
	CgHttpPending *pending = start->pending;
	guint64 wait_ms = 0;
	gboolean bad = FALSE;

	if (error != NULL) {
		fail_redis(pending, error);
		start_free(start);
		return;
	}
	if (!cg_http_redis_rate_reply(reply, &wait_ms, &bad)) {
		guint retry_after_s = cg_http_retry_after_s((gint64)wait_ms * 1000);
		g_autoptr(GError) refused = NULL;

		if (bad) {
			fail_new(pending, CG_HTTP_ERROR_FAILED,
				 "The shared rate limit answered nonsense");
			start_free(start);
			return;
		}
		cg_http_metrics_rate_limited("generation");
		refused = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED,
				      "At most %u generation requests per minute; try again in "
				      "%u s",
				      start->per_minute, retry_after_s);
		cg_http_pending_fail(pending, refused, retry_after_s);
		start_free(start);
		return;
	}
	start_queue(start);
}

void
cg_http_redis_start(CgHttpRedis *redis, CgHttpPending *pending, GVariant *parameters,
		    guint per_minute, CgHttpCsvGenerations *csv_generations)
{
	CgHttpRedisStart *start = g_new0(CgHttpRedisStart, 1);
	g_autofree char *member = cg_http_redis_next_event_member(redis);

	start->redis = redis;
	start->pending = pending;
	start->params = cg_http_redis_request_params(parameters);
	start->per_minute = per_minute;
	start->csv_generations = csv_generations;
	start->id = cg_http_redis_id_new();
	cg_redis_send(
	    cg_http_redis_get_connection(redis),
	    cg_http_redis_rate_command("generation", pending->user, per_minute, 60000, member),
	    NULL, start_rated_cb, start);
}

/* ---- GET /api/certificates --------------------------------------------------------------- */

typedef struct {
	CgHttpRedis *redis;
	CgHttpPending *pending;
	guint n_waiting;
	GPtrArray *entries; /* CgHttpRedisListed */
	GError *error;
} CgHttpRedisList;

typedef struct {
	gint64 created_ms;
	GVariant *snapshot;
} CgHttpRedisListed;

typedef struct {
	CgHttpRedisList *list;
	char *id;
} CgHttpRedisListItem;

static void
listed_free(gpointer data)
{
	CgHttpRedisListed *listed = data;

	g_clear_pointer(&listed->snapshot, g_variant_unref);
	g_free(listed);
}

static gint
listed_compare(gconstpointer a, gconstpointer b)
{
	const CgHttpRedisListed *first = *(CgHttpRedisListed *const *)a;
	const CgHttpRedisListed *second = *(CgHttpRedisListed *const *)b;

	return (first->created_ms > second->created_ms) - (first->created_ms < second->created_ms);
}

static void
list_finish(CgHttpRedisList *list)
{
	CgHttpPending *pending = list->pending;
	GVariantBuilder builder;
	g_autoptr(GVariant) all = NULL;
	g_autofree char *json = NULL;

	if (list->error != NULL) {
		fail_redis(pending, list->error);
	} else {
		g_ptr_array_sort(list->entries, listed_compare);
		g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
		for (guint i = 0; i < list->entries->len; i++) {
			CgHttpRedisListed *listed = list->entries->pdata[i];

			g_variant_builder_add_value(&builder, listed->snapshot);
		}
		all = g_variant_ref_sink(g_variant_builder_end(&builder));
		json = cg_http_owned_list_to_json(all, pending->user);
		if (!pending->closed)
			cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
		cg_http_pending_done(pending);
	}
	g_clear_error(&list->error);
	g_ptr_array_unref(list->entries);
	g_free(list);
}

/* @snapshot with owner_label @user (what cg_http_owned_list_to_json()
 * selects by). */
static GVariant *
with_owner(GVariant *snapshot, const char *user)
{
	GVariantBuilder builder;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, snapshot);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (!g_str_equal(key, "owner_label"))
			g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&builder, "{sv}", "owner_label", g_variant_new_string(user));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* HMGET certgen:gen:ID user snapshot created_ms */
static void
list_item_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisListItem *item = user_data;
	CgHttpRedisList *list = item->list;
	const char *user = list->pending->user;
	gsize len = 0;
	const char *created;
	guint64 created_ms = 0;

	if (error != NULL && g_error_matches(error, CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY)) {
		/* not a hash: one bad entry does not hide the others */
		g_warning("Listing %s: %s", item->id, error->message);
	} else if (error != NULL) {
		if (list->error == NULL)
			list->error = g_error_copy(error);
	} else if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
		   reply->element[0]->type == REDIS_REPLY_NIL) {
		/* expired: out of the user's set */
		g_autofree char *user_key =
		    g_strdup_printf(CG_HTTP_REDIS_PREFIX "user:%s:gens", user);

		cg_redis_sendv(redis, NULL, NULL, NULL, "SREM", user_key, item->id, NULL);
	} else if (reply_is_owner(reply, user) && reply->elements == 3) {
		g_autoptr(GError) bad = NULL;
		g_autoptr(GVariant) snapshot = NULL;

		created = element_string(reply, 2, &len);
		if (!cg_http_redis_parse_u64(created, len, &created_ms))
			created_ms = 0;
		if (reply->element[1]->type == REDIS_REPLY_NIL)
			snapshot = cg_http_redis_queued_snapshot(item->id, (gint64)created_ms);
		else
			snapshot = cg_http_redis_reply_variant(
			    reply->element[1], G_VARIANT_TYPE_VARDICT, "snapshot", &bad);
		if (snapshot == NULL) {
			g_warning("Listing %s: %s", item->id, bad->message);
		} else {
			CgHttpRedisListed *listed = g_new0(CgHttpRedisListed, 1);

			listed->created_ms = (gint64)created_ms;
			listed->snapshot = with_owner(snapshot, user);
			g_ptr_array_add(list->entries, listed);
		}
	}
	g_free(item->id);
	g_free(item);
	if (--list->n_waiting == 0)
		list_finish(list);
}

static void
members_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisList *list = user_data;
	g_autofree char *user_key =
	    g_strdup_printf(CG_HTTP_REDIS_PREFIX "user:%s:gens", list->pending->user);

	if (error != NULL) {
		list->error = g_error_copy(error);
		list_finish(list);
		return;
	}
	list->n_waiting = 1; /* until every HMGET is sent */
	for (gsize i = 0; reply != NULL && reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	     i++) {
		gsize len = 0;
		const char *member = cg_redis_reply_string(reply->element[i], &len);
		g_autofree char *id = member != NULL ? g_strndup(member, len) : NULL;
		g_autofree char *key = NULL;
		CgHttpRedisListItem *item;

		if (id == NULL || strlen(id) != len || !cg_http_redis_id_is_valid(id)) {
			if (member != NULL)
				cg_redis_sendv(redis, NULL, NULL, NULL, "SREM", user_key, id, NULL);
			continue;
		}
		key = cg_http_redis_gen_key(id, "");
		item = g_new0(CgHttpRedisListItem, 1);
		item->list = list;
		item->id = g_steal_pointer(&id);
		list->n_waiting++;
		cg_redis_sendv(redis, NULL, list_item_cb, item, "HMGET", key, "user", "snapshot",
			       "created_ms", NULL);
	}
	if (--list->n_waiting == 0)
		list_finish(list);
}

void
cg_http_redis_list(CgHttpRedis *redis, CgHttpPending *pending)
{
	CgHttpRedisList *list = g_new0(CgHttpRedisList, 1);
	g_autofree char *user_key =
	    g_strdup_printf(CG_HTTP_REDIS_PREFIX "user:%s:gens", pending->user);

	list->redis = redis;
	list->pending = pending;
	list->entries = g_ptr_array_new_with_free_func(listed_free);
	cg_redis_sendv(cg_http_redis_get_connection(redis), NULL, members_cb, list, "SMEMBERS",
		       user_key, NULL);
}

/* ---- cancel ------------------------------------------------------------------------------ */

typedef struct {
	char *progress_id;
	CgHttpRedisDoneFunc func;
	gpointer user_data;
} CgHttpRedisCancel;

static void
cancel_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisCancel *cancel = user_data;
	g_autoptr(GError) failed = NULL;
	guint retry_after_s = 0;
	gsize len = 0;
	const char *outcome = error == NULL ? cg_redis_reply_string(reply, &len) : NULL;
	g_autofree char *text = outcome != NULL ? g_strndup(outcome, len) : NULL;

	if (error != NULL)
		failed = cg_http_redis_route_error(error, &retry_after_s);
	else if (text == NULL || g_str_equal(text, "not_found"))
		failed = cg_http_not_found_error(cancel->progress_id);
	else if (g_str_equal(text, "done"))
		failed = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_ALREADY_FINISHED,
					     "The generation has already finished");
	else if (!g_str_equal(text, "queued") && !g_str_equal(text, "running"))
		failed = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
					     "The stored generation is not in a state that can "
					     "be cancelled");
	cancel->func(cancel->user_data, failed, retry_after_s);
	g_free(cancel->progress_id);
	g_free(cancel);
}

void
cg_http_redis_cancel(CgHttpRedis *redis, const char *progress_id, const char *user,
		     GCancellable *cancellable, CgHttpRedisDoneFunc func, gpointer user_data)
{
	CgHttpRedisCancel *cancel = g_new0(CgHttpRedisCancel, 1);
	g_autofree char *key = cg_http_redis_gen_key(progress_id, "");

	cancel->progress_id = g_strdup(progress_id);
	cancel->func = func;
	cancel->user_data = user_data;
	cg_redis_sendv(cg_http_redis_get_connection(redis), cancellable, cancel_cb, cancel, "EVAL",
		       cancel_script, "1", key, user, progress_id, NULL);
}

static void
cancel_route_cb(gpointer user_data, const GError *error, guint retry_after_s)
{
	CgHttpPending *pending = user_data;

	if (error != NULL) {
		cg_http_pending_fail(pending, error, retry_after_s);
		return;
	}
	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, "{\"success\":true}");
	cg_http_pending_done(pending);
}

void
cg_http_redis_cancel_route(CgHttpRedis *redis, CgHttpPending *pending)
{
	cg_http_redis_cancel(redis, pending->progress_id, pending->user, NULL, cancel_route_cb,
			     pending);
}

/* ---- analytics --------------------------------------------------------------------------- */

/* HMGET certgen:gen:ID user state analytics */
static void
analytics_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GVariant) analytics = NULL;
	g_autoptr(GError) bad = NULL;
	g_autofree char *json = NULL;

	if (error != NULL) {
		fail_redis(pending, error);
		return;
	}
	if (!reply_is_owner(reply, pending->user) || reply->elements != 3) {
		fail_not_found(pending);
		return;
	}
	if (!element_is(reply, 1, "done") || reply->element[2]->type == REDIS_REPLY_NIL) {
		fail_new(pending, CG_HTTP_ERROR_NOT_READY,
			 "The analytics are ready once the generation has finished");
		return;
	}
	analytics = cg_http_redis_reply_variant(reply->element[2], G_VARIANT_TYPE_VARDICT,
						"analytics", &bad);
	if (analytics == NULL) {
		g_warning("Generation %s: %s", pending->progress_id, bad->message);
		cg_http_pending_fail(pending, bad, 0);
		return;
	}
	json = cg_http_analytics_to_json(analytics);
	if (!pending->closed)
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, json);
	cg_http_pending_done(pending);
}

void
cg_http_redis_analytics(CgHttpRedis *redis, CgHttpPending *pending)
{
	g_autofree char *key = cg_http_redis_gen_key(pending->progress_id, "");

	cg_redis_sendv(cg_http_redis_get_connection(redis), NULL, analytics_cb, pending, "HMGET",
		       key, "user", "state", "analytics", NULL);
}

/* ---- download ---------------------------------------------------------------------------- */

typedef struct {
	CgHttpPending *pending;
	GVariant *snapshot;
} CgHttpRedisDownload;

static void
file_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisDownload *download = user_data;
	CgHttpPending *pending = download->pending;
	SoupMessageHeaders *headers;
	SoupMessageBody *body;
	g_autofree char *filename = NULL;
	g_autofree char *disposition = NULL;
	gsize len = 0;
	const char *data = error == NULL ? cg_redis_reply_string(reply, &len) : NULL;
	gboolean zip = cg_http_download_is_zip(download->snapshot);

	if (error != NULL) {
		fail_redis(pending, error);
	} else if (data == NULL) {
		/* expired between the two reads */
		fail_not_found(pending);
	} else if (pending->closed) {
		cg_http_pending_done(pending);
	} else {
		headers = soup_server_message_get_response_headers(pending->msg);
		body = soup_server_message_get_response_body(pending->msg);
		filename = cg_http_download_filename(download->snapshot, pending->progress_id, zip);
		disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
		soup_message_headers_replace(headers, "Content-Disposition", disposition);
		soup_message_headers_replace(headers, "Cache-Control", "no-store");
		soup_message_headers_set_content_type(
		    headers, zip ? "application/zip" : "application/pdf", NULL);
		soup_message_headers_set_content_length(headers, (goffset)len);
		soup_message_body_set_accumulate(body, FALSE);
		soup_message_body_append(body, SOUP_MEMORY_COPY, data, len);
		soup_message_body_complete(body);
		soup_server_message_set_status(pending->msg, SOUP_STATUS_OK, NULL);
		cg_http_pending_done(pending);
	}
	g_clear_pointer(&download->snapshot, g_variant_unref);
	g_free(download);
}

/* HMGET certgen:gen:ID user state snapshot status */
static void
download_checked_cb(CgRedis *redis, const redisReply *reply, const GError *error,
		    gpointer user_data)
{
	CgHttpPending *pending = user_data;
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GError) bad = NULL;
	g_autofree char *key = NULL;
	CgHttpRedisDownload *download;

	if (error != NULL) {
		fail_redis(pending, error);
		return;
	}
	if (!reply_is_owner(reply, pending->user) || reply->elements != 4) {
		fail_not_found(pending);
		return;
	}
	if (!element_is(reply, 1, "done") || !element_is(reply, 3, "completed")) {
		fail_new(pending, CG_HTTP_ERROR_NOT_READY,
			 "The certificate is ready once the generation has completed");
		return;
	}
	snapshot = cg_http_redis_reply_variant(reply->element[2], G_VARIANT_TYPE_VARDICT,
					       "snapshot", &bad);
	if (snapshot == NULL) {
		g_warning("Generation %s: %s", pending->progress_id, bad->message);
		cg_http_pending_fail(pending, bad, 0);
		return;
	}
	download = g_new0(CgHttpRedisDownload, 1);
	download->pending = pending;
	download->snapshot = g_steal_pointer(&snapshot);
	key = cg_http_redis_gen_key(pending->progress_id, ":file");
	cg_redis_sendv(redis, NULL, file_cb, download, "GET", key, NULL);
}

void
cg_http_redis_download(CgHttpRedis *redis, CgHttpPending *pending)
{
	g_autofree char *key = cg_http_redis_gen_key(pending->progress_id, "");

	cg_redis_sendv(cg_http_redis_get_connection(redis), NULL, download_checked_cb, pending,
		       "HMGET", key, "user", "state", "snapshot", "status", NULL);
}

/* ---- stream admission -------------------------------------------------------------------- */

typedef struct {
	CgHttpRedis *redis;
	char *member;
	char *user;
	guint streams_per_minute;
	guint resumes_per_minute;
	guint max_per_user;
	guint max_total;
	CgHttpRedisAdmitFunc func;
	gpointer user_data;
} CgHttpRedisAdmission;

static void
admitted_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgHttpRedisAdmission *admission = user_data;
	g_autoptr(GError) refused = NULL;
	guint retry_after_s = 0;
	guint64 wait_ms = 0;
	int code = error == NULL ? cg_http_redis_admit_reply(reply, &wait_ms) : -1;

	if (error != NULL) {
		refused = cg_http_redis_route_error(error, &retry_after_s);
	} else {
		retry_after_s = cg_http_retry_after_s((gint64)wait_ms * 1000);
		switch (code) {
		case CG_HTTP_REDIS_ADMIT_OK:
			cg_http_redis_leases_hold(cg_http_redis_get_leases(admission->redis),
						  admission->member, admission->user);
			break;
		case CG_HTTP_REDIS_ADMIT_STREAM_RATE:
			cg_http_metrics_rate_limited("progress streams");
			refused = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED,
					      "At most %u progress streams per minute; try again "
					      "in %u s",
					      admission->streams_per_minute, retry_after_s);
			break;
		case CG_HTTP_REDIS_ADMIT_RESUME_RATE:
			cg_http_metrics_rate_limited("stream reconnects");
			refused = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED,
					      "At most %u stream reconnects per minute; try again "
					      "in %u s",
					      admission->resumes_per_minute, retry_after_s);
			break;
		case CG_HTTP_REDIS_ADMIT_USER_FULL:
			refused = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_TOO_MANY_STREAMS,
					      "At most %u progress streams may be open at once "
					      "per user",
					      admission->max_per_user);
			break;
		case CG_HTTP_REDIS_ADMIT_ALL_FULL:
			refused = g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_OVERLOADED,
					      "The bridges serve their maximum of %u progress "
					      "streams; try again later",
					      admission->max_total);
			break;
		default:
			retry_after_s = 0;
			refused = g_error_new_literal(CG_HTTP_ERROR, CG_HTTP_ERROR_FAILED,
						      "The shared stream limits answered "
						      "nonsense");
			break;
		}
	}
	admission->func(admission->user_data, refused == NULL ? admission->member : NULL, refused,
			retry_after_s);
	g_free(admission->member);
	g_free(admission->user);
	g_free(admission);
}

void
cg_http_redis_admit_stream(CgHttpRedis *redis, const CgHttpRedisAdmitArgs *args,
			   GCancellable *cancellable, CgHttpRedisAdmitFunc func, gpointer user_data)
{
	CgHttpRedisAdmission *admission = g_new0(CgHttpRedisAdmission, 1);
	CgHttpRedisAdmitArgs with_member = *args;

	admission->redis = redis;
	admission->member = cg_http_redis_leases_next_member(cg_http_redis_get_leases(redis));
	admission->user = g_strdup(args->user);
	admission->streams_per_minute = args->streams_per_minute;
	admission->resumes_per_minute = args->resumes_per_minute;
	admission->max_per_user = args->max_per_user;
	admission->max_total = args->max_total;
	admission->func = func;
	admission->user_data = user_data;
	with_member.member = admission->member;
	with_member.lease_ms = CG_HTTP_REDIS_LEASE_MS;
	cg_redis_send(cg_http_redis_get_connection(redis),
		      cg_http_redis_admit_command(&with_member), cancellable, admitted_cb,
		      admission);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-verify.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cg-http-error.h"
#include "cg-http-json.h"
#include "cg-http-limits.h"
#include "cg-http-pending.h"
#include "cg-http-response.h"
#include "cg-verify-input.h"

/* Reasons are capped here too (certgend checks them as well). */
#define CG_HTTP_REASON_MAX_BYTES 1024

/* ---- the record as JSON and as a page ---------------------------------------------------- */

static const char *
lookup_string(GVariant *record, const char *key)
{
	const char *s = NULL;

	return g_variant_lookup(record, key, "&s", &s) ? s : "";
}

static gint64
lookup_us(GVariant *record, const char *key)
{
	gint64 us = 0;

	return g_variant_lookup(record, key, "x", &us) ? us : 0;
}

char *
cg_http_verify_record_to_json(GVariant *record)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GVariant) fields =
	    g_variant_lookup_value(record, "fields", G_VARIANT_TYPE("a{ss}"));
	static const struct {
		const char *key, *name;
	} strings[] = {
	    {"certificate_number", "certificateNumber"},
	    {"status", "status"},
	    {"revocation_reason", "revocationReason"},
	    {"template_id", "templateId"},
	    {"data_sha256", "dataSha256"},
	    {"file_sha256", "fileSha256"},
	};
	gint64 revoked = lookup_us(record, "revoked_at_us");

	json_builder_begin_object(builder);
	for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
		json_builder_set_member_name(builder, strings[i].name);
		json_builder_add_string_value(builder, lookup_string(record, strings[i].key));
	}
	json_builder_set_member_name(builder, "issuedAt");
	json_builder_add_int_value(builder, lookup_us(record, "issued_at_us") / 1000);
	json_builder_set_member_name(builder, "revokedAt");
	if (revoked > 0)
		json_builder_add_int_value(builder, revoked / 1000);
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "fields");
	json_builder_begin_object(builder);
	if (fields != NULL) {
		GVariantIter iter;
		const char *name, *value;

		g_variant_iter_init(&iter, fields);
		while (g_variant_iter_next(&iter, "{&s&s}", &name, &value)) {
			json_builder_set_member_name(builder, name);
			json_builder_add_string_value(builder, value);
		}
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"robots\" content=\"noindex\">\n"
    "<title>%s</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;color:#1b1b1b;"
    "background:#f6f6f4;line-height:1.4}\n"
    "main{max-width:40rem;margin:0 auto}\n"
    ".status{font-size:1.6rem;font-weight:700;padding:1rem;border-radius:.5rem;"
    "margin:0 0 1rem;overflow-wrap:anywhere}\n"
    ".valid{background:#d8f0dc;color:#0b5d1e}.revoked{background:#fbe0e0;color:#8a1010}"
    ".unknown{background:#e8e8e8;color:#333}\n"
    "dl{display:grid;grid-template-columns:minmax(0,auto) minmax(0,1fr);gap:.3rem 1rem;"
    "margin:0}\n"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\n"
    ".hash{font-family:monospace;font-size:.8rem}\n"
    "</style></head><body><main>\n";

static void
add_row(GString *page, const char *name, const char *value, gboolean hash)
{
	g_autofree char *n = g_markup_escape_text(name, -1);
	g_autofree char *v = g_markup_escape_text(value, -1);

	g_string_append_printf(page, "<dt>%s</dt><dd%s>%s</dd>\n", n, hash ? " class=\"hash\"" : "",
			       v);
}

static char *
format_time(gint64 us)
{
	g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);

	return when != NULL ? g_date_time_format(when, "%Y-%m-%d %H:%M UTC") : g_strdup("?");
}

char *
cg_http_verify_record_to_html(GVariant *record)
{
	GString *page = g_string_new(NULL);
	g_autoptr(GVariant) fields = NULL;
	g_autofree char *issued = NULL;
	gboolean valid;

	if (record == NULL) {
		g_string_append_printf(page, page_head, "Certificate not found");
		g_string_append(page,
				"<p id=\"status\" class=\"status unknown\">Not found</p>\n"
				"<p>No certificate matches this number and code. Check that the "
				"whole link or QR code was used.</p>\n</main></body></html>\n");
		return g_string_free(page, FALSE);
	}
	valid = g_str_equal(lookup_string(record, "status"), "valid");
	g_string_append_printf(page, page_head,
			       valid ? "Valid certificate" : "Revoked certificate");
	if (valid) {
		g_string_append(page, "<p id=\"status\" class=\"status valid\">&#10004; Valid "
				      "certificate</p>\n");
	} else {
		g_autofree char *when = format_time(lookup_us(record, "revoked_at_us"));
		g_autofree char *reason =
		    g_markup_escape_text(lookup_string(record, "revocation_reason"), -1);

		g_string_append_printf(page,
				       "<p id=\"status\" class=\"status revoked\">&#10008; Revoked "
				       "on %s</p>\n<p id=\"reason\">Reason: %s</p>\n",
				       when, reason);
	}
	g_string_append(page, "<dl>\n");
	add_row(page, "Certificate", lookup_string(record, "certificate_number"), FALSE);
	issued = format_time(lookup_us(record, "issued_at_us"));
	add_row(page, "Issued", issued, FALSE);
	add_row(page, "Template", lookup_string(record, "template_id"), FALSE);
	fields = g_variant_lookup_value(record, "fields", G_VARIANT_TYPE("a{ss}"));
	if (fields != NULL) {
		GVariantIter iter;
		const char *name, *value;

		g_variant_iter_init(&iter, fields);
		while (g_variant_iter_next(&iter, "{&s&s}", &name, &value))
			add_row(page, name, value, FALSE);
	}
	add_row(page, "Data SHA-256", lookup_string(record, "data_sha256"), TRUE);
	add_row(page, "File SHA-256", lookup_string(record, "file_sha256"), TRUE);
	g_string_append(page, "</dl>\n</main></body></html>\n");
	return g_string_free(page, FALSE);
}

/* ---- GET /verify/{number}?c={code} ------------------------------------------------------- */

static gboolean
wants_json(SoupServerMessage *msg)
{
	const char *accept =
	    soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Accept");

	return accept != NULL && strstr(accept, "application/json") != NULL;
}

static void
respond_html(SoupServerMessage *msg, guint status, const char *html)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_replace(headers, "Content-Security-Policy",
				     "default-src 'none'; style-src 'unsafe-inline'");
	soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY, html,
					 strlen(html));
}

/* The same 404 for an unknown number, a wrong code and a malformed one. */
static void
respond_not_found(SoupServerMessage *msg, gboolean json)
{
	g_autofree char *html = NULL;

	if (json) {
		cg_http_respond_new_error(msg, CG_HTTP_ERROR_NOT_FOUND, 0,
					  "No such certificate or wrong code");
		return;
	}
	html = cg_http_verify_record_to_html(NULL);
	respond_html(msg, SOUP_STATUS_NOT_FOUND, html);
}

static void
respond_failure(SoupServerMessage *msg, gboolean json, const GError *error, guint retry_after_s)
{
	g_autofree char *html = NULL;
	g_autofree char *message = NULL;

	if (json) {
		cg_http_respond_error(msg, error, retry_after_s);
		return;
	}
	if (retry_after_s > 0) {
		g_autofree char *value = g_strdup_printf("%u", retry_after_s);

		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Retry-After", value);
	}
	message = g_markup_escape_text(error->message, -1);
	html = g_strdup_printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<meta name=\"viewport\" content=\"width=device-width, "
			       "initial-scale=1\"><title>Try again later</title></head><body>"
			       "<p id=\"status\">%s</p></body></html>\n",
			       message);
	respond_html(msg, cg_http_error_status(error), html);
}

static void
verified_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CgHttpPending *pending = user_data;
	gboolean json = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(pending->msg), "cg-json"));
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	g_autoptr(GVariant) record = NULL;
	g_autofree char *body = NULL;

	if (pending->closed) {
		cg_http_pending_done(pending);
		return;
	}
	if (reply == NULL) {
		guint retry_after_s = 0;
		g_autoptr(GError) mapped = cg_http_error_from_dbus(error, &retry_after_s);

		if (g_error_matches(mapped, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND))
			respond_not_found(pending->msg, json);
		else
			respond_failure(pending->msg, json, mapped, retry_after_s);
		cg_http_pending_done(pending);
		return;
	}
	record = g_variant_get_child_value(reply, 0);
	if (json) {
		body = cg_http_verify_record_to_json(record);
		cg_http_respond_json(pending->msg, SOUP_STATUS_OK, body);
	} else {
		body = cg_http_verify_record_to_html(record);
		respond_html(pending->msg, SOUP_STATUS_OK, body);
	}
	cg_http_pending_done(pending);
}

/* The client's address as the rate limit's key. */
static const char *
client_key(SoupServerMessage *msg)
{
	const char *host = soup_server_message_get_remote_host(msg);

	return host != NULL ? host : "unknown";
}

void
cg_http_verify_handle(CgHttpVerifyContext *context, SoupServerMessage *msg, const char *path,
		      const char *method)
{
	const char *number = path + strlen(CG_HTTP_VERIFY_PATH);
	const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
	const char *code = query != NULL && g_str_has_prefix(query, "c=") ? query + 2 : NULL;
	gboolean json = wants_json(msg);
	gint64 wait_us = 0;
	CgHttpPending *pending;

	if (!g_str_equal(method, SOUP_METHOD_GET) && !g_str_equal(method, SOUP_METHOD_HEAD)) {
		cg_http_respond_method_not_allowed(msg, "GET, HEAD");
		return;
	}
	/* every attempt counts, found or not: codes cannot be tried at speed */
	if (!cg_rate_limit_try(context->limiter, client_key(msg), g_get_monotonic_time(),
			       &wait_us)) {
		guint retry_after_s = cg_http_retry_after_s(wait_us);
		g_autoptr(GError) error = g_error_new(
		    CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED,
		    "At most %u verifications per minute from one address; try again in %u s",
		    context->per_minute, retry_after_s);

		respond_failure(msg, json, error, retry_after_s);
		return;
	}
	if (!cg_certificate_number_is_valid(number) || !cg_verification_code_is_valid(code)) {
		respond_not_found(msg, json);
		return;
	}
	pending = cg_http_pending_new(context->owner, context->n_pending, msg, NULL, NULL);
	g_object_set_data(G_OBJECT(msg), "cg-json", GINT_TO_POINTER(json));
	cg_http_bus_call(context->bus, "Verify", g_variant_new("(ss)", number, code),
			 G_VARIANT_TYPE("(a{sv})"), NULL, verified_cb, pending);
}

/* ---- POST /api/certificates/{number}/revoke ---------------------------------------------- */

/* "CERT2026000042" -> ("CERT2026", 42): the year part and the sequence. */
static gboolean
split_number(const char *number, char **prefix, guint64 *sequence)
{
	gsize len = strlen(number), digits = 0;

	/* certgend's numbers: CERT, the year (4 digits), the sequence */
	if (!g_str_has_prefix(number, "CERT") || len < 4 + 4 + 1)
		return FALSE;
	for (const char *p = number + 4; *p != '\0'; p++, digits++)
		if (!g_ascii_isdigit(*p))
			return FALSE;
	if (digits > 4 + 19)
		return FALSE;
	*prefix = g_strndup(number, 8);
	*sequence = g_ascii_strtoull(number + 8, NULL, 10);
	return TRUE;
}

gboolean
cg_http_verify_generation_issued(GVariant *snapshot, const char *user, const char *number)
{
	g_autoptr(GVariant) result =
	    g_variant_lookup_value(snapshot, "result", G_VARIANT_TYPE_VARDICT);
	g_autofree char *prefix = NULL, *first_prefix = NULL, *last_prefix = NULL;
	const char *label = NULL, *first = NULL, *last = NULL;
	guint64 n = 0, lo = 0, hi = 0;

	if (!g_variant_lookup(snapshot, "owner_label", "&s", &label) ||
	    g_strcmp0(label, user) != 0 || result == NULL ||
	    !g_variant_lookup(result, "certificate_number", "&s", &first))
		return FALSE;
	if (!g_variant_lookup(result, "last_certificate_number", "&s", &last))
		last = first;
	if (g_str_equal(number, first) || g_str_equal(number, last))
		return TRUE;
	if (!split_number(number, &prefix, &n) || !split_number(first, &first_prefix, &lo) ||
	    !split_number(last, &last_prefix, &hi))
		return FALSE;
	return g_str_equal(prefix, first_prefix) && g_str_equal(prefix, last_prefix) && lo <= n &&
	       n <= hi;
}

typedef struct {
	CgHttpVerifyContext *context;
	CgHttpPending *pending;
	char *number;
	char *reason;
} RevokeRequest;

static void
revoke_request_free(RevokeRequest *request)
{
	g_free(request->number);
	g_free(request->reason);
	g_free(request);
}

static GError *
revoke_not_found(const char *number)
{
	return g_error_new(CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND, "No certificate %s", number);
}

static void
revoked_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RevokeRequest *request = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);

	if (reply == NULL) {
		guint retry_after_s = 0;
		g_autoptr(GError) mapped = cg_http_error_from_dbus(error, &retry_after_s);

		/* an unknown number gets the 404 a foreign one gets */
		if (g_error_matches(mapped, CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND)) {
			g_clear_error(&mapped);
			mapped = revoke_not_found(request->number);
			retry_after_s = 0;
		}
		cg_http_pending_fail(request->pending, mapped, retry_after_s);
	} else {
		if (!request->pending->closed)
			cg_http_respond_json(request->pending->msg, SOUP_STATUS_OK,
					     "{\"success\":true}");
		cg_http_pending_done(request->pending);
	}
	revoke_request_free(request);
}

static void
listed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RevokeRequest *request = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	g_autoptr(GVariant) list = NULL;
	gboolean owned = FALSE;
	GVariantIter iter;
	GVariant *snapshot;

	if (reply == NULL) {
		cg_http_pending_fail_dbus(request->pending, error);
		revoke_request_free(request);
		return;
	}
	list = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, list);
	while (!owned && (snapshot = g_variant_iter_next_value(&iter)) != NULL) {
		owned = cg_http_verify_generation_issued(snapshot, request->pending->user,
							 request->number);
		g_variant_unref(snapshot);
	}
	if (!owned || request->pending->closed) {
		g_autoptr(GError) not_found = revoke_not_found(request->number);

		cg_http_pending_fail(request->pending, not_found, 0);
		revoke_request_free(request);
		return;
	}
	cg_http_bus_call(request->context->bus, "Revoke",
			 g_variant_new("(ss)", request->number, request->reason),
			 G_VARIANT_TYPE("()"), NULL, revoked_cb, request);
}

/* The "reason" of a {"reason": TEXT} body, or NULL with @error set. */
static char *
parse_reason(GBytes *body, guint max_json_depth, GError **error)
{
	gsize size = 0;
	const char *data = g_bytes_get_data(body, &size);
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	JsonObject *object;
	JsonNode *reason;
	const char *text;

	if (!cg_http_json_check(data, size, max_json_depth, error))
		return NULL;
	if (!json_parser_load_from_data(parser, data, (gssize)size, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "The body must be a JSON object {\"reason\": TEXT}");
		return NULL;
	}
	object = json_node_get_object(json_parser_get_root(parser));
	reason = json_object_get_member(object, "reason");
	if (json_object_get_size(object) != 1 || reason == NULL ||
	    json_node_get_value_type(reason) != G_TYPE_STRING) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "The body must be {\"reason\": TEXT}, nothing else");
		return NULL;
	}
	text = json_node_get_string(reason);
	if (text[0] == '\0' || strlen(text) > CG_HTTP_REASON_MAX_BYTES) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "reason: 1 to %u bytes of text", CG_HTTP_REASON_MAX_BYTES);
		return NULL;
	}
	return g_strdup(text);
}

void
cg_http_verify_handle_revoke(CgHttpVerifyContext *context, SoupServerMessage *msg, const char *user,
			     const char *number, guint max_json_depth)
{
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;
	RevokeRequest *request;

	if (!cg_certificate_number_is_valid(number)) {
		g_autoptr(GError) not_found = g_error_new_literal(
		    CG_HTTP_ERROR, CG_HTTP_ERROR_NOT_FOUND, "No such certificate");

		cg_http_respond_error(msg, not_found, 0);
		return;
	}
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	reason = parse_reason(body, max_json_depth, &error);
	if (reason == NULL) {
		cg_http_respond_error(msg, error, 0);
		return;
	}
	request = g_new0(RevokeRequest, 1);
	request->context = context;
	request->number = g_strdup(number);
	request->reason = g_steal_pointer(&reason);
	request->pending = cg_http_pending_new(context->owner, context->n_pending, msg, user, NULL);
	cg_http_bus_call(context->bus, "ListGenerations", NULL, G_VARIANT_TYPE("(aa{sv})"), NULL,
			 listed_cb, request);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-json.h"

#include <string.h>

#include "cg-csv.h"
#include "cg-problem-text.h"
#include "cg-http-error.h"
#include "cg-json.h"

#define CG_HTTP_MAX_TRANSACTION_ID 128
#define CG_HTTP_MAX_TIMEOUT_MS (24u * 3600u * 1000u)
#define CG_HTTP_MAX_UPDATE_INTERVAL_MS 60000u

/* The body's member StartGeneration's data_json comes from. */
#define CG_HTTP_DATA_MEMBER "data"

/* @path (a cg-json path) inside the body's "data": the rest of it ("" for
 * data itself), or NULL. */
static const char *
cg_http_json_data_path(const char *path)
{
	gsize n = strlen(CG_HTTP_DATA_MEMBER);

	if (path == NULL || strncmp(path, CG_HTTP_DATA_MEMBER, n) != 0)
		return NULL;
	if (path[n] == '\0' || path[n] == '[')
		return path + n;
	if (path[n] == '.')
		return path + n + 1;
	return NULL;
}

/* A cg-json error as the bridge answers it. Everything is BAD_REQUEST
 * ("Malformed JSON: ...") but, with @data_path (a POST body), what certgend
 * would refuse as InvalidData: an error inside "data" is INVALID_DATA named
 * by its path in the data ("recipients[3].recipientName: ...", "data: ..."
 * for the object itself; *@data_path is set to that path), and a key
 * repeated elsewhere in the body is INVALID_ARGUMENT. */
static void
cg_http_json_set_error(GError **error, const GError *json_error, char **data_path)
{
	const char *path = cg_json_error_get_path(json_error);
	const char *what = cg_json_error_get_what(json_error);
	gsize offset = cg_json_error_get_offset(json_error);
	const char *in_data = data_path != NULL ? cg_http_json_data_path(path) : NULL;

	switch ((CgJsonError)json_error->code) {
	case CG_JSON_ERROR_SYNTAX:
	case CG_JSON_ERROR_DEPTH:
	case CG_JSON_ERROR_NUL:
	case CG_JSON_ERROR_DUPLICATE:
	case CG_JSON_ERROR_ARRAY_LENGTH:
		if (in_data != NULL &&
		    !(json_error->code == CG_JSON_ERROR_DUPLICATE && *in_data == '\0')) {
			const char *where = *in_data != '\0' ? in_data : CG_HTTP_DATA_MEMBER;
			gboolean syntax = json_error->code == CG_JSON_ERROR_SYNTAX ||
					  json_error->code == CG_JSON_ERROR_DEPTH;

			g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_DATA,
				    "%s: %s%s at byte offset %" G_GSIZE_FORMAT, where,
				    syntax ? "not valid JSON: " : "", what, offset);
			*data_path = g_strdup(where);
			return;
		}
		if (data_path != NULL && json_error->code == CG_JSON_ERROR_DUPLICATE) {
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
					    json_error->message);
			return;
		}
		break;
	case CG_JSON_ERROR_EMPTY:
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Malformed JSON: the request body is empty");
		return;
	case CG_JSON_ERROR_TOO_LARGE:
	case CG_JSON_ERROR_ENCODING:
	case CG_JSON_ERROR_VALUES:
		break;
	}
	g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST, "Malformed JSON: %s",
		    json_error->message);
}

/* The strict parse of a body or message that must be an object. */
static JsonNode *
cg_http_json_parse(const char *data, gsize len, guint max_depth, GHashTable **spans,
		   char **data_path, GError **error)
{
	CgJsonLimits limits = {0};
	g_autoptr(GError) json_error = NULL;
	g_autoptr(JsonNode) root = NULL;

	limits.max_depth = max_depth;
	limits.max_values = cg_json_values_budget(len);
	root = cg_json_parse_with_spans(data, len, &limits, spans, &json_error);
	if (root == NULL) {
		cg_http_json_set_error(error, json_error, data_path);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Malformed JSON: the request body must be a JSON object");
		return NULL;
	}
	return g_steal_pointer(&root);
}

gboolean
cg_http_json_check(const char *data, gsize len, guint max_depth, GError **error)
{
	g_autoptr(GError) json_error = NULL;
	g_autoptr(JsonNode) root = NULL;
	CgJsonLimits limits = {0};

	limits.max_depth = max_depth;
	limits.max_values = cg_json_values_budget(len);
	root = cg_json_parse(data, len, &limits, &json_error);
	if (root == NULL) {
		cg_http_json_set_error(error, json_error, NULL);
		return FALSE;
	}
	return TRUE;
}

JsonNode *
cg_http_json_parse_object(const char *data, gsize len, guint max_depth, GError **error)
{
	return cg_http_json_parse(data, len, max_depth, NULL, NULL, error);
}

/* ---- POST /api/certificates ------------------------------------------------------------ */

static gboolean
get_ms_option(JsonNode *node, const char *name, guint min, guint max, guint *out, GError **error)
{
	gint64 value;

	if (json_node_get_value_type(node) != G_TYPE_INT64) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "options.%s: expected a whole number of milliseconds", name);
		return FALSE;
	}
	value = json_node_get_int(node);
	if (value < (gint64)min || value > (gint64)max) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "options.%s: %" G_GINT64_FORMAT " is out of range (%u–%u)", name, value,
			    min, max);
		return FALSE;
	}
	*out = (guint)value;
	return TRUE;
}

static gboolean
get_bool_option(JsonNode *node, const char *name, gboolean *out, GError **error)
{
	if (json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "options.%s: expected true or false", name);
		return FALSE;
	}
	*out = json_node_get_boolean(node);
	return TRUE;
}

/* The boolean options of a POST body: its name, certgend's name. */
static const char *const bool_options[][2] = {
    {"enableCancellation", "enable_cancellation"},
    {"enablePersistence", "enable_persistence"},
    {"validateOnly", "validate_only"},
};

static const char *
bool_option_key(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(bool_options); i++)
		if (g_str_equal(bool_options[i][0], name))
			return bool_options[i][1];
	return NULL;
}

static gboolean
unknown_option(const char *name, GError **error)
{
	g_autofree char *escaped = g_strescape(name, NULL);
	g_autoptr(GString) known = g_string_new("timeout");

	for (gsize i = 0; i < G_N_ELEMENTS(bool_options); i++)
		g_string_append_printf(known, ", %s", bool_options[i][0]);
	g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
		    "options: unknown option '%.64s' (known: %s, updateInterval)", escaped,
		    known->str);
	return FALSE;
}

static gboolean
build_options(JsonNode *node, const char *user, GVariantBuilder *options, GError **error)
{
	JsonObject *object;
	JsonObjectIter iter;
	const char *name;
	JsonNode *value;

	g_variant_builder_add(options, "{sv}", "owner_label", g_variant_new_string(user));
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "options: expected an object");
		return FALSE;
	}
	object = json_node_get_object(node);
	json_object_iter_init(&iter, object);
	while (json_object_iter_next(&iter, &name, &value)) {
		const char *key = bool_option_key(name);
		guint ms;
		gboolean flag;

		if (key != NULL) {
			if (!get_bool_option(value, name, &flag, error))
				return FALSE;
			g_variant_builder_add(options, "{sv}", key, g_variant_new_boolean(flag));
		} else if (g_str_equal(name, "timeout")) {
			if (!get_ms_option(value, name, 1, CG_HTTP_MAX_TIMEOUT_MS, &ms, error))
				return FALSE;
			g_variant_builder_add(options, "{sv}", "timeout_ms",
					      g_variant_new_uint32(ms));
		} else if (g_str_equal(name, "updateInterval")) {
			if (!get_ms_option(value, name, 0, CG_HTTP_MAX_UPDATE_INTERVAL_MS, &ms,
					   error))
				return FALSE;
			g_variant_builder_add(options, "{sv}", "update_interval_ms",
					      g_variant_new_uint32(ms));
		} else {
			return unknown_option(name, error);
		}
	}
	return TRUE;
}

static const char *
get_string_member(JsonObject *object, const char *name, GError **error)
{
	JsonNode *node = json_object_get_member(object, name);

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (json_node_get_value_type(node) != G_TYPE_STRING) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "%s: expected a string", name);
		return NULL;
	}
	return json_node_get_string(node);
}

gboolean
cg_http_add_output_format(GVariantBuilder *options, const char *name, const char *value,
			  GError **error)
{
	g_autofree char *escaped = NULL;

	/* pdf is certgend's default: only zip is asked for */
	if (value == NULL || g_str_equal(value, "pdf"))
		return TRUE;
	if (g_str_equal(value, "zip")) {
		g_variant_builder_add(options, "{sv}", "output_format",
				      g_variant_new_string("zip"));
		return TRUE;
	}
	escaped = g_strescape(value, NULL);
	g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
		    "%s: expected pdf or zip, not '%.64s'", name, escaped);
	return FALSE;
}

/* The root object of a request body whose members are all in @known
 * (NULL-terminated; @known_text lists them for the message), and the spans
 * of its members; NULL with *@data_path set (when the JSON text was bad
 * inside "data") or not. */
static JsonNode *
parse_body_object(const char *body, gsize len, guint max_depth, const char *const *known,
		  const char *known_text, GHashTable **spans, char **data_path, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *path = NULL;
	JsonObjectIter iter;
	const char *name;
	JsonNode *value;

	if (data_path != NULL)
		*data_path = NULL;
	root = cg_http_json_parse(body, len, max_depth, spans, &path, error);
	if (root == NULL) {
		if (data_path != NULL)
			*data_path = g_steal_pointer(&path);
		return NULL;
	}
	json_object_iter_init(&iter, json_node_get_object(root));
	while (json_object_iter_next(&iter, &name, &value)) {
		if (!g_strv_contains(known, name)) {
			g_autofree char *escaped = g_strescape(name, NULL);

			g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "unknown field '%.64s' (known: %s)", escaped, known_text);
			return NULL;
		}
	}
	return g_steal_pointer(&root);
}

/* The "data" member's text exactly as sent: certgend parses the same text
 * with the same parser, nothing is lost or changed by a re-serialization. */
static char *
take_data_json(const char *body, JsonObject *object, GHashTable *spans, GError **error)
{
	JsonNode *data = json_object_get_member(object, CG_HTTP_DATA_MEMBER);
	const CgJsonSpan *span =
	    spans != NULL ? g_hash_table_lookup(spans, CG_HTTP_DATA_MEMBER) : NULL;

	if (data == NULL || !JSON_NODE_HOLDS_OBJECT(data) || span == NULL) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "data: expected an object (one recipient, or "
				    "{\"recipients\": [...]})");
		return NULL;
	}
	return g_strndup(body + span->start, span->end - span->start);
}

/* "templateId" (a string, or NULL when absent: *@template_id) and the
 * "data" text (take_data_json), or NULL. */
static char *
take_template_and_data(const char *body, JsonObject *object, GHashTable *spans,
		       const char **template_id, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	*template_id = get_string_member(object, "templateId", &local_error);
	if (local_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	return take_data_json(body, object, spans, error);
}

GVariant *
cg_http_start_parameters_from_body(const char *body, gsize len, guint max_depth, const char *user,
				   char **data_path, GError **error)
{
	static const char *const known[] = {"transactionId", "templateId",   CG_HTTP_DATA_MEMBER,
					    "options",	     "outputFormat", NULL};
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GHashTable) spans = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *data_json = NULL;
	const char *transaction_id, *template_id, *output_format;
	JsonObject *object;

	g_return_val_if_fail(body != NULL || len == 0, NULL);
	g_return_val_if_fail(user != NULL, NULL);

	root = parse_body_object(body, len, max_depth, known,
				 "transactionId, templateId, data, options, outputFormat", &spans,
				 data_path, error);
	if (root == NULL)
		return NULL;
	object = json_node_get_object(root);
	transaction_id = get_string_member(object, "transactionId", error);
	if (transaction_id == NULL && error != NULL && *error != NULL)
		return NULL;
	data_json = take_template_and_data(body, object, spans, &template_id, error);
	if (data_json == NULL)
		return NULL;
	output_format = get_string_member(object, "outputFormat", error);
	if (output_format == NULL && error != NULL && *error != NULL)
		return NULL;
	if (!build_options(json_object_get_member(object, "options"), user, &options, error) ||
	    !cg_http_add_output_format(&options, "outputFormat", output_format, error))
		return NULL;
	return cg_http_start_parameters_new(transaction_id, template_id, data_json, &options,
					    error);
}

GVariant *
cg_http_preview_parameters_from_body(const char *body, gsize len, guint max_depth, char **data_path,
				     GError **error)
{
	static const char *const known[] = {"templateId", CG_HTTP_DATA_MEMBER, "page", NULL};
	g_autoptr(GHashTable) spans = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *data_json = NULL;
	const char *template_id;
	JsonObject *object;
	JsonNode *page;
	gint64 number = 1;

	g_return_val_if_fail(body != NULL || len == 0, NULL);

	root = parse_body_object(body, len, max_depth, known, "templateId, data, page", &spans,
				 data_path, error);
	if (root == NULL)
		return NULL;
	object = json_node_get_object(root);
	data_json = take_template_and_data(body, object, spans, &template_id, error);
	if (data_json == NULL)
		return NULL;
	page = json_object_get_member(object, "page");
	if (page != NULL && !JSON_NODE_HOLDS_NULL(page)) {
		number =
		    json_node_get_value_type(page) == G_TYPE_INT64 ? json_node_get_int(page) : 0;
		if (number < 1 || number > G_MAXUINT32) {
			g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "page: expected a whole number from 1 to %u", G_MAXUINT32);
			return NULL;
		}
	}
	return g_variant_new("(ssu)", template_id != NULL ? template_id : "classic", data_json,
			     (guint32)number);
}

GVariant *
cg_http_start_parameters_new(const char *transaction_id, const char *template_id,
			     const char *data_json, GVariantBuilder *options, GError **error)
{
	g_autofree char *generated_tx = NULL;

	if (transaction_id == NULL) {
		g_autofree char *uuid = g_uuid_string_random();

		generated_tx = g_strconcat("web-", uuid, NULL);
		transaction_id = generated_tx;
	} else if (transaction_id[0] == '\0' ||
		   strlen(transaction_id) > CG_HTTP_MAX_TRANSACTION_ID) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "transactionId: must be 1–%u bytes", CG_HTTP_MAX_TRANSACTION_ID);
		return NULL;
	}
	if (template_id == NULL)
		template_id = "classic";
	return g_variant_new("(sss@a{sv})", transaction_id, template_id, data_json,
			     g_variant_builder_end(options));
}

char *
cg_http_invalid_data_json(const char *message, const char *path)
{
	g_autofree char *prefix = g_strconcat(path, ": ", NULL);
	g_autoptr(GPtrArray) issues =
	    g_ptr_array_new_with_free_func((GDestroyNotify)cg_csv_issue_free);
	CgCsvIssue *issue = g_new0(CgCsvIssue, 1);

	issue->path = g_strdup(path);
	issue->message =
	    g_strdup(g_str_has_prefix(message, prefix) ? message + strlen(prefix) : message);
	g_ptr_array_add(issues, issue);
	return cg_http_invalid_data_issues_json(message, issues);
}

char *
cg_http_invalid_data_issues_json(const char *message, const GPtrArray *issues)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, "invalid_data");
	json_builder_set_member_name(builder, "message");
	json_builder_add_string_value(builder, message);
	json_builder_set_member_name(builder, "errors");
	json_builder_begin_array(builder);
	for (guint i = 0; i < issues->len; i++) {
		const CgCsvIssue *issue = g_ptr_array_index(issues, i);

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "path");
		json_builder_add_string_value(builder, issue->path);
		json_builder_set_member_name(builder, "message");
		json_builder_add_string_value(builder, issue->message);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

/* certgend's joined InvalidData message (cg-problem-text.h) as its
 * problems; a message that names no path is one problem of "data". */
static GPtrArray *
split_problems(const char *message)
{
	GPtrArray *issues = g_ptr_array_new_with_free_func((GDestroyNotify)cg_csv_issue_free);
	const char *start = message;
	gsize path_len = 0;

	if (!cg_problem_text_path(message, &path_len)) {
		CgCsvIssue *issue = g_new0(CgCsvIssue, 1);

		issue->path = g_strdup("data");
		issue->message = g_strdup(message);
		g_ptr_array_add(issues, issue);
		return issues;
	}
	while (start != NULL && cg_problem_text_path(start, &path_len)) {
		const char *what = start + path_len + 2;
		const char *end = cg_problem_text_end(what, &start);
		CgCsvIssue *issue = g_new0(CgCsvIssue, 1);

		issue->path = g_strndup(what - path_len - 2, path_len);
		issue->message = g_strndup(what, (gsize)(end - what));
		g_ptr_array_add(issues, issue);
	}
	return issues;
}

char *
cg_http_invalid_data_message_json(const char *message)
{
	g_autoptr(GPtrArray) issues = split_problems(message);

	return cg_http_invalid_data_issues_json(message, issues);
}

char *
cg_http_camel_case(const char *key)
{
	GString *out = g_string_sized_new(strlen(key));
	gboolean upper = FALSE;

	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '_') {
			upper = out->len > 0;
			continue;
		}
		g_string_append_c(out, upper ? g_ascii_toupper(*p) : *p);
		upper = FALSE;
	}
	return g_string_free(out, FALSE);
}

char *
cg_http_json_to_string(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();

	json_generator_set_root(generator, node);
	return json_generator_to_data(generator, NULL);
}

static gint64
us_to_ms(gint64 us)
{
	return us / 1000;
}

static void add_vardict(JsonBuilder *builder, GVariant *dict);

/* A basic value as plain JSON, an a{sv} as an object with camelCase keys,
 * an aa{sv} as an array of them; anything else null. */
static void
add_variant_value(JsonBuilder *builder, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
		add_vardict(builder, value);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE("aa{sv}"))) {
		json_builder_begin_array(builder);
		for (gsize i = 0; i < g_variant_n_children(value); i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

			add_vardict(builder, child);
		}
		json_builder_end_array(builder);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
		   g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH))
		json_builder_add_string_value(builder, g_variant_get_string(value, NULL));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		json_builder_add_boolean_value(builder, g_variant_get_boolean(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		json_builder_add_double_value(builder, g_variant_get_double(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		json_builder_add_int_value(builder, g_variant_get_uint32(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		json_builder_add_int_value(builder, g_variant_get_int32(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		json_builder_add_int_value(
		    builder, (gint64)MIN(g_variant_get_uint64(value), (guint64)G_MAXINT64));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		json_builder_add_int_value(builder, g_variant_get_int64(value));
	else
		json_builder_add_null_value(builder);
}

static void
add_vardict(JsonBuilder *builder, GVariant *dict)
{
	GVariantIter iter;
	const char *key;
	GVariant *raw;

	json_builder_begin_object(builder);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &raw)) {
		g_autoptr(GVariant) value = raw;
		g_autofree char *name = cg_http_camel_case(key);

		json_builder_set_member_name(builder, name);
		add_variant_value(builder, value);
	}
	json_builder_end_object(builder);
}

static void
add_update(JsonBuilder *builder, GVariant *update)
{
	const char *progress_id = NULL;
	GVariantIter iter;
	const char *key;
	GVariant *raw;

	json_builder_begin_object(builder);
	g_variant_iter_init(&iter, update);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &raw)) {
		g_autoptr(GVariant) value = raw;

		if (g_str_equal(key, "owner_label"))
			continue;
		if (g_str_equal(key, "progress_id") &&
		    g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
			progress_id = g_variant_get_string(value, NULL);
		if (g_str_has_suffix(key, "_us") &&
		    g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) {
			/* timestamp_us -> timestamp, expected_end_us -> expectedEnd
			 * (null while unknown), expires_at_us -> expiresAt (null
			 * when kept), started_at_us -> startedAt; in ms. */
			g_autofree char *base = g_strndup(key, strlen(key) - 3);
			g_autofree char *name = cg_http_camel_case(base);
			gint64 us = g_variant_get_int64(value);

			json_builder_set_member_name(builder, name);
			if (us == 0 && (g_str_equal(key, "expected_end_us") ||
					g_str_equal(key, "expires_at_us")))
				json_builder_add_null_value(builder);
			else
				json_builder_add_int_value(builder, us_to_ms(us));
		} else if (g_str_equal(key, "result") &&
			   g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
			json_builder_set_member_name(builder, "result");
			add_vardict(builder, value);
		} else if (g_str_equal(key, "error") &&
			   g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
			const char *name = g_variant_get_string(value, NULL);
			g_autofree char *code = cg_http_error_code_for_dbus_name(name);

			json_builder_set_member_name(builder, "error");
			json_builder_add_string_value(builder, code);
			json_builder_set_member_name(builder, "errorName");
			json_builder_add_string_value(builder, name);
		} else {
			g_autofree char *name = cg_http_camel_case(key);

			json_builder_set_member_name(builder, name);
			add_variant_value(builder, value);
		}
	}
	if (progress_id != NULL) {
		g_autoptr(GVariant) result =
		    g_variant_lookup_value(update, "result", G_VARIANT_TYPE_VARDICT);

		if (result != NULL) {
			g_autofree char *url =
			    g_strdup_printf("/api/certificates/%s/download", progress_id);

			json_builder_set_member_name(builder, "downloadUrl");
			json_builder_add_string_value(builder, url);
		}
	}
	json_builder_end_object(builder);
}

char *
cg_http_update_to_json(GVariant *update)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;

	add_update(builder, update);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

char *
cg_http_owned_list_to_json(GVariant *list, const char *owner_label)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;
	GVariantIter iter;
	GVariant *raw;

	json_builder_begin_array(builder);
	g_variant_iter_init(&iter, list);
	while ((raw = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) update = raw;
		const char *label = NULL;

		/* the bridge's own uid sees every web user's generations (and,
		 * as root, everyone's): only this web user's are listed */
		if (g_variant_lookup(update, "owner_label", "&s", &label) &&
		    g_str_equal(label, owner_label))
			add_update(builder, update);
	}
	json_builder_end_array(builder);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

char *
cg_http_templates_to_json(GVariant *templates)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;

	g_return_val_if_fail(g_variant_is_of_type(templates, G_VARIANT_TYPE("aa{sv}")), NULL);
	add_variant_value(builder, templates);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

char *
cg_http_analytics_to_json(GVariant *analytics)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GVariant) durations = NULL;
	const char *status = NULL;
	guint64 total_ms = 0;
	gdouble rate = 0.0;
	gint64 started_us = 0, finished_us = 0;

	g_variant_lookup(analytics, "total_duration_ms", "t", &total_ms);
	g_variant_lookup(analytics, "average_progress_rate", "d", &rate);
	g_variant_lookup(analytics, "status", "&s", &status);
	g_variant_lookup(analytics, "started_at_us", "x", &started_us);
	g_variant_lookup(analytics, "finished_at_us", "x", &finished_us);
	durations = g_variant_lookup_value(analytics, "stage_durations", G_VARIANT_TYPE("a{st}"));

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "totalDuration");
	json_builder_add_int_value(builder, (gint64)MIN(total_ms, (guint64)G_MAXINT64));
	json_builder_set_member_name(builder, "averageProgressRate");
	json_builder_add_double_value(builder, rate);
	json_builder_set_member_name(builder, "stageDurations");
	json_builder_begin_object(builder);
	if (durations != NULL) {
		GVariantIter iter;
		const char *stage;
		guint64 ms;

		g_variant_iter_init(&iter, durations);
		while (g_variant_iter_next(&iter, "{&st}", &stage, &ms)) {
			json_builder_set_member_name(builder, stage);
			json_builder_add_int_value(builder, (gint64)MIN(ms, (guint64)G_MAXINT64));
		}
	}
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "status");
	json_builder_add_string_value(builder, status != NULL ? status : "");
	json_builder_set_member_name(builder, "startedAt");
	json_builder_add_int_value(builder, us_to_ms(started_us));
	json_builder_set_member_name(builder, "finishedAt");
	if (finished_us == 0)
		json_builder_add_null_value(builder);
	else
		json_builder_add_int_value(builder, us_to_ms(finished_us));
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

char *
cg_http_error_json(const char *code, const char *message)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, code);
	json_builder_set_member_name(builder, "message");
	json_builder_add_string_value(builder, message);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return cg_http_json_to_string(root);
}

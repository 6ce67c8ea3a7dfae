/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-json.h"

#include "cg-http-error.h"

gboolean
cg_http_json_check(const char *data, gsize len, guint max_depth, GError **error)
{
	const char *invalid = NULL;
	gboolean in_string = FALSE;
	gboolean escaped = FALSE;
	guint depth = 0;

	if (len == 0) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Malformed JSON: the request body is empty");
		return FALSE;
	}
	if (!g_utf8_validate(data, (gssize)len, &invalid)) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
			    "Malformed JSON: %s at byte %zu",
			    invalid != NULL && *invalid == '\0' && invalid < data + len
				? "NUL character"
				: "invalid UTF-8",
			    (gsize)(invalid - data));
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		char c = data[i];

		if (in_string) {
			if (escaped)
				escaped = FALSE;
			else if (c == '\\')
				escaped = TRUE;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		switch (c) {
		case '"':
			in_string = TRUE;
			break;
		case '{':
		case '[':
			if (++depth > max_depth) {
				g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
					    "Malformed JSON: nested deeper than %u levels at "
					    "byte %zu",
					    max_depth, i);
				return FALSE;
			}
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return TRUE;
}

JsonNode *
cg_http_json_parse_object(const char *data, gsize len, guint max_depth, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) local_error = NULL;
	JsonNode *root;

	if (!cg_http_json_check(data, len, max_depth, error))
		return NULL;
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, data, (gssize)len, &local_error)) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST, "Malformed JSON: %s",
			    local_error->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST,
				    "Malformed JSON: the request body must be a JSON object");
		return NULL;
	}
	return json_node_ref(root);
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

/* Any other value: the plain JSON rendering of a basic type. */
static void
add_variant_value(JsonBuilder *builder, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
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
add_result(JsonBuilder *builder, GVariant *result)
{
	GVariantIter iter;
	const char *key;
	GVariant *raw;

	json_builder_begin_object(builder);
	g_variant_iter_init(&iter, result);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &raw)) {
		g_autoptr(GVariant) value = raw;
		g_autofree char *name = cg_http_camel_case(key);

		json_builder_set_member_name(builder, name);
		add_variant_value(builder, value);
	}
	json_builder_end_object(builder);
}

char *
cg_http_update_to_json(GVariant *update)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) root = NULL;
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
			 * (null while unknown), started_at_us -> startedAt; in ms. */
			g_autofree char *base = g_strndup(key, strlen(key) - 3);
			g_autofree char *name = cg_http_camel_case(base);
			gint64 us = g_variant_get_int64(value);

			json_builder_set_member_name(builder, name);
			if (us == 0 && g_str_equal(key, "expected_end_us"))
				json_builder_add_null_value(builder);
			else
				json_builder_add_int_value(builder, us_to_ms(us));
		} else if (g_str_equal(key, "result") &&
			   g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
			json_builder_set_member_name(builder, "result");
			add_result(builder, value);
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

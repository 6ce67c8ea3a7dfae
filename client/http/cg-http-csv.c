/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-csv.h"
#include "cg-http-log.h"

#include <string.h>

#include "cg-contract.h"
#include "cg-csv.h"
#include "cg-field-name.h"
#include "cg-http-error.h"
#include "cg-http-json.h"

#define CG_HTTP_CSV_KNOWN "templateId, transactionId, outputFormat, persist, set.FIELD"

/* ---- the query ------------------------------------------------------------------------ */

typedef struct {
	GHashTable *seen; /* name → value */
	GPtrArray *set;	  /* "FIELD=VALUE", NULL-terminated */
} CgHttpCsvQuery;

static void
cg_http_csv_query_clear(CgHttpCsvQuery *query)
{
	g_clear_pointer(&query->seen, g_hash_table_unref);
	g_clear_pointer(&query->set, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgHttpCsvQuery, cg_http_csv_query_clear)

static gboolean
cg_http_csv_query_is_known(const char *name)
{
	static const char *const known[] = {"templateId", "transactionId", "outputFormat",
					    "persist", NULL};

	return g_strv_contains(known, name) || g_str_has_prefix(name, CG_HTTP_CSV_SET_PREFIX);
}

/* One parameter; its name and value are taken. */
static gboolean
cg_http_csv_query_add(CgHttpCsvQuery *query, char *name, char *value, GError **error)
{
	g_autofree char *owned_name = name;
	g_autofree char *owned_value = value;
	g_autofree char *escaped = g_strescape(name, NULL);

	if (!cg_http_csv_query_is_known(name)) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "unknown query parameter '%.64s' (known: " CG_HTTP_CSV_KNOWN ")",
			    escaped);
		return FALSE;
	}
	if (g_hash_table_contains(query->seen, name)) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
			    "query parameter '%.64s' given twice", escaped);
		return FALSE;
	}
	if (g_str_has_prefix(name, CG_HTTP_CSV_SET_PREFIX)) {
		const char *field = name + strlen(CG_HTTP_CSV_SET_PREFIX);

		if (!cg_field_name_is_valid(field) || g_str_equal(field, CG_FIELD_RECIPIENTS)) {
			g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
				    "'%.64s': not a shared field (set.FIELD, FIELD a letter, then "
				    "letters, digits or _, at most %u)",
				    escaped, CG_FIELD_NAME_MAX);
			return FALSE;
		}
		g_ptr_array_insert(query->set, (gint)query->set->len - 1,
				   g_strconcat(field, "=", value, NULL));
	}
	g_hash_table_insert(query->seen, g_steal_pointer(&owned_name),
			    g_steal_pointer(&owned_value));
	return TRUE;
}

/* The query's parameters; GLib refuses bad %-escapes, NUL and text that is
 * not UTF-8. */
static gboolean
cg_http_csv_query_parse(CgHttpCsvQuery *query, const char *text, GError **error)
{
	g_autoptr(GError) local = NULL;
	GUriParamsIter iter;
	char *name = NULL, *value = NULL;

	query->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	query->set = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(query->set, NULL);
	if (text == NULL || *text == '\0')
		return TRUE;
	g_uri_params_iter_init(&iter, text, -1, "&", G_URI_PARAMS_WWW_FORM);
	while (g_uri_params_iter_next(&iter, &name, &value, &local)) {
		if (!cg_http_csv_query_add(query, name, value, error))
			return FALSE;
	}
	if (local != NULL) {
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT, "query: %s",
			    local->message);
		return FALSE;
	}
	return TRUE;
}

/* outputFormat and persist as options. */
static gboolean
cg_http_csv_query_options(CgHttpCsvQuery *query, GVariantBuilder *options, GError **error)
{
	const char *format = g_hash_table_lookup(query->seen, "outputFormat");
	const char *persist = g_hash_table_lookup(query->seen, "persist");

	if (!cg_http_add_output_format(options, "outputFormat", format, error))
		return FALSE;
	if (persist != NULL) {
		gboolean on = g_str_equal(persist, "true") || g_str_equal(persist, "1");

		if (!on && !g_str_equal(persist, "false") && !g_str_equal(persist, "0")) {
			g_set_error_literal(error, CG_HTTP_ERROR, CG_HTTP_ERROR_INVALID_ARGUMENT,
					    "persist: expected true or false");
			return FALSE;
		}
		g_variant_builder_add(options, "{sv}", "enable_persistence",
				      g_variant_new_boolean(on));
	}
	return TRUE;
}

GVariant *
cg_http_csv_start_parameters(const char *body, gsize len, const char *query_text, const char *user,
			     GPtrArray **issues, GError **error)
{
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_auto(CgHttpCsvQuery) query = {0};
	g_autoptr(GError) csv_error = NULL;
	g_autoptr(GPtrArray) csv_issues = NULL;
	g_autofree char *data_json = NULL;
	CgCsvOptions csv_options = {
	    .max_bytes = CG_CSV_MAX_BYTES,
	    .max_rows = CG_CSV_MAX_ROWS,
	    .set_label = CG_HTTP_CSV_SET_PREFIX,
	};

	g_return_val_if_fail(body != NULL || len == 0, NULL);
	g_return_val_if_fail(user != NULL, NULL);

	if (issues != NULL)
		*issues = NULL;
	g_variant_builder_add(&options, "{sv}", "owner_label", g_variant_new_string(user));
	if (!cg_http_csv_query_parse(&query, query_text, error) ||
	    !cg_http_csv_query_options(&query, &options, error))
		return NULL;

	csv_options.set = (const char *const *)query.set->pdata;
	data_json = cg_csv_to_data_json(body, len, &csv_options, NULL, &csv_issues, &csv_error);
	if (data_json == NULL) {
		CgHttpError code = CG_HTTP_ERROR_INVALID_DATA;

		if (g_error_matches(csv_error, CG_CSV_ERROR, CG_CSV_ERROR_TOO_LARGE))
			code = CG_HTTP_ERROR_PAYLOAD_TOO_LARGE;
		else if (g_error_matches(csv_error, CG_CSV_ERROR, CG_CSV_ERROR_SET))
			code = CG_HTTP_ERROR_INVALID_ARGUMENT;
		g_set_error_literal(error, CG_HTTP_ERROR, code, csv_error->message);
		if (issues != NULL && code == CG_HTTP_ERROR_INVALID_DATA)
			*issues = g_steal_pointer(&csv_issues);
		return NULL;
	}
	return cg_http_start_parameters_new(g_hash_table_lookup(query.seen, "transactionId"),
					    g_hash_table_lookup(query.seen, "templateId"),
					    data_json, &options, error);
}

/* ---- updates in the CSV's words ------------------------------------------------------- */

/* "errors" (aa{sv}) with every "path" mapped. */
static GVariant *
cg_http_csv_map_errors(GVariant *errors)
{
	GVariantBuilder list;
	GVariantIter iter;
	GVariant *entry;

	g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
	g_variant_iter_init(&iter, errors);
	while ((entry = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = entry;
		GVariantBuilder fields;
		GVariantIter field_iter;
		const char *key;
		GVariant *value;

		g_variant_builder_init(&fields, G_VARIANT_TYPE_VARDICT);
		g_variant_iter_init(&field_iter, entry);
		while (g_variant_iter_next(&field_iter, "{&sv}", &key, &value)) {
			g_autoptr(GVariant) owned_value = value;

			if (g_str_equal(key, "path") &&
			    g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
				g_autofree char *mapped = cg_csv_map_path(
				    g_variant_get_string(value, NULL), CG_HTTP_CSV_SET_PREFIX);

				g_variant_builder_add(&fields, "{sv}", key,
						      g_variant_new_string(mapped));
			} else {
				g_variant_builder_add(&fields, "{sv}", key, value);
			}
		}
		g_variant_builder_add_value(&list, g_variant_builder_end(&fields));
	}
	return g_variant_builder_end(&list);
}

GVariant *
cg_http_csv_map_update(GVariant *update)
{
	GVariantBuilder out;
	GVariantIter iter;
	const char *error_name = NULL;
	const char *key;
	GVariant *value;

	g_return_val_if_fail(g_variant_is_of_type(update, G_VARIANT_TYPE_VARDICT), NULL);

	if (!g_variant_lookup(update, "error", "&s", &error_name) ||
	    !g_str_equal(error_name, CG_ERROR_PREFIX "InvalidData"))
		return g_variant_ref(update);

	g_variant_builder_init(&out, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, update);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;

		if ((g_str_equal(key, "message") || g_str_equal(key, "error_message")) &&
		    g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
			g_autofree char *mapped = cg_csv_map_message(
			    g_variant_get_string(value, NULL), CG_HTTP_CSV_SET_PREFIX);

			g_variant_builder_add(&out, "{sv}", key, g_variant_new_string(mapped));
		} else if (g_str_equal(key, "errors") &&
			   g_variant_is_of_type(value, G_VARIANT_TYPE("aa{sv}"))) {
			g_variant_builder_add(&out, "{sv}", key, cg_http_csv_map_errors(value));
		} else {
			g_variant_builder_add(&out, "{sv}", key, value);
		}
	}
	return g_variant_ref_sink(g_variant_builder_end(&out));
}

/* ---- the generations started from CSV ------------------------------------------------- */

struct _CgHttpCsvGenerations {
	GHashTable *expiry; /* progress id → gint64 monotonic expiry */
	guint max;
	gint64 ttl_us;
};

CgHttpCsvGenerations *
cg_http_csv_generations_new(guint max, guint ttl_s)
{
	CgHttpCsvGenerations *self = g_new0(CgHttpCsvGenerations, 1);

	self->expiry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->max = max;
	self->ttl_us = (gint64)ttl_s * G_USEC_PER_SEC;
	return self;
}

void
cg_http_csv_generations_free(CgHttpCsvGenerations *self)
{
	if (self != NULL)
		g_clear_pointer(&self->expiry, g_hash_table_unref);
	g_free(self);
}

void
cg_http_csv_generations_add(CgHttpCsvGenerations *self, const char *progress_id, gint64 now_us)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(progress_id != NULL);

	if (g_hash_table_size(self->expiry) >= self->max)
		cg_http_csv_generations_prune(self, now_us);
	if (g_hash_table_size(self->expiry) >= self->max) {
		cg_http_debug("%u CSV generations remembered: %s is not", self->max, progress_id);
		return;
	}
	g_hash_table_insert(self->expiry, g_strdup(progress_id),
			    g_memdup2(&(gint64){now_us + self->ttl_us}, sizeof(gint64)));
}

gboolean
cg_http_csv_generations_contains(CgHttpCsvGenerations *self, const char *progress_id)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return progress_id != NULL && g_hash_table_contains(self->expiry, progress_id);
}

void
cg_http_csv_generations_prune(CgHttpCsvGenerations *self, gint64 now_us)
{
	GHashTableIter iter;
	gpointer expiry;

	g_return_if_fail(self != NULL);

	g_hash_table_iter_init(&iter, self->expiry);
	while (g_hash_table_iter_next(&iter, NULL, &expiry)) {
		if (*(const gint64 *)expiry <= now_us)
			g_hash_table_iter_remove(&iter);
	}
}

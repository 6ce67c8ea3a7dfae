/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-statistics.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cg-check.h"
#include "cg-error.h"
#include "cg-json.h"

#define N_TIMED CG_STAGE_COMPLETED
#define FILE_VERSION 1
/* Longest template id the file may hold (ids are file names). */
#define MAX_TEMPLATE_ID 255

typedef struct {
	char *template_id;
	CgStatus status;
	guint pages;
	gint64 stage_ms[N_TIMED];
} Entry;

struct _CgStatistics {
	guint window;
	GQueue *entries; /* Entry*, oldest first */
	guint unsaved;	 /* the newest ones added since cg_statistics_mark_saved() */
};

static void
entry_free(Entry *entry)
{
	g_free(entry->template_id);
	g_free(entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entry, entry_free)

CgStatistics *
cg_statistics_new(guint window)
{
	CgStatistics *statistics = g_new0(CgStatistics, 1);

	statistics->window = window > 0 ? window : CG_STATISTICS_WINDOW;
	statistics->entries = g_queue_new();
	return statistics;
}

static void
statistics_clear(GQueue *entries)
{
	g_queue_clear_full(entries, (GDestroyNotify)entry_free);
}

void
cg_statistics_free(CgStatistics *statistics)
{
	if (statistics != NULL)
		g_queue_free_full(statistics->entries, (GDestroyNotify)entry_free);
	g_free(statistics);
}

static void
statistics_push(GQueue *entries, guint window, Entry *entry)
{
	g_queue_push_tail(entries, entry);
	while (entries->length > window)
		entry_free(g_queue_pop_head(entries));
}

static void
statistics_add_entry(CgStatistics *statistics, Entry *entry)
{
	statistics_push(statistics->entries, statistics->window, entry);
	statistics->unsaved = MIN(statistics->unsaved + 1, statistics->entries->length);
}

void
cg_statistics_add(CgStatistics *statistics, const CgStatisticsEntry *entry)
{
	Entry *copy;

	g_return_if_fail(statistics != NULL);
	g_return_if_fail(entry != NULL && entry->template_id != NULL);
	g_return_if_fail(cg_status_is_terminal(entry->status));

	copy = g_new0(Entry, 1);
	copy->template_id = g_strdup(entry->template_id);
	copy->status = entry->status;
	copy->pages = entry->pages;
	memcpy(copy->stage_ms, entry->stage_ms, sizeof(copy->stage_ms));
	statistics_add_entry(statistics, copy);
}

static gboolean
status_from_string(const char *text, CgStatus *status)
{
	for (CgStatus s = CG_STATUS_COMPLETED; s <= CG_STATUS_TIMED_OUT; s++) {
		if (g_strcmp0(text, cg_status_to_string(s)) == 0) {
			*status = s;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
cg_statistics_add_analytics(CgStatistics *statistics, const char *template_id, guint pages,
			    GVariant *analytics)
{
	CgStatisticsEntry entry = {template_id, CG_STATUS_IN_PROGRESS, pages, {0}};
	g_autoptr(GVariant) durations = NULL;
	const char *status = NULL;

	g_return_val_if_fail(statistics != NULL, FALSE);
	g_return_val_if_fail(template_id != NULL, FALSE);
	if (!g_variant_lookup(analytics, "status", "&s", &status) ||
	    !status_from_string(status, &entry.status))
		return FALSE;
	durations = g_variant_lookup_value(analytics, "stage_durations", G_VARIANT_TYPE("a{st}"));
	for (guint stage = 0; stage < N_TIMED; stage++) {
		guint64 ms = 0;

		entry.stage_ms[stage] = -1;
		if (durations != NULL &&
		    g_variant_lookup(durations, cg_stage_to_string(stage), "t", &ms))
			entry.stage_ms[stage] = (gint64)MIN(ms, (guint64)G_MAXINT64);
	}
	cg_statistics_add(statistics, &entry);
	return TRUE;
}

guint
cg_statistics_get_window(CgStatistics *statistics)
{
	g_return_val_if_fail(statistics != NULL, 0);
	return statistics->window;
}

guint
cg_statistics_get_count(CgStatistics *statistics)
{
	g_return_val_if_fail(statistics != NULL, 0);
	return statistics->entries->length;
}

/* ---- figures ------------------------------------------------------------ */

static gboolean
entry_timed(const Entry *entry, const char *template_id)
{
	return entry->status == CG_STATUS_COMPLETED &&
	       (template_id == NULL || strcmp(entry->template_id, template_id) == 0);
}

static gboolean
entry_page_ms(const Entry *entry, double *page_ms)
{
	if (entry->pages == 0 || entry->stage_ms[CG_STAGE_PDF_GENERATION] < 0)
		return FALSE;
	*page_ms = (double)entry->stage_ms[CG_STAGE_PDF_GENERATION] / entry->pages;
	return TRUE;
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile @p (0–100) of @values (sorted here); 0 if empty. */
static double
percentile(GArray *values, double p)
{
	gsize rank;

	if (values->len == 0)
		return 0.0;
	g_array_sort(values, compare_double);
	rank = (gsize)ceil(p / 100.0 * values->len);
	rank = CLAMP(rank, 1, values->len);
	return g_array_index(values, double, rank - 1);
}

/* Every completed generation's ms of @stage (-1: per page) of @template_id. */
static GArray *
collect(CgStatistics *statistics, const char *template_id, gint stage)
{
	GArray *values = g_array_new(FALSE, FALSE, sizeof(double));

	for (GList *l = statistics->entries->head; l != NULL; l = l->next) {
		const Entry *entry = l->data;
		double value = 0.0;

		if (!entry_timed(entry, template_id))
			continue;
		if (stage < 0 ? entry_page_ms(entry, &value) : entry->stage_ms[stage] >= 0) {
			if (stage >= 0)
				value = (double)entry->stage_ms[stage];
			g_array_append_val(values, value);
		}
	}
	return values;
}

gboolean
cg_statistics_get_page_ms_p50(CgStatistics *statistics, const char *template_id, double *page_ms)
{
	g_autoptr(GArray) values = NULL;

	g_return_val_if_fail(statistics != NULL, FALSE);
	g_return_val_if_fail(template_id != NULL, FALSE);
	values = collect(statistics, template_id, -1);
	if (values->len == 0)
		return FALSE;
	*page_ms = percentile(values, 50.0);
	return TRUE;
}

double
cg_statistics_get_stage_ms_p50(CgStatistics *statistics, const char *template_id, CgStage stage)
{
	g_autoptr(GArray) values = NULL;

	g_return_val_if_fail(statistics != NULL, 0.0);
	g_return_val_if_fail(template_id != NULL, 0.0);
	if (stage >= N_TIMED)
		return 0.0;
	values = collect(statistics, template_id, (gint)stage);
	return percentile(values, 50.0);
}

static GVariant *
template_to_variant(CgStatistics *statistics, const char *template_id)
{
	GVariantBuilder builder;
	GVariantBuilder p50;
	GVariantBuilder p95;
	g_autoptr(GArray) pages = collect(statistics, template_id, -1);
	guint64 generations = 0;
	guint64 n_pages = 0;

	for (GList *l = statistics->entries->head; l != NULL; l = l->next) {
		const Entry *entry = l->data;

		if (strcmp(entry->template_id, template_id) != 0)
			continue;
		generations++;
		if (entry->status == CG_STATUS_COMPLETED)
			n_pages += entry->pages;
	}
	g_variant_builder_init(&p50, G_VARIANT_TYPE("a{sd}"));
	g_variant_builder_init(&p95, G_VARIANT_TYPE("a{sd}"));
	for (guint stage = 0; stage < N_TIMED; stage++) {
		g_autoptr(GArray) values = collect(statistics, template_id, (gint)stage);

		if (values->len == 0)
			continue;
		g_variant_builder_add(&p50, "{sd}", cg_stage_to_string(stage),
				      percentile(values, 50.0));
		g_variant_builder_add(&p95, "{sd}", cg_stage_to_string(stage),
				      percentile(values, 95.0));
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "generations", g_variant_new_uint64(generations));
	g_variant_builder_add(&builder, "{sv}", "pages", g_variant_new_uint64(n_pages));
	g_variant_builder_add(&builder, "{sv}", "stage_ms_p50", g_variant_builder_end(&p50));
	g_variant_builder_add(&builder, "{sv}", "stage_ms_p95", g_variant_builder_end(&p95));
	g_variant_builder_add(&builder, "{sv}", "page_ms_p50",
			      g_variant_new_double(percentile(pages, 50.0)));
	g_variant_builder_add(&builder, "{sv}", "page_ms_p95",
			      g_variant_new_double(percentile(pages, 95.0)));
	return g_variant_builder_end(&builder);
}

static int
compare_id(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GVariant *
cg_statistics_to_variant(CgStatistics *statistics)
{
	GVariantBuilder builder;
	GVariantBuilder by_status;
	GVariantBuilder templates;
	guint64 counts[CG_STATUS_TIMED_OUT + 1] = {0};
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	g_return_val_if_fail(statistics != NULL, NULL);
	for (GList *l = statistics->entries->head; l != NULL; l = l->next) {
		const Entry *entry = l->data;

		counts[entry->status]++;
		if (g_hash_table_add(seen, entry->template_id))
			g_ptr_array_add(ids, entry->template_id);
	}
	g_ptr_array_sort(ids, compare_id);

	g_variant_builder_init(&by_status, G_VARIANT_TYPE("a{st}"));
	for (CgStatus s = CG_STATUS_COMPLETED; s <= CG_STATUS_TIMED_OUT; s++)
		g_variant_builder_add(&by_status, "{st}", cg_status_to_string(s), counts[s]);
	g_variant_builder_init(&templates, G_VARIANT_TYPE("a{sa{sv}}"));
	for (guint i = 0; i < ids->len; i++)
		g_variant_builder_add(&templates, "{s@a{sv}}", (const char *)ids->pdata[i],
				      template_to_variant(statistics, ids->pdata[i]));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "window",
			      g_variant_new_uint32(statistics->entries->length));
	g_variant_builder_add(&builder, "{sv}", "by_status", g_variant_builder_end(&by_status));
	g_variant_builder_add(&builder, "{sv}", "templates", g_variant_builder_end(&templates));
	return g_variant_builder_end(&builder);
}

/* ---- stored forms: the registry's rows and the old file ----------------- */

guint
cg_statistics_get_unsaved(CgStatistics *statistics)
{
	g_return_val_if_fail(statistics != NULL, 0);
	return statistics->unsaved;
}

void
cg_statistics_mark_saved(CgStatistics *statistics)
{
	g_return_if_fail(statistics != NULL);
	statistics->unsaved = 0;
}

gboolean
cg_statistics_get_entry(CgStatistics *statistics, guint index, CgStatisticsEntry *entry)
{
	const Entry *found;

	g_return_val_if_fail(statistics != NULL, FALSE);
	g_return_val_if_fail(entry != NULL, FALSE);
	found = g_queue_peek_nth(statistics->entries, index);
	if (found == NULL)
		return FALSE;
	entry->template_id = found->template_id;
	entry->status = found->status;
	entry->pages = found->pages;
	memcpy(entry->stage_ms, found->stage_ms, sizeof(entry->stage_ms));
	return TRUE;
}

char *
cg_statistics_stage_ms_to_text(const gint64 *stage_ms)
{
	GString *out = g_string_new(NULL);

	for (guint stage = 0; stage < N_TIMED; stage++)
		g_string_append_printf(out, "%s%" G_GINT64_FORMAT, stage > 0 ? "," : "",
				       stage_ms[stage]);
	return g_string_free(out, FALSE);
}

static gboolean
template_id_is_valid(const char *template_id)
{
	return template_id != NULL && *template_id != '\0' &&
	       strlen(template_id) <= MAX_TEMPLATE_ID &&
	       cg_check_string_argument("template_id", template_id, NULL);
}

gboolean
cg_statistics_add_stored(CgStatistics *statistics, const char *template_id, const char *status,
			 guint pages, const char *stage_ms)
{
	g_autoptr(Entry) entry = g_new0(Entry, 1);
	g_auto(GStrv) parts = NULL;

	g_return_val_if_fail(statistics != NULL, FALSE);
	if (!template_id_is_valid(template_id) || !status_from_string(status, &entry->status) ||
	    stage_ms == NULL)
		return FALSE;
	parts = g_strsplit(stage_ms, ",", -1);
	if (g_strv_length(parts) != N_TIMED)
		return FALSE;
	for (guint stage = 0; stage < N_TIMED; stage++) {
		gint64 ms = 0;

		if (!g_ascii_string_to_signed(parts[stage], 10, -1, G_MAXINT64, &ms, NULL))
			return FALSE;
		entry->stage_ms[stage] = ms;
	}
	entry->template_id = g_strdup(template_id);
	entry->pages = pages;
	statistics_push(statistics->entries, statistics->window, g_steal_pointer(&entry));
	return TRUE;
}

char *
cg_statistics_to_json(CgStatistics *statistics, gsize *length)
{
	GString *out = g_string_new(NULL);

	g_return_val_if_fail(statistics != NULL, NULL);
	g_string_append_printf(out, "{\"version\":%d,\"generations\":[", FILE_VERSION);
	for (GList *l = statistics->entries->head; l != NULL; l = l->next) {
		const Entry *entry = l->data;

		g_string_append(out, "\n{\"template_id\":");
		cg_json_append_string(out, entry->template_id);
		g_string_append_printf(out, ",\"status\":\"%s\",\"pages\":%u,\"stage_ms\":[",
				       cg_status_to_string(entry->status), entry->pages);
		for (guint stage = 0; stage < N_TIMED; stage++)
			g_string_append_printf(out, "%s%" G_GINT64_FORMAT, stage > 0 ? "," : "",
					       entry->stage_ms[stage]);
		g_string_append(out, l->next != NULL ? "]}," : "]}");
	}
	g_string_append(out, "\n]}\n");
	if (length != NULL)
		*length = out->len;
	return g_string_free(out, FALSE);
}

static gboolean
member_int(JsonObject *object, const char *name, gint64 min, gint64 max, gint64 *value)
{
	JsonNode *node = json_object_get_member(object, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64)
		return FALSE;
	*value = json_node_get_int(node);
	return *value >= min && *value <= max;
}

static const char *
member_string(JsonObject *object, const char *name)
{
	JsonNode *node = json_object_get_member(object, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/* One element of "generations", or FALSE. */
static gboolean
entry_from_json(JsonNode *node, Entry **out)
{
	g_autoptr(Entry) entry = g_new0(Entry, 1);
	JsonObject *object;
	JsonNode *stages;
	JsonArray *array;
	const char *template_id;
	gint64 pages = 0;

	if (!JSON_NODE_HOLDS_OBJECT(node))
		return FALSE;
	object = json_node_get_object(node);
	if (json_object_get_size(object) != 4)
		return FALSE;
	template_id = member_string(object, "template_id");
	if (!template_id_is_valid(template_id))
		return FALSE;
	if (!status_from_string(member_string(object, "status"), &entry->status) ||
	    !member_int(object, "pages", 0, G_MAXUINT32, &pages))
		return FALSE;
	stages = json_object_get_member(object, "stage_ms");
	if (stages == NULL || !JSON_NODE_HOLDS_ARRAY(stages))
		return FALSE;
	array = json_node_get_array(stages);
	if (json_array_get_length(array) != N_TIMED)
		return FALSE;
	for (guint stage = 0; stage < N_TIMED; stage++) {
		JsonNode *ms = json_array_get_element(array, stage);

		if (!JSON_NODE_HOLDS_VALUE(ms) || json_node_get_value_type(ms) != G_TYPE_INT64 ||
		    json_node_get_int(ms) < -1)
			return FALSE;
		entry->stage_ms[stage] = json_node_get_int(ms);
	}
	entry->template_id = g_strdup(template_id);
	entry->pages = (guint)pages;
	*out = g_steal_pointer(&entry);
	return TRUE;
}

static gboolean
statistics_parse(const char *text, gsize length, guint window, GQueue *entries, GError **error)
{
	CgJsonLimits limits = {0};
	g_autoptr(JsonNode) root = NULL;
	JsonObject *object;
	JsonNode *list;
	gint64 version = 0;

	limits.max_bytes = 64 * 1024 * 1024;
	limits.max_values = cg_json_values_budget(length);
	root = cg_json_parse(text, length, &limits, error);
	if (root == NULL)
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(root))
		return FALSE;
	object = json_node_get_object(root);
	list = json_object_get_member(object, "generations");
	if (!member_int(object, "version", FILE_VERSION, FILE_VERSION, &version) || list == NULL ||
	    !JSON_NODE_HOLDS_ARRAY(list))
		return FALSE;
	for (guint i = 0; i < json_array_get_length(json_node_get_array(list)); i++) {
		Entry *entry = NULL;

		if (!entry_from_json(json_array_get_element(json_node_get_array(list), i), &entry))
			return FALSE;
		statistics_push(entries, window, entry);
	}
	return TRUE;
}

gboolean
cg_statistics_load(CgStatistics *statistics, const char *state_dir, GError **error)
{
	g_autofree char *path = g_build_filename(state_dir, CG_STATISTICS_FILE, NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GQueue) entries = g_queue_new();
	gsize length = 0;

	g_return_val_if_fail(statistics != NULL, FALSE);
	if (!g_file_get_contents(path, &contents, &length, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot read %s: %s", path,
			    error_local->message);
		return FALSE;
	}
	if (!statistics_parse(contents, length, statistics->window, entries, &error_local)) {
		statistics_clear(entries);
		/* The text may be anything: describe it, do not quote it. */
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Statistics file %s is corrupt (%s)",
			    path,
			    error_local != NULL ? cg_json_error_describe(error_local)
						: "not a statistics window");
		return FALSE;
	}
	g_queue_free_full(statistics->entries, (GDestroyNotify)entry_free);
	statistics->entries = g_steal_pointer(&entries);
	statistics->unsaved = 0;
	return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counters behind GET /metrics and their Prometheus text form
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). */
#include "cg-http-metrics.h"

#include <stdlib.h>
#include <string.h>

#include "cg-http-update.h"

/* Distinct label values kept per family; more count as "other". */
#define CG_HTTP_METRICS_MAX_LABELS 64

static const double latency_bounds_s[CG_HTTP_METRICS_N_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
};

static struct {
	gint64 streams_open;
	guint64 streams_opened;
	guint64 events_delivered;
	guint64 latency_buckets[CG_HTTP_METRICS_N_BUCKETS]; /* not cumulative */
	guint64 latency_count;
	double latency_sum_s;
	guint64 bus_reconnects;
	GHashTable *finished; /* status -> count */
	GHashTable *refused;  /* route -> count */
} metrics;

/* --redis: the state of the connections /metrics shows. */
static CgHttpMetricsRedisFunc redis_func;
static gpointer redis_data;

static void
count_label(GHashTable **table, const char *label)
{
	gpointer count;

	if (*table == NULL)
		*table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!g_hash_table_contains(*table, label) &&
	    g_hash_table_size(*table) >= CG_HTTP_METRICS_MAX_LABELS)
		label = "other";
	count = g_hash_table_lookup(*table, label);
	g_hash_table_replace(*table, g_strdup(label),
			     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(count) + 1));
}

void
cg_http_metrics_stream_opened(void)
{
	metrics.streams_open++;
	metrics.streams_opened++;
}

void
cg_http_metrics_stream_closed(void)
{
	if (metrics.streams_open > 0)
		metrics.streams_open--;
}

void
cg_http_metrics_event_delivered(gint64 update_timestamp_us)
{
	double latency_s;
	guint i;

	metrics.events_delivered++;
	if (update_timestamp_us <= 0)
		return;
	latency_s = (double)MAX(g_get_real_time() - update_timestamp_us, 0) / G_USEC_PER_SEC;
	for (i = 0; i < CG_HTTP_METRICS_N_BUCKETS && latency_s > latency_bounds_s[i]; i++)
		;
	if (i < CG_HTTP_METRICS_N_BUCKETS)
		metrics.latency_buckets[i]++;
	metrics.latency_count++;
	metrics.latency_sum_s += latency_s;
}

void
cg_http_metrics_rate_limited(const char *route)
{
	count_label(&metrics.refused, route);
}

void
cg_http_metrics_bus_reconnected(void)
{
	metrics.bus_reconnects++;
}

void
cg_http_metrics_generation_finished(const char *status)
{
	count_label(&metrics.finished, status);
}

void
cg_http_metrics_update_seen(GVariant *update)
{
	const char *status = NULL;

	if (cg_http_update_is_terminal(update) && g_variant_lookup(update, "status", "&s", &status))
		cg_http_metrics_generation_finished(status);
}

void
cg_http_metrics_reset(void)
{
	g_clear_pointer(&metrics.finished, g_hash_table_unref);
	g_clear_pointer(&metrics.refused, g_hash_table_unref);
	memset(&metrics, 0, sizeof(metrics));
}

/* ---- the text format ---------------------------------------------------------- */

void
cg_http_metrics_append_label_value(GString *out, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

static void
append_header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_double(GString *out, double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.9g", value));
}

static int
compare_keys(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* name{label="key"} count, one line a key, in key order. */
static void
append_labelled(GString *out, const char *name, const char *label, GHashTable *table)
{
	g_autofree gpointer *keys = NULL;
	guint n = 0;

	if (table == NULL)
		return;
	keys = g_hash_table_get_keys_as_array(table, &n);
	qsort(keys, n, sizeof(gpointer), compare_keys);
	for (guint i = 0; i < n; i++) {
		g_string_append_printf(out, "%s{%s=\"", name, label);
		cg_http_metrics_append_label_value(out, keys[i]);
		g_string_append_printf(out, "\"} %" G_GSIZE_FORMAT "\n",
				       GPOINTER_TO_SIZE(g_hash_table_lookup(table, keys[i])));
	}
}

static void
write_latency(GString *out)
{
	const char *name = "certgen_http_event_delivery_latency_seconds";
	guint64 cumulative = 0;

	append_header(out, name, "histogram",
		      "Time from certgend's update timestamp to the frame handed to the socket");
	for (guint i = 0; i < CG_HTTP_METRICS_N_BUCKETS; i++) {
		cumulative += metrics.latency_buckets[i];
		g_string_append_printf(out, "%s_bucket{le=\"", name);
		append_double(out, latency_bounds_s[i]);
		g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
	}
	g_string_append_printf(out, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", name,
			       metrics.latency_count);
	g_string_append_printf(out, "%s_sum ", name);
	append_double(out, metrics.latency_sum_s);
	g_string_append_printf(out, "\n%s_count %" G_GUINT64_FORMAT "\n", name,
			       metrics.latency_count);
}

static void
append_quantile(GString *out, const char *name, const char *template_id, const char *stage,
		const char *quantile, double ms)
{
	g_string_append_printf(out, "%s{template=\"", name);
	cg_http_metrics_append_label_value(out, template_id);
	if (stage != NULL) {
		g_string_append(out, "\",stage=\"");
		cg_http_metrics_append_label_value(out, stage);
	}
	g_string_append_printf(out, "\",quantile=\"%s\"} ", quantile);
	append_double(out, ms / 1000.0);
	g_string_append_c(out, '\n');
}

static void
write_stage_quantiles(GString *out, const char *template_id, GVariant *stats, const char *key,
		      const char *quantile)
{
	g_autoptr(GVariant) stages = g_variant_lookup_value(stats, key, G_VARIANT_TYPE("a{sd}"));
	GVariantIter iter;
	const char *stage;
	double ms;

	if (stages == NULL)
		return;
	g_variant_iter_init(&iter, stages);
	while (g_variant_iter_next(&iter, "{&sd}", &stage, &ms))
		append_quantile(out, "certgen_service_stage_duration_seconds", template_id, stage,
				quantile, ms);
}

static void
write_statistics(GString *out, GVariant *statistics)
{
	g_autoptr(GVariant) by_status =
	    g_variant_lookup_value(statistics, "by_status", G_VARIANT_TYPE("a{st}"));
	g_autoptr(GVariant) templates =
	    g_variant_lookup_value(statistics, "templates", G_VARIANT_TYPE("a{sa{sv}}"));
	GVariantIter iter;
	const char *key;
	guint64 count;
	GVariant *stats;

	if (by_status != NULL) {
		append_header(out, "certgen_service_generations", "gauge",
			      "Generations in certgend's statistics window by status");
		g_variant_iter_init(&iter, by_status);
		while (g_variant_iter_next(&iter, "{&st}", &key, &count)) {
			g_string_append(out, "certgen_service_generations{status=\"");
			cg_http_metrics_append_label_value(out, key);
			g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", count);
		}
	}
	if (templates == NULL)
		return;
	append_header(out, "certgen_service_stage_duration_seconds", "summary",
		      "Stage durations per template in certgend's statistics window");
	g_variant_iter_init(&iter, templates);
	while (g_variant_iter_next(&iter, "{&s@a{sv}}", &key, &stats)) {
		write_stage_quantiles(out, key, stats, "stage_ms_p50", "0.5");
		write_stage_quantiles(out, key, stats, "stage_ms_p95", "0.95");
		g_variant_unref(stats);
	}
}

void
cg_http_metrics_write(GString *out, GVariant *statistics)
{
	append_header(out, "certgen_http_streams_open", "gauge",
		      "Progress streams (SSE and WebSocket) open now");
	g_string_append_printf(out, "certgen_http_streams_open %" G_GINT64_FORMAT "\n",
			       metrics.streams_open);
	append_header(out, "certgen_http_streams_opened_total", "counter",
		      "Progress streams opened");
	g_string_append_printf(out, "certgen_http_streams_opened_total %" G_GUINT64_FORMAT "\n",
			       metrics.streams_opened);
	append_header(out, "certgen_http_events_delivered_total", "counter",
		      "Progress events handed to clients' sockets");
	g_string_append_printf(out, "certgen_http_events_delivered_total %" G_GUINT64_FORMAT "\n",
			       metrics.events_delivered);
	write_latency(out);
	append_header(out, "certgen_http_generations_finished_total", "counter",
		      "Terminal updates the bridge saw on the bus, by status");
	append_labelled(out, "certgen_http_generations_finished_total", "status", metrics.finished);
	append_header(out, "certgen_http_rate_limited_total", "counter",
		      "Requests refused by a rate limit, by route");
	append_labelled(out, "certgen_http_rate_limited_total", "route", metrics.refused);
	append_header(out, "certgen_http_dbus_reconnects_total", "counter",
		      "Times the bridge found the bus or certgend again after losing it");
	g_string_append_printf(out, "certgen_http_dbus_reconnects_total %" G_GUINT64_FORMAT "\n",
			       metrics.bus_reconnects);
	if (redis_func != NULL) {
		gboolean connected = FALSE;
		guint reconnects = 0;

		redis_func(redis_data, &connected, &reconnects);
		append_header(out, "certgen_http_redis_connected", "gauge",
			      "Whether both Redis connections of the bridge are up (--redis)");
		g_string_append_printf(out, "certgen_http_redis_connected %d\n", connected ? 1 : 0);
		append_header(out, "certgen_http_redis_reconnects_total", "counter",
			      "Times a Redis connection of the bridge came up again after it "
			      "dropped");
		g_string_append_printf(out, "certgen_http_redis_reconnects_total %u\n", reconnects);
	}
	if (statistics != NULL)
		write_statistics(out, statistics);
}

void
cg_http_metrics_set_redis(CgHttpMetricsRedisFunc func, gpointer data)
{
	redis_func = func;
	redis_data = data;
}

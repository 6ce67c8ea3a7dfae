/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the bridge's metrics (cg-http-metrics.c): label escaping,
 * the text format of every family, the histogram's cumulative buckets, and
 * the families taken from certgend's GetStatistics. */
#include "cg-http-metrics.h"
#include "cg-test-util.h"

static char *
escaped(const char *value)
{
	GString *out = g_string_new(NULL);

	cg_http_metrics_append_label_value(out, value);
	return g_string_free(out, FALSE);
}

static char *
written(GVariant *statistics)
{
	GString *out = g_string_new(NULL);

	cg_http_metrics_write(out, statistics);
	return g_string_free(out, FALSE);
}

static void
assert_has_line(const char *text, const char *line)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	if (!g_strv_contains((const char *const *)lines, line))
		g_error("missing line \"%s\" in:\n%s", line, text);
}

static void
test_escape(void)
{
	g_autofree char *plain = escaped("classic");
	g_autofree char *hostile = escaped("a\\b\"c\nd");
	g_autofree char *empty = escaped("");

	g_assert_cmpstr(plain, ==, "classic");
	g_assert_cmpstr(hostile, ==, "a\\\\b\\\"c\\nd");
	g_assert_cmpstr(empty, ==, "");
}

static void
test_bridge_families(void)
{
	g_autofree char *text = NULL;

	cg_http_metrics_reset();
	cg_http_metrics_stream_opened();
	cg_http_metrics_stream_opened();
	cg_http_metrics_stream_closed();
	cg_http_metrics_event_delivered(0); /* no timestamp: counted, not timed */
	cg_http_metrics_event_delivered(g_get_real_time() - 2 * G_USEC_PER_SEC);
	cg_http_metrics_event_delivered(g_get_real_time() - 60 * G_USEC_PER_SEC);
	cg_http_metrics_rate_limited("progress streams");
	cg_http_metrics_rate_limited("progress streams");
	cg_http_metrics_bus_reconnected();
	cg_http_metrics_generation_finished("completed");
	cg_http_metrics_generation_finished("we\"ird");
	text = written(NULL);

	assert_has_line(text, "# TYPE certgen_http_streams_open gauge");
	assert_has_line(text, "certgen_http_streams_open 1");
	assert_has_line(text, "certgen_http_streams_opened_total 2");
	assert_has_line(text, "# TYPE certgen_http_events_delivered_total counter");
	assert_has_line(text, "certgen_http_events_delivered_total 3");
	assert_has_line(text, "# TYPE certgen_http_event_delivery_latency_seconds histogram");
	assert_has_line(text,
			"certgen_http_event_delivery_latency_seconds_bucket{le=\"0.0005\"} 0");
	assert_has_line(text, "certgen_http_event_delivery_latency_seconds_bucket{le=\"1\"} 0");
	assert_has_line(text, "certgen_http_event_delivery_latency_seconds_bucket{le=\"5\"} 1");
	assert_has_line(text, "certgen_http_event_delivery_latency_seconds_bucket{le=\"+Inf\"} 2");
	assert_has_line(text, "certgen_http_event_delivery_latency_seconds_count 2");
	assert_has_line(text, "certgen_http_rate_limited_total{route=\"progress streams\"} 2");
	assert_has_line(text, "certgen_http_dbus_reconnects_total 1");
	assert_has_line(text, "certgen_http_generations_finished_total{status=\"completed\"} 1");
	assert_has_line(text, "certgen_http_generations_finished_total{status=\"we\\\"ird\"} 1");
	g_assert_null(strstr(text, "certgen_service_"));

	/* closing more than opened never goes below 0 */
	cg_http_metrics_stream_closed();
	cg_http_metrics_stream_closed();
	g_clear_pointer(&text, g_free);
	text = written(NULL);
	assert_has_line(text, "certgen_http_streams_open 0");
	cg_http_metrics_reset();
}

static void
test_label_cap(void)
{
	g_autofree char *text = NULL;

	cg_http_metrics_reset();
	for (guint i = 0; i < 100; i++) {
		g_autofree char *status = g_strdup_printf("s%u", i);

		cg_http_metrics_generation_finished(status);
	}
	text = written(NULL);
	assert_has_line(text, "certgen_http_generations_finished_total{status=\"other\"} 36");
	cg_http_metrics_reset();
}

static void
test_statistics_families(void)
{
	g_autoptr(GVariant) statistics = g_variant_ref_sink(g_variant_new_parsed(
	    "{'window': <uint32 3>, 'by_status': <{'completed': uint64 2, 'failed': 1}>,"
	    " 'templates': <{'cl\"assic': {'generations': <uint64 3>,"
	    "   'stage_ms_p50': <{'render': 12.5}>, 'stage_ms_p95': <{'render': 250.0}>}}>}"));
	g_autofree char *text = NULL;

	cg_http_metrics_reset();
	text = written(statistics);
	assert_has_line(text, "# TYPE certgen_service_generations gauge");
	assert_has_line(text, "certgen_service_generations{status=\"completed\"} 2");
	assert_has_line(text, "certgen_service_generations{status=\"failed\"} 1");
	assert_has_line(text, "# TYPE certgen_service_stage_duration_seconds summary");
	assert_has_line(text, "certgen_service_stage_duration_seconds{template=\"cl\\\"assic\","
			      "stage=\"render\",quantile=\"0.5\"} 0.0125");
	assert_has_line(text, "certgen_service_stage_duration_seconds{template=\"cl\\\"assic\","
			      "stage=\"render\",quantile=\"0.95\"} 0.25");
}

static const CgTestCase cases[] = {
    {"/http/metrics/escape", test_escape},
    {"/http/metrics/bridge", test_bridge_families},
    {"/http/metrics/label-cap", test_label_cap},
    {"/http/metrics/statistics", test_statistics_families},
};

CG_TEST_MAIN(cases)

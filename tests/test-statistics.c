/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "cg-error.h"
#include "cg-statistics-store.h"
#include "cg-statistics.h"
#include "cg-test-util.h"

/* A completed generation of @template_id: @pages pages at @page_ms each,
 * every other stage @stage_ms. */
static void
add_completed(CgStatistics *statistics, const char *template_id, guint pages, gint64 page_ms,
	      gint64 stage_ms)
{
	CgStatisticsEntry entry = {template_id, CG_STATUS_COMPLETED, pages, {0}};

	for (guint stage = 0; stage < CG_STAGE_COMPLETED; stage++)
		entry.stage_ms[stage] = stage_ms;
	entry.stage_ms[CG_STAGE_PDF_GENERATION] = page_ms * pages;
	cg_statistics_add(statistics, &entry);
}

static void
add_failed(CgStatistics *statistics, const char *template_id)
{
	CgStatisticsEntry entry = {template_id, CG_STATUS_FAILED, 0, {5, 5, 5, -1, -1, -1}};

	cg_statistics_add(statistics, &entry);
}

static guint64
lookup_t(GVariant *dict, const char *key)
{
	guint64 value = G_MAXUINT64;

	g_assert_true(g_variant_lookup(dict, key, "t", &value));
	return value;
}

/* by_status[@status] of GetStatistics' a{sv} */
static guint64
count_of(GVariant *statistics, const char *status)
{
	g_autoptr(GVariant) by_status =
	    g_variant_lookup_value(statistics, "by_status", G_VARIANT_TYPE("a{st}"));

	g_assert_nonnull(by_status);
	return lookup_t(by_status, status);
}

static double
lookup_d(GVariant *dict, const char *key)
{
	double value = -1.0;

	g_assert_true(g_variant_lookup(dict, key, "d", &value));
	return value;
}

static GVariant *
template_of(GVariant *statistics, const char *template_id)
{
	g_autoptr(GVariant) templates =
	    g_variant_lookup_value(statistics, "templates", G_VARIANT_TYPE("a{sa{sv}}"));

	g_assert_nonnull(templates);
	return g_variant_lookup_value(templates, template_id, G_VARIANT_TYPE_VARDICT);
}

static void
test_statistics_empty(void)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(GVariant) variant = g_variant_ref_sink(cg_statistics_to_variant(statistics));
	guint32 window = 1;
	double page_ms = -1.0;

	g_assert_true(g_variant_lookup(variant, "window", "u", &window));
	g_assert_cmpuint(window, ==, 0);
	g_assert_cmpuint(count_of(variant, "completed"), ==, 0);
	g_assert_cmpuint(count_of(variant, "timed_out"), ==, 0);
	g_assert_false(cg_statistics_get_page_ms_p50(statistics, "x", &page_ms));
	g_assert_cmpfloat(page_ms, ==, -1.0);
	g_assert_cmpfloat(
	    cg_statistics_get_stage_ms_p50(statistics, "x", CG_STAGE_TEMPLATE_LOADING), ==, 0.0);
}

/* Nearest-rank: of 1..100 ms per page, p50 is 50 and p95 is 95. */
static void
test_statistics_percentiles(void)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(GVariant) variant = NULL;
	g_autoptr(GVariant) classic = NULL;
	g_autoptr(GVariant) p50 = NULL;
	g_autoptr(GVariant) p95 = NULL;
	double page_ms = 0.0;

	/* shuffled, so the order of arrival does not matter */
	for (guint i = 0; i < 100; i++)
		add_completed(statistics, "classic", 2, (gint64)((i * 37) % 100 + 1), (gint64)i);
	add_failed(statistics, "classic");
	add_completed(statistics, "other", 1, 1000, 1);

	g_assert_true(cg_statistics_get_page_ms_p50(statistics, "classic", &page_ms));
	g_assert_cmpfloat(page_ms, ==, 50.0);
	g_assert_cmpfloat(
	    cg_statistics_get_stage_ms_p50(statistics, "classic", CG_STAGE_FILE_PREPARATION), ==,
	    49.0);

	variant = g_variant_ref_sink(cg_statistics_to_variant(statistics));
	g_assert_cmpuint(count_of(variant, "completed"), ==, 101);
	g_assert_cmpuint(count_of(variant, "failed"), ==, 1);
	g_assert_cmpuint(count_of(variant, "cancelled"), ==, 0);
	classic = template_of(variant, "classic");
	g_assert_nonnull(classic);
	g_assert_cmpuint(lookup_t(classic, "generations"), ==, 101);
	g_assert_cmpuint(lookup_t(classic, "pages"), ==, 200);
	g_assert_cmpfloat(lookup_d(classic, "page_ms_p50"), ==, 50.0);
	g_assert_cmpfloat(lookup_d(classic, "page_ms_p95"), ==, 95.0);
	p50 = g_variant_lookup_value(classic, "stage_ms_p50", G_VARIANT_TYPE("a{sd}"));
	p95 = g_variant_lookup_value(classic, "stage_ms_p95", G_VARIANT_TYPE("a{sd}"));
	/* 0..99 ms: the failed run's 5 ms does not count */
	g_assert_cmpfloat(lookup_d(p50, "template_loading"), ==, 49.0);
	g_assert_cmpfloat(lookup_d(p95, "template_loading"), ==, 94.0);
	g_assert_cmpfloat(lookup_d(p50, "pdf_generation"), ==, 100.0);
	g_assert_null(template_of(variant, "missing"));
}

static void
test_statistics_window(void)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(10);
	g_autoptr(GVariant) variant = NULL;
	guint32 window = 0;

	for (guint i = 0; i < 5; i++)
		add_failed(statistics, "classic");
	for (guint i = 0; i < 10; i++)
		add_completed(statistics, "classic", 1, 7, 1);
	g_assert_cmpuint(cg_statistics_get_count(statistics), ==, 10);
	variant = g_variant_ref_sink(cg_statistics_to_variant(statistics));
	g_assert_true(g_variant_lookup(variant, "window", "u", &window));
	g_assert_cmpuint(window, ==, 10);
	g_assert_cmpuint(count_of(variant, "failed"), ==, 0);
	g_assert_cmpuint(count_of(variant, "completed"), ==, 10);
	g_assert_cmpfloat(
	    cg_statistics_get_stage_ms_p50(statistics, "classic", CG_STAGE_PDF_GENERATION), ==,
	    7.0);
}

static void
test_statistics_analytics(void)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(GVariant) running = NULL;
	g_autoptr(GVariant) done = NULL;
	double page_ms = 0.0;

	running = g_variant_ref_sink(
	    g_variant_new_parsed("{'status': <'in_progress'>, 'stage_durations': <@a{st} {}>}"));
	g_assert_false(cg_statistics_add_analytics(statistics, "classic", 4, running));
	done = g_variant_ref_sink(g_variant_new_parsed(
	    "{'status': <'completed'>, 'stage_durations': <{'initializing': @t 1,"
	    " 'pdf_generation': @t 40, 'completed': @t 0}>}"));
	g_assert_true(cg_statistics_add_analytics(statistics, "classic", 4, done));
	g_assert_cmpuint(cg_statistics_get_count(statistics), ==, 1);
	g_assert_true(cg_statistics_get_page_ms_p50(statistics, "classic", &page_ms));
	g_assert_cmpfloat(page_ms, ==, 10.0);
	/* a stage not reached has no figure */
	g_assert_cmpfloat(
	    cg_statistics_get_stage_ms_p50(statistics, "classic", CG_STAGE_TEMPLATE_LOADING), ==,
	    0.0);
}

/* The window through the registry: saved in steps (only what is unsaved
 * each time), read back equal; a smaller window reads the newest. */
static void
test_statistics_round_trip(CgTestScratch *fixture, gconstpointer data)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(CgStatistics) loaded = cg_statistics_new(0);
	g_autoptr(CgStatistics) small = cg_statistics_new(3);
	g_autoptr(CgRegistry) registry = NULL;
	g_autoptr(GVariant) before = NULL;
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GError) error = NULL;

	registry = cg_registry_open(fixture->dir, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 20; i++) {
		add_completed(statistics, i % 2 ? "classic" : "modern \"quoted\" é", 3, i + 1, 2);
		if (i % 7 == 0) {
			g_assert_true(cg_statistics_store_save(statistics, registry, 1000, &error));
			g_assert_no_error(error);
			g_assert_cmpuint(cg_statistics_get_unsaved(statistics), ==, 0);
		}
	}
	add_failed(statistics, "classic");
	g_assert_cmpuint(cg_statistics_get_unsaved(statistics), ==, 6);
	g_assert_true(cg_statistics_store_save(statistics, registry, 1000, &error));
	g_assert_no_error(error);

	g_assert_true(cg_statistics_store_load(loaded, registry, fixture->dir, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_statistics_get_unsaved(loaded), ==, 0);
	before = g_variant_ref_sink(cg_statistics_to_variant(statistics));
	after = g_variant_ref_sink(cg_statistics_to_variant(loaded));
	g_assert_true(g_variant_equal(before, after));

	/* a smaller window keeps the newest: the failed one last */
	g_assert_true(cg_statistics_store_load(small, registry, fixture->dir, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_statistics_get_count(small), ==, 3);
	g_clear_pointer(&after, g_variant_unref);
	after = g_variant_ref_sink(cg_statistics_to_variant(small));
	g_assert_cmpuint(count_of(after, "failed"), ==, 1);
}

/* The registry keeps only the newest `window` rows. */
static void
test_statistics_trimmed(CgTestScratch *fixture, gconstpointer data)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(CgStatistics) loaded = cg_statistics_new(0);
	g_autoptr(CgRegistry) registry = cg_registry_open(fixture->dir, NULL);

	for (guint i = 0; i < 10; i++)
		add_completed(statistics, "classic", 1, 1, 1);
	g_assert_true(cg_statistics_store_save(statistics, registry, 4, NULL));
	g_assert_true(cg_statistics_store_load(loaded, registry, fixture->dir, NULL));
	g_assert_cmpuint(cg_statistics_get_count(loaded), ==, 4);
}

/* An older certgend's statistics.json is taken over once and renamed. */
static void
test_statistics_migrate_file(CgTestScratch *fixture, gconstpointer data)
{
	g_autoptr(CgStatistics) old = cg_statistics_new(0);
	g_autoptr(CgStatistics) first = cg_statistics_new(0);
	g_autoptr(CgStatistics) second = cg_statistics_new(0);
	g_autoptr(CgRegistry) registry = cg_registry_open(fixture->dir, NULL);
	g_autofree char *path = g_build_filename(fixture->dir, CG_STATISTICS_FILE, NULL);
	g_autofree char *migrated = g_strconcat(path, ".migrated", NULL);
	g_autofree char *text = NULL;
	gsize length = 0;

	for (guint i = 0; i < 5; i++)
		add_completed(old, "classic", 2, 3, 1);
	add_failed(old, "modern");
	text = cg_statistics_to_json(old, &length);
	g_assert_true(g_file_set_contents(path, text, (gssize)length, NULL));

	g_assert_true(cg_statistics_store_load(first, registry, fixture->dir, NULL));
	g_assert_cmpuint(cg_statistics_get_count(first), ==, 6);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(migrated, G_FILE_TEST_IS_REGULAR));
	/* once: the next start reads the registry only */
	g_assert_true(cg_statistics_store_load(second, registry, fixture->dir, NULL));
	g_assert_cmpuint(cg_statistics_get_count(second), ==, 6);
}

/* What the registry's rows may hold that the service never writes. */
static void
test_statistics_stored_checked(void)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);

	g_assert_true(cg_statistics_add_stored(statistics, "a", "completed", 1, "1,2,3,4,5,6"));
	g_assert_false(
	    cg_statistics_add_stored(statistics, "a\x1b", "completed", 1, "1,2,3,4,5,6"));
	g_assert_false(cg_statistics_add_stored(statistics, "", "completed", 1, "1,2,3,4,5,6"));
	g_assert_false(cg_statistics_add_stored(statistics, NULL, "completed", 1, "1,2,3,4,5,6"));
	g_assert_false(cg_statistics_add_stored(statistics, "a", "in_progress", 1, "1,2,3,4,5,6"));
	g_assert_false(cg_statistics_add_stored(statistics, "a", "completed", 1, "1,2,3,4,5"));
	g_assert_false(cg_statistics_add_stored(statistics, "a", "completed", 1, "1,2,3,4,5,-2"));
	g_assert_false(cg_statistics_add_stored(statistics, "a", "completed", 1, "1,2,3,4,5,x"));
	g_assert_false(cg_statistics_add_stored(statistics, "a", "completed", 1, NULL));
	g_assert_cmpuint(cg_statistics_get_count(statistics), ==, 1);
	g_assert_cmpuint(cg_statistics_get_unsaved(statistics), ==, 0);
}

static void
test_statistics_missing(CgTestScratch *fixture, gconstpointer data)
{
	g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
	g_autoptr(GError) error = NULL;

	g_assert_true(cg_statistics_load(statistics, fixture->dir, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_statistics_get_count(statistics), ==, 0);
}

static const char *const corrupt_files[] = {
    "",
    "not json \x1b[31m",
    "[]",
    "{\"version\":2,\"generations\":[]}",
    "{\"version\":1}",
    "{\"version\":1,\"generations\":[{}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"completed\","
    "\"pages\":1,\"stage_ms\":[1,2,3]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"in_progress\","
    "\"pages\":1,\"stage_ms\":[1,2,3,4,5,6]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\\u001b\",\"status\":\"completed\","
    "\"pages\":1,\"stage_ms\":[1,2,3,4,5,6]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"completed\","
    "\"pages\":-1,\"stage_ms\":[1,2,3,4,5,6]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"completed\","
    "\"pages\":1,\"stage_ms\":[1,2,3,4,5,-2]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"completed\","
    "\"pages\":1,\"stage_ms\":[1,2,3,4,5,6.5]}]}",
    "{\"version\":1,\"generations\":[{\"template_id\":\"a\",\"status\":\"completed\","
    "\"pages\":1,\"stage_ms\":[1,2,3,4,5,6],\"extra\":1}]}",
};

/* A corrupt file: an error naming the file, the window as it was. */
static void
test_statistics_corrupt(CgTestScratch *fixture, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fixture->dir, CG_STATISTICS_FILE, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(corrupt_files); i++) {
		g_autoptr(CgStatistics) statistics = cg_statistics_new(0);
		g_autoptr(GError) error = NULL;

		add_completed(statistics, "kept", 1, 1, 1);
		g_assert_true(g_file_set_contents(path, corrupt_files[i], -1, NULL));
		g_assert_false(cg_statistics_load(statistics, fixture->dir, &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, path));
		g_assert_null(strchr(error->message, '\x1b'));
		g_assert_cmpuint(cg_statistics_get_count(statistics), ==, 1);
	}
}

/* The file's cases first, then the window's. */
static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/statistics/round-trip", test_statistics_round_trip),
    CG_TEST_FIXTURE_CASE("/statistics/missing", test_statistics_missing),
    CG_TEST_FIXTURE_CASE("/statistics/corrupt", test_statistics_corrupt),
    CG_TEST_FIXTURE_CASE("/statistics/trimmed", test_statistics_trimmed),
    CG_TEST_FIXTURE_CASE("/statistics/migrate-file", test_statistics_migrate_file),
    {"/statistics/stored-checked", test_statistics_stored_checked, NULL},
    {"/statistics/empty", test_statistics_empty, NULL},
    {"/statistics/percentiles", test_statistics_percentiles, NULL},
    {"/statistics/window", test_statistics_window, NULL},
    {"/statistics/analytics", test_statistics_analytics, NULL},
};

CG_TEST_MAIN_WITH_SCRATCH(cases, "statistics")

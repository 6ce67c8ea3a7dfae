/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker pool of cg-pipeline.c, with the real stages on the shipped
 * template (issue 15 items 4 and 12). */
#include <glib/gstdio.h>

#include "cg-registry.h"
#include "cg-verification.h"
#include "cg-error.h"
#include "cg-pipeline.h"
#include "cg-template.h"
#include "cg-tracker.h"
#include "cg-test-util.h"

#define ONE_RECIPIENT                                                                              \
	"{\"recipientName\": \"Ada\", \"courseName\": \"Pipelines\", \"issueDate\": "              \
	"\"2024-05-17\"}"

typedef struct {
	char *state_dir;
	char *output_dir;
	CgTemplateStore *templates;
	CgRegistry *registry;
	CgPipelineConfig config;
	CgTracker *tracker;    /* only makes the generations; reports go to the fixture */
	GHashTable *reports;   /* transaction id → number of progress reports */
	GHashTable *done;      /* transaction id → GError* (NULL value: completed) */
	GHashTable *validated; /* transaction id → pages of a result without a file */
} Fixture;

/* The jobs are named by their generation's transaction id. */
static void
progress_cb(CgGeneration *generation, CgStage stage, guint stage_progress, guint pages_done,
	    guint pages_total, const char *message, gpointer user_data)
{
	Fixture *f = user_data;
	const char *progress_id = cg_generation_get_transaction_id(generation);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->reports, progress_id));

	g_assert_false(g_hash_table_contains(f->done, progress_id));
	g_hash_table_insert(f->reports, g_strdup(progress_id), GUINT_TO_POINTER(n + 1));
}

static void
done_cb(CgGeneration *generation, const CgResult *result, const GError *error,
	const CgProblems *problems, gpointer user_data)
{
	Fixture *f = user_data;
	const char *progress_id = cg_generation_get_transaction_id(generation);

	g_assert_false(g_hash_table_contains(f->done, progress_id));
	g_assert_true((result == NULL) != (error == NULL));
	if (result != NULL && result->path == NULL) {
		g_assert_null(result->certificate_number);
		g_hash_table_insert(f->validated, g_strdup(progress_id),
				    GUINT_TO_POINTER(result->pages));
	}
	g_hash_table_insert(f->done, g_strdup(progress_id),
			    error != NULL ? g_error_copy(error) : NULL);
}

static void
free_error(gpointer error)
{
	if (error != NULL)
		g_error_free(error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *templates = cg_test_shipped_templates_dir();
	const char *dirs[] = {templates, NULL};

	f->state_dir = cg_test_make_scratch_dir("test-pipeline-XXXXXX");
	f->output_dir = g_build_filename(f->state_dir, "certificates", NULL);
	g_assert_cmpint(g_mkdir(f->output_dir, 0700), ==, 0);
	f->templates = cg_template_store_new(dirs);
	f->registry = cg_registry_open(f->state_dir, &error);
	g_assert_no_error(error);
	f->config.templates = f->templates;
	f->config.registry = f->registry;
	f->config.base_url = CG_VERIFICATION_DEFAULT_BASE_URL;
	f->config.output_dir = f->output_dir;
	f->config.max_recipients = 10000;
	f->config.max_data_bytes = 16 * 1024 * 1024;
	f->config.threads = 1;
	f->tracker = cg_tracker_new(NULL, NULL, NULL, NULL);
	f->reports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_error);
	f->validated = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_hash_table_unref(f->validated);
	g_hash_table_unref(f->done);
	g_hash_table_unref(f->reports);
	cg_tracker_free(f->tracker);
	cg_registry_free(f->registry);
	cg_template_store_free(f->templates);
	cg_test_remove_tree(f->state_dir);
	g_free(f->output_dir);
	g_free(f->state_dir);
}

/* A new generation named @name (its transaction id). */
static CgGeneration *
add(Fixture *f, const char *name)
{
	return cg_tracker_add(f->tracker, name, 1000, NULL, NULL);
}

static void
cancel(Fixture *f, CgGeneration *generation)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_no_error(error);
}

static void
assert_completed(Fixture *f, const char *progress_id)
{
	const GError *error = g_hash_table_lookup(f->done, progress_id);

	g_assert_no_error(error);
}

static void
wait_done(Fixture *f, const char *progress_id)
{
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

	while (!g_hash_table_contains(f->done, progress_id)) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

static guint
count_threads(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/task", 0, NULL);
	const char *name;
	guint n = 0;

	/* the pipeline's own workers only: GLib's shared pool (the renderer's
	 * QR helpers) keeps idle threads of its own for a while */
	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename("/proc/self/task", name, "comm", NULL);
		g_autofree char *comm = NULL;

		if (g_file_get_contents(path, &comm, NULL, NULL) &&
		    g_str_has_prefix(comm, "certgen-worker"))
			n++;
	}
	return n;
}

/* count_threads() once it is @expected, or after 2 s: a joined thread
 * stays in /proc/self/task for a moment after pthread_join() returns. */
static guint
count_threads_settled(guint expected)
{
	gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	guint n;

	while ((n = count_threads()) != expected && g_get_monotonic_time() < deadline)
		g_usleep(10 * G_TIME_SPAN_MILLISECOND);
	return n;
}

/* Issue 15 item 12: the workers are joined by cg_pipeline_free(), so none
 * (with its thread-local render state: poppler documents) is left to exit
 * while the process runs exit(). A GThreadPool left its threads behind. */
static void
test_free_joins_workers(Fixture *f, gconstpointer data)
{
	CgPipeline *pipeline;
	guint before = count_threads_settled(0);

	f->config.threads = 2;
	pipeline = cg_pipeline_new(&f->config, progress_cb, done_cb, f);
	cg_pipeline_submit(pipeline, add(f, "a"), "classic", ONE_RECIPIENT, NULL,
			   g_get_real_time());
	cg_pipeline_submit(pipeline, add(f, "b"), "classic", ONE_RECIPIENT, NULL,
			   g_get_real_time());
	wait_done(f, "a");
	wait_done(f, "b");
	assert_completed(f, "a");
	assert_completed(f, "b");
	g_assert_cmpuint(count_threads(), >, before);
	cg_pipeline_free(pipeline);
	g_assert_cmpuint(count_threads_settled(before), ==, before);
}

/* Issue 15 item 4: cancelling a job that waits for a worker reports it
 * cancelled at once; no worker ever runs it (no progress report). */
static void
test_cancel_queued(Fixture *f, gconstpointer data)
{
	CgGeneration *busy = add(f, "busy");
	CgGeneration *queued = add(f, "queued");
	CgGeneration *early = add(f, "early");
	g_autofree char *big = cg_test_batch_json(2000);
	CgPipeline *pipeline = cg_pipeline_new(&f->config, progress_cb, done_cb, f);
	const GError *error;

	cg_pipeline_submit(pipeline, busy, "classic", big, NULL, g_get_real_time());
	cg_pipeline_submit(pipeline, queued, "classic", ONE_RECIPIENT, NULL, g_get_real_time());
	cancel(f, queued);
	wait_done(f, "queued");
	error = g_hash_table_lookup(f->done, "queued");
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_false(g_hash_table_contains(f->done, "busy"));

	/* cancelled before it was submitted: the same */
	cancel(f, early);
	cg_pipeline_submit(pipeline, early, "classic", ONE_RECIPIENT, NULL, g_get_real_time());
	wait_done(f, "early");
	error = g_hash_table_lookup(f->done, "early");
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

	cancel(f, busy);
	wait_done(f, "busy");
	cg_pipeline_submit(pipeline, add(f, "after"), "classic", ONE_RECIPIENT, NULL,
			   g_get_real_time());
	wait_done(f, "after");
	assert_completed(f, "after");
	cg_pipeline_free(pipeline);
	g_assert_false(g_hash_table_contains(f->reports, "queued"));
	g_assert_false(g_hash_table_contains(f->reports, "early"));
	g_assert_true(g_hash_table_contains(f->reports, "after"));
}

/* Issue 10 item 4: a ZIP batch is rendered by both workers (the second
 * is started for it), and a job submitted meanwhile still runs: the
 * helping worker leaves the batch for it. */
static void
test_zip_both_workers(Fixture *f, gconstpointer data)
{
	CgGeneration *zip = add(f, "zip");
	g_autofree char *big = cg_test_batch_json(60);
	g_autofree char *zip_path = NULL;
	CgGenerationOptions options;
	CgPipeline *pipeline;
	guint before = count_threads_settled(0);

	cg_generation_options_init(&options);
	options.output_format = CG_OUTPUT_FORMAT_ZIP;
	f->config.threads = 2;
	pipeline = cg_pipeline_new(&f->config, progress_cb, done_cb, f);
	cg_pipeline_submit(pipeline, zip, "classic", big, &options, g_get_real_time());
	cg_pipeline_submit(pipeline, add(f, "pdf"), "classic", ONE_RECIPIENT, NULL,
			   g_get_real_time());
	wait_done(f, "pdf");
	assert_completed(f, "pdf");
	wait_done(f, "zip");
	assert_completed(f, "zip");
	g_assert_cmpuint(count_threads_settled(before + 2), ==, before + 2);
	zip_path = g_strdup_printf("%s/%s.zip", f->output_dir, cg_generation_get_id(zip));
	g_assert_true(g_file_test(zip_path, G_FILE_TEST_IS_REGULAR));
	/* one report per page written at least */
	g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(f->reports, "zip")), >=, 60);
	cg_pipeline_free(pipeline);
	g_assert_cmpuint(count_threads_settled(before), ==, before);
}

/* Alone in the pool, the ZIP batch's worker renders every page itself. */
static void
test_zip_one_worker(Fixture *f, gconstpointer data)
{
	CgGeneration *zip = add(f, "zip");
	g_autofree char *big = cg_test_batch_json(10);
	CgGenerationOptions options;
	CgPipeline *pipeline = cg_pipeline_new(&f->config, progress_cb, done_cb, f);
	guint before = count_threads_settled(0);

	cg_generation_options_init(&options);
	options.output_format = CG_OUTPUT_FORMAT_ZIP;
	cg_pipeline_submit(pipeline, zip, "classic", big, &options, g_get_real_time());
	wait_done(f, "zip");
	assert_completed(f, "zip");
	g_assert_cmpuint(count_threads_settled(before + 1), ==, before + 1);
	cg_pipeline_free(pipeline);
}

static guint64
reserve_one(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	guint64 number = 0;

	g_assert_true(cg_registry_reserve(f->registry, 1, &number, &error));
	g_assert_no_error(error);
	return number;
}

/* validate_only: the template and the data are checked, then the job ends
 * with the pages only: no number reserved, no file written; bad data still
 * fails as it would otherwise. */
static void
test_validate_only(Fixture *f, gconstpointer data)
{
	g_autofree char *batch = cg_test_batch_json(3);
	CgPipeline *pipeline = cg_pipeline_new(&f->config, progress_cb, done_cb, f);
	CgGenerationOptions options;
	g_autoptr(GDir) dir = NULL;
	const GError *error;
	guint64 before = reserve_one(f);

	cg_generation_options_init(&options);
	options.validate_only = TRUE;
	cg_pipeline_submit(pipeline, cg_tracker_add(f->tracker, "valid", 1000, NULL, &options),
			   "classic", batch, &options, g_get_real_time());
	cg_pipeline_submit(pipeline, cg_tracker_add(f->tracker, "invalid", 1000, NULL, &options),
			   "classic", "{\"recipientName\": \"Ada\"}", &options, g_get_real_time());
	wait_done(f, "valid");
	wait_done(f, "invalid");
	cg_pipeline_free(pipeline);

	assert_completed(f, "valid");
	g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(f->validated, "valid")), ==, 3);
	error = g_hash_table_lookup(f->done, "invalid");
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_assert_false(g_hash_table_contains(f->validated, "invalid"));

	/* nothing issued, nothing written */
	g_assert_cmpuint(reserve_one(f), ==, before + 1);
	dir = g_dir_open(f->output_dir, 0, NULL);
	g_assert_nonnull(dir);
	g_assert_null(g_dir_read_name(dir));
}

static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/pipeline/free-joins-workers", test_free_joins_workers),
    CG_TEST_FIXTURE_CASE("/pipeline/cancel-queued", test_cancel_queued),
    CG_TEST_FIXTURE_CASE("/pipeline/zip-both-workers", test_zip_both_workers),
    CG_TEST_FIXTURE_CASE("/pipeline/zip-one-worker", test_zip_one_worker),
    CG_TEST_FIXTURE_CASE("/pipeline/validate-only", test_validate_only),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_setup, fixture_teardown)

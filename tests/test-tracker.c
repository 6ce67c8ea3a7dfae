/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "cg-error.h"
#include "cg-tracker.h"
#include "cg-test-util.h"

/* Time is driven by hand: a fake monotonic and wall clock. */
#define START_MONO (1000 * G_USEC_PER_SEC)
#define START_REAL G_GINT64_CONSTANT(1700000000000000)

typedef struct {
	CgTracker *tracker;
	gint64 mono;
	gint64 real;
	GPtrArray *updates;   /* GVariant a{sv}, in emit order */
	GPtrArray *forgotten; /* ids */
	GPtrArray *files;     /* temp files to remove at teardown */
} Fixture;

static gint64
fake_clock(gint64 *realtime_us, gpointer user_data)
{
	Fixture *f = user_data;

	*realtime_us = f->real;
	return f->mono;
}

static void
emit_cb(CgTracker *tracker, CgGeneration *generation, GVariant *update, gpointer user_data)
{
	Fixture *f = user_data;
	const char *id = NULL;

	g_assert_true(g_variant_is_of_type(update, G_VARIANT_TYPE_VARDICT));
	g_assert_false(g_variant_is_floating(update));
	g_assert_true(g_variant_lookup(update, "progress_id", "&s", &id));
	g_assert_cmpstr(id, ==, cg_generation_get_id(generation));
	g_ptr_array_add(f->updates, g_variant_ref(update));
}

static void
forget_cb(CgTracker *tracker, CgGeneration *generation, gpointer user_data)
{
	Fixture *f = user_data;

	g_ptr_array_add(f->forgotten, g_strdup(cg_generation_get_id(generation)));
}

/* Persistent results are kept a week after their end. */
#define KEEP_S (7 * 86400)

static void
fixture_new_tracker(Fixture *f, guint finished_ttl_s, guint max_age_s)
{
	CgTrackerConfig config = {finished_ttl_s, max_age_s, KEEP_S};

	g_clear_pointer(&f->tracker, cg_tracker_free);
	f->tracker = cg_tracker_new(&config, emit_cb, forget_cb, f);
	cg_tracker_set_clock(f->tracker, fake_clock, f);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->mono = START_MONO;
	f->real = START_REAL;
	f->updates = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	f->forgotten = g_ptr_array_new_with_free_func(g_free);
	f->files = g_ptr_array_new_with_free_func(g_free);
	fixture_new_tracker(f, 60, 1800);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->tracker, cg_tracker_free);
	for (guint i = 0; i < f->files->len; i++)
		g_unlink(f->files->pdata[i]);
	g_ptr_array_unref(f->files);
	g_ptr_array_unref(f->forgotten);
	g_ptr_array_unref(f->updates);
}

static void
advance_ms(Fixture *f, gint64 ms)
{
	f->mono += ms * 1000;
	f->real += ms * 1000;
}

static CgGeneration *
add_generation(Fixture *f, guint32 interval_ms, guint32 timeout_ms)
{
	CgGenerationOptions options;

	cg_generation_options_init(&options);
	options.update_interval_ms = interval_ms;
	options.timeout_ms = timeout_ms;
	return cg_tracker_add(f->tracker, "tx-1", 1000, NULL, &options);
}

static GVariant *
update_at(Fixture *f, gint index)
{
	if (index < 0)
		index += f->updates->len;
	g_assert_cmpint(index, >=, 0);
	g_assert_cmpint(index, <, f->updates->len);
	return f->updates->pdata[index];
}

/* get_X(dict, key): the value of @key, which must be in @dict with the
 * basic type X. */
#define DEFINE_GETTER(name, type, format)                                                          \
	static type name(GVariant *dict, const char *key)                                          \
	{                                                                                          \
		type value = 0;                                                                    \
                                                                                                   \
		g_assert_true(g_variant_lookup(dict, key, format, &value));                        \
		return value;                                                                      \
	}

DEFINE_GETTER(get_s, const char *, "&s")
DEFINE_GETTER(get_u, guint32, "u")
DEFINE_GETTER(get_t, guint64, "t")
DEFINE_GETTER(get_x, gint64, "x")
DEFINE_GETTER(get_d, double, "d")
DEFINE_GETTER(get_b, gboolean, "b")

static void
assert_key_type(GVariant *dict, const char *key, const char *type)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, G_VARIANT_TYPE(type));

	if (value == NULL)
		g_error("key %s of type %s missing", key, type);
}

static char *
make_temp_file(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("test-tracker-XXXXXX.pdf", &path, &error);

	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_close(fd, NULL);
	g_ptr_array_add(f->files, g_strdup(path));
	return path;
}

static void
complete_with_file(Fixture *f, CgGeneration *generation, const char *path)
{
	CgResult result = {
	    .certificate_number = (char *)"CG-2023-000001",
	    .last_certificate_number = (char *)"CG-2023-000003",
	    .file_size = 12345,
	    .checksum = (char *)"ab12",
	    .pages = 3,
	    .path = (char *)path,
	};

	cg_tracker_complete(f->tracker, generation, &result);
}

static void
test_options_defaults(void)
{
	CgGenerationOptions options;

	memset(&options, 0xff, sizeof(options));
	cg_generation_options_init(&options);
	g_assert_cmpuint(options.timeout_ms, ==, 300000);
	g_assert_cmpuint(options.update_interval_ms, ==, 500);
	g_assert_true(options.enable_cancellation);
	g_assert_false(options.enable_persistence);
	g_assert_false(options.cancel_on_disconnect);
	g_assert_false(options.validate_only);
}

static void
test_add(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *a;
	CgGeneration *b;
	const char *id;
	g_autoptr(GPtrArray) list = NULL;

	cg_generation_options_init(&options);
	options.cancel_on_disconnect = TRUE;
	a = cg_tracker_add(f->tracker, "tx-a", 1000, NULL, &options);
	advance_ms(f, 1);
	b = cg_tracker_add(f->tracker, "tx-b", 1001, "alice", NULL);

	id = cg_generation_get_id(a);
	g_assert_cmpuint(strlen(id), ==, 32);
	for (const char *p = id; *p != '\0'; p++)
		g_assert_true(g_ascii_isxdigit(*p) && !g_ascii_isupper(*p));
	g_assert_cmpstr(id, !=, cg_generation_get_id(b));
	g_assert_true(cg_tracker_lookup(f->tracker, id) == a);
	g_assert_true(cg_tracker_lookup(f->tracker, cg_generation_get_id(b)) == b);
	g_assert_null(cg_tracker_lookup(f->tracker, "0123456789abcdef0123456789abcdef"));

	g_assert_cmpstr(cg_generation_get_transaction_id(a), ==, "tx-a");
	g_assert_cmpstr(cg_generation_get_transaction_id(b), ==, "tx-b");
	g_assert_null(cg_generation_get_owner_label(a));
	g_assert_cmpstr(cg_generation_get_owner_label(b), ==, "alice");
	g_assert_cmpuint(cg_generation_get_owner_uid(b), ==, 1001);
	g_assert_true(cg_generation_get_cancel_on_disconnect(a));
	g_assert_false(cg_generation_get_cancel_on_disconnect(b));
	g_assert_cmpint(cg_generation_get_stage(a), ==, CG_STAGE_INITIALIZING);
	g_assert_cmpint(cg_generation_get_status(a), ==, CG_STATUS_IN_PROGRESS);
	g_assert_cmpuint(cg_generation_get_sequence(a), ==, 0);
	g_assert_cmpfloat(cg_generation_get_progress(a), ==, 0.0);
	g_assert_null(cg_generation_get_result(a));

	/* Adding sends nothing. */
	g_assert_cmpuint(f->updates->len, ==, 0);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 2);
	g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, 2);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1000, NULL), ==, 1);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1002, NULL), ==, 0);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1001, "alice"), ==, 1);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1001, NULL), ==, 0);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1001, "bob"), ==, 0);
	list = cg_tracker_list_active(f->tracker);
	g_assert_cmpuint(list->len, ==, 2);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = cg_tracker_list(f->tracker);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_true(list->pdata[0] == a);
	g_assert_true(list->pdata[1] == b);

	cg_tracker_fail(f->tracker, a, NULL);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 2);
	g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, 1);
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1000, NULL), ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = cg_tracker_list_active(f->tracker);
	g_assert_cmpuint(list->len, ==, 1);
	g_assert_true(list->pdata[0] == b);
}

static void
test_sequence(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	g_autoptr(GVariant) snapshot = NULL;

	cg_tracker_report(f->tracker, generation, CG_STAGE_INITIALIZING, 10, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 1);
	g_assert_cmpuint(get_t(update_at(f, 0), "sequence"), ==, 1);
	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 0, 0, 0, NULL);
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 0, 0, 0, NULL);
	advance_ms(f, 500);
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 50, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 4);
	for (guint i = 0; i < f->updates->len; i++)
		g_assert_cmpuint(get_t(update_at(f, i), "sequence"), ==, i + 1);
	g_assert_cmpuint(cg_generation_get_sequence(generation), ==, 4);

	/* A coalesced (unsent) report does not advance the sequence. */
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 60, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 4);
	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_cmpuint(get_t(snapshot, "sequence"), ==, 4);
	g_assert_cmpuint(cg_generation_get_sequence(generation), ==, 4);

	cg_tracker_fail(f->tracker, generation, NULL);
	g_assert_cmpuint(f->updates->len, ==, 5);
	g_assert_cmpuint(get_t(update_at(f, -1), "sequence"), ==, 5);
}

static void
test_stage_order(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	g_autofree char *path = make_temp_file(f);
	double last_progress = -1;

	for (CgStage stage = CG_STAGE_INITIALIZING; stage <= CG_STAGE_FILE_PREPARATION; stage++) {
		cg_tracker_report(f->tracker, generation, stage, 0, 0, 0, NULL);
		advance_ms(f, 10);
		cg_tracker_report(f->tracker, generation, stage, 100, 0, 0, NULL);
		advance_ms(f, 10);
	}
	complete_with_file(f, generation, path);

	/* One update per stage entry (the in-stage 100 % ones are coalesced
	 * with a 500 ms interval) plus download_ready and completed. */
	g_assert_cmpuint(f->updates->len, ==, CG_N_STAGES);
	for (guint i = 0; i < f->updates->len; i++) {
		GVariant *update = update_at(f, i);
		double progress = get_d(update, "progress");

		g_assert_cmpstr(get_s(update, "stage"), ==, cg_stage_to_string(i));
		g_assert_cmpuint(get_u(update, "stage_index"), ==, i);
		g_assert_cmpstr(get_s(update, "status"), ==,
				i == CG_STAGE_COMPLETED ? "completed" : "in_progress");
		g_assert_cmpfloat(progress, >=, last_progress);
		last_progress = progress;
	}
	g_assert_cmpfloat(last_progress, ==, 100.0);
	g_assert_cmpint(cg_generation_get_stage(generation), ==, CG_STAGE_COMPLETED);
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_COMPLETED);
}

static void
test_progress_monotonic(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 100, 0);
	double expected = cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 50);

	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 5, 10, NULL);
	g_assert_cmpfloat_with_epsilon(cg_generation_get_progress(generation), expected, 1e-9);

	/* Backwards inside the stage: still sent (interval passed) but
	 * nothing goes down. */
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 30, 3, 10, "Again");
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpuint(get_u(update_at(f, -1), "stage_progress"), ==, 50);
	g_assert_cmpfloat_with_epsilon(get_d(update_at(f, -1), "progress"), expected, 1e-9);
	g_assert_cmpfloat_with_epsilon(cg_generation_get_progress(generation), expected, 1e-9);
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "Again");

	/* An earlier stage is ignored altogether. */
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 100, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpint(cg_generation_get_stage(generation), ==, CG_STAGE_PDF_GENERATION);
	g_assert_cmpfloat_with_epsilon(cg_generation_get_progress(generation), expected, 1e-9);

	/* Above 100 is clamped. */
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 250, 10, 10, NULL);
	g_assert_cmpuint(get_u(update_at(f, -1), "stage_progress"), ==, 100);
	g_assert_cmpfloat_with_epsilon(get_d(update_at(f, -1), "progress"),
				       cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 100),
				       1e-9);
}

static void
test_coalesce(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	gint64 t0 = f->mono;

	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 10, 1, 10, "page 1");
	g_assert_cmpuint(f->updates->len, ==, 1);

	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 20, 2, 10, "page 2");
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 30, 3, 10, "page 3");
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 40, 4, 10, "page 4");
	g_assert_cmpuint(f->updates->len, ==, 1);

	/* Not yet: the next deadline is the end of the interval. */
	advance_ms(f, 199);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, t0 + 500 * 1000);
	g_assert_cmpuint(f->updates->len, ==, 1);

	/* At the interval: one update with the latest values. */
	advance_ms(f, 1);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpuint(get_t(update_at(f, -1), "sequence"), ==, 2);
	g_assert_cmpuint(get_u(update_at(f, -1), "stage_progress"), ==, 40);
	g_assert_cmpuint(get_u(update_at(f, -1), "pages_done"), ==, 4);
	g_assert_cmpuint(get_u(update_at(f, -1), "pages_total"), ==, 10);
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "page 4");
	g_assert_cmpint(get_x(update_at(f, -1), "timestamp_us"), ==, f->real);

	/* Nothing pending any more: the next deadline is the max_age sweep. */
	advance_ms(f, 1000);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, t0 + 1800 * G_USEC_PER_SEC);
	g_assert_cmpuint(f->updates->len, ==, 2);

	/* Once the interval has passed, a report goes out at once. */
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 5, 10, "page 5");
	g_assert_cmpuint(f->updates->len, ==, 3);
	advance_ms(f, 499);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 60, 6, 10, "page 6");
	g_assert_cmpuint(f->updates->len, ==, 3);
	advance_ms(f, 1);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 70, 7, 10, "page 7");
	g_assert_cmpuint(f->updates->len, ==, 4);
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "page 7");
	/* page 6 was merged into it and is never sent on its own. */
	advance_ms(f, 2000);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(f->updates->len, ==, 4);
}

static void
test_stage_change_immediate(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);

	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 0, 0, 0, "loading");
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 60, 0, 0, "more");
	g_assert_cmpuint(f->updates->len, ==, 1);

	/* A new stage goes out at once, inside the interval. */
	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 0, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpstr(get_s(update_at(f, -1), "stage"), ==, "data_validation");
	g_assert_cmpuint(get_t(update_at(f, -1), "sequence"), ==, 2);
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "Validating data");

	/* The pending template_loading values never follow it. */
	advance_ms(f, 1000);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(f->updates->len, ==, 2);

	/* Skipping stages is allowed. */
	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 10, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 3);
	g_assert_cmpuint(get_u(update_at(f, -1), "stage_index"), ==, CG_STAGE_FILE_PREPARATION);
}

static void
test_failed_errors(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 1000);
	CgGeneration *other = add_generation(f, 500, 1000);
	g_autoptr(CgProblems) problems = cg_problems_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) io_error = g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED, "disk");
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GVariant) errors = NULL;
	const char *path = NULL;
	const char *message = NULL;
	g_autofree char *joined = NULL;

	cg_problems_add(problems, "recipients[3].issueDate", "not a real date: 2023-02-30");
	cg_problems_add(problems, "recipients[7].recipientName", "required");
	joined = cg_problems_to_message(problems);
	error = g_error_new_literal(CG_ERROR, CG_ERROR_INVALID_DATA, joined);
	cg_tracker_fail_with_problems(f->tracker, generation, error, problems);
	g_assert_cmpstr(get_s(update_at(f, -1), "error_message"), ==, joined);
	g_assert_true(g_variant_lookup(update_at(f, -1), "errors", "@aa{sv}", NULL));

	snapshot = cg_generation_snapshot(generation);
	g_assert_cmpstr(get_s(snapshot, "error"), ==,
			"org.certgen.Certificates1.Error.InvalidData");
	g_assert_true(g_variant_lookup(snapshot, "errors", "@aa{sv}", &errors));
	g_assert_cmpuint(g_variant_n_children(errors), ==, 2);
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GVariant) entry = g_variant_get_child_value(errors, i);

		g_assert_true(g_variant_lookup(entry, "path", "&s", &path));
		g_assert_true(g_variant_lookup(entry, "message", "&s", &message));
		g_assert_cmpstr(path, ==, cg_problems_get_path(problems, i));
		g_assert_cmpstr(message, ==, cg_problems_get_message(problems, i));
	}

	/* only InvalidData carries them; other failures name theirs alone */
	cg_tracker_fail_with_problems(f->tracker, other, io_error, problems);
	g_assert_cmpstr(get_s(update_at(f, -1), "error"), ==,
			"org.certgen.Certificates1.Error.Failed");
	g_assert_false(g_variant_lookup(update_at(f, -1), "errors", "@aa{sv}", NULL));
}

static void
test_terminal_last(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 1000);
	g_autoptr(GError) error = g_error_new(CG_ERROR, CG_ERROR_INVALID_DATA, "bad date");
	g_autoptr(GError) cancel_error = NULL;
	g_autofree char *path = make_temp_file(f);
	GVariant *last;

	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 10, 0, 0, NULL);
	advance_ms(f, 10);
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 50, 0, 0, "pending");
	g_assert_cmpuint(f->updates->len, ==, 1);

	cg_tracker_fail(f->tracker, generation, error);
	g_assert_cmpuint(f->updates->len, ==, 2);
	last = update_at(f, -1);
	g_assert_cmpstr(get_s(last, "status"), ==, "failed");
	g_assert_cmpstr(get_s(last, "error"), ==, "org.certgen.Certificates1.Error.InvalidData");
	g_assert_cmpstr(get_s(last, "error_message"), ==, "bad date");
	g_assert_cmpstr(get_s(last, "message"), ==, "bad date");
	/* The pending values are merged into the terminal update. */
	g_assert_cmpuint(get_u(last, "stage_progress"), ==, 50);
	g_assert_false(get_b(last, "cancellable"));
	g_assert_false(g_variant_lookup(last, "result", "@a{sv}", NULL));

	/* Nothing after the terminal update. */
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 10, 0, 0, NULL);
	advance_ms(f, 5000);
	cg_tracker_process_timers(f->tracker);
	complete_with_file(f, generation, path);
	cg_tracker_fail(f->tracker, generation, error);
	cg_tracker_finish_cancelled(f->tracker, generation);
	g_assert_false(cg_tracker_cancel(f->tracker, generation, &cancel_error));
	g_assert_error(cancel_error, CG_ERROR, CG_ERROR_ALREADY_FINISHED);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_FAILED);
	g_assert_cmpint(cg_generation_get_stage(generation), ==, CG_STAGE_DATA_VALIDATION);
	/* A late completion leaves no file behind. */
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_fail_error_names(Fixture *f, gconstpointer data)
{
	CgGeneration *a = add_generation(f, 500, 0);
	CgGeneration *b = add_generation(f, 500, 0);
	g_autoptr(GError) io_error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NO_SPACE, "full");

	cg_tracker_fail(f->tracker, a, io_error);
	g_assert_cmpstr(get_s(update_at(f, -1), "error"), ==,
			"org.certgen.Certificates1.Error.Failed");
	g_assert_cmpstr(get_s(update_at(f, -1), "error_message"), ==, "full");

	cg_tracker_fail(f->tracker, b, NULL);
	g_assert_cmpstr(get_s(update_at(f, -1), "error"), ==,
			"org.certgen.Certificates1.Error.Failed");
	g_assert_cmpstr(get_s(update_at(f, -1), "error_message"), ==, "Failed");
}

static void
test_complete(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	CgGeneration *other = add_generation(f, 500, 0);
	g_autoptr(CgResult) result = g_new0(CgResult, 1);
	const CgResult *stored;
	GVariant *last;
	g_autoptr(GVariant) dict = NULL;

	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 100, 3, 3, NULL);
	result->certificate_number = g_strdup("CG-2023-000007");
	result->last_certificate_number = g_strdup("CG-2023-000009");
	result->file_size = 4242;
	result->checksum = g_strdup("deadbeef");
	result->pages = 3;
	result->path = g_strdup("/nonexistent/certgen-test.pdf");
	cg_tracker_complete(f->tracker, generation, result);
	g_clear_pointer(&result, cg_result_free);

	/* download_ready, then the terminal completed update. */
	g_assert_cmpuint(f->updates->len, ==, 3);
	g_assert_cmpstr(get_s(update_at(f, 1), "stage"), ==, "download_ready");
	g_assert_cmpstr(get_s(update_at(f, 1), "status"), ==, "in_progress");
	g_assert_false(g_variant_lookup(update_at(f, 1), "result", "@a{sv}", NULL));
	last = update_at(f, 2);
	g_assert_cmpstr(get_s(last, "stage"), ==, "completed");
	g_assert_cmpuint(get_u(last, "stage_index"), ==, 6);
	g_assert_cmpuint(get_u(last, "stage_progress"), ==, 100);
	g_assert_cmpfloat(get_d(last, "progress"), ==, 100.0);
	g_assert_cmpstr(get_s(last, "status"), ==, "completed");
	g_assert_cmpstr(get_s(last, "message"), ==, "Completed");
	g_assert_false(get_b(last, "cancellable"));
	g_assert_false(g_variant_lookup(last, "error", "&s", NULL));
	g_assert_true(g_variant_lookup(last, "result", "@a{sv}", &dict));
	g_assert_cmpstr(get_s(dict, "certificate_number"), ==, "CG-2023-000007");
	g_assert_cmpstr(get_s(dict, "last_certificate_number"), ==, "CG-2023-000009");
	g_assert_cmpuint(get_t(dict, "file_size"), ==, 4242);
	g_assert_cmpstr(get_s(dict, "checksum"), ==, "deadbeef");
	g_assert_cmpuint(get_u(dict, "pages"), ==, 3);
	g_assert_cmpstr(get_s(dict, "content_type"), ==, "application/pdf");
	g_assert_cmpuint(get_u(last, "pages_done"), ==, 3);
	g_assert_cmpuint(get_u(last, "pages_total"), ==, 3);

	/* The tracker kept its own copy. */
	stored = cg_generation_get_result(generation);
	g_assert_nonnull(stored);
	g_assert_cmpstr(stored->certificate_number, ==, "CG-2023-000007");
	g_assert_cmpstr(stored->path, ==, "/nonexistent/certgen-test.pdf");
	g_assert_cmpuint(stored->file_size, ==, 4242);

	/* Already at download_ready: only the terminal update. */
	cg_tracker_report(f->tracker, other, CG_STAGE_DOWNLOAD_READY, 0, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 4);
	complete_with_file(f, other, "/nonexistent/other.pdf");
	g_assert_cmpuint(f->updates->len, ==, 5);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "completed");
}

/* validate_only: the pages of the result count, nothing else is kept:
 * straight to completed, no result, no download_ready. */
static void
test_complete_validate_only(Fixture *f, gconstpointer data)
{
	g_autoptr(CgResult) result = g_new0(CgResult, 1);
	CgGenerationOptions options;
	CgGeneration *generation;
	GVariant *last;

	cg_generation_options_init(&options);
	g_assert_false(options.validate_only);
	options.validate_only = TRUE;
	generation = cg_tracker_add(f->tracker, "tx-validate", 1000, NULL, &options);
	g_assert_true(cg_generation_get_validate_only(generation));
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 100, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 1);
	result->pages = 7;
	cg_tracker_complete(f->tracker, generation, result);

	g_assert_cmpuint(f->updates->len, ==, 2);
	last = update_at(f, 1);
	g_assert_cmpstr(get_s(last, "stage"), ==, "completed");
	g_assert_cmpstr(get_s(last, "status"), ==, "completed");
	g_assert_cmpfloat(get_d(last, "progress"), ==, 100.0);
	g_assert_cmpuint(get_u(last, "pages_total"), ==, 7);
	g_assert_cmpuint(get_u(last, "pages_done"), ==, 7);
	g_assert_false(g_variant_lookup(last, "result", "@a{sv}", NULL));
	g_assert_null(cg_generation_get_result(generation));
}

static void
test_result_copy(void)
{
	CgResult result = {(char *)"a", NULL, 7, (char *)"c", 1, (char *)"/p"};
	g_autoptr(CgResult) copy = cg_result_copy(&result);

	g_assert_true(copy->certificate_number != result.certificate_number);
	g_assert_cmpstr(copy->certificate_number, ==, "a");
	g_assert_null(copy->last_certificate_number);
	g_assert_cmpuint(copy->file_size, ==, 7);
	g_assert_cmpstr(copy->checksum, ==, "c");
	g_assert_cmpuint(copy->pages, ==, 1);
	g_assert_cmpstr(copy->path, ==, "/p");
	g_assert_null(cg_result_copy(NULL));
	cg_result_free(NULL);
}

static void
test_timeout(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 1000);
	g_autoptr(GCancellable) cancellable = cg_generation_ref_cancellable(generation);
	g_autoptr(GVariant) snapshot = NULL;
	gint64 t0 = f->mono;

	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 10, 0, 0, NULL);
	g_assert_true(get_b(update_at(f, -1), "cancellable"));

	advance_ms(f, 999);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, t0 + 1000 * 1000);
	g_assert_false(g_cancellable_is_cancelled(cancellable));

	/* The timeout stops the work but sends nothing yet. */
	advance_ms(f, 1);
	cg_tracker_process_timers(f->tracker);
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	g_assert_cmpuint(f->updates->len, ==, 1);
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_IN_PROGRESS);
	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_false(get_b(snapshot, "cancellable"));
	g_assert_cmpstr(get_s(snapshot, "status"), ==, "in_progress");
	/* Cancel meanwhile: accepted, but it stays a timeout. */
	g_assert_true(cg_tracker_cancel(f->tracker, generation, NULL));

	/* The worker noticed and stopped: now the terminal update. */
	advance_ms(f, 50);
	cg_tracker_finish_cancelled(f->tracker, generation);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "timed_out");
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "Timed out");
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_TIMED_OUT);
	g_assert_false(g_variant_lookup(update_at(f, -1), "error", "&s", NULL));
}

static void
test_timeout_lazy_cancellable(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 100);
	CgGeneration *no_timeout = add_generation(f, 500, 0);
	g_autoptr(GCancellable) cancellable = NULL;
	g_autoptr(GCancellable) other = NULL;
	g_autoptr(GError) error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "stop");

	advance_ms(f, 100);
	cg_tracker_process_timers(f->tracker);
	/* Created after the timeout: already cancelled. */
	cancellable = cg_generation_ref_cancellable(generation);
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	other = cg_generation_ref_cancellable(no_timeout);
	g_assert_false(g_cancellable_is_cancelled(other));

	/* A worker reporting its cancellation as an error: timed_out. */
	cg_tracker_fail(f->tracker, generation, error);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "timed_out");
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	g_autoptr(GCancellable) cancellable = cg_generation_ref_cancellable(generation);
	g_autoptr(GError) error = NULL;

	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 10, 0, 0, NULL);
	g_assert_true(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_no_error(error);
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	/* Nothing sent until the work has stopped. */
	g_assert_cmpuint(f->updates->len, ==, 1);
	/* A second Cancel while stopping is accepted. */
	g_assert_true(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_no_error(error);

	/* Reports until the worker notices still flow, not cancellable. */
	advance_ms(f, 500);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 20, 0, 0, NULL);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_false(get_b(update_at(f, -1), "cancellable"));

	cg_tracker_finish_cancelled(f->tracker, generation);
	g_assert_cmpuint(f->updates->len, ==, 3);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "cancelled");
	g_assert_cmpstr(get_s(update_at(f, -1), "message"), ==, "Cancelled");
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_CANCELLED);

	g_assert_false(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_ALREADY_FINISHED);
	g_assert_cmpstr(cg_error_to_dbus_name(error), ==,
			"org.certgen.Certificates1.Error.AlreadyFinished");
}

static void
test_cancel_disabled(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *generation;
	g_autoptr(GCancellable) cancellable = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) snapshot = NULL;

	cg_generation_options_init(&options);
	options.enable_cancellation = FALSE;
	generation = cg_tracker_add(f->tracker, "tx", 1000, NULL, &options);
	cancellable = cg_generation_ref_cancellable(generation);
	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_false(get_b(snapshot, "cancellable"));

	g_assert_false(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_CANCELLABLE);
	g_assert_false(g_cancellable_is_cancelled(cancellable));
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_IN_PROGRESS);
	g_clear_error(&error);

	/* Once finished, that is what a Cancel hears. */
	cg_tracker_fail(f->tracker, generation, NULL);
	g_assert_false(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_ALREADY_FINISHED);
}

static void
test_cancel_lazy_cancellable(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	g_autoptr(GCancellable) cancellable = NULL;
	g_autoptr(GCancellable) after = NULL;

	g_assert_true(cg_tracker_cancel(f->tracker, generation, NULL));
	cancellable = cg_generation_ref_cancellable(generation);
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	cg_tracker_finish_cancelled(f->tracker, generation);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "cancelled");
	/* After the end the work is told to stop. */
	after = cg_generation_ref_cancellable(generation);
	g_assert_true(g_cancellable_is_cancelled(after));
}

static void
test_analytics(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 0);
	g_autoptr(GVariant) running = NULL;
	g_autoptr(GVariant) finished = NULL;
	g_autoptr(GVariant) durations = NULL;
	g_autoptr(GVariant) running_durations = NULL;
	guint64 ms = 0;
	g_autofree char *path = make_temp_file(f);

	advance_ms(f, 100);
	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 0, 0, 0, NULL);
	advance_ms(f, 300);
	/* data_validation skipped */
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 0, 0, 0, NULL);
	advance_ms(f, 250);

	running = g_variant_ref_sink(cg_generation_analytics(generation));
	g_assert_cmpuint(get_t(running, "total_duration_ms"), ==, 650);
	g_assert_cmpstr(get_s(running, "status"), ==, "in_progress");
	g_assert_cmpint(get_x(running, "started_at_us"), ==, START_REAL);
	g_assert_cmpint(get_x(running, "finished_at_us"), ==, 0);
	/* 15 % (2 + 5 + 8) in 0.65 s */
	g_assert_cmpfloat_with_epsilon(get_d(running, "average_progress_rate"), 15.0 / 0.65, 1e-9);
	g_assert_true(g_variant_lookup(running, "stage_durations", "@a{st}", &running_durations));
	g_assert_true(g_variant_lookup(running_durations, "pdf_generation", "t", &ms));
	g_assert_cmpuint(ms, ==, 250);

	advance_ms(f, 350);
	complete_with_file(f, generation, path);
	advance_ms(f, 5000); /* time after the end does not count */

	finished = g_variant_ref_sink(cg_generation_analytics(generation));
	g_assert_cmpuint(get_t(finished, "total_duration_ms"), ==, 1000);
	g_assert_cmpfloat_with_epsilon(get_d(finished, "average_progress_rate"), 100.0, 1e-9);
	g_assert_cmpstr(get_s(finished, "status"), ==, "completed");
	g_assert_cmpint(get_x(finished, "started_at_us"), ==, START_REAL);
	g_assert_cmpint(get_x(finished, "finished_at_us"), ==, START_REAL + 1000 * 1000);
	g_assert_true(g_variant_lookup(finished, "stage_durations", "@a{st}", &durations));
	g_assert_cmpuint(g_variant_n_children(durations), ==, 5);
	g_assert_true(g_variant_lookup(durations, "initializing", "t", &ms));
	g_assert_cmpuint(ms, ==, 100);
	g_assert_true(g_variant_lookup(durations, "template_loading", "t", &ms));
	g_assert_cmpuint(ms, ==, 300);
	g_assert_false(g_variant_lookup(durations, "data_validation", "t", &ms));
	g_assert_true(g_variant_lookup(durations, "pdf_generation", "t", &ms));
	g_assert_cmpuint(ms, ==, 600);
	g_assert_false(g_variant_lookup(durations, "file_preparation", "t", &ms));
	g_assert_true(g_variant_lookup(durations, "download_ready", "t", &ms));
	g_assert_cmpuint(ms, ==, 0);
	g_assert_true(g_variant_lookup(durations, "completed", "t", &ms));
	g_assert_cmpuint(ms, ==, 0);
}

static void
test_expected_end(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 0, 0);
	g_autoptr(GVariant) snapshot = NULL;
	/* pdf_generation at 50 % is 15 + 35 = 50 % overall */
	double half = cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 50);

	g_assert_cmpfloat(half, ==, 50.0);

	/* Unknown at first: no progress yet, and no time passed. */
	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_cmpint(get_x(snapshot, "expected_end_us"), ==, 0);
	g_clear_pointer(&snapshot, g_variant_unref);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 0, 0, NULL);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), ==, 0);

	/* 50 % in 10 s: the end is expected 20 s after the start. */
	advance_ms(f, 10000);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 0, 0, NULL);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), ==,
			START_REAL + 20 * G_USEC_PER_SEC);
	g_assert_cmpint(get_x(update_at(f, -1), "started_at_us"), ==, START_REAL);

	/* Slower: 60 % after 30 s → 50 s. */
	advance_ms(f, 20000);
	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 0, 0, 0, NULL);
	g_assert_cmpfloat(cg_generation_get_progress(generation), ==, 85.0);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), ==,
			START_REAL + (gint64)(30.0 * G_USEC_PER_SEC * 100 / 85.0));

	/* Ended: the finish time. */
	advance_ms(f, 2000);
	cg_tracker_fail(f->tracker, generation, NULL);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), ==,
			START_REAL + 32 * G_USEC_PER_SEC);
	advance_ms(f, 2000);
	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_cmpint(get_x(snapshot, "expected_end_us"), ==, START_REAL + 32 * G_USEC_PER_SEC);
}

/* A 10,000-page batch at a true 1 ms per page (10 ms before, 50 ms after
 * pdf_generation) with a history of @history_page_ms: the expected_end_us
 * of every update from @from_percent of the pages on is within ±25 % of
 * the duration of the real end. */
#define ETA_PAGES 10000u
#define ETA_STEP 100u

static void
check_expected_end_history(Fixture *f, double history_page_ms, guint from_percent)
{
	CgGeneration *generation = add_generation(f, 0, 0);
	g_autoptr(GArray) expected = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) done_at = g_array_new(FALSE, FALSE, sizeof(guint));
	CgResult result = {NULL, NULL, 1, NULL, ETA_PAGES, NULL};
	gint64 start = f->real;
	gint64 real_end;
	double duration;

	cg_generation_set_history(generation, history_page_ms, 50.0);
	cg_tracker_report(f->tracker, generation, CG_STAGE_TEMPLATE_LOADING, 0, 0, 0, NULL);
	advance_ms(f, 5);
	cg_tracker_report(f->tracker, generation, CG_STAGE_DATA_VALIDATION, 0, 0, 0, NULL);
	advance_ms(f, 5);
	for (guint done = 0; done <= ETA_PAGES; done += ETA_STEP) {
		gint64 end;

		cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION,
				  done * 100 / ETA_PAGES, done, ETA_PAGES, NULL);
		end = get_x(update_at(f, -1), "expected_end_us");
		g_array_append_val(expected, end);
		g_array_append_val(done_at, done);
		advance_ms(f, ETA_STEP);
	}
	f->mono -= ETA_STEP * 1000;
	f->real -= ETA_STEP * 1000;
	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 0, 0, 0, NULL);
	advance_ms(f, 50);
	cg_tracker_complete(f->tracker, generation, &result);
	real_end = get_x(update_at(f, -1), "expected_end_us");
	duration = (double)(real_end - start);
	g_assert_cmpint(real_end, ==, start + (10 + ETA_PAGES + 50) * 1000);

	for (guint i = 0; i < expected->len; i++) {
		double error = (double)(g_array_index(expected, gint64, i) - real_end) / duration;

		if (g_array_index(done_at, guint, i) * 100 < from_percent * ETA_PAGES)
			continue;
		if (ABS(error) > 0.25)
			g_error("history %.1f ms/page: at %u pages expected_end is off by %.1f %%",
				history_page_ms, g_array_index(done_at, guint, i), error * 100);
	}
}

/* The history is right: within bounds from the first update on. */
static void
test_expected_end_history(Fixture *f, gconstpointer data)
{
	check_expected_end_history(f, 1.0, 0);
}

/* A history twice too slow, or twice too fast: from 10 % of the pages. */
static void
test_expected_end_history_off(Fixture *f, gconstpointer data)
{
	check_expected_end_history(f, 2.0, 10);
	g_ptr_array_set_size(f->updates, 0);
	check_expected_end_history(f, 0.5, 10);
}

/* Without history, the old rule: from the overall progress. */
static void
test_expected_end_no_history(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 0, 0);

	CgGenerationOptions options;
	CgGeneration *checking;

	cg_generation_set_history(generation, 0.0, 0.0);
	advance_ms(f, 10000);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 500, 1000, NULL);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), ==,
			START_REAL + 20 * G_USEC_PER_SEC);
	g_assert_cmpstr(cg_generation_get_template_id(generation), ==, "");

	/* validate_only never renders: a history of pages does not apply */
	cg_generation_options_init(&options);
	options.update_interval_ms = 0;
	options.validate_only = TRUE;
	checking = cg_tracker_add(f->tracker, "tx-2", 1000, NULL, &options);
	cg_generation_set_history(checking, 1000.0, 0.0);
	advance_ms(f, 1000);
	cg_tracker_report(f->tracker, checking, CG_STAGE_DATA_VALIDATION, 50, 0, 1000, NULL);
	g_assert_cmpint(get_x(update_at(f, -1), "expected_end_us"), <,
			START_REAL + 60 * G_USEC_PER_SEC);
}

static void
test_cleanup_ttl(Fixture *f, gconstpointer data)
{
	CgGenerationOptions persistent;
	CgGeneration *a = add_generation(f, 500, 0);
	CgGeneration *b;
	CgGeneration *running = add_generation(f, 500, 0);
	g_autofree char *path_a = make_temp_file(f);
	g_autofree char *path_b = make_temp_file(f);
	g_autofree char *id_a = g_strdup(cg_generation_get_id(a));
	g_autofree char *id_b = NULL;

	cg_generation_options_init(&persistent);
	persistent.enable_persistence = TRUE;
	persistent.timeout_ms = 0;
	b = cg_tracker_add(f->tracker, "tx-b", 1000, NULL, &persistent);
	id_b = g_strdup(cg_generation_get_id(b));
	g_assert_false(cg_generation_get_persistent(a));
	g_assert_true(cg_generation_get_persistent(b));

	advance_ms(f, 1000);
	complete_with_file(f, a, path_a);
	complete_with_file(f, b, path_b);

	/* Kept for finished_ttl_s after the end. */
	advance_ms(f, 59999);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, f->mono + 1000);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 3);
	g_assert_cmpuint(f->forgotten->len, ==, 0);

	advance_ms(f, 1);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 2);
	g_assert_cmpuint(f->forgotten->len, ==, 1);
	g_assert_cmpstr(f->forgotten->pdata[0], ==, id_a);
	g_assert_null(cg_tracker_lookup(f->tracker, id_a));
	g_assert_false(g_file_test(path_a, G_FILE_TEST_EXISTS));
	/* The persistent one stays, with its file, keep_s after its end,
	 * even past max_age_s; then both go. */
	g_assert_true(cg_tracker_lookup(f->tracker, id_b) == b);
	g_assert_true(g_file_test(path_b, G_FILE_TEST_EXISTS));
	g_assert_true(cg_tracker_lookup(f->tracker, cg_generation_get_id(running)) == running);
	advance_ms(f, (gint64)KEEP_S * 1000 - 60000 - 1);
	cg_tracker_process_timers(f->tracker);
	g_assert_true(cg_tracker_lookup(f->tracker, id_b) == b);
	advance_ms(f, 1000);
	cg_tracker_process_timers(f->tracker);
	g_assert_null(cg_tracker_lookup(f->tracker, id_b));
	g_assert_false(g_file_test(path_b, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(f->forgotten->len, ==, 3); /* and the running one, at max_age_s */
	g_assert_cmpstr(f->forgotten->pdata[2], ==, id_b);
	/* Forgetting sends nothing (but the max_age_s time out). */
	g_assert_cmpuint(f->updates->len, ==, 5);
}

static void
test_cleanup_max_age(Fixture *f, gconstpointer data)
{
	CgGeneration *old;
	CgGeneration *young;
	g_autoptr(CgGeneration) held = NULL;
	g_autoptr(GCancellable) cancellable = NULL;
	g_autofree char *path = make_temp_file(f);
	g_autofree char *id = NULL;

	fixture_new_tracker(f, 60, 10);
	old = add_generation(f, 500, 0); /* no timeout: only max_age stops it */
	held = cg_generation_ref(old);
	id = g_strdup(cg_generation_get_id(old));
	cancellable = cg_generation_ref_cancellable(old);
	cg_tracker_report(f->tracker, old, CG_STAGE_PDF_GENERATION, 10, 0, 0, NULL);
	advance_ms(f, 5000);
	young = add_generation(f, 500, 0);

	advance_ms(f, 4999);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, f->mono + 1000);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 2);

	advance_ms(f, 1);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 1);
	g_assert_null(cg_tracker_lookup(f->tracker, id));
	g_assert_true(cg_tracker_lookup(f->tracker, cg_generation_get_id(young)) == young);
	g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, 1);
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	g_assert_cmpuint(f->forgotten->len, ==, 1);
	g_assert_cmpstr(f->forgotten->pdata[0], ==, id);
	/* Its subscribers were told, with a terminal update. */
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "timed_out");
	g_assert_cmpint(cg_generation_get_status(held), ==, CG_STATUS_TIMED_OUT);

	/* The worker's late calls change nothing, and its file is removed. */
	cg_tracker_report(f->tracker, held, CG_STAGE_FILE_PREPARATION, 10, 0, 0, NULL);
	cg_tracker_finish_cancelled(f->tracker, held);
	complete_with_file(f, held, path);
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpstr(cg_generation_get_id(held), ==, id);
}

static void
test_cleanup_explicit(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *mine_done;
	CgGeneration *mine_running;
	CgGeneration *other_done;
	g_autofree char *path = make_temp_file(f);

	cg_generation_options_init(&options);
	mine_done = cg_tracker_add(f->tracker, "tx-1", 1000, NULL, &options);
	mine_running = cg_tracker_add(f->tracker, "tx-2", 1000, NULL, &options);
	other_done = cg_tracker_add(f->tracker, "tx-3", 1001, NULL, &options);
	complete_with_file(f, mine_done, path);
	cg_tracker_fail(f->tracker, other_done, NULL);

	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, 1002), ==, 0);
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, 1000), ==, 1);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(f->forgotten->len, ==, 1);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 2);
	g_assert_true(cg_tracker_lookup(f->tracker, cg_generation_get_id(mine_running)) ==
		      mine_running);

	/* -1: everyone's finished ones, never the running ones. */
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, -1), ==, 1);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 1);
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, -1), ==, 0);
	g_assert_cmpuint(f->forgotten->len, ==, 2);
}

/* A persistent result goes only by its owner's cleanup (with its file),
 * never by everyone's (-1: an administrator's, or shutdown's). */
static void
test_cleanup_persistent(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *kept;
	g_autofree char *path = make_temp_file(f);

	cg_generation_options_init(&options);
	options.enable_persistence = TRUE;
	kept = cg_tracker_add(f->tracker, "tx-1", 1000, NULL, &options);
	complete_with_file(f, kept, path);
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, -1), ==, 0);
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, 1001), ==, 0);
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(cg_tracker_cleanup(f->tracker, 1000), ==, 1);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(f->forgotten->len, ==, 1);
}

/* A completed generation's record brings it back in another tracker (a
 * restart) reading as before: snapshot and analytics equal but for the
 * time of the question; then kept keep_s after its end. */
static void
test_restore(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGenerationRecord record;
	CgGeneration *done;
	CgGeneration *restored;
	g_autoptr(CgGeneration) held = NULL;
	g_autoptr(GVariant) before = NULL;
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GVariant) analytics_before = NULL;
	g_autoptr(GVariant) analytics_after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = make_temp_file(f);
	g_autofree char *id = NULL;

	cg_generation_options_init(&options);
	options.enable_persistence = TRUE;
	options.output_format = CG_OUTPUT_FORMAT_ZIP;
	done = cg_tracker_add(f->tracker, "tx-kept", 1000, "web:alice", &options);
	cg_generation_set_template_id(done, "classic");
	advance_ms(f, 10);
	cg_tracker_report(f->tracker, done, CG_STAGE_PDF_GENERATION, 50, 1, 3, NULL);
	advance_ms(f, 20);
	complete_with_file(f, done, path);
	id = g_strdup(cg_generation_get_id(done));
	/* not completed: no record */
	g_assert_false(cg_generation_get_record(add_generation(f, 500, 0), &record));
	g_assert_true(cg_generation_get_record(done, &record));
	before = g_variant_ref_sink(cg_generation_snapshot(done));
	analytics_before = g_variant_ref_sink(cg_generation_analytics(done));
	held = cg_generation_ref(done);

	/* the restart, an hour later */
	fixture_new_tracker(f, 60, 1800);
	advance_ms(f, 3600 * 1000);
	restored = cg_tracker_restore(f->tracker, &record, &error);
	g_assert_no_error(error);
	g_assert_nonnull(restored);
	g_assert_true(cg_tracker_lookup(f->tracker, id) == restored);
	after = g_variant_ref_sink(cg_generation_snapshot(restored));
	analytics_after = g_variant_ref_sink(cg_generation_analytics(restored));
	g_assert_true(g_variant_equal(before, after));
	g_assert_true(g_variant_equal(analytics_before, analytics_after));
	g_assert_cmpstr(cg_generation_get_owner_label(restored), ==, "web:alice");
	g_assert_true(cg_generation_get_persistent(restored));
	g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, 0);
	/* twice: refused */
	g_assert_null(cg_tracker_restore(f->tracker, &record, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);

	/* keep_s after its end, not after the restart */
	advance_ms(f, (gint64)KEEP_S * 1000 - 3600 * 1000 - 1000);
	cg_tracker_process_timers(f->tracker);
	g_assert_nonnull(cg_tracker_lookup(f->tracker, id));
	advance_ms(f, 2000);
	cg_tracker_process_timers(f->tracker);
	g_assert_null(cg_tracker_lookup(f->tracker, id));
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* What the record must hold to come back. */
static void
test_restore_invalid(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGenerationRecord good;
	CgGeneration *done;
	g_autoptr(CgGeneration) held = NULL; /* the record borrows from it */
	g_autofree char *path = make_temp_file(f);
	g_autofree char *upper = NULL;

	cg_generation_options_init(&options);
	options.enable_persistence = TRUE;
	done = cg_tracker_add(f->tracker, "tx", 1000, NULL, &options);
	cg_generation_set_template_id(done, "classic");
	complete_with_file(f, done, path);
	g_assert_true(cg_generation_get_record(done, &good));
	held = cg_generation_ref(done);
	upper = g_ascii_strup(good.id, -1);
	fixture_new_tracker(f, 60, 1800);
	for (guint i = 0; i < 8; i++) {
		CgGenerationRecord bad = good;
		g_autoptr(GError) error = NULL;

		switch (i) {
		case 0:
			bad.id = "../../etc/passwd";
			break;
		case 1:
			bad.id = upper;
			break;
		case 2:
			bad.transaction_id = "";
			break;
		case 3:
			bad.reached = 1u << CG_STAGE_INITIALIZING;
			break;
		case 4:
			bad.reached = 0xff;
			break;
		case 5:
			bad.sequence = 0;
			break;
		case 6:
			bad.last_sent_ms = bad.finished_ms + 2;
			break;
		default:
			bad.result.path = NULL;
			break;
		}
		g_assert_null(cg_tracker_restore(f->tracker, &bad, &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	}
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 0);
}

static void
test_cleanup_rate_limit(Fixture *f, gconstpointer data)
{
	CgGeneration *a;
	CgGeneration *b;
	gint64 t0;

	fixture_new_tracker(f, 1, 1800);
	a = add_generation(f, 500, 0);
	b = add_generation(f, 500, 0);
	t0 = f->mono;
	cg_tracker_fail(f->tracker, a, NULL);
	advance_ms(f, 500);
	cg_tracker_fail(f->tracker, b, NULL);

	advance_ms(f, 500); /* t0 + 1 s: a is due */
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, t0 + 1500 * 1000);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 1);

	/* b is due at t0 + 1.5 s, but the sweep waits a second. */
	advance_ms(f, 500);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, t0 + 2000 * 1000);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 1);
	advance_ms(f, 500);
	g_assert_cmpint(cg_tracker_process_timers(f->tracker), ==, G_MAXINT64);
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, 0);
	g_assert_cmpuint(f->forgotten->len, ==, 2);
}

static void
test_snapshot_keys(Fixture *f, gconstpointer data)
{
	static const struct {
		const char *key;
		const char *type;
	} keys[] = {
	    {"progress_id", "s"},   {"transaction_id", "s"}, {"stage", "s"},
	    {"stage_index", "u"},   {"stage_progress", "u"}, {"progress", "d"},
	    {"status", "s"},	    {"message", "s"},	     {"sequence", "t"},
	    {"timestamp_us", "x"},  {"started_at_us", "x"},  {"expected_end_us", "x"},
	    {"cancellable", "b"},   {"pages_done", "u"},     {"pages_total", "u"},
	    {"persistent", "b"},    {"expires_at_us", "x"},  {"template_id", "s"},
	    {"output_format", "s"},
	};
	CgGenerationOptions options;
	CgGeneration *generation;
	CgGeneration *labelled;
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GVariant) labelled_snapshot = NULL;
	g_autoptr(GVariant) analytics = NULL;

	cg_generation_options_init(&options);
	generation = cg_tracker_add(f->tracker, "tx-snap", 1000, NULL, &options);
	options.output_format = CG_OUTPUT_FORMAT_ZIP;
	labelled = cg_tracker_add(f->tracker, "tx-label", 0, "web-bob", &options);
	cg_generation_set_template_id(generation, "modern");
	advance_ms(f, 20);
	cg_tracker_report(f->tracker, generation, CG_STAGE_PDF_GENERATION, 50, 2, 4, "Rendering");

	snapshot = g_variant_ref_sink(cg_generation_snapshot(generation));
	g_assert_cmpuint(g_variant_n_children(snapshot), ==, G_N_ELEMENTS(keys));
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		assert_key_type(snapshot, keys[i].key, keys[i].type);
	g_assert_cmpstr(get_s(snapshot, "progress_id"), ==, cg_generation_get_id(generation));
	g_assert_cmpstr(get_s(snapshot, "transaction_id"), ==, "tx-snap");
	g_assert_cmpstr(get_s(snapshot, "stage"), ==, "pdf_generation");
	g_assert_cmpuint(get_u(snapshot, "stage_index"), ==, 3);
	g_assert_cmpuint(get_u(snapshot, "stage_progress"), ==, 50);
	g_assert_cmpfloat(get_d(snapshot, "progress"), ==, 50.0);
	g_assert_cmpstr(get_s(snapshot, "status"), ==, "in_progress");
	g_assert_cmpstr(get_s(snapshot, "message"), ==, "Rendering");
	g_assert_cmpuint(get_t(snapshot, "sequence"), ==, 1);
	g_assert_cmpint(get_x(snapshot, "timestamp_us"), ==, f->real);
	g_assert_cmpint(get_x(snapshot, "started_at_us"), ==, START_REAL);
	g_assert_true(get_b(snapshot, "cancellable"));
	g_assert_cmpuint(get_u(snapshot, "pages_done"), ==, 2);
	g_assert_cmpuint(get_u(snapshot, "pages_total"), ==, 4);
	g_assert_false(g_variant_lookup(snapshot, "owner_label", "&s", NULL));
	g_assert_cmpstr(get_s(snapshot, "template_id"), ==, "modern");
	g_assert_cmpstr(get_s(snapshot, "output_format"), ==, "pdf");

	labelled_snapshot = g_variant_ref_sink(cg_generation_snapshot(labelled));
	g_assert_cmpuint(g_variant_n_children(labelled_snapshot), ==, G_N_ELEMENTS(keys) + 1);
	g_assert_cmpstr(get_s(labelled_snapshot, "owner_label"), ==, "web-bob");
	g_assert_cmpstr(get_s(labelled_snapshot, "template_id"), ==, ""); /* never set */
	g_assert_cmpstr(get_s(labelled_snapshot, "output_format"), ==, "zip");
	g_assert_cmpuint(get_t(labelled_snapshot, "sequence"), ==, 0);
	g_assert_cmpstr(get_s(labelled_snapshot, "message"), ==, "Initializing");

	analytics = g_variant_ref_sink(cg_generation_analytics(generation));
	assert_key_type(analytics, "total_duration_ms", "t");
	assert_key_type(analytics, "average_progress_rate", "d");
	assert_key_type(analytics, "stage_durations", "a{st}");
	assert_key_type(analytics, "status", "s");
	assert_key_type(analytics, "started_at_us", "x");
	assert_key_type(analytics, "finished_at_us", "x");
	g_assert_cmpuint(g_variant_n_children(analytics), ==, 6);
}

static void
test_free_deletes_files(Fixture *f, gconstpointer data)
{
	CgGenerationOptions persistent;
	CgGeneration *a = add_generation(f, 500, 0);
	CgGeneration *b;
	CgGeneration *running = add_generation(f, 500, 0);
	g_autoptr(GCancellable) cancellable = cg_generation_ref_cancellable(running);
	g_autoptr(CgGeneration) held = cg_generation_ref(running);
	g_autofree char *path_a = make_temp_file(f);
	g_autofree char *path_b = make_temp_file(f);

	cg_generation_options_init(&persistent);
	persistent.enable_persistence = TRUE;
	b = cg_tracker_add(f->tracker, "tx-b", 1000, NULL, &persistent);
	complete_with_file(f, a, path_a);
	complete_with_file(f, b, path_b);
	g_clear_pointer(&f->tracker, cg_tracker_free);

	g_assert_false(g_file_test(path_a, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(path_b, G_FILE_TEST_EXISTS));
	g_assert_true(g_cancellable_is_cancelled(cancellable));
	/* Not the forget callback: the owner is going away too. */
	g_assert_cmpuint(f->forgotten->len, ==, 0);
	/* A held reference outlives the tracker. */
	g_assert_cmpstr(cg_generation_get_transaction_id(held), ==, "tx-1");
}

static void
test_active_set(Fixture *f, gconstpointer data)
{
	CgGeneration *generations[40];
	guint order[G_N_ELEMENTS(generations)];
	guint active = G_N_ELEMENTS(generations);

	for (guint i = 0; i < G_N_ELEMENTS(generations); i++) {
		generations[i] = cg_tracker_add(f->tracker, "tx", 1000 + i % 3, NULL, NULL);
		cg_tracker_report(f->tracker, generations[i], CG_STAGE_PDF_GENERATION, 1, 0, 0,
				  NULL);
		order[i] = i;
	}
	/* Every one has a pending update. */
	for (guint i = 0; i < G_N_ELEMENTS(generations); i++)
		cg_tracker_report(f->tracker, generations[i], CG_STAGE_PDF_GENERATION, 2, 0, 0,
				  NULL);
	/* End them in a scrambled order; the rest stay tracked as active. */
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		guint j = (i * 7 + 3) % G_N_ELEMENTS(order);
		guint tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	for (guint i = 0; i < G_N_ELEMENTS(order) / 2; i++) {
		cg_tracker_fail(f->tracker, generations[order[i]], NULL);
		active--;
		g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, active);
	}
	g_assert_cmpuint(cg_tracker_count_active_for_owner(f->tracker, 1000, NULL) +
			     cg_tracker_count_active_for_owner(f->tracker, 1001, NULL) +
			     cg_tracker_count_active_for_owner(f->tracker, 1002, NULL),
			 ==, active);
	/* The pending updates of exactly the remaining ones are flushed. */
	g_ptr_array_set_size(f->updates, 0);
	advance_ms(f, 500);
	cg_tracker_process_timers(f->tracker);
	g_assert_cmpuint(f->updates->len, ==, active);
	for (guint i = G_N_ELEMENTS(order) / 2; i < G_N_ELEMENTS(order); i++) {
		cg_tracker_finish_cancelled(f->tracker, generations[order[i]]);
		active--;
		g_assert_cmpuint(cg_tracker_count_active(f->tracker), ==, active);
	}
	g_assert_cmpuint(cg_tracker_count(f->tracker), ==, G_N_ELEMENTS(generations));
}

/* The default clock: one GLib timer flushes the coalesced update. */
static gboolean
give_up_cb(gpointer user_data)
{
	gboolean *timed_out = user_data;

	*timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

static void
test_default_clock_timer(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *generations[20];
	gboolean gave_up = FALSE;
	guint give_up_id;

	g_clear_pointer(&f->tracker, cg_tracker_free);
	f->tracker = cg_tracker_new(NULL, emit_cb, forget_cb, f);
	cg_generation_options_init(&options);
	options.update_interval_ms = 200;
	for (guint i = 0; i < G_N_ELEMENTS(generations); i++) {
		generations[i] = cg_tracker_add(f->tracker, "tx", 1000, NULL, &options);
		cg_tracker_report(f->tracker, generations[i], CG_STAGE_PDF_GENERATION, 10, 0, 0,
				  NULL);
		cg_tracker_report(f->tracker, generations[i], CG_STAGE_PDF_GENERATION, 20, 0, 0,
				  "pending");
	}
	g_assert_cmpuint(f->updates->len, ==, G_N_ELEMENTS(generations));

	give_up_id = g_timeout_add_seconds(10, give_up_cb, &gave_up);
	while (f->updates->len < 2 * G_N_ELEMENTS(generations) && !gave_up)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(gave_up);
	g_source_remove(give_up_id);
	for (guint i = G_N_ELEMENTS(generations); i < f->updates->len; i++) {
		g_assert_cmpstr(get_s(update_at(f, i), "message"), ==, "pending");
		g_assert_cmpuint(get_t(update_at(f, i), "sequence"), ==, 2);
	}
}

/* Issue 15 item 5: the work completed, and Cancel was accepted before its
 * report reached the tracker. The cancel wins: cancelled, the file goes
 * (even with persistence), never `completed` after a successful Cancel. */
static void
test_cancel_wins_over_complete(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options;
	CgGeneration *generation;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = make_temp_file(f);

	cg_generation_options_init(&options);
	options.enable_persistence = TRUE;
	generation = cg_tracker_add(f->tracker, "tx-1", 1000, NULL, &options);
	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 100, 3, 3, NULL);
	g_assert_true(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_no_error(error);
	complete_with_file(f, generation, path);

	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_CANCELLED);
	g_assert_null(cg_generation_get_result(generation));
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(f->updates->len, ==, 2);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "cancelled");
	g_assert_false(g_variant_lookup(update_at(f, -1), "result", "@a{sv}", NULL));
	g_assert_false(cg_tracker_cancel(f->tracker, generation, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_ALREADY_FINISHED);
}

/* The same race with the timeout: timed_out, no file. */
static void
test_timeout_wins_over_complete(Fixture *f, gconstpointer data)
{
	CgGeneration *generation = add_generation(f, 500, 1000);
	g_autofree char *path = make_temp_file(f);

	cg_tracker_report(f->tracker, generation, CG_STAGE_FILE_PREPARATION, 100, 3, 3, NULL);
	advance_ms(f, 1000);
	cg_tracker_process_timers(f->tracker);
	complete_with_file(f, generation, path);
	g_assert_cmpint(cg_generation_get_status(generation), ==, CG_STATUS_TIMED_OUT);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "timed_out");
}

/* Issue 15 item 4: an error after a cancel or the timeout (a stage cut
 * short, or one that failed anyway) ends as the cause, not failed. */
static void
test_fail_after_cancel(Fixture *f, gconstpointer data)
{
	CgGeneration *cancelled = add_generation(f, 500, 0);
	CgGeneration *timed_out = add_generation(f, 500, 1000);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) failure =
	    g_error_new_literal(CG_ERROR, CG_ERROR_INVALID_DATA, "recipientName: required");

	g_assert_true(cg_tracker_cancel(f->tracker, cancelled, &error));
	cg_tracker_fail(f->tracker, cancelled, failure);
	g_assert_cmpint(cg_generation_get_status(cancelled), ==, CG_STATUS_CANCELLED);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "cancelled");
	g_assert_false(g_variant_lookup(update_at(f, -1), "error", "&s", NULL));

	advance_ms(f, 1000);
	cg_tracker_process_timers(f->tracker);
	cg_tracker_fail(f->tracker, timed_out, failure);
	g_assert_cmpint(cg_generation_get_status(timed_out), ==, CG_STATUS_TIMED_OUT);
	g_assert_cmpstr(get_s(update_at(f, -1), "status"), ==, "timed_out");
}

/* expires_at_us: while running, the max_age_s limit; once finished, the
 * earlier of that and finish + finished_ttl_s; 0 for a persistent one. */
static void
test_expires_at(Fixture *f, gconstpointer data)
{
	CgGenerationOptions options, persistent;
	CgGeneration *a, *p;
	g_autoptr(GVariant) running = NULL;
	g_autoptr(GVariant) finished = NULL;
	g_autoptr(GVariant) kept = NULL;
	CgResult result = {.certificate_number = (char *)"CERT1", .file_size = 1, .pages = 1};

	cg_generation_options_init(&options);
	persistent = options;
	persistent.enable_persistence = TRUE;
	a = cg_tracker_add(f->tracker, "tx-a", 1000, NULL, &options);
	p = cg_tracker_add(f->tracker, "tx-p", 1000, NULL, &persistent);
	running = g_variant_ref_sink(cg_generation_snapshot(a));
	g_assert_cmpint(get_x(running, "expires_at_us"), ==,
			get_x(running, "started_at_us") + 1800 * G_USEC_PER_SEC);
	g_assert_false(get_b(running, "persistent"));
	advance_ms(f, 2000);
	cg_tracker_complete(f->tracker, a, &result);
	finished = g_variant_ref_sink(cg_generation_snapshot(a));
	g_assert_cmpint(get_x(finished, "expires_at_us"), ==,
			get_x(finished, "started_at_us") + (2 + 60) * G_USEC_PER_SEC);
	cg_tracker_complete(f->tracker, p, &result);
	kept = g_variant_ref_sink(cg_generation_snapshot(p));
	g_assert_cmpint(get_x(kept, "expires_at_us"), ==, 0);
	g_assert_true(get_b(kept, "persistent"));
}

static const CgTestCase cases[] = {
    {"/tracker/options-defaults", test_options_defaults},
    {"/tracker/result-copy", test_result_copy},
    CG_TEST_FIXTURE_CASE("/tracker/add", test_add),
    CG_TEST_FIXTURE_CASE("/tracker/sequence", test_sequence),
    CG_TEST_FIXTURE_CASE("/tracker/stage-order", test_stage_order),
    CG_TEST_FIXTURE_CASE("/tracker/progress-monotonic", test_progress_monotonic),
    CG_TEST_FIXTURE_CASE("/tracker/coalesce", test_coalesce),
    CG_TEST_FIXTURE_CASE("/tracker/stage-change-immediate", test_stage_change_immediate),
    CG_TEST_FIXTURE_CASE("/tracker/terminal-last", test_terminal_last),
    CG_TEST_FIXTURE_CASE("/tracker/failed-errors", test_failed_errors),
    CG_TEST_FIXTURE_CASE("/tracker/fail-error-names", test_fail_error_names),
    CG_TEST_FIXTURE_CASE("/tracker/complete", test_complete),
    CG_TEST_FIXTURE_CASE("/tracker/complete-validate-only", test_complete_validate_only),
    CG_TEST_FIXTURE_CASE("/tracker/timeout", test_timeout),
    CG_TEST_FIXTURE_CASE("/tracker/timeout-lazy-cancellable", test_timeout_lazy_cancellable),
    CG_TEST_FIXTURE_CASE("/tracker/cancel", test_cancel),
    CG_TEST_FIXTURE_CASE("/tracker/cancel-disabled", test_cancel_disabled),
    CG_TEST_FIXTURE_CASE("/tracker/cancel-lazy-cancellable", test_cancel_lazy_cancellable),
    CG_TEST_FIXTURE_CASE("/tracker/analytics", test_analytics),
    CG_TEST_FIXTURE_CASE("/tracker/expected-end", test_expected_end),
    CG_TEST_FIXTURE_CASE("/tracker/expected-end-history", test_expected_end_history),
    CG_TEST_FIXTURE_CASE("/tracker/expected-end-history-off", test_expected_end_history_off),
    CG_TEST_FIXTURE_CASE("/tracker/expected-end-no-history", test_expected_end_no_history),
    CG_TEST_FIXTURE_CASE("/tracker/cleanup-ttl", test_cleanup_ttl),
    CG_TEST_FIXTURE_CASE("/tracker/cleanup-max-age", test_cleanup_max_age),
    CG_TEST_FIXTURE_CASE("/tracker/cleanup-explicit", test_cleanup_explicit),
    CG_TEST_FIXTURE_CASE("/tracker/cleanup-persistent", test_cleanup_persistent),
    CG_TEST_FIXTURE_CASE("/tracker/restore", test_restore),
    CG_TEST_FIXTURE_CASE("/tracker/restore-invalid", test_restore_invalid),
    CG_TEST_FIXTURE_CASE("/tracker/cleanup-rate-limit", test_cleanup_rate_limit),
    CG_TEST_FIXTURE_CASE("/tracker/snapshot-keys", test_snapshot_keys),
    CG_TEST_FIXTURE_CASE("/tracker/expires-at", test_expires_at),
    CG_TEST_FIXTURE_CASE("/tracker/free-deletes-files", test_free_deletes_files),
    CG_TEST_FIXTURE_CASE("/tracker/active-set", test_active_set),
    CG_TEST_FIXTURE_CASE("/tracker/default-clock-timer", test_default_clock_timer),
    CG_TEST_FIXTURE_CASE("/tracker/cancel-wins-over-complete", test_cancel_wins_over_complete),
    CG_TEST_FIXTURE_CASE("/tracker/timeout-wins-over-complete", test_timeout_wins_over_complete),
    CG_TEST_FIXTURE_CASE("/tracker/fail-after-cancel", test_fail_after_cancel),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_setup, fixture_teardown)

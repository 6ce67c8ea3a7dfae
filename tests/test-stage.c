/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of cg-stage: the seven stage names and their order, the statuses,
 * and the overall progress derived from the stage weights. */
#include "cg-stage.h"
#include "cg-test-util.h"

static const char *const expected_names[] = {
    "initializing",	"template_loading", "data_validation", "pdf_generation",
    "file_preparation", "download_ready",   "completed",
};

/* The name of a stage_index, and the index of a name: what a client does
 * with "stage" and "stage_index". */
static int
stage_index_of(const char *name)
{
	for (int i = 0; i < CG_N_STAGES; i++) {
		if (g_str_equal(cg_stage_to_string((CgStage)i), name))
			return i;
	}
	return -1;
}

static void
test_names(void)
{
	g_assert_cmpint(CG_N_STAGES, ==, G_N_ELEMENTS(expected_names));
	for (int i = 0; i < CG_N_STAGES; i++) {
		g_assert_cmpstr(cg_stage_to_string((CgStage)i), ==, expected_names[i]);
		/* unique, so the round trip finds the same index */
		g_assert_cmpint(stage_index_of(expected_names[i]), ==, i);
	}
	g_assert_cmpint(stage_index_of("pdf-generation"), ==, -1);
}

static void
test_name_out_of_range(void)
{
	if (g_test_subprocess()) {
		/* a critical (fatal in tests); "unknown" were it not */
		g_assert_cmpstr(cg_stage_to_string(CG_N_STAGES), ==, "unknown");
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*CRITICAL*stage < CG_N_STAGES*");
}

static void
test_statuses(void)
{
	g_assert_cmpstr(cg_status_to_string(CG_STATUS_IN_PROGRESS), ==, "in_progress");
	g_assert_cmpstr(cg_status_to_string(CG_STATUS_COMPLETED), ==, "completed");
	g_assert_cmpstr(cg_status_to_string(CG_STATUS_FAILED), ==, "failed");
	g_assert_cmpstr(cg_status_to_string(CG_STATUS_CANCELLED), ==, "cancelled");
	g_assert_cmpstr(cg_status_to_string(CG_STATUS_TIMED_OUT), ==, "timed_out");
	g_assert_cmpstr(cg_status_to_string((CgStatus)42), ==, "unknown");

	g_assert_false(cg_status_is_terminal(CG_STATUS_IN_PROGRESS));
	g_assert_true(cg_status_is_terminal(CG_STATUS_COMPLETED));
	g_assert_true(cg_status_is_terminal(CG_STATUS_FAILED));
	g_assert_true(cg_status_is_terminal(CG_STATUS_CANCELLED));
	g_assert_true(cg_status_is_terminal(CG_STATUS_TIMED_OUT));
}

/* Each stage's weight is the progress it adds from 0 to 100 percent; the
 * weights of the stages before completed add up to 100, and each stage
 * starts where the one before it ends. */
static void
test_weights_sum(void)
{
	double sum = 0;

	g_assert_cmpfloat(cg_stage_overall_progress(CG_STAGE_INITIALIZING, 0), ==, 0.0);
	for (int i = 0; i < CG_STAGE_COMPLETED; i++) {
		double start = cg_stage_overall_progress((CgStage)i, 0);
		double end = cg_stage_overall_progress((CgStage)i, 100);

		g_assert_cmpfloat(start, ==, sum);
		g_assert_cmpfloat(end, >=, start);
		sum += end - start;
		if (i + 1 < CG_N_STAGES)
			g_assert_cmpfloat(cg_stage_overall_progress((CgStage)(i + 1), 0), ==, end);
	}
	g_assert_cmpfloat_with_epsilon(sum, 100.0, 1e-9);
	g_assert_cmpfloat(cg_stage_overall_progress(CG_STAGE_COMPLETED, 0), ==, 100.0);
	g_assert_cmpfloat(cg_stage_overall_progress(CG_STAGE_COMPLETED, 100), ==, 100.0);
}

/* Where each stage starts: README.md's certgenctl session shows 0, 2, 7, 15
 * and 85 percent for the first five; rendering is most of the bar. */
static void
test_stage_starts(void)
{
	const double starts[] = {0.0, 2.0, 7.0, 15.0, 85.0, 98.0, 100.0};

	for (int i = 0; i < CG_N_STAGES; i++)
		g_assert_cmpfloat_with_epsilon(cg_stage_overall_progress((CgStage)i, 0), starts[i],
					       1e-9);
	/* half of the rendering is half of its 70 percent */
	g_assert_cmpfloat_with_epsilon(cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 50), 50.0,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(cg_stage_overall_progress(CG_STAGE_DOWNLOAD_READY, 100),
				       100.0, 1e-9);
}

/* Walking the stages in order, percent by percent, never goes down; stage
 * progress above 100 counts as 100; the values stay within 0–100. */
static void
test_monotonic(void)
{
	double last = -1;

	for (int i = 0; i < CG_N_STAGES; i++) {
		for (guint p = 0; p <= 100; p++) {
			double now = cg_stage_overall_progress((CgStage)i, p);

			g_assert_cmpfloat(now, >=, last);
			g_assert_cmpfloat(now, >=, 0.0);
			g_assert_cmpfloat(now, <=, 100.0);
			last = now;
		}
		g_assert_cmpfloat(cg_stage_overall_progress((CgStage)i, 101), ==,
				  cg_stage_overall_progress((CgStage)i, 100));
		g_assert_cmpfloat(cg_stage_overall_progress((CgStage)i, G_MAXUINT), ==,
				  cg_stage_overall_progress((CgStage)i, 100));
	}
	/* a stage with weight moves within itself */
	g_assert_cmpfloat(cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 1), >,
			  cg_stage_overall_progress(CG_STAGE_PDF_GENERATION, 0));
}

static const CgTestCase cases[] = {
    {"/stage/names", test_names},
    {"/stage/name-out-of-range", test_name_out_of_range},
    {"/stage/statuses", test_statuses},
    {"/stage/weights-sum", test_weights_sum},
    {"/stage/stage-starts", test_stage_starts},
    {"/stage/monotonic", test_monotonic},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Heap bytes per tracked generation at 100,000 generations, measured with
 * glibc's mallinfo2() (bytes in use in the main arena plus mmapped blocks),
 * so malloc's own chunk overhead, the hash table and the tracker's arrays
 * are all counted.
 *
 *   meson compile -C build && build/tests/bench/bench-tracker-memory
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "cg-tracker.h"

#define N_GENERATIONS 100000
#define N_WARM_UP 2000
#define TARGET_BYTES 256.0

typedef enum {
	SCENARIO_ACTIVE,
	SCENARIO_ACTIVE_OWN_MESSAGE,
	SCENARIO_FINISHED,
} Scenario;

static const char *const scenario_names[] = {
    "running, one report (stage's own message)",
    "running, one report (message of its own)",
    "completed, holding a result",
};

static gsize
heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return info.uordblks + info.hblkhd;
}

static void
count_emit(CgTracker *tracker, CgGeneration *generation, GVariant *update, gpointer user_data)
{
	guint64 *emitted = user_data;

	(*emitted)++;
}

static void
add_generation(CgTracker *tracker, Scenario scenario, guint i)
{
	CgGenerationOptions options;
	CgGeneration *generation;
	char transaction_id[32];
	char number[32];
	g_autofree char *path = NULL;
	CgResult result = {0};

	cg_generation_options_init(&options);
	/* Persistent, so freeing the tracker tries to delete no files. */
	options.enable_persistence = scenario == SCENARIO_FINISHED;
	g_snprintf(transaction_id, sizeof(transaction_id), "tx-%06u", i);
	generation = cg_tracker_add(tracker, transaction_id, 1000 + i % 100, NULL, &options);

	switch (scenario) {
	case SCENARIO_ACTIVE:
		cg_tracker_report(tracker, generation, CG_STAGE_TEMPLATE_LOADING, 50, 0, 0,
				  "Loading template");
		break;
	case SCENARIO_ACTIVE_OWN_MESSAGE:
		cg_tracker_report(tracker, generation, CG_STAGE_TEMPLATE_LOADING, 50, 0, 0,
				  "Loading template classic");
		break;
	case SCENARIO_FINISHED:
		cg_tracker_report(tracker, generation, CG_STAGE_PDF_GENERATION, 50, 0, 1, NULL);
		/* As the pipeline makes them: CERT + year + 6 digits, the
		 * file named after the progress id in the state directory. */
		g_snprintf(number, sizeof(number), "CERT2024%06u", i);
		path = g_strdup_printf("/var/lib/certgen/%s.pdf", cg_generation_get_id(generation));
		result.certificate_number = number;
		result.last_certificate_number = number;
		result.file_size = 48213;
		result.checksum =
		    (char *)"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
		result.pages = 1;
		result.path = path;
		cg_tracker_complete(tracker, generation, &result);
		break;
	}
}

static double
measure(Scenario scenario, gboolean *leaked)
{
	g_autoptr(CgTracker) tracker = NULL;
	guint64 emitted = 0;
	gsize before;
	gsize after;
	gsize freed;

	before = heap_in_use();
	tracker = cg_tracker_new(NULL, count_emit, NULL, &emitted);
	for (guint i = 0; i < N_GENERATIONS; i++)
		add_generation(tracker, scenario, i);
	after = heap_in_use();
	g_assert_cmpuint(cg_tracker_count(tracker), ==, N_GENERATIONS);
	g_assert_cmpuint(emitted, >=, N_GENERATIONS);

	g_clear_pointer(&tracker, cg_tracker_free);
	freed = heap_in_use();
	/* Everything must come back (a few bytes of GLib caches aside). */
	*leaked = freed > before + 4096;
	if (*leaked)
		printf("  (%" G_GSIZE_FORMAT " bytes not returned)\n", freed - before);
	return (double)(after - before) / N_GENERATIONS;
}

int
main(int argc, char **argv)
{
	double per_generation[G_N_ELEMENTS(scenario_names)];
	gboolean leaked = FALSE;
	guint64 warm_emitted = 0;
	int status = EXIT_SUCCESS;

	/* GSlice (GLib < 2.76) keeps freed blocks in per-thread magazines;
	 * plain malloc makes the before/after numbers exact. */
	g_setenv("G_SLICE", "always-malloc", TRUE);

	/* Warm GLib's one-time caches (GVariant types, the main context, the
	 * random source) so that they are not counted. */
	for (Scenario scenario = 0; scenario < G_N_ELEMENTS(scenario_names); scenario++) {
		g_autoptr(CgTracker) warm = cg_tracker_new(NULL, count_emit, NULL, &warm_emitted);

		for (guint i = 0; i < N_WARM_UP; i++)
			add_generation(warm, scenario, i);
	}

	printf("certgen tracker memory: %u generations, heap measured with mallinfo2()\n",
	       N_GENERATIONS);
	printf("record struct: sizeof(CgGeneration) = %" G_GSIZE_FORMAT
	       " bytes (+ transaction id and owner label inline, + malloc overhead)\n",
	       cg_tracker_get_record_size());
	for (Scenario scenario = 0; scenario < G_N_ELEMENTS(scenario_names); scenario++) {
		gboolean scenario_leaked = FALSE;

		per_generation[scenario] = measure(scenario, &scenario_leaked);
		printf("  %-44s %7.1f bytes/generation%s\n", scenario_names[scenario],
		       per_generation[scenario], scenario_leaked ? "  (memory not returned!)" : "");
		leaked |= scenario_leaked;
	}
	printf("target: <= %.0f bytes/generation for a running generation (hash table "
	       "included): %s\n",
	       TARGET_BYTES, per_generation[SCENARIO_ACTIVE] <= TARGET_BYTES ? "met" : "MISSED");
	printf("reproduce: meson compile -C build && build/tests/bench/bench-tracker-memory\n");
	if (per_generation[SCENARIO_ACTIVE] > TARGET_BYTES || leaked)
		status = EXIT_FAILURE;
	return status;
}

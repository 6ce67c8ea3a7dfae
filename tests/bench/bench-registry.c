/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Registry write cost per page (issue 14): for a 1,000-page batch, what
 * file_preparation adds for the registry — the numbers' reservation
 * (one committed transaction), 1,000 verification codes (getrandom) and
 * their hashes, and the 1,000 rows inserted in one transaction (WAL,
 * synchronous=FULL: the commit's fsync included). The rows carry printed
 * fields and hashes of realistic size. Runs in a scratch directory under
 * $TMPDIR (the file system matters: the commit waits for its fsync).
 *
 *   build/tests/bench/bench-registry [--pages N] [--runs R]
 */
#include <glib/gstdio.h>
#include <stdio.h>

#include "cg-bench-clock.h"
#include "cg-issue.h"
#include "cg-registry.h"
#include "cg-render.h"
#include "cg-verification.h"

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
remove_dir(const char *dir)
{
	g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
	const char *name;

	while (listing != NULL && (name = g_dir_read_name(listing)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	gint pages = 1000, runs = 7;
	GOptionEntry entries[] = {
	    {"pages", 0, 0, G_OPTION_ARG_INT, &pages, "pages per batch (1000)", "N"},
	    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "batches (7)", "R"},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) octx = g_option_context_new("- registry write cost");
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	g_autoptr(CgRegistry) registry = NULL;
	g_autofree double *samples = NULL;
	gint64 now = g_get_real_time();

	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &error) || pages < 1 || runs < 1) {
		g_printerr("%s\n", error != NULL ? error->message : "bad --pages or --runs");
		return 2;
	}
	dir = g_dir_make_tmp("cg-bench-registry-XXXXXX", &error);
	if (dir == NULL || (registry = cg_registry_open(dir, &error)) == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	samples = g_new0(double, runs);
	for (gint r = 0; r < runs; r++) {
		g_autofree CgRegistryPage *rows = g_new0(CgRegistryPage, pages);
		g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(CgIssue) issue = NULL;
		g_autofree char *progress_id = g_strdup_printf("%032x", r);
		CgRegistryIssue shared = {progress_id,
					  1000,
					  NULL,
					  "classic",
					  now,
					  "6f1ed002ab5595859014ebf0951522d9"
					  "1d36a5a0f0f5f6ac5b3f9f9d0c0f0e0d"};
		guint64 first = 0;
		double start = cg_bench_monotonic_s();

		if (!cg_registry_reserve(registry, (guint)pages, &first, &error) ||
		    (issue = cg_issue_new((guint)pages, &error)) == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		for (gint i = 0; i < pages; i++) {
			char *number = cg_render_certificate_number(now, first + (guint)i);
			char *fields = g_strdup_printf(
			    "{\"courseName\":\"Advanced Certificate Generation\","
			    "\"issueDate\":\"2026-12-02\",\"issuerName\":\"certgen Academy\","
			    "\"recipientName\":\"Recipient Number %d\"}",
			    i);
			char *data_sha =
			    g_compute_checksum_for_string(G_CHECKSUM_SHA256, fields, -1);
			char *code_sha = cg_verification_code_hash(cg_issue_get_codes(issue)[i]);

			g_ptr_array_add(strings, number);
			g_ptr_array_add(strings, fields);
			g_ptr_array_add(strings, data_sha);
			g_ptr_array_add(strings, code_sha);
			rows[i] =
			    (CgRegistryPage){number, first + (guint)i, fields, data_sha, code_sha};
		}
		if (!cg_registry_insert(registry, &shared, rows, (guint)pages, &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		samples[r] = cg_bench_monotonic_s() - start;
	}
	qsort(samples, (gsize)runs, sizeof(double), compare_double);
	printf("registry: %d batches of %d pages in %s: median %.3f ms per batch = %.2f us per "
	       "page (min %.2f, max %.2f us per page)\n",
	       runs, pages, dir, samples[runs / 2] * 1e3, samples[runs / 2] * 1e6 / pages,
	       samples[0] * 1e6 / pages, samples[runs - 1] * 1e6 / pages);
	printf("command: build/tests/bench/bench-registry --pages %d --runs %d\n", pages, runs);
	g_clear_pointer(&registry, cg_registry_free);
	remove_dir(dir);
	return 0;
}

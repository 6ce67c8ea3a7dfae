/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a joined PDF batch costs after its pages are rendered (issue 12):
 * the ranges of a batch of --pages pages (cg-pdf-batch.h's cut) rendered
 * once on this thread, then, --runs times, each step of the tail on its
 * own: the qpdf join (cg_pdf_join() into memory), the written file's
 * SHA-256 over the bytes, and the poppler check (cg_output_verify_pdf()'s
 * open + page count, through cg_output_commit()) of the joined file.
 * Prints wall and CPU seconds per step (median of the runs); CPU time is
 * what the step itself cost on a shared machine.
 *
 *   build/tests/bench/bench-pdf-tail [--pages N] [--runs R] [--parts-dir DIR]
 *       [--out FILE]
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "cg-bench-clock.h"
#include "cg-data.h"
#include "cg-output.h"
#include "cg-pdf-batch.h"
#include "cg-pdf-join.h"
#include "cg-render.h"
#include "cg-template.h"
#include "../cg-test-util.h"

/* 2026-11-28T10:00:00Z */
#define ISSUED_AT_US (G_GINT64_CONSTANT(1795860000) * G_USEC_PER_SEC)

typedef struct {
	double wall;
	double cpu;
} Sample;

static double
median(double *values, guint n)
{
	qsort(values, n, sizeof(double), cg_bench_compare_doubles);
	return values[n / 2];
}

static void
print_step(const char *what, Sample *samples, guint n, guint pages)
{
	g_autofree double *wall = g_new(double, n);
	g_autofree double *cpu = g_new(double, n);
	double w, c;

	for (guint i = 0; i < n; i++) {
		wall[i] = samples[i].wall;
		cpu[i] = samples[i].cpu;
	}
	w = median(wall, n);
	c = median(cpu, n);
	printf("  %-28s %7.1f ms wall %7.1f ms CPU (%.0f pages/s of CPU)\n", what, w * 1e3, c * 1e3,
	       c > 0 ? pages / c : 0.0);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) context = g_option_context_new("- a PDF batch's tail");
	gint pages = 1000, runs = 5;
	g_autofree char *parts_dir = NULL;
	g_autofree char *out_path = NULL;
	GOptionEntry entries[] = {
	    {"pages", 0, 0, G_OPTION_ARG_INT, &pages, "Pages of the batch", "N"},
	    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs of each step", "R"},
	    {"parts-dir", 0, 0, G_OPTION_ARG_FILENAME, &parts_dir,
	     "Also save the ranges' PDFs there (part-1.pdf, ...)", "DIR"},
	    {"out", 0, 0, G_OPTION_ARG_FILENAME, &out_path, "Also save the joined PDF there",
	     "FILE"},
	    {NULL}};
	g_autofree char *template_dir = NULL;
	const char *dirs[2] = {NULL, NULL};
	const char *root = g_getenv("CERTGEN_SOURCE_ROOT");
	CgTemplateStore *store;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = NULL;
	g_autofree char *json = NULL;
	g_autofree char *scratch = NULL;
	g_autofree Sample *join = NULL, *sha = NULL, *check = NULL;
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	CgRenderParams params = {.first_number = 1, .issued_at_us = ISSUED_AT_US};
	g_autoptr(GPtrArray) codes = NULL;
	guint range_pages;
	double t0, c0;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || pages < 2 || runs < 1) {
		g_printerr("bench-pdf-tail: %s\n", error != NULL ? error->message : "bad counts");
		return 2;
	}
	template_dir =
	    g_build_filename(root != NULL ? root : CG_BENCH_SOURCE_ROOT, "data", "templates", NULL);
	dirs[0] = template_dir;
	store = cg_template_store_new(dirs);
	tmpl = cg_template_store_load(store, "classic", NULL, &error);
	if (tmpl == NULL) {
		g_printerr("bench-pdf-tail: template: %s\n", error->message);
		return 1;
	}
	json = cg_test_batch_json((guint)pages);
	data = cg_data_parse(json, strlen(json), cg_template_get_rules(tmpl), 0, 0, NULL, &error);
	if (data == NULL) {
		g_printerr("bench-pdf-tail: data: %s\n", error->message);
		return 1;
	}

	/* as certgend renders: each page's QR code a link with its code */
	codes = g_ptr_array_new_with_free_func(g_free);
	for (gint i = 0; i < pages; i++)
		g_ptr_array_add(codes, g_strdup_printf("BENCHCODE%08d", i));
	g_ptr_array_add(codes, NULL);
	params.codes = (const char *const *)codes->pdata;
	params.base_url = "https://certificates.example.org/verify";
	range_pages = cg_pdf_batch_range_pages((guint)pages);
	t0 = cg_bench_monotonic_s();
	c0 = cg_bench_cpu_s();
	for (guint first = 0; first < (guint)pages; first += range_pages) {
		GByteArray *pdf = g_byte_array_new();

		if (!cg_render_pdf_pages(tmpl, data, first, MIN(range_pages, (guint)pages - first),
					 &params, cg_render_write_to_byte_array, pdf, NULL, NULL,
					 NULL, &error)) {
			g_printerr("bench-pdf-tail: render: %s\n", error->message);
			return 1;
		}
		if (parts_dir != NULL) {
			g_autofree char *name = g_strdup_printf("part-%u.pdf", parts->len + 1);
			g_autofree char *path = g_build_filename(parts_dir, name, NULL);

			if (!g_file_set_contents(path, (const char *)pdf->data, pdf->len, &error)) {
				g_printerr("bench-pdf-tail: %s\n", error->message);
				return 1;
			}
		}
		g_ptr_array_add(parts, g_byte_array_free_to_bytes(pdf));
	}
	printf("PDF batch of %d pages in %u ranges, median of %d runs\n", pages, parts->len, runs);
	printf("  %-28s %7.1f ms wall %7.1f ms CPU, once\n", "rendering the ranges",
	       (cg_bench_monotonic_s() - t0) * 1e3, (cg_bench_cpu_s() - c0) * 1e3);

	scratch = g_dir_make_tmp("bench-pdf-tail-XXXXXX", &error);
	if (scratch == NULL) {
		g_printerr("bench-pdf-tail: %s\n", error->message);
		return 1;
	}
	join = g_new0(Sample, runs);
	sha = g_new0(Sample, runs);
	check = g_new0(Sample, runs);
	for (gint run = 0; run < runs; run++) {
		g_autoptr(GByteArray) joined = g_byte_array_new();
		g_autoptr(CgOutput) output = NULL;
		g_autofree char *name = g_strdup_printf("run-%d.pdf", run);
		g_autofree char *hex = NULL;

		t0 = cg_bench_monotonic_s();
		c0 = cg_bench_cpu_s();
		if (!cg_pdf_join((GBytes *const *)parts->pdata, parts->len, "Bench",
				 cg_render_write_to_byte_array, joined, &error)) {
			g_printerr("bench-pdf-tail: join: %s\n", error->message);
			return 1;
		}
		join[run] = (Sample){cg_bench_monotonic_s() - t0, cg_bench_cpu_s() - c0};

		t0 = cg_bench_monotonic_s();
		c0 = cg_bench_cpu_s();
		hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, joined->data, joined->len);
		sha[run] = (Sample){cg_bench_monotonic_s() - t0, cg_bench_cpu_s() - c0};

		output = cg_output_new(scratch, name, &error);
		if (output == NULL ||
		    cg_output_write(output, joined->data, joined->len) != CAIRO_STATUS_SUCCESS) {
			g_printerr("bench-pdf-tail: write: %s\n",
				   error != NULL ? error->message : "failed");
			return 1;
		}
		/* the fsyncs are in it: the figure is the file system's too */
		t0 = cg_bench_monotonic_s();
		c0 = cg_bench_cpu_s();
		if (!cg_output_commit(output, (guint)pages, &error)) {
			g_printerr("bench-pdf-tail: check: %s\n", error->message);
			return 1;
		}
		check[run] = (Sample){cg_bench_monotonic_s() - t0, cg_bench_cpu_s() - c0};
		g_unlink(cg_output_get_path(output));
		if (run == 0)
			printf("  joined PDF %u bytes\n", joined->len);
		if (run == 0 && out_path != NULL &&
		    !g_file_set_contents(out_path, (const char *)joined->data, joined->len,
					 &error)) {
			g_printerr("bench-pdf-tail: %s\n", error->message);
			return 1;
		}
	}
	print_step("join (cg_pdf_join)", join, runs, pages);
	print_step("SHA-256 of the bytes", sha, runs, pages);
	print_step("fsync + poppler check", check, runs, pages);
	g_rmdir(scratch);
	cg_template_store_free(store);
	return 0;
}

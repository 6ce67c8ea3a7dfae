/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgen's renderer in-process, the reference side of the renderer
 * comparison (tests/bench/compare-renderers.py):
 *
 *  - single: one certificate per PDF, cg_render_pdf() writing to memory,
 *    p50/p99 over --single runs after --warmup runs (every run a different
 *    recipient and number, data parsed beforehand: the peers get their data
 *    as native objects too);
 *  - batch: one PDF of --batch pages (pages/s, median of --batch-runs);
 *  - 2 threads: two threads each rendering its own batch of --batch/2 pages
 *    at the same time (aggregate pages/s on 2 cores, median of --batch-runs;
 *    each thread renders a warm-up certificate first, as a worker thread of
 *    certgend has its background cache and font map by then).
 *
 * The recipients are the same as the peers' (names generated the same way
 * as in compare-renderers.py; the VERIFY line lets the harness check that
 * the QR string of the sample certificate is the same everywhere).
 *
 *   meson compile -C build && build/tests/bench/bench-render [--out FILE]
 *
 * --batch 0 renders the single certificates alone, for a profiler: the
 * instructions of one certificate, whatever the machine's load, are the
 * difference of two callgrind runs with different --single counts:
 *
 *   valgrind --tool=callgrind bench-render --single 50 --warmup 5 --batch 0
 *   valgrind --tool=callgrind bench-render --single 150 --warmup 5 --batch 0
 *   (Collected, second minus first) / 100
 *
 * Wall-clock times, with the process's CPU time beside them (on a shared
 * machine CPU time is what the work itself cost). Last line:
 * RESULT certgen single_p50_ms=... single_p99_ms=... single_cpu_p50_ms=...
 * batch_pages_per_s=... batch_cpu_pages_per_s=... batch_pages=...
 * mt2_pages_per_s=... mt2_cpu_pages_per_s=... mt2_pages=... single_bytes=...
 * batch_bytes=...
 */
#define _GNU_SOURCE /* memmem() */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cg-data.h"
#include "cg-render.h"
#include "cg-template.h"

#include "cg-bench-clock.h"

/* 2026-11-28T10:00:00Z, as in the tests and the peers */
#define ISSUED_AT_US (G_GINT64_CONSTANT(1795860000) * G_USEC_PER_SEC)
#define COURSE "Advanced Rust Programming"
#define ISSUE_DATE "2026-11-28"
#define ISSUER "Certgen Academy"
#define SAMPLE_NUMBER 1
#define BATCH_FIRST_NUMBER 100001

/* Same lists and formula as compare-renderers.py's recipient_name(). */
static const char *const first_names[] = {
    "Ada",    "José",	 "Zoë", "Grace", "Alan",    "Margaret", "Linus",  "Barbara",
    "Edsger", "Frances", "Ken", "Radia", "Niklaus", "Hedy",	"Donald", "Sophie",
};
static const char *const last_names[] = {
    "Lovelace", "Müller",   "Hopper",  "Turing", "Hamilton", "Torvalds", "Liskov",  "Dijkstra",
    "Allen",	"Thompson", "Perlman", "Wirth",	 "Lamarr",   "Knuth",	 "O'Brien", "Wilson",
};

static char *
recipient_name(guint i)
{
	return g_strdup_printf("%s %s", first_names[i % 16], last_names[(i / 16 + i * 7) % 16]);
}

static void
add_recipient(JsonBuilder *b, guint i)
{
	g_autofree char *name = recipient_name(i);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "recipientName");
	json_builder_add_string_value(b, name);
	json_builder_set_member_name(b, "courseName");
	json_builder_add_string_value(b, COURSE);
	json_builder_set_member_name(b, "issueDate");
	json_builder_add_string_value(b, ISSUE_DATE);
	json_builder_set_member_name(b, "issuer");
	json_builder_add_string_value(b, ISSUER);
	json_builder_end_object(b);
}

static char *
builder_to_json(JsonBuilder *b)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);

	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

/* Recipient @i alone. */
static char *
one_json(guint i)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	add_recipient(b, i);
	return builder_to_json(b);
}

/* Recipients @first .. @first + @n - 1 as a batch. */
static char *
batch_json(guint first, guint n)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "recipients");
	json_builder_begin_array(b);
	for (guint i = 0; i < n; i++)
		add_recipient(b, first + i);
	json_builder_end_array(b);
	json_builder_end_object(b);
	return builder_to_json(b);
}

static CgData *
parse(CgTemplate *tmpl, const char *json)
{
	g_autoptr(GError) error = NULL;
	CgData *data =
	    cg_data_parse(json, strlen(json), cg_template_get_rules(tmpl), 0, 0, NULL, &error);

	if (data == NULL) {
		g_printerr("bench-render: data: %s\n", error->message);
		exit(1);
	}
	return data;
}

static cairo_status_t
append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
	g_byte_array_append(closure, data, length);
	return CAIRO_STATUS_SUCCESS;
}

/* Renders @data into @out (emptied first). */
static void
render(CgTemplate *tmpl, const CgData *data, guint64 first_number, GByteArray *out)
{
	g_autoptr(GError) error = NULL;
	CgRenderParams params = {first_number, ISSUED_AT_US};

	g_byte_array_set_size(out, 0);
	if (!cg_render_pdf(tmpl, data, &params, append_bytes, out, NULL, NULL, NULL, &error)) {
		g_printerr("bench-render: render: %s\n", error->message);
		exit(1);
	}
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double
percentile(const double *v, guint n, double p)
{
	guint rank = (guint)(p / 100.0 * n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

typedef struct {
	CgTemplate *tmpl;
	CgData *warm;
	CgData *data;
	guint64 first_number;
	GMutex *lock;
	GCond *cond;
	guint *ready;
	gboolean *go;
	double seconds;
	gsize bytes;
} Worker;

static gpointer
worker_run(gpointer user_data)
{
	Worker *w = user_data;
	g_autoptr(GByteArray) out = g_byte_array_sized_new(1 << 20);
	double t0;

	/* this thread's pango font map and background cache */
	render(w->tmpl, w->warm, 1, out);
	render(w->tmpl, w->warm, 1, out);

	g_mutex_lock(w->lock);
	(*w->ready)++;
	g_cond_broadcast(w->cond);
	while (!*w->go)
		g_cond_wait(w->cond, w->lock);
	g_mutex_unlock(w->lock);

	t0 = cg_bench_monotonic_s();
	render(w->tmpl, w->data, w->first_number, out);
	w->seconds = cg_bench_monotonic_s() - t0;
	w->bytes = out->len;
	return NULL;
}

int
main(int argc, char **argv)
{
	g_autofree char *template_dir = NULL;
	g_autofree char *out_path = NULL;
	g_autofree char *batch_out_path = NULL;
	int n_single = 300, n_warmup = 30, n_batch = 1000, batch_runs = 3;
	GOptionEntry entries[] = {
	    {"template-dir", 0, 0, G_OPTION_ARG_FILENAME, &template_dir,
	     "Template directory (default: the source tree's data/templates)", "DIR"},
	    {"single", 0, 0, G_OPTION_ARG_INT, &n_single, "Single-certificate runs (300)", "N"},
	    {"warmup", 0, 0, G_OPTION_ARG_INT, &n_warmup, "Warm-up runs (30)", "N"},
	    {"batch", 0, 0, G_OPTION_ARG_INT, &n_batch,
	     "Pages in the batch (1000; 0: single certificates only)", "N"},
	    {"batch-runs", 0, 0, G_OPTION_ARG_INT, &batch_runs, "Batch runs, median (3)", "N"},
	    {"out", 0, 0, G_OPTION_ARG_FILENAME, &out_path, "Save the sample certificate", "FILE"},
	    {"batch-out", 0, 0, G_OPTION_ARG_FILENAME, &batch_out_path, "Save the batch PDF",
	     "FILE"},
	    {NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) octx = g_option_context_new("- certgen renderer benchmark");
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplateStore) store = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(GByteArray) out = g_byte_array_sized_new(1 << 20);
	g_autoptr(GPtrArray) singles = g_ptr_array_new_with_free_func((GDestroyNotify)cg_data_free);
	g_autofree double *times = NULL;
	g_autofree double *cpu = NULL;
	g_autofree double *batch_rates = NULL;
	g_autofree double *batch_cpu_rates = NULL;
	const char *dirs[2] = {NULL, NULL};
	double p50, p99, cpu50, batch_rate, batch_cpu_rate, mt2_rate, mt2_cpu_rate, t0, c0, wall;
	gsize single_bytes, batch_bytes = 0;
	int own = 0;
	guint half;

	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &error)) {
		g_printerr("bench-render: %s\n", error->message);
		return 2;
	}
	if (n_single < 1 || (n_batch < 2 && n_batch != 0) || batch_runs < 1 || n_warmup < 0) {
		g_printerr("bench-render: bad counts\n");
		return 2;
	}
	if (template_dir == NULL) {
		const char *root = g_getenv("CERTGEN_SOURCE_ROOT");

		template_dir = g_build_filename(root != NULL ? root : CG_BENCH_SOURCE_ROOT, "data",
						"templates", NULL);
	}
	dirs[0] = template_dir;
	store = cg_template_store_new(dirs);
	tmpl = cg_template_store_load(store, "classic", NULL, &error);
	if (tmpl == NULL) {
		g_printerr("bench-render: template: %s\n", error->message);
		return 1;
	}

	/* Sample certificate: recipient 0, number SAMPLE_NUMBER. */
	{
		g_autofree char *json = one_json(0);
		g_autoptr(CgData) data = parse(tmpl, json);
		g_autofree char *number = cg_render_certificate_number(ISSUED_AT_US, SAMPLE_NUMBER);
		g_autofree char *verification =
		    cg_recipient_verification(cg_data_get_recipient(data, 0), number);

		render(tmpl, data, SAMPLE_NUMBER, out);
		printf("VERIFY %s\n", verification);
		if (out_path != NULL &&
		    !g_file_set_contents(out_path, (const char *)out->data, out->len, &error)) {
			g_printerr("bench-render: %s\n", error->message);
			return 1;
		}
	}

	/* Single certificates: each a different recipient and number. */
	for (int i = 0; i < n_warmup + n_single; i++) {
		g_autofree char *json = one_json((guint)i);

		g_ptr_array_add(singles, parse(tmpl, json));
	}
	for (int i = 0; i < n_warmup; i++)
		render(tmpl, g_ptr_array_index(singles, i), (guint64)i + 1, out);
	times = g_new(double, n_single);
	cpu = g_new(double, n_single);
	for (int i = 0; i < n_single; i++) {
		const CgData *data = g_ptr_array_index(singles, n_warmup + i);

		c0 = cg_bench_cpu_s();
		t0 = cg_bench_monotonic_s();
		render(tmpl, data, (guint64)(n_warmup + i) + 1, out);
		times[i] = (cg_bench_monotonic_s() - t0) * 1000.0;
		cpu[i] = (cg_bench_cpu_s() - c0) * 1000.0;
		/* certgen's own writer names itself; cairo's PDFs name cairo */
		own += memmem(out->data, out->len, "/Producer (certgen)", 19) != NULL;
	}
	single_bytes = out->len;
	qsort(times, n_single, sizeof(double), compare_double);
	qsort(cpu, n_single, sizeof(double), compare_double);
	p50 = percentile(times, n_single, 50);
	p99 = percentile(times, n_single, 99);
	cpu50 = percentile(cpu, n_single, 50);
	printf("single: %d runs, p50 %.3f ms, p99 %.3f ms, min %.3f ms, max %.3f ms, "
	       "CPU p50 %.3f ms, %zu bytes\n",
	       n_single, p50, p99, times[0], times[n_single - 1], cpu50, single_bytes);
	printf("single: %d of %d written by certgen's own PDF writer, the rest by cairo\n", own,
	       n_single);

	/* Single certificates only: what a profiler (callgrind) should see. */
	if (n_batch == 0) {
		printf(
		    "RESULT certgen single_p50_ms=%.3f single_p99_ms=%.3f single_cpu_p50_ms=%.3f "
		    "single_bytes=%zu\n",
		    p50, p99, cpu50, single_bytes);
		return 0;
	}

	/* One batch of n_batch pages, median of batch_runs. */
	{
		g_autofree char *json = batch_json(0, (guint)n_batch);
		g_autoptr(CgData) data = parse(tmpl, json);

		batch_rates = g_new(double, batch_runs);
		batch_cpu_rates = g_new(double, batch_runs);
		for (int r = 0; r < batch_runs; r++) {
			double cpu_used;

			c0 = cg_bench_cpu_s();
			t0 = cg_bench_monotonic_s();
			render(tmpl, data, BATCH_FIRST_NUMBER, out);
			wall = cg_bench_monotonic_s() - t0;
			cpu_used = cg_bench_cpu_s() - c0;
			batch_rates[r] = n_batch / wall;
			batch_cpu_rates[r] = n_batch / cpu_used;
			batch_bytes = out->len;
			printf("batch: %d pages in %.3f s = %.0f pages/s (CPU %.3f s), %zu bytes\n",
			       n_batch, wall, batch_rates[r], cpu_used, batch_bytes);
		}
		if (batch_out_path != NULL &&
		    !g_file_set_contents(batch_out_path, (const char *)out->data, out->len,
					 &error)) {
			g_printerr("bench-render: %s\n", error->message);
			return 1;
		}
		qsort(batch_rates, batch_runs, sizeof(double), compare_double);
		qsort(batch_cpu_rates, batch_runs, sizeof(double), compare_double);
		batch_rate = batch_rates[batch_runs / 2];
		batch_cpu_rate = batch_cpu_rates[batch_runs / 2];
	}

	/* Two threads, each its own batch of n_batch / 2 pages, at once;
	 * median of batch_runs. */
	half = (guint)n_batch / 2;
	{
		g_autofree char *warm_json = one_json(0);
		g_autofree double *rates = g_new(double, batch_runs);
		g_autofree double *cpu_rates = g_new(double, batch_runs);
		CgData *warm[2], *batches[2];

		for (guint k = 0; k < 2; k++) {
			g_autofree char *json = batch_json(k * half, half);

			warm[k] = parse(tmpl, warm_json);
			batches[k] = parse(tmpl, json);
		}
		for (int r = 0; r < batch_runs; r++) {
			GMutex lock;
			GCond cond;
			guint ready = 0;
			gboolean go = FALSE;
			Worker w[2];
			GThread *threads[2];

			g_mutex_init(&lock);
			g_cond_init(&cond);
			for (guint k = 0; k < 2; k++) {
				w[k] = (Worker){tmpl,	    warm[k],
						batches[k], BATCH_FIRST_NUMBER + (guint64)k * half,
						&lock,	    &cond,
						&ready,	    &go,
						0,	    0};
				threads[k] = g_thread_new("bench-render", worker_run, &w[k]);
			}
			g_mutex_lock(&lock);
			while (ready < 2)
				g_cond_wait(&cond, &lock);
			go = TRUE;
			c0 = cg_bench_cpu_s();
			t0 = cg_bench_monotonic_s();
			g_cond_broadcast(&cond);
			g_mutex_unlock(&lock);
			for (guint k = 0; k < 2; k++)
				g_thread_join(threads[k]);
			wall = cg_bench_monotonic_s() - t0;
			cpu_rates[r] = 2.0 * half / (cg_bench_cpu_s() - c0);
			rates[r] = 2.0 * half / wall;
			printf("2 threads: 2 x %u pages in %.3f s = %.0f pages/s "
			       "(threads %.3f s, %.3f s; %.0f pages per CPU-s; %zu + %zu bytes)\n",
			       half, wall, rates[r], w[0].seconds, w[1].seconds, cpu_rates[r],
			       w[0].bytes, w[1].bytes);
			g_cond_clear(&cond);
			g_mutex_clear(&lock);
		}
		qsort(rates, batch_runs, sizeof(double), compare_double);
		qsort(cpu_rates, batch_runs, sizeof(double), compare_double);
		mt2_rate = rates[batch_runs / 2];
		mt2_cpu_rate = cpu_rates[batch_runs / 2];
		for (guint k = 0; k < 2; k++) {
			cg_data_free(warm[k]);
			cg_data_free(batches[k]);
		}
	}

	printf("RESULT certgen single_p50_ms=%.3f single_p99_ms=%.3f single_cpu_p50_ms=%.3f "
	       "batch_pages_per_s=%.1f batch_cpu_pages_per_s=%.1f batch_pages=%d "
	       "mt2_pages_per_s=%.1f mt2_cpu_pages_per_s=%.1f mt2_pages=%u single_bytes=%zu "
	       "batch_bytes=%zu\n",
	       p50, p99, cpu50, batch_rate, batch_cpu_rate, n_batch, mt2_rate, mt2_cpu_rate,
	       2 * half, single_bytes, batch_bytes);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A PDF batch rendered in page ranges by several threads and joined
 * (cg-pdf-batch.c): the same bytes whatever the threads, consecutive
 * numbers in page order, progress in order, cancellation writes nothing. */
#include <poppler.h>
#include <string.h>

#include "cg-pdf-batch.h"
#include "cg-template.h"
#include "cg-test-progress.h"
#include "cg-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

/* 2026-11-28T10:00:00Z */
#define ISSUED_AT_US (G_GINT64_CONSTANT(1795860000) * G_USEC_PER_SEC)
#define FIRST_NUMBER 101

typedef struct {
	CgTemplateStore *store;
	CgTemplate *tmpl;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer user_data)
{
	g_autofree char *templates = cg_test_shipped_templates_dir();
	const char *dirs[] = {templates, NULL};
	g_autoptr(GError) error = NULL;

	f->store = cg_template_store_new(dirs);
	f->tmpl = cg_template_store_load(f->store, "classic", NULL, &error);
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer user_data)
{
	g_clear_pointer(&f->tmpl, cg_template_unref);
	g_clear_pointer(&f->store, cg_template_store_free);
}

static CgData *
batch_data(Fixture *f, guint n)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *json = cg_test_batch_json(n);
	CgData *data = cg_data_parse(json, strlen(json), cg_template_get_rules(f->tmpl), 8 << 20,
				     10000, NULL, &error);

	g_assert_no_error(error);
	return data;
}

static gpointer
helper_thread(gpointer data)
{
	cg_pdf_batch_help(data, NULL, NULL);
	return NULL;
}

/* The batch of @data rendered by 1 + @n_helpers threads, or NULL (and
 * @error) when it fails. */
static GBytes *
run_batch(Fixture *f, const CgData *data, guint n_helpers, CgTestProgress *progress,
	  GCancellable *cancellable, GError **error)
{
	CgRenderParams params = {.first_number = FIRST_NUMBER, .issued_at_us = ISSUED_AT_US};
	g_autoptr(CgPdfBatch) batch = cg_pdf_batch_new(
	    f->tmpl, data, &params, cg_test_progress_page_done, progress, cancellable);
	g_autoptr(GByteArray) out = g_byte_array_new();
	GThread *helpers[4];
	gboolean ok;

	g_assert_cmpuint(n_helpers, <=, G_N_ELEMENTS(helpers));
	for (guint i = 0; i < n_helpers; i++)
		helpers[i] = g_thread_new("pdf-helper", helper_thread, cg_pdf_batch_ref(batch));
	ok = cg_pdf_batch_run(batch, cg_render_write_to_byte_array, out, error);
	for (guint i = 0; i < n_helpers; i++) {
		g_thread_join(helpers[i]);
		cg_pdf_batch_unref(batch); /* the helper's */
	}
	if (!ok) {
		g_assert_cmpuint(out->len, ==, 0); /* nothing written */
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static char *
page_text(PopplerDocument *doc, int index)
{
	g_autoptr(PopplerPage) page = poppler_document_get_page(doc, index);

	return poppler_page_get_text(page);
}

static void
test_range_pages(void)
{
	g_assert_cmpuint(cg_pdf_batch_range_pages(1), ==, CG_PDF_BATCH_MIN_RANGE);
	g_assert_cmpuint(cg_pdf_batch_range_pages(300), ==, 38);
	g_assert_cmpuint(cg_pdf_batch_range_pages(1000), ==, 125);
	g_assert_cmpuint(cg_pdf_batch_range_pages(100000), ==, CG_PDF_BATCH_MAX_RANGE);
}

/* 100 pages (4 ranges) by one, two and three threads: the same bytes, 100
 * pages, numbered 101..200 in page order, progress 1..100. */
static void
test_batch_threads_same_bytes(Fixture *f, gconstpointer user_data)
{
	g_autoptr(CgData) data = batch_data(f, 100);
	g_autoptr(GBytes) one = NULL;
	g_autoptr(PopplerDocument) doc = NULL;
	g_autoptr(GError) error = NULL;

	for (guint helpers = 0; helpers < 3; helpers++) {
		CgTestProgress progress = {0};
		g_autoptr(GBytes) pdf = run_batch(f, data, helpers, &progress, NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(progress.calls, ==, 100);
		if (one == NULL)
			one = g_bytes_ref(pdf);
		else
			g_assert_true(g_bytes_equal(one, pdf));
	}
	doc = poppler_document_new_from_bytes(one, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(doc), ==, 100);
	for (int i = 0; i < 100; i++) {
		g_autofree char *text = page_text(doc, i);
		g_autofree char *number = g_strdup_printf("CERT2026%06d", FIRST_NUMBER + i);
		g_autofree char *name = g_strdup_printf("Recipient %d\n", i);

		g_assert_nonnull(strstr(text, number));
		g_assert_nonnull(strstr(text, name));
	}
	{
		g_autofree char *title = poppler_document_get_title(doc);

		g_assert_cmpstr(title, ==, "Certificates CERT2026000101–CERT2026000200");
	}
}

/* A batch of one range is what cg_render_pdf() writes. */
static void
test_batch_one_range(Fixture *f, gconstpointer user_data)
{
	CgRenderParams params = {.first_number = FIRST_NUMBER, .issued_at_us = ISSUED_AT_US};
	g_autoptr(CgData) data = batch_data(f, 5);
	g_autoptr(GByteArray) direct = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	CgTestProgress progress = {0};
	g_autoptr(GBytes) pdf = run_batch(f, data, 1, &progress, NULL, &error);
	g_autoptr(GBytes) expected = NULL;

	g_assert_no_error(error);
	g_assert_true(cg_render_pdf(f->tmpl, data, &params, cg_render_write_to_byte_array, direct,
				    NULL, NULL, NULL, &error));
	g_assert_no_error(error);
	expected = g_byte_array_free_to_bytes(g_steal_pointer(&direct));
	g_assert_true(g_bytes_equal(pdf, expected));
	g_assert_cmpuint(progress.calls, ==, 5);
}

/* Cancelled in the middle (by the cancellable, or by the page callback),
 * with or without a helper: cancelled, nothing written, no page after. */
static void
test_batch_cancel(Fixture *f, gconstpointer user_data)
{
	g_autoptr(CgData) data = batch_data(f, 100);

	for (guint how = 0; how < 4; how++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		CgTestProgress progress = {.stop_after = 40,
					   .cancellable = how % 2 == 0 ? cancellable : NULL};
		g_autoptr(GBytes) pdf = run_batch(f, data, how / 2, &progress, cancellable, &error);

		g_assert_null(pdf);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		g_assert_cmpuint(progress.calls, >=, 40);
		g_assert_cmpuint(progress.calls, <, 100);
	}
}

static const CgTestCase cases[] = {
    {"/pdf-batch/range-pages", test_range_pages, NULL},
    CG_TEST_FIXTURE_CASE("/pdf-batch/threads-same-bytes", test_batch_threads_same_bytes),
    CG_TEST_FIXTURE_CASE("/pdf-batch/one-range", test_batch_one_range),
    CG_TEST_FIXTURE_CASE("/pdf-batch/cancel", test_batch_cancel),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_set_up, fixture_tear_down)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <poppler.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cg-error.h"
#include "cg-output.h"
#include "cg-test-util.h"

typedef struct {
	char *root;
	char *dir; /* inside root, not created: cg_output_new() makes it */
	char *final_path;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture->root = cg_test_make_scratch_dir("cg-test-output-XXXXXX");
	fixture->dir = g_build_filename(fixture->root, "certificates", NULL);
	fixture->final_path = g_build_filename(fixture->dir, "cert.pdf", NULL);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	cg_test_remove_tree(fixture->root);
	g_free(fixture->root);
	g_free(fixture->dir);
	g_free(fixture->final_path);
}

/* The names in the output directory, sorted. */
static GPtrArray *
list_dir(Fixture *fixture)
{
	g_autoptr(GDir) dir = g_dir_open(fixture->dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	return names;
}

static void
assert_dir_empty(Fixture *fixture)
{
	g_autoptr(GPtrArray) names = list_dir(fixture);

	for (guint i = 0; i < names->len; i++)
		g_test_message("left behind: %s", (const char *)g_ptr_array_index(names, i));
	g_assert_cmpuint(names->len, ==, 0);
}

/* A real PDF of @n_pages pages written through cg_output_write(). */
static cairo_status_t
write_pdf(CgOutput *output, guint n_pages, guint shapes_per_page)
{
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(cg_output_write, output, 300, 200);
	cairo_t *cr = cairo_create(surface);
	cairo_status_t status;

	for (guint page = 0; page < n_pages; page++) {
		cairo_set_source_rgb(cr, 0.2, 0.3, 0.8);
		cairo_rectangle(cr, 10, 10, 280, 180);
		cairo_stroke(cr);
		/* shapes only, no text: fonts would bring fontconfig's caches */
		for (guint i = 0; i < shapes_per_page; i++) {
			cairo_rectangle(cr, g_random_double_range(0, 290),
					g_random_double_range(0, 190), 5, 5);
			cairo_fill(cr);
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	status = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	return status;
}

static void
test_output_commit(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgOutput) output = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *contents = NULL;
	g_autofree char *checksum = NULL;
	g_autofree char *tmp_path = NULL;
	g_autofree char *uri = NULL;
	g_autoptr(GObject) document = NULL;
	gsize length = 0;
	struct stat st;

	g_assert_false(g_file_test(fixture->dir, G_FILE_TEST_EXISTS));
	output = cg_output_new(fixture->dir, "cert.pdf", &error);
	g_assert_no_error(error);
	g_assert_nonnull(output);
	g_assert_cmpstr(cg_output_get_path(output), ==, fixture->final_path);

	/* the directory is made, private */
	g_assert_cmpint(g_stat(fixture->dir, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
	g_assert_cmpint(st.st_mode & 0027, ==, 0);

	g_assert_cmpint(write_pdf(output, 2, 3), ==, CAIRO_STATUS_SUCCESS);

	/* written but not committed: only a hidden temporary file, mode 0640 */
	g_assert_false(g_file_test(fixture->final_path, G_FILE_TEST_EXISTS));
	names = list_dir(fixture);
	g_assert_cmpuint(names->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(names, 0), ".cert.pdf."));
	tmp_path = g_build_filename(fixture->dir, g_ptr_array_index(names, 0), NULL);
	g_assert_cmpint(g_stat(tmp_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);
	g_assert_cmpuint(st.st_size, ==, cg_output_get_size(output));
	g_assert_null(cg_output_get_checksum(output));
	g_clear_pointer(&names, g_ptr_array_unref);

	g_assert_true(cg_output_commit(output, 2, &error));
	g_assert_no_error(error);

	/* only the final file */
	names = list_dir(fixture);
	g_assert_cmpuint(names->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "cert.pdf");
	g_assert_false(g_file_test(tmp_path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(g_stat(fixture->final_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);

	/* size and checksum, computed independently */
	g_file_get_contents(fixture->final_path, &contents, &length, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(length, >, 0);
	g_assert_true(g_str_has_prefix(contents, "%PDF-"));
	g_assert_cmpuint(cg_output_get_size(output), ==, length);
	checksum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, length);
	g_assert_cmpstr(cg_output_get_checksum(output), ==, checksum);

	/* a second commit is refused */
	g_assert_false(cg_output_commit(output, 2, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_clear_error(&error);

	/* freeing a committed output keeps the file */
	g_clear_pointer(&output, cg_output_free);
	g_assert_true(g_file_test(fixture->final_path, G_FILE_TEST_IS_REGULAR));

	uri = g_filename_to_uri(fixture->final_path, NULL, NULL);
	document = G_OBJECT(poppler_document_new_from_file(uri, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(poppler_document_get_n_pages(POPPLER_DOCUMENT(document)), ==, 2);
}

static void
test_output_page_mismatch(Fixture *fixture, gconstpointer user_data)
{
	static const guint expected[] = {3, 1, 0};

	for (gsize i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgOutput) output = cg_output_new(fixture->dir, "cert.pdf", &error);
		g_autofree char *message = NULL;

		g_assert_no_error(error);
		g_assert_cmpint(write_pdf(output, 2, 1), ==, CAIRO_STATUS_SUCCESS);
		g_assert_false(cg_output_commit(output, expected[i], &error));
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		message = g_strdup_printf("Written PDF has 2 pages, expected %u", expected[i]);
		g_assert_cmpstr(error->message, ==, message);

		/* nothing at all is left, before and after the free */
		assert_dir_empty(fixture);
		g_assert_null(cg_output_get_checksum(output));
		g_clear_pointer(&output, cg_output_free);
		assert_dir_empty(fixture);
	}
}

static void
test_output_not_pdf(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgOutput) output = cg_output_new(fixture->dir, "cert.pdf", &error);
	const char *garbage = "%PDF-1.5\nthis is not a PDF\n";

	g_assert_no_error(error);
	g_assert_cmpint(cg_output_write(output, (const unsigned char *)garbage, strlen(garbage)),
			==, CAIRO_STATUS_SUCCESS);
	g_assert_false(cg_output_commit(output, 1, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	assert_dir_empty(fixture);
}

static void
test_output_free_uncommitted(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	CgOutput *output = cg_output_new(fixture->dir, "cert.pdf", &error);

	g_assert_no_error(error);
	g_assert_cmpint(write_pdf(output, 1, 1), ==, CAIRO_STATUS_SUCCESS);
	g_assert_false(g_file_test(fixture->final_path, G_FILE_TEST_EXISTS));
	cg_output_free(output);
	assert_dir_empty(fixture);

	/* nothing written at all */
	output = cg_output_new(fixture->dir, "cert.pdf", &error);
	g_assert_no_error(error);
	cg_output_free(output);
	assert_dir_empty(fixture);

	cg_output_free(NULL);
}

static void
test_output_concurrent_names(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgOutput) a = cg_output_new(fixture->dir, "cert.pdf", &error);
	g_autoptr(CgOutput) b = cg_output_new(fixture->dir, "cert.pdf", &error);
	g_autoptr(GPtrArray) names = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(a);
	g_assert_nonnull(b);
	g_assert_cmpstr(cg_output_get_path(a), ==, cg_output_get_path(b));
	/* two temporary files for one name do not collide */
	names = list_dir(fixture);
	g_assert_cmpuint(names->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(names, 0), !=, g_ptr_array_index(names, 1));
}

static void
test_output_bad_name(Fixture *fixture, gconstpointer user_data)
{
	static const char *const names[] = {"", ".", "..", "a/b", "../cert.pdf", "/tmp/x"};

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgOutput) output = cg_output_new(fixture->dir, names[i], &error);

		g_assert_null(output);
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_output_write_error(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgOutput) output = cg_output_new(fixture->dir, "cert.pdf", &error);
	struct rlimit saved;
	struct rlimit limit;
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	struct sigaction saved_action;
	const unsigned char byte = 'x';
	cairo_status_t status;

	g_assert_no_error(error);
	/* files may not grow past 2 KiB for a while: write() fails with EFBIG */
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	limit = (struct rlimit){.rlim_cur = 2048, .rlim_max = saved.rlim_max};
	g_assert_cmpint(sigaction(SIGXFSZ, &ignore, &saved_action), ==, 0);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &limit), ==, 0);
	status = write_pdf(output, 20, 40);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	g_assert_cmpint(sigaction(SIGXFSZ, &saved_action, NULL), ==, 0);

	g_assert_cmpint(status, ==, CAIRO_STATUS_WRITE_ERROR);
	/* the error sticks, even now that writing would work */
	g_assert_cmpint(cg_output_write(output, &byte, 1), ==, CAIRO_STATUS_WRITE_ERROR);
	g_assert_false(cg_output_commit(output, 20, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_true(g_str_has_prefix(error->message, "Cannot write "));
	g_assert_false(g_file_test(fixture->final_path, G_FILE_TEST_EXISTS));
	assert_dir_empty(fixture);
}

static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/output/commit", test_output_commit),
    CG_TEST_FIXTURE_CASE("/output/page-mismatch", test_output_page_mismatch),
    CG_TEST_FIXTURE_CASE("/output/not-pdf", test_output_not_pdf),
    CG_TEST_FIXTURE_CASE("/output/free-uncommitted", test_output_free_uncommitted),
    CG_TEST_FIXTURE_CASE("/output/two-outputs", test_output_concurrent_names),
    CG_TEST_FIXTURE_CASE("/output/bad-name", test_output_bad_name),
    CG_TEST_FIXTURE_CASE("/output/write-error", test_output_write_error),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_set_up, fixture_tear_down)

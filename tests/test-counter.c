/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cg-counter.h"
#include "cg-error.h"
#include "cg-test-util.h"

#define N_THREADS 8
#define N_RESERVATIONS 50

typedef CgTestScratch Fixture;

static char *
read_counter_file(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	char *contents = NULL;

	g_file_get_contents(fixture->path, &contents, NULL, &error);
	g_assert_no_error(error);
	return contents;
}

static void
write_counter_file(Fixture *fixture, const char *contents, gssize length)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(fixture->path, contents, length, &error);
	g_assert_no_error(error);
}

static guint64
reserve(CgCounter *counter, guint n)
{
	g_autoptr(GError) error = NULL;
	guint64 first = 0;

	g_assert_true(cg_counter_reserve(counter, n, &first, &error));
	g_assert_no_error(error);
	return first;
}

/* Only the counter and its lock file: no temporary file left behind. */
static void
assert_dir_clean(Fixture *fixture)
{
	g_autoptr(GDir) dir = g_dir_open(fixture->dir, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (!g_str_equal(name, "counter.lock"))
			g_assert_cmpstr(name, ==, "counter");
	}
}

static void
test_counter_consecutive(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = cg_counter_new(fixture->dir, &error);
	g_autofree char *contents = NULL;
	guint64 first = 12345;

	g_assert_no_error(error);
	g_assert_nonnull(counter);
	/* nothing written until the first reservation */
	g_assert_false(g_file_test(fixture->path, G_FILE_TEST_EXISTS));

	g_assert_cmpuint(reserve(counter, 1), ==, 1);
	g_assert_cmpuint(reserve(counter, 1), ==, 2);
	g_assert_cmpuint(reserve(counter, 5), ==, 3);
	g_assert_cmpuint(reserve(counter, 1), ==, 8);
	contents = read_counter_file(fixture);
	g_assert_cmpstr(contents, ==, "8\n");
	assert_dir_clean(fixture);

	/* zero numbers is a caller's mistake, and changes nothing */
	g_assert_false(cg_counter_reserve(counter, 0, &first, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_cmpuint(first, ==, 12345);
	g_assert_cmpuint(reserve(counter, 1), ==, 9);
}

static void
test_counter_restart(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	CgCounter *counter = cg_counter_new(fixture->dir, &error);
	struct stat st;

	g_assert_no_error(error);
	g_assert_cmpuint(reserve(counter, 3), ==, 1);
	cg_counter_free(counter);

	counter = cg_counter_new(fixture->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(reserve(counter, 1), ==, 4);
	g_assert_cmpuint(reserve(counter, 2), ==, 5);
	cg_counter_free(counter);

	counter = cg_counter_new(fixture->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(reserve(counter, 1), ==, 7);
	cg_counter_free(counter);

	g_assert_cmpint(g_stat(fixture->path, &st), ==, 0);
	/* at most rw-r----- */
	g_assert_cmpint(st.st_mode & 0137, ==, 0);
	assert_dir_clean(fixture);
}

static void
test_counter_existing_file(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = NULL;

	/* with or without the final newline */
	write_counter_file(fixture, "41", -1);
	counter = cg_counter_new(fixture->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(reserve(counter, 1), ==, 42);
}

static void
test_counter_missing_dir(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *dir = g_build_filename(fixture->dir, "a", "b", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = cg_counter_new(dir, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(reserve(counter, 1), ==, 1);
}

static void
test_counter_corrupt(Fixture *fixture, gconstpointer user_data)
{
	static const struct {
		const char *contents;
		gssize length;
	} cases[] = {
	    {"", 0},
	    {"\n", 1},
	    {"abc", -1},
	    {"12abc", -1},
	    {"-1", -1},
	    {"+1", -1},
	    {" 12", -1},
	    {"12 ", -1},
	    {"12\n\n", -1},
	    {"0x10", -1},
	    {"1\0002", 3},
	    {"18446744073709551616", -1}, /* G_MAXUINT64 + 1 */
	    {"99999999999999999999999999", -1},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CgCounter) counter = NULL;

		g_test_message("corrupt counter: \"%s\"", cases[i].contents);
		write_counter_file(fixture, cases[i].contents, cases[i].length);
		counter = cg_counter_new(fixture->dir, &error);
		g_assert_null(counter);
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		/* the message names the file */
		g_assert_nonnull(strstr(error->message, fixture->path));
		g_assert_nonnull(strstr(error->message, "corrupt"));
		/* and the file is left for a human to look at */
		g_assert_true(g_file_test(fixture->path, G_FILE_TEST_EXISTS));
	}
}

static void
test_counter_unreadable(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = NULL;

	/* a directory where the file should be */
	g_assert_cmpint(g_mkdir(fixture->path, 0700), ==, 0);
	counter = cg_counter_new(fixture->dir, &error);
	g_assert_null(counter);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, fixture->path));
}

static void
test_counter_overflow(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = NULL;
	g_autofree char *contents = NULL;
	guint64 first = 0;

	write_counter_file(fixture, "18446744073709551613\n", -1); /* G_MAXUINT64 - 2 */
	counter = cg_counter_new(fixture->dir, &error);
	g_assert_no_error(error);

	g_assert_false(cg_counter_reserve(counter, 3, &first, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "overflow"));
	g_assert_cmpuint(first, ==, 0);
	g_clear_error(&error);

	/* the file is unchanged; the last two numbers can still be used */
	contents = read_counter_file(fixture);
	g_assert_cmpstr(contents, ==, "18446744073709551613\n");
	g_assert_cmpuint(reserve(counter, 2), ==, G_MAXUINT64 - 1);
	g_assert_false(cg_counter_reserve(counter, 1, &first, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
}

typedef struct {
	CgCounter *counter;
	guint index;
	guint64 firsts[N_RESERVATIONS];
	guint sizes[N_RESERVATIONS];
} Worker;

static gpointer
reserve_thread(gpointer user_data)
{
	Worker *worker = user_data;

	for (guint i = 0; i < N_RESERVATIONS; i++) {
		g_autoptr(GError) error = NULL;

		worker->sizes[i] = 1 + (worker->index + i) % 3;
		g_assert_true(cg_counter_reserve(worker->counter, worker->sizes[i],
						 &worker->firsts[i], &error));
		g_assert_no_error(error);
	}
	return NULL;
}

/* A second process (here: a second counter) on the same state directory
 * would hand out the same numbers: it is refused until the first is gone. */
static void
test_counter_exclusive(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) first = cg_counter_new(fixture->dir, &error);
	g_autoptr(CgCounter) second = NULL;

	g_assert_no_error(error);
	second = cg_counter_new(fixture->dir, &error);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "in use by another process"));
	g_assert_null(second);
	g_clear_error(&error);

	g_clear_pointer(&first, cg_counter_free);
	second = cg_counter_new(fixture->dir, &error);
	g_assert_no_error(error);
	g_assert_nonnull(second);
}

static void
test_counter_threads(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgCounter) counter = cg_counter_new(fixture->dir, &error);
	Worker workers[N_THREADS];
	GThread *threads[N_THREADS];
	g_autofree guint8 *owner = NULL;
	guint64 total = 0;
	g_autofree char *contents = NULL;
	g_autofree char *expected = NULL;

	g_assert_no_error(error);
	for (guint t = 0; t < N_THREADS; t++) {
		workers[t] = (Worker){.counter = counter, .index = t};
		threads[t] = g_thread_new("reserve", reserve_thread, &workers[t]);
	}
	for (guint t = 0; t < N_THREADS; t++) {
		g_thread_join(threads[t]);
		for (guint i = 0; i < N_RESERVATIONS; i++)
			total += workers[t].sizes[i];
	}

	/* every number from 1 to total handed out exactly once */
	owner = g_new0(guint8, total + 1);
	for (guint t = 0; t < N_THREADS; t++) {
		for (guint i = 0; i < N_RESERVATIONS; i++) {
			for (guint k = 0; k < workers[t].sizes[i]; k++) {
				guint64 number = workers[t].firsts[i] + k;

				g_assert_cmpuint(number, >=, 1);
				g_assert_cmpuint(number, <=, total);
				g_assert_cmpuint(owner[number], ==, 0);
				owner[number] = 1;
			}
		}
	}
	contents = read_counter_file(fixture);
	expected = g_strdup_printf("%" G_GUINT64_FORMAT "\n", total);
	g_assert_cmpstr(contents, ==, expected);
	assert_dir_clean(fixture);
}

static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/counter/consecutive", test_counter_consecutive),
    CG_TEST_FIXTURE_CASE("/counter/restart", test_counter_restart),
    CG_TEST_FIXTURE_CASE("/counter/existing-file", test_counter_existing_file),
    CG_TEST_FIXTURE_CASE("/counter/missing-dir", test_counter_missing_dir),
    CG_TEST_FIXTURE_CASE("/counter/corrupt", test_counter_corrupt),
    CG_TEST_FIXTURE_CASE("/counter/unreadable", test_counter_unreadable),
    CG_TEST_FIXTURE_CASE("/counter/overflow", test_counter_overflow),
    CG_TEST_FIXTURE_CASE("/counter/threads", test_counter_threads),
    CG_TEST_FIXTURE_CASE("/counter/exclusive", test_counter_exclusive),
};

CG_TEST_MAIN_WITH_SCRATCH(cases, "counter")

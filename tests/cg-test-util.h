/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Helpers every C unit test may link (tests/meson.build adds
 * cg-test-util.c to each). */

/* Removes @path and, when it is a directory, everything below it. A
 * symbolic link is removed itself, never followed (tests link files such
 * as /etc/passwd or /dev/zero into their scratch directories). */
void cg_test_remove_tree(const char *path);

/* The shipped templates, data/templates of the source tree
 * ($CERTGEN_SOURCE_ROOT, or the test's G_TEST_DIST directory's parent). */
char *cg_test_shipped_templates_dir(void);

/* The first @max bytes of @text (of its @length, or of its strlen when
 * @length is -1; an inner NUL ends it early) as a C string literal's
 * contents would spell them (g_strescape): printable ASCII, for
 * g_test_message, whose lines meson reads as UTF-8. */
char *cg_test_printable(const char *text, gssize length, gsize max);

/* @unit @n times over. */
char *cg_test_repeat(const char *unit, guint n);

/* A data_json with shared courseName and issueDate and @n recipients
 * ("Recipient 0", ...). */
char *cg_test_batch_json(guint n);

/* Makes a new scratch directory under the temporary directory, named from
 * @name_template (g_dir_make_tmp's XXXXXX rule); a test fails if it cannot. */
char *cg_test_make_scratch_dir(const char *name_template);

/* One test case of a unit test's table: a plain test (@func), or one that
 * runs with the file's fixture (@fixture_func, written with
 * CG_TEST_FIXTURE_CASE). */
typedef struct {
	const char *path;
	GTestFunc func;
	GTestFixtureFunc fixture_func;
} CgTestCase;

/* The fixture a file's fixture cases share: its size, how it is set up and
 * torn down. */
typedef struct {
	gsize size;
	GTestFixtureFunc set_up;
	GTestFixtureFunc tear_down;
	gconstpointer data; /* each case's user_data */
} CgTestFixture;

/* The fixture of tests about one file: a new scratch directory and the
 * path of a file in it (not created), named by the fixture's data; the
 * directory and all in it are removed after the test. */
typedef struct {
	char *dir;
	char *path;
} CgTestScratch;

void cg_test_scratch_set_up(CgTestScratch *scratch, gconstpointer file_name);
void cg_test_scratch_tear_down(CgTestScratch *scratch, gconstpointer file_name);

/* A fixture case; @func takes (Fixture *, gconstpointer), as g_test_add's do. */
#define CG_TEST_FIXTURE_CASE(path, func)                                                           \
	{                                                                                          \
		(path), NULL, (GTestFixtureFunc)(func)                                             \
	}

/* Registers @cases (@fixture may be NULL when none is a fixture case). */
void cg_test_add_cases(const CgTestCase *cases, gsize n_cases, const CgTestFixture *fixture);

/* The whole main() of most unit tests: g_test_init, the cases, g_test_run. */
int cg_test_run(int *argc, char ***argv, const CgTestCase *cases, gsize n_cases,
		const CgTestFixture *fixture);

#define CG_TEST_MAIN(cases)                                                                        \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return cg_test_run(&argc, &argv, (cases), G_N_ELEMENTS(cases), NULL);              \
	}

#define CG_TEST_MAIN_WITH_FIXTURE(cases, Type, set_up, tear_down)                                  \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		static const CgTestFixture fixture = {sizeof(Type), (GTestFixtureFunc)(set_up),    \
						      (GTestFixtureFunc)(tear_down)};              \
		return cg_test_run(&argc, &argv, (cases), G_N_ELEMENTS(cases), &fixture);          \
	}

/* main() of tests whose fixture is a CgTestScratch with @file_name. */
#define CG_TEST_MAIN_WITH_SCRATCH(cases, file_name)                                                \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		static const CgTestFixture fixture = {                                             \
		    sizeof(CgTestScratch), (GTestFixtureFunc)cg_test_scratch_set_up,               \
		    (GTestFixtureFunc)cg_test_scratch_tear_down, (file_name)};                     \
		return cg_test_run(&argc, &argv, (cases), G_N_ELEMENTS(cases), &fixture);          \
	}

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

void
cg_test_remove_tree(const char *path)
{
	if (!g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const char *name;

		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			cg_test_remove_tree(child);
		}
	}
	g_remove(path);
}

char *
cg_test_shipped_templates_dir(void)
{
	const char *root = g_getenv("CERTGEN_SOURCE_ROOT");

	if (root != NULL)
		return g_build_filename(root, "data", "templates", NULL);
	return g_build_filename(g_test_get_dir(G_TEST_DIST), "..", "data", "templates", NULL);
}

char *
cg_test_printable(const char *text, gssize length, gsize max)
{
	gsize n = length < 0 ? strlen(text) : (gsize)length;
	g_autofree char *head = g_strndup(text, MIN(n, max));

	return g_strescape(head, NULL);
}

char *
cg_test_repeat(const char *unit, guint n)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < n; i++)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

char *
cg_test_batch_json(guint n)
{
	GString *json = g_string_new("{\"courseName\": \"Batch\", \"issueDate\": \"2026-11-28\","
				     " \"recipients\": [");

	for (guint i = 0; i < n; i++)
		g_string_append_printf(json, "%s{\"recipientName\": \"Recipient %u\"}",
				       i > 0 ? ", " : "", i);
	g_string_append(json, "]}");
	return g_string_free(json, FALSE);
}

char *
cg_test_make_scratch_dir(const char *name_template)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(name_template, &error);

	g_assert_no_error(error);
	return dir;
}

void
cg_test_add_cases(const CgTestCase *cases, gsize n_cases, const CgTestFixture *fixture)
{
	for (gsize i = 0; i < n_cases; i++) {
		if (cases[i].func != NULL) {
			g_test_add_func(cases[i].path, cases[i].func);
			continue;
		}
		g_assert_nonnull(fixture);
		g_test_add_vtable(cases[i].path, fixture->size, fixture->data, fixture->set_up,
				  cases[i].fixture_func, fixture->tear_down);
	}
}

int
cg_test_run(int *argc, char ***argv, const CgTestCase *cases, gsize n_cases,
	    const CgTestFixture *fixture)
{
	g_test_init(argc, argv, NULL);
	cg_test_add_cases(cases, n_cases, fixture);
	return g_test_run();
}

void
cg_test_scratch_set_up(CgTestScratch *scratch, gconstpointer file_name)
{
	scratch->dir = cg_test_make_scratch_dir("cg-test-XXXXXX");
	scratch->path = g_build_filename(scratch->dir, (const char *)file_name, NULL);
}

void
cg_test_scratch_tear_down(CgTestScratch *scratch, gconstpointer file_name)
{
	cg_test_remove_tree(scratch->dir);
	g_free(scratch->dir);
	g_free(scratch->path);
}

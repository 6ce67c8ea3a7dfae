/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A template directory writer's layout.json: the bytes become
 * <tmp>/fuzz/layout.json beside the shipped classic background, and the
 * template store loads it (the layout parser, its checks and, when it gets
 * that far, the background). Each input gets a new store, so nothing is
 * cached between inputs. Besides the sanitizers: a failure is
 * CG_ERROR_FAILED naming the template, never a path; a success has a page
 * size within PDF's range and its fields. */
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cg-error.h"
#include "cg-template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_dir;
static char *fuzz_layout;

static GLogWriterOutput
fuzz_quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	/* the loader tells the journal every broken template: not news here */
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		return g_log_writer_default(level, fields, n_fields, user_data);
	return G_LOG_WRITER_HANDLED;
}

static void
fuzz_remove_dir(void)
{
	g_autofree char *background = g_build_filename(fuzz_dir, "fuzz", "background.pdf", NULL);
	g_autofree char *template_dir = g_build_filename(fuzz_dir, "fuzz", NULL);

	g_unlink(fuzz_layout);
	g_unlink(background);
	g_rmdir(template_dir);
	g_rmdir(fuzz_dir);
}

static void
fuzz_set_up(void)
{
	const char *root = g_getenv("CERTGEN_SOURCE_ROOT");
	g_autofree char *source =
	    g_build_filename(root != NULL ? root : CG_FUZZ_SOURCE_ROOT, "data", "templates",
			     "classic", "background.pdf", NULL);
	g_autofree char *template_dir = NULL;
	g_autofree char *background = NULL;
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;

	g_log_set_writer_func(fuzz_quiet_writer, NULL, NULL);
	fuzz_dir = g_dir_make_tmp("certgen-fuzz-layout-XXXXXX", &error);
	g_assert_no_error(error);
	template_dir = g_build_filename(fuzz_dir, "fuzz", NULL);
	g_assert_cmpint(g_mkdir(template_dir, 0700), ==, 0);
	fuzz_layout = g_build_filename(template_dir, "layout.json", NULL);
	background = g_build_filename(template_dir, "background.pdf", NULL);
	g_file_get_contents(source, &contents, &length, &error);
	g_assert_no_error(error);
	g_file_set_contents(background, contents, (gssize)length, &error);
	g_assert_no_error(error);
	atexit(fuzz_remove_dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[2] = {NULL, NULL};
	g_autoptr(CgTemplateStore) store = NULL;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(GError) error = NULL;
	double width = 0, height = 0;

	if (fuzz_dir == NULL)
		fuzz_set_up();
	g_file_set_contents(fuzz_layout, (const char *)data, (gssize)size, &error);
	g_assert_no_error(error);
	dirs[0] = fuzz_dir;
	store = cg_template_store_new(dirs);
	tmpl = cg_template_store_load(store, "fuzz", NULL, &error);
	if (tmpl == NULL) {
		g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		g_assert_true(g_str_has_prefix(error->message, "Template fuzz: "));
		g_assert_null(strstr(error->message, fuzz_dir));
		return 0;
	}
	cg_template_get_page_size(tmpl, &width, &height);
	g_assert_cmpfloat(width, >, 0);
	g_assert_cmpfloat(height, >, 0);
	g_assert_nonnull(cg_template_get_fields(tmpl));
	g_assert_nonnull(cg_template_get_rules(tmpl));
	return 0;
}

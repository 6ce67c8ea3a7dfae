/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-problems.h"

#include <string.h>

/* A GPtrArray of entries, each one block "path\0message\0". */
struct _CgProblems {
	GPtrArray entries;
};

#define ENTRIES(problems) ((GPtrArray *)(problems))

CgProblems *
cg_problems_new(void)
{
	return (CgProblems *)g_ptr_array_new_with_free_func(g_free);
}

void
cg_problems_free(CgProblems *problems)
{
	if (problems != NULL)
		g_ptr_array_unref(ENTRIES(problems));
}

gboolean
cg_problems_add(CgProblems *problems, const char *path, const char *message)
{
	gsize path_size;
	gsize message_size;
	char *entry;

	g_return_val_if_fail(problems != NULL, FALSE);
	g_return_val_if_fail(path != NULL && message != NULL, FALSE);

	if (cg_problems_is_full(problems))
		return FALSE;
	path_size = strlen(path) + 1;
	message_size = strlen(message) + 1;
	entry = g_malloc(path_size + message_size);
	memcpy(entry, path, path_size);
	memcpy(entry + path_size, message, message_size);
	g_ptr_array_add(ENTRIES(problems), entry);
	return TRUE;
}

void
cg_problems_append(CgProblems *problems, const CgProblems *other)
{
	g_return_if_fail(problems != NULL && other != NULL);

	for (guint i = 0; i < cg_problems_get_count(other); i++)
		if (!cg_problems_add(problems, cg_problems_get_path(other, i),
				     cg_problems_get_message(other, i)))
			return;
}

guint
cg_problems_get_count(const CgProblems *problems)
{
	g_return_val_if_fail(problems != NULL, 0);
	return ENTRIES(problems)->len;
}

gboolean
cg_problems_is_full(const CgProblems *problems)
{
	g_return_val_if_fail(problems != NULL, TRUE);
	return ENTRIES(problems)->len >= CG_PROBLEMS_MAX;
}

const char *
cg_problems_get_path(const CgProblems *problems, guint index)
{
	g_return_val_if_fail(problems != NULL && index < ENTRIES(problems)->len, NULL);
	return g_ptr_array_index(ENTRIES(problems), index);
}

const char *
cg_problems_get_message(const CgProblems *problems, guint index)
{
	const char *path = cg_problems_get_path(problems, index);

	return path != NULL ? path + strlen(path) + 1 : NULL;
}

char *
cg_problems_to_message(const CgProblems *problems)
{
	GString *out = g_string_new(NULL);
	guint shown;

	g_return_val_if_fail(problems != NULL, NULL);

	shown = MIN(cg_problems_get_count(problems), CG_PROBLEMS_IN_MESSAGE);
	for (guint i = 0; i < shown; i++)
		g_string_append_printf(out, "%s%s: %s", i > 0 ? "; " : "",
				       cg_problems_get_path(problems, i),
				       cg_problems_get_message(problems, i));
	if (cg_problems_get_count(problems) > shown)
		g_string_append_printf(out, "; … and %u more",
				       cg_problems_get_count(problems) - shown);
	return g_string_free(out, FALSE);
}

GVariant *
cg_problems_to_variant(const CgProblems *problems)
{
	GVariantBuilder builder;

	g_return_val_if_fail(problems != NULL, NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < cg_problems_get_count(problems); i++) {
		g_variant_builder_open(&builder, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&builder, "{sv}", "path",
				      g_variant_new_string(cg_problems_get_path(problems, i)));
		g_variant_builder_add(&builder, "{sv}", "message",
				      g_variant_new_string(cg_problems_get_message(problems, i)));
		g_variant_builder_close(&builder);
	}
	return g_variant_builder_end(&builder);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-sweep.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* The generation id of a result file name "<id>.pdf" or "<id>.zip", or NULL. */
static char *
cg_sweep_result_id(const char *name)
{
	if (g_str_has_suffix(name, ".pdf") || g_str_has_suffix(name, ".zip"))
		return g_strndup(name, strlen(name) - 4);
	return NULL;
}

guint
cg_sweep_certificates(const char *dir, CgRegistry *registry, GHashTable *kept)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) listing = g_dir_open(dir, 0, &error);
	const char *name;
	guint removed = 0;

	g_return_val_if_fail(dir != NULL, 0);
	g_return_val_if_fail(registry != NULL, 0);
	g_return_val_if_fail(kept != NULL, 0);

	if (listing == NULL) {
		g_warning("Startup sweep: %s", error->message);
		return 0;
	}
	while ((name = g_dir_read_name(listing)) != NULL) {
		g_autofree char *id = cg_sweep_result_id(name);
		g_autofree char *path = NULL;
		const char *why;

		if (name[0] == '.')
			why = "a temporary file of an interrupted generation";
		else if (id == NULL || id[0] == '\0' || g_hash_table_contains(kept, name))
			continue;
		else if (!cg_registry_has_generation(registry, id))
			why = "no certificate of it is in the registry";
		else
			why = "its generation did not ask for persistence";
		path = g_build_filename(dir, name, NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) ||
		    g_file_test(path, G_FILE_TEST_IS_SYMLINK))
			continue;
		if (g_unlink(path) != 0) {
			int saved_errno = errno;

			g_warning("Startup sweep: could not remove %s: %s", path,
				  g_strerror(saved_errno));
			continue;
		}
		g_message("Startup sweep: removed %s (%s)", path, why);
		removed++;
	}
	return removed;
}

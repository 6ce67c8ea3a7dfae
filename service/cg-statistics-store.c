/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-statistics-store.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "cg-error.h"
#include "cg-fsutil.h"

#define CG_STATISTICS_MIGRATED CG_STATISTICS_FILE ".migrated"

gboolean
cg_statistics_store_save(CgStatistics *statistics, CgRegistry *registry, guint window,
			 GError **error)
{
	guint unsaved = cg_statistics_get_unsaved(statistics);
	guint count = cg_statistics_get_count(statistics);
	g_autoptr(GArray) rows = NULL;
	gboolean ok;

	if (unsaved == 0)
		return TRUE;
	rows = g_array_sized_new(FALSE, TRUE, sizeof(CgRegistryStatistic), unsaved);
	for (guint i = count - unsaved; i < count; i++) {
		CgStatisticsEntry entry;
		CgRegistryStatistic row = {0};

		if (!cg_statistics_get_entry(statistics, i, &entry))
			break;
		row.template_id = (char *)entry.template_id;
		row.status = (char *)cg_status_to_string(entry.status);
		row.pages = entry.pages;
		row.stage_ms = cg_statistics_stage_ms_to_text(entry.stage_ms);
		g_array_append_val(rows, row);
	}
	ok = cg_registry_add_statistics(registry, (CgRegistryStatistic *)rows->data, rows->len,
					window, error);
	for (guint i = 0; i < rows->len; i++)
		g_free(g_array_index(rows, CgRegistryStatistic, i).stage_ms);
	if (ok)
		cg_statistics_mark_saved(statistics);
	return ok;
}

/* statistics.json of an older certgend → the registry, once. */
static void
migrate_file(CgStatistics *statistics, CgRegistry *registry, const char *state_dir, guint window)
{
	g_autofree char *path = g_build_filename(state_dir, CG_STATISTICS_FILE, NULL);
	g_autofree char *migrated = g_build_filename(state_dir, CG_STATISTICS_MIGRATED, NULL);
	g_autoptr(CgStatistics) old = cg_statistics_new(window);
	g_autoptr(GError) error = NULL;
	guint n;

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return;
	if (!cg_statistics_load(old, state_dir, &error)) {
		g_warning("%s; its figures are not taken over", error->message);
		g_clear_error(&error);
	}
	n = cg_statistics_get_count(old);
	for (guint i = 0; i < n; i++) {
		CgStatisticsEntry entry;

		if (cg_statistics_get_entry(old, i, &entry))
			cg_statistics_add(statistics, &entry);
	}
	/* the registry first: a crash before the rename repeats it (the
	 * window keeps the newest, a repeat only doubles what it held) */
	if (!cg_statistics_store_save(statistics, registry, window, &error)) {
		g_warning("Statistics of %s not taken over: %s", path, error->message);
		return;
	}
	if (g_rename(path, migrated) != 0) {
		g_warning("Cannot rename %s: %s", path, g_strerror(errno));
		return;
	}
	cg_fs_fsync_dir(state_dir);
	g_message("Statistics moved from %s (%u generations) to the registry", path, n);
}

gboolean
cg_statistics_store_load(CgStatistics *statistics, CgRegistry *registry, const char *state_dir,
			 GError **error)
{
	guint window = cg_statistics_get_window(statistics);
	g_autoptr(GPtrArray) rows = cg_registry_list_statistics(registry, window, error);
	guint skipped = 0;

	if (rows == NULL)
		return FALSE;
	for (guint i = 0; i < rows->len; i++) {
		const CgRegistryStatistic *row = rows->pdata[i];

		if (!cg_statistics_add_stored(statistics, row->template_id, row->status, row->pages,
					      row->stage_ms))
			skipped++;
	}
	if (skipped > 0)
		g_warning("Statistics: %u of %u stored entries are not valid and were skipped",
			  skipped, rows->len);
	migrate_file(statistics, registry, state_dir, window);
	return TRUE;
}

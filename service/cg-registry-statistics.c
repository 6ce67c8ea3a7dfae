/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry's statistics window (see cg-registry.h): the engine appends
 * the generations that ended, at most once a second, in one transaction
 * that also drops what fell out of the window; at startup it reads the
 * window back. Ids grow (AUTOINCREMENT), so "newest" is "highest id".
 */
#include "cg-registry-private.h"

#include "cg-error.h"

void
cg_registry_statistic_free(CgRegistryStatistic *statistic)
{
	if (statistic == NULL)
		return;
	g_free(statistic->template_id);
	g_free(statistic->status);
	g_free(statistic->stage_ms);
	g_free(statistic);
}

static gboolean
add_statistics_locked(sqlite3 *db, const CgRegistryStatistic *entries, guint n, guint window,
		      GError **error)
{
	g_autoptr(sqlite3_stmt) insert = NULL;
	g_autoptr(sqlite3_stmt) trim = NULL;

	if (!cg_registry_prepare(db,
				 "INSERT INTO statistics (template_id, status, pages, stage_ms)"
				 " VALUES (?, ?, ?, ?)",
				 &insert, error))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		cg_registry_bind_text(insert, 1, entries[i].template_id);
		cg_registry_bind_text(insert, 2, entries[i].status);
		sqlite3_bind_int64(insert, 3, entries[i].pages);
		cg_registry_bind_text(insert, 4, entries[i].stage_ms);
		if (sqlite3_step(insert) != SQLITE_DONE)
			return cg_registry_fail(db, "add to the statistics", error);
		sqlite3_reset(insert);
	}
	if (!cg_registry_prepare(db,
				 "DELETE FROM statistics WHERE id <="
				 " (SELECT id FROM statistics ORDER BY id DESC LIMIT 1 OFFSET ?)",
				 &trim, error))
		return FALSE;
	sqlite3_bind_int64(trim, 1, window);
	if (sqlite3_step(trim) != SQLITE_DONE)
		return cg_registry_fail(db, "trim the statistics", error);
	return TRUE;
}

gboolean
cg_registry_add_statistics(CgRegistry *registry, const CgRegistryStatistic *entries, guint n,
			   guint window, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	sqlite3 *db;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(entries != NULL || n == 0, FALSE);
	g_return_val_if_fail(window > 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_exec(db, "BEGIN IMMEDIATE", "begin", error))
		return FALSE;
	if (!add_statistics_locked(db, entries, n, window, error) ||
	    !cg_registry_exec(db, "COMMIT", "commit the statistics", error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	return TRUE;
}

GPtrArray *
cg_registry_list_statistics(CgRegistry *registry, guint window, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	sqlite3 *db;
	int rc;

	g_return_val_if_fail(registry != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	locker = g_mutex_locker_new(&registry->read.lock);
	db = registry->read.db;
	if (!cg_registry_prepare(db,
				 "SELECT template_id, status, pages, stage_ms FROM"
				 " (SELECT * FROM statistics ORDER BY id DESC LIMIT ?)"
				 " ORDER BY id",
				 &stmt, error))
		return NULL;
	sqlite3_bind_int64(stmt, 1, window);
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)cg_registry_statistic_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		CgRegistryStatistic *row = g_new0(CgRegistryStatistic, 1);

		row->template_id = cg_registry_column_text(stmt, 0);
		row->status = cg_registry_column_text(stmt, 1);
		row->pages = (guint)CLAMP(sqlite3_column_int64(stmt, 2), 0, G_MAXUINT);
		row->stage_ms = cg_registry_column_text(stmt, 3);
		g_ptr_array_add(rows, row);
	}
	if (rc != SQLITE_DONE) {
		cg_registry_fail(db, "read the statistics", error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry's table of persistent generations (see cg-registry.h). Rows
 * go through the writing connection: they are few (one per persistent
 * generation) and read once, at startup.
 */
#include "cg-registry-private.h"

#include "cg-error.h"

void
cg_registry_generation_free(CgRegistryGeneration *generation)
{
	if (generation == NULL)
		return;
	g_free(generation->progress_id);
	g_free(generation->owner_label);
	g_free(generation->file_name);
	g_clear_pointer(&generation->record, g_bytes_unref);
	g_free(generation);
}

gboolean
cg_registry_keep_generation(CgRegistry *registry, const CgRegistryGeneration *generation,
			    GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gconstpointer data;
	gsize size = 0;
	sqlite3 *db;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(generation != NULL && generation->record != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_prepare(db,
				 "INSERT OR REPLACE INTO generations (progress_id, owner_uid,"
				 " owner_label, file_name, file_size, finished_at_us, record)"
				 " VALUES (?, ?, ?, ?, ?, ?, ?)",
				 &stmt, error))
		return FALSE;
	data = g_bytes_get_data(generation->record, &size);
	cg_registry_bind_text(stmt, 1, generation->progress_id);
	sqlite3_bind_int64(stmt, 2, generation->owner_uid);
	cg_registry_bind_text(stmt, 3, generation->owner_label);
	cg_registry_bind_text(stmt, 4, generation->file_name);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)generation->file_size);
	sqlite3_bind_int64(stmt, 6, generation->finished_at_us);
	sqlite3_bind_blob64(stmt, 7, data != NULL ? data : "", size, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return cg_registry_fail(db, "keep a persistent generation", error);
	return TRUE;
}

gboolean
cg_registry_forget_generation(CgRegistry *registry, const char *progress_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	sqlite3 *db;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(progress_id != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_prepare(db, "DELETE FROM generations WHERE progress_id = ?", &stmt, error))
		return FALSE;
	cg_registry_bind_text(stmt, 1, progress_id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return cg_registry_fail(db, "forget a persistent generation", error);
	return TRUE;
}

GPtrArray *
cg_registry_list_generations(CgRegistry *registry, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	sqlite3 *db;
	int rc;

	g_return_val_if_fail(registry != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_prepare(db,
				 "SELECT progress_id, owner_uid, owner_label, file_name, file_size,"
				 " finished_at_us, record FROM generations"
				 " ORDER BY finished_at_us, progress_id",
				 &stmt, error))
		return NULL;
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)cg_registry_generation_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		CgRegistryGeneration *row = g_new0(CgRegistryGeneration, 1);
		const void *blob = sqlite3_column_blob(stmt, 6);
		int blob_size = sqlite3_column_bytes(stmt, 6);

		row->progress_id = cg_registry_column_text(stmt, 0);
		row->owner_uid = (guint32)sqlite3_column_int64(stmt, 1);
		row->owner_label = cg_registry_column_text(stmt, 2);
		row->file_name = cg_registry_column_text(stmt, 3);
		row->file_size = (guint64)sqlite3_column_int64(stmt, 4);
		row->finished_at_us = sqlite3_column_int64(stmt, 5);
		row->record = g_bytes_new(blob, blob != NULL ? (gsize)blob_size : 0);
		g_ptr_array_add(rows, row);
		if (row->progress_id == NULL || row->file_name == NULL) {
			g_set_error_literal(error, CG_ERROR, CG_ERROR_FAILED,
					    "Registry: a persistent generation has no id or file");
			return NULL;
		}
	}
	if (rc != SQLITE_DONE) {
		cg_registry_fail(db, "list the persistent generations", error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

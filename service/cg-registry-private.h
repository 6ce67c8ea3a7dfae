/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the registry's files share (cg-registry.c: the connections, the
 * schema, numbers and certificates; cg-registry-generations.c: persistent
 * generations; cg-registry-statistics.c: the statistics window). Not for
 * use outside them.
 */

#include <glib.h>
#include <sqlite3.h>

#include "cg-registry.h"

G_BEGIN_DECLS

typedef struct {
	GMutex lock;
	sqlite3 *db;
} CgRegistryConn;

struct _CgRegistry {
	char *state_dir;
	int lock_fd; /* flock on counter.lock: one process per state directory */
	CgRegistryConn write;
	CgRegistryConn read;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

/* CG_ERROR_FAILED "Registry: cannot @what: <sqlite's message>"; FALSE. */
gboolean cg_registry_fail(sqlite3 *db, const char *what, GError **error);
gboolean cg_registry_exec(sqlite3 *db, const char *sql, const char *what, GError **error);
/* After a failed step inside a transaction. */
void cg_registry_rollback(sqlite3 *db);
gboolean cg_registry_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, GError **error);
/* NULL binds NULL; the text must outlive the step. */
void cg_registry_bind_text(sqlite3_stmt *stmt, int index, const char *text);
/* A copy of the column's text, or NULL. */
char *cg_registry_column_text(sqlite3_stmt *stmt, int column);

G_END_DECLS

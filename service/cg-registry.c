/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-registry.h"
#include "cg-registry-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cg-error.h"
#include "cg-fsutil.h"

#define CG_REGISTRY_FILE "registry.db"
#define CG_REGISTRY_SCHEMA 2
#define CG_REGISTRY_BUSY_MS 10000
#define CG_COUNTER_FILE "counter"
#define CG_COUNTER_MIGRATED "counter.migrated"

static const char cg_registry_schema[] =
    "CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);"
    "INSERT INTO counter (id, last) VALUES (1, 0);"
    "CREATE TABLE certificates ("
    " number TEXT PRIMARY KEY NOT NULL,"
    " sequence INTEGER NOT NULL UNIQUE,"
    " progress_id TEXT NOT NULL,"
    " owner_uid INTEGER NOT NULL,"
    " owner_label TEXT,"
    " template_id TEXT NOT NULL,"
    " issued_at_us INTEGER NOT NULL,"
    " fields TEXT NOT NULL,"
    " data_sha256 TEXT NOT NULL,"
    " file_sha256 TEXT NOT NULL,"
    " code_sha256 TEXT NOT NULL,"
    " revoked_at_us INTEGER NOT NULL DEFAULT 0,"
    " revocation_reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX certificates_progress ON certificates (progress_id);";

/* Version 2: persistent generations and the statistics window. */
static const char cg_registry_schema_2[] = "CREATE TABLE generations ("
					   " progress_id TEXT PRIMARY KEY NOT NULL,"
					   " owner_uid INTEGER NOT NULL,"
					   " owner_label TEXT,"
					   " file_name TEXT NOT NULL UNIQUE,"
					   " file_size INTEGER NOT NULL,"
					   " finished_at_us INTEGER NOT NULL,"
					   " record BLOB NOT NULL);"
					   "CREATE TABLE statistics ("
					   " id INTEGER PRIMARY KEY AUTOINCREMENT,"
					   " template_id TEXT NOT NULL,"
					   " status TEXT NOT NULL,"
					   " pages INTEGER NOT NULL,"
					   " stage_ms TEXT NOT NULL);";

gboolean
cg_registry_fail(sqlite3 *db, const char *what, GError **error)
{
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Registry: cannot %s: %s", what,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
	return FALSE;
}

gboolean
cg_registry_exec(sqlite3 *db, const char *sql, const char *what, GError **error)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return cg_registry_fail(db, what, error);
	return TRUE;
}

/* After a failed step inside a transaction. */
void
cg_registry_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
cg_registry_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, GError **error)
{
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK)
		return cg_registry_fail(db, "prepare a statement", error);
	return TRUE;
}

static gboolean
cg_registry_set_errno(GError **error, int errsv, const char *what, const char *path)
{
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot %s %s: %s", what, path,
		    g_strerror(errsv));
	return FALSE;
}

/* The text of an old counter file: decimal digits and an optional final
 * newline, nothing else. */
static gboolean
cg_registry_parse_counter(const char *path, const char *contents, gsize length, guint64 *value,
			  GError **error)
{
	g_autofree char *text = g_strndup(contents, length);
	gsize n_digits = length;

	if (n_digits > 0 && text[n_digits - 1] == '\n')
		n_digits--;
	for (gsize i = 0; i < n_digits; i++) {
		if (!g_ascii_isdigit(text[i]))
			n_digits = 0;
	}
	text[n_digits] = '\0';
	if (n_digits == 0 || strlen(text) != n_digits ||
	    !g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, value, NULL)) {
		g_autofree char *shown = g_strndup(contents, MIN(length, 32));
		g_autofree char *escaped = g_strescape(shown, NULL);

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "Counter file %s is corrupt: expected a decimal number, found \"%s%s\"",
			    path, escaped, length > 32 ? "..." : "");
		return FALSE;
	}
	return TRUE;
}

/* Two processes handing out numbers from one state directory would repeat
 * them: the second one is refused. */
static gboolean
cg_registry_lock(CgRegistry *registry, GError **error)
{
	g_autofree char *lock_path = g_build_filename(registry->state_dir, "counter.lock", NULL);

	registry->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (registry->lock_fd < 0)
		return cg_registry_set_errno(error, errno, "open", lock_path);
	if (flock(registry->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int saved_errno = errno;

		if (saved_errno == EWOULDBLOCK) {
			g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
				    "%s is in use by another process (is another certgend "
				    "running with this state directory?)",
				    registry->state_dir);
			return FALSE;
		}
		return cg_registry_set_errno(error, saved_errno, "lock", lock_path);
	}
	return TRUE;
}

static gboolean
cg_registry_connect(const char *path, CgRegistryConn *conn, GError **error)
{
	g_mutex_init(&conn->lock);
	if (sqlite3_open_v2(path, &conn->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot open the registry %s: %s",
			    path, conn->db != NULL ? sqlite3_errmsg(conn->db) : "out of memory");
		return FALSE;
	}
	sqlite3_busy_timeout(conn->db, CG_REGISTRY_BUSY_MS);
	sqlite3_extended_result_codes(conn->db, 1);
	return cg_registry_exec(conn->db,
				"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				" PRAGMA foreign_keys=ON;",
				"set the journal mode", error);
}

static void
cg_registry_disconnect(CgRegistryConn *conn)
{
	sqlite3_close(conn->db);
	conn->db = NULL;
	g_mutex_clear(&conn->lock);
}

static gboolean
cg_registry_get_version(sqlite3 *db, gint64 *version, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;

	if (!cg_registry_prepare(db, "PRAGMA user_version", &stmt, error))
		return FALSE;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return cg_registry_fail(db, "read the schema version", error);
	*version = sqlite3_column_int64(stmt, 0);
	return TRUE;
}

/* Creates the schema of a new registry (user_version 0), or brings an
 * older one up to date, in one transaction. */
static gboolean
cg_registry_migrate_schema(sqlite3 *db, GError **error)
{
	gint64 version = 0;
	g_autofree char *set_version = NULL;

	if (!cg_registry_exec(db, "BEGIN IMMEDIATE", "begin", error))
		return FALSE;
	if (!cg_registry_get_version(db, &version, error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	if (version == CG_REGISTRY_SCHEMA)
		return cg_registry_exec(db, "COMMIT", "commit", error);
	if (version < 0 || version > CG_REGISTRY_SCHEMA) {
		cg_registry_rollback(db);
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "The registry's schema version %" G_GINT64_FORMAT
			    " is not one this certgend knows (%d)",
			    version, CG_REGISTRY_SCHEMA);
		return FALSE;
	}
	set_version = g_strdup_printf("PRAGMA user_version = %d", CG_REGISTRY_SCHEMA);
	if ((version < 1 &&
	     !cg_registry_exec(db, cg_registry_schema, "create the schema", error)) ||
	    (version < 2 &&
	     !cg_registry_exec(db, cg_registry_schema_2, "add the schema of version 2", error)) ||
	    !cg_registry_exec(db, set_version, "set the schema version", error) ||
	    !cg_registry_exec(db, "COMMIT", "commit the schema", error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	return TRUE;
}

/* The counter file of an older certgend: its value raises the registry's
 * (idempotent, so a crash before the rename only repeats it), then it is
 * renamed away. */
static gboolean
cg_registry_migrate_counter(CgRegistry *registry, GError **error)
{
	g_autofree char *path = g_build_filename(registry->state_dir, CG_COUNTER_FILE, NULL);
	g_autofree char *migrated =
	    g_build_filename(registry->state_dir, CG_COUNTER_MIGRATED, NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	sqlite3 *db = registry->write.db;
	guint64 value = 0;
	gsize length = 0;
	int errsv;

	if (!g_file_get_contents(path, &contents, &length, &error_local)) {
		if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Cannot read counter file: %s",
			    error_local->message);
		return FALSE;
	}
	if (!cg_registry_parse_counter(path, contents, length, &value, error))
		return FALSE;
	if (!cg_registry_prepare(db, "UPDATE counter SET last = MAX(last, ?) WHERE id = 1", &stmt,
				 error))
		return FALSE;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)value);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return cg_registry_fail(db, "take over the counter file", error);
	if (g_rename(path, migrated) != 0)
		return cg_registry_set_errno(error, errno, "rename", path);
	errsv = cg_fs_fsync_dir(registry->state_dir);
	if (errsv != 0)
		return cg_registry_set_errno(error, errsv, "fsync", registry->state_dir);
	g_info("Certificate numbers moved from %s (last %" G_GUINT64_FORMAT ") to the registry",
	       path, value);
	return TRUE;
}

CgRegistry *
cg_registry_open(const char *state_dir, GError **error)
{
	g_autoptr(CgRegistry) registry = NULL;
	g_autofree char *path = NULL;

	g_return_val_if_fail(state_dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (g_mkdir_with_parents(state_dir, 0750) < 0) {
		cg_registry_set_errno(error, errno, "create directory", state_dir);
		return NULL;
	}
	registry = g_new0(CgRegistry, 1);
	registry->lock_fd = -1;
	registry->state_dir = g_strdup(state_dir);
	if (!cg_registry_lock(registry, error))
		return NULL;
	path = g_build_filename(state_dir, CG_REGISTRY_FILE, NULL);
	if (!cg_registry_connect(path, &registry->write, error) ||
	    !cg_registry_migrate_schema(registry->write.db, error) ||
	    !cg_registry_migrate_counter(registry, error) ||
	    !cg_registry_connect(path, &registry->read, error))
		return NULL;
	return g_steal_pointer(&registry);
}

void
cg_registry_free(CgRegistry *registry)
{
	if (registry == NULL)
		return;
	if (registry->read.db != NULL)
		cg_registry_disconnect(&registry->read);
	if (registry->write.db != NULL)
		cg_registry_disconnect(&registry->write);
	if (registry->lock_fd >= 0)
		close(registry->lock_fd);
	g_free(registry->state_dir);
	g_free(registry);
}

gboolean
cg_registry_reserve(CgRegistry *registry, guint n, guint64 *first, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	sqlite3 *db;
	gint64 last;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(first != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (n == 0) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "Cannot reserve 0 certificate numbers");
		return FALSE;
	}
	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_exec(db, "BEGIN IMMEDIATE", "begin", error))
		return FALSE;
	if (!cg_registry_prepare(db, "SELECT last FROM counter WHERE id = 1", &stmt, error) ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		if (error != NULL && *error == NULL)
			cg_registry_fail(db, "read the counter", error);
		cg_registry_rollback(db);
		return FALSE;
	}
	last = sqlite3_column_int64(stmt, 0);
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (last < 0 || (gint64)n > G_MAXINT64 - last) {
		cg_registry_rollback(db);
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED,
			    "The certificate counter would overflow: %" G_GINT64_FORMAT " + %u",
			    last, n);
		return FALSE;
	}
	if (!cg_registry_prepare(db, "UPDATE counter SET last = ? WHERE id = 1", &stmt, error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	sqlite3_bind_int64(stmt, 1, last + n);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		cg_registry_fail(db, "update the counter", error);
		cg_registry_rollback(db);
		return FALSE;
	}
	if (!cg_registry_exec(db, "COMMIT", "commit the counter", error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	*first = (guint64)last + 1;
	return TRUE;
}

void
cg_registry_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

gboolean
cg_registry_insert(CgRegistry *registry, const CgRegistryIssue *issue, const CgRegistryPage *pages,
		   guint n_pages, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	sqlite3 *db;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(issue != NULL, FALSE);
	g_return_val_if_fail(pages != NULL || n_pages == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_exec(db, "BEGIN IMMEDIATE", "begin", error))
		return FALSE;
	if (!cg_registry_prepare(db,
				 "INSERT INTO certificates (number, sequence, progress_id,"
				 " owner_uid, owner_label, template_id, issued_at_us, fields,"
				 " data_sha256, file_sha256, code_sha256)"
				 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				 &stmt, error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	cg_registry_bind_text(stmt, 3, issue->progress_id);
	sqlite3_bind_int64(stmt, 4, issue->owner_uid);
	cg_registry_bind_text(stmt, 5, issue->owner_label);
	cg_registry_bind_text(stmt, 6, issue->template_id);
	sqlite3_bind_int64(stmt, 7, issue->issued_at_us);
	for (guint i = 0; i < n_pages; i++) {
		cg_registry_bind_text(stmt, 1, pages[i].number);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)pages[i].sequence);
		cg_registry_bind_text(stmt, 8, pages[i].fields_json);
		cg_registry_bind_text(stmt, 9, pages[i].data_sha256);
		cg_registry_bind_text(stmt, 11, pages[i].code_sha256);
		cg_registry_bind_text(stmt, 10,
				      pages[i].file_sha256 != NULL ? pages[i].file_sha256
								   : issue->file_sha256);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			cg_registry_fail(db, "insert a certificate", error);
			g_prefix_error(error, "%s: ", pages[i].number);
			sqlite3_reset(stmt);
			cg_registry_rollback(db);
			return FALSE;
		}
		sqlite3_reset(stmt);
	}
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (!cg_registry_exec(db, "COMMIT", "commit the certificates", error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	return TRUE;
}

void
cg_registry_record_free(CgRegistryRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->number);
	g_free(record->progress_id);
	g_free(record->owner_label);
	g_free(record->template_id);
	g_free(record->fields_json);
	g_free(record->data_sha256);
	g_free(record->file_sha256);
	g_free(record->code_sha256);
	g_free(record->revocation_reason);
	g_free(record);
}

char *
cg_registry_column_text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	return text != NULL ? g_strdup((const char *)text) : NULL;
}

CgRegistryRecord *
cg_registry_lookup(CgRegistry *registry, const char *number, GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	CgRegistryRecord *record;
	sqlite3 *db;
	int rc;

	g_return_val_if_fail(registry != NULL, NULL);
	g_return_val_if_fail(number != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	locker = g_mutex_locker_new(&registry->read.lock);
	db = registry->read.db;
	if (!cg_registry_prepare(db,
				 "SELECT number, sequence, progress_id, owner_uid, owner_label,"
				 " template_id, issued_at_us, fields, data_sha256, file_sha256,"
				 " code_sha256, revoked_at_us, revocation_reason"
				 " FROM certificates WHERE number = ?",
				 &stmt, error))
		return NULL;
	cg_registry_bind_text(stmt, 1, number);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		g_set_error(error, CG_ERROR, CG_ERROR_NOT_FOUND, "No certificate %s", number);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		cg_registry_fail(db, "look up a certificate", error);
		return NULL;
	}
	record = g_new0(CgRegistryRecord, 1);
	record->number = cg_registry_column_text(stmt, 0);
	record->sequence = (guint64)sqlite3_column_int64(stmt, 1);
	record->progress_id = cg_registry_column_text(stmt, 2);
	record->owner_uid = (guint32)sqlite3_column_int64(stmt, 3);
	record->owner_label = cg_registry_column_text(stmt, 4);
	record->template_id = cg_registry_column_text(stmt, 5);
	record->issued_at_us = sqlite3_column_int64(stmt, 6);
	record->fields_json = cg_registry_column_text(stmt, 7);
	record->data_sha256 = cg_registry_column_text(stmt, 8);
	record->file_sha256 = cg_registry_column_text(stmt, 9);
	record->code_sha256 = cg_registry_column_text(stmt, 10);
	record->revoked_at_us = sqlite3_column_int64(stmt, 11);
	record->revocation_reason = cg_registry_column_text(stmt, 12);
	return record;
}

gboolean
cg_registry_revoke(CgRegistry *registry, const char *number, const char *reason, gint64 now_us,
		   GError **error)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	sqlite3 *db;
	gint64 revoked_at = 0;
	int rc;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(number != NULL, FALSE);
	g_return_val_if_fail(reason != NULL, FALSE);
	g_return_val_if_fail(now_us > 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	locker = g_mutex_locker_new(&registry->write.lock);
	db = registry->write.db;
	if (!cg_registry_exec(db, "BEGIN IMMEDIATE", "begin", error))
		return FALSE;
	if (!cg_registry_prepare(db, "SELECT revoked_at_us FROM certificates WHERE number = ?",
				 &stmt, error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	cg_registry_bind_text(stmt, 1, number);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		revoked_at = sqlite3_column_int64(stmt, 0);
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (rc != SQLITE_ROW || revoked_at != 0) {
		cg_registry_rollback(db);
		if (rc == SQLITE_DONE)
			g_set_error(error, CG_ERROR, CG_ERROR_NOT_FOUND, "No certificate %s",
				    number);
		else if (rc == SQLITE_ROW)
			g_set_error(error, CG_ERROR, CG_ERROR_ALREADY_REVOKED,
				    "Certificate %s is already revoked", number);
		else
			cg_registry_fail(db, "look up a certificate", error);
		return FALSE;
	}
	if (!cg_registry_prepare(db,
				 "UPDATE certificates SET revoked_at_us = ?, revocation_reason = ?"
				 " WHERE number = ?",
				 &stmt, error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	sqlite3_bind_int64(stmt, 1, now_us);
	cg_registry_bind_text(stmt, 2, reason);
	cg_registry_bind_text(stmt, 3, number);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		cg_registry_fail(db, "revoke a certificate", error);
		cg_registry_rollback(db);
		return FALSE;
	}
	if (!cg_registry_exec(db, "COMMIT", "commit the revocation", error)) {
		cg_registry_rollback(db);
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_registry_has_generation(CgRegistry *registry, const char *progress_id)
{
	g_autoptr(GMutexLocker) locker = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(progress_id != NULL, FALSE);

	locker = g_mutex_locker_new(&registry->read.lock);
	if (!cg_registry_prepare(registry->read.db,
				 "SELECT 1 FROM certificates WHERE progress_id = ? LIMIT 1", &stmt,
				 NULL))
		return FALSE;
	cg_registry_bind_text(stmt, 1, progress_id);
	return sqlite3_step(stmt) == SQLITE_ROW;
}

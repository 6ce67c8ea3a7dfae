/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The registry of issued certificates: SQLite in <state_dir>/registry.db
 * (WAL, synchronous=FULL, a busy timeout, the schema's version in PRAGMA
 * user_version). It is the single source of certificate numbers (table
 * counter, one row) and holds one row per certificate page (table
 * certificates: its number, the generation and owner that issued it, the
 * template, the issue time, the printed fields as JSON, the SHA-256 of the
 * canonical recipient data and of the file, the SHA-256 of its verification
 * code, and its revocation).
 *
 * A <state_dir>/counter file of an older certgend is read once when the
 * registry has handed out no number yet, its value taken over in the same
 * transaction that creates the schema, then renamed to counter.migrated:
 * from then on only the registry gives numbers.
 *
 * Threads: two connections, each behind its own mutex. Workers write
 * (reserve, insert) and the main loop revokes through the writing one; the
 * main loop's lookups (Verify, owner checks) go through the reading one, so
 * that with WAL a lookup never waits for a batch's insert transaction. One
 * connection per purpose rather than per thread: the worker pool is small
 * and SQLite serializes writers anyway, and a mutex per connection is what
 * SQLite's "multi-thread" mode needs.
 *
 * Crash safety (see cg-pipeline.c for the order of the file steps): numbers
 * are reserved in their own committed transaction before any page is drawn,
 * so a crash after it skips them and never hands them out again; the rows
 * are inserted in one transaction after the file is durably in place, so a
 * crash before COMMIT leaves a file without rows (removed by the startup
 * sweep) but never a row without its file.
 *
 * One process per state directory: an flock on <state_dir>/counter.lock.
 */

typedef struct _CgRegistry CgRegistry;

CgRegistry *cg_registry_open(const char *state_dir, GError **error);
void cg_registry_free(CgRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRegistry, cg_registry_free)

/* Reserve @n consecutive numbers in one committed transaction; *@first gets
 * the first one (numbers start at 1). */
gboolean cg_registry_reserve(CgRegistry *registry, guint n, guint64 *first, GError **error);

/* What the pages of one generation share. */
typedef struct {
	const char *progress_id;
	guint32 owner_uid;
	const char *owner_label; /* or NULL */
	const char *template_id;
	gint64 issued_at_us;
	const char *file_sha256; /* hex */
} CgRegistryIssue;

/* One page. */
typedef struct {
	const char *number; /* "CERT2026000042" */
	guint64 sequence;   /* 42 */
	const char *fields_json;
	const char *data_sha256; /* hex */
	const char *code_sha256; /* hex */
	/* The page's own file when it has one (a ZIP's member PDF), else NULL:
	 * the issue's file_sha256. */
	const char *file_sha256;
} CgRegistryPage;

/* Insert the rows of @n_pages pages in one transaction. */
gboolean cg_registry_insert(CgRegistry *registry, const CgRegistryIssue *issue,
			    const CgRegistryPage *pages, guint n_pages, GError **error);

typedef struct {
	char *number;
	guint64 sequence;
	char *progress_id;
	guint32 owner_uid;
	char *owner_label; /* or NULL */
	char *template_id;
	gint64 issued_at_us;
	char *fields_json;
	char *data_sha256;
	char *file_sha256;
	char *code_sha256;
	gint64 revoked_at_us; /* 0: valid */
	char *revocation_reason;
} CgRegistryRecord;

void cg_registry_record_free(CgRegistryRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRegistryRecord, cg_registry_record_free)

/* The row of @number, or NULL: CG_ERROR_NOT_FOUND when there is none. */
CgRegistryRecord *cg_registry_lookup(CgRegistry *registry, const char *number, GError **error);

/* Whether the registry holds rows of generation @progress_id. */
gboolean cg_registry_has_generation(CgRegistry *registry, const char *progress_id);

/* Marks @number revoked at @now_us for @reason: CG_ERROR_NOT_FOUND when
 * there is no such row, CG_ERROR_ALREADY_REVOKED when it is revoked. */
gboolean cg_registry_revoke(CgRegistry *registry, const char *number, const char *reason,
			    gint64 now_us, GError **error);

/* ---- persistent generations (cg-registry-generations.c) ----------------
 * Table generations: one row per completed generation that asked for
 * persistence, from its completion (written before `completed` is sent)
 * until its owner's Cleanup or keep_days: the owner, the result file's name
 * in the certificates directory and size, the end time, and the tracker's
 * record of it (an opaque blob, see cg-persistence.c). Main thread. */

typedef struct {
	char *progress_id;
	guint32 owner_uid;
	char *owner_label; /* or NULL */
	char *file_name;   /* "<id>.pdf" or "<id>.zip" */
	guint64 file_size;
	gint64 finished_at_us;
	GBytes *record;
} CgRegistryGeneration;

void cg_registry_generation_free(CgRegistryGeneration *generation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRegistryGeneration, cg_registry_generation_free)

/* Insert (or replace) the row of @generation, committed when it returns. */
gboolean cg_registry_keep_generation(CgRegistry *registry, const CgRegistryGeneration *generation,
				     GError **error);
/* Delete the row of @progress_id (none: nothing to do). */
gboolean cg_registry_forget_generation(CgRegistry *registry, const char *progress_id,
				       GError **error);
/* Every row, oldest end first (CgRegistryGeneration, owned by the array). */
GPtrArray *cg_registry_list_generations(CgRegistry *registry, GError **error);

/* ---- the statistics window (cg-registry-statistics.c) -------------------
 * Table statistics: one row per finished generation (template, final
 * status, pages, ms per stage, -1 where not reached), the newest `window`
 * kept. Main thread. */

typedef struct {
	char *template_id;
	char *status; /* cg_status_to_string() */
	guint pages;
	char *stage_ms; /* comma-separated, one per timed stage */
} CgRegistryStatistic;

void cg_registry_statistic_free(CgRegistryStatistic *statistic);

/* Append @n entries and drop all but the newest @window, in one
 * transaction. */
gboolean cg_registry_add_statistics(CgRegistry *registry, const CgRegistryStatistic *entries,
				    guint n, guint window, GError **error);
/* The newest @window entries, oldest first (CgRegistryStatistic, owned by
 * the array). */
GPtrArray *cg_registry_list_statistics(CgRegistry *registry, guint window, GError **error);

G_END_DECLS

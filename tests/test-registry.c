/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "cg-error.h"
#include "cg-registry.h"
#include "cg-test-util.h"

#define N_THREADS 4
#define N_RESERVATIONS 25

typedef CgTestScratch Fixture;

static CgRegistry *
open_registry(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	CgRegistry *registry = cg_registry_open(fixture->dir, &error);

	g_assert_no_error(error);
	g_assert_nonnull(registry);
	return registry;
}

static guint64
reserve(CgRegistry *registry, guint n)
{
	g_autoptr(GError) error = NULL;
	guint64 first = 0;

	g_assert_true(cg_registry_reserve(registry, n, &first, &error));
	g_assert_no_error(error);
	return first;
}

static void
write_file(Fixture *fixture, const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(fixture->dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

static gboolean
file_exists(Fixture *fixture, const char *name)
{
	g_autofree char *path = g_build_filename(fixture->dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Numbers start at 1, follow on, and survive a reopen. */
static void
test_registry_reserve(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(CgRegistry) registry = open_registry(fixture);
	g_autoptr(GError) error = NULL;
	guint64 first = 0;

	g_assert_cmpuint(reserve(registry, 1), ==, 1);
	g_assert_cmpuint(reserve(registry, 10), ==, 2);
	g_assert_cmpuint(reserve(registry, 1), ==, 12);
	g_assert_false(cg_registry_reserve(registry, 0, &first, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_clear_pointer(&registry, cg_registry_free);

	registry = open_registry(fixture);
	g_assert_cmpuint(reserve(registry, 3), ==, 13);
	g_assert_true(file_exists(fixture, "registry.db"));
	g_assert_false(file_exists(fixture, "counter"));
}

/* An older certgend's counter file is taken over once and renamed away. */
static void
test_registry_migrate(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(CgRegistry) registry = NULL;

	write_file(fixture, "counter", "41\n");
	registry = open_registry(fixture);
	g_assert_false(file_exists(fixture, "counter"));
	g_assert_true(file_exists(fixture, "counter.migrated"));
	g_assert_cmpuint(reserve(registry, 2), ==, 42);
	g_clear_pointer(&registry, cg_registry_free);

	/* a crash between the commit and the rename: taken again, never lower */
	write_file(fixture, "counter", "5");
	registry = open_registry(fixture);
	g_assert_cmpuint(reserve(registry, 1), ==, 44);
	g_clear_pointer(&registry, cg_registry_free);

	write_file(fixture, "counter", "100");
	registry = open_registry(fixture);
	g_assert_cmpuint(reserve(registry, 1), ==, 101);
}

static void
test_registry_migrate_corrupt(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRegistry) registry = NULL;

	write_file(fixture, "counter", "12x\n");
	registry = cg_registry_open(fixture->dir, &error);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "corrupt"));
	g_assert_null(registry);
	/* left for the administrator to look at */
	g_assert_true(file_exists(fixture, "counter"));
}

static void
test_registry_exclusive(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRegistry) first = open_registry(fixture);
	g_autoptr(CgRegistry) second = cg_registry_open(fixture->dir, &error);

	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "in use by another process"));
	g_assert_null(second);
	g_clear_error(&error);
	g_clear_pointer(&first, cg_registry_free);
	second = open_registry(fixture);
}

typedef struct {
	CgRegistry *registry;
	guint index;
	guint64 firsts[N_RESERVATIONS];
	guint sizes[N_RESERVATIONS];
} Worker;

static gpointer
reserve_thread(gpointer user_data)
{
	Worker *worker = user_data;

	for (guint i = 0; i < N_RESERVATIONS; i++) {
		worker->sizes[i] = 1 + (worker->index + i) % 5;
		worker->firsts[i] = reserve(worker->registry, worker->sizes[i]);
	}
	return NULL;
}

/* Workers reserve at once: every number is handed out exactly once. */
static void
test_registry_threads(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(CgRegistry) registry = open_registry(fixture);
	Worker workers[N_THREADS];
	GThread *threads[N_THREADS];
	g_autofree guint8 *seen = NULL;
	guint64 total = 0;

	for (guint t = 0; t < N_THREADS; t++) {
		workers[t] = (Worker){.registry = registry, .index = t};
		threads[t] = g_thread_new("reserve", reserve_thread, &workers[t]);
	}
	for (guint t = 0; t < N_THREADS; t++) {
		g_thread_join(threads[t]);
		for (guint i = 0; i < N_RESERVATIONS; i++)
			total += workers[t].sizes[i];
	}
	seen = g_new0(guint8, total + 1);
	for (guint t = 0; t < N_THREADS; t++) {
		for (guint i = 0; i < N_RESERVATIONS; i++) {
			for (guint k = 0; k < workers[t].sizes[i]; k++) {
				guint64 number = workers[t].firsts[i] + k;

				g_assert_cmpuint(number, >=, 1);
				g_assert_cmpuint(number, <=, total);
				g_assert_cmpuint(seen[number], ==, 0);
				seen[number] = 1;
			}
		}
	}
	g_assert_cmpuint(reserve(registry, 1), ==, total + 1);
}

static void
insert_two(CgRegistry *registry, GError **error)
{
	const CgRegistryIssue issue = {"gen-1", 1000, NULL, "classic", 1700000000000000, "f1le"};
	const CgRegistryPage pages[] = {
	    {"CERT2023000001", 1, "{\"recipientName\":\"Ada\"}", "d1", "c1"},
	    {"CERT2023000002", 2, "{\"recipientName\":\"Bob\"}", "d2", "c2"},
	};

	cg_registry_insert(registry, &issue, pages, G_N_ELEMENTS(pages), error);
}

/* Rows go in, come out after a reopen, and are revoked once. */
static void
test_registry_rows(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(CgRegistry) registry = open_registry(fixture);
	g_autoptr(CgRegistryRecord) record = NULL;
	g_autoptr(GError) error = NULL;

	insert_two(registry, &error);
	g_assert_no_error(error);
	g_clear_pointer(&registry, cg_registry_free);
	registry = open_registry(fixture);

	record = cg_registry_lookup(registry, "CERT2023000002", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(record->number, ==, "CERT2023000002");
	g_assert_cmpuint(record->sequence, ==, 2);
	g_assert_cmpstr(record->progress_id, ==, "gen-1");
	g_assert_cmpuint(record->owner_uid, ==, 1000);
	g_assert_null(record->owner_label);
	g_assert_cmpstr(record->template_id, ==, "classic");
	g_assert_cmpint(record->issued_at_us, ==, 1700000000000000);
	g_assert_cmpstr(record->fields_json, ==, "{\"recipientName\":\"Bob\"}");
	g_assert_cmpstr(record->data_sha256, ==, "d2");
	g_assert_cmpstr(record->file_sha256, ==, "f1le");
	g_assert_cmpstr(record->code_sha256, ==, "c2");
	g_assert_cmpint(record->revoked_at_us, ==, 0);
	g_assert_cmpstr(record->revocation_reason, ==, "");
	g_clear_pointer(&record, cg_registry_record_free);

	g_assert_null(cg_registry_lookup(registry, "CERT2023000003", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_FOUND);
	g_clear_error(&error);

	g_assert_true(
	    cg_registry_revoke(registry, "CERT2023000001", "typo", 1800000000000000, &error));
	g_assert_no_error(error);
	g_assert_false(
	    cg_registry_revoke(registry, "CERT2023000001", "again", 1800000000000001, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_ALREADY_REVOKED);
	g_clear_error(&error);
	g_assert_false(cg_registry_revoke(registry, "CERT2023000009", "x", 1, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_FOUND);
	g_clear_error(&error);

	g_clear_pointer(&registry, cg_registry_free);
	registry = open_registry(fixture);
	record = cg_registry_lookup(registry, "CERT2023000001", &error);
	g_assert_no_error(error);
	g_assert_cmpint(record->revoked_at_us, ==, 1800000000000000);
	g_assert_cmpstr(record->revocation_reason, ==, "typo");
}

/* One transaction: a batch with a duplicate number leaves no row at all. */
static void
test_registry_insert_atomic(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(CgRegistry) registry = open_registry(fixture);
	g_autoptr(GError) error = NULL;
	const CgRegistryIssue issue = {"gen-2", 1000, "web:alice", "classic", 1, "f"};
	const CgRegistryPage pages[] = {
	    {"CERT2023000005", 5, "{}", "d", "c"},
	    {"CERT2023000005", 6, "{}", "d", "c"},
	};
	g_autoptr(CgRegistryRecord) record = NULL;

	g_assert_false(cg_registry_insert(registry, &issue, pages, 2, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "CERT2023000005"));
	g_clear_error(&error);
	g_assert_null(cg_registry_lookup(registry, "CERT2023000005", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* and the connection is usable afterwards */
	g_assert_true(cg_registry_insert(registry, &issue, pages, 1, &error));
	g_assert_no_error(error);
	record = cg_registry_lookup(registry, "CERT2023000005", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(record->owner_label, ==, "web:alice");
}

/* A registry whose schema is newer than this certgend's is refused. */
static void
test_registry_unknown_schema(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRegistry) registry = open_registry(fixture);
	g_autofree char *path = g_build_filename(fixture->dir, "registry.db", NULL);
	g_autofree char *command = NULL;
	int status = 0;

	g_clear_pointer(&registry, cg_registry_free);
	command = g_strdup_printf("python3 -c \"import sqlite3; c = sqlite3.connect('%s');"
				  " c.execute('PRAGMA user_version = 99'); c.commit()\"",
				  path);
	g_assert_true(g_spawn_command_line_sync(command, NULL, NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	registry = cg_registry_open(fixture->dir, &error);
	g_assert_error(error, CG_ERROR, CG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "schema version 99"));
	g_assert_null(registry);
}

static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/registry/reserve", test_registry_reserve),
    CG_TEST_FIXTURE_CASE("/registry/migrate", test_registry_migrate),
    CG_TEST_FIXTURE_CASE("/registry/migrate-corrupt", test_registry_migrate_corrupt),
    CG_TEST_FIXTURE_CASE("/registry/exclusive", test_registry_exclusive),
    CG_TEST_FIXTURE_CASE("/registry/threads", test_registry_threads),
    CG_TEST_FIXTURE_CASE("/registry/rows", test_registry_rows),
    CG_TEST_FIXTURE_CASE("/registry/insert-atomic", test_registry_insert_atomic),
    CG_TEST_FIXTURE_CASE("/registry/unknown-schema", test_registry_unknown_schema),
};

CG_TEST_MAIN_WITH_SCRATCH(cases, "registry.db")

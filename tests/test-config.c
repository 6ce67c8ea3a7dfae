/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of cg-config: the defaults, the shipped data/certgen.conf, every
 * documented key and its range, and the errors for unknown groups and keys,
 * wrong values, unreadable files. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cg-config.h"
#include "cg-test-util.h"

/* Every key documented in data/certgen.conf and certgen.conf(5), with its
 * range; the field is reached through get(). */
typedef struct {
	const char *group;
	const char *key;
	guint64 min;
	guint64 max;
} Key;

static const Key keys[] = {
    {"limits", "start_per_minute", 1, 100000},
    {"limits", "max_active_per_owner", 1, 100000},
    {"limits", "max_active", 1, 100000},
    {"limits", "max_recipients", 1, 1000000},
    {"limits", "max_data_bytes", 1024, 1073741824},
    {"limits", "max_subscriptions_per_connection", 1, 100000},
    {"limits", "max_tracked", 1, 10000000},
    {"cleanup", "finished_ttl_s", 0, 86400 * 365},
    {"cleanup", "max_age_s", 1, 86400 * 365},
    {"workers", "threads", 1, 256},
    {"statistics", "window", 1, 100000},
    {"limits", "preview_per_minute", 1, 100000},
    {"persistence", "keep_days", 1, 3650},
    {"persistence", "max_persistent_bytes_per_owner", 0, G_GUINT64_CONSTANT(1) << 50},
};

static guint64
get(const CgConfig *config, gsize i)
{
	switch (i) {
	case 0:
		return config->start_per_minute;
	case 1:
		return config->max_active_per_owner;
	case 2:
		return config->max_active;
	case 3:
		return config->max_recipients;
	case 4:
		return config->max_data_bytes;
	case 5:
		return config->max_subscriptions_per_connection;
	case 6:
		return config->max_tracked;
	case 7:
		return config->finished_ttl_s;
	case 8:
		return config->max_age_s;
	case 9:
		return config->threads;
	case 10:
		return config->statistics_window;
	case 11:
		return config->preview_per_minute;
	case 12:
		return config->keep_days;
	case 13:
		return config->max_persistent_bytes_per_owner;
	}
	g_assert_not_reached();
}

static void
assert_config_equal(const CgConfig *a, const CgConfig *b)
{
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (get(a, i) != get(b, i))
			g_error("[%s] %s: %" G_GUINT64_FORMAT " != %" G_GUINT64_FORMAT,
				keys[i].group, keys[i].key, get(a, i), get(b, i));
	}
}

typedef CgTestScratch Fixture;

/* Writes @contents to the fixture's file and loads it over the defaults. */
static gboolean
load_text(Fixture *f, const char *contents, CgConfig *config, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	g_file_set_contents(f->path, contents, -1, &local_error);
	g_assert_no_error(local_error);
	cg_config_init_defaults(config);
	return cg_config_load(config, f->path, error);
}

/* The file must be refused with @code; the message starts with the path and
 * holds @needle; the config keeps its defaults. */
static void
assert_refused(Fixture *f, const char *contents, gint code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	CgConfig config, defaults;

	cg_config_init_defaults(&defaults);
	g_assert_false(load_text(f, contents, &config, &error));
	g_assert_error(error, G_KEY_FILE_ERROR, code);
	g_assert_true(g_str_has_prefix(error->message, f->path));
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' does not contain '%s'", error->message, needle);
	assert_config_equal(&config, &defaults);
}

static void
test_defaults(void)
{
	CgConfig config;

	memset(&config, 0, sizeof(config));
	cg_config_init_defaults(&config);
	/* DESIGN.md and certgen.conf(5) */
	g_assert_cmpuint(config.start_per_minute, ==, 5);
	g_assert_cmpuint(config.preview_per_minute, ==, 30);
	g_assert_cmpuint(config.max_active_per_owner, ==, 4);
	g_assert_cmpuint(config.max_active, ==, 32);
	g_assert_cmpuint(config.max_recipients, ==, 10000);
	g_assert_cmpuint(config.max_data_bytes, ==, 16 * 1024 * 1024);
	g_assert_cmpuint(config.max_subscriptions_per_connection, ==, 64);
	g_assert_cmpuint(config.max_tracked, ==, 100000);
	g_assert_cmpuint(config.finished_ttl_s, ==, 60);
	g_assert_cmpuint(config.max_age_s, ==, 1800);
	g_assert_cmpuint(config.threads, ==, MAX(1u, g_get_num_processors()));
	g_assert_cmpuint(config.statistics_window, ==, 1000);
	g_assert_cmpuint(config.keep_days, ==, 30);
	g_assert_cmpuint(config.max_persistent_bytes_per_owner, ==, 268435456);
	/* every default is inside its own range */
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_assert_cmpuint(get(&config, i), >=, keys[i].min);
		g_assert_cmpuint(get(&config, i), <=, keys[i].max);
	}
}

/* The shipped file loads and changes nothing: its values are the defaults.
 * And it documents every key (the commented-out threads= included). */
static void
test_shipped(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	CgConfig config, defaults;

	path = g_test_build_filename(G_TEST_DIST, "..", "data", "certgen.conf", NULL);
	cg_config_init_defaults(&defaults);
	cg_config_init_defaults(&config);
	g_assert_true(cg_config_load(&config, path, &error));
	g_assert_no_error(error);
	assert_config_equal(&config, &defaults);

	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *group = g_strdup_printf("\n[%s]\n", keys[i].group);
		g_autofree char *line = g_strdup_printf("\n%s=", keys[i].key);
		g_autofree char *commented = g_strdup_printf("\n#%s=", keys[i].key);
		const char *in_group = strstr(text, group);
		const char *at = NULL;

		g_assert_nonnull(in_group);
		at = strstr(in_group, line);
		if (at == NULL)
			at = strstr(in_group, commented);
		if (at == NULL)
			g_error("data/certgen.conf does not document [%s] %s", keys[i].group,
				keys[i].key);
		/* in its own group, not a later one */
		g_assert_null(g_strstr_len(in_group + 1, at - in_group - 1, "\n["));
	}
}

/* Every key set at once, each to a value that is not its default. */
static void
test_every_key(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	const char *group = NULL;
	CgConfig config;

	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (group == NULL || !g_str_equal(group, keys[i].group)) {
			group = keys[i].group;
			g_string_append_printf(text, "[%s]\n", group);
		}
		g_string_append_printf(text, "%s=%" G_GUINT64_FORMAT "\n", keys[i].key,
				       keys[i].min + 2 + i);
	}
	g_assert_true(load_text(f, text->str, &config, &error));
	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
		g_assert_cmpuint(get(&config, i), ==, keys[i].min + 2 + i);
}

/* Each key alone: its minimum and maximum are taken and change only it; one
 * below and one above are refused, naming group, key, value and range. */
static void
test_ranges(Fixture *f, gconstpointer data)
{
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		guint64 edges[2] = {keys[i].min, keys[i].max};

		for (gsize e = 0; e < 2; e++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *text = NULL;
			CgConfig config, defaults;

			text = g_strdup_printf("[%s]\n%s=%" G_GUINT64_FORMAT "\n", keys[i].group,
					       keys[i].key, edges[e]);
			g_assert_true(load_text(f, text, &config, &error));
			g_assert_no_error(error);
			g_assert_cmpuint(get(&config, i), ==, edges[e]);
			cg_config_init_defaults(&defaults);
			for (gsize j = 0; j < G_N_ELEMENTS(keys); j++) {
				if (j != i)
					g_assert_cmpuint(get(&config, j), ==, get(&defaults, j));
			}
		}
		if (keys[i].min > 0) {
			g_autofree char *text =
			    g_strdup_printf("[%s]\n%s=%" G_GUINT64_FORMAT "\n", keys[i].group,
					    keys[i].key, keys[i].min - 1);
			g_autofree char *needle = g_strdup_printf(
			    "[%s] %s: %" G_GUINT64_FORMAT " is out of range (%" G_GUINT64_FORMAT
			    "–%" G_GUINT64_FORMAT ")",
			    keys[i].group, keys[i].key, keys[i].min - 1, keys[i].min, keys[i].max);

			assert_refused(f, text, G_KEY_FILE_ERROR_INVALID_VALUE, needle);
		}
		{
			g_autofree char *text =
			    g_strdup_printf("[%s]\n%s=%" G_GUINT64_FORMAT "\n", keys[i].group,
					    keys[i].key, keys[i].max + 1);
			g_autofree char *needle =
			    g_strdup_printf("[%s] %s: %" G_GUINT64_FORMAT " is out of range",
					    keys[i].group, keys[i].key, keys[i].max + 1);

			assert_refused(f, text, G_KEY_FILE_ERROR_INVALID_VALUE, needle);
		}
	}
}

/* A 32-bit field is not set from a value that only fits 64 bits. */
static void
test_no_truncation(Fixture *f, gconstpointer data)
{
	assert_refused(f, "[limits]\nmax_active=4294967297\n", G_KEY_FILE_ERROR_INVALID_VALUE,
		       "[limits] max_active: 4294967297 is out of range");
	assert_refused(f, "[workers]\nthreads=18446744073709551615\n",
		       G_KEY_FILE_ERROR_INVALID_VALUE, "[workers] threads:");
}

static void
test_wrong_values(Fixture *f, gconstpointer data)
{
	const char *bad[] = {"", "abc", "5abc", "1.5", "0x10", "true", "-1", "5 6"};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf("[limits]\nmax_active=%s\n", bad[i]);

		assert_refused(f, text, G_KEY_FILE_ERROR_INVALID_VALUE, "[limits] max_active: ");
	}
	/* a negative number is out of range and named as written, also one that
	 * strtoull() would wrap round into the range */
	assert_refused(f, "[cleanup]\nfinished_ttl_s=-1\n", G_KEY_FILE_ERROR_INVALID_VALUE,
		       "[cleanup] finished_ttl_s: -1 is out of range (0–31536000)");
	assert_refused(f, "[limits]\nmax_active=-18446744073709551615\n",
		       G_KEY_FILE_ERROR_INVALID_VALUE,
		       "[limits] max_active: -18446744073709551615 is out of range (1–100000)");
	assert_refused(f, "[limits]\nmax_data_bytes=-18446744072635809792\n",
		       G_KEY_FILE_ERROR_INVALID_VALUE, "[limits] max_data_bytes: -1844");
}

static void
test_unknown_key(Fixture *f, gconstpointer data)
{
	assert_refused(f, "[limits]\nstart_per_minutes=5\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "unknown key [limits] start_per_minutes");
	/* a known key in the wrong group */
	assert_refused(f, "[limits]\nthreads=2\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "unknown key [limits] threads");
	assert_refused(f, "[cleanup]\nmax_active=2\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "unknown key [cleanup] max_active");
	/* keys are case-sensitive */
	assert_refused(f, "[limits]\nMax_Active=2\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "[limits] Max_Active");
}

/* GKeyFile keeps localized keys (key[locale]) out of its key lists, so one
 * is neither an error nor the key: it changes nothing. */
static void
test_localized_key(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgConfig config;

	g_assert_true(load_text(f, "[limits]\nmax_active[de]=2\n", &config, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(config.max_active, ==, 32);
}

static void
test_unknown_group(Fixture *f, gconstpointer data)
{
	/* an unknown group's first key is the one named */
	assert_refused(f, "[limit]\nmax_active=2\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "unknown key [limit] max_active");
	assert_refused(f, "[Limits]\nmax_active=2\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		       "unknown key [Limits] max_active");
	/* a typo in a group's name with nothing in it yet is still a typo */
	assert_refused(f, "[limits]\nmax_active=2\n[worker]\n", G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
		       "unknown group [worker]");
	assert_refused(f, "[worker]\n#threads=2\n", G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
		       "unknown group [worker]");
}

/* A bad key anywhere leaves the config as it was, with no half of the file
 * applied. */
static void
test_all_or_nothing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgConfig config, before;

	g_file_set_contents(f->path, "[limits]\nmax_active=7\nstart_per_minute=0\n", -1, &error);
	g_assert_no_error(error);
	cg_config_init_defaults(&config);
	config.max_active = 99;
	config.threads = 3;
	before = config;
	g_assert_false(cg_config_load(&config, f->path, &error));
	g_assert_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
	assert_config_equal(&config, &before);
}

/* The file is read over what is in the config already, not over the
 * defaults: what it does not name stays. */
static void
test_over_existing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgConfig config;

	g_file_set_contents(f->path, "[workers]\nthreads=2\n", -1, &error);
	g_assert_no_error(error);
	cg_config_init_defaults(&config);
	config.max_active = 99;
	g_assert_true(cg_config_load(&config, f->path, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(config.max_active, ==, 99);
	g_assert_cmpuint(config.threads, ==, 2);
}

static void
test_empty(Fixture *f, gconstpointer data)
{
	const char *empties[] = {"", "\n\n", "# nothing but a comment\n", "[limits]\n",
				 "[limits]\n[cleanup]\n[workers]\n# threads=4\n"};

	for (gsize i = 0; i < G_N_ELEMENTS(empties); i++) {
		g_autoptr(GError) error = NULL;
		CgConfig config, defaults;

		cg_config_init_defaults(&defaults);
		g_assert_true(load_text(f, empties[i], &config, &error));
		g_assert_no_error(error);
		assert_config_equal(&config, &defaults);
	}
}

static void
test_missing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *missing = g_build_filename(f->dir, "absent.conf", NULL);
	CgConfig config, defaults;

	cg_config_init_defaults(&defaults);
	cg_config_init_defaults(&config);
	g_assert_false(cg_config_load(&config, missing, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_assert_true(g_str_has_prefix(error->message, missing));
	assert_config_equal(&config, &defaults);
}

/* Not a key file at all. */
static void
test_not_a_key_file(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgConfig config;

	g_assert_false(load_text(f, "max_active=2\n", &config, &error));
	g_assert_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
	g_assert_true(g_str_has_prefix(error->message, f->path));
	g_clear_error(&error);
	g_assert_false(load_text(f, "[limits]\nthis is not a key\n", &config, &error));
	g_assert_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
	g_assert_true(g_str_has_prefix(error->message, f->path));
}

/* [verification] base_url: the default, a good one taken, bad ones refused
 * naming the key. */
static void
test_base_url(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgConfig config;
	const char *bad[] = {"ftp://x", "https://x/", "http://x'y", "http://x?c=1", "", "http://"};

	cg_config_init_defaults(&config);
	g_assert_cmpstr(config.verification_base_url, ==, "http://localhost:8080/verify");
	g_assert_true(load_text(f, "[verification]\nbase_url=https://certs.example.org/v\n",
				&config, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(config.verification_base_url, ==, "https://certs.example.org/v");
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf("[verification]\nbase_url=%s\n", bad[i]);

		g_assert_false(load_text(f, text, &config, &error));
		g_assert_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
		g_assert_nonnull(strstr(error->message, "[verification] base_url"));
		g_clear_error(&error);
	}
}

static const CgTestCase cases[] = {
    {"/config/defaults", test_defaults},
    {"/config/shipped", test_shipped},
    CG_TEST_FIXTURE_CASE("/config/every-key", test_every_key),
    CG_TEST_FIXTURE_CASE("/config/base-url", test_base_url),
    CG_TEST_FIXTURE_CASE("/config/ranges", test_ranges),
    CG_TEST_FIXTURE_CASE("/config/no-truncation", test_no_truncation),
    CG_TEST_FIXTURE_CASE("/config/wrong-values", test_wrong_values),
    CG_TEST_FIXTURE_CASE("/config/unknown-key", test_unknown_key),
    CG_TEST_FIXTURE_CASE("/config/localized-key", test_localized_key),
    CG_TEST_FIXTURE_CASE("/config/unknown-group", test_unknown_group),
    CG_TEST_FIXTURE_CASE("/config/all-or-nothing", test_all_or_nothing),
    CG_TEST_FIXTURE_CASE("/config/over-existing", test_over_existing),
    CG_TEST_FIXTURE_CASE("/config/empty", test_empty),
    CG_TEST_FIXTURE_CASE("/config/missing", test_missing),
    CG_TEST_FIXTURE_CASE("/config/not-a-key-file", test_not_a_key_file),
};

CG_TEST_MAIN_WITH_SCRATCH(cases, "certgen.conf")

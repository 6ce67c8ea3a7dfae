/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine of cg-engine.c without a bus: real generations on the shipped
 * template through the real pipeline, the caps, the rate limit, cancel,
 * ownership, subscriptions and cleanup. Connections are plain names. */
#include <glib/gstdio.h>
#include <unistd.h>

#include "cg-engine.h"
#include "cg-error.h"
#include "cg-template.h"
#include "cg-test-util.h"

#define ONE_RECIPIENT                                                                              \
	"{\"recipientName\": \"Ada\", \"courseName\": \"Engines\", \"issueDate\": "                \
	"\"2024-05-17\"}"

typedef struct {
	char *connection;
	char *progress_id;
	GVariant *update;
} Update;

typedef struct {
	char *state_dir;
	char *templates;
	CgConfig config;
	CgEngine *engine;
	GPtrArray *updates; /* Update, in the order sent */
	guint status_calls;
} Fixture;

static void
update_free(Update *update)
{
	g_free(update->connection);
	g_free(update->progress_id);
	g_variant_unref(update->update);
	g_free(update);
}

static void
update_cb(const char *const *connections, guint n_connections, const char *progress_id,
	  GVariant *update, gpointer user_data)
{
	Fixture *f = user_data;

	/* once per update, with every receiver */
	g_assert_cmpuint(n_connections, >, 0);
	for (guint i = 0; i < n_connections; i++) {
		Update *u = g_new0(Update, 1);

		u->connection = g_strdup(connections[i]);
		u->progress_id = g_strdup(progress_id);
		u->update = g_variant_ref(update);
		g_ptr_array_add(f->updates, u);
	}
}

static void
status_cb(CgEngine *engine, gpointer user_data)
{
	Fixture *f = user_data;

	f->status_calls++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->state_dir = cg_test_make_scratch_dir("test-engine-XXXXXX");
	f->templates = cg_test_shipped_templates_dir();
	cg_config_init_defaults(&f->config);
	f->config.threads = 1;
	f->updates = g_ptr_array_new_with_free_func((GDestroyNotify)update_free);
}

/* The engine, with the fixture's config as the test left it. */
static CgEngine *
engine(Fixture *f)
{
	const char *dirs[] = {f->templates, NULL};
	g_autoptr(GError) error = NULL;

	if (f->engine == NULL) {
		f->engine = cg_engine_new(&f->config, dirs, f->state_dir, &error);
		g_assert_no_error(error);
		cg_engine_set_update_func(f->engine, update_cb, f);
		cg_engine_set_status_func(f->engine, status_cb, f);
	}
	return f->engine;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->engine, cg_engine_free);
	g_ptr_array_unref(f->updates);
	cg_test_remove_tree(f->state_dir);
	g_free(f->state_dir);
	g_free(f->templates);
}

static CgCaller
caller(guint32 uid, const char *connection)
{
	CgCaller c = {uid, NULL, connection, FALSE};

	return c;
}

static char *
start(Fixture *f, const CgCaller *who, const CgGenerationOptions *options, GError **error)
{
	CgGenerationOptions defaults;

	if (options == NULL) {
		cg_generation_options_init(&defaults);
		options = &defaults;
	}
	g_assert_true(
	    cg_engine_check_start(engine(f), "tx-engine", "classic", ONE_RECIPIENT, NULL));
	return cg_engine_start(engine(f), who, "tx-engine", "classic", ONE_RECIPIENT, options,
			       error);
}

static char *
start_ok(Fixture *f, const CgCaller *who)
{
	g_autoptr(GError) error = NULL;
	char *id = start(f, who, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(id);
	return id;
}

static const char *
update_status(const Update *u)
{
	const char *status = NULL;

	g_assert_true(g_variant_lookup(u->update, "status", "&s", &status));
	return status;
}

/* The last update @connection got for @id, or NULL. */
static const Update *
last_update(Fixture *f, const char *connection, const char *id)
{
	for (guint i = f->updates->len; i > 0; i--) {
		const Update *u = f->updates->pdata[i - 1];

		if (g_str_equal(u->connection, connection) && g_str_equal(u->progress_id, id))
			return u;
	}
	return NULL;
}

static guint
count_updates(Fixture *f, const char *connection, const char *id)
{
	guint n = 0;

	for (guint i = 0; i < f->updates->len; i++) {
		const Update *u = f->updates->pdata[i];

		if (g_str_equal(u->connection, connection) && g_str_equal(u->progress_id, id))
			n++;
	}
	return n;
}

/* Run the main loop until @connection got the terminal update of @id;
 * returns its status. */
static const char *
wait_terminal(Fixture *f, const char *connection, const char *id)
{
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

	for (;;) {
		const Update *u = last_update(f, connection, id);

		if (u != NULL && !g_str_equal(update_status(u), "in_progress"))
			return update_status(u);
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

static void
test_start_complete(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *id = start_ok(f, &alice);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GVariant) analytics = NULL;
	g_autoptr(GVariant) list = NULL;
	const Update *last;
	guint64 sequence = 0;
	const char *number = NULL;
	int fd;

	g_assert_cmpuint(strlen(id), ==, 32);
	g_assert_cmpuint(cg_engine_count_active(engine(f)), ==, 1);
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 1);
	g_assert_cmpuint(f->status_calls, >, 0);
	/* The first update went out at once, to the starter. */
	g_assert_cmpuint(count_updates(f, ":1.1", id), ==, 1);

	g_assert_cmpstr(wait_terminal(f, ":1.1", id), ==, "completed");
	last = last_update(f, ":1.1", id);
	g_assert_true(g_variant_lookup(last->update, "sequence", "t", &sequence));
	g_assert_cmpuint(sequence, ==, count_updates(f, ":1.1", id));
	g_assert_cmpuint(cg_engine_count_active(engine(f)), ==, 0);
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 1);

	snapshot = g_variant_ref_sink(cg_engine_get_progress(engine(f), &alice, id, &error));
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) result =
		    g_variant_lookup_value(snapshot, "result", G_VARIANT_TYPE_VARDICT);

		g_assert_true(g_variant_lookup(result, "certificate_number", "&s", &number));
		g_assert_cmpuint(strlen(number), >, 0);
	}
	analytics = g_variant_ref_sink(cg_engine_get_analytics(engine(f), &alice, id, &error));
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(analytics, "status", "&s", NULL));

	fd = cg_engine_open_certificate(engine(f), &alice, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	{
		char magic[5] = {0};

		g_assert_cmpint(read(fd, magic, 4), ==, 4);
		g_assert_cmpstr(magic, ==, "%PDF");
	}
	close(fd);

	list = g_variant_ref_sink(cg_engine_list(engine(f), &alice));
	g_assert_cmpuint(g_variant_n_children(list), ==, 1);

	/* Finished: nothing to cancel. */
	g_assert_false(cg_engine_cancel(engine(f), &alice, id, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_ALREADY_FINISHED);
}

static void
test_check_start(Fixture *f, gconstpointer data)
{
	g_autofree char *long_id = g_strnfill(129, 'x');
	g_autofree char *big = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_false(cg_engine_check_start(engine(f), "", "classic", ONE_RECIPIENT, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(cg_engine_check_start(engine(f), long_id, "classic", ONE_RECIPIENT, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(
	    cg_engine_check_start(engine(f), "tx\x1b", "classic", ONE_RECIPIENT, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(cg_engine_check_start(engine(f), "tx", "nope", ONE_RECIPIENT, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
	    cg_engine_check_start(engine(f), "tx", "classic", "{\"a\": \"\xff\"}", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_clear_error(&error);
	big = g_strnfill(f->config.max_data_bytes + 1, ' ');
	g_assert_false(cg_engine_check_start(engine(f), "tx", "classic", big, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_clear_error(&error);
	g_assert_true(cg_engine_check_start(engine(f), "tx", "classic", ONE_RECIPIENT, &error));
	g_assert_no_error(error);
	/* Nothing was created. */
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 0);
}

/* Invalid data is found by the pipeline: the generation fails, it is not
 * refused. */
static void
test_invalid_data_fails(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgGenerationOptions options;
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	const Update *last;
	const char *name = NULL;

	cg_generation_options_init(&options);
	id = cg_engine_start(engine(f), &alice, "tx", "classic", "{\"recipientName\": \"Ada\"}",
			     &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(wait_terminal(f, ":1.1", id), ==, "failed");
	last = last_update(f, ":1.1", id);
	g_assert_true(g_variant_lookup(last->update, "error", "&s", &name));
	g_assert_cmpstr(name, ==, "org.certgen.Certificates1.Error.InvalidData");
}

static void
listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(res);
}

/* validate_only: completed without a result; OpenCertificate says why
 * there is no file (NotReady), nothing was written; the templates list. */
static void
test_validate_only_and_templates(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgGenerationOptions options;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) templates = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autofree char *id = NULL;
	g_autofree char *certificates = g_build_filename(f->state_dir, "certificates", NULL);
	g_autoptr(GDir) dir = NULL;
	const Update *last;

	cg_generation_options_init(&options);
	options.validate_only = TRUE;
	id = start(f, &alice, &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(wait_terminal(f, ":1.1", id), ==, "completed");
	last = last_update(f, ":1.1", id);
	g_assert_false(g_variant_lookup(last->update, "result", "@a{sv}", NULL));
	g_assert_true(g_variant_lookup(last->update, "template_id", "&s", NULL));
	g_assert_cmpint(cg_engine_open_certificate(engine(f), &alice, id, &error), ==, -1);
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_READY);
	g_assert_nonnull(strstr(error->message, "validate_only"));
	g_clear_error(&error);
	dir = g_dir_open(certificates, 0, NULL);
	g_assert_nonnull(dir);
	g_assert_null(g_dir_read_name(dir));

	cg_engine_list_templates_async(engine(f), listed_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	templates = cg_engine_list_templates_finish(result, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(templates->len, ==, 2);
	g_assert_cmpstr(cg_template_get_id(templates->pdata[0]), ==, "classic");
	g_assert_cmpstr(cg_template_get_id(templates->pdata[1]), ==, "modern");
}

/* Freeing the engine waits for a listing still loading templates; the
 * templates it gives stay valid without the engine. */
static void
test_free_while_listing(Fixture *f, gconstpointer data)
{
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GPtrArray) templates = NULL;
	g_autoptr(GError) error = NULL;

	cg_engine_list_templates_async(engine(f), listed_cb, &result);
	g_clear_pointer(&f->engine, cg_engine_free);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	templates = cg_engine_list_templates_finish(result, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(templates->len, ==, 2);
	g_assert_cmpuint(cg_template_get_fields(templates->pdata[1])->len, >, 0);
}

static void
test_caps(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller bob = caller(1001, ":1.2");
	CgCaller carol = caller(1002, ":1.3");
	CgCaller delegate = caller(0, ":1.4");
	g_autoptr(GError) error = NULL;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autofree char *d = NULL;
	char *refused;

	f->config.max_active_per_owner = 1;
	f->config.max_active = 3;
	/* No main loop iteration in between: every one is still in progress. */
	a = start_ok(f, &alice);
	refused = start(f, &alice, NULL, &error);
	g_assert_null(refused);
	g_assert_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED);
	g_assert_nonnull(strstr(error->message, "per owner"));
	g_clear_error(&error);

	/* Owners are uid and label. */
	b = start_ok(f, &bob);
	delegate.owner_label = "web-user";
	d = start_ok(f, &delegate);
	g_assert_cmpuint(cg_engine_count_active(engine(f)), ==, 3);

	/* The overall cap. */
	refused = start(f, &carol, NULL, &error);
	g_assert_null(refused);
	g_assert_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED);
	g_assert_nonnull(strstr(error->message, "maximum of 3"));
	g_clear_error(&error);

	/* Once one ends, its owner may start again. */
	g_assert_cmpstr(wait_terminal(f, ":1.1", a), ==, "completed");
	g_free(start_ok(f, &alice));
}

static void
test_max_tracked(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *a = NULL;
	g_autoptr(GError) error = NULL;

	f->config.max_tracked = 1;
	a = start_ok(f, &alice);
	g_assert_cmpstr(wait_terminal(f, ":1.1", a), ==, "completed");
	g_assert_null(start(f, &alice, NULL, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED);
	g_assert_nonnull(strstr(error->message, "Cleanup"));
}

static void
test_rate_limit(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller bob = caller(1001, ":1.2");
	g_autoptr(GError) error = NULL;

	f->config.start_per_minute = 2;
	g_free(start_ok(f, &alice));
	g_free(start_ok(f, &alice));
	g_assert_null(start(f, &alice, NULL, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_RATE_LIMITED);
	g_assert_nonnull(strstr(error->message, "per minute"));
	g_clear_error(&error);
	/* Per owner; and a refused start is not counted. */
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 2);
	g_free(start_ok(f, &bob));
}

static void
rendered_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **result = user_data;

	*result = g_object_ref(res);
}

/* RenderPreview through the engine: the fd (checked to be a PNG), or -1. */
static int
render_preview(Fixture *f, const CgCaller *who, const char *json, guint page, GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;
	char magic[8] = {0};
	int fd;

	cg_engine_render_preview_async(engine(f), who, "classic", json, page, rendered_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	fd = cg_engine_render_preview_finish(engine(f), result, error);
	if (fd >= 0) {
		g_assert_cmpint(read(fd, magic, sizeof(magic)), ==, sizeof(magic));
		g_assert_cmpmem(magic, sizeof(magic), "\x89PNG\r\n\x1a\n", 8);
		close(fd);
	}
	return fd;
}

static char *
completed_number(Fixture *f, const CgCaller *who)
{
	g_autofree char *id = start_ok(f, who);
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GVariant) result = NULL;
	char *number = NULL;

	g_assert_cmpstr(wait_terminal(f, who->connection, id), ==, "completed");
	snapshot = g_variant_ref_sink(cg_engine_get_progress(engine(f), who, id, NULL));
	result = g_variant_lookup_value(snapshot, "result", G_VARIANT_TYPE_VARDICT);
	g_assert_true(g_variant_lookup(result, "certificate_number", "s", &number));
	return number;
}

/* A preview issues no number: the next generation gets the number after
 * the one before (the registry is the only source); nothing is tracked. */
static void
test_preview_no_number(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *first = completed_number(f, &alice);
	g_autofree char *second = NULL;
	g_autoptr(GError) error = NULL;
	guint tracked = cg_engine_count_tracked(engine(f));

	g_assert_cmpint(render_preview(f, &alice, ONE_RECIPIENT, 1, &error), >=, 0);
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, tracked);
	second = completed_number(f, &alice);
	g_assert_cmpuint(g_ascii_strtoull(second + 8, NULL, 10), ==,
			 g_ascii_strtoull(first + 8, NULL, 10) + 1);
}

/* Bad data, a page out of range, then the rate limit, which refused
 * previews do not use up; per owner. */
static void
test_preview_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CgCaller alice = caller(1000, ":1.1");
	CgCaller bob = caller(1001, ":1.2");

	/* before the engine exists */
	f->config.preview_per_minute = 2;
	g_assert_cmpint(render_preview(f, &alice, "{\"recipientName\": 7}", 1, &error), ==, -1);
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
	g_assert_nonnull(strstr(error->message, "recipientName"));
	g_clear_error(&error);
	g_assert_cmpint(render_preview(f, &alice, ONE_RECIPIENT, 2, &error), ==, -1);
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "page: 2 is out of range, the data has 1 page"));
	g_clear_error(&error);

	g_assert_cmpint(render_preview(f, &alice, ONE_RECIPIENT, 1, &error), >=, 0);
	g_assert_cmpint(render_preview(f, &alice, ONE_RECIPIENT, 1, &error), >=, 0);
	g_assert_no_error(error);
	g_assert_cmpint(render_preview(f, &alice, ONE_RECIPIENT, 1, &error), ==, -1);
	g_assert_error(error, CG_ERROR, CG_ERROR_RATE_LIMITED);
	g_assert_nonnull(strstr(error->message, "At most 2 previews"));
	g_clear_error(&error);
	g_assert_cmpint(render_preview(f, &bob, ONE_RECIPIENT, 1, &error), >=, 0);
	g_assert_no_error(error);
	/* previews and starts are counted apart */
	g_free(start_ok(f, &alice));
}

/* Freeing the engine waits for a preview still rendering; its fd stays
 * good without the engine. */
static void
test_free_while_previewing(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GError) error = NULL;
	char magic[4] = {0};
	int fd;

	cg_engine_render_preview_async(engine(f), &alice, "classic", ONE_RECIPIENT, 1, rendered_cb,
				       &result);
	g_clear_pointer(&f->engine, cg_engine_free);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	fd = (int)g_task_propagate_int(G_TASK(result), &error);
	g_assert_no_error(error);
	g_assert_cmpint(read(fd, magic, sizeof(magic)), ==, sizeof(magic));
	g_assert_cmpmem(magic, 4, "\x89PNG", 4);
	close(fd);
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgGenerationOptions options;
	g_autofree char *id = start_ok(f, &alice);
	g_autofree char *fixed = NULL;
	g_autoptr(GError) error = NULL;
	guint n;

	g_assert_true(cg_engine_cancel(engine(f), &alice, id, &error));
	g_assert_no_error(error);
	/* A second cancel while it stops changes nothing. */
	g_assert_true(cg_engine_cancel(engine(f), &alice, id, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(wait_terminal(f, ":1.1", id), ==, "cancelled");
	g_assert_cmpint(cg_engine_open_certificate(engine(f), &alice, id, &error), ==, -1);
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_READY);
	g_clear_error(&error);

	/* The terminal update is the last one. */
	n = count_updates(f, ":1.1", id);
	for (guint i = 0; i < 10; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(count_updates(f, ":1.1", id), ==, n);

	cg_generation_options_init(&options);
	options.enable_cancellation = FALSE;
	fixed = start(f, &alice, &options, &error);
	g_assert_no_error(error);
	g_assert_false(cg_engine_cancel(engine(f), &alice, fixed, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_CANCELLABLE);
	g_assert_cmpstr(wait_terminal(f, ":1.1", fixed), ==, "completed");
}

static void
assert_not_found(gboolean ok, GError *error)
{
	g_assert_false(ok);
	g_assert_error(error, CG_ERROR, CG_ERROR_NOT_FOUND);
}

static void
test_ownership(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller mallory = caller(1001, ":1.2");
	CgCaller admin = caller(1002, ":1.3");
	g_autofree char *id = start_ok(f, &alice);
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GVariant) snapshot = NULL;
	GVariant *none;
	GError *error = NULL;
	gboolean ok;

	admin.is_admin = TRUE;
	g_assert_true(cg_engine_is_owner(engine(f), 1000, id));
	g_assert_false(cg_engine_is_owner(engine(f), 1001, id));
	g_assert_false(cg_engine_is_owner(engine(f), 1000, "0123456789abcdef0123456789abcdef"));

	/* Another uid: the same answer as for an id that never existed. */
	none = cg_engine_get_progress(engine(f), &mallory, id, &error);
	assert_not_found(none != NULL, error);
	g_assert_nonnull(strstr(error->message, id));
	g_clear_error(&error);
	none = cg_engine_get_analytics(engine(f), &mallory, id, &error);
	assert_not_found(none != NULL, error);
	g_clear_error(&error);
	ok = cg_engine_cancel(engine(f), &mallory, id, &error);
	assert_not_found(ok, error);
	g_clear_error(&error);
	ok = cg_engine_subscribe(engine(f), &mallory, id, &error);
	assert_not_found(ok, error);
	g_clear_error(&error);
	ok = cg_engine_unsubscribe(engine(f), &mallory, id, &error);
	assert_not_found(ok, error);
	g_clear_error(&error);
	ok = cg_engine_open_certificate(engine(f), &mallory, id, &error) >= 0;
	assert_not_found(ok, error);
	g_clear_error(&error);
	none =
	    cg_engine_get_progress(engine(f), &alice, "0123456789abcdef0123456789abcdef", &error);
	assert_not_found(none != NULL, error);
	g_clear_error(&error);
	/* An id with a control character is refused as such. */
	none = cg_engine_get_progress(engine(f), &alice, "\x1b[2J", &error);
	g_assert_null(none);
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	list = g_variant_ref_sink(cg_engine_list(engine(f), &mallory));
	g_assert_cmpuint(g_variant_n_children(list), ==, 0);
	g_clear_pointer(&list, g_variant_unref);
	g_assert_cmpuint(cg_engine_cleanup(engine(f), &mallory), ==, 0);

	/* An administrator sees and manages it. */
	snapshot = g_variant_ref_sink(cg_engine_get_progress(engine(f), &admin, id, &error));
	g_assert_no_error(error);
	list = g_variant_ref_sink(cg_engine_list(engine(f), &admin));
	g_assert_cmpuint(g_variant_n_children(list), ==, 1);
	g_assert_true(cg_engine_subscribe(engine(f), &admin, id, &error));
	g_assert_no_error(error);
	g_assert_true(cg_engine_cancel(engine(f), &admin, id, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(wait_terminal(f, ":1.3", id), ==, "cancelled");
	g_assert_cmpstr(wait_terminal(f, ":1.1", id), ==, "cancelled");
	g_assert_cmpuint(count_updates(f, ":1.2", id), ==, 0);
}

static void
test_subscriptions(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller watcher = caller(1000, ":1.9");
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autoptr(GError) error = NULL;

	f->config.max_subscriptions_per_connection = 1;
	a = start_ok(f, &alice);
	b = start_ok(f, &alice);

	/* The starter's own subscription does not count, and subscribing
	 * again is once. */
	g_assert_true(cg_engine_subscribe(engine(f), &alice, a, &error));
	g_assert_true(cg_engine_subscribe(engine(f), &alice, b, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.1"), ==, 0);

	g_assert_true(cg_engine_subscribe(engine(f), &watcher, a, &error));
	g_assert_true(cg_engine_subscribe(engine(f), &watcher, a, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 1);
	g_assert_false(cg_engine_subscribe(engine(f), &watcher, b, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED);
	g_clear_error(&error);

	/* Unsubscribing gives the place back. */
	g_assert_true(cg_engine_unsubscribe(engine(f), &watcher, a, &error));
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 0);
	g_assert_true(cg_engine_subscribe(engine(f), &watcher, b, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 1);

	/* The end of the generation too; the subscriber got the terminal update. */
	g_assert_cmpstr(wait_terminal(f, ":1.9", b), ==, "completed");
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 0);
	g_assert_cmpstr(wait_terminal(f, ":1.1", a), ==, "completed");
	/* A finished generation: success, nothing kept. */
	g_assert_true(cg_engine_subscribe(engine(f), &watcher, a, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 0);
}

static void
test_connection_closed(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller watcher = caller(1000, ":1.9");
	CgGenerationOptions options;
	g_autofree char *keep = NULL;
	g_autofree char *drop = NULL;
	g_autoptr(GError) error = NULL;
	guint seen;

	cg_generation_options_init(&options);
	keep = start(f, &alice, &options, &error);
	options.cancel_on_disconnect = TRUE;
	drop = start(f, &alice, &options, &error);
	g_assert_no_error(error);
	g_assert_true(cg_engine_subscribe(engine(f), &watcher, keep, &error));
	g_assert_true(cg_engine_subscribe(engine(f), &watcher, drop, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 2);

	/* A subscriber leaves: its count goes, it gets nothing more. */
	cg_engine_connection_closed(engine(f), ":1.9");
	g_assert_cmpuint(cg_engine_count_subscriptions(engine(f), ":1.9"), ==, 0);
	seen = count_updates(f, ":1.9", keep) + count_updates(f, ":1.9", drop);

	/* The starter leaves: cancel_on_disconnect cancels, the other runs on. */
	cg_engine_connection_closed(engine(f), ":1.1");
	while (cg_engine_count_active(engine(f)) > 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(count_updates(f, ":1.9", keep) + count_updates(f, ":1.9", drop), ==, seen);
	{
		g_autoptr(GVariant) kept =
		    g_variant_ref_sink(cg_engine_get_progress(engine(f), &alice, keep, &error));
		g_autoptr(GVariant) dropped =
		    g_variant_ref_sink(cg_engine_get_progress(engine(f), &alice, drop, &error));
		const char *status = NULL;

		g_assert_true(g_variant_lookup(kept, "status", "&s", &status));
		g_assert_cmpstr(status, ==, "completed");
		g_assert_true(g_variant_lookup(dropped, "status", "&s", &status));
		g_assert_cmpstr(status, ==, "cancelled");
	}
}

/* The files in @path; without @temporary, not the temporary (dot) file of
 * a generation still being written. */
static guint
count_files(const char *path, gboolean temporary)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		n += temporary || name[0] != '.';
	return n;
}

static void
test_cleanup(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	CgCaller bob = caller(1001, ":1.2");
	g_autofree char *a = start_ok(f, &alice);
	g_autofree char *running = NULL;
	g_autofree char *certificates = g_build_filename(f->state_dir, "certificates", NULL);
	g_autoptr(GError) error = NULL;
	GVariant *none;

	g_assert_cmpstr(wait_terminal(f, ":1.1", a), ==, "completed");
	g_assert_cmpuint(count_files(certificates, TRUE), ==, 1);
	running = start_ok(f, &alice);

	/* Someone else's are not theirs to forget; running ones stay. */
	g_assert_cmpuint(cg_engine_cleanup(engine(f), &bob), ==, 0);
	g_assert_cmpuint(cg_engine_cleanup(engine(f), &alice), ==, 1);
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 1);
	none = cg_engine_get_progress(engine(f), &alice, a, &error);
	assert_not_found(none != NULL, error);
	g_clear_error(&error);
	/* Not asked to persist: the file went with it (the running one may
	 * have its temporary file by now). */
	g_assert_cmpuint(count_files(certificates, FALSE), ==, 0);

	g_assert_cmpstr(wait_terminal(f, ":1.1", running), ==, "completed");
	g_assert_cmpuint(cg_engine_cleanup(engine(f), &alice), ==, 1);
	g_assert_cmpuint(cg_engine_count_tracked(engine(f)), ==, 0);
}

/* Freeing the engine with work queued and running ends it all: the last
 * updates still go out, no file is left. */
static void
test_free_while_running(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *a = start_ok(f, &alice);
	g_autofree char *b = start_ok(f, &alice);
	g_autofree char *certificates = g_build_filename(f->state_dir, "certificates", NULL);

	g_main_context_iteration(NULL, FALSE);
	g_clear_pointer(&f->engine, cg_engine_free);
	g_assert_cmpstr(update_status(last_update(f, ":1.1", a)), !=, "in_progress");
	g_assert_cmpstr(update_status(last_update(f, ":1.1", b)), !=, "in_progress");
	g_assert_cmpuint(count_files(certificates, TRUE), ==, 0);
}

/* by_status[@status] of the engine's statistics. */
static guint64
statistics_count(Fixture *f, const char *status)
{
	g_autoptr(GVariant) statistics = g_variant_ref_sink(cg_engine_get_statistics(engine(f)));
	g_autoptr(GVariant) by_status =
	    g_variant_lookup_value(statistics, "by_status", G_VARIANT_TYPE("a{st}"));
	guint64 n = G_MAXUINT64;

	g_assert_true(g_variant_lookup(by_status, status, "t", &n));
	return n;
}

/* What the history of "classic" expects of a batch of @pages: ms. */
static double
history_ms(Fixture *f, guint pages)
{
	g_autoptr(GVariant) statistics = g_variant_ref_sink(cg_engine_get_statistics(engine(f)));
	g_autoptr(GVariant) templates =
	    g_variant_lookup_value(statistics, "templates", G_VARIANT_TYPE("a{sa{sv}}"));
	g_autoptr(GVariant) classic =
	    g_variant_lookup_value(templates, "classic", G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) stages = NULL;
	double page_ms = 0.0;
	double preparation = 0.0;
	double ready = 0.0;

	g_assert_nonnull(classic);
	g_assert_true(g_variant_lookup(classic, "page_ms_p50", "d", &page_ms));
	stages = g_variant_lookup_value(classic, "stage_ms_p50", G_VARIANT_TYPE("a{sd}"));
	g_assert_true(g_variant_lookup(stages, "file_preparation", "d", &preparation));
	g_assert_true(g_variant_lookup(stages, "download_ready", "d", &ready));
	return pages * page_ms + preparation + ready;
}

/* Every finished generation counts; the window is written to the registry
 * when the engine ends (not to the old statistics.json) and read back by the
 * next one; a new generation's first update that
 * knows the pages expects the end the history says. */
static void
test_statistics(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *done = start_ok(f, &alice);
	g_autofree char *path = g_build_filename(f->state_dir, "statistics.json", NULL);
	g_autofree char *next = NULL;
	gint64 expected_us = 0;
	gint64 sent_us = 0;
	double history;

	g_assert_cmpuint(statistics_count(f, "completed"), ==, 0);
	g_assert_cmpstr(wait_terminal(f, ":1.1", done), ==, "completed");
	g_assert_cmpuint(statistics_count(f, "completed"), ==, 1);

	g_clear_pointer(&f->engine, cg_engine_free);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(statistics_count(f, "completed"), ==, 1);
	history = history_ms(f, 1);
	g_assert_cmpfloat(history, >, 0.0);

	next = start_ok(f, &alice);
	g_assert_cmpstr(wait_terminal(f, ":1.1", next), ==, "completed");
	for (guint i = 0; i < f->updates->len && expected_us == 0; i++) {
		const Update *u = f->updates->pdata[i];
		guint32 pages_total = 0;

		g_assert_true(g_variant_lookup(u->update, "pages_total", "u", &pages_total));
		if (!g_str_equal(u->progress_id, next) || pages_total == 0)
			continue;
		g_assert_true(g_variant_lookup(u->update, "expected_end_us", "x", &expected_us));
		g_assert_true(g_variant_lookup(u->update, "timestamp_us", "x", &sent_us));
	}
	/* now + 1 page x ms per page + the stages after, to the ms */
	g_assert_cmpfloat(ABS((double)(expected_us - sent_us) - history * 1000.0), <, 1000.0);
	g_assert_cmpuint(statistics_count(f, "completed"), ==, 2);
}

/* ---- backpressure: in-stage reports wait while the bus face is behind -- */

static char *
start_batch(Fixture *f, const CgCaller *who, guint n)
{
	g_autoptr(GString) json = g_string_new("{\"recipients\": [");
	g_autoptr(GError) error = NULL;
	CgGenerationOptions options;
	char *id;

	for (guint i = 0; i < n; i++)
		g_string_append_printf(json, "%s{\"recipientName\": \"Person %u\"}", i ? ", " : "",
				       i);
	g_string_append(json, "], \"courseName\": \"Engines\", \"issueDate\": \"2024-05-17\"}");
	cg_generation_options_init(&options);
	options.update_interval_ms = 0;
	cg_engine_check_start(engine(f), "tx-engine", "classic", json->str, &error);
	g_assert_no_error(error);
	id = cg_engine_start(engine(f), who, "tx-engine", "classic", json->str, &options, &error);
	g_assert_no_error(error);
	return id;
}

/* @connection's updates of @id in @stage (in progress); checks on the way
 * that the sequence has no gap and the pages never go back. */
static guint
count_in_stage(Fixture *f, const char *connection, const char *id, const char *stage)
{
	guint64 expected = 1;
	guint32 pages = 0;
	guint n = 0;

	for (guint i = 0; i < f->updates->len; i++) {
		const Update *u = f->updates->pdata[i];
		const char *s = NULL;
		guint64 sequence = 0;
		guint32 done = 0;

		if (!g_str_equal(u->connection, connection) || !g_str_equal(u->progress_id, id))
			continue;
		g_assert_true(g_variant_lookup(u->update, "sequence", "t", &sequence));
		g_assert_cmpuint(sequence, ==, expected++);
		g_assert_true(g_variant_lookup(u->update, "pages_done", "u", &done));
		g_assert_cmpuint(done, >=, pages);
		pages = done;
		g_assert_true(g_variant_lookup(u->update, "stage", "&s", &s));
		if (g_str_equal(s, stage) && g_str_equal(update_status(u), "in_progress"))
			n++;
	}
	return n;
}

static void
test_backlogged(Fixture *f, gconstpointer data)
{
	CgCaller alice = caller(1000, ":1.1");
	g_autofree char *held = NULL;
	g_autofree char *released = NULL;
	const Update *last;
	guint32 pages = 0;
	guint n;

	/* Nothing held: catching up sends nothing. */
	cg_engine_set_backlogged(engine(f), FALSE);
	g_assert_cmpuint(f->updates->len, ==, 0);

	/* Behind for the whole generation: every stage change and the
	 * terminal update go out, no in-stage page report does (each was
	 * replaced by the next, then made obsolete by the stage change). */
	cg_engine_set_backlogged(engine(f), TRUE);
	held = start_batch(f, &alice, 40);
	g_assert_cmpstr(wait_terminal(f, ":1.1", held), ==, "completed");
	g_assert_cmpuint(count_in_stage(f, ":1.1", held, "pdf_generation"), ==, 1);
	g_assert_cmpuint(count_in_stage(f, ":1.1", held, "file_preparation"), >=, 1);
	last = last_update(f, ":1.1", held);
	g_assert_true(g_variant_lookup(last->update, "pages_done", "u", &pages));
	g_assert_cmpuint(pages, ==, 40);

	/* Behind while pages render, then caught up: the latest held report
	 * goes out at once, and the others as they come. */
	released = start_batch(f, &alice, 300);
	while (count_in_stage(f, ":1.1", released, "pdf_generation") == 0)
		g_main_context_iteration(NULL, TRUE);
	for (guint i = 0; i < 3; i++)
		g_main_context_iteration(NULL, TRUE); /* page reports, held */
	n = f->updates->len;
	cg_engine_set_backlogged(engine(f), FALSE);
	g_assert_cmpuint(f->updates->len, ==, n + 1);
	last = last_update(f, ":1.1", released);
	g_assert_cmpstr(update_status(last), ==, "in_progress");
	g_assert_true(g_variant_lookup(last->update, "pages_done", "u", &pages));
	g_assert_cmpuint(pages, >, 0);
	g_assert_cmpstr(wait_terminal(f, ":1.1", released), ==, "completed");
	g_assert_cmpuint(count_in_stage(f, ":1.1", released, "pdf_generation"), >, 2);
}

static const CgTestCase cases[] = {
    CG_TEST_FIXTURE_CASE("/engine/start-complete", test_start_complete),
    CG_TEST_FIXTURE_CASE("/engine/check-start", test_check_start),
    CG_TEST_FIXTURE_CASE("/engine/invalid-data-fails", test_invalid_data_fails),
    CG_TEST_FIXTURE_CASE("/engine/validate-only", test_validate_only_and_templates),
    CG_TEST_FIXTURE_CASE("/engine/free-while-listing", test_free_while_listing),
    CG_TEST_FIXTURE_CASE("/engine/statistics", test_statistics),
    CG_TEST_FIXTURE_CASE("/engine/caps", test_caps),
    CG_TEST_FIXTURE_CASE("/engine/max-tracked", test_max_tracked),
    CG_TEST_FIXTURE_CASE("/engine/rate-limit", test_rate_limit),
    CG_TEST_FIXTURE_CASE("/engine/preview-no-number", test_preview_no_number),
    CG_TEST_FIXTURE_CASE("/engine/preview-refused", test_preview_refused),
    CG_TEST_FIXTURE_CASE("/engine/free-while-previewing", test_free_while_previewing),
    CG_TEST_FIXTURE_CASE("/engine/cancel", test_cancel),
    CG_TEST_FIXTURE_CASE("/engine/ownership", test_ownership),
    CG_TEST_FIXTURE_CASE("/engine/subscriptions", test_subscriptions),
    CG_TEST_FIXTURE_CASE("/engine/connection-closed", test_connection_closed),
    CG_TEST_FIXTURE_CASE("/engine/cleanup", test_cleanup),
    CG_TEST_FIXTURE_CASE("/engine/free-while-running", test_free_while_running),
    CG_TEST_FIXTURE_CASE("/engine/backlogged", test_backlogged),
};

CG_TEST_MAIN_WITH_FIXTURE(cases, Fixture, fixture_setup, fixture_teardown)

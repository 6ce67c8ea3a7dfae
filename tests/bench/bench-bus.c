/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * D-Bus benchmarks of certgend on the bus named by DBUS_SYSTEM_BUS_ADDRESS
 * (tests/bench/run-bench.py sets up a private bus and certgend, then runs
 * this program once per mode):
 *
 *   latency N     GetProgress round trips while the workers render big batches
 *   e2e N         StartGeneration → terminal update for one certificate, N times
 *   fanout S SEC  ProgressChanged delivered to S subscriber connections per second
 *                 while certgend renders (update_interval_ms=0)
 *   ceiling S SEC the same fan-out from a trivial emitter on the same bus
 *   starters N SEC N generations, each started by its own connection and
 *                 followed by it alone: ProgressChanged delivered per second
 *                 (compare with "ceiling N SEC": one signal to each of N)
 *
 * Prints one line "RESULT <mode> key=value ...".
 */
#include <gio/gio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "cg-bench-clock.h"

#define BUS_NAME "org.certgen.Certificates1"
#define PATH "/org/certgen/Certificates1"
#define IFACE "org.certgen.Certificates1.Manager"

static GDBusConnection *
connect_bus(void)
{
	g_autoptr(GError) error = NULL;
	const char *address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);

	if (connection == NULL)
		g_error("connect %s: %s", address, error->message);
	return connection;
}

static char *
batch_json(guint n)
{
	GString *json = g_string_new("{\"recipients\":[");

	for (guint i = 0; i < n; i++)
		g_string_append_printf(json, "%s{\"recipientName\":\"Bench Person %u\"}",
				       i ? "," : "", i);
	g_string_append(json, "],\"courseName\":\"Benchmarking\",\"issueDate\":\"2026-11-28\"}");
	return g_string_free(json, FALSE);
}

static char *
start(GDBusConnection *connection, const char *data, guint update_interval_ms)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder options;
	char *id;

	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", "update_interval_ms",
			      g_variant_new_uint32(update_interval_ms));
	reply = g_dbus_connection_call_sync(
	    connection, BUS_NAME, PATH, IFACE, "StartGeneration",
	    g_variant_new("(sssa{sv})", "bench", "classic", data, &options), G_VARIANT_TYPE("(s)"),
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	if (reply == NULL)
		g_error("StartGeneration: %s", error->message);
	g_variant_get(reply, "(s)", &id);
	return id;
}

static void
cancel(GDBusConnection *connection, const char *id)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
	    connection, BUS_NAME, PATH, IFACE, "Cancel", g_variant_new("(s)", id), NULL,
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
}

static double
percentile(GArray *values, double p)
{
	guint index;

	g_array_sort(values, cg_bench_compare_doubles);
	index = (guint)(p / 100.0 * (values->len - 1) + 0.5);
	return g_array_index(values, double, index);
}

/* ---- latency ---------------------------------------------------------------- */

static int
bench_latency(guint n)
{
	g_autoptr(GDBusConnection) connection = connect_bus();
	g_autofree char *data = batch_json(3000);
	g_autofree char *load1 = start(connection, data, 500);
	g_autofree char *load2 = start(connection, data, 500);
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));

	for (guint i = 0; i < n; i++) {
		gint64 t0 = g_get_monotonic_time();
		g_autoptr(GVariant) reply =
		    g_dbus_connection_call_sync(connection, BUS_NAME, PATH, IFACE, "GetProgress",
						g_variant_new("(s)", i % 2 ? load1 : load2), NULL,
						G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
		double ms = (g_get_monotonic_time() - t0) / 1000.0;

		if (reply == NULL)
			g_error("GetProgress failed");
		g_array_append_val(times, ms);
	}
	cancel(connection, load1);
	cancel(connection, load2);
	g_print("RESULT latency calls=%u p50_ms=%.3f p99_ms=%.3f\n", n, percentile(times, 50),
		percentile(times, 99));
	return 0;
}

/* ---- e2e ------------------------------------------------------------------------ */

typedef struct {
	char *id;
	gboolean done;
	char *status;
} E2eState;

static void
e2e_signal_cb(GDBusConnection *connection, const char *sender, const char *path, const char *iface,
	      const char *member, GVariant *parameters, gpointer user_data)
{
	E2eState *state = user_data;
	const char *id;
	g_autoptr(GVariant) update = NULL;
	const char *status = NULL;

	g_variant_get(parameters, "(&s@a{sv})", &id, &update);
	if (state->id == NULL || !g_str_equal(id, state->id))
		return;
	g_variant_lookup(update, "status", "&s", &status);
	if (status != NULL && !g_str_equal(status, "in_progress")) {
		state->done = TRUE;
		g_free(state->status);
		state->status = g_strdup(status);
	}
}

static int
bench_e2e(guint n)
{
	g_autoptr(GDBusConnection) connection = connect_bus();
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
	const char *data = "{\"recipientName\":\"Ada Lovelace\",\"courseName\":\"Analytical "
			   "Engines\",\"issueDate\":\"2026-11-28\",\"issuer\":\"certgen\"}";
	E2eState state = {0};
	guint sub = g_dbus_connection_signal_subscribe(connection, NULL, IFACE, "ProgressChanged",
						       PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
						       e2e_signal_cb, &state, NULL);

	for (guint i = 0; i < n + 3; i++) {
		gint64 t0 = g_get_monotonic_time();
		double ms;

		state.done = FALSE;
		state.id = start(connection, data, 500);
		while (!state.done)
			g_main_context_iteration(NULL, TRUE);
		ms = (g_get_monotonic_time() - t0) / 1000.0;
		if (!g_str_equal(state.status, "completed"))
			g_error("generation ended %s", state.status);
		if (i >= 3) /* warm-up: template cache, fonts */
			g_array_append_val(times, ms);
		g_clear_pointer(&state.id, g_free);
	}
	g_dbus_connection_signal_unsubscribe(connection, sub);
	g_free(state.status);
	g_print("RESULT e2e runs=%u p50_ms=%.3f p99_ms=%.3f\n", n, percentile(times, 50),
		percentile(times, 99));
	return 0;
}

/* ---- fan-out ------------------------------------------------------------------------ */

static gint received;

static GDBusMessage *
count_filter(GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
	     gpointer user_data)
{
	if (incoming && g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_SIGNAL &&
	    g_strcmp0(g_dbus_message_get_member(message), "ProgressChanged") == 0) {
		g_atomic_int_inc(&received);
		g_object_unref(message);
		return NULL;
	}
	return message;
}

static GPtrArray *
subscribers_new(guint n)
{
	GPtrArray *subscribers = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < n; i++) {
		GDBusConnection *connection = connect_bus();

		g_dbus_connection_add_filter(connection, count_filter, NULL, NULL);
		g_ptr_array_add(subscribers, connection);
	}
	return subscribers;
}

static double
measure(guint seconds)
{
	gint64 t0, t1;
	gint c0, c1;

	g_usleep(G_USEC_PER_SEC / 2); /* warm-up */
	c0 = g_atomic_int_get(&received);
	t0 = g_get_monotonic_time();
	g_usleep(seconds * G_USEC_PER_SEC);
	c1 = g_atomic_int_get(&received);
	t1 = g_get_monotonic_time();
	return (c1 - c0) * (double)G_USEC_PER_SEC / (t1 - t0);
}

static int
bench_fanout(guint n_subscribers, guint seconds)
{
	g_autoptr(GDBusConnection) starter = connect_bus();
	g_autoptr(GPtrArray) subscribers = subscribers_new(n_subscribers);
	g_autofree char *data = batch_json(5000);
	char *ids[4];
	double rate;

	for (guint g = 0; g < G_N_ELEMENTS(ids); g++) {
		ids[g] = start(starter, data, 0);
		for (guint i = 0; i < subscribers->len; i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
			    subscribers->pdata[i], BUS_NAME, PATH, IFACE, "Subscribe",
			    g_variant_new("(s)", ids[g]), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
			    &error);

			if (reply == NULL)
				g_error("Subscribe: %s", error->message);
		}
	}
	rate = measure(seconds);
	for (guint g = 0; g < G_N_ELEMENTS(ids); g++) {
		cancel(starter, ids[g]);
		g_free(ids[g]);
	}
	g_print("RESULT fanout subscribers=%u signals_per_s=%.0f\n", n_subscribers, rate);
	return 0;
}

typedef struct {
	GDBusConnection *emitter;
	GPtrArray *names;
	gboolean stop;
} Emitter;

static gpointer
emitter_thread(gpointer user_data)
{
	Emitter *e = user_data;
	guint64 sequence = 0;

	while (!g_atomic_int_get(&e->stop)) {
		for (guint i = 0; i < e->names->len; i++) {
			GVariantBuilder update;

			g_variant_builder_init(&update, G_VARIANT_TYPE_VARDICT);
			g_variant_builder_add(
			    &update, "{sv}", "progress_id",
			    g_variant_new_string("0123456789abcdef0123456789abcdef"));
			g_variant_builder_add(&update, "{sv}", "stage",
					      g_variant_new_string("pdf_generation"));
			g_variant_builder_add(&update, "{sv}", "stage_progress",
					      g_variant_new_uint32(50));
			g_variant_builder_add(&update, "{sv}", "progress",
					      g_variant_new_double(50.0));
			g_variant_builder_add(&update, "{sv}", "message",
					      g_variant_new_string("Rendered page 1 of 2"));
			g_variant_builder_add(&update, "{sv}", "sequence",
					      g_variant_new_uint64(++sequence));
			g_dbus_connection_emit_signal(
			    e->emitter, e->names->pdata[i], PATH, IFACE, "ProgressChanged",
			    g_variant_new("(sa{sv})", "0123456789abcdef0123456789abcdef", &update),
			    NULL);
		}
		/* A round trip to the bus: everything before it has been routed. */
		g_variant_unref(g_dbus_connection_call_sync(
		    e->emitter, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		    "org.freedesktop.DBus", "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
		    NULL));
	}
	return NULL;
}

static int
bench_ceiling(guint n_subscribers, guint seconds)
{
	g_autoptr(GPtrArray) subscribers = subscribers_new(n_subscribers);
	Emitter e = {connect_bus(), g_ptr_array_new(), FALSE};
	GThread *thread;
	double rate;

	for (guint i = 0; i < subscribers->len; i++)
		g_ptr_array_add(e.names,
				(gpointer)g_dbus_connection_get_unique_name(subscribers->pdata[i]));
	thread = g_thread_new("emitter", emitter_thread, &e);
	rate = measure(seconds);
	g_atomic_int_set(&e.stop, TRUE);
	g_thread_join(thread);
	g_ptr_array_unref(e.names);
	g_object_unref(e.emitter);
	g_print("RESULT ceiling subscribers=%u signals_per_s=%.0f\n", n_subscribers, rate);
	return 0;
}

/* Room for @n connections of this process. */
static void
raise_fd_limit(guint n)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < n + 64) {
		limit.rlim_cur = MIN((rlim_t)n + 64, limit.rlim_max);
		(void)setrlimit(RLIMIT_NOFILE, &limit);
	}
}

static int
bench_starters(guint n, guint seconds)
{
	g_autoptr(GPtrArray) starters = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *data = batch_json(2000);
	double rate;

	raise_fd_limit(n);
	starters = subscribers_new(n);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, start(starters->pdata[i], data, 0));
	rate = measure(seconds);
	for (guint i = 0; i < n; i++)
		cancel(starters->pdata[i], ids->pdata[i]);
	g_print("RESULT starters generations=%u signals_per_s=%.0f\n", n, rate);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && g_str_equal(argv[1], "latency"))
		return bench_latency(atoi(argv[2]));
	if (argc >= 3 && g_str_equal(argv[1], "e2e"))
		return bench_e2e(atoi(argv[2]));
	if (argc >= 4 && g_str_equal(argv[1], "fanout"))
		return bench_fanout(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && g_str_equal(argv[1], "ceiling")) {
		raise_fd_limit(atoi(argv[2]));
		return bench_ceiling(atoi(argv[2]), atoi(argv[3]));
	}
	if (argc >= 4 && g_str_equal(argv[1], "starters"))
		return bench_starters(atoi(argv[2]), atoi(argv[3]));
	g_printerr("usage: %s latency N | e2e N | fanout SUBSCRIBERS SECONDS | ceiling "
		   "SUBSCRIBERS SECONDS | starters GENERATIONS SECONDS\n",
		   argv[0]);
	return 2;
}

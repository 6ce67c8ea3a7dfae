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
 *   ceiling S SEC [BATCHES PAGES]
 *                 the same fan-out from a trivial emitter on the same bus, with
 *                 messages of certgend's size and shape, while certgend renders
 *                 BATCHES batches of PAGES that send nobody anything; the
 *                 emitter is a child process ("emit", reading its input on stdin)
 *   starters N SEC N generations, each started by its own connection and
 *                 followed by it alone: ProgressChanged delivered per second
 *                 (compare with "ceiling N SEC": one signal to each of N)
 *
 * Prints one line "RESULT <mode> key=value ...", with cpu_* keys: percent of
 * one core each process (and certgend's main, GDBus and worker threads) used
 * in the window. What they showed on 2 cores (README, benchmarks): with 100
 * subscribers both cores are busy (certgend's workers about one, the bus
 * daemon, certgend's sending and the receivers the other), so the rate is
 * bound by CPU. Per copy, certgend's part is GDBus serializing it
 * (g_dbus_message_to_blob, ~140 k instructions under callgrind). In
 * "starters" only the 2 rendering generations report, so the rate is bound
 * by the reports (pages_per_s) and the updates sent (updates_sent_per_s),
 * not by the bus.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* ---- where the CPU goes ------------------------------------------------------ */

/* CPU seconds (user + system) of the threads of @pid, by kind: certgend's
 * main thread ("certgend"), its GDBus worker ("gdbus"), and the rest of a
 * process (its workers and pools; all of it for other processes). */
typedef struct {
	double main_s;
	double gdbus_s;
	double other_s;
} CpuSample;

static void
cpu_sample(int pid, CpuSample *sample)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", pid);
	g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
	const char *tid;
	long hz = sysconf(_SC_CLK_TCK);

	*sample = (CpuSample){0};
	while (tasks != NULL && (tid = g_dir_read_name(tasks)) != NULL) {
		g_autofree char *path = g_strdup_printf("%s/%s/stat", dir, tid);
		g_autofree char *text = NULL;
		char *open, *close;
		unsigned long utime = 0, stime = 0;
		double seconds;

		if (!g_file_get_contents(path, &text, NULL, NULL) ||
		    (open = strchr(text, '(')) == NULL || (close = strrchr(text, ')')) == NULL)
			continue;
		*close = '\0';
		/* after the name: state, then fields 4..13; utime and stime are 14, 15 */
		if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			   &stime) != 2)
			continue;
		seconds = (double)(utime + stime) / hz;
		if (g_str_equal(open + 1, "certgend"))
			sample->main_s += seconds;
		else if (g_str_equal(open + 1, "gdbus"))
			sample->gdbus_s += seconds;
		else
			sample->other_s += seconds;
	}
}

/* The pid of the connection that owns @name (the bus daemon answers for
 * itself too), 0 when it cannot say. */
static int
owner_pid(GDBusConnection *connection, const char *name)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
	    connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    "GetConnectionUnixProcessID", g_variant_new("(s)", name), G_VARIANT_TYPE("(u)"),
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	guint32 pid = 0;

	if (reply != NULL)
		g_variant_get(reply, "(u)", &pid);
	return (int)pid;
}

/* The processes of a step, and their CPU over the measured window. */
typedef struct {
	int bus, certgend, emitter;    /* pids; 0: none */
	CpuSample before[4], after[4]; /* bus, certgend, this process (receivers), emitter */
} CpuWindow;

static void
cpu_window_init(CpuWindow *cpu, GDBusConnection *connection)
{
	*cpu = (CpuWindow){0};
	cpu->bus = owner_pid(connection, "org.freedesktop.DBus");
	cpu->certgend = owner_pid(connection, BUS_NAME);
}

static void
cpu_window_sample(CpuWindow *cpu, CpuSample *samples)
{
	int pids[4] = {cpu->bus, cpu->certgend, getpid(), cpu->emitter};

	for (guint i = 0; i < G_N_ELEMENTS(pids); i++) {
		if (pids[i] > 0)
			cpu_sample(pids[i], &samples[i]);
		else
			samples[i] = (CpuSample){0};
	}
}

#define CPU_PCT(cpu, i, field, dt) (100.0 * ((cpu)->after[i].field - (cpu)->before[i].field) / (dt))

/* " cpu_...=PERCENT" keys of the RESULT line: percent of one core. */
static char *
cpu_window_format(const CpuWindow *cpu, double dt)
{
	return g_strdup_printf(
	    "cpu_bus=%.0f cpu_certgend_main=%.0f cpu_certgend_gdbus=%.0f cpu_certgend_workers=%.0f "
	    "cpu_receivers=%.0f cpu_emitter=%.0f",
	    CPU_PCT(cpu, 0, main_s, dt) + CPU_PCT(cpu, 0, gdbus_s, dt) +
		CPU_PCT(cpu, 0, other_s, dt),
	    CPU_PCT(cpu, 1, main_s, dt), CPU_PCT(cpu, 1, gdbus_s, dt), CPU_PCT(cpu, 1, other_s, dt),
	    CPU_PCT(cpu, 2, main_s, dt) + CPU_PCT(cpu, 2, gdbus_s, dt) +
		CPU_PCT(cpu, 2, other_s, dt),
	    CPU_PCT(cpu, 3, main_s, dt) + CPU_PCT(cpu, 3, gdbus_s, dt) +
		CPU_PCT(cpu, 3, other_s, dt));
}

/* Delivered ProgressChanged per second over @seconds after a warm-up;
 * @cpu (may be NULL) gets the CPU of the step's processes over the same
 * window, *cpu_keys its RESULT keys. */
static double
measure(guint seconds, CpuWindow *cpu, char **cpu_keys)
{
	gint64 t0, t1;
	gint c0, c1;

	g_usleep(G_USEC_PER_SEC / 2); /* warm-up */
	c0 = g_atomic_int_get(&received);
	t0 = g_get_monotonic_time();
	if (cpu != NULL)
		cpu_window_sample(cpu, cpu->before);
	g_usleep(seconds * G_USEC_PER_SEC);
	c1 = g_atomic_int_get(&received);
	t1 = g_get_monotonic_time();
	if (cpu != NULL) {
		cpu_window_sample(cpu, cpu->after);
		*cpu_keys = cpu_window_format(cpu, (t1 - t0) / (double)G_USEC_PER_SEC);
	}
	return (c1 - c0) * (double)G_USEC_PER_SEC / (t1 - t0);
}

#define FANOUT_PAGES 10000

/* Whether one of @ids is in pdf_generation, pages still to render. */
static gboolean
rendering(GDBusConnection *connection, char **ids, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		    connection, BUS_NAME, PATH, IFACE, "GetProgress", g_variant_new("(s)", ids[i]),
		    G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
		g_autoptr(GVariant) snapshot = NULL;
		const char *stage = "";
		guint32 done = 0, total = 0;

		if (reply == NULL)
			g_error("GetProgress failed");
		snapshot = g_variant_get_child_value(reply, 0);
		g_variant_lookup(snapshot, "stage", "&s", &stage);
		g_variant_lookup(snapshot, "pages_done", "u", &done);
		g_variant_lookup(snapshot, "pages_total", "u", &total);
		if (g_str_equal(stage, "pdf_generation") && done < total)
			return TRUE;
	}
	return FALSE;
}

/* The first subscriber starts the generations (a starter receives their
 * updates without subscribing), the others subscribe: certgend sends each
 * update to exactly @n_subscribers connections, all counted, as the
 * trivial emitter does (with a separate starter it sent n + 1 copies and n
 * were counted). */
static int
bench_fanout(guint n_subscribers, guint seconds)
{
	g_autoptr(GPtrArray) subscribers = subscribers_new(n_subscribers);
	GDBusConnection *starter = subscribers->pdata[0];
	g_autofree char *data = batch_json(FANOUT_PAGES);
	char *ids[4];
	g_autofree char *cpu_keys = NULL;
	CpuWindow cpu;
	gboolean valid;
	double rate;

	for (guint g = 0; g < G_N_ELEMENTS(ids); g++) {
		ids[g] = start(starter, data, 0);
		for (guint i = 1; i < subscribers->len; i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
			    subscribers->pdata[i], BUS_NAME, PATH, IFACE, "Subscribe",
			    g_variant_new("(s)", ids[g]), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
			    &error);

			if (reply == NULL)
				g_error("Subscribe: %s", error->message);
		}
	}
	/* Measured while pages render: the window starts once one of them
	 * renders and is valid if one still does at its end (under load the
	 * window fell between batches, in file preparation, and measured
	 * about nothing). */
	while (!rendering(starter, ids, G_N_ELEMENTS(ids)))
		g_usleep(10000);
	cpu_window_init(&cpu, starter);
	rate = measure(seconds, &cpu, &cpu_keys);
	valid = rendering(starter, ids, G_N_ELEMENTS(ids));
	for (guint g = 0; g < G_N_ELEMENTS(ids); g++) {
		cancel(starter, ids[g]);
		g_free(ids[g]);
	}
	g_print("RESULT fanout subscribers=%u signals_per_s=%.0f rendering_throughout=%d %s\n",
		n_subscribers, rate, valid, cpu_keys);
	return 0;
}

/* @snapshot with "sequence" = @sequence. */
static GVariant *
update_new(GVariant *snapshot, guint64 sequence)
{
	GVariantBuilder update;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_builder_init(&update, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, snapshot);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (g_str_equal(key, "sequence"))
			g_variant_builder_add(&update, "{sv}", key, g_variant_new_uint64(sequence));
		else
			g_variant_builder_add(&update, "{sv}", key, value);
		g_variant_unref(value);
	}
	return g_variant_builder_end(&update);
}

/* @snapshot when it shows pages being rendered, else NULL. */
static GVariant *
rendering_snapshot(GDBusConnection *connection, const char *id)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
	    connection, BUS_NAME, PATH, IFACE, "GetProgress", g_variant_new("(s)", id),
	    G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	g_autoptr(GVariant) snapshot = NULL;
	guint32 pages_done = 0;

	if (reply == NULL)
		g_error("GetProgress failed");
	snapshot = g_variant_get_child_value(reply, 0);
	if (g_variant_lookup(snapshot, "pages_done", "u", &pages_done) && pages_done >= 100)
		return g_steal_pointer(&snapshot);
	return NULL;
}

/* What certgend sends in pdf_generation: GetProgress of a batch while it
 * renders pages (a snapshot has the keys of an update). The trivial
 * emitter sends messages of this size and shape (with six keys of its own
 * it sent smaller messages than certgend's, cheaper for the bus and the
 * receivers to parse). @ids: batches that render; without any, one is
 * started and cancelled once it renders. */
static GVariant *
certgend_snapshot(GDBusConnection *connection, GPtrArray *ids)
{
	g_autofree char *data = ids->len == 0 ? batch_json(FANOUT_PAGES) : NULL;
	g_autofree char *own = ids->len == 0 ? start(connection, data, 60000) : NULL;

	for (;;) {
		for (guint i = 0; i < (own != NULL ? 1 : ids->len); i++) {
			const char *id = own != NULL ? own : ids->pdata[i];
			GVariant *snapshot = rendering_snapshot(connection, id);

			if (snapshot != NULL) {
				if (own != NULL)
					cancel(connection, own);
				return snapshot;
			}
		}
		g_usleep(10000);
	}
}

/* The work certgend does in the fan-out steps, with nobody to send its
 * updates to: @n batches of @pages each started with update_interval_ms
 * 60000 (the starter gets the stage changes alone, a few messages). */
static GPtrArray *
background_new(GDBusConnection *connection, guint n, guint pages)
{
	g_autofree char *data = batch_json(pages);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, start(connection, data, 60000));
	return ids;
}

static void
background_free(GDBusConnection *connection, GPtrArray *ids)
{
	for (guint i = 0; i < ids->len; i++)
		cancel(connection, ids->pdata[i]);
	g_ptr_array_unref(ids);
}

static void
round_trip_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	guint *in_flight = user_data;
	GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, NULL);

	if (reply == NULL)
		g_error("GetId failed");
	g_variant_unref(reply);
	(*in_flight)--;
}

/* "emit": the trivial emitter, a process of its own as certgend is (in
 * the receivers' process it shared their GDBus worker thread, a handicap
 * certgend does not have). Reads the snapshot (GVariant text) and the
 * receivers' names, a line each, from stdin up to an empty line, then sends
 * until killed: one update to every receiver, as certgend sends one. */
static int
bench_emit(void)
{
	g_autoptr(GDBusConnection) emitter = connect_bus();
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) snapshot = NULL;
	g_autoptr(GError) error = NULL;
	char line[4096];
	guint64 sequence = 0;
	guint in_flight = 0;
	const char *id = NULL;

	if (fgets(line, sizeof(line), stdin) == NULL)
		g_error("emit: no snapshot");
	snapshot = g_variant_parse(G_VARIANT_TYPE_VARDICT, line, NULL, NULL, &error);
	if (snapshot == NULL)
		g_error("emit: %s", error->message);
	while (fgets(line, sizeof(line), stdin) != NULL && line[0] != '\n')
		g_ptr_array_add(names, g_strchomp(g_strdup(line)));
	g_variant_lookup(snapshot, "progress_id", "&s", &id);
	g_print("ready\n");
	fflush(stdout);
	for (;;) {
		g_autoptr(GVariant) body = g_variant_ref_sink(
		    g_variant_new("(s@a{sv})", id, update_new(snapshot, ++sequence)));

		for (guint i = 0; i < names->len; i++)
			g_dbus_connection_emit_signal(emitter, names->pdata[i], PATH, IFACE,
						      "ProgressChanged", body, NULL);
		/* Paced as certgend paces its updates (cg-manager.c): a GetId
		 * round trip after each round, two under way at most (one
		 * round trip and the bus idled while the next round was built:
		 * 2,956/s against certgend's 4,613/s in one quiet run). */
		in_flight++;
		g_dbus_connection_call(emitter, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				       "org.freedesktop.DBus", "GetId", NULL, NULL,
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, round_trip_cb, &in_flight);
		while (in_flight >= 2)
			g_main_context_iteration(NULL, TRUE);
	}
	return 0;
}

/* With @batches > 0, certgend renders @batches batches of @pages meanwhile,
 * as in the fan-out steps (on 2 cores its workers compete with the bus
 * daemon and the receivers for the CPU: without that work beside it, the
 * trivial emitter's ceiling is one certgend cannot reach by sending
 * better). */
static int
bench_ceiling(const char *self_path, guint n_subscribers, guint seconds, guint batches, guint pages)
{
	g_autoptr(GDBusConnection) starter = connect_bus();
	GPtrArray *background = background_new(starter, batches, pages);
	g_autoptr(GVariant) snapshot = certgend_snapshot(starter, background);
	g_autoptr(GPtrArray) subscribers = subscribers_new(n_subscribers);
	g_autoptr(GString) input = g_string_new(NULL);
	g_autoptr(GSubprocess) emitter = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = g_variant_print(snapshot, TRUE);
	g_autofree char *ready = NULL;
	g_autofree char *cpu_keys = NULL;
	CpuWindow cpu;
	gboolean valid;
	double rate;

	g_string_append_printf(input, "%s\n", text);
	for (guint i = 0; i < subscribers->len; i++)
		g_string_append_printf(input, "%s\n",
				       g_dbus_connection_get_unique_name(subscribers->pdata[i]));
	g_string_append_c(input, '\n');
	emitter = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
				   &error, self_path, "emit", NULL);
	if (emitter == NULL ||
	    !g_output_stream_write_all(g_subprocess_get_stdin_pipe(emitter), input->str, input->len,
				       NULL, NULL, &error))
		g_error("emitter: %s", error->message);
	{
		g_autoptr(GDataInputStream) out =
		    g_data_input_stream_new(g_subprocess_get_stdout_pipe(emitter));

		ready = g_data_input_stream_read_line(out, NULL, NULL, &error);
	}
	if (ready == NULL)
		g_error("emitter did not start");
	if (background->len > 0) /* the window starts once they render */
		while (!rendering(starter, (char **)background->pdata, background->len))
			g_usleep(10000);
	cpu_window_init(&cpu, starter);
	cpu.emitter = atoi(g_subprocess_get_identifier(emitter));
	rate = measure(seconds, &cpu, &cpu_keys);
	valid =
	    background->len == 0 || rendering(starter, (char **)background->pdata, background->len);
	g_subprocess_force_exit(emitter);
	g_subprocess_wait(emitter, NULL, NULL);
	background_free(starter, background);
	g_print("RESULT ceiling subscribers=%u batches=%u signals_per_s=%.0f "
		"rendering_throughout=%d %s\n",
		n_subscribers, batches, rate, valid, cpu_keys);
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

/* What the generations of the caller's uid have produced so far: pages
 * rendered (each one a report of the pipeline, update_interval_ms 0) and
 * updates sent (the sum of their sequences), and how many render now. */
typedef struct {
	guint64 pages;
	guint64 updates;
	guint rendering;
	double at_s;
} Supply;

static void
supply_sample(GDBusConnection *connection, Supply *supply)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
	    connection, BUS_NAME, PATH, IFACE, "ListGenerations", NULL, G_VARIANT_TYPE("(aa{sv})"),
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	g_autoptr(GVariant) list = NULL;
	GVariantIter iter;
	GVariant *snapshot;

	*supply = (Supply){0};
	if (reply == NULL)
		g_error("ListGenerations failed");
	list = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, list);
	while ((snapshot = g_variant_iter_next_value(&iter)) != NULL) {
		guint32 done = 0;
		guint64 sequence = 0;
		const char *stage = "";

		g_variant_lookup(snapshot, "pages_done", "u", &done);
		g_variant_lookup(snapshot, "sequence", "t", &sequence);
		g_variant_lookup(snapshot, "stage", "&s", &stage);
		supply->pages += done;
		supply->updates += sequence;
		supply->rendering += g_str_equal(stage, "pdf_generation");
		g_variant_unref(snapshot);
	}
	supply->at_s = g_get_monotonic_time() / (double)G_USEC_PER_SEC;
}

/* Besides the delivered rate: the pages rendered per second (the reports
 * the pipeline produced: an update can only say what a report said) and
 * the updates certgend sent per second (each to one starter here), over
 * the window with its warm-up; "rendering" is how many generations were in
 * pdf_generation at its end (the workers: the rest wait in the queue and
 * have nothing to report). */
static int
bench_starters(guint n, guint seconds)
{
	g_autoptr(GPtrArray) starters = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *data = batch_json(2000);
	g_autofree char *cpu_keys = NULL;
	CpuWindow cpu;
	Supply before, after;
	double rate, dt;

	raise_fd_limit(n);
	starters = subscribers_new(n);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(ids, start(starters->pdata[i], data, 0));
	cpu_window_init(&cpu, starters->pdata[0]);
	supply_sample(starters->pdata[0], &before);
	rate = measure(seconds, &cpu, &cpu_keys);
	supply_sample(starters->pdata[0], &after);
	dt = after.at_s - before.at_s;
	for (guint i = 0; i < n; i++)
		cancel(starters->pdata[i], ids->pdata[i]);
	g_print("RESULT starters generations=%u signals_per_s=%.0f pages_per_s=%.0f "
		"updates_sent_per_s=%.0f rendering=%u %s\n",
		n, rate, (after.pages - before.pages) / dt, (after.updates - before.updates) / dt,
		after.rendering, cpu_keys);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && g_str_equal(argv[1], "emit"))
		return bench_emit();
	if (argc >= 3 && g_str_equal(argv[1], "latency"))
		return bench_latency(atoi(argv[2]));
	if (argc >= 3 && g_str_equal(argv[1], "e2e"))
		return bench_e2e(atoi(argv[2]));
	if (argc >= 4 && g_str_equal(argv[1], "fanout"))
		return bench_fanout(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && g_str_equal(argv[1], "ceiling")) {
		raise_fd_limit(atoi(argv[2]));
		return bench_ceiling(argv[0], atoi(argv[2]), atoi(argv[3]),
				     argc >= 6 ? atoi(argv[4]) : 0, argc >= 6 ? atoi(argv[5]) : 0);
	}
	if (argc >= 4 && g_str_equal(argv[1], "starters"))
		return bench_starters(atoi(argv[2]), atoi(argv[3]));
	g_printerr("usage: %s latency N | e2e N | fanout SUBSCRIBERS SECONDS | ceiling "
		   "SUBSCRIBERS SECONDS [BATCHES PAGES] | starters GENERATIONS SECONDS\n",
		   argv[0]);
	return 2;
}

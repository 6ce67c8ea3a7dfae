/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sse-publish: the reference path's publisher for tests/bench/sse-fanout.py.
 * It follows the given generations on the (private) system bus the way
 * certgen-http does (a ProgressChanged match on certgend's unique name, then
 * Subscribe), turns every update into exactly the JSON the bridge puts into
 * its SSE "data:" line (cg_http_update_to_json, linked from the bridge's own
 * library) and POSTs it to nchan's publisher location
 * (http://127.0.0.1:PORT/pub/<progressId>) on one kept-alive connection.
 * So both paths carry byte-identical event data created at the same instant.
 *
 * It also writes "progressId sequence timestamp_us" per update to --map, so
 * that sse-client can measure both paths against certgend's microsecond
 * timestamp (the JSON has milliseconds only), and prints one RESULT line:
 * D-Bus delivery latency to this process (signal received - timestamp_us)
 * and the POST round trip.
 *
 *   sse-publish --map FILE [--nchan-port P] [--seconds S] ID...
 *
 * Runs until SIGTERM/SIGINT, --seconds (default 600) or every generation
 * has ended.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cg-http-bus.h"
#include "cg-http-follow.h"
#include "cg-http-json.h"

#include "cg-bench-clock.h"

static int opt_nchan_port;
static char *opt_map;
static int opt_seconds = 600;

static GMainLoop *loop;
static GHashTable *ids; /* progress id -> GINT_TO_POINTER(ended) */
static FILE *map;
static int nchan_fd = -1;
static GArray *dbus_lat; /* gint64 µs */
static GArray *post_lat;
static guint64 n_events, n_posted, n_post_errors;

static int
nchan_connect(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)opt_nchan_port)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one response (headers + Content-Length body); its status or -1. */
static int
read_response(int fd)
{
	char buf[8192];
	size_t have = 0;
	char *end = NULL;
	long length = 0;
	int status = 0;
	const char *cl;

	while (end == NULL) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL && have >= sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl != NULL)
		length = strtol(cl + 17, NULL, 10);
	{
		long body_have = (long)(have - (size_t)(end + 4 - buf));

		while (body_have < length) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n <= 0)
				return -1;
			body_have += n;
		}
	}
	return status;
}

static void
post(const char *progress_id, const char *json)
{
	g_autofree char *req = NULL;
	gint64 t0 = g_get_real_time();
	int status = -1;
	size_t len;

	req = g_strdup_printf("POST /pub/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			      progress_id, opt_nchan_port, strlen(json), json);
	len = strlen(req);
	for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
		if (nchan_fd < 0)
			nchan_fd = nchan_connect();
		if (nchan_fd < 0)
			break;
		if (send(nchan_fd, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    (status = read_response(nchan_fd)) < 0) {
			close(nchan_fd);
			nchan_fd = -1;
			status = -1;
		}
	}
	if (status >= 200 && status < 300) {
		gint64 us = g_get_real_time() - t0;

		n_posted++;
		g_array_append_val(post_lat, us);
	} else {
		if (n_post_errors++ < 3)
			g_printerr("sse-publish: POST /pub/%s: status %d\n", progress_id, status);
	}
}

static void
progress_changed_cb(GDBusConnection *connection, const char *sender, const char *object_path,
		    const char *interface_name, const char *signal_name, GVariant *parameters,
		    gpointer user_data)
{
	gint64 now = g_get_real_time();
	g_autoptr(GVariant) update = NULL;
	g_autofree char *json = NULL;
	const char *progress_id;
	gint64 ts_us = 0;
	guint64 sequence = 0;
	gpointer ended;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv})")))
		return;
	g_variant_get(parameters, "(&s@a{sv})", &progress_id, &update);
	if (!g_hash_table_lookup_extended(ids, progress_id, NULL, &ended))
		return;
	g_variant_lookup(update, "timestamp_us", "x", &ts_us);
	g_variant_lookup(update, "sequence", "t", &sequence);
	json = cg_http_update_to_json(update);
	fprintf(map, "%s %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n", progress_id, sequence,
		ts_us);
	fflush(map);
	n_events++;
	{
		gint64 d = now - ts_us;

		g_array_append_val(dbus_lat, d);
	}
	if (opt_nchan_port > 0)
		post(progress_id, json);
	if (cg_http_update_is_terminal(update)) {
		GHashTableIter iter;
		gpointer value;
		gboolean all = TRUE;

		g_hash_table_replace(ids, g_strdup(progress_id), GINT_TO_POINTER(1));
		g_hash_table_iter_init(&iter, ids);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			all = all && GPOINTER_TO_INT(value);
		if (all)
			g_main_loop_quit(loop);
	}
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static double
pct_ms(GArray *a, double p)
{
	guint k;

	if (a->len == 0)
		return -1;
	g_array_sort(a, cg_bench_compare_i64);
	k = (guint)(p / 100.0 * (a->len - 1) + 0.5);
	return (double)g_array_index(a, gint64, MIN(k, a->len - 1)) / 1000.0;
}

int
main(int argc, char **argv)
{
	GOptionEntry entries[] = {
	    {"nchan-port", 0, 0, G_OPTION_ARG_INT, &opt_nchan_port,
	     "POST every update to http://127.0.0.1:PORT/pub/<progressId>", "PORT"},
	    {"map", 0, 0, G_OPTION_ARG_FILENAME, &opt_map,
	     "Write \"progressId sequence timestamp_us\" per update to FILE", "FILE"},
	    {"seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "Stop after S seconds", "S"},
	    {NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new("PROGRESS_ID...");
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(GVariant) owner_reply = NULL;
	const char *owner;
	guint signal_id;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || argc < 2 || opt_map == NULL ||
	    opt_seconds <= 0 || opt_seconds > 3600) {
		g_printerr("usage: sse-publish --map FILE [--nchan-port P] [--seconds S] ID...\n");
		return 2;
	}
	map = fopen(opt_map, "w");
	if (map == NULL) {
		g_printerr("sse-publish: %s: %s\n", opt_map, g_strerror(errno));
		return 1;
	}
	dbus_lat = g_array_new(FALSE, FALSE, sizeof(gint64));
	post_lat = g_array_new(FALSE, FALSE, sizeof(gint64));
	ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 1; i < argc; i++)
		g_hash_table_replace(ids, g_strdup(argv[i]), GINT_TO_POINTER(0));

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr("sse-publish: %s\n", error->message);
		return 1;
	}
	owner_reply = g_dbus_connection_call_sync(
	    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
	    "GetNameOwner", g_variant_new("(s)", CG_BUS_NAME), G_VARIANT_TYPE("(s)"),
	    G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
	if (owner_reply == NULL) {
		g_printerr("sse-publish: %s\n", error->message);
		return 1;
	}
	g_variant_get(owner_reply, "(&s)", &owner);
	signal_id = g_dbus_connection_signal_subscribe(
	    bus, owner, CG_MANAGER_INTERFACE, "ProgressChanged", CG_OBJECT_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, progress_changed_cb, NULL, NULL);
	for (int i = 1; i < argc; i++) {
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		    bus, CG_BUS_NAME, CG_OBJECT_PATH, CG_MANAGER_INTERFACE, "Subscribe",
		    g_variant_new("(s)", argv[i]), G_VARIANT_TYPE("()"), G_DBUS_CALL_FLAGS_NONE,
		    10000, NULL, &error);

		if (reply == NULL) {
			g_printerr("sse-publish: Subscribe(%s): %s\n", argv[i], error->message);
			return 1;
		}
	}
	if (opt_nchan_port > 0 && (nchan_fd = nchan_connect()) < 0) {
		g_printerr("sse-publish: cannot connect to 127.0.0.1:%d\n", opt_nchan_port);
		return 1;
	}
	printf("SUBSCRIBED %d\n", argc - 1);
	fflush(stdout);

	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, quit_cb, NULL);
	g_unix_signal_add(SIGINT, quit_cb, NULL);
	g_timeout_add_seconds((guint)opt_seconds, quit_cb, NULL);
	g_main_loop_run(loop);
	g_dbus_connection_signal_unsubscribe(bus, signal_id);

	printf("RESULT sse-publish events=%" G_GUINT64_FORMAT " posted=%" G_GUINT64_FORMAT
	       " post_errors=%" G_GUINT64_FORMAT " dbus_p50_ms=%.3f dbus_p99_ms=%.3f "
	       "post_p50_ms=%.3f post_p99_ms=%.3f\n",
	       n_events, n_posted, n_post_errors, pct_ms(dbus_lat, 50), pct_ms(dbus_lat, 99),
	       pct_ms(post_lat, 50), pct_ms(post_lat, 99));
	fflush(stdout);
	fclose(map);
	if (nchan_fd >= 0)
		close(nchan_fd);
	g_main_loop_unref(loop);
	g_hash_table_unref(ids);
	g_array_unref(dbus_lat);
	g_array_unref(post_lat);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgen-relay: one per rendering host, beside certgend. It takes
 * generation requests that any certgen-http --redis put on the Redis
 * stream certgen:requests, runs them on its host's certgend as a delegate
 * (as the single-host bridge does) and publishes every update to the
 * generation's own stream, so any bridge can serve it (README.md, "Beyond
 * one host").
 *
 * The pieces, one file each:
 *   cg-relay.c          the loops: XREADGROUP as consumer HOST of the group
 *                       "hosts" (never more than --max-active at once),
 *                       XAUTOCLAIM of entries idle > --claim-timeout-ms (the
 *                       takeover of a dead host's work), XCLAIM of its own
 *                       every claim-timeout/3 (the heartbeat);
 *   cg-relay-job.c      one request: the hash check, StartGeneration, the
 *                       follow, the terminal steps, XACK;
 *   cg-relay-outbox.c   one generation's publishing: ordered, idempotent
 *                       MULTI transactions, bounded while Redis is away;
 *   cg-relay-update.c   the rewrite of certgend's updates to the global id;
 *   cg-relay-entry.c    a request entry, checked;
 *   cg-relay-control.c  the host's control stream (cancel);
 *   cg-relay-stream.c   stream replies; cg-relay-keys.c the key names.
 * The bus side is the bridge's own (client/http): CgHttpBus (connection,
 * owner watch, ProgressChanged only from certgend's unique name, call
 * queue) and CgHttpFollow (watch → owner check → Subscribe → GetProgress
 * → ordered updates), with the web user as owner_label.
 *
 * Failure model: the entry is acknowledged only once the terminal update
 * is published. A relay that dies stops re-claiming; its certgend cancels
 * its generations (cancel_on_disconnect), and after the claim timeout
 * another host starts the request again and continues the same id:
 * sequences go on from the hash's last_seq, progress never goes below
 * what was published, and the first update from the new host has the
 * message "resumed on HOST" (certgend's message of that one update is
 * replaced; later ones are certgend's). When certgend leaves the bus the
 * relay drops its running generations (no re-claim: other hosts take
 * them) and reads nothing until it is back. When Redis goes away the
 * generations go on; their updates wait (bounded, coalesced, the terminal
 * kept) and go out on reconnect, and each running generation's hash is
 * written again (a Redis restarted without persistence lost it).
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "cg-command-line.h"
#include "cg-redis.h"
#include "cg-relay.h"

#define CG_RELAY_MAX_HOST_ID 64

typedef struct {
	GMainLoop *loop;
	const CgRelayConfig *config;
} CgRelayApp;

static gboolean
host_id_is_valid(const char *host_id)
{
	gsize len = strlen(host_id);

	if (len == 0 || len > CG_RELAY_MAX_HOST_ID)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(host_id[i]) && strchr("._-", host_id[i]) == NULL)
			return FALSE;
	}
	return TRUE;
}

static void
ready_cb(gpointer user_data)
{
	CgRelayApp *app = user_data;

	sd_notify(0, "READY=1");
	g_printerr("certgen-relay: ready (host %s)\n", app->config->host_id);
	g_message("Ready: host %s, at most %u at once", app->config->host_id,
		  app->config->max_active);
}

static gboolean
stop_cb(gpointer user_data)
{
	CgRelayApp *app = user_data;

	g_message("Stopping");
	sd_notify(0, "STOPPING=1");
	g_main_loop_quit(app->loop);
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	g_autofree char *opt_redis = NULL;
	g_autofree char *opt_host_id = NULL;
	gint claim_timeout_ms = 15000, max_active = 4, finished_ttl_s = 60, max_age_s = 1800;
	gint64 file_max_bytes = 268435456;
	const GOptionEntry entries[] = {
	    {"redis", 0, 0, G_OPTION_ARG_STRING, &opt_redis,
	     "Redis at ADDRESS: a unix socket path or HOST[:PORT] (required)", "ADDRESS"},
	    {"host-id", 0, 0, G_OPTION_ARG_STRING, &opt_host_id,
	     "This host's consumer name (default: the host name)", "NAME"},
	    {"claim-timeout-ms", 0, 0, G_OPTION_ARG_INT, &claim_timeout_ms,
	     "Take over requests of hosts silent for MS (default 15000)", "MS"},
	    {"max-active", 0, 0, G_OPTION_ARG_INT, &max_active,
	     "Generations run at once (default 4)", "N"},
	    {"finished-ttl-s", 0, 0, G_OPTION_ARG_INT, &finished_ttl_s,
	     "Keep a finished generation's keys for SECONDS (default 60)", "SECONDS"},
	    {"max-age-s", 0, 0, G_OPTION_ARG_INT, &max_age_s,
	     "Keep any generation's keys at most SECONDS from its creation (default 1800)",
	     "SECONDS"},
	    {"file-max-bytes", 0, 0, G_OPTION_ARG_INT64, &file_max_bytes,
	     "Store finished files up to BYTES in Redis (default 268435456)", "BYTES"},
	    {NULL},
	};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(CgRelay) relay = NULL;
	CgRelayConfig config = {0};
	CgRelayApp app = {0};
	guint sigterm_id, sigint_id;
	int exit_status;

	context = g_option_context_new("- publish certgend's generations on Redis Streams");
	g_option_context_set_summary(
	    context, "Takes generation requests from Redis (certgen:requests, put there by "
		     "certgen-http --redis), runs them on this host's certgend and publishes "
		     "their progress, analytics and files to Redis for every bridge.");
	g_option_context_add_main_entries(context, entries, NULL);
	exit_status = cg_command_line_parse(context, "certgen-relay", &argc, &argv);
	if (exit_status >= 0)
		return exit_status;
	if (opt_redis == NULL) {
		g_printerr("certgen-relay needs --redis ADDRESS\n");
		return 2;
	}
	if (!cg_redis_address_is_valid(opt_redis, &error)) {
		g_printerr("--redis %s: %s\n", opt_redis, error->message);
		return 2;
	}
	if (opt_host_id == NULL)
		opt_host_id = g_strdup(g_get_host_name());
	if (!host_id_is_valid(opt_host_id)) {
		g_printerr("--host-id %s: expected 1–%u letters, digits, '.', '_' or '-'\n",
			   opt_host_id, CG_RELAY_MAX_HOST_ID);
		return 2;
	}
	if (claim_timeout_ms < 300 || max_active < 1 || max_active > 1024 || finished_ttl_s < 1 ||
	    max_age_s < 1 || file_max_bytes < 0) {
		g_printerr("--claim-timeout-ms must be at least 300, --max-active 1–1024, the ages "
			   "positive and --file-max-bytes not negative\n");
		return 2;
	}
	config.redis_address = opt_redis;
	config.host_id = opt_host_id;
	config.claim_timeout_ms = (guint)claim_timeout_ms;
	config.max_active = (guint)max_active;
	config.finished_ttl_s = (guint)finished_ttl_s;
	config.max_age_s = (guint)max_age_s;
	config.file_max_bytes = (guint64)file_max_bytes;

	loop = g_main_loop_new(NULL, FALSE);
	app.loop = loop;
	app.config = &config;
	/* certgend's bus: DBUS_SYSTEM_BUS_ADDRESS, else the system bus */
	relay = cg_relay_new(&config, NULL, ready_cb, &app, &error);
	if (relay == NULL) {
		g_printerr("%s\n", error->message);
		return EXIT_FAILURE;
	}
	sigterm_id = g_unix_signal_add(SIGTERM, stop_cb, &app);
	sigint_id = g_unix_signal_add(SIGINT, stop_cb, &app);
	g_main_loop_run(loop);
	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	g_clear_pointer(&relay, cg_relay_free);
	return EXIT_SUCCESS;
}

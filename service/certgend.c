/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgend: the certgen D-Bus system service.
 *
 * Shape: main() parses the command line and the config, connects to the bus,
 * creates the CgManager (cg-manager.c) and runs the GLib main loop. The
 * manager is the bus face: who calls (cg-peers.c), may they (cg-auth.c),
 * then the engine (cg-engine.c): caps, rate limit, subscriptions, the state
 * (cg-tracker.c); the work runs in the pipeline's bounded worker threads
 * (cg-pipeline.c: cg-template.c, cg-data.c, cg-render.c, cg-counter.c,
 * cg-output.c) and reports back to the main loop.
 */
#include "config.h"

#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "cg-config.h"
#include "cg-contract.h"
#include "cg-manager.h"
#include "cg-command-line.h"

typedef struct {
	GMainLoop *loop;
	CgManager *manager;
	int exit_code;
	gboolean name_acquired;
	guint watchdog_id;
} CgDaemon;

static void
update_status(CgEngine *engine, gpointer user_data)
{
	sd_notifyf(0, "STATUS=%u active, %u tracked generations", cg_engine_count_active(engine),
		   cg_engine_count_tracked(engine));
}

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	CgDaemon *daemon = user_data;

	daemon->name_acquired = TRUE;
	g_message("Acquired the name %s; ready", name);
	sd_notify(0, "READY=1\nSTATUS=0 active, 0 tracked generations");
}

static void
name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	CgDaemon *daemon = user_data;

	if (connection == NULL || g_dbus_connection_is_closed(connection))
		g_warning("Lost the connection to the bus");
	else
		g_warning("Could not own the name %s (is another certgend running, and does "
			  "the bus policy allow this user to own it?)",
			  name);
	daemon->exit_code = EXIT_FAILURE;
	g_main_loop_quit(daemon->loop);
}

static gboolean
quit_cb(gpointer user_data)
{
	CgDaemon *daemon = user_data;

	g_message("Stopping");
	g_main_loop_quit(daemon->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
watchdog_cb(gpointer user_data)
{
	sd_notify(0, "WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	gboolean opt_session = FALSE;
	g_autofree char *opt_config = NULL;
	g_autofree char *opt_state_dir = NULL;
	g_auto(GStrv) opt_template_dirs = NULL;
	const GOptionEntry entries[] = {
	    {"session", 0, 0, G_OPTION_ARG_NONE, &opt_session,
	     "Use the session bus instead of the system bus", NULL},
	    {"config", 0, 0, G_OPTION_ARG_FILENAME, &opt_config,
	     "Read settings from FILE (default " CG_CONFIG_FILE " when it exists)", "FILE"},
	    {"template-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_template_dirs,
	     "Look for templates in DIR (repeatable, searched in order)", "DIR"},
	    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
	     "Keep certificates and the counter in DIR (default $STATE_DIRECTORY or " CG_STATE_DIR
	     ")",
	     "DIR"},
	    {NULL},
	};
	const char *default_template_dirs[] = {CG_SYSCONF_TEMPLATE_DIR, CG_TEMPLATE_DIR, NULL};
	g_autoptr(GOptionContext) context = NULL;
	int exit_status;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autofree char *state_dir = NULL;
	CgDaemon daemon = {0};
	CgConfig config;
	guint owner_id, sigterm_id, sigint_id;
	guint64 watchdog_us = 0;

#ifdef __GLIBC__
	/* Big buffers (a data_json of megabytes, its strings) are mmapped and
	 * go back to the system when freed. glibc's default raises this
	 * threshold after the first big free, and later big buffers stay in a
	 * worker's arena at its peak (bench-data-memory: +30 MiB kept per
	 * worker after a 15 MiB data_json, +0 with a fixed threshold). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	context = g_option_context_new("- certificate generation service");
	g_option_context_set_summary(context, "Generates certificate PDFs for D-Bus clients and "
					      "reports their progress stage by stage.");
	g_option_context_add_main_entries(context, entries, NULL);
	exit_status = cg_command_line_parse(context, "certgend", &argc, &argv);
	if (exit_status >= 0)
		return exit_status;

	cg_config_init_defaults(&config);
	if (opt_config != NULL || g_file_test(CG_CONFIG_FILE, G_FILE_TEST_EXISTS)) {
		const char *path = opt_config != NULL ? opt_config : CG_CONFIG_FILE;

		if (!cg_config_load(&config, path, &error)) {
			g_printerr("Invalid configuration: %s\n", error->message);
			return EXIT_FAILURE;
		}
	}
	if (opt_state_dir != NULL)
		state_dir = g_strdup(opt_state_dir);
	else if (g_getenv("STATE_DIRECTORY") != NULL)
		state_dir = g_strdup(g_getenv("STATE_DIRECTORY"));
	else
		state_dir = g_strdup(CG_STATE_DIR);

	connection =
	    g_bus_get_sync(opt_session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, &error);
	if (connection == NULL) {
		g_printerr("Could not connect to the %s bus: %s\n"
			   "(To use another bus, set %s to its address%s.)\n",
			   opt_session ? "session" : "system", error->message,
			   opt_session ? "DBUS_SESSION_BUS_ADDRESS" : "DBUS_SYSTEM_BUS_ADDRESS",
			   opt_session ? "" : ", or pass --session for the session bus");
		return EXIT_FAILURE;
	}
	g_dbus_connection_set_exit_on_close(connection, FALSE);

	daemon.manager =
	    cg_manager_new(connection, &config,
			   opt_template_dirs != NULL ? (const char *const *)opt_template_dirs
						     : default_template_dirs,
			   state_dir, &error);
	if (daemon.manager == NULL) {
		g_printerr("Could not start: %s\n", error->message);
		return EXIT_FAILURE;
	}
	cg_engine_set_status_func(cg_manager_get_engine(daemon.manager), update_status, &daemon);
	if (!cg_manager_export(daemon.manager, &error)) {
		g_printerr("Could not export the manager: %s\n", error->message);
		cg_manager_free(daemon.manager);
		return EXIT_FAILURE;
	}

	loop = g_main_loop_new(NULL, FALSE);
	daemon.loop = loop;
	daemon.exit_code = EXIT_SUCCESS;
	sigterm_id = g_unix_signal_add(SIGTERM, quit_cb, &daemon);
	sigint_id = g_unix_signal_add(SIGINT, quit_cb, &daemon);
	if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us > 0)
		daemon.watchdog_id =
		    g_timeout_add(MAX(1u, (guint)(watchdog_us / 2000)), watchdog_cb, &daemon);
	owner_id =
	    g_bus_own_name_on_connection(connection, CG_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
					 name_acquired_cb, name_lost_cb, &daemon, NULL);

	g_main_loop_run(loop);

	sd_notify(0, "STOPPING=1");
	g_bus_unown_name(owner_id);
	g_source_remove(sigterm_id);
	g_source_remove(sigint_id);
	if (daemon.watchdog_id != 0)
		g_source_remove(daemon.watchdog_id);
	cg_manager_free(daemon.manager);
	g_dbus_connection_flush_sync(connection, NULL, NULL);
	return daemon.exit_code;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-command-line.h"

#include <stdlib.h>

int
cg_command_line_parse(GOptionContext *context, const char *program, int *argc, char ***argv)
{
	static gboolean debug, version;
	static const GOptionEntry entries[] = {
	    {"debug", 0, 0, G_OPTION_ARG_NONE, &debug, "Print debug messages", NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    {NULL},
	};
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (version) {
		g_print("%s %s\n", program, CG_VERSION);
		return EXIT_SUCCESS;
	}
	if (*argc > 1) {
		g_printerr("Unexpected argument: %s\n", (*argv)[1]);
		return 2;
	}
	if (debug)
		g_log_set_debug_enabled(TRUE);
	return -1;
}

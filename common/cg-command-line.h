/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The command line of a certgen daemon (certgend, certgen-http): @context's
 * own entries plus --debug and --version, and no positional argument.
 * Returns -1 when the program goes on, or the exit status to return now
 * (0 after printing "@program VERSION", 2 after printing what was wrong). */
int cg_command_line_parse(GOptionContext *context, const char *program, int *argc, char ***argv);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * certgend's InvalidData message as the clients read it back: every
 * problem joined, "path: message; path: message; … and N more"
 * (service/cg-problems.h), one problem being just "path: message".
 */

/* Whether @text starts with a problem's "path: " (no space nor ';' before
 * the first ": "); *@path_len is the path's length then. */
gboolean cg_problem_text_path(const char *text, gsize *path_len);

/* The end of the problem whose message starts at @what: the "; " before
 * the next problem or before "… and N more", or the end of the text.
 * *@next is the next problem's start, or NULL when there is none (the
 * tail, if any, starts at the returned end + 2). */
const char *cg_problem_text_end(const char *what, const char **next);

G_END_DECLS

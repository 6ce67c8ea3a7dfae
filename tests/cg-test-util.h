/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Helpers every C unit test may link (tests/meson.build adds
 * cg-test-util.c to each). */

/* Removes @path and, when it is a directory, everything below it. A
 * symbolic link is removed itself, never followed (tests link files such
 * as /etc/passwd or /dev/zero into their scratch directories). */
void cg_test_remove_tree(const char *path);

G_END_DECLS

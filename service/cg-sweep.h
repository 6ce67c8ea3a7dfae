/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-registry.h"

G_BEGIN_DECLS

/*
 * The startup sweep of the certificates directory, before any generation
 * runs: what a crash (kill -9, power loss) left behind goes. Removed are
 * hidden temporaries (".<id>.pdf.XXXXXX") and result files
 * ("<id>.pdf", "<id>.zip") whose generation has no rows in the registry
 * (their rows' commit never happened, so no certificate in them exists).
 * Each removal is logged (g_message, one line per file); other names,
 * directories and symbolic links' targets are left alone.
 *
 * Not yet: files of completed generations that did not ask for
 * persistence (they have rows); that needs the registry's table of
 * generations (issue 14 item 6).
 *
 * Returns how many files were removed.
 */
guint cg_sweep_certificates(const char *dir, CgRegistry *registry);

G_END_DECLS

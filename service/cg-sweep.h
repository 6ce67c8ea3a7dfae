/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-registry.h"

G_BEGIN_DECLS

/*
 * The startup sweep of the certificates directory, before any generation
 * runs: what a crash (kill -9, power loss) left behind goes. Removed are
 * hidden temporaries (".<id>.pdf.XXXXXX") and every result file ("<id>.pdf",
 * "<id>.zip") whose name is not in @kept, the files of the persistent
 * generations the registry still holds (cg-persistence.h): either their
 * generation never committed its rows (no certificate in them exists), or
 * it did not ask for persistence (nobody can fetch it after a restart).
 * Each removal is logged (g_message, one line per file, with the reason);
 * other names, directories and symbolic links are left alone.
 *
 * Returns how many files were removed.
 */
guint cg_sweep_certificates(const char *dir, CgRegistry *registry, GHashTable *kept);

G_END_DECLS

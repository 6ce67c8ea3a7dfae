/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-registry.h"
#include "cg-statistics.h"

G_BEGIN_DECLS

/*
 * Where the statistics window lives between runs: the registry's
 * statistics table (cg-registry.h). The engine saves the entries added
 * since the last save at most once a second and at shutdown, so a crash
 * loses at most the last second's figures (they are statistics, not
 * certificates: no fsync per generation on the main loop).
 *
 * An older certgend's <state_dir>/statistics.json is taken over once: read
 * (its newest `window` entries), written to the registry, renamed to
 * statistics.json.migrated. A corrupt one is logged, renamed all the same,
 * and the window starts empty.
 */

/* Replaces the window by the registry's (and migrates the old file). Rows
 * that are not what the service writes are skipped, with one warning. */
gboolean cg_statistics_store_load(CgStatistics *statistics, CgRegistry *registry,
				  const char *state_dir, GError **error);
/* Writes the entries added since the last save (cg_statistics_get_unsaved()),
 * dropping the rows beyond @window, and marks them saved. */
gboolean cg_statistics_store_save(CgStatistics *statistics, CgRegistry *registry, guint window,
				  GError **error);

G_END_DECLS

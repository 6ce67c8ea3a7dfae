/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-registry.h"
#include "cg-tracker.h"

G_BEGIN_DECLS

/*
 * Persistence (DESIGN.md, enable_persistence): a generation that asked for
 * it and completed is kept in the registry (table generations) from the
 * moment it completes — the row is committed before its `completed` update
 * is sent — until its owner's Cleanup or `[persistence] keep_days` after
 * its end. After a restart the engine brings every kept one back into the
 * tracker (cg_tracker_restore()), so GetProgress, GetAnalytics,
 * ListGenerations and OpenCertificate answer as before, and the startup
 * sweep keeps exactly their files.
 *
 * The row's record is the tracker's CgGenerationRecord as a GVariant a{sv}
 * (self-describing, so later versions may add keys), read back as
 * untrusted data: every key is type-checked, the record validated by the
 * tracker, and its file must be the generation's own name in the
 * certificates directory, a regular file of the recorded size.
 *
 * The bytes an owner (uid and owner label) keeps are capped
 * (`max_persistent_bytes_per_owner`): cg_persistence_owner_bytes() counts
 * the completed persistent generations the tracker holds.
 */

/* The row of @generation (completed, persistent) committed to @registry. */
gboolean cg_persistence_keep(CgRegistry *registry, CgGeneration *generation, GError **error);
/* Its row deleted (the generation is being forgotten); failures logged. */
void cg_persistence_forget(CgRegistry *registry, CgGeneration *generation);

/* Every kept generation back into @tracker; a row that cannot be restored
 * (record not valid, file missing or changed) is logged and deleted.
 * Returns the set of file names restored (g_hash_table_unref), for the
 * startup sweep. NULL with @error when the rows cannot be read. */
GHashTable *cg_persistence_restore(CgRegistry *registry, CgTracker *tracker, const char *output_dir,
				   GError **error);

/* The bytes of the persistent results @uid/@owner_label keeps now. */
guint64 cg_persistence_owner_bytes(CgTracker *tracker, guint32 uid, const char *owner_label);

/* The record's stored form, and back (strings borrowed from @variant). */
GVariant *cg_persistence_record_to_variant(const CgGenerationRecord *record);
gboolean cg_persistence_record_from_variant(GVariant *variant, CgGenerationRecord *record,
					    GError **error);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Certificate numbers: unique and increasing across restarts. The last number
 * handed out is kept in <state_dir>/counter, written atomically (temporary
 * file, fsync, rename) before any number of a reservation is used.
 * Thread-safe.
 */

typedef struct _CgCounter CgCounter;

CgCounter *cg_counter_new(const char *state_dir, GError **error);
void cg_counter_free(CgCounter *counter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgCounter, cg_counter_free)

/* Reserve @n consecutive numbers; *first gets the first one (numbers start at 1). */
gboolean cg_counter_reserve(CgCounter *counter, guint n, guint64 *first, GError **error);

G_END_DECLS

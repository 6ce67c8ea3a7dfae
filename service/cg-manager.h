/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-config.h"
#include "cg-engine.h"

G_BEGIN_DECLS

/*
 * CgManager: org.certgen.Certificates1.Manager on /org/certgen/Certificates1,
 * the bus face of the engine (cg-engine.h). Every method reads its typed
 * arguments, learns who calls from the bus (CgPeers) and asks the one
 * authorization helper (CgAuth) where the contract says so, then calls the
 * engine and replies. The engine's updates are sent as unicast
 * ProgressChanged signals to the starter and subscribers only.
 */

typedef struct _CgManager CgManager;

/* Called when the number of active or tracked generations changed. */

CgManager *cg_manager_new(GDBusConnection *connection, const CgConfig *config,
			  const char *const *template_dirs, const char *state_dir, GError **error);
void cg_manager_free(CgManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgManager, cg_manager_free)

/* Export the object on the connection. */
gboolean cg_manager_export(CgManager *manager, GError **error);
/* The engine behind the bus face (its counts and status callback are
 * certgend's sd_notify STATUS). */
CgEngine *cg_manager_get_engine(CgManager *manager);

G_END_DECLS

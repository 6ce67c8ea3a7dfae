/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The host's control stream certgen:host:HOST:control, read with blocking
 * XREAD on a connection of its own. Entries are `cmd` `cancel` `id` ID
 * (the bridge did the owner check). Reading starts after the newest entry
 * there is when the relay starts (older ones were for a relay before it);
 * after a reconnect it goes on after the last entry read, or from the
 * beginning when the stream is now shorter than that (Redis lost it).
 * An entry without a known command or a valid id is logged and skipped.
 */
typedef struct _CgRelayControl CgRelayControl;

/* A cancel of @id (a valid global id). */
typedef void (*CgRelayCancelFunc)(const char *id, gpointer user_data);

/* NULL with @error for a bad @address. */
CgRelayControl *cg_relay_control_new(const char *address, const char *host_id, guint block_ms,
				     CgRelayCancelFunc cancel_func, gpointer user_data,
				     GError **error);
void cg_relay_control_free(CgRelayControl *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRelayControl, cg_relay_control_free)

G_END_DECLS

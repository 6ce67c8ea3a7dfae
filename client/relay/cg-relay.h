/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-relay-config.h"

G_BEGIN_DECLS

/*
 * The relay: consumes certgen:requests as host --host-id of the group
 * "hosts", runs up to --max-active requests on the local certgend
 * (cg-relay-job.h), keeps their entries (XCLAIM every claim-timeout/3),
 * takes over other hosts' stale ones (XAUTOCLAIM every claim-timeout/2)
 * and obeys the host's control stream (cg-relay-control.h).
 */
typedef struct _CgRelay CgRelay;

/* Connected to Redis with the group in place: called once. */
typedef void (*CgRelayReadyFunc)(gpointer user_data);

/* NULL with @error for a bad Redis address. @config must outlive it. */
CgRelay *cg_relay_new(const CgRelayConfig *config, const char *bus_address,
		      CgRelayReadyFunc ready_func, gpointer user_data, GError **error);
void cg_relay_free(CgRelay *self);
guint cg_relay_get_n_active(CgRelay *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRelay, cg_relay_free)

G_END_DECLS

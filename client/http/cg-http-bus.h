/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "cg-contract.h"

G_BEGIN_DECLS

/* The bridge's side of the D-Bus contract: one connection to the system bus
 * (DBUS_SYSTEM_BUS_ADDRESS honoured), re-made when the bus goes away; the
 * owner of org.certgen.Certificates1 watched; ProgressChanged accepted only
 * from that unique name and routed to per-generation watches. */
#define CG_TYPE_HTTP_BUS (cg_http_bus_get_type())
G_DECLARE_FINAL_TYPE(CgHttpBus, cg_http_bus, CG, HTTP_BUS, GObject)

/* @address: a D-Bus address, NULL for the system bus. Connects at once (and
 * again after losing the bus) without blocking. */
CgHttpBus *cg_http_bus_new(const char *address);

/* The unique name owning org.certgen.Certificates1, or NULL. */
const char *cg_http_bus_get_owner(CgHttpBus *self);

typedef void (*CgHttpUpdateFunc)(GVariant *update, gpointer user_data);
typedef void (*CgHttpVanishedFunc)(gpointer user_data);

/* Calls @update_func for every ProgressChanged of @progress_id from certgend
 * and @vanished_func once certgend leaves the bus (or the bus goes away).
 * Returns a watch id for cg_http_bus_unwatch(). */
guint cg_http_bus_watch(CgHttpBus *self, const char *progress_id, CgHttpUpdateFunc update_func,
			CgHttpVanishedFunc vanished_func, gpointer user_data);
void cg_http_bus_unwatch(CgHttpBus *self, guint watch_id);
guint cg_http_bus_get_n_watches(CgHttpBus *self);

/* A method call on certgend's manager. At most 64 are in flight at once
 * (the bus limits pending replies per connection); more wait in a queue, and
 * beyond 20000 waiting the call fails with G_IO_ERROR_BUSY. Without a
 * connection the call fails with G_IO_ERROR_NOT_CONNECTED
 * (cg_http_error_from_dbus maps both to 503). */
void cg_http_bus_call(CgHttpBus *self, const char *method, GVariant *parameters,
		      const GVariantType *reply_type, GCancellable *cancellable,
		      GAsyncReadyCallback callback, gpointer user_data);
guint cg_http_bus_get_n_queued(CgHttpBus *self);
/* The reply; @out_fd_list (may be NULL) receives the passed fds. */
GVariant *cg_http_bus_call_finish(CgHttpBus *self, GAsyncResult *result, GUnixFDList **out_fd_list,
				  GError **error);

G_END_DECLS

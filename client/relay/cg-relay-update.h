/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-relay-entry.h"

G_BEGIN_DECLS

/*
 * What the relay publishes is certgend's update (a{sv}, certgend's keys)
 * with three keys rewritten: "progress_id" is the global id, "sequence"
 * the relay's own count for that id (1, 2, 3 … and on from "last_seq" on
 * the host that takes a generation over), "progress" never below what was
 * published before; and the first update a host publishes for a generation
 * it took over says so in "message".
 */

/* @update (certgend's) with those keys set; @message replaces its message
 * when not NULL. A new floating a{sv}. */
GVariant *cg_relay_update_rewrite(GVariant *update, const char *id, guint64 sequence, double floor,
				  const char *message);

/* A terminal update for a generation certgend never ran (a refused
 * StartGeneration, a request cancelled while queued), with the keys a
 * certgend update has: @status "failed" (with @error_name and
 * @error_message) or "cancelled". "sequence" and "progress" are set by
 * cg_relay_update_rewrite(). A new floating a{sv}. */
GVariant *cg_relay_update_new_terminal(const CgRelayEntry *entry, const char *status,
				       const char *message, const char *error_name,
				       const char *error_message);

/* "progress" (0 without it). */
double cg_relay_update_get_progress(GVariant *update);
/* "status" ("" without it). */
const char *cg_relay_update_get_status(GVariant *update);
/* The result's "content_type", or NULL. */
char *cg_relay_update_get_content_type(GVariant *update);

G_END_DECLS

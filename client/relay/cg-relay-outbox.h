/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-redis.h"
#include "cg-relay-config.h"

G_BEGIN_DECLS

/*
 * The publisher of one generation's updates: each becomes, in one
 * MULTI … EXEC, the event certgen:gen:ID:events SEQ-0 (field "u") and the
 * hash certgen:gen:ID's "state", "host", "local_id", "last_seq",
 * "progress", "snapshot" (and "user"), with the max-age expiry. The
 * terminal update also stores the file, "analytics", "file_size" /
 * "file_type" (or "file_error"), "status" and the finished-ttl expiry of
 * all three keys, in the same transaction, so whoever sees the terminal
 * event can fetch the file.
 *
 * One transaction is in flight at a time, in order. An update gets its
 * sequence when it is first sent and keeps it: a transaction whose reply
 * was lost with the connection is sent again as it was (XADD of an id the
 * stream has already fails inside the transaction, harmlessly), so
 * sequences are consecutive and never reused. While Redis is away updates
 * wait, at most CG_RELAY_OUTBOX_MAX of them: beyond, the newest waiting
 * one that is not terminal is replaced (coalesced to the latest); the
 * terminal update is never dropped.
 */
#define CG_RELAY_OUTBOX_MAX 16

typedef struct _CgRelayOutbox CgRelayOutbox;

/* The terminal update is published (called once; may free the outbox). */
typedef void (*CgRelayOutboxDoneFunc)(gpointer user_data);

/* @last_seq, @progress: what was published for @id before (0, 0.0 for a
 * new generation); @first_message (may be NULL) replaces the message of
 * the first update this outbox publishes ("resumed on HOST"). */
CgRelayOutbox *cg_relay_outbox_new(CgRedis *redis, const CgRelayConfig *config, const char *id,
				   const char *user, gint64 created_ms, guint64 last_seq,
				   double progress, const char *first_message,
				   CgRelayOutboxDoneFunc done_func, gpointer user_data);
void cg_relay_outbox_free(CgRelayOutbox *self);

/* The local progress id on this host's certgend (the hash's "local_id"). */
void cg_relay_outbox_set_local_id(CgRelayOutbox *self, const char *local_id);
/* Queues certgend's @update (not terminal). */
void cg_relay_outbox_push(CgRelayOutbox *self, GVariant *update);
/* Queues the terminal @update with what goes with it: @analytics (a{sv}
 * bytes, may be NULL), @file (may be NULL) or @file_error (may be NULL). */
void cg_relay_outbox_push_terminal(CgRelayOutbox *self, GVariant *update, GBytes *analytics,
				   GBytes *file, const char *content_type, const char *file_error);
/* Redis is back: sends what waits; with nothing waiting, publishes the
 * last update again, which writes the hash again (a Redis restarted
 * without persistence lost it). */
void cg_relay_outbox_resume(CgRelayOutbox *self);

guint64 cg_relay_outbox_get_last_seq(CgRelayOutbox *self);
guint cg_relay_outbox_get_n_waiting(CgRelayOutbox *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRelayOutbox, cg_relay_outbox_free)

G_END_DECLS

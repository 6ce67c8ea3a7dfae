/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-bus.h"
#include "cg-redis.h"
#include "cg-relay-config.h"
#include "cg-relay-entry.h"

G_BEGIN_DECLS

/*
 * One request this host took, from reading its hash to XACK:
 *
 *   check     HMGET of certgen:gen:ID: gone or "done" → XACK only;
 *             "cancel_requested" → a terminal "cancelled", never started;
 *             "running" elsewhere before → resumed: sequences go on from
 *             "last_seq", progress never below "progress";
 *   start     StartGeneration as a delegate (owner_label = the web user,
 *             cancel_on_disconnect); certgend's refusal → terminal "failed";
 *   follow    CgHttpFollow: every update to the outbox (cg-relay-outbox.h);
 *   finish    at the terminal update: GetAnalytics, OpenCertificate and
 *             the file read (larger than --file-max-bytes: "too_large"),
 *             then the terminal transaction, then XACK.
 *
 * A job abandons its entry (no XACK, so another host takes it over after
 * the claim timeout) when certgend leaves the bus or fails it for a reason
 * of its own, and when, after Redis came back, the hash names another host.
 */
typedef struct _CgRelayJob CgRelayJob;

typedef struct {
	CgRedis *redis; /* for commands (never a blocking one) */
	CgHttpBus *bus;
	const CgRelayConfig *config;
} CgRelayContext;

/* The job is over: @acked when its entry was acknowledged. Called from an
 * idle callback; the owner frees the job then. */
typedef void (*CgRelayJobEndedFunc)(CgRelayJob *job, gboolean acked, gpointer user_data);

/* Takes @entry. */
CgRelayJob *cg_relay_job_new(const CgRelayContext *context, CgRelayEntry *entry,
			     CgRelayJobEndedFunc ended_func, gpointer user_data);
void cg_relay_job_start(CgRelayJob *self);
void cg_relay_job_free(CgRelayJob *self);

const char *cg_relay_job_get_id(CgRelayJob *self);
const char *cg_relay_job_get_stream_id(CgRelayJob *self);
/* Whether its entry is to be re-claimed (kept from other hosts). */
gboolean cg_relay_job_is_alive(CgRelayJob *self);

/* A cancel from the control stream. */
void cg_relay_job_cancel(CgRelayJob *self);
/* Redis is back after it was away. */
void cg_relay_job_redis_back(CgRelayJob *self);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-http-bus.h"
#include "cg-http-owner.h"
#include "cg-http-update.h"

G_BEGIN_DECLS

/* Follows one generation for a web user, in order and without duplicates:
 * watch the signal → the owner check (cg-http-owner.h) → Subscribe → GetProgress →
 * ready(snapshot) → buffered and live updates with a higher sequence.
 * failed() reports setup errors (CG_HTTP_ERROR), vanished() certgend leaving
 * the bus. No callback runs after cg_http_follow_stop(). */
typedef struct _CgHttpFollow CgHttpFollow;

typedef struct {
	void (*ready)(gpointer user_data, GVariant *snapshot);
	void (*update)(gpointer user_data, GVariant *update);
	void (*failed)(gpointer user_data, const GError *error, guint retry_after_s);
	void (*vanished)(gpointer user_data);
} CgHttpFollowFuncs;

CgHttpFollow *cg_http_follow_start(CgHttpBus *bus, const char *progress_id, const char *user,
				   const CgHttpFollowFuncs *funcs, gpointer user_data);
void cg_http_follow_stop(CgHttpFollow *self);

G_END_DECLS

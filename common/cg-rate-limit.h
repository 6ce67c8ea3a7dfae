/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * CgRateLimit: at most @limit events per sliding window per key (an owner of
 * generations). Time is passed in (monotonic µs), so tests drive it by hand.
 * A key's record is dropped once its window holds no event any more: keys
 * whose last event is older than the window are pruned on every check (at
 * most one full sweep per window, so a check stays cheap) and by
 * cg_rate_limit_prune(), which the owner runs from a timer at
 * cg_rate_limit_next_expiry(); the table never grows with the number of
 * distinct keys ever seen.
 */

typedef struct _CgRateLimit CgRateLimit;

CgRateLimit *cg_rate_limit_new(guint limit, gint64 window_us);
void cg_rate_limit_free(CgRateLimit *rate_limit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRateLimit, cg_rate_limit_free)

/* Whether @key may have another event at @now. When not, *retry_after_us
 * (optional) gets how long until it may. Records nothing: call
 * cg_rate_limit_add() once the event really happens. */
gboolean cg_rate_limit_check(CgRateLimit *rate_limit, const char *key, gint64 now,
			     gint64 *retry_after_us);
/* Record an event of @key at @now. */
void cg_rate_limit_add(CgRateLimit *rate_limit, const char *key, gint64 now);
/* Take back the event of @key recorded at @when (the event did not happen
 * after all: the request behind it was refused); nothing when it is gone. */
void cg_rate_limit_remove(CgRateLimit *rate_limit, const char *key, gint64 when);
/* cg_rate_limit_check(), then cg_rate_limit_add() when it allows the event. */
gboolean cg_rate_limit_try(CgRateLimit *rate_limit, const char *key, gint64 now,
			   gint64 *retry_after_us);
/* Forget every key whose events are all older than the window. Returns how
 * many keys were dropped. */
guint cg_rate_limit_prune(CgRateLimit *rate_limit, gint64 now);
/* When the next key can be dropped (monotonic µs), or G_MAXINT64 when no
 * key is kept. */
gint64 cg_rate_limit_next_expiry(CgRateLimit *rate_limit);
/* Keys kept (tests, logs). */
guint cg_rate_limit_count(CgRateLimit *rate_limit);

G_END_DECLS

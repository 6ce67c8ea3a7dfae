/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-rate-limit.h"

struct _CgRateLimit {
	guint limit;
	gint64 window_us;
	GHashTable *keys; /* key → GArray of gint64 event times, oldest first */
	gint64 next_sweep;
};

CgRateLimit *
cg_rate_limit_new(guint limit, gint64 window_us)
{
	CgRateLimit *rate_limit = g_new0(CgRateLimit, 1);

	rate_limit->limit = limit;
	rate_limit->window_us = MAX(window_us, 1);
	rate_limit->keys =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
	rate_limit->next_sweep = G_MININT64;
	return rate_limit;
}

void
cg_rate_limit_free(CgRateLimit *rate_limit)
{
	if (rate_limit == NULL)
		return;
	g_hash_table_unref(rate_limit->keys);
	g_free(rate_limit);
}

/* Drop the events of @events that left the window. */
static void
expire(const CgRateLimit *rate_limit, GArray *events, gint64 now)
{
	guint expired = 0;

	while (expired < events->len &&
	       g_array_index(events, gint64, expired) + rate_limit->window_us <= now)
		expired++;
	g_array_remove_range(events, 0, expired);
}

guint
cg_rate_limit_prune(CgRateLimit *rate_limit, gint64 now)
{
	GHashTableIter iter;
	gpointer value;
	guint dropped = 0;

	g_return_val_if_fail(rate_limit != NULL, 0);
	g_hash_table_iter_init(&iter, rate_limit->keys);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		expire(rate_limit, value, now);
		if (((GArray *)value)->len == 0) {
			g_hash_table_iter_remove(&iter);
			dropped++;
		}
	}
	rate_limit->next_sweep = now + rate_limit->window_us;
	return dropped;
}

gboolean
cg_rate_limit_check(CgRateLimit *rate_limit, const char *key, gint64 now, gint64 *retry_after_us)
{
	GArray *events;

	g_return_val_if_fail(rate_limit != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);

	if (now >= rate_limit->next_sweep)
		cg_rate_limit_prune(rate_limit, now);
	events = g_hash_table_lookup(rate_limit->keys, key);
	if (events != NULL) {
		expire(rate_limit, events, now);
		if (events->len == 0) {
			g_hash_table_remove(rate_limit->keys, key);
			events = NULL;
		}
	}
	if (rate_limit->limit > 0 && (events == NULL || events->len < rate_limit->limit))
		return TRUE;
	if (retry_after_us != NULL)
		*retry_after_us =
		    events != NULL ? g_array_index(events, gint64, 0) + rate_limit->window_us - now
				   : rate_limit->window_us;
	return FALSE;
}

void
cg_rate_limit_add(CgRateLimit *rate_limit, const char *key, gint64 now)
{
	GArray *events;

	g_return_if_fail(rate_limit != NULL);
	g_return_if_fail(key != NULL);

	events = g_hash_table_lookup(rate_limit->keys, key);
	if (events == NULL) {
		events = g_array_new(FALSE, FALSE, sizeof(gint64));
		g_hash_table_insert(rate_limit->keys, g_strdup(key), events);
	}
	g_array_append_val(events, now);
}

void
cg_rate_limit_remove(CgRateLimit *rate_limit, const char *key, gint64 when)
{
	GArray *events;

	g_return_if_fail(rate_limit != NULL);
	g_return_if_fail(key != NULL);

	events = g_hash_table_lookup(rate_limit->keys, key);
	for (guint i = 0; events != NULL && i < events->len; i++) {
		if (g_array_index(events, gint64, i) == when) {
			g_array_remove_index(events, i);
			break;
		}
	}
	if (events != NULL && events->len == 0)
		g_hash_table_remove(rate_limit->keys, key);
}

gint64
cg_rate_limit_next_expiry(CgRateLimit *rate_limit)
{
	GHashTableIter iter;
	gpointer value;
	gint64 next = G_MAXINT64;

	g_return_val_if_fail(rate_limit != NULL, G_MAXINT64);
	g_hash_table_iter_init(&iter, rate_limit->keys);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		GArray *events = value;

		/* The key goes when its newest event leaves the window. */
		if (events->len > 0)
			next = MIN(next, g_array_index(events, gint64, events->len - 1) +
					     rate_limit->window_us);
	}
	return next;
}

guint
cg_rate_limit_count(CgRateLimit *rate_limit)
{
	g_return_val_if_fail(rate_limit != NULL, 0);
	return g_hash_table_size(rate_limit->keys);
}

gboolean
cg_rate_limit_try(CgRateLimit *rate_limit, const char *key, gint64 now, gint64 *retry_after_us)
{
	if (!cg_rate_limit_check(rate_limit, key, now, retry_after_us))
		return FALSE;
	cg_rate_limit_add(rate_limit, key, now);
	return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-limits.h"

struct _CgHttpRateLimiter {
	guint limit;
	gint64 window_us;
	GHashTable *events; /* key -> GArray of gint64, oldest first */
};

CgHttpRateLimiter *
cg_http_rate_limiter_new(guint limit, gint64 window_us)
{
	CgHttpRateLimiter *self = g_new0(CgHttpRateLimiter, 1);

	self->limit = limit;
	self->window_us = window_us;
	self->events =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
	return self;
}

void
cg_http_rate_limiter_free(CgHttpRateLimiter *self)
{
	if (self == NULL)
		return;
	g_clear_pointer(&self->events, g_hash_table_unref);
	g_free(self);
}

static void
expire(CgHttpRateLimiter *self, GArray *events, gint64 now_us)
{
	guint expired = 0;

	while (expired < events->len &&
	       g_array_index(events, gint64, expired) + self->window_us <= now_us)
		expired++;
	if (expired > 0)
		g_array_remove_range(events, 0, expired);
}

gboolean
cg_http_rate_limiter_try(CgHttpRateLimiter *self, const char *key, gint64 now_us,
			 guint *retry_after_s)
{
	GArray *events = g_hash_table_lookup(self->events, key);

	if (events != NULL)
		expire(self, events, now_us);
	if (events != NULL && events->len >= self->limit) {
		gint64 wait_us = events->len > 0
				     ? g_array_index(events, gint64, 0) + self->window_us - now_us
				     : self->window_us;

		if (retry_after_s != NULL)
			*retry_after_s =
			    (guint)MAX((wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
		return FALSE;
	}
	if (self->limit == 0) {
		if (retry_after_s != NULL)
			*retry_after_s = (guint)MAX(self->window_us / G_USEC_PER_SEC, 1);
		return FALSE;
	}
	if (events == NULL) {
		events = g_array_new(FALSE, FALSE, sizeof(gint64));
		g_hash_table_insert(self->events, g_strdup(key), events);
	}
	g_array_append_val(events, now_us);
	return TRUE;
}

guint
cg_http_rate_limiter_prune(CgHttpRateLimiter *self, gint64 now_us)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->events);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		expire(self, value, now_us);
		if (((GArray *)value)->len == 0)
			g_hash_table_iter_remove(&iter);
	}
	return g_hash_table_size(self->events);
}

struct _CgHttpStreamCaps {
	guint max_total;
	guint max_per_user;
	guint total;
	GHashTable *per_user; /* user -> count (GUINT_TO_POINTER) */
};

CgHttpStreamCaps *
cg_http_stream_caps_new(guint max_total, guint max_per_user)
{
	CgHttpStreamCaps *self = g_new0(CgHttpStreamCaps, 1);

	self->max_total = max_total;
	self->max_per_user = max_per_user;
	self->per_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return self;
}

void
cg_http_stream_caps_free(CgHttpStreamCaps *self)
{
	if (self == NULL)
		return;
	g_clear_pointer(&self->per_user, g_hash_table_unref);
	g_free(self);
}

CgHttpCapResult
cg_http_stream_caps_acquire(CgHttpStreamCaps *self, const char *user)
{
	guint count = GPOINTER_TO_UINT(g_hash_table_lookup(self->per_user, user));

	if (count >= self->max_per_user)
		return CG_HTTP_CAP_USER_FULL;
	if (self->total >= self->max_total)
		return CG_HTTP_CAP_GLOBAL_FULL;
	g_hash_table_insert(self->per_user, g_strdup(user), GUINT_TO_POINTER(count + 1));
	self->total++;
	return CG_HTTP_CAP_OK;
}

void
cg_http_stream_caps_release(CgHttpStreamCaps *self, const char *user)
{
	guint count = GPOINTER_TO_UINT(g_hash_table_lookup(self->per_user, user));

	g_return_if_fail(count > 0 && self->total > 0);
	if (count == 1)
		g_hash_table_remove(self->per_user, user);
	else
		g_hash_table_insert(self->per_user, g_strdup(user), GUINT_TO_POINTER(count - 1));
	self->total--;
}

guint
cg_http_stream_caps_get_total(CgHttpStreamCaps *self)
{
	return self->total;
}

guint
cg_http_stream_caps_get_user(CgHttpStreamCaps *self, const char *user)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(self->per_user, user));
}

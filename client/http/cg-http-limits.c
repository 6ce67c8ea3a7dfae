/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-limits.h"

guint
cg_http_retry_after_s(gint64 retry_after_us)
{
	return (guint)MAX((retry_after_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
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

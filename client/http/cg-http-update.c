/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bridge reads from a certgend update (a{sv}). */
#include "cg-http-update.h"

gboolean
cg_http_update_is_terminal(GVariant *update)
{
	const char *status = NULL;

	if (!g_variant_lookup(update, "status", "&s", &status))
		return FALSE;
	return g_str_equal(status, "completed") || g_str_equal(status, "failed") ||
	       g_str_equal(status, "cancelled") || g_str_equal(status, "timed_out");
}

guint64
cg_http_update_get_sequence(GVariant *update)
{
	guint64 sequence = 0;

	g_variant_lookup(update, "sequence", "t", &sequence);
	return sequence;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rewriting certgend's updates into the global id's numbering (see the
 * header), and the few updates the relay makes itself. */
#include "cg-relay-update.h"

GVariant *
cg_relay_update_rewrite(GVariant *update, const char *id, guint64 sequence, double floor,
			const char *message)
{
	double progress = MAX(cg_relay_update_get_progress(update), floor);
	GVariantBuilder builder;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, update);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (!g_str_equal(key, "progress_id") && !g_str_equal(key, "sequence") &&
		    !g_str_equal(key, "progress") &&
		    !(message != NULL && g_str_equal(key, "message")))
			g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&builder, "{sv}", "progress_id", g_variant_new_string(id));
	g_variant_builder_add(&builder, "{sv}", "sequence", g_variant_new_uint64(sequence));
	g_variant_builder_add(&builder, "{sv}", "progress",
			      g_variant_new_double(CLAMP(progress, 0.0, 100.0)));
	if (message != NULL)
		g_variant_builder_add(&builder, "{sv}", "message", g_variant_new_string(message));
	return g_variant_builder_end(&builder);
}

static const char *
option_string(GVariant *options, const char *key, const char *fallback)
{
	const char *value = NULL;

	if (g_variant_lookup(options, key, "&s", &value))
		return value;
	return fallback;
}

GVariant *
cg_relay_update_new_terminal(const CgRelayEntry *entry, const char *status, const char *message,
			     const char *error_name, const char *error_message)
{
	g_autoptr(GVariant) options = g_variant_get_child_value(entry->params, 3);
	gint64 now_us = g_get_real_time();
	gboolean persistent = FALSE;
	GVariantBuilder b;

	g_variant_lookup(options, "enable_persistence", "b", &persistent);
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "progress_id", g_variant_new_string(entry->id));
	g_variant_builder_add(&b, "{sv}", "transaction_id",
			      g_variant_new_string(cg_relay_entry_get_transaction_id(entry)));
	g_variant_builder_add(&b, "{sv}", "template_id",
			      g_variant_new_string(cg_relay_entry_get_template_id(entry)));
	g_variant_builder_add(&b, "{sv}", "stage", g_variant_new_string("initializing"));
	g_variant_builder_add(&b, "{sv}", "stage_index", g_variant_new_uint32(0));
	g_variant_builder_add(&b, "{sv}", "stage_progress", g_variant_new_uint32(0));
	g_variant_builder_add(&b, "{sv}", "progress", g_variant_new_double(0.0));
	g_variant_builder_add(&b, "{sv}", "status", g_variant_new_string(status));
	g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(message));
	g_variant_builder_add(&b, "{sv}", "sequence", g_variant_new_uint64(0));
	g_variant_builder_add(&b, "{sv}", "timestamp_us", g_variant_new_int64(now_us));
	g_variant_builder_add(&b, "{sv}", "started_at_us", g_variant_new_int64(now_us));
	g_variant_builder_add(&b, "{sv}", "expected_end_us", g_variant_new_int64(0));
	g_variant_builder_add(&b, "{sv}", "cancellable", g_variant_new_boolean(FALSE));
	g_variant_builder_add(&b, "{sv}", "pages_done", g_variant_new_uint32(0));
	g_variant_builder_add(&b, "{sv}", "pages_total", g_variant_new_uint32(0));
	g_variant_builder_add(&b, "{sv}", "persistent", g_variant_new_boolean(persistent));
	g_variant_builder_add(&b, "{sv}", "expires_at_us", g_variant_new_int64(0));
	g_variant_builder_add(&b, "{sv}", "output_format",
			      g_variant_new_string(option_string(options, "output_format", "pdf")));
	g_variant_builder_add(&b, "{sv}", "owner_label", g_variant_new_string(entry->user));
	if (error_name != NULL) {
		g_variant_builder_add(&b, "{sv}", "error", g_variant_new_string(error_name));
		g_variant_builder_add(
		    &b, "{sv}", "error_message",
		    g_variant_new_string(error_message != NULL ? error_message : ""));
	}
	return g_variant_builder_end(&b);
}

double
cg_relay_update_get_progress(GVariant *update)
{
	double progress = 0.0;

	g_variant_lookup(update, "progress", "d", &progress);
	return progress;
}

const char *
cg_relay_update_get_status(GVariant *update)
{
	const char *status = NULL;

	if (!g_variant_lookup(update, "status", "&s", &status))
		return "";
	return status;
}

char *
cg_relay_update_get_content_type(GVariant *update)
{
	g_autoptr(GVariant) result =
	    g_variant_lookup_value(update, "result", G_VARIANT_TYPE_VARDICT);
	char *content_type = NULL;

	if (result == NULL || !g_variant_lookup(result, "content_type", "s", &content_type))
		return NULL;
	return content_type;
}

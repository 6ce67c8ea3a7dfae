/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-options.h"

#include "cg-error.h"

#define CG_MAX_TIMEOUT_MS (24u * 3600u * 1000u)
#define CG_MAX_UPDATE_INTERVAL_MS 60000u

gboolean
cg_check_string_argument(const char *name, const char *value, GError **error)
{
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(value != NULL, FALSE);

	if (!g_utf8_validate(value, -1, NULL)) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT, "%s: not valid UTF-8",
			    name);
		return FALSE;
	}
	for (const char *p = value; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* C0, DEL and C1: what a terminal or a log viewer would act on */
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "%s: contains a control character (U+%04X)", name, c);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
cg_owner_label_is_valid(const char *label)
{
	gsize len = strlen(label);

	/* UTF-8 and no control characters: the check every stored string gets */
	return len > 0 && len <= 64 && cg_check_string_argument("owner_label", label, NULL);
}

static gboolean
expect_type(const char *key, GVariant *value, const GVariantType *type, GError **error)
{
	if (g_variant_is_of_type(value, type))
		return TRUE;
	g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
		    "option %s: expected type '%s', got '%s'", key, (const char *)type,
		    g_variant_get_type_string(value));
	return FALSE;
}

gboolean
cg_options_parse(GVariant *options, CgGenerationOptions *out, char **owner_label, GError **error)
{
	CgGenerationOptions result;
	g_autofree char *label = NULL;
	GVariantIter iter;
	const char *key;
	GVariant *value_raw;

	cg_generation_options_init(&result);
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;

		if (!cg_check_string_argument("options: a key", key, error))
			return FALSE;
		if (g_str_equal(key, "timeout_ms")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_UINT32, error))
				return FALSE;
			result.timeout_ms = g_variant_get_uint32(value);
			if (result.timeout_ms == 0 || result.timeout_ms > CG_MAX_TIMEOUT_MS) {
				g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
					    "option timeout_ms: %u is out of range (1–%u)",
					    result.timeout_ms, CG_MAX_TIMEOUT_MS);
				return FALSE;
			}
		} else if (g_str_equal(key, "update_interval_ms")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_UINT32, error))
				return FALSE;
			result.update_interval_ms = g_variant_get_uint32(value);
			if (result.update_interval_ms > CG_MAX_UPDATE_INTERVAL_MS) {
				g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
					    "option update_interval_ms: %u is out of range (0–%u)",
					    result.update_interval_ms, CG_MAX_UPDATE_INTERVAL_MS);
				return FALSE;
			}
		} else if (g_str_equal(key, "enable_cancellation")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_BOOLEAN, error))
				return FALSE;
			result.enable_cancellation = g_variant_get_boolean(value);
		} else if (g_str_equal(key, "enable_persistence")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_BOOLEAN, error))
				return FALSE;
			result.enable_persistence = g_variant_get_boolean(value);
		} else if (g_str_equal(key, "cancel_on_disconnect")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_BOOLEAN, error))
				return FALSE;
			result.cancel_on_disconnect = g_variant_get_boolean(value);
		} else if (g_str_equal(key, "output_format")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_STRING, error))
				return FALSE;
			if (!cg_output_format_from_string(g_variant_get_string(value, NULL),
							  &result.output_format)) {
				g_autofree char *escaped =
				    g_strescape(g_variant_get_string(value, NULL), NULL);

				g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
					    "option output_format: unknown value '%.64s' "
					    "(allowed: pdf, zip)",
					    escaped);
				return FALSE;
			}
		} else if (g_str_equal(key, "owner_label")) {
			if (!expect_type(key, value, G_VARIANT_TYPE_STRING, error))
				return FALSE;
			if (!cg_check_string_argument("option owner_label",
						      g_variant_get_string(value, NULL), error))
				return FALSE;
			if (!cg_owner_label_is_valid(g_variant_get_string(value, NULL))) {
				g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
						    "option owner_label: must be 1–64 bytes of "
						    "UTF-8 without control characters");
				return FALSE;
			}
			g_free(label);
			label = g_variant_dup_string(value, NULL);
		} else {
			g_autofree char *escaped = g_strescape(key, NULL);

			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "unknown option '%s' (known: timeout_ms, enable_cancellation, "
				    "enable_persistence, update_interval_ms, cancel_on_disconnect, "
				    "owner_label, output_format)",
				    escaped);
			return FALSE;
		}
	}
	*out = result;
	*owner_label = g_steal_pointer(&label);
	return TRUE;
}

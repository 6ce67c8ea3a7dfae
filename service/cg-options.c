/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-options.h"

#include "cg-error.h"

#define CG_MAX_TIMEOUT_MS (24u * 3600u * 1000u)
#define CG_MAX_UPDATE_INTERVAL_MS 60000u

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

/* The options of StartGeneration with a value in CgGenerationOptions, in
 * the order the "unknown option" message lists them: a uint32 in
 * [min, max] or a boolean, at @offset. owner_label and output_format,
 * strings, are read on their own. */
typedef struct {
	const char *key;
	const GVariantType *type;
	gsize offset;
	guint32 min, max;
} CgOptionSpec;

static const CgOptionSpec option_specs[] = {
    {"timeout_ms", G_VARIANT_TYPE_UINT32, G_STRUCT_OFFSET(CgGenerationOptions, timeout_ms), 1,
     CG_MAX_TIMEOUT_MS},
    {"enable_cancellation", G_VARIANT_TYPE_BOOLEAN,
     G_STRUCT_OFFSET(CgGenerationOptions, enable_cancellation), 0, 0},
    {"enable_persistence", G_VARIANT_TYPE_BOOLEAN,
     G_STRUCT_OFFSET(CgGenerationOptions, enable_persistence), 0, 0},
    {"update_interval_ms", G_VARIANT_TYPE_UINT32,
     G_STRUCT_OFFSET(CgGenerationOptions, update_interval_ms), 0, CG_MAX_UPDATE_INTERVAL_MS},
    {"cancel_on_disconnect", G_VARIANT_TYPE_BOOLEAN,
     G_STRUCT_OFFSET(CgGenerationOptions, cancel_on_disconnect), 0, 0},
    {"validate_only", G_VARIANT_TYPE_BOOLEAN, G_STRUCT_OFFSET(CgGenerationOptions, validate_only),
     0, 0},
};

static gboolean
set_option(const CgOptionSpec *spec, GVariant *value, CgGenerationOptions *options, GError **error)
{
	gpointer field = G_STRUCT_MEMBER_P(options, spec->offset);
	guint32 number;

	if (!expect_type(spec->key, value, spec->type, error))
		return FALSE;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		*(gboolean *)field = g_variant_get_boolean(value);
		return TRUE;
	}
	number = g_variant_get_uint32(value);
	if (number < spec->min || number > spec->max) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "option %s: %u is out of range (%u–%u)", spec->key, number, spec->min,
			    spec->max);
		return FALSE;
	}
	*(guint32 *)field = number;
	return TRUE;
}

static char *
read_owner_label(GVariant *value, GError **error)
{
	if (!expect_type("owner_label", value, G_VARIANT_TYPE_STRING, error))
		return NULL;
	if (!cg_check_string_argument("option owner_label", g_variant_get_string(value, NULL),
				      error))
		return NULL;
	if (!cg_owner_label_is_valid(g_variant_get_string(value, NULL))) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "option owner_label: must be 1–64 bytes of "
				    "UTF-8 without control characters");
		return NULL;
	}
	return g_variant_dup_string(value, NULL);
}

static gboolean
read_output_format(GVariant *value, CgOutputFormat *format, GError **error)
{
	g_autofree char *escaped = NULL;

	if (!expect_type("output_format", value, G_VARIANT_TYPE_STRING, error))
		return FALSE;
	if (cg_output_format_from_string(g_variant_get_string(value, NULL), format))
		return TRUE;
	escaped = g_strescape(g_variant_get_string(value, NULL), NULL);
	g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
		    "option output_format: unknown value '%.64s' (allowed: pdf, zip)", escaped);
	return FALSE;
}

static gboolean
unknown_option(const char *key, GError **error)
{
	g_autofree char *escaped = g_strescape(key, NULL);
	g_autoptr(GString) known = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(option_specs); i++)
		g_string_append_printf(known, "%s, ", option_specs[i].key);
	g_string_append(known, "owner_label, output_format");
	g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT, "unknown option '%s' (known: %s)",
		    escaped, known->str);
	return FALSE;
}

static const CgOptionSpec *
find_option(const char *key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(option_specs); i++)
		if (g_str_equal(option_specs[i].key, key))
			return &option_specs[i];
	return NULL;
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
		const CgOptionSpec *spec;

		if (!cg_check_string_argument("options: a key", key, error))
			return FALSE;
		spec = find_option(key);
		if (spec != NULL) {
			if (!set_option(spec, value, &result, error))
				return FALSE;
		} else if (g_str_equal(key, "owner_label")) {
			g_free(label);
			label = read_owner_label(value, error);
			if (label == NULL)
				return FALSE;
		} else if (g_str_equal(key, "output_format")) {
			if (!read_output_format(value, &result.output_format, error))
				return FALSE;
		} else {
			return unknown_option(key, error);
		}
	}
	*out = result;
	*owner_label = g_steal_pointer(&label);
	return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-config.h"

#include <string.h>

typedef struct {
	const char *group;
	const char *key;
	gsize offset;
	gboolean is_64;
	guint64 min;
	guint64 max;
} CgConfigKey;

#define KEY32(g, k, field, lo, hi)                                                                 \
	{                                                                                          \
		g, k, G_STRUCT_OFFSET(CgConfig, field), FALSE, lo, hi                              \
	}
#define KEY64(g, k, field, lo, hi)                                                                 \
	{                                                                                          \
		g, k, G_STRUCT_OFFSET(CgConfig, field), TRUE, lo, hi                               \
	}

static const CgConfigKey config_keys[] = {
    KEY32("limits", "start_per_minute", start_per_minute, 1, 100000),
    KEY32("limits", "preview_per_minute", preview_per_minute, 1, 100000),
    KEY32("limits", "max_active_per_owner", max_active_per_owner, 1, 100000),
    KEY32("limits", "max_active", max_active, 1, 100000),
    KEY32("limits", "max_recipients", max_recipients, 1, 1000000),
    KEY64("limits", "max_data_bytes", max_data_bytes, 1024, G_GUINT64_CONSTANT(1) << 30),
    KEY32("limits", "max_subscriptions_per_connection", max_subscriptions_per_connection, 1,
	  100000),
    KEY32("limits", "max_tracked", max_tracked, 1, 10000000),
    KEY32("cleanup", "finished_ttl_s", finished_ttl_s, 0, 86400 * 365),
    KEY32("cleanup", "max_age_s", max_age_s, 1, 86400 * 365),
    KEY32("workers", "threads", threads, 1, 256),
    KEY32("statistics", "window", statistics_window, 1, 100000),
    KEY32("persistence", "keep_days", keep_days, 1, 3650),
    KEY64("persistence", "max_persistent_bytes_per_owner", max_persistent_bytes_per_owner, 0,
	  G_GUINT64_CONSTANT(1) << 50),
};

void
cg_config_init_defaults(CgConfig *config)
{
	config->start_per_minute = 5;
	config->preview_per_minute = 30;
	config->max_active_per_owner = 4;
	config->max_active = 32;
	config->max_recipients = 10000;
	config->max_data_bytes = 16 * 1024 * 1024;
	config->max_subscriptions_per_connection = 64;
	config->max_tracked = 100000;
	config->finished_ttl_s = 60;
	config->max_age_s = 1800;
	config->threads = MAX(1u, g_get_num_processors());
	config->statistics_window = 1000;
	config->keep_days = 30;
	config->max_persistent_bytes_per_owner = 256 * 1024 * 1024;
	g_strlcpy(config->verification_base_url, CG_VERIFICATION_DEFAULT_BASE_URL,
		  sizeof(config->verification_base_url));
}

static const CgConfigKey *
find_key(const char *group, const char *key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(config_keys); i++) {
		if (g_str_equal(config_keys[i].group, group) &&
		    g_str_equal(config_keys[i].key, key))
			return &config_keys[i];
	}
	return NULL;
}

static gboolean
group_is_known(const char *group)
{
	if (g_str_equal(group, "verification"))
		return TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS(config_keys); i++) {
		if (g_str_equal(config_keys[i].group, group))
			return TRUE;
	}
	return FALSE;
}

/* [verification] base_url: a string, checked here so that a bad one stops
 * certgend at start rather than ending up in every PDF. */
static gboolean
load_base_url(CgConfig *result, GKeyFile *file, const char *path, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autofree char *value =
	    g_key_file_get_string(file, "verification", "base_url", &local_error);

	if (value == NULL || !cg_verification_check_base_url(value, &local_error)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: [verification] base_url: %s", path, local_error->message);
		return FALSE;
	}
	g_strlcpy(result->verification_base_url, value, sizeof(result->verification_base_url));
	return TRUE;
}

gboolean
cg_config_load(CgConfig *config, const char *path, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_auto(GStrv) groups = NULL;
	CgConfig result = *config;

	if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	groups = g_key_file_get_groups(file, NULL);
	for (gsize g = 0; groups[g] != NULL; g++) {
		g_auto(GStrv) keys = g_key_file_get_keys(file, groups[g], NULL, NULL);

		for (gsize k = 0; keys != NULL && keys[k] != NULL; k++) {
			const CgConfigKey *spec = find_key(groups[g], keys[k]);
			g_autoptr(GError) local_error = NULL;
			g_autofree char *text = NULL;
			guint64 value;

			if (g_str_equal(groups[g], "verification") &&
			    g_str_equal(keys[k], "base_url")) {
				if (!load_base_url(&result, file, path, error))
					return FALSE;
				continue;
			}
			if (spec == NULL) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
					    "%s: unknown key [%s] %s", path, groups[g], keys[k]);
				return FALSE;
			}
			value = g_key_file_get_uint64(file, groups[g], keys[k], &local_error);
			if (local_error != NULL) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    "%s: [%s] %s: %s", path, groups[g], keys[k],
					    local_error->message);
				return FALSE;
			}
			/* strtoull() reads "-N" as 2^64 - N: a negative number
			 * is out of range, not a large (or small) one */
			text = g_key_file_get_value(file, groups[g], keys[k], NULL);
			if (text != NULL && text[0] == '-' && value != 0) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    "%s: [%s] %s: %s is out of range (%" G_GUINT64_FORMAT
					    "–%" G_GUINT64_FORMAT ")",
					    path, groups[g], keys[k], text, spec->min, spec->max);
				return FALSE;
			}
			if (value < spec->min || value > spec->max) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    "%s: [%s] %s: %" G_GUINT64_FORMAT
					    " is out of range (%" G_GUINT64_FORMAT
					    "–%" G_GUINT64_FORMAT ")",
					    path, groups[g], keys[k], value, spec->min, spec->max);
				return FALSE;
			}
			if (spec->is_64)
				G_STRUCT_MEMBER(guint64, &result, spec->offset) = value;
			else
				G_STRUCT_MEMBER(guint, &result, spec->offset) = (guint)value;
		}
		/* an unknown group with keys failed on its first key above; one
		 * without any is a typo all the same */
		if (!group_is_known(groups[g])) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
				    "%s: unknown group [%s]", path, groups[g]);
			return FALSE;
		}
	}
	*config = result;
	return TRUE;
}

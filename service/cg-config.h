/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-verification.h"

G_BEGIN_DECLS

/* certgend's settings: defaults, overridden by a GKeyFile whose groups and
 * keys are documented in data/certgen.conf. */
typedef struct {
	/* [limits] */
	guint start_per_minute;
	guint preview_per_minute;
	guint max_active_per_owner;
	guint max_active;
	guint max_recipients;
	guint64 max_data_bytes;
	guint max_subscriptions_per_connection;
	guint max_tracked;
	/* [cleanup] */
	guint finished_ttl_s;
	guint max_age_s;
	/* [workers] */
	guint threads;
	/* [statistics] */
	guint statistics_window;
	/* [persistence] */
	guint keep_days;
	guint64 max_persistent_bytes_per_owner;
	/* [verification] base_url (checked by cg_verification_check_base_url()) */
	char verification_base_url[CG_VERIFICATION_BASE_URL_MAX + 1];
} CgConfig;

void cg_config_init_defaults(CgConfig *config);

/* Read @path over the defaults already in @config. Unknown groups or keys
 * and values out of range are errors (G_KEY_FILE_ERROR), naming the key. */
gboolean cg_config_load(CgConfig *config, const char *path, GError **error);

G_END_DECLS

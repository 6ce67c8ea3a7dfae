/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge's settings (CgHttpConfig): their defaults, copying and freeing.
 * The command line (cg-http-main.c) fills them in. */
#include "cg-http-config.h"

#include <string.h>

void
cg_http_config_init(CgHttpConfig *config)
{
	memset(config, 0, sizeof(*config));
	config->header_timeout_ms = 10000;
	config->idle_timeout_ms = 60000;
	config->body_timeout_ms = 30000;
	config->keepalive_ms = 15000;
	config->retry_ms = 2000;
	config->max_body_bytes = 1024 * 1024;
	config->max_json_depth = 32;
	config->streams_per_minute = 10;
	config->resumes_per_minute = 60;
	config->resume_ttl_s = 1800; /* certgend's [cleanup] max_age_s */
	config->resumable_per_user = 64;
	config->max_resumable = 65536;
	config->starts_per_minute = 5;
	config->previews_per_minute = 10;
	config->verifications_per_minute = 30;
	config->max_streams = 5000;
	config->max_streams_per_user = 20;
	config->session_ttl_s = 12 * 3600;
	config->max_sessions_per_user = 16;
	config->max_sessions = 10000;
}

void
cg_http_config_copy(CgHttpConfig *dest, const CgHttpConfig *src)
{
	*dest = *src;
	dest->web_root = g_strdup(src->web_root);
	dest->allow_origins = g_strdupv(src->allow_origins);
	dest->metrics_token_hash = g_strdup(src->metrics_token_hash);
	dest->redis_address = g_strdup(src->redis_address);
	dest->bridge_id = g_strdup(src->bridge_id);
}

void
cg_http_config_clear(CgHttpConfig *config)
{
	g_clear_pointer(&config->web_root, g_free);
	g_clear_pointer(&config->allow_origins, g_strfreev);
	g_clear_pointer(&config->metrics_token_hash, g_free);
	g_clear_pointer(&config->redis_address, g_free);
	g_clear_pointer(&config->bridge_id, g_free);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* g_debug() for the paths run per request and per stream. With structured
 * logging (G_LOG_USE_STRUCTURED) g_debug() formats its message before the
 * writer drops it; thousands of streams connecting at once paid a
 * printf and an allocation per message nobody reads. This asks the
 * default writer first (the bridge installs no other). */
#define cg_http_debug(...)                                                                         \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (!g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))             \
			g_debug(__VA_ARGS__);                                                      \
	}                                                                                          \
	G_STMT_END

G_END_DECLS

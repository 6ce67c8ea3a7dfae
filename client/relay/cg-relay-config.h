/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* certgen-relay's settings, from its command line (cg-relay-main.c). */
typedef struct {
	char *redis_address;
	char *host_id;		/* consumer name in the group "hosts" */
	guint claim_timeout_ms; /* an entry idle this long is taken over */
	guint max_active;	/* generations run at once */
	guint finished_ttl_s;	/* expiry of a finished generation's keys */
	guint max_age_s;	/* expiry of every key, from the generation's creation */
	guint64 file_max_bytes; /* larger files are not stored */
} CgRelayConfig;

G_END_DECLS

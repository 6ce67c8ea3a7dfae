/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The Redis names certgen-relay uses (README.md, "Beyond one host"): the
 * request stream and its consumer group, and the keys of one generation,
 * one user and one host.
 */
#define CG_RELAY_REQUESTS "certgen:requests"
#define CG_RELAY_GROUP "hosts"

char *cg_relay_key_gen(const char *id);		/* certgen:gen:ID (hash) */
char *cg_relay_key_events(const char *id);	/* certgen:gen:ID:events (stream) */
char *cg_relay_key_file(const char *id);	/* certgen:gen:ID:file (string) */
char *cg_relay_key_user_gens(const char *user); /* certgen:user:USER:gens (set) */
char *cg_relay_key_control(const char *host);	/* certgen:host:HOST:control (stream) */

G_END_DECLS

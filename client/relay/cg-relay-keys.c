/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Redis key names of the multi-host layout, in one place. */
#include "cg-relay-keys.h"

char *
cg_relay_key_gen(const char *id)
{
	return g_strconcat("certgen:gen:", id, NULL);
}

char *
cg_relay_key_events(const char *id)
{
	return g_strconcat("certgen:gen:", id, ":events", NULL);
}

char *
cg_relay_key_file(const char *id)
{
	return g_strconcat("certgen:gen:", id, ":file", NULL);
}

char *
cg_relay_key_user_gens(const char *user)
{
	return g_strconcat("certgen:user:", user, ":gens", NULL);
}

char *
cg_relay_key_control(const char *host)
{
	return g_strconcat("certgen:host:", host, ":control", NULL);
}

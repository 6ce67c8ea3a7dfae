/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* This bridge's leases on the shared stream caps (cg-http-redis-leases.h):
 * member -> user, and per user the set of members, so that a renewal is one
 * EVAL per user whatever the number of streams. */
#include "cg-http-redis-leases.h"

#include "cg-http-redis-values.h"

struct _CgHttpRedisLeases {
	char *bridge_id;
	guint64 next;
	GHashTable *members; /* member -> user (owned by @users' key) */
	GHashTable *users;   /* user -> GHashTable set of members */
};

CgHttpRedisLeases *
cg_http_redis_leases_new(const char *bridge_id)
{
	CgHttpRedisLeases *self = g_new0(CgHttpRedisLeases, 1);

	self->bridge_id = g_strdup(bridge_id);
	self->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_hash_table_unref);
	return self;
}

void
cg_http_redis_leases_free(CgHttpRedisLeases *self)
{
	if (self == NULL)
		return;
	g_clear_pointer(&self->members, g_hash_table_unref);
	g_clear_pointer(&self->users, g_hash_table_unref);
	g_free(self->bridge_id);
	g_free(self);
}

char *
cg_http_redis_leases_next_member(CgHttpRedisLeases *self)
{
	return g_strdup_printf("%s:%" G_GUINT64_FORMAT, self->bridge_id, ++self->next);
}

void
cg_http_redis_leases_hold(CgHttpRedisLeases *self, const char *member, const char *user)
{
	GHashTable *set;

	if (g_hash_table_contains(self->members, member))
		return;
	set = g_hash_table_lookup(self->users, user);
	if (set == NULL) {
		set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(self->users, g_strdup(user), set);
	}
	g_hash_table_add(set, g_strdup(member));
	g_hash_table_insert(self->members, g_strdup(member), g_strdup(user));
}

static CgRedisCommand *
zrem_command(const char *key, const char *member)
{
	CgRedisCommand *command = cg_redis_command_new("ZREM");

	cg_redis_command_add(command, key);
	cg_redis_command_add(command, member);
	return command;
}

GPtrArray *
cg_http_redis_leases_release(CgHttpRedisLeases *self, const char *member)
{
	const char *user = g_hash_table_lookup(self->members, member);
	g_autofree char *user_key = NULL;
	GPtrArray *commands;
	GHashTable *set;

	if (user == NULL)
		return NULL;
	user_key = g_strconcat(CG_HTTP_REDIS_PREFIX "streams:", user, NULL);
	commands = g_ptr_array_new_with_free_func((GDestroyNotify)cg_redis_command_free);
	g_ptr_array_add(commands, zrem_command(user_key, member));
	g_ptr_array_add(commands, zrem_command(CG_HTTP_REDIS_PREFIX "streams", member));
	set = g_hash_table_lookup(self->users, user);
	if (set != NULL) {
		g_hash_table_remove(set, member);
		if (g_hash_table_size(set) == 0)
			g_hash_table_remove(self->users, user);
	}
	g_hash_table_remove(self->members, member);
	return commands;
}

guint
cg_http_redis_leases_get_n_held(CgHttpRedisLeases *self)
{
	return g_hash_table_size(self->members);
}

guint
cg_http_redis_leases_get_n_users(CgHttpRedisLeases *self)
{
	return g_hash_table_size(self->users);
}

GPtrArray *
cg_http_redis_leases_renew_commands(CgHttpRedisLeases *self, guint lease_ms)
{
	GPtrArray *commands = g_ptr_array_new_with_free_func((GDestroyNotify)cg_redis_command_free);
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, self->users);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		CgRedisCommand *command = cg_redis_command_new("EVAL");
		GHashTableIter members;
		gpointer member;

		cg_redis_command_add(command, cg_http_redis_lease_script);
		cg_redis_command_add(command, "2");
		cg_redis_command_add_printf(command, CG_HTTP_REDIS_PREFIX "streams:%s",
					    (const char *)key);
		cg_redis_command_add(command, CG_HTTP_REDIS_PREFIX "streams");
		cg_redis_command_add_printf(command, "%u", lease_ms);
		g_hash_table_iter_init(&members, value);
		while (g_hash_table_iter_next(&members, &member, NULL))
			cg_redis_command_add(command, member);
		g_ptr_array_add(commands, command);
	}
	return commands;
}

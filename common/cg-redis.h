/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

/*
 * One asynchronous connection to Redis on the thread-default GLib main
 * context (hiredis with its GLib adapter's hooks), for certgen-http --redis
 * and certgen-relay. It connects at once without blocking and again, with
 * backoff (100 ms doubling to 2 s), whenever the connection drops; the
 * state function says when it is up or down.
 *
 * Commands are pipelined in order on the connection. Each reply function
 * is called exactly once, from the main loop, never from inside
 * cg_redis_send(): with the reply, or with an error (then @reply is NULL):
 *   CG_REDIS_ERROR_NOT_CONNECTED  sent while the connection was down;
 *   CG_REDIS_ERROR_DISCONNECTED   the connection dropped before the reply;
 *   CG_REDIS_ERROR_REPLY          Redis answered with an error (the message
 *                                 is Redis's, e.g. "BUSYGROUP …", "NOGROUP …").
 * Once @cancellable is cancelled the function is no longer called at all,
 * so a caller may cancel and free its state at once.
 *
 * A blocking command (XREAD BLOCK, XREADGROUP BLOCK) holds the connection
 * until it returns: give blocking loops a CgRedis of their own.
 */

#define CG_REDIS_ERROR (cg_redis_error_quark())
GQuark cg_redis_error_quark(void);

typedef enum {
	CG_REDIS_ERROR_ADDRESS,
	CG_REDIS_ERROR_NOT_CONNECTED,
	CG_REDIS_ERROR_DISCONNECTED,
	CG_REDIS_ERROR_REPLY,
} CgRedisError;

typedef struct _CgRedis CgRedis;
typedef struct _CgRedisCommand CgRedisCommand;

/* @connected: the connection just came up (TRUE) or went down (FALSE). */
typedef void (*CgRedisStateFunc)(CgRedis *redis, gboolean connected, gpointer user_data);
/* @reply (borrowed, valid during the call) or @error. */
typedef void (*CgRedisReplyFunc)(CgRedis *redis, const redisReply *reply, const GError *error,
				 gpointer user_data);

/* @address: "/path/to/socket", "unix:/path/to/socket", "host:port" or
 * "host" (port 6379). FALSE with CG_REDIS_ERROR_ADDRESS for anything else
 * (an empty host, a port outside 1–65535, a path over 100 bytes). */
gboolean cg_redis_address_is_valid(const char *address, GError **error);

/* NULL with *@error only for an invalid @address; an unreachable server is
 * retried. @name labels the connection in logs ("bridge", "relay-block"). */
CgRedis *cg_redis_new(const char *address, const char *name, GError **error);
/* Pending reply functions are not called after this. It may be called from
 * a reply function, not from the state function. */
void cg_redis_free(CgRedis *self);
const char *cg_redis_get_address(CgRedis *self);
gboolean cg_redis_is_connected(CgRedis *self);
/* How many times the connection came up again after it had been up. */
guint cg_redis_get_n_reconnects(CgRedis *self);
void cg_redis_set_state_func(CgRedis *self, CgRedisStateFunc func, gpointer user_data);

/* A command's arguments (binary-safe). */
CgRedisCommand *cg_redis_command_new(const char *name);
void cg_redis_command_free(CgRedisCommand *command);
void cg_redis_command_add(CgRedisCommand *command, const char *arg);
void cg_redis_command_add_printf(CgRedisCommand *command, const char *format, ...)
    G_GNUC_PRINTF(2, 3);
void cg_redis_command_add_data(CgRedisCommand *command, const void *data, gsize len);
void cg_redis_command_add_bytes(CgRedisCommand *command, GBytes *bytes);

/* Sends @command (consumed). @func may be NULL (fire and forget; errors are
 * logged at debug level). */
void cg_redis_send(CgRedis *self, CgRedisCommand *command, GCancellable *cancellable,
		   CgRedisReplyFunc func, gpointer user_data);
/* The same for string arguments, NULL-terminated: "XADD", key, "*", …, NULL. */
void cg_redis_sendv(CgRedis *self, GCancellable *cancellable, CgRedisReplyFunc func,
		    gpointer user_data, const char *name, ...) G_GNUC_NULL_TERMINATED;

/* Reply helpers: NULL / FALSE when @reply is not of that type. */
const char *cg_redis_reply_string(const redisReply *reply, gsize *len);
gboolean cg_redis_reply_integer(const redisReply *reply, long long *out);
/* The value of @field in a flat field/value array reply (HGETALL, a stream
 * entry's fields), or NULL. */
const redisReply *cg_redis_reply_field(const redisReply *reply, const char *field);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRedis, cg_redis_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRedisCommand, cg_redis_command_free)

G_END_DECLS

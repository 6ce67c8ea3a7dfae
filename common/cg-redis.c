/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CgRedis: one hiredis asynchronous context at a time, on the GLib main
 * context that was thread-default when the CgRedis was made, re-made after
 * every loss (design in cg-redis.h).
 *
 * The event source. hiredis' GLib adapter supplies the read/write hooks
 * hiredis calls (they switch the GPollFD's events) and their cleanup; the
 * GSource around them is ours for two reasons. Its dispatch handles the
 * write before the read, and a failed write frees the context: the
 * adapter's dispatch then reads from the freed context, ours checks first.
 * And hiredis frees a context from inside its callbacks (a dropped
 * connection, a failed connect, a free requested from a reply function):
 * our cleanup hook is called exactly then, so it is the one place that
 * forgets the context and schedules the next attempt.
 *
 * Ownership. The context's data is the CgRedis, or NULL once
 * cg_redis_free() ran (hiredis may still call the pending replies and the
 * cleanup after that, when the free was asked from inside a callback). A
 * pending reply holds a CgRedisCall, never the CgRedis, so a reply or the
 * cleanup that comes after the free touches nothing freed.
 */
#include "config.h"

#include "cg-redis.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <hiredis/async.h>
/* The adapter defines its GSource functions static; we use its hooks only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <hiredis/adapters/glib.h>
#pragma GCC diagnostic pop

#define CG_REDIS_BACKOFF_MIN_MS 100
#define CG_REDIS_BACKOFF_MAX_MS 2000
#define CG_REDIS_CONNECT_TIMEOUT_MS 2000
#define CG_REDIS_DEFAULT_PORT 6379

G_DEFINE_QUARK(cg - redis - error - quark, cg_redis_error)

typedef struct {
	RedisSource base; /* the adapter's: ac, poll_fd */
	gboolean gone;	  /* hiredis cleaned up: ac is freed */
	CgRedis *owner;	  /* NULL once the owner is freed */
} CgRedisSource;

struct _CgRedis {
	char *address;
	char *name;
	char *host; /* TCP, or NULL */
	int port;
	char *path; /* unix socket, or NULL */
	GMainContext *context;

	redisAsyncContext *ac; /* NULL between attempts */
	CgRedisSource *source;
	gboolean connected;
	gboolean was_connected;
	guint n_reconnects;
	guint backoff_ms;
	GSource *retry;	  /* the next attempt */
	GSource *timeout; /* the attempt under way */

	GPtrArray *refusals; /* idles delivering NOT_CONNECTED */

	CgRedisStateFunc state_func;
	gpointer state_data;
};

struct _CgRedisCommand {
	GPtrArray *args; /* GBytes */
};

typedef struct {
	GCancellable *cancellable;
	CgRedisReplyFunc func;
	gpointer user_data;
	CgRedis *redis; /* for @func's first argument; NULL once freed */
	GError *error;	/* NOT_CONNECTED, delivered from an idle */
} CgRedisCall;

static void cg_redis_connect(CgRedis *self);

/* Addresses */

static gboolean
parse_address(const char *address, char **host, int *port, char **path, GError **error)
{
	const char *colon;
	char *end = NULL;
	long value;

	*host = NULL;
	*path = NULL;
	*port = CG_REDIS_DEFAULT_PORT;
	if (address == NULL || *address == '\0') {
		g_set_error(error, CG_REDIS_ERROR, CG_REDIS_ERROR_ADDRESS,
			    "The Redis address is empty");
		return FALSE;
	}
	if (g_str_has_prefix(address, "unix:"))
		address += strlen("unix:");
	if (address[0] == '/') {
		if (strlen(address) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
			g_set_error(error, CG_REDIS_ERROR, CG_REDIS_ERROR_ADDRESS,
				    "The Redis socket path is longer than %zu bytes",
				    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
			return FALSE;
		}
		*path = g_strdup(address);
		return TRUE;
	}
	colon = strrchr(address, ':');
	if (colon != NULL) {
		errno = 0;
		value = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 || value < 1 || value > 65535 ||
		    !g_ascii_isdigit(colon[1])) {
			g_set_error(error, CG_REDIS_ERROR, CG_REDIS_ERROR_ADDRESS,
				    "The Redis address “%s” has no valid port (1–65535)", address);
			return FALSE;
		}
		*port = (int)value;
	}
	*host = colon != NULL ? g_strndup(address, colon - address) : g_strdup(address);
	if (**host == '\0' || strspn(*host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789.-[]:") != strlen(*host)) {
		g_set_error(error, CG_REDIS_ERROR, CG_REDIS_ERROR_ADDRESS,
			    "The Redis address “%s” is neither a socket path nor host:port",
			    address);
		g_clear_pointer(host, g_free);
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_redis_address_is_valid(const char *address, GError **error)
{
	g_autofree char *host = NULL;
	g_autofree char *path = NULL;
	int port;

	return parse_address(address, &host, &port, &path, error);
}

/* The event source */

static gboolean
source_ready(CgRedisSource *source)
{
	GPollFD *fd = &source->base.poll_fd;

	return !source->gone && (fd->revents & (fd->events | G_IO_HUP | G_IO_ERR | G_IO_NVAL)) != 0;
}

static gboolean
source_prepare(GSource *source, gint *timeout)
{
	*timeout = -1;
	return source_ready((CgRedisSource *)source);
}

static gboolean
source_check(GSource *source)
{
	return source_ready((CgRedisSource *)source);
}

static gboolean
source_dispatch(GSource *gsource, GSourceFunc callback, gpointer user_data)
{
	CgRedisSource *source = (CgRedisSource *)gsource;
	gushort revents = source->base.poll_fd.revents;

	(void)callback;
	(void)user_data;
	source->base.poll_fd.revents = 0;
	if ((revents & G_IO_OUT) != 0 && !source->gone)
		redisAsyncHandleWrite(source->base.ac);
	/* a failed write may have freed the context: source->gone */
	if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR | G_IO_NVAL)) != 0 && !source->gone)
		redisAsyncHandleRead(source->base.ac);
	return G_SOURCE_CONTINUE;
}

static void
source_finalize(GSource *gsource)
{
	CgRedisSource *source = (CgRedisSource *)gsource;

	if (source->base.poll_fd.fd >= 0) {
		g_source_remove_poll(gsource, &source->base.poll_fd);
		source->base.poll_fd.fd = -1;
	}
}

static GSourceFuncs source_funcs = {
    .prepare = source_prepare,
    .check = source_check,
    .dispatch = source_dispatch,
    .finalize = source_finalize,
};

static gboolean retry_cb(gpointer user_data);

static void
schedule_retry(CgRedis *self)
{
	if (self->retry != NULL)
		return;
	self->retry = g_timeout_source_new(self->backoff_ms);
	g_source_set_callback(self->retry, retry_cb, self, NULL);
	g_source_set_static_name(self->retry, "[certgen] redis reconnect");
	g_source_attach(self->retry, self->context);
	self->backoff_ms = MIN(self->backoff_ms * 2, CG_REDIS_BACKOFF_MAX_MS);
}

static void
clear_timeout(CgRedis *self)
{
	if (self->timeout != NULL) {
		g_source_destroy(self->timeout);
		g_clear_pointer(&self->timeout, g_source_unref);
	}
}

/* hiredis frees the context: the one place that forgets it. */
static void
source_cleanup(gpointer data)
{
	CgRedisSource *source = data;
	CgRedis *self = source->owner;

	redis_source_cleanup(&source->base); /* the adapter's: poll events off */
	source->gone = TRUE;
	g_source_destroy((GSource *)source);
	if (self != NULL) {
		self->ac = NULL;
		self->source = NULL;
		clear_timeout(self);
		schedule_retry(self);
	}
	g_source_unref((GSource *)source);
}

static CgRedisSource *
source_new(CgRedis *self, redisAsyncContext *ac)
{
	CgRedisSource *source = (CgRedisSource *)g_source_new(&source_funcs, sizeof(*source));

	source->base.ac = ac;
	source->base.poll_fd.fd = ac->c.fd;
	source->base.poll_fd.events = 0;
	source->owner = self;
	g_source_add_poll((GSource *)source, &source->base.poll_fd);
	g_source_set_static_name((GSource *)source, "[certgen] redis");
	ac->ev.addRead = redis_source_add_read;
	ac->ev.delRead = redis_source_del_read;
	ac->ev.addWrite = redis_source_add_write;
	ac->ev.delWrite = redis_source_del_write;
	ac->ev.cleanup = source_cleanup;
	ac->ev.data = source;
	return source;
}

/* Connection life */

static void
notify_state(CgRedis *self, gboolean connected)
{
	if (self->connected == connected)
		return;
	self->connected = connected;
	if (self->state_func != NULL)
		self->state_func(self, connected, self->state_data);
}

static void
connect_cb(const redisAsyncContext *ac, int status)
{
	CgRedis *self = ac->data;

	if (self == NULL)
		return;
	clear_timeout(self);
	if (status != REDIS_OK) {
		g_debug("redis %s: cannot connect to %s: %s", self->name, self->address,
			ac->errstr);
		return; /* hiredis frees the context: source_cleanup() retries */
	}
	self->backoff_ms = CG_REDIS_BACKOFF_MIN_MS;
	if (self->was_connected)
		self->n_reconnects++;
	self->was_connected = TRUE;
	g_debug("redis %s: connected to %s", self->name, self->address);
	notify_state(self, TRUE);
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	CgRedis *self = ac->data;

	(void)status;
	if (self == NULL)
		return;
	g_message("redis %s: lost the connection to %s%s%s", self->name, self->address,
		  ac->err != 0 ? ": " : "", ac->err != 0 ? ac->errstr : "");
	notify_state(self, FALSE);
}

static gboolean
timeout_cb(gpointer user_data)
{
	CgRedis *self = user_data;

	g_clear_pointer(&self->timeout, g_source_unref);
	if (self->ac != NULL && !self->connected) {
		g_debug("redis %s: no connection to %s within %u ms", self->name, self->address,
			CG_REDIS_CONNECT_TIMEOUT_MS);
		redisAsyncFree(self->ac); /* -> source_cleanup() */
	}
	return G_SOURCE_REMOVE;
}

static gboolean
retry_cb(gpointer user_data)
{
	CgRedis *self = user_data;

	g_clear_pointer(&self->retry, g_source_unref);
	cg_redis_connect(self);
	return G_SOURCE_REMOVE;
}

static void
cg_redis_connect(CgRedis *self)
{
	redisAsyncContext *ac;
	static const char *ping[] = {"PING"};

	ac = self->path != NULL ? redisAsyncConnectUnix(self->path)
				: redisAsyncConnect(self->host, self->port);
	if (ac == NULL || ac->err != 0) {
		g_debug("redis %s: cannot connect to %s: %s", self->name, self->address,
			ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		schedule_retry(self);
		return;
	}
	self->ac = ac;
	ac->data = self;
	self->source = source_new(self, ac);
	g_source_attach((GSource *)self->source, self->context);
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	/* hiredis 0.14 completes the connect on the first write: send one */
	redisAsyncCommandArgv(ac, NULL, NULL, 1, ping, NULL);
	self->timeout = g_timeout_source_new(CG_REDIS_CONNECT_TIMEOUT_MS);
	g_source_set_callback(self->timeout, timeout_cb, self, NULL);
	g_source_set_static_name(self->timeout, "[certgen] redis connect timeout");
	g_source_attach(self->timeout, self->context);
}

CgRedis *
cg_redis_new(const char *address, const char *name, GError **error)
{
	g_autofree char *host = NULL;
	g_autofree char *path = NULL;
	CgRedis *self;
	struct sigaction action;
	int port;

	if (!parse_address(address, &host, &port, &path, error))
		return NULL;
	/* hiredis writes with write(): a dropped server must not kill us */
	if (sigaction(SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	self = g_new0(CgRedis, 1);
	self->address = g_strdup(address);
	self->name = g_strdup(name != NULL ? name : "redis");
	self->host = g_steal_pointer(&host);
	self->port = port;
	self->path = g_steal_pointer(&path);
	self->context = g_main_context_ref_thread_default();
	self->backoff_ms = CG_REDIS_BACKOFF_MIN_MS;
	self->refusals = g_ptr_array_new();
	cg_redis_connect(self);
	return self;
}

void
cg_redis_free(CgRedis *self)
{
	if (self == NULL)
		return;
	if (self->retry != NULL) {
		g_source_destroy(self->retry);
		g_clear_pointer(&self->retry, g_source_unref);
	}
	clear_timeout(self);
	for (guint i = 0; i < self->refusals->len; i++)
		g_source_destroy(self->refusals->pdata[i]);
	g_ptr_array_unref(self->refusals);
	if (self->ac != NULL) {
		redisAsyncContext *ac = self->ac;

		/* from here hiredis' callbacks and the cleanup see no owner */
		ac->data = NULL;
		self->source->owner = NULL;
		self->ac = NULL;
		self->source = NULL;
		redisAsyncFree(ac);
	}
	g_main_context_unref(self->context);
	g_free(self->address);
	g_free(self->name);
	g_free(self->host);
	g_free(self->path);
	g_free(self);
}

const char *
cg_redis_get_address(CgRedis *self)
{
	return self->address;
}

gboolean
cg_redis_is_connected(CgRedis *self)
{
	return self->connected;
}

guint
cg_redis_get_n_reconnects(CgRedis *self)
{
	return self->n_reconnects;
}

void
cg_redis_set_state_func(CgRedis *self, CgRedisStateFunc func, gpointer user_data)
{
	self->state_func = func;
	self->state_data = user_data;
}

/* Commands */

CgRedisCommand *
cg_redis_command_new(const char *name)
{
	CgRedisCommand *command = g_new0(CgRedisCommand, 1);

	command->args = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	cg_redis_command_add(command, name);
	return command;
}

void
cg_redis_command_free(CgRedisCommand *command)
{
	if (command == NULL)
		return;
	g_ptr_array_unref(command->args);
	g_free(command);
}

void
cg_redis_command_add_data(CgRedisCommand *command, const void *data, gsize len)
{
	g_ptr_array_add(command->args, g_bytes_new(data, len));
}

void
cg_redis_command_add(CgRedisCommand *command, const char *arg)
{
	cg_redis_command_add_data(command, arg, strlen(arg));
}

void
cg_redis_command_add_printf(CgRedisCommand *command, const char *format, ...)
{
	va_list args;
	char *text;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	g_ptr_array_add(command->args, g_bytes_new_take(text, strlen(text)));
}

void
cg_redis_command_add_bytes(CgRedisCommand *command, GBytes *bytes)
{
	g_ptr_array_add(command->args, g_bytes_ref(bytes));
}

static void
call_free(CgRedisCall *call)
{
	g_clear_object(&call->cancellable);
	g_clear_error(&call->error);
	g_free(call);
}

static gboolean
call_wanted(const CgRedisCall *call)
{
	return call->func != NULL && call->redis != NULL &&
	       !g_cancellable_is_cancelled(call->cancellable);
}

static void
reply_cb(redisAsyncContext *ac, void *reply_ptr, void *privdata)
{
	CgRedisCall *call = privdata;
	const redisReply *reply = reply_ptr;
	g_autoptr(GError) error = NULL;

	/* after cg_redis_free() the context has no owner */
	if (ac->data == NULL)
		call->redis = NULL;
	if (!call_wanted(call)) {
		if (call->func == NULL && reply != NULL && reply->type == REDIS_REPLY_ERROR)
			g_debug("redis: %s", reply->str);
		call_free(call);
		return;
	}
	if (reply == NULL)
		error = g_error_new(CG_REDIS_ERROR, CG_REDIS_ERROR_DISCONNECTED,
				    "The connection to Redis was lost before its reply");
	else if (reply->type == REDIS_REPLY_ERROR)
		error = g_error_new(CG_REDIS_ERROR, CG_REDIS_ERROR_REPLY, "%s", reply->str);
	call->func(call->redis, error != NULL ? NULL : reply, error, call->user_data);
	call_free(call);
}

static gboolean
not_connected_cb(gpointer user_data)
{
	CgRedisCall *call = user_data;
	CgRedis *self = call->redis;

	g_ptr_array_remove_fast(self->refusals, g_main_current_source());
	if (!g_cancellable_is_cancelled(call->cancellable))
		call->func(self, NULL, call->error, call->user_data);
	return G_SOURCE_REMOVE;
}

void
cg_redis_send(CgRedis *self, CgRedisCommand *command, GCancellable *cancellable,
	      CgRedisReplyFunc func, gpointer user_data)
{
	g_autoptr(CgRedisCommand) owned = command;
	CgRedisCall *call = g_new0(CgRedisCall, 1);
	guint n = command->args->len;
	g_autofree const char **argv = g_new(const char *, n);
	g_autofree size_t *argvlen = g_new(size_t, n);

	call->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
	call->func = func;
	call->user_data = user_data;
	call->redis = self;
	for (guint i = 0; i < n; i++) {
		gsize len;

		argv[i] = g_bytes_get_data(command->args->pdata[i], &len);
		argv[i] = argv[i] != NULL ? argv[i] : "";
		argvlen[i] = len;
	}
	if (self->ac != NULL &&
	    redisAsyncCommandArgv(self->ac, reply_cb, call, (int)n, argv, argvlen) == REDIS_OK)
		return;
	if (func == NULL) {
		call_free(call);
		return;
	}
	/* never from inside this call: from an idle on our context */
	call->error = g_error_new(CG_REDIS_ERROR, CG_REDIS_ERROR_NOT_CONNECTED,
				  "Redis (%s) is not connected", self->address);
	{
		GSource *idle = g_idle_source_new();

		g_source_set_callback(idle, not_connected_cb, call, (GDestroyNotify)call_free);
		g_source_set_static_name(idle, "[certgen] redis not connected");
		g_source_attach(idle, self->context);
		g_ptr_array_add(self->refusals, idle);
		g_source_unref(idle);
	}
}

void
cg_redis_sendv(CgRedis *self, GCancellable *cancellable, CgRedisReplyFunc func, gpointer user_data,
	       const char *name, ...)
{
	CgRedisCommand *command = cg_redis_command_new(name);
	const char *arg;
	va_list args;

	va_start(args, name);
	while ((arg = va_arg(args, const char *)) != NULL)
		cg_redis_command_add(command, arg);
	va_end(args);
	cg_redis_send(self, command, cancellable, func, user_data);
}

/* Replies */

const char *
cg_redis_reply_string(const redisReply *reply, gsize *len)
{
	if (reply == NULL ||
	    (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS))
		return NULL;
	if (len != NULL)
		*len = reply->len;
	return reply->str;
}

gboolean
cg_redis_reply_integer(const redisReply *reply, long long *out)
{
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER)
		return FALSE;
	*out = reply->integer;
	return TRUE;
}

const redisReply *
cg_redis_reply_field(const redisReply *reply, const char *field)
{
	size_t field_len = strlen(field);

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *key = reply->element[i];

		if (key != NULL && key->type == REDIS_REPLY_STRING && key->len == field_len &&
		    memcmp(key->str, field, field_len) == 0)
			return reply->element[i + 1];
	}
	return NULL;
}

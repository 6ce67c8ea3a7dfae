/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One request from its hash check to XACK (see the header for the steps). */
#include "cg-relay-job.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gunixinputstream.h>

#include "cg-http-follow.h"
#include "cg-http-update.h"
#include "cg-relay-keys.h"
#include "cg-relay-outbox.h"
#include "cg-relay-stream.h"
#include "cg-relay-update.h"

#define CG_ERROR_PREFIX "org.certgen.Certificates1.Error."

typedef enum {
	CG_RELAY_JOB_CHECKING,
	CG_RELAY_JOB_STARTING,
	CG_RELAY_JOB_RUNNING,
	CG_RELAY_JOB_FINISHING,
	CG_RELAY_JOB_PUBLISHING,
	CG_RELAY_JOB_ENDED,
} CgRelayJobState;

struct _CgRelayJob {
	CgRelayContext context;
	CgRelayEntry *entry;
	CgRelayJobState state;
	char *local_id;
	CgRelayOutbox *outbox;
	CgHttpFollow *follow;
	GCancellable *cancellable;
	gboolean cancel_wanted;
	gboolean verifying;
	GVariant *terminal; /* certgend's terminal update, while finishing */
	GBytes *analytics;
	GInputStream *file_stream;
	guint8 *file_buffer;
	gsize file_size;
	gboolean acked;
	guint end_id;
	CgRelayJobEndedFunc ended_func;
	gpointer user_data;
};

CgRelayJob *
cg_relay_job_new(const CgRelayContext *context, CgRelayEntry *entry, CgRelayJobEndedFunc ended_func,
		 gpointer user_data)
{
	CgRelayJob *self = g_new0(CgRelayJob, 1);

	self->context = *context;
	self->entry = entry;
	self->cancellable = g_cancellable_new();
	self->ended_func = ended_func;
	self->user_data = user_data;
	return self;
}

void
cg_relay_job_free(CgRelayJob *self)
{
	if (self == NULL)
		return;
	g_cancellable_cancel(self->cancellable);
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	g_clear_pointer(&self->outbox, cg_relay_outbox_free);
	g_clear_handle_id(&self->end_id, g_source_remove);
	g_clear_object(&self->file_stream);
	g_free(self->file_buffer);
	g_clear_pointer(&self->terminal, g_variant_unref);
	g_clear_pointer(&self->analytics, g_bytes_unref);
	g_clear_object(&self->cancellable);
	g_free(self->local_id);
	cg_relay_entry_free(self->entry);
	g_free(self);
}

const char *
cg_relay_job_get_id(CgRelayJob *self)
{
	return self->entry->id;
}

const char *
cg_relay_job_get_stream_id(CgRelayJob *self)
{
	return self->entry->stream_id;
}

gboolean
cg_relay_job_is_alive(CgRelayJob *self)
{
	return self->state != CG_RELAY_JOB_ENDED && !self->verifying;
}

static gboolean
cancelled(const GError *error)
{
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- the end -------------------------------------------------------------- */

static gboolean
end_cb(gpointer user_data)
{
	CgRelayJob *self = user_data;

	self->end_id = 0;
	self->ended_func(self, self->acked, self->user_data);
	return G_SOURCE_REMOVE;
}

static void
end_job(CgRelayJob *self, gboolean ack)
{
	if (self->state == CG_RELAY_JOB_ENDED)
		return;
	self->state = CG_RELAY_JOB_ENDED;
	self->acked = ack;
	g_cancellable_cancel(self->cancellable);
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	g_clear_pointer(&self->outbox, cg_relay_outbox_free);
	if (ack)
		cg_relay_stream_ack_request(self->context.redis, self->entry->stream_id);
	self->end_id = g_idle_add(end_cb, self);
}

static void
cancel_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autofree char *what = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);

	if (reply == NULL)
		g_message("Cancel of %s: %s", what, error->message);
}

static void
cancel_local(CgRelayJob *self)
{
	if (self->local_id == NULL)
		return;
	cg_http_bus_call(self->context.bus, "Cancel", g_variant_new("(s)", self->local_id),
			 G_VARIANT_TYPE("()"), NULL, cancel_done_cb,
			 g_strdup_printf("%s (%s)", self->entry->id, self->local_id));
}

/* Leaves the entry unacknowledged: another host takes it over. */
static void
abandon(CgRelayJob *self, gboolean cancel_running, const char *why)
{
	if (self->state == CG_RELAY_JOB_ENDED)
		return;
	g_message("%s: leaving it to another host: %s", self->entry->id, why);
	if (cancel_running && self->state == CG_RELAY_JOB_RUNNING)
		cancel_local(self);
	end_job(self, FALSE);
}

static void
outbox_done_cb(gpointer user_data)
{
	CgRelayJob *self = user_data;

	g_message("%s: finished and published (%" G_GUINT64_FORMAT " updates in all)",
		  self->entry->id, cg_relay_outbox_get_last_seq(self->outbox));
	end_job(self, TRUE);
}

/* ---- the terminal update ------------------------------------------------ */

static void
publish_terminal(CgRelayJob *self, GBytes *file, const char *file_error)
{
	g_autofree char *content_type = cg_relay_update_get_content_type(self->terminal);

	self->state = CG_RELAY_JOB_PUBLISHING;
	if (file_error != NULL)
		g_message("%s: no file stored: %s", self->entry->id, file_error);
	cg_relay_outbox_push_terminal(self->outbox, self->terminal, self->analytics, file,
				      content_type, file_error);
}

static void
file_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) file = NULL;
	gsize n_read = 0;
	CgRelayJob *self;

	if (!g_input_stream_read_all_finish(G_INPUT_STREAM(source), result, &n_read, &error) &&
	    cancelled(error))
		return;
	self = user_data;
	g_clear_object(&self->file_stream);
	if (error != NULL || n_read != self->file_size) {
		g_warning("%s: reading the file: %s", self->entry->id,
			  error != NULL ? error->message : "short read");
		publish_terminal(self, NULL, "unavailable");
		return;
	}
	file = g_bytes_new_take(g_steal_pointer(&self->file_buffer), self->file_size);
	publish_terminal(self, file, NULL);
}

static void
read_file(CgRelayJob *self, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_warning("%s: the file from certgend: %s", self->entry->id, g_strerror(errno));
		close(fd);
		publish_terminal(self, NULL, "unavailable");
		return;
	}
	if ((guint64)st.st_size > self->context.config->file_max_bytes) {
		close(fd);
		publish_terminal(self, NULL, "too_large");
		return;
	}
	self->file_size = (gsize)st.st_size;
	self->file_buffer = g_malloc(MAX(self->file_size, 1));
	self->file_stream = g_unix_input_stream_new(fd, TRUE);
	g_input_stream_read_all_async(self->file_stream, self->file_buffer, self->file_size,
				      G_PRIORITY_DEFAULT, self->cancellable, file_read_cb, self);
}

static void
opened_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = NULL;
	CgRelayJob *self;
	gint32 index = -1;
	int fd;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, &fds, &error);
	if (reply == NULL && cancelled(error))
		return;
	self = user_data;
	if (reply == NULL) {
		g_warning("%s: OpenCertificate: %s", self->entry->id, error->message);
		publish_terminal(self, NULL, "unavailable");
		return;
	}
	g_variant_get(reply, "(h)", &index);
	fd = fds != NULL ? g_unix_fd_list_get(fds, index, &error) : -1;
	if (fd < 0) {
		g_warning("%s: OpenCertificate sent no file descriptor", self->entry->id);
		publish_terminal(self, NULL, "unavailable");
		return;
	}
	read_file(self, fd);
}

static gboolean
has_file(GVariant *terminal)
{
	g_autoptr(GVariant) result =
	    g_variant_lookup_value(terminal, "result", G_VARIANT_TYPE_VARDICT);

	return g_str_equal(cg_relay_update_get_status(terminal), "completed") && result != NULL;
}

static void
analytics_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	CgRelayJob *self;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL && cancelled(error))
		return;
	self = user_data;
	if (reply != NULL) {
		g_autoptr(GVariant) analytics = g_variant_get_child_value(reply, 0);
		g_autoptr(GVariant) normal = g_variant_get_normal_form(analytics);

		self->analytics = g_variant_get_data_as_bytes(normal);
	} else {
		g_warning("%s: GetAnalytics: %s", self->entry->id, error->message);
	}
	if (!has_file(self->terminal)) {
		publish_terminal(self, NULL, NULL);
		return;
	}
	cg_http_bus_call(self->context.bus, "OpenCertificate", g_variant_new("(s)", self->local_id),
			 G_VARIANT_TYPE("(h)"), self->cancellable, opened_cb, self);
}

static void
finish(CgRelayJob *self, GVariant *terminal)
{
	self->state = CG_RELAY_JOB_FINISHING;
	self->terminal = g_variant_ref(terminal);
	g_clear_pointer(&self->follow, cg_http_follow_stop);
	cg_http_bus_call(self->context.bus, "GetAnalytics", g_variant_new("(s)", self->local_id),
			 G_VARIANT_TYPE("(a{sv})"), self->cancellable, analytics_cb, self);
}

/* ---- following certgend ----------------------------------------------------- */

static void
on_update(CgRelayJob *self, GVariant *update)
{
	if (self->state != CG_RELAY_JOB_RUNNING)
		return;
	if (cg_http_update_is_terminal(update)) {
		finish(self, update);
		return;
	}
	cg_relay_outbox_push(self->outbox, update);
}

static void
follow_ready(gpointer user_data, GVariant *snapshot)
{
	on_update(user_data, snapshot);
}

static void
follow_update(gpointer user_data, GVariant *update)
{
	on_update(user_data, update);
}

static void
follow_failed(gpointer user_data, const GError *error, guint retry_after_s)
{
	CgRelayJob *self = user_data;
	g_autofree char *why = g_strdup_printf("following it failed: %s", error->message);

	abandon(self, TRUE, why);
}

static void
follow_vanished(gpointer user_data)
{
	abandon(user_data, FALSE, "certgend left the bus");
}

static const CgHttpFollowFuncs follow_funcs = {
    .ready = follow_ready,
    .update = follow_update,
    .failed = follow_failed,
    .vanished = follow_vanished,
};

/* ---- starting it ------------------------------------------------------------ */

/* A generation that ends before it ran: published as its only update. */
static void
publish_synthetic(CgRelayJob *self, GVariant *update)
{
	self->terminal = g_variant_ref_sink(update);
	publish_terminal(self, NULL, NULL);
}

static void
started_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *name = NULL;
	g_autofree char *why = NULL;
	CgRelayJob *self;

	reply = cg_http_bus_call_finish(CG_HTTP_BUS(source), result, NULL, &error);
	if (reply == NULL && cancelled(error))
		return;
	self = user_data;
	if (reply == NULL) {
		name = g_dbus_error_get_remote_error(error);
		if (name != NULL && g_str_has_prefix(name, CG_ERROR_PREFIX)) {
			g_dbus_error_strip_remote_error(error);
			g_message("%s: certgend refused it: %s: %s", self->entry->id, name,
				  error->message);
			publish_synthetic(self, cg_relay_update_new_terminal(self->entry, "failed",
									     error->message, name,
									     error->message));
			return;
		}
		why = g_strdup_printf("StartGeneration: %s", error->message);
		abandon(self, FALSE, why);
		return;
	}
	g_variant_get(reply, "(s)", &self->local_id);
	g_message("%s: running on certgend as %s", self->entry->id, self->local_id);
	cg_relay_outbox_set_local_id(self->outbox, self->local_id);
	self->state = CG_RELAY_JOB_RUNNING;
	self->follow = cg_http_follow_start(self->context.bus, self->local_id, self->entry->user,
					    &follow_funcs, self);
	if (self->cancel_wanted)
		cancel_local(self);
}

static void
start_generation(CgRelayJob *self)
{
	self->state = CG_RELAY_JOB_STARTING;
	cg_http_bus_call(self->context.bus, "StartGeneration",
			 cg_relay_entry_start_parameters(self->entry), G_VARIANT_TYPE("(s)"),
			 self->cancellable, started_cb, self);
}

/* ---- the hash check --------------------------------------------------------- */

/* Element @i of an HMGET reply, or NULL. */
static char *
hmget_value(const redisReply *reply, size_t i)
{
	const char *value;
	gsize len = 0;

	if (reply->type != REDIS_REPLY_ARRAY || i >= reply->elements)
		return NULL;
	value = cg_redis_reply_string(reply->element[i], &len);
	return value != NULL ? g_strndup(value, len) : NULL;
}

static guint64
parse_u64(const char *id, const char *name, const char *text)
{
	guint64 value = 0;

	if (text != NULL && !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL)) {
		g_warning("%s: ignoring the hash's %s: not a number", id, name);
		return 0;
	}
	return value;
}

static double
parse_progress(const char *id, const char *text)
{
	char *end = NULL;
	double value;

	if (text == NULL)
		return 0.0;
	value = g_ascii_strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(value) || value < 0.0 || value > 100.0) {
		g_warning("%s: ignoring the hash's progress: not 0–100", id);
		return 0.0;
	}
	return value;
}

enum { F_USER, F_STATE, F_CANCEL, F_LAST_SEQ, F_PROGRESS, F_CREATED, N_FIELDS };

static void
checked_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelayJob *self = user_data;
	char *values[N_FIELDS] = {NULL};
	const char *id = self->entry->id;
	g_autofree char *first_message = NULL;
	guint64 last_seq, created_ms;
	double progress;

	if (error != NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != N_FIELDS) {
		abandon(self, FALSE, error != NULL ? error->message : "odd HMGET reply");
		return;
	}
	for (size_t i = 0; i < N_FIELDS; i++)
		values[i] = hmget_value(reply, i);
	if (values[F_USER] == NULL) {
		g_message("%s: no hash (expired or never made): acknowledged only", id);
		end_job(self, TRUE);
	} else if (!g_str_equal(values[F_USER], self->entry->user)) {
		g_warning("Ignoring request %s: the entry's user is not the hash's",
			  self->entry->stream_id);
		end_job(self, TRUE);
	} else if (g_strcmp0(values[F_STATE], "done") == 0) {
		g_message("%s: already done: acknowledged only", id);
		end_job(self, TRUE);
	} else {
		last_seq = parse_u64(id, "last_seq", values[F_LAST_SEQ]);
		progress = parse_progress(id, values[F_PROGRESS]);
		created_ms = parse_u64(id, "created_ms", values[F_CREATED]);
		if (last_seq > 0) {
			first_message =
			    g_strdup_printf("resumed on %s", self->context.config->host_id);
			g_message("%s: resuming after update %" G_GUINT64_FORMAT " (%.1f %%)", id,
				  last_seq, progress);
		}
		self->outbox = cg_relay_outbox_new(
		    self->context.redis, self->context.config, id, self->entry->user,
		    created_ms > 0 ? (gint64)created_ms : self->entry->at_ms, last_seq, progress,
		    first_message, outbox_done_cb, self);
		if (self->cancel_wanted || g_strcmp0(values[F_CANCEL], "1") == 0) {
			g_message("%s: cancelled while queued", id);
			publish_synthetic(self, cg_relay_update_new_terminal(
						    self->entry, "cancelled",
						    "Cancelled before it started", NULL, NULL));
		} else {
			start_generation(self);
		}
	}
	for (size_t i = 0; i < N_FIELDS; i++)
		g_free(values[i]);
}

void
cg_relay_job_start(CgRelayJob *self)
{
	g_autofree char *key = cg_relay_key_gen(self->entry->id);

	g_message("%s: taking request %s of %s", self->entry->id, self->entry->stream_id,
		  self->entry->user);
	self->state = CG_RELAY_JOB_CHECKING;
	cg_redis_sendv(self->context.redis, self->cancellable, checked_cb, self, "HMGET", key,
		       "user", "state", "cancel_requested", "last_seq", "progress", "created_ms",
		       NULL);
}

/* ---- from outside ------------------------------------------------------------- */

void
cg_relay_job_cancel(CgRelayJob *self)
{
	switch (self->state) {
	case CG_RELAY_JOB_CHECKING:
	case CG_RELAY_JOB_STARTING:
		self->cancel_wanted = TRUE;
		break;
	case CG_RELAY_JOB_RUNNING:
		g_message("%s: cancelling (%s)", self->entry->id, self->local_id);
		cancel_local(self);
		break;
	default:
		break; /* ending already */
	}
}

static void
host_checked_cb(CgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
	CgRelayJob *self = user_data;
	const char *host = NULL;
	gsize len = 0;

	self->verifying = FALSE;
	if (error == NULL)
		host = cg_redis_reply_string(reply, &len);
	if (host != NULL && (len != strlen(self->context.config->host_id) ||
			     memcmp(host, self->context.config->host_id, len) != 0)) {
		g_autofree char *why = g_strdup_printf("%.*s took it over while Redis was away",
						       (int)MIN(len, 64), host);

		abandon(self, TRUE, why);
		return;
	}
	if (self->outbox != NULL)
		cg_relay_outbox_resume(self->outbox);
}

void
cg_relay_job_redis_back(CgRelayJob *self)
{
	g_autofree char *key = cg_relay_key_gen(self->entry->id);

	if (self->outbox == NULL || self->state == CG_RELAY_JOB_ENDED || self->verifying)
		return;
	self->verifying = TRUE;
	cg_redis_sendv(self->context.redis, self->cancellable, host_checked_cb, self, "HGET", key,
		       "host", NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stream registry: rate limits and caps on progress streams, the open
 * streams (for shutdown) and the resume table. */
#include "cg-http-streams.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cg-http-error.h"
#include "cg-http-limits.h"
#include "cg-http-metrics.h"
#include "cg-http-resume.h"

#define CG_HTTP_STREAM_RETRY_AFTER_S 5
/* After the last stream left, this long, the free heap goes back to the
 * system: thousands of streams leave megabytes of it behind. */
#define CG_HTTP_STREAM_TRIM_DELAY_MS 1000

typedef struct {
	char *user;
	CgHttpStreamShutdownFunc shutdown_func;
	char *lease; /* --redis */
} CgHttpStreamEntry;

struct _CgHttpStreams {
	guint streams_per_minute;
	guint resumes_per_minute;
	guint max_streams;
	guint max_streams_per_user;
	CgRateLimit *streams_limiter;
	CgRateLimit *resumes_limiter;
	CgHttpResumeTable *resumable;
	CgHttpStreamCaps *caps;
	GHashTable *open; /* stream -> CgHttpStreamEntry */
	guint trim_id;
	CgHttpStreamLeaseFunc lease_release;
	gpointer lease_data;
	char *handed_lease;
};

static void
stream_entry_free(gpointer data)
{
	CgHttpStreamEntry *entry = data;

	g_free(entry->user);
	g_free(entry->lease);
	g_free(entry);
}

CgHttpStreams *
cg_http_streams_new(const CgHttpConfig *config)
{
	CgHttpStreams *self = g_new0(CgHttpStreams, 1);
	const gint64 minute = 60 * G_USEC_PER_SEC;

	self->streams_per_minute = config->streams_per_minute;
	self->resumes_per_minute = config->resumes_per_minute;
	self->max_streams = config->max_streams;
	self->max_streams_per_user = config->max_streams_per_user;
	self->streams_limiter = cg_rate_limit_new(config->streams_per_minute, minute);
	self->resumes_limiter = cg_rate_limit_new(config->resumes_per_minute, minute);
	self->resumable =
	    cg_http_resume_table_new(config->resumable_per_user, config->max_resumable,
				     (gint64)config->resume_ttl_s * G_USEC_PER_SEC);
	self->caps = cg_http_stream_caps_new(config->max_streams, config->max_streams_per_user);
	self->open = g_hash_table_new_full(NULL, NULL, NULL, stream_entry_free);
	return self;
}

void
cg_http_streams_free(CgHttpStreams *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id(&self->trim_id, g_source_remove);
	g_clear_pointer(&self->open, g_hash_table_unref);
	g_clear_pointer(&self->handed_lease, g_free);
	g_clear_pointer(&self->streams_limiter, cg_rate_limit_free);
	g_clear_pointer(&self->resumes_limiter, cg_rate_limit_free);
	g_clear_pointer(&self->resumable, cg_http_resume_table_free);
	g_clear_pointer(&self->caps, cg_http_stream_caps_free);
	g_free(self);
}

/* One attempt against @limiter; refused: RateLimited saying "At most
 * @per_minute @what per minute". */
static gboolean
try_limiter(CgRateLimit *limiter, const char *user, gint64 now_us, guint per_minute,
	    const char *what, guint *retry_after_s, GError **error)
{
	gint64 wait_us = 0;

	if (cg_rate_limit_try(limiter, user, now_us, &wait_us))
		return TRUE;
	*retry_after_s = cg_http_retry_after_s(wait_us);
	cg_http_metrics_rate_limited(what);
	g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED,
		    "At most %u %s per minute; try again in %u s", per_minute, what,
		    *retry_after_s);
	return FALSE;
}

gboolean
cg_http_streams_check_rate(CgHttpStreams *self, const char *user, const char *progress_id,
			   gboolean have_since, guint64 since, gint64 now_us, guint *retry_after_s,
			   GError **error)
{
	if (have_since &&
	    cg_http_resume_table_check(self->resumable, user, progress_id, since, now_us))
		return try_limiter(self->resumes_limiter, user, now_us, self->resumes_per_minute,
				   "stream reconnects", retry_after_s, error);
	return try_limiter(self->streams_limiter, user, now_us, self->streams_per_minute,
			   "progress streams", retry_after_s, error);
}

gboolean
cg_http_streams_acquire_slot(CgHttpStreams *self, const char *user, guint *retry_after_s,
			     GError **error)
{
	switch (cg_http_stream_caps_acquire(self->caps, user)) {
	case CG_HTTP_CAP_OK:
		return TRUE;
	case CG_HTTP_CAP_USER_FULL:
		*retry_after_s = CG_HTTP_STREAM_RETRY_AFTER_S;
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_TOO_MANY_STREAMS,
			    "At most %u progress streams may be open at once per user",
			    self->max_streams_per_user);
		return FALSE;
	case CG_HTTP_CAP_GLOBAL_FULL:
	default:
		*retry_after_s = CG_HTTP_STREAM_RETRY_AFTER_S;
		g_set_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_OVERLOADED,
			    "The bridge serves its maximum of %u progress streams; try again "
			    "later",
			    self->max_streams);
		return FALSE;
	}
}

void
cg_http_streams_release_slot(CgHttpStreams *self, const char *user)
{
	cg_http_stream_caps_release(self->caps, user);
}

void
cg_http_streams_add(CgHttpStreams *self, gpointer stream, const char *user,
		    CgHttpStreamShutdownFunc shutdown_func)
{
	CgHttpStreamEntry *entry = g_new0(CgHttpStreamEntry, 1);

	entry->user = g_strdup(user);
	entry->shutdown_func = shutdown_func;
	entry->lease = g_steal_pointer(&self->handed_lease);
	g_hash_table_insert(self->open, stream, entry);
	cg_http_metrics_stream_opened();
}

static void
trim_cb(gpointer user_data)
{
	CgHttpStreams *self = user_data;

	self->trim_id = 0;
#ifdef __GLIBC__
	if (g_hash_table_size(self->open) == 0)
		malloc_trim(0);
#endif
}

void
cg_http_streams_remove(CgHttpStreams *self, gpointer stream)
{
	CgHttpStreamEntry *entry = g_hash_table_lookup(self->open, stream);

	if (entry == NULL)
		return;
	cg_http_stream_caps_release(self->caps, entry->user);
	if (entry->lease != NULL && self->lease_release != NULL)
		self->lease_release(self->lease_data, entry->lease);
	g_hash_table_remove(self->open, stream);
	cg_http_metrics_stream_closed();
	if (g_hash_table_size(self->open) == 0 && self->trim_id == 0)
		self->trim_id = g_timeout_add_once(CG_HTTP_STREAM_TRIM_DELAY_MS, trim_cb, self);
}

guint
cg_http_streams_get_n_open(CgHttpStreams *self)
{
	return g_hash_table_size(self->open);
}

void
cg_http_streams_shutdown_all(CgHttpStreams *self)
{
	g_autoptr(GList) streams = g_hash_table_get_keys(self->open);

	for (GList *l = streams; l != NULL; l = l->next) {
		CgHttpStreamEntry *entry = g_hash_table_lookup(self->open, l->data);

		if (entry != NULL)
			entry->shutdown_func(l->data);
	}
}

void
cg_http_streams_note_sent(CgHttpStreams *self, const char *user, const char *progress_id,
			  guint64 sequence)
{
	cg_http_resume_table_note(self->resumable, user, progress_id, sequence,
				  g_get_monotonic_time());
}

void
cg_http_streams_prune(CgHttpStreams *self, gint64 now_us)
{
	cg_rate_limit_prune(self->streams_limiter, now_us);
	cg_rate_limit_prune(self->resumes_limiter, now_us);
	cg_http_resume_table_prune(self->resumable, now_us);
}

void
cg_http_streams_set_lease_release(CgHttpStreams *self, CgHttpStreamLeaseFunc release, gpointer data)
{
	self->lease_release = release;
	self->lease_data = data;
}

void
cg_http_streams_hand_lease(CgHttpStreams *self, const char *member)
{
	cg_http_streams_drop_handed_lease(self);
	self->handed_lease = g_strdup(member);
}

void
cg_http_streams_drop_handed_lease(CgHttpStreams *self)
{
	g_autofree char *member = g_steal_pointer(&self->handed_lease);

	if (member != NULL && self->lease_release != NULL)
		self->lease_release(self->lease_data, member);
}

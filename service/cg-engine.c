/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generation engine (see cg-engine.h): the caps, the start rate limit,
 * the subscriptions, the tracker and the pipeline, and the journal lines of
 * a generation's life. No D-Bus here.
 */
#include "config.h"

#include "cg-engine.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "cg-backlog.h"
#include "cg-persistence.h"
#include "cg-record.h"
#include "cg-registry.h"
#include "cg-sweep.h"
#include "cg-error.h"
#include "cg-options.h"
#include "cg-pipeline.h"
#include "cg-preview.h"
#include "cg-rate-limit.h"
#include "cg-render.h"
#include "cg-statistics.h"
#include "cg-statistics-store.h"
#include "cg-template.h"

#define CG_MAX_TRANSACTION_ID 128
#define CG_RATE_WINDOW_US (60 * G_USEC_PER_SEC)

struct _CgEngine {
	CgConfig config;
	char *output_dir;
	CgTemplateStore *templates;
	CgRegistry *registry;
	CgPipeline *pipeline;
	CgTracker *tracker;
	CgRateLimit *starts;	   /* StartGeneration per owner key, per minute */
	CgRateLimit *previews;	   /* RenderPreview per owner key, per minute */
	guint starts_prune_id;	   /* timer dropping owners whose minute is over */
	GHashTable *subscriptions; /* connection → counted subscriptions (GUINT) */
	CgEngineUpdateFunc update;
	gpointer update_data;
	CgEngineStatusFunc status;
	gpointer status_data;
	GMutex listing_lock;
	GCond listing_done;
	guint n_listing; /* ListTemplates and RenderPreview threads using the store */
	char *state_dir;
	CgStatistics *statistics; /* the finished generations' window */
	guint statistics_save_id; /* armed: the file is behind the window */
	gboolean backlogged;	  /* the bus face is behind: in-stage reports wait */
	CgBacklog *backlog;	  /* the reports that wait */
};

/* The statistics file is written at most once a second (and at the end). */
#define CG_STATISTICS_SAVE_DELAY_MS 1000

/* Who receives a generation's updates: the tracker's user data of a
 * generation in progress, dropped when it ends (no update is sent after the
 * terminal one) or is forgotten. */
typedef struct {
	char *starter;		/* connection, NULL once it left (or none) */
	GPtrArray *subscribers; /* connections receiving updates */
	CgStage logged_stage;
} CgWatchers;

static void
cg_watchers_free(CgWatchers *watchers)
{
	if (watchers == NULL)
		return;
	g_free(watchers->starter);
	g_ptr_array_unref(watchers->subscribers);
	g_free(watchers);
}

static void
notify_status(CgEngine *self)
{
	if (self->status != NULL)
		self->status(self, self->status_data);
}

static char *
owner_key(guint32 uid, const char *label)
{
	return label != NULL ? g_strdup_printf("%u:%s", uid, label) : g_strdup_printf("%u", uid);
}

/* ---- logging ------------------------------------------------------------ */

static void
log_generation(GLogLevelFlags level, CgGeneration *generation, const char *text)
{
	const char *stage = cg_stage_to_string(cg_generation_get_stage(generation));
	const char *status = cg_status_to_string(cg_generation_get_status(generation));
	g_autofree char *message = g_strdup_printf(
	    "%s: %s (stage %s, status %s)", cg_generation_get_id(generation), text, stage, status);
	g_autofree char *uid = g_strdup_printf("%u", cg_generation_get_owner_uid(generation));

	g_log_structured(G_LOG_DOMAIN, level, "CERTGEN_PROGRESS_ID", "%s",
			 cg_generation_get_id(generation), "CERTGEN_STAGE", "%s", stage,
			 "CERTGEN_STATUS", "%s", status, "CERTGEN_OWNER_UID", "%s", uid, "MESSAGE",
			 "%s", message);
}

/* ---- subscriptions ------------------------------------------------------ */

/* Subscriptions count against max_subscriptions_per_connection, except the
 * starter's own (capped by max_active_per_owner already). */
static gboolean
subscription_counts(const CgWatchers *watchers, const char *connection)
{
	return g_strcmp0(watchers->starter, connection) != 0;
}

static void
count_subscription(CgEngine *self, const char *connection)
{
	guint n = cg_engine_count_subscriptions(self, connection);

	g_hash_table_insert(self->subscriptions, g_strdup(connection), GUINT_TO_POINTER(n + 1));
}

static void
uncount_subscription(CgEngine *self, const CgWatchers *watchers, const char *connection)
{
	guint n = cg_engine_count_subscriptions(self, connection);

	if (n == 0 || !subscription_counts(watchers, connection))
		return;
	if (n == 1)
		g_hash_table_remove(self->subscriptions, connection);
	else
		g_hash_table_insert(self->subscriptions, g_strdup(connection),
				    GUINT_TO_POINTER(n - 1));
}

/* Every entry of @connection (by name: before, a pointer comparison
 * found none and the names of departed connections stayed). */
static void
remove_subscriber_all(CgWatchers *watchers, const char *connection)
{
	guint index;

	while (g_ptr_array_find_with_equal_func(watchers->subscribers, connection, g_str_equal,
						&index))
		g_ptr_array_remove_index(watchers->subscribers, index);
}

static void
drop_watchers(CgEngine *self, CgGeneration *generation)
{
	CgWatchers *watchers = cg_generation_get_user_data(generation);

	if (watchers == NULL)
		return;
	for (guint i = 0; i < watchers->subscribers->len; i++)
		uncount_subscription(self, watchers, watchers->subscribers->pdata[i]);
	cg_watchers_free(watchers);
	cg_generation_set_user_data(generation, NULL);
}

/* ---- statistics --------------------------------------------------------- */

static void
save_statistics(CgEngine *self)
{
	g_autoptr(GError) error = NULL;

	g_clear_handle_id(&self->statistics_save_id, g_source_remove);
	if (!cg_statistics_store_save(self->statistics, self->registry,
				      self->config.statistics_window, &error))
		g_warning("Statistics not saved: %s", error->message);
}

/* A once-source: save_statistics() removes it while it runs. */
static void
save_statistics_cb(gpointer user_data)
{
	save_statistics(user_data);
}

/* A generation ended (@update its terminal update): into the window. */
static void
record_statistics(CgEngine *self, CgGeneration *generation, GVariant *update)
{
	g_autoptr(GVariant) analytics = g_variant_ref_sink(cg_generation_analytics(generation));
	const char *template_id = cg_generation_get_template_id(generation);
	guint32 pages = 0;

	if (*template_id == '\0')
		return;
	/* validate_only produces no page */
	if (!cg_generation_get_validate_only(generation))
		g_variant_lookup(update, "pages_total", "u", &pages);
	cg_statistics_add_analytics(self->statistics, template_id, pages, analytics);
	if (self->statistics_save_id == 0)
		self->statistics_save_id =
		    g_timeout_add_once(CG_STATISTICS_SAVE_DELAY_MS, save_statistics_cb, self);
}

/* What the template's history expects of a new generation (its ETA). */
static void
set_history(CgEngine *self, CgGeneration *generation, const char *template_id)
{
	double page_ms = 0.0;
	double tail_ms;

	if (!cg_statistics_get_page_ms_p50(self->statistics, template_id, &page_ms))
		return;
	tail_ms =
	    cg_statistics_get_stage_ms_p50(self->statistics, template_id,
					   CG_STAGE_FILE_PREPARATION) +
	    cg_statistics_get_stage_ms_p50(self->statistics, template_id, CG_STAGE_DOWNLOAD_READY);
	cg_generation_set_history(generation, page_ms, tail_ms);
}

GVariant *
cg_engine_get_statistics(CgEngine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return cg_statistics_to_variant(self->statistics);
}

/* ---- persistence -------------------------------------------------------- */

/* A persistent generation that completed: its row is committed before its
 * `completed` update goes out, so what was reported kept is kept. */
static void
keep_if_persistent(CgEngine *self, CgGeneration *generation)
{
	g_autoptr(GError) error = NULL;

	if (!cg_generation_get_kept(generation))
		return;
	if (!cg_persistence_keep(self->registry, generation, &error))
		log_generation(G_LOG_LEVEL_WARNING, generation, error->message);
}

/* Persistent bytes of the caller, before it starts one more. */
static gboolean
check_persistent_quota(CgEngine *self, const CgCaller *caller, GError **error)
{
	guint64 max = self->config.max_persistent_bytes_per_owner;
	guint64 used = cg_persistence_owner_bytes(self->tracker, caller->uid, caller->owner_label);

	if (used < max)
		return TRUE;
	g_set_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED,
		    "Persistent results of this owner take %" G_GUINT64_FORMAT
		    " bytes, at most %" G_GUINT64_FORMAT
		    " (max_persistent_bytes_per_owner); Cleanup removes them",
		    used, max);
	return FALSE;
}

/* ---- tracker callbacks -------------------------------------------------- */

static void
tracker_emit_cb(CgTracker *tracker, CgGeneration *generation, GVariant *update, gpointer user_data)
{
	CgEngine *self = user_data;
	CgWatchers *watchers = cg_generation_get_user_data(generation);
	const char *id = cg_generation_get_id(generation);

	if (cg_status_is_terminal(cg_generation_get_status(generation))) {
		record_statistics(self, generation, update);
		keep_if_persistent(self, generation);
	}
	if (watchers == NULL)
		return;
	if (watchers->subscribers->len > 0 && self->update != NULL)
		self->update((const char *const *)watchers->subscribers->pdata,
			     watchers->subscribers->len, id, update, self->update_data);

	if (cg_status_is_terminal(cg_generation_get_status(generation))) {
		log_generation(G_LOG_LEVEL_MESSAGE, generation, "finished");
		drop_watchers(self, generation);
		notify_status(self);
	} else if (cg_generation_get_stage(generation) != watchers->logged_stage) {
		watchers->logged_stage = cg_generation_get_stage(generation);
		log_generation(G_LOG_LEVEL_DEBUG, generation, "entered a stage");
	}
}

static void
tracker_forget_cb(CgTracker *tracker, CgGeneration *generation, gpointer user_data)
{
	CgEngine *self = user_data;

	g_debug("Forgetting %s", cg_generation_get_id(generation));
	/* Its owner's Cleanup or keep_days: the row goes before the file. */
	if (cg_generation_get_kept(generation))
		cg_persistence_forget(self->registry, generation);
	drop_watchers(self, generation);
	notify_status(self);
}

/* ---- pipeline callbacks (main context) ---------------------------------- */

static void
pipeline_progress_cb(CgGeneration *generation, CgStage stage, guint stage_progress,
		     guint pages_done, guint pages_total, const char *message, gpointer user_data)
{
	CgEngine *self = user_data;

	/* While the bus face is behind, a report inside the generation's
	 * current stage waits, replaced by the next one (cg-backlog.h); a stage
	 * change goes at once and makes the held one obsolete. */
	if (self->backlogged && stage == cg_generation_get_stage(generation) &&
	    !cg_status_is_terminal(cg_generation_get_status(generation))) {
		cg_backlog_hold(self->backlog, generation, stage, stage_progress, pages_done,
				pages_total, message);
		return;
	}
	cg_backlog_drop(self->backlog, generation);
	/* The tracker ignores reports of generations that ended or were
	 * forgotten meanwhile. */
	cg_tracker_report(self->tracker, generation, stage, stage_progress, pages_done, pages_total,
			  message);
}

static void
release_report_cb(CgGeneration *generation, CgStage stage, guint stage_progress, guint pages_done,
		  guint pages_total, const char *message, gpointer user_data)
{
	CgEngine *self = user_data;

	cg_tracker_report(self->tracker, generation, stage, stage_progress, pages_done, pages_total,
			  message);
}

void
cg_engine_set_backlogged(CgEngine *self, gboolean backlogged)
{
	g_return_if_fail(self != NULL);
	self->backlogged = backlogged;
	if (!backlogged && self->backlog != NULL)
		cg_backlog_release(self->backlog, release_report_cb, self);
}

static void
pipeline_done_cb(CgGeneration *generation, const CgResult *result, const GError *error,
		 const CgProblems *problems, gpointer user_data)
{
	CgEngine *self = user_data;

	cg_backlog_drop(self->backlog, generation);
	if (cg_status_is_terminal(cg_generation_get_status(generation))) {
		/* Ended without its work (forgotten at max_age_s while it
		 * ran): leave nothing behind. */
		if (result != NULL && result->path != NULL && g_unlink(result->path) != 0)
			g_warning("Could not remove %s: %s", result->path, g_strerror(errno));
		return;
	}
	if (result != NULL)
		cg_tracker_complete(self->tracker, generation, result);
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		cg_tracker_finish_cancelled(self->tracker, generation);
	else
		cg_tracker_fail_with_problems(self->tracker, generation, error, problems);
}

/* ---- rate limit --------------------------------------------------------- */

/* Owners whose last start left the window are forgotten (issue 15: one
 * record per owner label ever seen, before). One timer, armed while any
 * owner is kept. */
static gboolean
starts_prune_cb(gpointer user_data)
{
	CgEngine *self = user_data;
	gint64 now = g_get_monotonic_time();
	guint dropped =
	    cg_rate_limit_prune(self->starts, now) + cg_rate_limit_prune(self->previews, now);
	guint kept = cg_rate_limit_count(self->starts) + cg_rate_limit_count(self->previews);

	if (dropped > 0)
		g_debug("Rate limit: forgot %u owner%s, %u kept", dropped, dropped == 1 ? "" : "s",
			kept);
	if (kept > 0)
		return G_SOURCE_CONTINUE;
	self->starts_prune_id = 0;
	return G_SOURCE_REMOVE;
}

static void
arm_starts_prune(CgEngine *self)
{
	if (self->starts_prune_id != 0)
		return;
	self->starts_prune_id =
	    g_timeout_add_seconds(CG_RATE_WINDOW_US / G_USEC_PER_SEC, starts_prune_cb, self);
	g_source_set_static_name(g_main_context_find_source_by_id(NULL, self->starts_prune_id),
				 "[certgen] rate limit pruning");
}

/* ---- start -------------------------------------------------------------- */

gboolean
cg_engine_check_ids(const char *transaction_id, const char *template_id, GError **error)
{
	gsize transaction_len;

	if (!cg_check_string_argument("transaction_id", transaction_id, error) ||
	    !cg_check_string_argument("template_id", template_id, error))
		return FALSE;
	transaction_len = strlen(transaction_id);
	if (transaction_len == 0 || transaction_len > CG_MAX_TRANSACTION_ID) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "transaction_id: must be 1–%u bytes, got %zu", CG_MAX_TRANSACTION_ID,
			    transaction_len);
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_engine_check_content(CgEngine *self, const char *template_id, const char *data_json,
			GError **error)
{
	gsize data_len;

	if (!cg_template_store_check(self->templates, template_id, error))
		return FALSE;
	/* data_json is JSON text (line breaks and tabs are fine there); the
	 * data validator checks the strings inside it. */
	data_len = strlen(data_json);
	if (data_len > self->config.max_data_bytes) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA,
			    "data_json: %zu bytes, at most %" G_GUINT64_FORMAT, data_len,
			    self->config.max_data_bytes);
		return FALSE;
	}
	if (!g_utf8_validate(data_json, data_len, NULL)) {
		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_DATA,
				    "data_json: not valid UTF-8");
		return FALSE;
	}
	return TRUE;
}

gboolean
cg_engine_check_start(CgEngine *self, const char *transaction_id, const char *template_id,
		      const char *data_json, GError **error)
{
	return cg_engine_check_ids(transaction_id, template_id, error) &&
	       cg_engine_check_content(self, template_id, data_json, error);
}

static void
set_rate_limited(GError **error, guint limit, const char *what, gint64 wait_us)
{
	g_set_error(error, CG_ERROR, CG_ERROR_RATE_LIMITED,
		    "At most %u %s per minute; try again in %" G_GINT64_FORMAT " s", limit, what,
		    (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* The rate limit, then the caps; nothing is recorded. */
static gboolean
check_may_start(CgEngine *self, const CgCaller *caller, const char *key,
		const CgGenerationOptions *options, gint64 now, GError **error)
{
	gint64 wait_us = 0;

	/* Rate limit: a sliding window of the last minute's starts. */
	if (!cg_rate_limit_check(self->starts, key, now, &wait_us)) {
		set_rate_limited(error, self->config.start_per_minute, "generations may be started",
				 wait_us);
		return FALSE;
	}
	if (cg_tracker_count_active_for_owner(self->tracker, caller->uid, caller->owner_label) >=
	    self->config.max_active_per_owner) {
		g_set_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED,
			    "At most %u generations may run at once per owner",
			    self->config.max_active_per_owner);
		return FALSE;
	}
	if (cg_tracker_count_active(self->tracker) >= self->config.max_active) {
		g_set_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED,
			    "The service runs its maximum of %u generations; try again later",
			    self->config.max_active);
		return FALSE;
	}
	if (cg_tracker_count(self->tracker) >= self->config.max_tracked) {
		g_set_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED,
			    "The service keeps its maximum of %u generations; "
			    "call Cleanup or try again later",
			    self->config.max_tracked);
		return FALSE;
	}
	if (options != NULL && options->enable_persistence && !options->validate_only &&
	    !check_persistent_quota(self, caller, error))
		return FALSE;
	return TRUE;
}

char *
cg_engine_start(CgEngine *self, const CgCaller *caller, const char *transaction_id,
		const char *template_id, const char *data_json, const CgGenerationOptions *options,
		GError **error)
{
	g_autofree char *key = owner_key(caller->uid, caller->owner_label);
	gint64 now = g_get_monotonic_time();
	CgGeneration *generation;
	CgWatchers *watchers;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(caller != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!check_may_start(self, caller, key, options, now, error))
		return NULL;
	cg_rate_limit_add(self->starts, key, now);
	arm_starts_prune(self);

	generation = cg_tracker_add(self->tracker, transaction_id, caller->uid, caller->owner_label,
				    options);
	cg_generation_set_template_id(generation, template_id);
	set_history(self, generation, template_id);
	watchers = g_new0(CgWatchers, 1);
	watchers->starter = g_strdup(caller->connection);
	watchers->subscribers = g_ptr_array_new_with_free_func(g_free);
	if (caller->connection != NULL)
		g_ptr_array_add(watchers->subscribers, g_strdup(caller->connection));
	watchers->logged_stage = CG_STAGE_INITIALIZING;
	cg_generation_set_user_data(generation, watchers);
	log_generation(G_LOG_LEVEL_MESSAGE, generation, "started");

	cg_tracker_report(self->tracker, generation, CG_STAGE_INITIALIZING, 0, 0, 0,
			  "Waiting for a worker");
	cg_pipeline_submit(self->pipeline, generation, template_id, data_json, options,
			   g_get_real_time());
	notify_status(self);
	return g_strdup(cg_generation_get_id(generation));
}

/* ---- one generation ----------------------------------------------------- */

/* Someone else's (or no) generation is visible to administrators only, and
 * otherwise exactly as unknown as an id that never existed. */
static CgGeneration *
lookup_for(CgEngine *self, const CgCaller *caller, const char *progress_id, GError **error)
{
	CgGeneration *generation;

	/* It is echoed in the error and in logs. */
	if (!cg_check_string_argument("progress_id", progress_id, error))
		return NULL;
	generation = cg_tracker_lookup(self->tracker, progress_id);
	if (generation == NULL ||
	    (!caller->is_admin && cg_generation_get_owner_uid(generation) != caller->uid)) {
		g_set_error(error, CG_ERROR, CG_ERROR_NOT_FOUND, "No generation %s", progress_id);
		return NULL;
	}
	return generation;
}

gboolean
cg_engine_is_owner(CgEngine *self, guint32 uid, const char *progress_id)
{
	CgGeneration *generation = cg_tracker_lookup(self->tracker, progress_id);

	return generation != NULL && cg_generation_get_owner_uid(generation) == uid;
}

gboolean
cg_engine_cancel(CgEngine *self, const CgCaller *caller, const char *progress_id, GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);

	if (generation == NULL || !cg_tracker_cancel(self->tracker, generation, error))
		return FALSE;
	log_generation(G_LOG_LEVEL_MESSAGE, generation, "cancel requested");
	return TRUE;
}

GVariant *
cg_engine_get_progress(CgEngine *self, const CgCaller *caller, const char *progress_id,
		       GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);

	return generation != NULL ? cg_generation_snapshot(generation) : NULL;
}

GVariant *
cg_engine_get_analytics(CgEngine *self, const CgCaller *caller, const char *progress_id,
			GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);

	return generation != NULL ? cg_generation_analytics(generation) : NULL;
}

gboolean
cg_engine_subscribe(CgEngine *self, const CgCaller *caller, const char *progress_id, GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);
	CgWatchers *watchers;
	gboolean counts;

	if (generation == NULL)
		return FALSE;
	/* A finished generation has nothing more to send; GetProgress tells its end. */
	watchers = cg_generation_get_user_data(generation);
	if (watchers == NULL || caller->connection == NULL ||
	    g_ptr_array_find_with_equal_func(watchers->subscribers, caller->connection, g_str_equal,
					     NULL))
		return TRUE;
	counts = subscription_counts(watchers, caller->connection);
	if (counts && cg_engine_count_subscriptions(self, caller->connection) >=
			  self->config.max_subscriptions_per_connection) {
		g_set_error(error, CG_ERROR, CG_ERROR_LIMIT_EXCEEDED,
			    "At most %u subscriptions per connection",
			    self->config.max_subscriptions_per_connection);
		return FALSE;
	}
	g_ptr_array_add(watchers->subscribers, g_strdup(caller->connection));
	if (counts)
		count_subscription(self, caller->connection);
	return TRUE;
}

gboolean
cg_engine_unsubscribe(CgEngine *self, const CgCaller *caller, const char *progress_id,
		      GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);
	CgWatchers *watchers;
	guint index;

	if (generation == NULL)
		return FALSE;
	watchers = cg_generation_get_user_data(generation);
	if (watchers != NULL && caller->connection != NULL &&
	    g_ptr_array_find_with_equal_func(watchers->subscribers, caller->connection, g_str_equal,
					     &index)) {
		uncount_subscription(self, watchers, caller->connection);
		g_ptr_array_remove_index(watchers->subscribers, index);
	}
	return TRUE;
}

int
cg_engine_open_certificate(CgEngine *self, const CgCaller *caller, const char *progress_id,
			   GError **error)
{
	CgGeneration *generation = lookup_for(self, caller, progress_id, error);
	const CgResult *result;
	int fd;

	if (generation == NULL)
		return -1;
	result = cg_generation_get_result(generation);
	if (result == NULL && cg_generation_get_validate_only(generation) &&
	    cg_generation_get_status(generation) == CG_STATUS_COMPLETED) {
		g_set_error(error, CG_ERROR, CG_ERROR_NOT_READY,
			    "Generation %s only validated its data (validate_only): it has no file",
			    progress_id);
		return -1;
	}
	if (result == NULL || cg_generation_get_status(generation) != CG_STATUS_COMPLETED) {
		g_set_error(error, CG_ERROR, CG_ERROR_NOT_READY,
			    "The certificate of %s is not ready (stage %s, status %s)", progress_id,
			    cg_stage_to_string(cg_generation_get_stage(generation)),
			    cg_status_to_string(cg_generation_get_status(generation)));
		return -1;
	}
	fd = open(result->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		int saved_errno = errno;

		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Could not open the certificate: %s",
			    g_strerror(saved_errno));
		return -1;
	}
	return fd;
}

/* ---- all generations ---------------------------------------------------- */

GVariant *
cg_engine_list(CgEngine *self, const CgCaller *caller)
{
	g_autoptr(GPtrArray) all = cg_tracker_list(self->tracker);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < all->len; i++) {
		CgGeneration *generation = all->pdata[i];

		if (caller->is_admin || cg_generation_get_owner_uid(generation) == caller->uid)
			g_variant_builder_add_value(&builder, cg_generation_snapshot(generation));
	}
	return g_variant_builder_end(&builder);
}

/* A thread of GLib's pool uses the template store: cg_engine_free() waits
 * for its end. */
static void
store_use_begin(CgEngine *self)
{
	g_mutex_lock(&self->listing_lock);
	self->n_listing++;
	g_mutex_unlock(&self->listing_lock);
}

/* The store is no longer used: cg_engine_free() may go on. */
static void
store_use_end(CgEngine *self)
{
	g_mutex_lock(&self->listing_lock);
	self->n_listing--;
	g_cond_broadcast(&self->listing_done);
	g_mutex_unlock(&self->listing_lock);
}

static void
list_templates_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	CgEngine *self = task_data;
	GPtrArray *templates = cg_template_store_list(self->templates, cancellable);

	g_task_return_pointer(task, templates, (GDestroyNotify)g_ptr_array_unref);
	store_use_end(self);
}

void
cg_engine_list_templates_async(CgEngine *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);

	g_task_set_task_data(task, self, NULL);
	store_use_begin(self);
	g_task_run_in_thread(task, list_templates_thread);
}

GPtrArray *
cg_engine_list_templates_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- previews ----------------------------------------------------------- */

/* One allocation (g_free): the strings follow the struct. */
typedef struct {
	CgEngine *self;
	gint64 added_at; /* when the rate limit counted it, to take it back on failure */
	guint page;
	const char *key; /* the owner key whose rate limit counts it */
	const char *template_id;
	const char *data_json;
	char strings[];
} CgPreviewJob;

static CgPreviewJob *
cg_preview_job_new(const char *key, const char *template_id, const char *data_json)
{
	gsize key_size = strlen(key) + 1;
	gsize template_size = strlen(template_id) + 1;
	gsize data_size = strlen(data_json) + 1;
	CgPreviewJob *job = g_malloc0(sizeof(CgPreviewJob) + key_size + template_size + data_size);
	char *next = job->strings;

	job->key = memcpy(next, key, key_size);
	next += key_size;
	job->template_id = memcpy(next, template_id, template_size);
	next += template_size;
	job->data_json = memcpy(next, data_json, data_size);
	return job;
}

static void
render_preview_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	CgPreviewJob *job = task_data;
	CgEngine *self = job->self;
	g_autoptr(CgTemplate) tmpl = NULL;
	g_autoptr(CgData) data = NULL;
	GError *error = NULL;
	int fd = -1;

	tmpl = cg_template_store_load(self->templates, job->template_id, NULL, &error);
	if (tmpl != NULL)
		data = cg_data_parse(job->data_json, strlen(job->data_json),
				     cg_template_get_rules(tmpl), self->config.max_data_bytes,
				     self->config.max_recipients, NULL, &error);
	if (data != NULL)
		fd = cg_preview_render(tmpl, data, job->page, &error);
	/* this thread is GLib's: its render cache must not outlive the call */
	cg_render_drop_thread_cache();
	g_clear_pointer(&data, cg_data_free);
	g_clear_pointer(&tmpl, cg_template_unref);
	store_use_end(self);
	if (fd < 0)
		g_task_return_error(task, error);
	else
		g_task_return_int(task, fd);
}

void
cg_engine_render_preview_async(CgEngine *self, const CgCaller *caller, const char *template_id,
			       const char *data_json, guint page, GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
	g_autoptr(GError) error = NULL;
	CgPreviewJob *job;
	gint64 now = g_get_monotonic_time();
	gint64 wait_us = 0;
	g_autofree char *key = owner_key(caller->uid, NULL);

	if (!cg_check_string_argument("template_id", template_id, &error) ||
	    !cg_engine_check_content(self, template_id, data_json, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (!cg_rate_limit_check(self->previews, key, now, &wait_us)) {
		set_rate_limited(&error, self->config.preview_per_minute,
				 "previews may be rendered", wait_us);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* Counted now, so that previews rendering at once cannot pass the
	 * limit together; taken back if it fails (finish). */
	cg_rate_limit_add(self->previews, key, now);
	arm_starts_prune(self);

	job = cg_preview_job_new(key, template_id, data_json);
	job->self = self;
	job->added_at = now;
	job->page = page;
	g_task_set_task_data(task, job, g_free);
	store_use_begin(self);
	g_task_run_in_thread(task, render_preview_thread);
}

int
cg_engine_render_preview_finish(CgEngine *self, GAsyncResult *result, GError **error)
{
	CgPreviewJob *job;
	g_autoptr(GError) local_error = NULL;
	gssize fd;

	g_return_val_if_fail(g_task_is_valid(result, NULL), -1);
	fd = g_task_propagate_int(G_TASK(result), &local_error);
	if (local_error == NULL)
		return (int)fd;
	/* refused or failed: it does not count */
	job = g_task_get_task_data(G_TASK(result));
	if (job != NULL)
		cg_rate_limit_remove(self->previews, job->key, job->added_at);
	g_propagate_error(error, g_steal_pointer(&local_error));
	return -1;
}

guint
cg_engine_cleanup(CgEngine *self, const CgCaller *caller)
{
	/* Everybody's finished generations for an administrator, but
	 * persistent results only ever by their owner's Cleanup. */
	guint removed = cg_tracker_cleanup(self->tracker, (gint64)caller->uid);

	if (caller->is_admin)
		removed += cg_tracker_cleanup(self->tracker, -1);

	notify_status(self);
	return removed;
}

void
cg_engine_connection_closed(CgEngine *self, const char *connection)
{
	g_autoptr(GPtrArray) active = cg_tracker_list_active(self->tracker);
	g_autoptr(GPtrArray) to_cancel = g_ptr_array_new();

	for (guint i = 0; i < active->len; i++) {
		CgGeneration *generation = active->pdata[i];
		CgWatchers *watchers = cg_generation_get_user_data(generation);

		if (watchers == NULL)
			continue;
		remove_subscriber_all(watchers, connection);
		if (g_strcmp0(watchers->starter, connection) == 0) {
			g_clear_pointer(&watchers->starter, g_free);
			if (cg_generation_get_cancel_on_disconnect(generation))
				g_ptr_array_add(to_cancel, generation);
		}
	}
	g_hash_table_remove(self->subscriptions, connection);
	for (guint i = 0; i < to_cancel->len; i++) {
		g_autoptr(GError) error = NULL;
		CgGeneration *generation = to_cancel->pdata[i];

		log_generation(G_LOG_LEVEL_MESSAGE, generation,
			       "starter left the bus; cancelling (cancel_on_disconnect)");
		if (!cg_tracker_cancel(self->tracker, generation, &error))
			g_debug("Could not cancel: %s", error->message);
	}
}

guint
cg_engine_count_active(CgEngine *self)
{
	return cg_tracker_count_active(self->tracker);
}

guint
cg_engine_count_tracked(CgEngine *self)
{
	return cg_tracker_count(self->tracker);
}

guint
cg_engine_count_subscriptions(CgEngine *self, const char *connection)
{
	if (connection == NULL)
		return 0;
	return GPOINTER_TO_UINT(g_hash_table_lookup(self->subscriptions, connection));
}

/* ---- certificates: Verify, Revoke ---------------------------------------- */

GVariant *
cg_engine_verify(CgEngine *self, const char *certificate_number, const char *code, GError **error)
{
	return cg_record_verify(self->registry, certificate_number, code, error);
}

gboolean
cg_engine_revoke(CgEngine *self, const CgCaller *caller, const char *certificate_number,
		 const char *reason, GError **error)
{
	return cg_record_revoke(self->registry, caller->uid, caller->is_admin, certificate_number,
				reason, error);
}

gboolean
cg_engine_is_certificate_owner(CgEngine *self, guint32 uid, const char *certificate_number)
{
	return cg_record_is_owner(self->registry, uid, certificate_number);
}

/* ---- life cycle --------------------------------------------------------- */

CgEngine *
cg_engine_new(const CgConfig *config, const char *const *template_dirs, const char *state_dir,
	      GError **error)
{
	g_autoptr(CgEngine) self = g_new0(CgEngine, 1);
	CgTrackerConfig tracker_config = {config->finished_ttl_s, config->max_age_s,
					  config->keep_days * 86400u};
	g_autoptr(GHashTable) kept = NULL;
	CgPipelineConfig pipeline_config = {0};
	g_autoptr(GError) error_local = NULL;

	self->config = *config;
	self->output_dir = g_build_filename(state_dir, "certificates", NULL);
	if (g_mkdir_with_parents(self->output_dir, 0750) != 0) {
		int saved_errno = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
			    "Could not create %s: %s", self->output_dir, g_strerror(saved_errno));
		return NULL;
	}
	self->registry = cg_registry_open(state_dir, error);
	if (self->registry == NULL)
		return NULL;
	self->templates = cg_template_store_new(template_dirs);
	self->state_dir = g_strdup(state_dir);
	self->statistics = cg_statistics_new(config->statistics_window);
	if (!cg_statistics_store_load(self->statistics, self->registry, state_dir, &error_local))
		g_warning("%s; the statistics start empty", error_local->message);
	g_clear_error(&error_local);
	g_mutex_init(&self->listing_lock);
	g_cond_init(&self->listing_done);
	self->starts = cg_rate_limit_new(config->start_per_minute, CG_RATE_WINDOW_US);
	self->previews = cg_rate_limit_new(config->preview_per_minute, CG_RATE_WINDOW_US);
	self->subscriptions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->backlog = cg_backlog_new();
	self->tracker = cg_tracker_new(&tracker_config, tracker_emit_cb, tracker_forget_cb, self);
	/* the persistent results come back; then, before any generation
	 * runs, what a crash (or a generation not kept) left goes */
	kept = cg_persistence_restore(self->registry, self->tracker, self->output_dir, error);
	if (kept == NULL)
		return NULL;
	cg_sweep_certificates(self->output_dir, self->registry, kept);

	pipeline_config.templates = self->templates;
	pipeline_config.registry = self->registry;
	pipeline_config.base_url = self->config.verification_base_url;
	pipeline_config.output_dir = self->output_dir;
	pipeline_config.max_recipients = config->max_recipients;
	pipeline_config.max_data_bytes = config->max_data_bytes;
	pipeline_config.threads = config->threads;
	self->pipeline =
	    cg_pipeline_new(&pipeline_config, pipeline_progress_cb, pipeline_done_cb, self);
	return g_steal_pointer(&self);
}

void
cg_engine_set_update_func(CgEngine *self, CgEngineUpdateFunc func, gpointer user_data)
{
	self->update = func;
	self->update_data = user_data;
}

void
cg_engine_set_status_func(CgEngine *self, CgEngineStatusFunc func, gpointer user_data)
{
	self->status = func;
	self->status_data = user_data;
}

/*
 * Shutdown, in this order (each step relies on the ones before):
 *  1. cancel every generation in progress (queued jobs leave the queue);
 *  2. stop and join the workers: their last reports reach the tracker, so
 *     every generation has ended and no worker thread (nor its
 *     thread-local render state) is left when certgend's main() returns;
 *  3. forget and free the tracker (the forget callback still finds the
 *     subscription counts);
 *  4. the rest.
 */
void
cg_engine_free(CgEngine *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id(&self->starts_prune_id, g_source_remove);
	if (self->tracker != NULL) {
		g_autoptr(GPtrArray) active = cg_tracker_list_active(self->tracker);

		/* Cancelling only queues reports: the set stays as it is. */
		for (guint i = 0; i < active->len; i++) {
			g_autoptr(GCancellable) cancellable =
			    cg_generation_ref_cancellable(active->pdata[i]);

			g_cancellable_cancel(cancellable);
		}
	}
	g_clear_pointer(&self->pipeline, cg_pipeline_free);
	/* held in-stage reports: every generation ended after them */
	g_clear_pointer(&self->backlog, cg_backlog_free);
	if (self->tracker != NULL) {
		/* Files of generations not asked to persist go too, as nothing
		 * could reach them after a restart. */
		cg_tracker_cleanup(self->tracker, -1);
		g_clear_pointer(&self->tracker, cg_tracker_free);
	}
	/* the last generations' figures, not yet written */
	if (self->statistics_save_id != 0)
		save_statistics(self);
	g_clear_pointer(&self->statistics, cg_statistics_free);
	g_free(self->state_dir);
	g_clear_pointer(&self->subscriptions, g_hash_table_unref);
	g_clear_pointer(&self->starts, cg_rate_limit_free);
	g_clear_pointer(&self->previews, cg_rate_limit_free);
	/* a listing still loading templates holds on to the store */
	g_mutex_lock(&self->listing_lock);
	while (self->n_listing > 0)
		g_cond_wait(&self->listing_done, &self->listing_lock);
	g_mutex_unlock(&self->listing_lock);
	g_mutex_clear(&self->listing_lock);
	g_cond_clear(&self->listing_done);
	g_clear_pointer(&self->templates, cg_template_store_free);
	g_clear_pointer(&self->registry, cg_registry_free);
	g_free(self->output_dir);
	g_free(self);
}

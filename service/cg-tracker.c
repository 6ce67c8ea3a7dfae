/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-tracker.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include "cg-error.h"
#include "cg-getter.h"

/*
 * Memory: the service may hold many finished generations (they are kept for
 * finished_ttl_s so results can be fetched), so a record is one compact
 * allocation: the 32-hex id inline and first (it doubles as the hash table
 * key, so the table runs in "set" mode without a separate value array),
 * small counters as 8/16-bit fields, times as 32-bit millisecond offsets
 * from the start, the transaction id and owner label inline after the
 * struct, the GCancellable created on demand and dropped at the end, the
 * result allocated only when completed (one block), messages static unless
 * a report brings its own text. tests/bench/bench-tracker-memory measures it.
 */

enum {
	FLAG_OPT_CANCELLATION = 1 << 0,
	FLAG_OPT_PERSISTENCE = 1 << 1,
	FLAG_OPT_CANCEL_ON_DISCONNECT = 1 << 2,
	FLAG_CANCEL_REQUESTED = 1 << 3, /* cg_tracker_cancel() was called */
	FLAG_TIMED_OUT = 1 << 4,	/* timeout_ms (or max_age_s) passed */
	FLAG_PENDING = 1 << 5,		/* a coalesced update waits for its interval */
	FLAG_MESSAGE_OWNED = 1 << 6,	/* message is g_strdup()ed, else static */
	FLAG_FORGOTTEN = 1 << 7,	/* no longer in the tracker */
	FLAG_HAS_LABEL = 1 << 8,	/* owner label stored after the transaction id */
	FLAG_OPT_VALIDATE_ONLY = 1 << 9,
	FLAG_OUTPUT_ZIP = 1 << 10, /* output_format zip */
};

/* Stages that can have a duration (completed is a point in time). */
#define N_TIMED_STAGES CG_STAGE_COMPLETED

struct _CgGeneration {
	char id[33]; /* first: the record is its own hash table key */
	guint8 stage;
	guint8 stage_progress;
	guint8 status;
	guint8 reached;	   /* bit per stage reached */
	guint8 error_code; /* CG_STATUS_FAILED: the CgError (CG_ERROR_FAILED for others) */
	guint16 flags;
	guint16 progress; /* overall, hundredths of a percent: max seen */
	gint ref_count;
	guint32 owner_uid;
	guint32 sequence; /* of the last update sent */
	guint32 timeout_ms;
	guint32 update_interval_ms;
	guint32 pages_done;
	guint32 pages_total;
	/* Offsets from started_mono, in ms. */
	guint32 stage_started_ms;
	guint32 last_sent_ms; /* rounded up, so coalescing never runs early */
	guint32 finished_ms;
	guint32 active_index; /* in tracker->active while in progress */
	/* The template's history (cg_generation_set_history): ms per page and
	 * ms of the stages after pdf_generation; 0: none. */
	float history_page_ms;
	float history_tail_ms;
	guint32 stage_durations_ms[N_TIMED_STAGES];
	gint64 started_mono;
	gint64 started_real;
	CgTracker *tracker; /* NULL once forgotten */
	char *message;	    /* static or owned (FLAG_MESSAGE_OWNED) */
	GCancellable *cancellable;
	union {
		CgResult *result; /* CG_STATUS_COMPLETED: one compact block */
		GVariant *errors; /* CG_STATUS_FAILED: aa{sv} of InvalidData's problems, or NULL */
	};
	gpointer user_data;
	const char *template_id; /* interned; NULL until set */
	char transaction_id[];	 /* then the owner label when FLAG_HAS_LABEL */
};

G_STATIC_ASSERT(offsetof(CgGeneration, id) == 0);
G_STATIC_ASSERT(CG_N_STAGES <= 8);

struct _CgTracker {
	CgTrackerConfig config;
	CgTrackerEmitFunc emit;
	CgTrackerForgetFunc forget;
	gpointer user_data;
	CgClockFunc clock; /* NULL: monotonic and real time, one GLib timer */
	gpointer clock_data;
	GHashTable *by_id; /* set of generations, keyed by their id */
	GPtrArray *all;	   /* every generation, oldest first */
	GPtrArray *active; /* in progress, for the deadline scan */
	GSource *timer;	   /* only with the default clock */
	gint64 next_sweep; /* monotonic µs of the next cleanup deadline */
	gint64 last_sweep;
};

/* Messages of each stage when the report brings none, and of the ends. */
static const char *const stage_messages[CG_N_STAGES] = {
    "Initializing",   "Loading template",   "Validating data", "Generating PDF",
    "Preparing file", "Ready for download", "Completed",
};
static const char message_cancelled[] = "Cancelled";
static const char message_timed_out[] = "Timed out";
static const char message_failed[] = "Failed";

static void generation_finish(CgTracker *tracker, CgGeneration *generation, CgStatus status,
			      gint64 now);

void
cg_generation_options_init(CgGenerationOptions *options)
{
	g_return_if_fail(options != NULL);
	options->timeout_ms = 300000;
	options->update_interval_ms = 500;
	options->enable_cancellation = TRUE;
	options->enable_persistence = FALSE;
	options->cancel_on_disconnect = FALSE;
	options->validate_only = FALSE;
	options->output_format = CG_OUTPUT_FORMAT_PDF;
}

const char *
cg_output_format_to_string(CgOutputFormat format)
{
	return format == CG_OUTPUT_FORMAT_ZIP ? "zip" : "pdf";
}

const char *
cg_output_format_content_type(CgOutputFormat format)
{
	return format == CG_OUTPUT_FORMAT_ZIP ? "application/zip" : "application/pdf";
}

gboolean
cg_output_format_from_string(const char *name, CgOutputFormat *format)
{
	if (g_strcmp0(name, "pdf") == 0)
		*format = CG_OUTPUT_FORMAT_PDF;
	else if (g_strcmp0(name, "zip") == 0)
		*format = CG_OUTPUT_FORMAT_ZIP;
	else
		return FALSE;
	return TRUE;
}

static CgOutputFormat
generation_output_format(const CgGeneration *generation)
{
	return (generation->flags & FLAG_OUTPUT_ZIP) ? CG_OUTPUT_FORMAT_ZIP : CG_OUTPUT_FORMAT_PDF;
}

void
cg_result_free(CgResult *result)
{
	if (result == NULL)
		return;
	g_free(result->certificate_number);
	g_free(result->last_certificate_number);
	g_free(result->checksum);
	g_free(result->path);
	g_free(result->verification_url);
	g_free(result);
}

CgResult *
cg_result_copy(const CgResult *result)
{
	CgResult *copy;

	if (result == NULL)
		return NULL;
	copy = g_new0(CgResult, 1);
	copy->certificate_number = g_strdup(result->certificate_number);
	copy->last_certificate_number = g_strdup(result->last_certificate_number);
	copy->file_size = result->file_size;
	copy->checksum = g_strdup(result->checksum);
	copy->pages = result->pages;
	copy->path = g_strdup(result->path);
	copy->verification_url = g_strdup(result->verification_url);
	return copy;
}

static char *
pack_string(char **cursor, const char *s)
{
	char *start = *cursor;
	gsize len;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	memcpy(start, s, len);
	*cursor += len;
	return start;
}

static gsize
string_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* The tracker's own copy: the struct and its strings in one block, freed
 * with g_free(); last_certificate_number shares the first when equal. */
static CgResult *
result_copy_compact(const CgResult *result)
{
	gboolean same_last =
	    g_strcmp0(result->certificate_number, result->last_certificate_number) == 0;
	gsize size = sizeof(CgResult) + string_size(result->certificate_number) +
		     (same_last ? 0 : string_size(result->last_certificate_number)) +
		     string_size(result->checksum) + string_size(result->path) +
		     string_size(result->verification_url);
	CgResult *copy = g_malloc0(size);
	char *cursor = (char *)(copy + 1);

	copy->certificate_number = pack_string(&cursor, result->certificate_number);
	copy->last_certificate_number = same_last
					    ? copy->certificate_number
					    : pack_string(&cursor, result->last_certificate_number);
	copy->file_size = result->file_size;
	copy->checksum = pack_string(&cursor, result->checksum);
	copy->pages = result->pages;
	copy->path = pack_string(&cursor, result->path);
	copy->verification_url = pack_string(&cursor, result->verification_url);
	return copy;
}

/* Clock */

static gint64
tracker_now(CgTracker *tracker, gint64 *realtime_us)
{
	gint64 real = 0;
	gint64 mono;

	if (tracker != NULL && tracker->clock != NULL) {
		mono = tracker->clock(&real, tracker->clock_data);
	} else {
		mono = g_get_monotonic_time();
		real = g_get_real_time();
	}
	if (realtime_us != NULL)
		*realtime_us = real;
	return mono;
}

/* Milliseconds since the start of @generation, rounded down. */
static guint32
offset_ms(const CgGeneration *generation, gint64 now)
{
	gint64 ms = (now - generation->started_mono) / 1000;

	return (guint32)CLAMP(ms, 0, (gint64)G_MAXUINT32);
}

/* Rounded up: a deadline computed from it is never early. */
static guint32
offset_ms_ceil(const CgGeneration *generation, gint64 now)
{
	gint64 ms = (now - generation->started_mono + 999) / 1000;

	return (guint32)CLAMP(ms, 0, (gint64)G_MAXUINT32);
}

static gint64
generation_finished_at_us(const CgGeneration *generation)
{
	if (!cg_status_is_terminal(generation->status))
		return 0;
	return generation->started_real + (gint64)generation->finished_ms * 1000;
}

/* Timer */

static gboolean
timer_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	g_source_set_ready_time(source, -1);
	return callback(user_data);
}

static GSourceFuncs timer_funcs = {
    .dispatch = timer_dispatch,
};

static gboolean
timer_cb(gpointer user_data)
{
	cg_tracker_process_timers(user_data);
	return G_SOURCE_CONTINUE;
}

/* Make sure the shared timer fires no later than @deadline. */
static void
tracker_arm(CgTracker *tracker, gint64 deadline)
{
	gint64 ready;

	if (tracker->timer == NULL || deadline == G_MAXINT64)
		return;
	ready = g_source_get_ready_time(tracker->timer);
	if (ready < 0 || deadline < ready)
		g_source_set_ready_time(tracker->timer, MAX(deadline, 0));
}

/* Deadlines */

static gint64
generation_flush_deadline(const CgGeneration *generation)
{
	return generation->started_mono +
	       ((gint64)generation->last_sent_ms + generation->update_interval_ms) * 1000;
}

static gboolean
generation_timeout_armed(const CgGeneration *generation)
{
	return generation->timeout_ms > 0 &&
	       (generation->flags & (FLAG_TIMED_OUT | FLAG_CANCEL_REQUESTED)) == 0;
}

static gint64
generation_timeout_deadline(const CgGeneration *generation)
{
	return generation->started_mono + (gint64)generation->timeout_ms * 1000;
}

/* The next flush or timeout of an active generation. */
static gint64
generation_next_deadline(const CgGeneration *generation)
{
	gint64 deadline = G_MAXINT64;

	if (cg_status_is_terminal(generation->status))
		return G_MAXINT64;
	if (generation->flags & FLAG_PENDING)
		deadline = generation_flush_deadline(generation);
	if (generation_timeout_armed(generation))
		deadline = MIN(deadline, generation_timeout_deadline(generation));
	return deadline;
}

/* A persistent result: kept keep_s after its end, its file with it. */
static gboolean
generation_is_kept(const CgTracker *tracker, const CgGeneration *generation)
{
	return tracker->config.keep_s > 0 && (generation->flags & FLAG_OPT_PERSISTENCE) != 0 &&
	       generation->status == CG_STATUS_COMPLETED && generation->result != NULL;
}

/* When the cleanup has to forget @generation. */
static gint64
generation_forget_deadline(const CgTracker *tracker, const CgGeneration *generation)
{
	gint64 deadline = G_MAXINT64;

	if (generation_is_kept(tracker, generation))
		return generation->started_mono + (gint64)generation->finished_ms * 1000 +
		       (gint64)tracker->config.keep_s * G_USEC_PER_SEC;
	if (tracker->config.max_age_s > 0)
		deadline =
		    generation->started_mono + (gint64)tracker->config.max_age_s * G_USEC_PER_SEC;
	if (cg_status_is_terminal(generation->status)) {
		gint64 ttl = generation->started_mono + (gint64)generation->finished_ms * 1000 +
			     (gint64)tracker->config.finished_ttl_s * G_USEC_PER_SEC;
		deadline = MIN(deadline, ttl);
	}
	return deadline;
}

/* When the tracker will forget @generation and delete its file, in real
 * time, as far as it is known now: a running one by max_age_s, a finished
 * one also by finished_ttl_s. 0 when its file is kept (persistent), or
 * when no limit applies. */
static gint64
generation_expires_at_us(const CgGeneration *generation)
{
	gint64 deadline;

	if ((generation->flags & FLAG_OPT_PERSISTENCE) != 0 || generation->tracker == NULL)
		return 0;
	deadline = generation_forget_deadline(generation->tracker, generation);
	if (deadline == G_MAXINT64)
		return 0;
	return generation->started_real + (deadline - generation->started_mono);
}

static void
tracker_schedule_sweep(CgTracker *tracker, gint64 deadline)
{
	if (deadline >= tracker->next_sweep)
		return;
	tracker->next_sweep = deadline;
	tracker_arm(tracker, MAX(deadline, tracker->last_sweep + G_USEC_PER_SEC));
}

/* Messages */

static const char *
static_message(const char *message)
{
	for (guint i = 0; i < G_N_ELEMENTS(stage_messages); i++) {
		if (g_str_equal(message, stage_messages[i]))
			return stage_messages[i];
	}
	return NULL;
}

/* @message must be static when @owned is FALSE. */
static void
generation_set_message(CgGeneration *generation, const char *message, gboolean owned)
{
	const char *known;

	if (generation->message != NULL && g_str_equal(generation->message, message))
		return;
	if (generation->flags & FLAG_MESSAGE_OWNED)
		g_free(generation->message);
	generation->flags &= ~FLAG_MESSAGE_OWNED;
	known = owned ? static_message(message) : message;
	if (known != NULL) {
		generation->message = (char *)known;
		return;
	}
	generation->message = g_strdup(message);
	generation->flags |= FLAG_MESSAGE_OWNED;
}

/* Updates */

static gboolean
generation_is_cancellable(const CgGeneration *generation)
{
	return (generation->flags & FLAG_OPT_CANCELLATION) != 0 &&
	       !cg_status_is_terminal(generation->status) &&
	       (generation->flags & (FLAG_CANCEL_REQUESTED | FLAG_TIMED_OUT)) == 0;
}

/* How many pages of observation the history counts as: the observed rate
 * takes over as pages are done (half-way at this many pages), so that a
 * history that is off is corrected within the first tenth of a large batch. */
#define HISTORY_WEIGHT_PAGES 100.0

/* With a history: the pages left at the history's ms per page, blended
 * towards the rate observed in pdf_generation, plus the stages after it;
 * -1 when there is no history or the pages are not known yet. */
static gint64
generation_history_end_us(const CgGeneration *generation, gint64 now)
{
	gint64 now_real = generation->started_real + (now - generation->started_mono);
	double stage_ms = (double)(now - generation->started_mono) / 1000.0 -
			  (double)generation->stage_started_ms;
	double page_ms = generation->history_page_ms;
	double left_ms;

	/* validate_only stops before pdf_generation: the history does not apply */
	if (generation->history_page_ms <= 0.0f || generation->stage > CG_STAGE_DOWNLOAD_READY ||
	    (generation->flags & FLAG_OPT_VALIDATE_ONLY) != 0)
		return -1;
	stage_ms = MAX(stage_ms, 0.0);
	if (generation->stage > CG_STAGE_PDF_GENERATION) {
		left_ms = MAX(generation->history_tail_ms - stage_ms, 0.0);
	} else if (generation->pages_total == 0) {
		return -1;
	} else {
		double done = generation->pages_done;

		if (generation->stage == CG_STAGE_PDF_GENERATION && done > 0) {
			double weight = done / (done + HISTORY_WEIGHT_PAGES);

			page_ms = weight * (stage_ms / done) + (1.0 - weight) * page_ms;
		}
		left_ms = (generation->pages_total - done) * page_ms + generation->history_tail_ms;
	}
	return now_real + (gint64)(left_ms * 1000.0);
}

static gint64
generation_expected_end_us(const CgGeneration *generation, gint64 now)
{
	gint64 elapsed = now - generation->started_mono;
	gint64 from_history;

	if (cg_status_is_terminal(generation->status))
		return generation_finished_at_us(generation);
	from_history = generation_history_end_us(generation, now);
	if (from_history >= 0)
		return from_history;
	if (generation->progress == 0 || elapsed <= 0)
		return 0;
	/* progress is in hundredths: elapsed * 100% / (progress / 100). */
	return generation->started_real +
	       (gint64)((double)elapsed * 10000.0 / generation->progress);
}

/* a{sv} without format strings: updates are built often. */
typedef struct {
	GVariant *entries[32]; /* the update keys of the interface, with room to grow */
	guint n;
} Vardict;

static void
vardict_add(Vardict *dict, const char *key, GVariant *value)
{
	g_assert(dict->n < G_N_ELEMENTS(dict->entries));
	dict->entries[dict->n++] =
	    g_variant_new_dict_entry(g_variant_new_string(key), g_variant_new_variant(value));
}

static GVariant *
vardict_end(Vardict *dict)
{
	return g_variant_new_array(G_VARIANT_TYPE("{sv}"), dict->entries, dict->n);
}

static GVariant *
result_to_variant(const CgResult *result, CgOutputFormat format)
{
	Vardict dict = {0};
	const char *number = result->certificate_number != NULL ? result->certificate_number : "";
	const char *last =
	    result->last_certificate_number != NULL ? result->last_certificate_number : number;

	vardict_add(&dict, "certificate_number", g_variant_new_string(number));
	vardict_add(&dict, "last_certificate_number", g_variant_new_string(last));
	vardict_add(&dict, "file_size", g_variant_new_uint64(result->file_size));
	vardict_add(&dict, "checksum",
		    g_variant_new_string(result->checksum != NULL ? result->checksum : ""));
	vardict_add(&dict, "pages", g_variant_new_uint32(result->pages));
	vardict_add(&dict, "content_type",
		    g_variant_new_string(cg_output_format_content_type(format)));
	if (result->verification_url != NULL)
		vardict_add(&dict, "verification_url",
			    g_variant_new_string(result->verification_url));
	return vardict_end(&dict);
}

/* The state as of @now, with @sequence; floating. */
static GVariant *
generation_to_variant(const CgGeneration *generation, guint64 sequence, gint64 now, gint64 now_real)
{
	Vardict dict = {0};
	const char *label = cg_generation_get_owner_label(generation);

	vardict_add(&dict, "progress_id", g_variant_new_string(generation->id));
	vardict_add(&dict, "transaction_id", g_variant_new_string(generation->transaction_id));
	vardict_add(&dict, "stage", g_variant_new_string(cg_stage_to_string(generation->stage)));
	vardict_add(&dict, "stage_index", g_variant_new_uint32(generation->stage));
	vardict_add(&dict, "stage_progress", g_variant_new_uint32(generation->stage_progress));
	vardict_add(&dict, "progress", g_variant_new_double(generation->progress / 100.0));
	vardict_add(&dict, "status", g_variant_new_string(cg_status_to_string(generation->status)));
	vardict_add(&dict, "message", g_variant_new_string(generation->message));
	vardict_add(&dict, "sequence", g_variant_new_uint64(sequence));
	vardict_add(&dict, "timestamp_us", g_variant_new_int64(now_real));
	vardict_add(&dict, "started_at_us", g_variant_new_int64(generation->started_real));
	vardict_add(&dict, "expected_end_us",
		    g_variant_new_int64(generation_expected_end_us(generation, now)));
	vardict_add(&dict, "cancellable",
		    g_variant_new_boolean(generation_is_cancellable(generation)));
	vardict_add(&dict, "pages_done", g_variant_new_uint32(generation->pages_done));
	vardict_add(&dict, "pages_total", g_variant_new_uint32(generation->pages_total));
	vardict_add(&dict, "persistent",
		    g_variant_new_boolean((generation->flags & FLAG_OPT_PERSISTENCE) != 0));
	vardict_add(&dict, "expires_at_us",
		    g_variant_new_int64(generation_expires_at_us(generation)));
	vardict_add(
	    &dict, "template_id",
	    g_variant_new_string(generation->template_id != NULL ? generation->template_id : ""));
	vardict_add(
	    &dict, "output_format",
	    g_variant_new_string(cg_output_format_to_string(generation_output_format(generation))));
	if (label != NULL)
		vardict_add(&dict, "owner_label", g_variant_new_string(label));
	if (generation->status == CG_STATUS_COMPLETED && generation->result != NULL)
		vardict_add(
		    &dict, "result",
		    result_to_variant(generation->result, generation_output_format(generation)));
	if (generation->status == CG_STATUS_FAILED) {
		vardict_add(
		    &dict, "error",
		    g_variant_new_string(cg_error_code_to_dbus_name(generation->error_code)));
		vardict_add(&dict, "error_message", g_variant_new_string(generation->message));
		if (generation->errors != NULL)
			vardict_add(&dict, "errors", generation->errors);
	}
	return vardict_end(&dict);
}

/* Send the current state now as the next update. */
static void
generation_send(CgTracker *tracker, CgGeneration *generation, gint64 now, gint64 now_real)
{
	g_autoptr(GVariant) update = NULL;

	generation->sequence++;
	generation->last_sent_ms = offset_ms_ceil(generation, now);
	generation->flags &= ~FLAG_PENDING;
	update = g_variant_ref_sink(
	    generation_to_variant(generation, generation->sequence, now, now_real));
	if (tracker->emit != NULL)
		tracker->emit(tracker, generation, update, tracker->user_data);
}

/* Stages */

static void
generation_enter_stage(CgGeneration *generation, CgStage stage, gint64 now)
{
	guint32 now_ms = offset_ms(generation, now);

	if (generation->stage < N_TIMED_STAGES)
		generation->stage_durations_ms[generation->stage] =
		    now_ms - MIN(generation->stage_started_ms, now_ms);
	generation->stage = stage;
	generation->stage_progress = 0;
	generation->stage_started_ms = now_ms;
	generation->reached |= 1u << stage;
}

static void
generation_raise_progress(CgGeneration *generation)
{
	double overall = cg_stage_overall_progress(generation->stage, generation->stage_progress);
	guint16 hundredths = (guint16)CLAMP(overall * 100.0 + 0.5, 0.0, 10000.0);

	generation->progress = MAX(generation->progress, hundredths);
}

/* Tracker */

CgTracker *
cg_tracker_new(const CgTrackerConfig *config, CgTrackerEmitFunc emit, CgTrackerForgetFunc forget,
	       gpointer user_data)
{
	CgTracker *tracker = g_new0(CgTracker, 1);
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();

	if (config != NULL) {
		tracker->config = *config;
	} else {
		tracker->config.finished_ttl_s = 60;
		tracker->config.max_age_s = 1800;
	}
	tracker->emit = emit;
	tracker->forget = forget;
	tracker->user_data = user_data;
	tracker->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	tracker->all = g_ptr_array_new();
	tracker->active = g_ptr_array_new();
	tracker->next_sweep = G_MAXINT64;
	tracker->last_sweep = G_MININT64 / 2;

	tracker->timer = g_source_new(&timer_funcs, sizeof(GSource));
	g_source_set_callback(tracker->timer, timer_cb, tracker, NULL);
	g_source_set_static_name(tracker->timer, "[certgen] tracker timer");
	g_source_set_ready_time(tracker->timer, -1);
	g_source_attach(tracker->timer, context);
	return tracker;
}

/* The result file goes with its generation, a persistent one only when
 * @with_persistent (forgotten for good, not at shutdown). */
static void
generation_delete_file(const CgGeneration *generation, gboolean with_persistent)
{
	const char *path;

	if (generation->status != CG_STATUS_COMPLETED || generation->result == NULL ||
	    ((generation->flags & FLAG_OPT_PERSISTENCE) && !with_persistent))
		return;
	path = generation->result->path;
	if (path == NULL)
		return;
	if (g_unlink(path) != 0 && errno != ENOENT)
		g_warning("Could not remove %s: %s", path, g_strerror(errno));
}

static void
tracker_remove_active(CgTracker *tracker, CgGeneration *generation)
{
	guint index = generation->active_index;

	g_return_if_fail(index < tracker->active->len &&
			 tracker->active->pdata[index] == generation);
	/* The last one moves into the hole. */
	g_ptr_array_remove_index_fast(tracker->active, index);
	if (index < tracker->active->len) {
		CgGeneration *moved = tracker->active->pdata[index];

		moved->active_index = index;
	}
}

void
cg_tracker_free(CgTracker *tracker)
{
	if (tracker == NULL)
		return;
	if (tracker->timer != NULL) {
		g_source_destroy(tracker->timer);
		g_source_unref(tracker->timer);
	}
	/* Shutting down forgets everything (without the forget callback, the
	 * owner is going away too): running work is cancelled and files that
	 * were not to persist are removed, as nobody can fetch them any more. */
	for (guint i = 0; i < tracker->all->len; i++) {
		CgGeneration *generation = tracker->all->pdata[i];

		if (generation->cancellable != NULL)
			g_cancellable_cancel(generation->cancellable);
		generation_delete_file(generation, FALSE);
		generation->flags |= FLAG_FORGOTTEN;
		generation->tracker = NULL;
		cg_generation_unref(generation);
	}
	g_hash_table_unref(tracker->by_id);
	g_ptr_array_unref(tracker->all);
	g_ptr_array_unref(tracker->active);
	g_free(tracker);
}

void
cg_tracker_set_clock(CgTracker *tracker, CgClockFunc clock, gpointer user_data)
{
	g_return_if_fail(tracker != NULL);
	tracker->clock = clock;
	tracker->clock_data = user_data;
	if (clock != NULL && tracker->timer != NULL) {
		g_source_destroy(tracker->timer);
		g_clear_pointer(&tracker->timer, g_source_unref);
	}
}

gsize
cg_tracker_get_record_size(void)
{
	return sizeof(CgGeneration);
}

static void
random_id(char id[33])
{
	guint8 bytes[16];
	gsize got = 0;

	while (got < sizeof(bytes)) {
		gssize n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (gsize)n;
	}
	/* getrandom() cannot fail on Linux ≥ 3.17; keep ids unique anyway. */
	for (; got < sizeof(bytes); got++)
		bytes[got] = (guint8)g_random_int();
	for (guint i = 0; i < sizeof(bytes); i++) {
		static const char hex[] = "0123456789abcdef";

		id[i * 2] = hex[bytes[i] >> 4];
		id[i * 2 + 1] = hex[bytes[i] & 0xf];
	}
	id[32] = '\0';
}

/* A record of @tracker with @id (NULL: a fresh random one, unique in the
 * tracker), its transaction id and owner inline, one reference; the caller
 * sets the rest and adds it (tracker_insert()). An empty label is none. */
static CgGeneration *
generation_alloc(CgTracker *tracker, const char *id, const char *transaction_id, guint32 owner_uid,
		 const char *owner_label)
{
	gsize tx_size = strlen(transaction_id) + 1;
	gsize label_size;
	CgGeneration *generation;

	if (owner_label != NULL && owner_label[0] == '\0')
		owner_label = NULL;
	label_size = string_size(owner_label);
	generation = g_malloc0(sizeof(CgGeneration) + tx_size + label_size);
	if (id != NULL) {
		memcpy(generation->id, id, sizeof(generation->id) - 1);
	} else {
		do {
			random_id(generation->id);
		} while (g_hash_table_contains(tracker->by_id, generation->id));
	}
	memcpy(generation->transaction_id, transaction_id, tx_size);
	if (owner_label != NULL) {
		memcpy(generation->transaction_id + tx_size, owner_label, label_size);
		generation->flags |= FLAG_HAS_LABEL;
	}
	generation->ref_count = 1;
	generation->tracker = tracker;
	generation->owner_uid = owner_uid;
	return generation;
}

/* Into the id table and the list of all, oldest first. */
static void
tracker_insert(CgTracker *tracker, CgGeneration *generation)
{
	g_hash_table_add(tracker->by_id, generation);
	g_ptr_array_add(tracker->all, generation);
}

CgGeneration *
cg_tracker_add(CgTracker *tracker, const char *transaction_id, guint32 owner_uid,
	       const char *owner_label, const CgGenerationOptions *options)
{
	CgGenerationOptions defaults;
	CgGeneration *generation;
	gint64 now;
	gint64 now_real = 0;

	g_return_val_if_fail(tracker != NULL, NULL);
	g_return_val_if_fail(transaction_id != NULL, NULL);

	if (options == NULL) {
		cg_generation_options_init(&defaults);
		options = &defaults;
	}
	now = tracker_now(tracker, &now_real);

	generation = generation_alloc(tracker, NULL, transaction_id, owner_uid, owner_label);
	generation->stage = CG_STAGE_INITIALIZING;
	generation->status = CG_STATUS_IN_PROGRESS;
	generation->reached = 1u << CG_STAGE_INITIALIZING;
	generation->message = (char *)stage_messages[CG_STAGE_INITIALIZING];
	generation->timeout_ms = options->timeout_ms;
	generation->update_interval_ms = options->update_interval_ms;
	if (options->enable_cancellation)
		generation->flags |= FLAG_OPT_CANCELLATION;
	if (options->enable_persistence)
		generation->flags |= FLAG_OPT_PERSISTENCE;
	if (options->cancel_on_disconnect)
		generation->flags |= FLAG_OPT_CANCEL_ON_DISCONNECT;
	if (options->validate_only)
		generation->flags |= FLAG_OPT_VALIDATE_ONLY;
	if (options->output_format == CG_OUTPUT_FORMAT_ZIP)
		generation->flags |= FLAG_OUTPUT_ZIP;
	generation->started_mono = now;
	generation->started_real = now_real;

	tracker_insert(tracker, generation);
	generation->active_index = tracker->active->len;
	g_ptr_array_add(tracker->active, generation);

	if (generation_timeout_armed(generation))
		tracker_arm(tracker, generation_timeout_deadline(generation));
	tracker_schedule_sweep(tracker, generation_forget_deadline(tracker, generation));
	return generation;
}

void
cg_generation_set_template_id(CgGeneration *generation, const char *template_id)
{
	g_return_if_fail(generation != NULL);
	g_return_if_fail(template_id != NULL);
	/* interned: the ids of existing templates are few, and the record
	 * stays small */
	generation->template_id = g_intern_string(template_id);
}

void
cg_generation_set_history(CgGeneration *generation, double page_ms, double tail_ms)
{
	g_return_if_fail(generation != NULL);
	generation->history_page_ms = (float)CLAMP(page_ms, 0.0, 3600.0 * 1000.0);
	generation->history_tail_ms = (float)CLAMP(tail_ms, 0.0, 3600.0 * 1000.0);
}

const char *
cg_generation_get_template_id(const CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, NULL);
	return generation->template_id != NULL ? generation->template_id : "";
}

CgGeneration *
cg_tracker_lookup(CgTracker *tracker, const char *progress_id)
{
	g_return_val_if_fail(tracker != NULL, NULL);
	if (progress_id == NULL)
		return NULL;
	return g_hash_table_lookup(tracker->by_id, progress_id);
}

guint
cg_tracker_count(CgTracker *tracker)
{
	g_return_val_if_fail(tracker != NULL, 0);
	return tracker->all->len;
}

guint
cg_tracker_count_active(CgTracker *tracker)
{
	g_return_val_if_fail(tracker != NULL, 0);
	return tracker->active->len;
}

guint
cg_tracker_count_active_for_owner(CgTracker *tracker, guint32 uid, const char *owner_label)
{
	guint count = 0;

	g_return_val_if_fail(tracker != NULL, 0);
	for (guint i = 0; i < tracker->active->len; i++) {
		const CgGeneration *generation = tracker->active->pdata[i];

		if (generation->owner_uid == uid &&
		    g_strcmp0(cg_generation_get_owner_label(generation), owner_label) == 0)
			count++;
	}
	return count;
}

GPtrArray *
cg_tracker_list(CgTracker *tracker)
{
	g_return_val_if_fail(tracker != NULL, NULL);
	return g_ptr_array_copy(tracker->all, NULL, NULL);
}

GPtrArray *
cg_tracker_list_active(CgTracker *tracker)
{
	g_return_val_if_fail(tracker != NULL, NULL);
	return g_ptr_array_copy(tracker->active, NULL, NULL);
}

void
cg_tracker_report(CgTracker *tracker, CgGeneration *generation, CgStage stage, guint stage_progress,
		  guint pages_done, guint pages_total, const char *message)
{
	gboolean new_stage;
	gint64 now;
	gint64 now_real = 0;

	g_return_if_fail(tracker != NULL);
	g_return_if_fail(generation != NULL);
	g_return_if_fail(stage < CG_STAGE_COMPLETED);

	if (generation->flags & FLAG_FORGOTTEN || cg_status_is_terminal(generation->status))
		return;
	if (stage < generation->stage)
		return;
	now = tracker_now(tracker, &now_real);
	stage_progress = MIN(stage_progress, 100u);

	new_stage = stage > generation->stage;
	if (new_stage)
		generation_enter_stage(generation, stage, now);
	generation->stage_progress = MAX(generation->stage_progress, stage_progress);
	if (pages_total > 0) {
		generation->pages_done = MIN(pages_done, pages_total);
		generation->pages_total = pages_total;
	}
	if (message != NULL)
		generation_set_message(generation, message, TRUE);
	else
		generation_set_message(generation, stage_messages[generation->stage], FALSE);
	generation_raise_progress(generation);

	/* A new stage, the first update, or the interval passed: send now.
	 * Otherwise the record itself holds the latest values until the
	 * flush, so what is sent later is never older than what was sent. */
	if (new_stage || generation->sequence == 0 ||
	    now >= generation_flush_deadline(generation)) {
		generation_send(tracker, generation, now, now_real);
		return;
	}
	generation->flags |= FLAG_PENDING;
	tracker_arm(tracker, generation_flush_deadline(generation));
}

/* Terminal transitions */

/* Close the current stage and leave the active set; the caller sets the
 * message and sends the terminal update. */
static void
generation_finish(CgTracker *tracker, CgGeneration *generation, CgStatus status, gint64 now)
{
	guint32 now_ms = offset_ms(generation, now);

	if (generation->stage < N_TIMED_STAGES)
		generation->stage_durations_ms[generation->stage] =
		    now_ms - MIN(generation->stage_started_ms, now_ms);
	generation->status = status;
	generation->finished_ms = now_ms;
	generation->flags &= ~FLAG_PENDING;
	tracker_remove_active(tracker, generation);
	/* The worker keeps its own reference if it still needs it. */
	g_clear_object(&generation->cancellable);
	if ((generation->flags & FLAG_FORGOTTEN) == 0)
		tracker_schedule_sweep(tracker, generation_forget_deadline(tracker, generation));
}

static gboolean
generation_is_done(const CgGeneration *generation)
{
	return (generation->flags & FLAG_FORGOTTEN) != 0 ||
	       cg_status_is_terminal(generation->status);
}

/* Cancel or timeout accepted, terminal update not sent yet. */
static gboolean
generation_is_stopping(const CgGeneration *generation)
{
	return (generation->flags & (FLAG_CANCEL_REQUESTED | FLAG_TIMED_OUT)) != 0;
}

static void
remove_result_file(const CgResult *result)
{
	if (result->path != NULL && g_unlink(result->path) != 0 && errno != ENOENT)
		g_warning("Could not remove %s: %s", result->path, g_strerror(errno));
}

void
cg_tracker_complete(CgTracker *tracker, CgGeneration *generation, const CgResult *result)
{
	gint64 now;
	gint64 now_real = 0;

	g_return_if_fail(tracker != NULL);
	g_return_if_fail(generation != NULL);
	g_return_if_fail(result != NULL);

	if (generation_is_done(generation)) {
		/* Too late (forgotten at max_age_s, or already ended): nobody
		 * can ever fetch this file, so it must not stay behind. */
		remove_result_file(result);
		return;
	}
	if (generation_is_stopping(generation)) {
		/* The work finished after a Cancel (or the timeout) was accepted
		 * but before its report got here: the cancel wins, and a
		 * cancelled generation leaves no file behind. */
		remove_result_file(result);
		cg_tracker_finish_cancelled(tracker, generation);
		return;
	}
	now = tracker_now(tracker, &now_real);
	if (result->pages > 0) {
		generation->pages_done = result->pages;
		generation->pages_total = result->pages;
	}

	/* validate_only: no file and no numbers, so no result and nothing to
	 * download; straight to completed */
	if ((generation->flags & FLAG_OPT_VALIDATE_ONLY) == 0)
		generation->result = result_copy_compact(result);
	if (generation->result != NULL && generation->stage < CG_STAGE_DOWNLOAD_READY) {
		generation_enter_stage(generation, CG_STAGE_DOWNLOAD_READY, now);
		generation->stage_progress = 100;
		generation_set_message(generation, stage_messages[CG_STAGE_DOWNLOAD_READY], FALSE);
		generation_raise_progress(generation);
		generation_send(tracker, generation, now, now_real);
		if (generation_is_done(generation))
			return;
	}

	generation_enter_stage(generation, CG_STAGE_COMPLETED, now);
	generation->stage_progress = 100;
	generation->progress = 10000;
	generation_set_message(generation, stage_messages[CG_STAGE_COMPLETED], FALSE);
	generation_finish(tracker, generation, CG_STATUS_COMPLETED, now);
	generation_send(tracker, generation, now, now_real);
}

static gboolean
error_is_cancellation(const GError *error)
{
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	       g_error_matches(error, CG_ERROR, CG_ERROR_CANCELLED) ||
	       g_error_matches(error, CG_ERROR, CG_ERROR_TIMED_OUT);
}

void
cg_tracker_fail(CgTracker *tracker, CgGeneration *generation, const GError *error)
{
	cg_tracker_fail_with_problems(tracker, generation, error, NULL);
}

void
cg_tracker_fail_with_problems(CgTracker *tracker, CgGeneration *generation, const GError *error,
			      const CgProblems *problems)
{
	gint64 now;
	gint64 now_real = 0;

	g_return_if_fail(tracker != NULL);
	g_return_if_fail(generation != NULL);

	if (generation_is_done(generation))
		return;
	/* Work that stopped because its cancellable fired was cancelled (or
	 * timed out), it did not fail; nor did work that failed after a
	 * Cancel or the timeout (an error of a stage cut short, or one that
	 * would have come anyway): the terminal status tells the cause. */
	if (error_is_cancellation(error) || generation_is_stopping(generation)) {
		cg_tracker_finish_cancelled(tracker, generation);
		return;
	}
	now = tracker_now(tracker, &now_real);
	if (error != NULL && error->message != NULL && error->message[0] != '\0')
		generation_set_message(generation, error->message, TRUE);
	else
		generation_set_message(generation, message_failed, FALSE);
	generation_finish(tracker, generation, CG_STATUS_FAILED, now);
	generation->error_code = error != NULL && error->domain == CG_ERROR && error->code >= 0 &&
					 error->code < CG_ERROR_LAST
				     ? (guint8)error->code
				     : CG_ERROR_FAILED;
	/* at most CG_PROBLEMS_MAX entries: every update of it stays small */
	if (problems != NULL && cg_problems_get_count(problems) > 0 &&
	    g_error_matches(error, CG_ERROR, CG_ERROR_INVALID_DATA))
		generation->errors = g_variant_ref_sink(cg_problems_to_variant(problems));
	generation_send(tracker, generation, now, now_real);
}

void
cg_tracker_finish_cancelled(CgTracker *tracker, CgGeneration *generation)
{
	gboolean timed_out;
	gint64 now;
	gint64 now_real = 0;

	g_return_if_fail(tracker != NULL);
	g_return_if_fail(generation != NULL);

	if (generation_is_done(generation))
		return;
	timed_out = (generation->flags & FLAG_TIMED_OUT) != 0;
	now = tracker_now(tracker, &now_real);
	generation_set_message(generation, timed_out ? message_timed_out : message_cancelled,
			       FALSE);
	generation_finish(tracker, generation,
			  timed_out ? CG_STATUS_TIMED_OUT : CG_STATUS_CANCELLED, now);
	generation_send(tracker, generation, now, now_real);
}

gboolean
cg_tracker_cancel(CgTracker *tracker, CgGeneration *generation, GError **error)
{
	g_return_val_if_fail(tracker != NULL, FALSE);
	g_return_val_if_fail(generation != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (generation_is_done(generation)) {
		g_set_error(error, CG_ERROR, CG_ERROR_ALREADY_FINISHED,
			    "Generation %s has already finished", generation->id);
		return FALSE;
	}
	if ((generation->flags & FLAG_OPT_CANCELLATION) == 0) {
		g_set_error(error, CG_ERROR, CG_ERROR_NOT_CANCELLABLE,
			    "Generation %s was started without cancellation", generation->id);
		return FALSE;
	}
	/* Already stopping (cancelled or timed out): nothing more to do. */
	if (generation->flags & (FLAG_CANCEL_REQUESTED | FLAG_TIMED_OUT))
		return TRUE;
	generation->flags |= FLAG_CANCEL_REQUESTED;
	if (generation->cancellable != NULL)
		g_cancellable_cancel(generation->cancellable);
	return TRUE;
}

/* Timers and cleanup */

static void
generation_time_out(CgGeneration *generation)
{
	generation->flags |= FLAG_TIMED_OUT;
	if (generation->cancellable != NULL)
		g_cancellable_cancel(generation->cancellable);
}

/* Forget @generation, whose reference the caller hands over. */
static void
tracker_forget_one(CgTracker *tracker, CgGeneration *generation, gint64 now, gint64 now_real)
{
	generation->flags |= FLAG_FORGOTTEN;
	if (!cg_status_is_terminal(generation->status)) {
		/* Too old (max_age_s) and still running: stop the work and, as
		 * there will be no later chance, send the terminal update now. */
		generation_time_out(generation);
		generation_set_message(generation, message_timed_out, FALSE);
		generation_finish(tracker, generation, CG_STATUS_TIMED_OUT, now);
		generation_send(tracker, generation, now, now_real);
	}
	g_hash_table_remove(tracker->by_id, generation->id);
	if (tracker->forget != NULL)
		tracker->forget(tracker, generation, tracker->user_data);
	generation_delete_file(generation, TRUE);
	generation->tracker = NULL;
	cg_generation_unref(generation);
}

/* Forget the generations whose time has come (@due) or the finished ones
 * of @uid (-1: all that are not persistent). Returns how many. */
static guint
tracker_forget_where(CgTracker *tracker, gboolean due, gint64 uid, gint64 now, gint64 now_real)
{
	g_autoptr(GPtrArray) forgotten = g_ptr_array_new();
	gint64 next = G_MAXINT64;
	guint kept = 0;

	for (guint i = 0; i < tracker->all->len; i++) {
		CgGeneration *generation = tracker->all->pdata[i];
		gboolean forget;

		if (due) {
			gint64 deadline = generation_forget_deadline(tracker, generation);

			forget = now >= deadline;
			if (!forget)
				next = MIN(next, deadline);
		} else if (uid < 0) {
			forget = cg_status_is_terminal(generation->status) &&
				 (generation->flags & FLAG_OPT_PERSISTENCE) == 0;
		} else {
			forget = cg_status_is_terminal(generation->status) &&
				 generation->owner_uid == (guint32)uid;
		}
		if (forget)
			g_ptr_array_add(forgotten, generation);
		else
			tracker->all->pdata[kept++] = generation;
	}
	g_ptr_array_set_size(tracker->all, kept);
	if (due)
		tracker->next_sweep = next;
	for (guint i = 0; i < forgotten->len; i++)
		tracker_forget_one(tracker, forgotten->pdata[i], now, now_real);
	return forgotten->len;
}

/* The sweep over all records runs when one is due, at most once a second. */
static gint64
tracker_maybe_sweep(CgTracker *tracker, gint64 now, gint64 now_real)
{
	if (now < tracker->next_sweep)
		return tracker->next_sweep;
	if (now < tracker->last_sweep + G_USEC_PER_SEC)
		return tracker->last_sweep + G_USEC_PER_SEC;
	tracker->last_sweep = now;
	tracker_forget_where(tracker, TRUE, -1, now, now_real);
	return tracker->next_sweep;
}

gint64
cg_tracker_process_timers(CgTracker *tracker)
{
	g_autoptr(GPtrArray) due = NULL;
	gint64 next = G_MAXINT64;
	gint64 now;
	gint64 now_real = 0;

	g_return_val_if_fail(tracker != NULL, G_MAXINT64);

	/* Whatever the callbacks arm meanwhile only lowers it again. */
	if (tracker->timer != NULL)
		g_source_set_ready_time(tracker->timer, -1);
	now = tracker_now(tracker, &now_real);

	/* Only the active generations can have a flush or a timeout due. */
	for (guint i = 0; i < tracker->active->len; i++) {
		CgGeneration *generation = tracker->active->pdata[i];
		gint64 deadline = generation_next_deadline(generation);

		if (deadline > now) {
			next = MIN(next, deadline);
			continue;
		}
		if (due == NULL)
			due = g_ptr_array_new_with_free_func((GDestroyNotify)cg_generation_unref);
		g_ptr_array_add(due, cg_generation_ref(generation));
	}
	for (guint i = 0; due != NULL && i < due->len; i++) {
		CgGeneration *generation = due->pdata[i];

		if (generation_is_done(generation))
			continue;
		if ((generation->flags & FLAG_PENDING) &&
		    now >= generation_flush_deadline(generation))
			generation_send(tracker, generation, now, now_real);
		if (!generation_is_done(generation) && generation_timeout_armed(generation) &&
		    now >= generation_timeout_deadline(generation))
			generation_time_out(generation);
		next = MIN(next, generation_next_deadline(generation));
	}
	next = MIN(next, tracker_maybe_sweep(tracker, now, now_real));
	tracker_arm(tracker, next);
	return next;
}

guint
cg_tracker_cleanup(CgTracker *tracker, gint64 uid)
{
	gint64 now;
	gint64 now_real = 0;

	g_return_val_if_fail(tracker != NULL, 0);
	now = tracker_now(tracker, &now_real);
	return tracker_forget_where(tracker, FALSE, uid, now, now_real);
}

/* Generations */

CgGeneration *
cg_generation_ref(CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, NULL);
	g_atomic_ref_count_inc(&generation->ref_count);
	return generation;
}

void
cg_generation_unref(CgGeneration *generation)
{
	if (generation == NULL)
		return;
	if (!g_atomic_ref_count_dec(&generation->ref_count))
		return;
	if (generation->flags & FLAG_MESSAGE_OWNED)
		g_free(generation->message);
	if (generation->status == CG_STATUS_COMPLETED)
		g_free(generation->result); /* one block, see result_copy_compact() */
	else if (generation->status == CG_STATUS_FAILED)
		g_clear_pointer(&generation->errors, g_variant_unref);
	g_clear_object(&generation->cancellable);
	g_free(generation);
}

CG_DEFINE_GETTER(CgGeneration, cg_generation_get_id, const char *, id, NULL)
CG_DEFINE_GETTER(CgGeneration, cg_generation_get_transaction_id, const char *, transaction_id, NULL)
CG_DEFINE_GETTER(CgGeneration, cg_generation_get_owner_uid, guint32, owner_uid, 0)

const char *
cg_generation_get_owner_label(const CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, NULL);
	if ((generation->flags & FLAG_HAS_LABEL) == 0)
		return NULL;
	return generation->transaction_id + strlen(generation->transaction_id) + 1;
}

CG_DEFINE_GETTER(CgGeneration, cg_generation_get_stage, CgStage, stage, CG_STAGE_INITIALIZING)
CG_DEFINE_GETTER(CgGeneration, cg_generation_get_status, CgStatus, status, CG_STATUS_FAILED)

double
cg_generation_get_progress(const CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, 0.0);
	return generation->progress / 100.0;
}

CG_DEFINE_GETTER(CgGeneration, cg_generation_get_sequence, guint64, sequence, 0)

/* Whether @generation was started with the option of @flag. */
static gboolean
generation_has_option(const CgGeneration *generation, guint flag)
{
	g_return_val_if_fail(generation != NULL, FALSE);
	return (generation->flags & flag) != 0;
}

gboolean
cg_generation_get_cancel_on_disconnect(const CgGeneration *generation)
{
	return generation_has_option(generation, FLAG_OPT_CANCEL_ON_DISCONNECT);
}

gboolean
cg_generation_get_validate_only(const CgGeneration *generation)
{
	return generation_has_option(generation, FLAG_OPT_VALIDATE_ONLY);
}

gboolean
cg_generation_get_persistent(const CgGeneration *generation)
{
	return generation_has_option(generation, FLAG_OPT_PERSISTENCE);
}

gboolean
cg_generation_get_kept(const CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, FALSE);
	return generation->tracker != NULL && generation_is_kept(generation->tracker, generation);
}

const CgResult *
cg_generation_get_result(const CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, NULL);
	if (generation->status != CG_STATUS_COMPLETED)
		return NULL;
	return generation->result;
}

GCancellable *
cg_generation_ref_cancellable(CgGeneration *generation)
{
	g_return_val_if_fail(generation != NULL, NULL);

	if (generation_is_done(generation)) {
		/* The work has nothing left to do. */
		GCancellable *cancelled = g_cancellable_new();

		g_cancellable_cancel(cancelled);
		return cancelled;
	}
	if (generation->cancellable == NULL) {
		generation->cancellable = g_cancellable_new();
		if (generation->flags & (FLAG_CANCEL_REQUESTED | FLAG_TIMED_OUT))
			g_cancellable_cancel(generation->cancellable);
	}
	return g_object_ref(generation->cancellable);
}

CG_DEFINE_GETTER(CgGeneration, cg_generation_get_user_data, gpointer, user_data, NULL)

void
cg_generation_set_user_data(CgGeneration *generation, gpointer data)
{
	g_return_if_fail(generation != NULL);
	generation->user_data = data;
}

GVariant *
cg_generation_snapshot(const CgGeneration *generation)
{
	gint64 now;
	gint64 now_real = 0;

	g_return_val_if_fail(generation != NULL, NULL);
	now = tracker_now(generation->tracker, &now_real);
	/* The snapshot repeats the last update sent (its sequence), so it
	 * carries that update's time, not the time of the question (to the
	 * millisecond: last_sent_ms is rounded up). */
	if (generation->sequence > 0)
		now_real = MIN(now_real,
			       generation->started_real + (gint64)generation->last_sent_ms * 1000);
	return generation_to_variant(generation, generation->sequence, now, now_real);
}

GVariant *
cg_generation_analytics(const CgGeneration *generation)
{
	GVariantBuilder builder;
	GVariantBuilder durations;
	gboolean finished;
	guint32 total_ms;
	double rate = 0.0;
	gint64 now;

	g_return_val_if_fail(generation != NULL, NULL);
	now = tracker_now(generation->tracker, NULL);
	finished = cg_status_is_terminal(generation->status);
	total_ms = finished ? generation->finished_ms : offset_ms(generation, now);
	if (total_ms > 0)
		rate = (generation->progress / 100.0) / (total_ms / 1000.0);

	g_variant_builder_init(&durations, G_VARIANT_TYPE("a{st}"));
	for (guint stage = 0; stage < CG_N_STAGES; stage++) {
		guint64 ms = 0;

		if ((generation->reached & (1u << stage)) == 0)
			continue;
		if (stage == generation->stage && !finished)
			ms = offset_ms(generation, now) -
			     MIN(generation->stage_started_ms, offset_ms(generation, now));
		else if (stage < N_TIMED_STAGES)
			ms = generation->stage_durations_ms[stage];
		g_variant_builder_add(&durations, "{st}", cg_stage_to_string(stage), ms);
	}

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "total_duration_ms",
			      g_variant_new_uint64(total_ms));
	g_variant_builder_add(&builder, "{sv}", "average_progress_rate",
			      g_variant_new_double(rate));
	g_variant_builder_add(&builder, "{sv}", "stage_durations",
			      g_variant_builder_end(&durations));
	g_variant_builder_add(&builder, "{sv}", "status",
			      g_variant_new_string(cg_status_to_string(generation->status)));
	g_variant_builder_add(&builder, "{sv}", "started_at_us",
			      g_variant_new_int64(generation->started_real));
	g_variant_builder_add(&builder, "{sv}", "finished_at_us",
			      g_variant_new_int64(generation_finished_at_us(generation)));
	return g_variant_builder_end(&builder);
}

/* Persistence: a completed generation's record and its restoration */

gboolean
cg_generation_get_record(const CgGeneration *generation, CgGenerationRecord *record)
{
	g_return_val_if_fail(generation != NULL, FALSE);
	g_return_val_if_fail(record != NULL, FALSE);

	if (generation->status != CG_STATUS_COMPLETED || generation->result == NULL)
		return FALSE;
	memset(record, 0, sizeof(*record));
	record->id = generation->id;
	record->transaction_id = generation->transaction_id;
	record->owner_uid = generation->owner_uid;
	record->owner_label = cg_generation_get_owner_label(generation);
	record->template_id = cg_generation_get_template_id(generation);
	record->output_format = generation_output_format(generation);
	record->message = generation->message;
	record->sequence = generation->sequence;
	record->started_at_us = generation->started_real;
	record->finished_ms = generation->finished_ms;
	record->last_sent_ms = generation->last_sent_ms;
	record->reached = generation->reached;
	memcpy(record->stage_ms, generation->stage_durations_ms, sizeof(record->stage_ms));
	record->result = *generation->result;
	return TRUE;
}

gboolean
cg_generation_id_is_valid(const char *id)
{
	gsize n;

	if (id == NULL)
		return FALSE;
	/* what random_id() writes */
	n = strspn(id, "0123456789abcdef");
	return n == 32 && id[n] == '\0';
}

/* What a record of a completed generation must hold to be one. */
static gboolean
record_is_valid(const CgGenerationRecord *record, const char **why)
{
	guint8 stages = (guint8)((1u << CG_N_STAGES) - 1);
	guint8 needed = (1u << CG_STAGE_INITIALIZING) | (1u << CG_STAGE_COMPLETED);

	*why = NULL;
	if (!cg_generation_id_is_valid(record->id))
		*why = "its id is not 32 lowercase hex digits";
	else if (record->transaction_id == NULL || record->transaction_id[0] == '\0' ||
		 record->template_id == NULL || record->template_id[0] == '\0' ||
		 record->message == NULL)
		*why = "a transaction id, template id or message is missing";
	else if ((record->reached & ~stages) != 0 || (record->reached & needed) != needed)
		*why = "its stages are not those of a completed generation";
	/* last_sent_ms is rounded up, finished_ms down */
	else if (record->sequence == 0 || record->sequence > G_MAXUINT32 ||
		 record->last_sent_ms > record->finished_ms + 1 || record->started_at_us <= 0)
		*why = "its sequence or times are out of range";
	else if (record->result.path == NULL || record->result.certificate_number == NULL ||
		 record->result.checksum == NULL || record->result.pages == 0)
		*why = "its result is incomplete";
	return *why == NULL;
}

CgGeneration *
cg_tracker_restore(CgTracker *tracker, const CgGenerationRecord *record, GError **error)
{
	CgGeneration *generation;
	const char *why;
	gint64 now;
	gint64 now_real = 0;

	g_return_val_if_fail(tracker != NULL, NULL);
	g_return_val_if_fail(record != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!record_is_valid(record, &why)) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Not a completed generation: %s",
			    why);
		return NULL;
	}
	if (g_hash_table_contains(tracker->by_id, record->id)) {
		g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Generation %s is tracked already",
			    record->id);
		return NULL;
	}
	now = tracker_now(tracker, &now_real);

	generation = generation_alloc(tracker, record->id, record->transaction_id,
				      record->owner_uid, record->owner_label);
	generation->stage = CG_STAGE_COMPLETED;
	generation->stage_progress = 100;
	generation->status = CG_STATUS_COMPLETED;
	generation->progress = 10000;
	generation->reached = record->reached;
	generation->flags |= FLAG_OPT_PERSISTENCE;
	if (record->output_format == CG_OUTPUT_FORMAT_ZIP)
		generation->flags |= FLAG_OUTPUT_ZIP;
	generation_set_message(generation, record->message, TRUE);
	generation->sequence = (guint32)record->sequence;
	generation->pages_done = record->result.pages;
	generation->pages_total = record->result.pages;
	generation->stage_started_ms = record->finished_ms;
	generation->last_sent_ms = record->last_sent_ms;
	generation->finished_ms = record->finished_ms;
	memcpy(generation->stage_durations_ms, record->stage_ms,
	       sizeof(generation->stage_durations_ms));
	/* Its monotonic start as if this process had seen it: the deadlines
	 * (keep_s after the end) run on the monotonic clock. */
	generation->started_real = record->started_at_us;
	generation->started_mono = now - (now_real - record->started_at_us);
	generation->template_id = g_intern_string(record->template_id);
	generation->result = result_copy_compact(&record->result);

	tracker_insert(tracker, generation);
	tracker_schedule_sweep(tracker, generation_forget_deadline(tracker, generation));
	return generation;
}

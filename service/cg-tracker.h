/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-problems.h"
#include "cg-stage.h"

G_BEGIN_DECLS

/*
 * CgTracker: the in-memory record of every generation and the rules of its
 * progress reporting. Main-thread only (the pipeline's worker threads hand
 * their reports to the main loop first). No D-Bus here: every update that is
 * to be sent goes to the emit callback; the engine hands it to the bus face
 * (cg-manager.c), which sends unicast ProgressChanged signals.
 *
 * Rules (DESIGN.md): stage progress 0–100 and a derived overall progress that
 * never decreases; `sequence` +1 per update sent; updates inside a stage are
 * coalesced to one per update_interval_ms while stage changes and the
 * terminal update go out at once, the terminal one always last;
 * expected_end_us from the template's history and the observed rate; timeout_ms → timed_out;
 * cancellation through a GCancellable the worker checks; analytics; cleanup.
 *
 * Time comes from a clock function (monotonic µs and realtime µs), so tests
 * drive time by hand and call cg_tracker_process_timers(). In the service,
 * the tracker keeps one shared GLib timer armed for its next deadline.
 */

typedef struct _CgTracker CgTracker;
typedef struct _CgGeneration CgGeneration;

/* What a generation writes: one PDF with a page per recipient, or a ZIP of
 * one one-page PDF per recipient plus manifest.csv (option output_format). */
typedef enum {
	CG_OUTPUT_FORMAT_PDF,
	CG_OUTPUT_FORMAT_ZIP,
} CgOutputFormat;

/* "pdf" / "zip", and the MIME type of the file ("application/pdf" /
 * "application/zip"). */
const char *cg_output_format_to_string(CgOutputFormat format);
const char *cg_output_format_content_type(CgOutputFormat format);
/* FALSE for anything but "pdf" and "zip". */
gboolean cg_output_format_from_string(const char *name, CgOutputFormat *format);

typedef struct {
	guint32 timeout_ms;	    /* default 300000; 0 = no timeout */
	guint32 update_interval_ms; /* default 500 */
	gboolean enable_cancellation;
	gboolean enable_persistence;
	gboolean cancel_on_disconnect;
	gboolean validate_only;	      /* template_loading and data_validation only */
	CgOutputFormat output_format; /* default CG_OUTPUT_FORMAT_PDF */
} CgGenerationOptions;

void cg_generation_options_init(CgGenerationOptions *options);

typedef struct {
	guint finished_ttl_s; /* default 60; 0 = at the next sweep */
	guint max_age_s;      /* default 1800; 0 = no age limit */
	/* A completed generation with enable_persistence is kept this long
	 * after its end instead (neither finished_ttl_s nor max_age_s apply
	 * to it); 0: it goes like the others, at finished_ttl_s. */
	guint keep_s;
} CgTrackerConfig;

/* What a completed generation produced. The tracker takes a copy. */
typedef struct {
	char *certificate_number;
	char *last_certificate_number;
	guint64 file_size;
	char *checksum; /* sha256 hex */
	guint pages;
	char *path;		/* the final file; deleted when forgotten unless persistent */
	char *verification_url; /* the first page's; NULL without a registry row */
} CgResult;

void cg_result_free(CgResult *result);
CgResult *cg_result_copy(const CgResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgResult, cg_result_free)

/* Called for every update sent (after coalescing), in sequence order.
 * @update is a floating-free a{sv} the callee may ref. */
typedef void (*CgTrackerEmitFunc)(CgTracker *tracker, CgGeneration *generation, GVariant *update,
				  gpointer user_data);
/* Called just before a generation is forgotten (cleanup), so the owner of
 * subscriber lists etc. can drop its references. A generation still in
 * progress when it reaches max_age_s is first timed out (its cancellable
 * cancelled, its terminal `timed_out` update sent at once, as there is no
 * later chance), then forgotten: later reports for it find nothing, and a
 * late cg_tracker_complete() on a held reference deletes the file. Not called by cg_tracker_free().
 */
typedef void (*CgTrackerForgetFunc)(CgTracker *tracker, CgGeneration *generation,
				    gpointer user_data);

/* Clock: returns monotonic µs; *realtime_us gets wall-clock µs. */
typedef gint64 (*CgClockFunc)(gint64 *realtime_us, gpointer user_data);

/* @config NULL: the defaults. The shared timer is attached to the
 * thread-default main context. */
CgTracker *cg_tracker_new(const CgTrackerConfig *config, CgTrackerEmitFunc emit,
			  CgTrackerForgetFunc forget, gpointer user_data);
/* Forgets everything without calling the forget callback: running work is
 * cancelled and result files are deleted unless persistent (nobody could
 * fetch them any more). References held elsewhere stay valid. */
void cg_tracker_free(CgTracker *tracker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgTracker, cg_tracker_free)

/* Replace the clock (tests). With a custom clock the tracker arms no GLib
 * timer: the caller runs cg_tracker_process_timers() after moving time. */
void cg_tracker_set_clock(CgTracker *tracker, CgClockFunc clock, gpointer user_data);
/* Handle everything due now: flush coalesced updates whose interval passed,
 * time out generations, forget old ones. Returns the monotonic µs of the
 * next deadline, or G_MAXINT64 when nothing is pending. Only the active
 * generations are scanned; the sweep over all records (finished_ttl_s,
 * max_age_s) runs when one is due, at most once per second. */
gint64 cg_tracker_process_timers(CgTracker *tracker);

/* A new generation in stage initializing, status in_progress, sequence 0
 * (no update sent yet). The id is a fresh random 32-hex-digit string.
 * @options NULL: the defaults. The returned pointer is borrowed: the
 * tracker holds it until it is forgotten (cg_generation_ref() to keep it
 * longer). */
CgGeneration *cg_tracker_add(CgTracker *tracker, const char *transaction_id, guint32 owner_uid,
			     const char *owner_label, const CgGenerationOptions *options);
CgGeneration *cg_tracker_lookup(CgTracker *tracker, const char *progress_id);
guint cg_tracker_count(CgTracker *tracker);
/* Number of generations still in progress: overall, or of one owner (uid
 * and owner label, NULL for none, as given to cg_tracker_add()). */
guint cg_tracker_count_active(CgTracker *tracker);
guint cg_tracker_count_active_for_owner(CgTracker *tracker, guint32 uid, const char *owner_label);
/* All generations, oldest first (borrowed pointers; free the array with
 * g_ptr_array_unref()). */
GPtrArray *cg_tracker_list(CgTracker *tracker);
/* The generations still in progress, in no particular order (borrowed
 * pointers, a copy of the set: the caller may end them while it walks). */
GPtrArray *cg_tracker_list_active(CgTracker *tracker);

/* Progress report from the worker. Moving to a later stage sends at once
 * (stage_progress of the left stage is taken as 100 for its duration); an
 * update inside the current stage is sent at once when the interval since
 * the last sent update has passed, otherwise kept and flushed when it has.
 * Reports for an earlier stage, or for a finished generation, are ignored.
 * Inside a stage, stage_progress never goes down (a lower value keeps the
 * highest seen), and the overall progress never decreases.
 * @pages_done/@pages_total: page counters of the batch (0 when unknown:
 * the last known counters stay). @message: NULL for the stage's default
 * text. @stage must be before CG_STAGE_COMPLETED (use complete()). */
void cg_tracker_report(CgTracker *tracker, CgGeneration *generation, CgStage stage,
		       guint stage_progress, guint pages_done, guint pages_total,
		       const char *message);

/* Terminal transitions; each sends the terminal update at once (a pending
 * coalesced update is merged into it, never sent after it) and never again
 * any update for it. The terminal update's expected_end_us is the finish
 * time (as is the analytics' finished_at_us).
 * complete: stage download_ready then completed with the result: an update
 * for download_ready (unless already there), then the terminal one with
 * `result`. The tracker keeps its own copy of @result; pages_done and
 * pages_total become result->pages. A generation with validate_only has
 * neither file nor numbers: @result gives its pages only, none is kept, and
 * it goes straight to completed without `result`.
 * fail: status failed; error/error_message from @error (cg_error_to_dbus_name);
 * the message becomes error->message too. A cancellation error
 * (G_IO_ERROR_CANCELLED, CG_ERROR_CANCELLED, CG_ERROR_TIMED_OUT) is handed
 * to finish_cancelled() instead.
 * finish_cancelled: status cancelled, or timed_out if the timeout fired.
 * Once a cancel or the timeout was accepted (cg_tracker_cancel() returned
 * TRUE, or the timeout fired), the cause decides: fail() and complete()
 * act as finish_cancelled(), and complete() deletes result->path (even
 * when persistent: cancelled work leaves no file), so a successful Cancel
 * is never followed by `completed` or `failed`.
 * Once a generation has ended, these calls do nothing (complete() then
 * deletes result->path: nobody could fetch it). */
void cg_tracker_complete(CgTracker *tracker, CgGeneration *generation, const CgResult *result);
void cg_tracker_fail(CgTracker *tracker, CgGeneration *generation, const GError *error);
/* cg_tracker_fail(), and for CG_ERROR_INVALID_DATA with @problems (may be
 * NULL) the failed snapshot and update carry them as "errors" (aa{sv}:
 * "path" s, "message" s; at most CG_PROBLEMS_MAX). */
void cg_tracker_fail_with_problems(CgTracker *tracker, CgGeneration *generation,
				   const GError *error, const CgProblems *problems);
void cg_tracker_finish_cancelled(CgTracker *tracker, CgGeneration *generation);

/* Ask the work to stop: cancels the generation's GCancellable. The terminal
 * update (cancelled) comes when the worker reports back, whichever way:
 * finish_cancelled(), fail() or complete() (work that had already finished:
 * its file is deleted). No update is sent by the call itself; later ones
 * say `cancellable` false.
 * Errors: CG_ERROR_ALREADY_FINISHED once ended (checked first), then
 * CG_ERROR_NOT_CANCELLABLE without enable_cancellation. A second call while
 * the work is stopping (cancel requested or timed out) succeeds and changes
 * nothing: the terminal status stays the first cause. */
gboolean cg_tracker_cancel(CgTracker *tracker, CgGeneration *generation, GError **error);

/* Forget finished generations now, with the forget callback and file
 * deletion: those of @uid, persistent ones included; or, when @uid is -1,
 * every one that is not persistent (a persistent result goes only by its
 * owner's cleanup or at keep_s). Running ones are kept. Returns how many. */
guint cg_tracker_cleanup(CgTracker *tracker, gint64 uid);

/* A completed generation as it is kept across restarts (persistence): what
 * cg_tracker_restore() needs to bring it back as it was, so that its
 * snapshot and analytics read as before. Strings are borrowed. */
typedef struct {
	const char *id; /* 32 lowercase hex digits */
	const char *transaction_id;
	guint32 owner_uid;
	const char *owner_label; /* or NULL */
	const char *template_id;
	CgOutputFormat output_format;
	const char *message;
	guint64 sequence; /* of its terminal update */
	gint64 started_at_us;
	guint32 finished_ms;  /* after the start */
	guint32 last_sent_ms; /* after the start */
	guint8 reached;	      /* bit per stage reached */
	guint32 stage_ms[CG_STAGE_COMPLETED];
	CgResult result; /* borrowed strings; path is the file */
} CgGenerationRecord;

/* Whether @id is a generation id as cg_tracker_add() makes them: 32
 * lowercase hex digits (checked before an id read back from storage is
 * used or logged). */
gboolean cg_generation_id_is_valid(const char *id);

/* Fills @record from a completed generation with a result (borrowed from
 * @generation); FALSE for any other. */
gboolean cg_generation_get_record(const CgGeneration *generation, CgGenerationRecord *record);
/* Brings back a persistent completed generation from its record (the
 * registry's row after a restart), forgotten keep_s after its end like the
 * others. NULL with CG_ERROR_FAILED when the record is not one (bad id,
 * stage bits or counters) or its id is tracked already. */
CgGeneration *cg_tracker_restore(CgTracker *tracker, const CgGenerationRecord *record,
				 GError **error);

/* Accessors. */
const char *cg_generation_get_id(const CgGeneration *generation);
const char *cg_generation_get_transaction_id(const CgGeneration *generation);
guint32 cg_generation_get_owner_uid(const CgGeneration *generation);
const char *cg_generation_get_owner_label(const CgGeneration *generation); /* or NULL */
CgStage cg_generation_get_stage(const CgGeneration *generation);
CgStatus cg_generation_get_status(const CgGeneration *generation);
double cg_generation_get_progress(const CgGeneration *generation);
guint64 cg_generation_get_sequence(const CgGeneration *generation);
gboolean cg_generation_get_cancel_on_disconnect(const CgGeneration *generation);
gboolean cg_generation_get_persistent(const CgGeneration *generation);
/* Whether @generation is a result its tracker keeps keep_s after its end:
 * completed with a result, started with enable_persistence, keep_s > 0
 * (what the registry keeps across restarts and the per-owner cap counts). */
gboolean cg_generation_get_kept(const CgGeneration *generation);
gboolean cg_generation_get_validate_only(const CgGeneration *generation);
/* The template it was started with: "template_id" of its updates ("" until
 * set). Set once, right after cg_tracker_add(); kept interned, so only ids
 * of templates that exist may be set (they are few). */
void cg_generation_set_template_id(CgGeneration *generation, const char *template_id);
const char *cg_generation_get_template_id(const CgGeneration *generation);
/* What the template's history (CgStatistics) expects: @page_ms per page in
 * pdf_generation and @tail_ms for the stages after it (0, 0: no history).
 * expected_end_us then comes from it as soon as pages_total is known:
 * now + pages left x ms per page + @tail_ms, the ms per page blended from
 * @page_ms towards the rate observed in pdf_generation as pages are done
 * (weight done / (done + 100)); after pdf_generation, what is left of
 * @tail_ms. Not used with validate_only. Set right after cg_tracker_add(). */
void cg_generation_set_history(CgGeneration *generation, double page_ms, double tail_ms);
/* The result once completed, else NULL. */
const CgResult *cg_generation_get_result(const CgGeneration *generation);
/* The cancellable the worker checks; valid until the generation finishes.
 * Returns a new reference. Created on first use (already cancelled if a
 * cancel or timeout came first); the tracker drops its own reference when
 * the generation ends; for an ended one a cancelled one is returned. */
GCancellable *cg_generation_ref_cancellable(CgGeneration *generation);
/* Opaque pointer for the engine (its subscriber list); not freed by
 * the tracker. */
gpointer cg_generation_get_user_data(const CgGeneration *generation);
void cg_generation_set_user_data(CgGeneration *generation, gpointer data);

/* The current state as a{sv} with the keys of a ProgressChanged update
 * (see the interface XML); floating reference. It holds the latest reported
 * values (even those a coalesced update has not sent yet) and the sequence
 * of the last update sent, with timestamp_us that update's time.
 * `cancellable` is true only while in progress, with enable_cancellation,
 * and before any cancel or timeout.
 * `expected_end_us`: while running, from the history when there is one
 * (cg_generation_set_history()), else started_at_us + elapsed × 100 /
 * progress once progress > 0 and time has passed, else 0; when ended, the
 * finish time. */
GVariant *cg_generation_snapshot(const CgGeneration *generation);
/* Analytics a{sv}: total_duration_ms, average_progress_rate,
 * stage_durations a{st}, status, started_at_us, finished_at_us.
 * While running, durations run to now and finished_at_us is 0;
 * stage_durations has one entry per stage reached (skipped stages are
 * absent; completed counts 0 ms); average_progress_rate is the overall
 * progress divided by the total duration in seconds (0 at 0 ms). Times are
 * kept with millisecond resolution. */
GVariant *cg_generation_analytics(const CgGeneration *generation);

/* Keep a generation beyond its forgetting (thread-safe refcount). A
 * forgotten generation ignores every report and terminal call. */
CgGeneration *cg_generation_ref(CgGeneration *generation);
void cg_generation_unref(CgGeneration *generation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgGeneration, cg_generation_unref)

/* sizeof the per-generation record (benchmarks). */
gsize cg_tracker_get_record_size(void);

G_END_DECLS

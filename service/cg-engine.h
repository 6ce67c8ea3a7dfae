/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-config.h"
#include "cg-tracker.h"

G_BEGIN_DECLS

/*
 * CgEngine: what certgend does, without the bus. It owns the tracker (the one
 * record of every generation), the pipeline that runs them, the template
 * store, the certificate counter, the start rate limit, the caps and the
 * subscriptions (who receives a generation's updates, and how many each
 * connection holds). Callers pass who they are as a CgCaller (learnt and
 * authorized by the bus face, cg-manager.c) and plain arguments; every
 * failure is a CG_ERROR. Main-thread only.
 *
 * Updates leave through the update callback, once per receiving connection
 * (the starter and the subscribers); the bus face sends each as a unicast
 * ProgressChanged signal. A terminal update is the last one a connection
 * gets for that generation.
 */

typedef struct _CgEngine CgEngine;

/* Who calls. */
typedef struct {
	guint32 uid;
	/* The owner label a delegate starts for (StartGeneration only), or NULL. */
	const char *owner_label;
	/* Where this caller's updates go (a unique bus name), or NULL for none. */
	const char *connection;
	/* May see and manage every generation (manage-all). */
	gboolean is_admin;
} CgCaller;

/* @connections (@n_connections of them, at least one) are to receive
 * @update (a{sv}, borrowed) of @progress_id: called once per update, so the
 * message is built once however many receive it. */
typedef void (*CgEngineUpdateFunc)(const char *const *connections, guint n_connections,
				   const char *progress_id, GVariant *update, gpointer user_data);
/* The number of active or tracked generations changed. */
typedef void (*CgEngineStatusFunc)(CgEngine *engine, gpointer user_data);

/* Creates DIR/certificates in @state_dir and the counter there. */
CgEngine *cg_engine_new(const CgConfig *config, const char *const *template_dirs,
			const char *state_dir, GError **error);
/* Cancels every generation in progress, joins the workers (their last
 * reports still go out through the update callback), then forgets
 * everything: files of generations not asked to persist are deleted. */
void cg_engine_free(CgEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgEngine, cg_engine_free)

void cg_engine_set_update_func(CgEngine *engine, CgEngineUpdateFunc func, gpointer user_data);
void cg_engine_set_status_func(CgEngine *engine, CgEngineStatusFunc func, gpointer user_data);
/* The bus face is behind (TRUE: what it was given is still being written)
 * or caught up (FALSE). While it is behind, a generation's reports inside
 * its current stage wait, the latest replacing the one before, and go to
 * the tracker when it catches up; stage changes and terminal updates go at
 * once. Without it (no bus, tests) every report goes at once. */
void cg_engine_set_backlogged(CgEngine *engine, gboolean backlogged);

/* The checks of StartGeneration's arguments that need nobody's identity:
 * transaction_id (1–128 bytes) and template_id without control characters
 * (CG_ERROR_INVALID_ARGUMENT), the template exists
 * (CG_ERROR_TEMPLATE_NOT_FOUND), data_json within max_data_bytes and UTF-8
 * (CG_ERROR_INVALID_DATA). Nothing is created. cg_engine_check_ids() is its
 * first part (the string arguments), cg_engine_check_content() the rest. */
gboolean cg_engine_check_ids(const char *transaction_id, const char *template_id, GError **error);
gboolean cg_engine_check_content(CgEngine *engine, const char *template_id, const char *data_json,
				 GError **error);
gboolean cg_engine_check_start(CgEngine *engine, const char *transaction_id,
			       const char *template_id, const char *data_json, GError **error);

/* Start a generation for @caller (owner: its uid and owner_label) with
 * arguments that passed cg_engine_check_start(). Refused with
 * CG_ERROR_RATE_LIMITED (start_per_minute per owner) or
 * CG_ERROR_LIMIT_EXCEEDED (max_active_per_owner, max_active, max_tracked).
 * caller->connection receives the updates. Returns the progress id. */
char *cg_engine_start(CgEngine *engine, const CgCaller *caller, const char *transaction_id,
		      const char *template_id, const char *data_json,
		      const CgGenerationOptions *options, GError **error);

/* Methods on one generation: CG_ERROR_NOT_FOUND unless it exists and
 * @caller owns it (same uid) or is_admin, the same answer for both, so ids
 * cannot be probed. */
gboolean cg_engine_cancel(CgEngine *engine, const CgCaller *caller, const char *progress_id,
			  GError **error);
/* Floating a{sv}. */
GVariant *cg_engine_get_progress(CgEngine *engine, const CgCaller *caller, const char *progress_id,
				 GError **error);
GVariant *cg_engine_get_analytics(CgEngine *engine, const CgCaller *caller, const char *progress_id,
				  GError **error);
/* caller->connection receives the generation's further updates; a finished
 * one has none (success, nothing kept). Other than the starter's own, at
 * most max_subscriptions_per_connection per connection
 * (CG_ERROR_LIMIT_EXCEEDED). Subscribing twice is once. */
gboolean cg_engine_subscribe(CgEngine *engine, const CgCaller *caller, const char *progress_id,
			     GError **error);
gboolean cg_engine_unsubscribe(CgEngine *engine, const CgCaller *caller, const char *progress_id,
			       GError **error);
/* A read-only file descriptor of the finished certificate, or -1 with
 * CG_ERROR_NOT_READY (not completed, or validate_only: no file) or CG_ERROR_FAILED. */
int cg_engine_open_certificate(CgEngine *engine, const CgCaller *caller, const char *progress_id,
			       GError **error);

/* Snapshots (floating aa{sv}) of the caller's generations, or all for an
 * administrator, oldest first. */
GVariant *cg_engine_list(CgEngine *engine, const CgCaller *caller);
/* Every template that loads (CgTemplate* references, sorted by id; see
 * cg_template_store_list()): what StartGeneration accepts. Anyone who may
 * generate may ask, so it takes no caller. The templates are loaded (or
 * checked against their files) off the main loop, in a thread of GLib's
 * pool; cg_engine_free() waits for a listing still running. The callback
 * comes on the calling thread's main context. */
void cg_engine_list_templates_async(CgEngine *engine, GAsyncReadyCallback callback,
				    gpointer user_data);
GPtrArray *cg_engine_list_templates_finish(GAsyncResult *result, GError **error);
/* GetStatistics' a{sv} (floating; see CgStatistics): aggregates of the last
 * finished generations, kept in STATE_DIR/statistics.json across restarts.
 * Anyone who may generate may ask, so it takes no caller. The same window
 * gives each new generation its template's history for expected_end_us. */
GVariant *cg_engine_get_statistics(CgEngine *engine);
/* RenderPreview: page @page (1-based, recipient @page) of what
 * StartGeneration would make of @template_id and @data_json, as PNG (see
 * cg-preview.h): no number is reserved, nothing is tracked. The same checks
 * as StartGeneration's (cg_engine_check_content(), then the data against
 * the template's rules: CG_ERROR_INVALID_DATA), a page out of range
 * (CG_ERROR_INVALID_ARGUMENT), at most preview_per_minute per owner
 * (CG_ERROR_RATE_LIMITED; a refused or failed preview does not count). The
 * work runs in a thread of GLib's pool; cg_engine_free() waits for it. The
 * callback comes on the calling thread's main context, the finish function
 * gives the PNG's file descriptor (read-only, sealed) or -1. */
void cg_engine_render_preview_async(CgEngine *engine, const CgCaller *caller,
				    const char *template_id, const char *data_json, guint page,
				    GAsyncReadyCallback callback, gpointer user_data);
int cg_engine_render_preview_finish(CgEngine *engine, GAsyncResult *result, GError **error);
/* Forget the caller's finished generations now (all for an administrator).
 * Returns how many. */
guint cg_engine_cleanup(CgEngine *engine, const CgCaller *caller);

/* Verify: the public record (floating a{sv}, see cg-record.h) of
 * @certificate_number when @code is its verification code; anyone may ask.
 * CG_ERROR_NOT_FOUND, one message for an unknown number and a wrong code. */
GVariant *cg_engine_verify(CgEngine *engine, const char *certificate_number, const char *code,
			   GError **error);
/* Revoke: for the uid that issued it or is_admin (others CG_ERROR_NOT_FOUND,
 * the answer an unknown number gets), CG_ERROR_ALREADY_REVOKED, or
 * CG_ERROR_INVALID_ARGUMENT for a bad @reason. */
gboolean cg_engine_revoke(CgEngine *engine, const CgCaller *caller, const char *certificate_number,
			  const char *reason, GError **error);
/* Whether @certificate_number was issued by a generation of @uid. */
gboolean cg_engine_is_certificate_owner(CgEngine *engine, guint32 uid,
					const char *certificate_number);

/* Whether @progress_id exists and belongs to @uid (the bus face asks
 * polkit about manage-all only when not). */
gboolean cg_engine_is_owner(CgEngine *engine, guint32 uid, const char *progress_id);
/* @connection left: it receives nothing any more, its subscriptions are
 * dropped, and what it started with cancel_on_disconnect is cancelled. */
void cg_engine_connection_closed(CgEngine *engine, const char *connection);

guint cg_engine_count_active(CgEngine *engine);
guint cg_engine_count_tracked(CgEngine *engine);
/* Subscriptions of @connection that count against its cap. */
guint cg_engine_count_subscriptions(CgEngine *engine, const char *connection);

G_END_DECLS

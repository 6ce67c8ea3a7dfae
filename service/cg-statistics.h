/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-stage.h"

G_BEGIN_DECLS

/*
 * CgStatistics: the sliding window of the last finished generations
 * (GetStatistics, and the history the ETA starts from). Pure data, no
 * D-Bus: entries in, percentiles and an a{sv} out. The registry keeps the
 * window across restarts (cg-statistics-store.c); an older certgend's
 * <state_dir>/statistics.json is read once to migrate it. Main-thread only.
 *
 * Every finished generation counts in `by_status` and in its template's
 * `generations`; the timings (stage and page percentiles) and `pages` come
 * from completed ones only, as a failed or cancelled run stops part-way.
 * Percentiles are nearest-rank.
 */

typedef struct _CgStatistics CgStatistics;

/* Generations the window holds by default. */
#define CG_STATISTICS_WINDOW 1000
/* The file in the state directory. */
#define CG_STATISTICS_FILE "statistics.json"

/* One finished generation. */
typedef struct {
	const char *template_id;
	CgStatus status; /* terminal */
	guint pages;
	/* ms per stage before completed; -1: not reached */
	gint64 stage_ms[CG_STAGE_COMPLETED];
} CgStatisticsEntry;

/* @window: generations kept (0: CG_STATISTICS_WINDOW). */
CgStatistics *cg_statistics_new(guint window);
void cg_statistics_free(CgStatistics *statistics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgStatistics, cg_statistics_free)

/* Adds @entry (copied), dropping the oldest beyond the window. */
void cg_statistics_add(CgStatistics *statistics, const CgStatisticsEntry *entry);
/* The entry of a generation from its analytics a{sv} (cg_generation_analytics:
 * status and stage_durations), its template and its pages. FALSE when the
 * analytics are not those of a finished generation. */
gboolean cg_statistics_add_analytics(CgStatistics *statistics, const char *template_id, guint pages,
				     GVariant *analytics);
guint cg_statistics_get_count(CgStatistics *statistics);
guint cg_statistics_get_window(CgStatistics *statistics);

/* The median ms per page of @template_id's completed generations: FALSE
 * when there is none with pages. */
gboolean cg_statistics_get_page_ms_p50(CgStatistics *statistics, const char *template_id,
				       double *page_ms);
/* The median ms of @stage in @template_id's completed generations, 0 when
 * none reached it. */
double cg_statistics_get_stage_ms_p50(CgStatistics *statistics, const char *template_id,
				      CgStage stage);

/* GetStatistics' a{sv} (floating): window u, by_status a{st}, templates
 * a{sa{sv}} (generations t, pages t, stage_ms_p50 a{sd}, stage_ms_p95 a{sd},
 * page_ms_p50 d, page_ms_p95 d). */
GVariant *cg_statistics_to_variant(CgStatistics *statistics);

/* Stored forms. The registry keeps the window (cg-statistics-store.c):
 * the entries added since the last save are the newest `unsaved` ones. */
guint cg_statistics_get_unsaved(CgStatistics *statistics);
void cg_statistics_mark_saved(CgStatistics *statistics);
/* Entry @index, 0 the oldest (borrowed strings); FALSE past the end. */
gboolean cg_statistics_get_entry(CgStatistics *statistics, guint index, CgStatisticsEntry *entry);
/* The stage_ms of an entry as "12,0,3,-1,...": one per timed stage. */
char *cg_statistics_stage_ms_to_text(const gint64 *stage_ms);
/* Appends a stored entry (a registry row) without counting it as unsaved:
 * FALSE, and nothing added, when a field is not what the service writes
 * (a template id that is not a checked string, an unknown status, stage
 * text not of cg_statistics_stage_ms_to_text()). */
gboolean cg_statistics_add_stored(CgStatistics *statistics, const char *template_id,
				  const char *status, guint pages, const char *stage_ms);

/* The old file (<state_dir>/statistics.json, before the registry held the
 * window): its text, and reading it over the window (the newest @window of
 * its entries), to migrate it. A missing file is an empty window. A file
 * that is not one: CG_ERROR_FAILED and the window unchanged. */
char *cg_statistics_to_json(CgStatistics *statistics, gsize *length);
gboolean cg_statistics_load(CgStatistics *statistics, const char *state_dir, GError **error);

G_END_DECLS

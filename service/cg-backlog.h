/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-tracker.h"

G_BEGIN_DECLS

/*
 * CgBacklog: the in-stage progress reports of the pipeline held back while
 * the bus is behind (certgend's connection still writes what it was given),
 * one per generation, the latest replacing the one before. The reports are
 * absolute (stage, percent, pages done), so the latest says all the held
 * ones said; as they never reached the tracker, no update is lost and the
 * sequence has no gap. The engine decides what may wait (cg-engine.c:
 * pipeline_progress_cb); stage changes and terminal updates never do.
 * Main-thread only.
 */

typedef struct _CgBacklog CgBacklog;

typedef void (*CgBacklogReportFunc)(CgGeneration *generation, CgStage stage, guint stage_progress,
				    guint pages_done, guint pages_total, const char *message,
				    gpointer user_data);

CgBacklog *cg_backlog_new(void);
void cg_backlog_free(CgBacklog *backlog);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgBacklog, cg_backlog_free)

/* Holds the report, replacing the one of @generation held before. */
void cg_backlog_hold(CgBacklog *backlog, CgGeneration *generation, CgStage stage,
		     guint stage_progress, guint pages_done, guint pages_total,
		     const char *message);
/* Forgets the report held for @generation (a later one made it obsolete). */
void cg_backlog_drop(CgBacklog *backlog, CgGeneration *generation);
/* Hands every held report to @func, oldest first, and forgets it; reports
 * held from @func wait for the next release. */
void cg_backlog_release(CgBacklog *backlog, CgBacklogReportFunc func, gpointer user_data);
guint cg_backlog_get_length(const CgBacklog *backlog);

G_END_DECLS

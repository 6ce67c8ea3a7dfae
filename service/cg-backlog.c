/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The held reports (see cg-backlog.h): a queue in the order generations
 * were first held, and a table from the generation to its place in it, so
 * holding, replacing and dropping are O(1) however many generations wait.
 */
#include "cg-backlog.h"

typedef struct {
	CgGeneration *generation; /* a reference */
	CgStage stage;
	guint stage_progress;
	guint pages_done;
	guint pages_total;
	char *message;
	GList link; /* in CgBacklog.queue */
} CgHeldReport;

struct _CgBacklog {
	GQueue queue;	  /* CgHeldReport, oldest first */
	GHashTable *held; /* CgGeneration* → CgHeldReport* (in queue) */
};

static void
cg_held_report_free(CgHeldReport *report)
{
	cg_generation_unref(report->generation);
	g_free(report->message);
	g_free(report);
}

CgBacklog *
cg_backlog_new(void)
{
	CgBacklog *backlog = g_new0(CgBacklog, 1);

	g_queue_init(&backlog->queue);
	backlog->held = g_hash_table_new(g_direct_hash, g_direct_equal);
	return backlog;
}

void
cg_backlog_free(CgBacklog *backlog)
{
	GList *link;

	if (backlog == NULL)
		return;
	while ((link = g_queue_pop_head_link(&backlog->queue)) != NULL)
		cg_held_report_free(link->data);
	g_hash_table_unref(backlog->held);
	g_free(backlog);
}

void
cg_backlog_hold(CgBacklog *backlog, CgGeneration *generation, CgStage stage, guint stage_progress,
		guint pages_done, guint pages_total, const char *message)
{
	CgHeldReport *report = g_hash_table_lookup(backlog->held, generation);

	if (report == NULL) {
		report = g_new0(CgHeldReport, 1);
		report->generation = cg_generation_ref(generation);
		report->link.data = report;
		g_queue_push_tail_link(&backlog->queue, &report->link);
		g_hash_table_insert(backlog->held, generation, report);
	}
	report->stage = stage;
	report->stage_progress = stage_progress;
	report->pages_done = pages_done;
	report->pages_total = pages_total;
	g_free(report->message);
	report->message = g_strdup(message);
}

void
cg_backlog_drop(CgBacklog *backlog, CgGeneration *generation)
{
	CgHeldReport *report = g_hash_table_lookup(backlog->held, generation);

	if (report == NULL)
		return;
	g_hash_table_remove(backlog->held, generation);
	g_queue_unlink(&backlog->queue, &report->link);
	cg_held_report_free(report);
}

void
cg_backlog_release(CgBacklog *backlog, CgBacklogReportFunc func, gpointer user_data)
{
	GQueue released = backlog->queue;
	GList *link;

	g_queue_init(&backlog->queue);
	g_hash_table_remove_all(backlog->held);
	while ((link = g_queue_pop_head_link(&released)) != NULL) {
		CgHeldReport *report = link->data;

		func(report->generation, report->stage, report->stage_progress, report->pages_done,
		     report->pages_total, report->message, user_data);
		cg_held_report_free(report);
	}
}

guint
cg_backlog_get_length(const CgBacklog *backlog)
{
	return backlog->queue.length;
}

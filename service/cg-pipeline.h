/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-registry.h"
#include "cg-stage.h"
#include "cg-template.h"
#include "cg-tracker.h"

G_BEGIN_DECLS

/*
 * The generation pipeline: a bounded pool of worker threads, each running one
 * generation's stages (template_loading → data_validation → pdf_generation →
 * file_preparation) for real. Workers never touch the tracker: their reports
 * are queued and delivered on the main context, in order, through the
 * callbacks given to cg_pipeline_new().
 *
 * Cancelling a job's GCancellable while it still waits for a worker takes it
 * out of the queue at once: its done callback (G_IO_ERROR_CANCELLED) comes
 * on the main context's next iteration, and no worker ever sees it. A
 * running job checks the cancellable between stages and per page.
 */

typedef struct _CgPipeline CgPipeline;

typedef struct {
	CgTemplateStore *templates; /* borrowed, thread-safe */
	CgRegistry *registry;	    /* borrowed, thread-safe: numbers and rows */
	const char *base_url;	    /* [verification] base_url */
	const char *output_dir;
	guint max_recipients;
	gsize max_data_bytes;
	guint threads;
} CgPipelineConfig;

/* Main context: a stage report of @generation (borrowed for the call; it
 * may have been forgotten by the tracker meanwhile). */
typedef void (*CgPipelineProgressFunc)(CgGeneration *generation, CgStage stage,
				       guint stage_progress, guint pages_done, guint pages_total,
				       const char *message, gpointer user_data);
/* Main context: the end of the work: a result, or an error
 * (G_IO_ERROR_CANCELLED when it stopped because it was cancelled) and,
 * when data validation found them, its problems (NULL otherwise; the
 * error's message is their joined message). */
typedef void (*CgPipelineDoneFunc)(CgGeneration *generation, const CgResult *result,
				   const GError *error, const CgProblems *problems,
				   gpointer user_data);

CgPipeline *cg_pipeline_new(const CgPipelineConfig *config, CgPipelineProgressFunc progress,
			    CgPipelineDoneFunc done, gpointer user_data);
/* Stops and joins every worker thread once its current job ends (cancel
 * them first), so no worker and no thread-local state of one outlives this
 * call; jobs still queued are dropped unrun; the reports already queued are
 * delivered. */
void cg_pipeline_free(CgPipeline *pipeline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgPipeline, cg_pipeline_free)

/* Queue the work of @generation (main context): the job keeps a reference
 * to it until its done report is delivered, and checks its cancellable
 * (cg_generation_ref_cancellable(), taken now). The file is named after the
 * generation's id. @options (NULL: the defaults) say what to write
 * (output_format). @issued_at_us: wall-clock time stamped on the
 * certificate (PDF creation date, year of the number). A generation with
 * validate_only stops after data_validation: its done report has a result
 * with only `pages` set, and no number is reserved, no file written.
 *
 * A ZIP batch renders its pages on the worker that runs it and on any idle
 * worker (one more is started when the pool has room); a job queued
 * meanwhile takes a helping worker back after its current page. */
void cg_pipeline_submit(CgPipeline *pipeline, CgGeneration *generation, const char *template_id,
			const char *data_json, const CgGenerationOptions *options,
			gint64 issued_at_us);

G_END_DECLS

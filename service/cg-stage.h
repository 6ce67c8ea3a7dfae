/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The seven stages of a generation, in order (DESIGN.md). */
typedef enum {
	CG_STAGE_INITIALIZING,
	CG_STAGE_TEMPLATE_LOADING,
	CG_STAGE_DATA_VALIDATION,
	CG_STAGE_PDF_GENERATION,
	CG_STAGE_FILE_PREPARATION,
	CG_STAGE_DOWNLOAD_READY,
	CG_STAGE_COMPLETED,
	CG_N_STAGES
} CgStage;

typedef enum {
	CG_STATUS_IN_PROGRESS,
	CG_STATUS_COMPLETED,
	CG_STATUS_FAILED,
	CG_STATUS_CANCELLED,
	CG_STATUS_TIMED_OUT,
} CgStatus;

const char *cg_stage_to_string(CgStage stage);
const char *cg_status_to_string(CgStatus status);
gboolean cg_status_is_terminal(CgStatus status);

/* Overall progress 0.0–100.0 of being @stage_progress percent into @stage,
 * from the stage weights. */
double cg_stage_overall_progress(CgStage stage, guint stage_progress);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-stage.h"

#include "cg-contract.h"

static const char *const stage_names[CG_N_STAGES] = {CG_STAGE_NAMES};

G_STATIC_ASSERT(CG_N_STAGES == CG_N_STAGE_NAMES);

/* Percent of the whole each stage stands for; rendering dominates. */
static const guint stage_weights[CG_N_STAGES] = {2, 5, 8, 70, 13, 2, 0};

const char *
cg_stage_to_string(CgStage stage)
{
	g_return_val_if_fail(stage < CG_N_STAGES, "unknown");
	return stage_names[stage];
}

const char *
cg_status_to_string(CgStatus status)
{
	switch (status) {
	case CG_STATUS_IN_PROGRESS:
		return "in_progress";
	case CG_STATUS_COMPLETED:
		return "completed";
	case CG_STATUS_FAILED:
		return "failed";
	case CG_STATUS_CANCELLED:
		return "cancelled";
	case CG_STATUS_TIMED_OUT:
		return "timed_out";
	}
	return "unknown";
}

gboolean
cg_status_is_terminal(CgStatus status)
{
	return status != CG_STATUS_IN_PROGRESS;
}

double
cg_stage_overall_progress(CgStage stage, guint stage_progress)
{
	guint before = 0;

	g_return_val_if_fail(stage < CG_N_STAGES, 0.0);
	if (stage == CG_STAGE_COMPLETED)
		return 100.0;
	for (guint i = 0; i < stage; i++)
		before += stage_weights[i];
	return before + stage_weights[stage] * MIN(stage_progress, 100u) / 100.0;
}

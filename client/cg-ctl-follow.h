/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certgenctl: following a generation until its terminal update.
 *
 * Nothing is lost: cg_follow_new() installs the ProgressChanged match (with
 * sender= the unique name owning org.certgen.Certificates1) before the
 * caller starts the generation or Subscribes, cg_follow_run() then catches
 * up with GetProgress, and updates are ordered by their sequence (anything at
 * or below the last one seen is dropped). Signals from any other sender are
 * ignored. When the match cannot be installed, GetProgress is polled every
 * 200 ms instead. SIGINT/SIGTERM cancel the generation (with
 * CG_FOLLOW_CANCEL_ON_SIGNAL) or stop waiting.
 */
#pragma once

#include <systemd/sd-event.h>

#include "cg-ctl-bus.h"
#include "cg-ctl-progress.h"

typedef enum CgFollowFlags {
	CG_FOLLOW_SUBSCRIBE = 1 << 0,	     /* Subscribe before catching up (watch) */
	CG_FOLLOW_CANCEL_ON_SIGNAL = 1 << 1, /* SIGINT/SIGTERM call Cancel (generate) */
	CG_FOLLOW_POLL = 1 << 2,	     /* do not use signals, poll GetProgress */
	CG_FOLLOW_CSV_ROWS = 1 << 3, /* the data was CSV: InvalidData paths as rows and columns */
} CgFollowFlags;

#define CG_FOLLOW_POLL_INTERVAL_USEC (200 * USEC_PER_MSEC)

typedef struct CgFollow CgFollow;

/* Attaches the bus to an event loop, finds certgend's unique name (logs and
 * returns -CG_ERRNO_UNREACHABLE when it is not running), installs the
 * matches and the signal handlers. */
int cg_follow_new(sd_bus *bus, CgBusScope scope, CgProgress *output, CgFollowFlags flags,
		  CgFollow **ret);
CgFollow *cg_follow_free(CgFollow *f);

static inline void
cg_follow_freep(CgFollow **f)
{
	cg_follow_free(*f);
}

/* Whether updates arrive by polling (asked for, or signals unavailable). */
bool cg_follow_is_polling(const CgFollow *f);

/* Follows progress_id until its terminal update, which is returned.
 * -EINTR when waiting was interrupted without a terminal update,
 * -CG_ERRNO_UNREACHABLE when certgend left the bus, -CG_ERRNO_REFUSED when
 * it refused a call (all logged). */
int cg_follow_run(CgFollow *f, const char *progress_id, CgUpdate **ret_terminal);

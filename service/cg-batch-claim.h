/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * What a batch several threads work on shares (cg-pdf-batch.h's ranges,
 * cg-zip-batch.h's pages): items 0 .. n_items - 1 claimed one after
 * another from one counter, under one lock, by the thread that runs the
 * batch and by helpers from other threads; the number being worked on
 * (outside the lock); a stop flag (claim nothing more) and the first
 * failure. A batch embeds a CgBatchClaim and keeps what it makes of each
 * item itself, under the same lock.
 *
 * A worker claims with cg_batch_claim_begin() (lock held, released on
 * return), works, then cg_batch_claim_end() (lock taken again, waiters
 * woken: they see what the worker stores before it unlocks).
 */

/* A batch's progress function (a CgRenderPageFunc): after each page. */
typedef gboolean (*CgBatchPageFunc)(guint pages_done, guint pages_total, gpointer user_data);

typedef struct {
	GMutex lock;
	GCond cond;
	guint n_items; /* read-only after init */
	/* under @lock */
	guint claimed;	  /* items 0 .. claimed - 1 are claimed */
	guint working;	  /* items being worked on, outside the lock */
	gboolean stop;	  /* claim nothing more */
	GError *error;	  /* the first failure */
	guint pages_done; /* cg_batch_claim_page_done()'s count */
	/* read-only after cg_batch_claim_set_progress() */
	guint pages_total;
	CgBatchPageFunc page_done;
	gpointer page_data;
} CgBatchClaim;

/* Called between items: TRUE makes a helper leave (e.g. other work waits). */
typedef gboolean (*CgBatchLeaveFunc)(gpointer user_data);

/* Under the lock: one step of a helper's work (claim and work on an item,
 * or wait for one to become claimable), with the batch's @batch. */
typedef void (*CgBatchStepFunc)(gpointer batch);

void cg_batch_claim_init(CgBatchClaim *claim, guint n_items);
void cg_batch_claim_clear(CgBatchClaim *claim);

/* Under the lock: TRUE while an item is left to claim and not stopped. */
gboolean cg_batch_claim_open(const CgBatchClaim *claim);

/* Takes the lock: cg_batch_claim_open(). */
gboolean cg_batch_claim_wants_help(CgBatchClaim *claim);

/* Under the lock: stops the batch with @error (taken), unless it failed
 * already. */
void cg_batch_claim_fail(CgBatchClaim *claim, GError *error);

/* Under the lock: claims the next item (cg_batch_claim_open() must hold),
 * counts it as worked on and releases the lock. */
guint cg_batch_claim_begin(CgBatchClaim *claim);

/* Takes the lock again after cg_batch_claim_begin()'s work: counts it
 * done, fails the batch with @error (taken) when not NULL, wakes the
 * waiters. The caller stores the item's result, then unlocks. */
void cg_batch_claim_end(CgBatchClaim *claim, GError *error);

/* A helper's share: @step under the lock while the batch is open, until it
 * is not or @leave (may be NULL; called without the lock, so it may take
 * its caller's locks) says so. */
void cg_batch_claim_help(CgBatchClaim *claim, CgBatchStepFunc step, gpointer batch,
			 CgBatchLeaveFunc leave, gpointer user_data);

/* Before any item is worked on: the batch's @pages_total pages are
 * reported to @page_done (may be NULL) with @user_data. */
void cg_batch_claim_set_progress(CgBatchClaim *claim, guint pages_total, CgBatchPageFunc page_done,
				 gpointer user_data);

/* A CgRenderPageFunc for every item's rendering, @user_data the claim:
 * any thread, without the lock, after a page of any item is rendered,
 * counts it and calls the page function with the count so far, so the
 * calls come 1, 2, ... in order and never two at once. FALSE (render no
 * further page) once the batch is stopped, or when the page function says
 * so: the batch then stops with G_IO_ERROR_CANCELLED. */
gboolean cg_batch_claim_page_done(guint item_done, guint item_total, gpointer user_data);

/* Under the lock: nothing more is claimed; the waiters are woken. An item
 * worked on still ends (cg-pdf-batch.c's page function sees the stop). */
void cg_batch_claim_stop(CgBatchClaim *claim);

/* Under the lock: waits until no item is worked on (then no helper touches
 * the batch's borrowed data until it claims again). */
void cg_batch_claim_wait_idle(CgBatchClaim *claim);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The claim loop cg-pdf-batch.c and cg-zip-batch.c share
 * (cg-batch-claim.h): one counter, one lock, one condition. */
#include "cg-batch-claim.h"

void
cg_batch_claim_init(CgBatchClaim *claim, guint n_items)
{
	g_mutex_init(&claim->lock);
	g_cond_init(&claim->cond);
	claim->n_items = n_items;
	claim->claimed = 0;
	claim->working = 0;
	claim->stop = FALSE;
	claim->error = NULL;
	claim->pages_done = 0;
	claim->pages_total = 0;
	claim->page_done = NULL;
	claim->page_data = NULL;
}

void
cg_batch_claim_clear(CgBatchClaim *claim)
{
	g_clear_error(&claim->error);
	g_mutex_clear(&claim->lock);
	g_cond_clear(&claim->cond);
}

gboolean
cg_batch_claim_open(const CgBatchClaim *claim)
{
	return !claim->stop && claim->claimed < claim->n_items;
}

gboolean
cg_batch_claim_wants_help(CgBatchClaim *claim)
{
	gboolean wants;

	g_mutex_lock(&claim->lock);
	wants = cg_batch_claim_open(claim);
	g_mutex_unlock(&claim->lock);
	return wants;
}

void
cg_batch_claim_fail(CgBatchClaim *claim, GError *error)
{
	if (claim->error == NULL)
		claim->error = error;
	else
		g_error_free(error);
	claim->stop = TRUE;
}

guint
cg_batch_claim_begin(CgBatchClaim *claim)
{
	guint item;

	g_assert(claim->claimed < claim->n_items);
	item = claim->claimed++;
	claim->working++;
	g_mutex_unlock(&claim->lock);
	return item;
}

void
cg_batch_claim_end(CgBatchClaim *claim, GError *error)
{
	g_mutex_lock(&claim->lock);
	claim->working--;
	if (error != NULL)
		cg_batch_claim_fail(claim, error);
	g_cond_broadcast(&claim->cond);
}

void
cg_batch_claim_help(CgBatchClaim *claim, CgBatchStepFunc step, gpointer batch,
		    CgBatchLeaveFunc leave, gpointer user_data)
{
	for (;;) {
		gboolean open;

		/* outside the lock: @leave may take its caller's locks */
		if (leave != NULL && leave(user_data))
			return;
		g_mutex_lock(&claim->lock);
		open = cg_batch_claim_open(claim);
		if (open)
			step(batch);
		g_mutex_unlock(&claim->lock);
		if (!open)
			return;
	}
}

void
cg_batch_claim_set_progress(CgBatchClaim *claim, guint pages_total, CgBatchPageFunc page_done,
			    gpointer user_data)
{
	claim->pages_total = pages_total;
	claim->page_done = page_done;
	claim->page_data = user_data;
}

gboolean
cg_batch_claim_page_done(guint item_done, guint item_total, gpointer user_data)
{
	CgBatchClaim *claim = user_data;
	gboolean go_on;

	(void)item_done;
	(void)item_total;
	g_mutex_lock(&claim->lock);
	go_on = !claim->stop;
	if (go_on) {
		claim->pages_done++;
		if (claim->page_done != NULL &&
		    !claim->page_done(claim->pages_done, claim->pages_total, claim->page_data)) {
			cg_batch_claim_fail(claim,
					    g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED,
							"Rendering stopped after page %u of %u",
							claim->pages_done, claim->pages_total));
			go_on = FALSE;
		}
	}
	g_mutex_unlock(&claim->lock);
	return go_on;
}

void
cg_batch_claim_stop(CgBatchClaim *claim)
{
	claim->stop = TRUE;
	g_cond_broadcast(&claim->cond);
}

void
cg_batch_claim_wait_idle(CgBatchClaim *claim)
{
	while (claim->working > 0)
		g_cond_wait(&claim->cond, &claim->lock);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A batch's page function under test (cg-test-progress.h). */
#include "cg-test-progress.h"

gboolean
cg_test_progress_page_done(guint pages_done, guint pages_total, gpointer user_data)
{
	CgTestProgress *progress = user_data;
	gboolean go_on = TRUE;

	g_assert_true(g_mutex_trylock(&progress->lock)); /* never two at once */
	g_assert_cmpuint(pages_done, ==, progress->last + 1);
	g_assert_cmpuint(pages_done, <=, pages_total);
	progress->last = pages_done;
	progress->calls++;
	if (progress->stop_after != 0 && pages_done == progress->stop_after) {
		if (progress->cancellable != NULL)
			g_cancellable_cancel(progress->cancellable);
		else
			go_on = FALSE;
	}
	g_mutex_unlock(&progress->lock);
	return go_on;
}

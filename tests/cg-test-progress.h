/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The progress of a batch under test (test-pdf-batch.c, test-zip.c link
 * cg-test-progress.c): cg_test_progress_page_done() is a CgRenderPageFunc
 * that asserts its calls come one at a time and in order (1, 2, ... up to
 * pages_total) and counts them; at page @stop_after (0: never) it stops the
 * batch, by cancelling @cancellable when set, else by returning FALSE.
 * Zero-initialised ({0} or designated fields) it is ready. */
typedef struct {
	GMutex lock; /* held during a call: a second one at once fails */
	guint calls;
	guint last;
	guint stop_after;
	GCancellable *cancellable;
} CgTestProgress;

gboolean cg_test_progress_page_done(guint pages_done, guint pages_total, gpointer user_data);

G_END_DECLS

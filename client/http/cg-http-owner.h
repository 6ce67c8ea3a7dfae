/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gunixfdlist.h>

#include "cg-http-bus.h"

G_BEGIN_DECLS

/*
 * The bridge's one owner check. certgend sees only the bridge's uid, so it
 * cannot tell web users apart: every action of the bridge on a progress id
 * (the HTTP routes, the SSE and WebSocket streams, a WebSocket's cancel)
 * first asks for the snapshot and goes on only when its "owner_label" is
 * the web user. Foreign and unknown ids get the very same NOT_FOUND.
 */

/* The NOT_FOUND error every unknown or foreign id gets. */
GError *cg_http_not_found_error(const char *progress_id);

/* GetProgress for a web user: the snapshot of @progress_id when it was
 * started for @user; CG_HTTP_ERROR_NOT_FOUND otherwise. */
void cg_http_get_owned_progress(CgHttpBus *bus, const char *progress_id, const char *user,
				GCancellable *cancellable, GAsyncReadyCallback callback,
				gpointer user_data);
GVariant *cg_http_get_owned_progress_finish(GAsyncResult *result, guint *retry_after_s,
					    GError **error);

/* The owner check, then — only when it passed — @method(@progress_id) on
 * certgend ("Cancel", "GetAnalytics", "OpenCertificate", ...). Errors are
 * CG_HTTP_ERROR, certgend's NotFound the same NOT_FOUND as a foreign id. */
void cg_http_owned_call(CgHttpBus *bus, const char *progress_id, const char *user,
			const char *method, const GVariantType *reply_type,
			GCancellable *cancellable, GAsyncReadyCallback callback,
			gpointer user_data);
/* The reply; *@snapshot (may be NULL) gets the snapshot of the check,
 * *@fd_list (may be NULL) the file descriptors sent with the reply. */
GVariant *cg_http_owned_call_finish(GAsyncResult *result, GVariant **snapshot,
				    GUnixFDList **fd_list, guint *retry_after_s, GError **error);

G_END_DECLS

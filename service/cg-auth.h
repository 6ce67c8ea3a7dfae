/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The one authorization helper: polkit's CheckAuthorization with subject
 * "system-bus-name" on certgend's own bus connection, asynchronous.
 *
 * uid 0 is always allowed. When polkit is not on the bus (ServiceUnknown,
 * NameHasNoOwner) the documented fallback applies: everyone may "generate",
 * only uid 0 may "manage-all" and "delegate".
 */

#define CG_ACTION_GENERATE "org.certgen.Certificates1.generate"
#define CG_ACTION_MANAGE_ALL "org.certgen.Certificates1.manage-all"
#define CG_ACTION_DELEGATE "org.certgen.Certificates1.delegate"

typedef struct _CgAuth CgAuth;

CgAuth *cg_auth_new(GDBusConnection *connection);
void cg_auth_free(CgAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgAuth, cg_auth_free)

/* @interactive: the caller set ALLOW_INTERACTIVE_AUTHORIZATION. */
void cg_auth_check_async(CgAuth *auth, const char *bus_name, guint32 uid, const char *action_id,
			 gboolean interactive, GAsyncReadyCallback callback, gpointer user_data);
/* TRUE when allowed; FALSE with CG_ERROR_PERMISSION_DENIED when refused, or
 * another error when polkit failed. */
gboolean cg_auth_check_finish(GAsyncResult *result, GError **error);

G_END_DECLS

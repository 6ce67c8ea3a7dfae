/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-auth.h"

#include "cg-error.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_FLAG_ALLOW_USER_INTERACTION 1u

struct _CgAuth {
	GDBusConnection *connection;
};

typedef struct {
	guint32 uid;
	char *action_id;
} CheckData;

static void
check_data_free(CheckData *data)
{
	g_free(data->action_id);
	g_free(data);
}

CgAuth *
cg_auth_new(GDBusConnection *connection)
{
	CgAuth *auth = g_new0(CgAuth, 1);

	auth->connection = g_object_ref(connection);
	return auth;
}

void
cg_auth_free(CgAuth *auth)
{
	if (auth == NULL)
		return;
	g_clear_object(&auth->connection);
	g_free(auth);
}

static gboolean
fallback_allows(const CheckData *data)
{
	return g_str_equal(data->action_id, CG_ACTION_GENERATE) || data->uid == 0;
}

static void
return_decision(GTask *task, gboolean allowed)
{
	const CheckData *data = g_task_get_task_data(task);

	if (allowed) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	g_task_return_new_error(task, CG_ERROR, CG_ERROR_PERMISSION_DENIED, "Not authorized for %s",
				data->action_id);
}

static void
check_authorization_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	const CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gboolean authorized = FALSE;
	gboolean challenge = FALSE;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
		    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
			g_debug("polkit is not on the bus; fallback rule for %s (uid %u)",
				data->action_id, data->uid);
			return_decision(task, fallback_allows(data));
			return;
		}
		g_warning("polkit CheckAuthorization for %s failed: %s", data->action_id,
			  error->message);
		g_task_return_new_error(task, CG_ERROR, CG_ERROR_PERMISSION_DENIED,
					"Could not check authorization for %s: %s", data->action_id,
					error->message);
		return;
	}
	g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
	return_decision(task, authorized);
}

/* The source tag of cg_auth_check_async()'s tasks (a datum: ISO C has no
 * function pointer to void * conversion). */
static char cg_auth_check_tag;

void
cg_auth_check_async(CgAuth *auth, const char *bus_name, guint32 uid, const char *action_id,
		    gboolean interactive, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
	CheckData *data = g_new0(CheckData, 1);
	GVariantBuilder subject_details;

	data->uid = uid;
	data->action_id = g_strdup(action_id);
	g_task_set_task_data(task, data, (GDestroyNotify)check_data_free);
	g_task_set_source_tag(task, &cg_auth_check_tag);

	if (uid == 0) {
		g_task_return_boolean(task, TRUE);
		return;
	}

	g_variant_builder_init(&subject_details, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&subject_details, "{sv}", "name", g_variant_new_string(bus_name));
	g_dbus_connection_call(
	    auth->connection, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization",
	    g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject_details, action_id,
			  NULL, interactive ? POLKIT_FLAG_ALLOW_USER_INTERACTION : 0u, ""),
	    G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, interactive ? G_MAXINT : 25000,
	    NULL, check_authorization_cb, g_steal_pointer(&task));
}

gboolean
cg_auth_check_finish(GAsyncResult *result, GError **error)
{
	return g_task_propagate_boolean(G_TASK(result), error);
}

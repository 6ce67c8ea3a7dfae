/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One error domain for all of certgen. Each code maps to the D-Bus error
 * name org.certgen.Certificates1.Error.<Name> (see the interface XML). */
#define CG_ERROR (cg_error_quark())

typedef enum {
	CG_ERROR_NOT_FOUND,
	CG_ERROR_PERMISSION_DENIED,
	CG_ERROR_INVALID_ARGUMENT,
	CG_ERROR_INVALID_DATA,
	CG_ERROR_TEMPLATE_NOT_FOUND,
	CG_ERROR_RATE_LIMITED,
	CG_ERROR_LIMIT_EXCEEDED,
	CG_ERROR_NOT_CANCELLABLE,
	CG_ERROR_ALREADY_FINISHED,
	CG_ERROR_NOT_READY,
	CG_ERROR_FAILED,
	CG_ERROR_CANCELLED,
	CG_ERROR_TIMED_OUT,
	CG_ERROR_ALREADY_REVOKED,
	CG_ERROR_LAST /*< skip >*/
} CgError;

GQuark cg_error_quark(void);

/* The D-Bus error name of @error: its own name for CG_ERROR, the Failed name
 * for anything else. */
const char *cg_error_to_dbus_name(const GError *error);
/* The same for a CG_ERROR code (the Failed name for one out of range). */
const char *cg_error_code_to_dbus_name(gint code);

G_END_DECLS

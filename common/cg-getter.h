/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* Defines the plain accessor `type name(const Type *self)` of an opaque
 * type, returning self->field (for a NULL self: @fallback and a critical,
 * as g_return_val_if_fail). The declaration stays in the type's header;
 * accessors that compute something are written out. */
#define CG_DEFINE_GETTER(Type, name, type, field, fallback)                                        \
	type name(const Type *self)                                                                \
	{                                                                                          \
		g_return_val_if_fail(self != NULL, fallback);                                      \
		return self->field;                                                                \
	}

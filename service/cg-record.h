/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-registry.h"

G_BEGIN_DECLS

/*
 * Verify and Revoke on the registry (the engine's part; the bus face
 * decides who the caller is). Every "not found" is CG_ERROR_NOT_FOUND with
 * one constant message, CG_RECORD_NOT_FOUND: an unknown number, a wrong
 * code and another user's certificate all read the same.
 */

#define CG_RECORD_NOT_FOUND "No such certificate, or the code does not match it"
#define CG_RECORD_REASON_MAX 500 /* characters */

/* Verify's public record (floating a{sv}; DESIGN.md: never the owner) of
 * @number when @code is its verification code. The code is hashed and
 * compared in constant time, and an unknown number is compared against a
 * dummy hash all the same. */
GVariant *cg_record_verify(CgRegistry *registry, const char *number, const char *code,
			   GError **error);

/* A revocation reason: 1–CG_RECORD_REASON_MAX characters of UTF-8 without
 * control characters (C0, DEL, C1) or bidi controls, else
 * CG_ERROR_INVALID_ARGUMENT. */
gboolean cg_record_check_reason(const char *reason, GError **error);

/* Whether @uid issued @number (FALSE for an unknown one). */
gboolean cg_record_is_owner(CgRegistry *registry, guint32 uid, const char *number);

/* Revoke @number for @uid (any certificate for @is_admin):
 * CG_ERROR_NOT_FOUND (CG_RECORD_NOT_FOUND) unless it exists and is
 * theirs; CG_ERROR_ALREADY_REVOKED; CG_ERROR_INVALID_ARGUMENT for a bad
 * reason (checked first: nothing is looked up for it). */
gboolean cg_record_revoke(CgRegistry *registry, guint32 uid, gboolean is_admin, const char *number,
			  const char *reason, GError **error);

G_END_DECLS

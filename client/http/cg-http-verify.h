/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "cg-http-bus.h"
#include "cg-rate-limit.h"

G_BEGIN_DECLS

/*
 * Verification and revocation over HTTP (DESIGN.md, Wave 2):
 *
 * GET /verify/{number}?c={code} is public (no token): what a phone shows
 * after scanning a certificate's QR code. An HTML page (valid, or revoked
 * with its date and reason; the printed fields; the template; every string
 * escaped), or with "Accept: application/json" {certificateNumber, status,
 * issuedAt, revokedAt, revocationReason, templateId, fields, dataSha256,
 * fileSha256} (times in ms, revokedAt null while valid). An unknown number,
 * a wrong code and a malformed one get the very same 404 (checked for
 * charset and length, common/cg-verify-input.h, before any D-Bus call).
 * Every request counts against a per-client-address limit
 * (--verifications-per-minute): 429 with Retry-After beyond it, so codes
 * cannot be guessed at speed.
 *
 * POST /api/certificates/{number}/revoke {"reason"} for the web user whose
 * generation issued it: certgend sees only the bridge's uid, so the bridge
 * first finds the certificate in one of the web user's generations
 * (ListGenerations: owner_label, and the result's number range), then
 * calls Revoke; anyone else, and an unknown number, get the same 404.
 * A generation certgend has forgotten (not persistent, past its
 * finished_ttl_s) can no longer be revoked over HTTP; certgenctl revoke as
 * the bridge's uid, or an administrator, still can.
 */
#define CG_HTTP_VERIFY_PATH "/verify/"

typedef struct {
	CgHttpBus *bus;
	CgRateLimit *limiter; /* per client address */
	guint per_minute;
	GObject *owner; /* held by each request while it waits for certgend */
	guint *n_pending;
} CgHttpVerifyContext;

/* GET (or HEAD) of @path, a path under CG_HTTP_VERIFY_PATH. */
void cg_http_verify_handle(CgHttpVerifyContext *context, SoupServerMessage *msg, const char *path,
			   const char *method);

/* POST /api/certificates/@number/revoke for the authenticated @user. */
void cg_http_verify_handle_revoke(CgHttpVerifyContext *context, SoupServerMessage *msg,
				  const char *user, const char *number, guint max_json_depth);

/* The JSON of a Verify record (a{sv}). */
char *cg_http_verify_record_to_json(GVariant *record);
/* The page of a Verify record; of "not found" for NULL. */
char *cg_http_verify_record_to_html(GVariant *record);

/* Whether generation snapshot @snapshot, started for @user, issued
 * certificate @number (in its result's number range). */
gboolean cg_http_verify_generation_issued(GVariant *snapshot, const char *user, const char *number);

G_END_DECLS

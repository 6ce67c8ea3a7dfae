/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * What a client may send certgend's Verify before it asks: the certificate
 * number and the verification code, each checked for its character set and
 * length, and the verification URL of a page's QR code and link,
 * `{base_url}/{certificate_number}?c={code}` (DESIGN.md, Wave 2), taken
 * apart strictly. One rule for certgenctl and certgen-http, so neither
 * passes a path, an escape or a megabyte to the bus.
 *
 * A number is 1-CG_CERTIFICATE_NUMBER_MAX of [A-Za-z0-9-] ("CERT2026000042");
 * a code CG_VERIFICATION_CODE_MIN-CG_VERIFICATION_CODE_MAX of the URL-safe
 * [A-Za-z0-9_-] (certgend's codes carry at least 80 random bits, so at
 * least 16 characters of base32).
 */
#define CG_CERTIFICATE_NUMBER_MAX 64
#define CG_VERIFICATION_CODE_MIN 16
#define CG_VERIFICATION_CODE_MAX 128

gboolean cg_certificate_number_is_valid(const char *number);
gboolean cg_verification_code_is_valid(const char *code);

/* Takes @url apart: "http://" or "https://", a host, a path whose last
 * segment is the number, then exactly "?c=CODE" (no other parameter, no
 * percent-escape, no fragment). FALSE, with nothing set, when it is not
 * such a URL. The caller frees *@number and *@code. */
gboolean cg_verification_url_parse(const char *url, char **number, char **code);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Verification codes and URLs. A code is 130 random bits from getrandom(2)
 * (the kernel's CSPRNG; GLib's g_random is not one), written as 26
 * characters of lowercase RFC 4648 base32 ("a"–"z", "2"–"7"): URL-safe and
 * easy to type. Only its SHA-256 (hex) is stored. A certificate's
 * verification URL, which its QR code encodes and its QR area links to, is
 * "{base_url}/{certificate number}?c={code}".
 */

#define CG_VERIFICATION_CODE_LENGTH 26
#define CG_VERIFICATION_BASE_URL_MAX 256
#define CG_VERIFICATION_DEFAULT_BASE_URL "http://localhost:8080/verify"

/* A new random code (CG_VERIFICATION_CODE_LENGTH characters), or NULL when
 * the kernel gives no random bytes. */
char *cg_verification_code_new(GError **error);

/* SHA-256 of @code, lowercase hex. */
char *cg_verification_code_hash(const char *code);

/* Whether @code hashes to @expected_hash (hex), compared in constant time
 * over the hash (its cost does not depend on where they differ). */
gboolean cg_verification_code_matches(const char *code, const char *expected_hash);

/* "{base_url}/{number}?c={code}". */
char *cg_verification_url(const char *base_url, const char *number, const char *code);

/* A base URL certgend accepts: "http://" or "https://", a host, an optional
 * path, at most CG_VERIFICATION_BASE_URL_MAX bytes, printable ASCII
 * without quotes, backslash, space, '?', '#' or a trailing '/'. It is
 * written into every PDF's link annotation. */
gboolean cg_verification_check_base_url(const char *base_url, GError **error);

G_END_DECLS

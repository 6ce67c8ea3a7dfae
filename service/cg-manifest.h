/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * manifest.csv of a ZIP batch: a header row `number,recipient_name,sha256`,
 * then one row per member PDF, in member order, lines ended by CRLF
 * (RFC 4180).
 *
 * Recipient names are caller data, so every field is written safely:
 *  - a field holding a comma, a double quote, CR or LF is quoted, inner
 *    quotes doubled (RFC 4180);
 *  - a field beginning with =, +, -, @, a tab or CR, which spreadsheets
 *    would run as a formula (CSV injection), gets an apostrophe in front
 *    and is quoted: `'=HYPERLINK(...)` shows as text. The apostrophe is the
 *    marker spreadsheets themselves use for "text"; the exact name stays in
 *    the PDF.
 */

typedef struct _CgManifest CgManifest;

CgManifest *cg_manifest_new(void);
void cg_manifest_free(CgManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgManifest, cg_manifest_free)

void cg_manifest_add(CgManifest *manifest, const char *number, const char *recipient_name,
		     const char *sha256);
/* The CSV so far (valid until the next add). */
const char *cg_manifest_get_data(const CgManifest *manifest, gsize *length);

/* Appends @value to @out as one CSV field, as described above. */
void cg_manifest_append_field(GString *out, const char *value);

G_END_DECLS

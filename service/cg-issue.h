/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-data.h"
#include "cg-registry.h"
#include "cg-template.h"

G_BEGIN_DECLS

/*
 * The certificates of one generation as the registry records them: a
 * verification code per page (made before rendering, since the QR code
 * holds it; kept in memory only until the generation's rows are written,
 * then only their hashes remain), and the rows themselves: number, printed
 * fields (the template's data fields that have a value, as a JSON object),
 * SHA-256 of the recipient's canonical data and of the code.
 */

typedef struct _CgIssue CgIssue;

/* @n_pages new codes (CG_ERROR_FAILED when the kernel gives no random
 * bytes). */
CgIssue *cg_issue_new(guint n_pages, GError **error);
void cg_issue_free(CgIssue *issue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgIssue, cg_issue_free)

/* The codes, one per page, NULL-terminated (CgRenderParams.codes). */
const char *const *cg_issue_get_codes(const CgIssue *issue);

/* Writes the rows of every page of @data, page i numbered @first_number +
 * i, in one transaction (cg_registry_insert()). @page_sha256 (NULL, or one
 * per page): the SHA-256 of each page's own file (a ZIP's members), which
 * its row records instead of the shared file's. */
gboolean cg_issue_register(const CgIssue *issue, CgRegistry *registry, CgTemplate *tmpl,
			   const CgData *data, const CgRegistryIssue *shared, guint64 first_number,
			   const char *const *page_sha256, GError **error);

G_END_DECLS

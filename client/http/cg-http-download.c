/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-http-download.h"

/* The file name part of a certificate number (it comes from certgend, but
 * goes into a header: only [A-Za-z0-9_-], at most 64). */
static void
append_number(GString *name, const char *number)
{
	gsize start = name->len;

	for (const char *p = number; *p != '\0' && name->len - start < 64; p++) {
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_')
			g_string_append_c(name, *p);
	}
}

/* A download is named after its numbers: "<number>.pdf" for one page,
 * "certificates-<first>-<last>.zip" (or .pdf) for a batch; the extension
 * follows the content type. */
char *
cg_http_download_filename(GVariant *snapshot, const char *progress_id, gboolean zip)
{
	g_autoptr(GVariant) result = NULL;
	const char *first = NULL;
	const char *last = NULL;
	GString *name = g_string_new(NULL);

	if (snapshot != NULL)
		result = g_variant_lookup_value(snapshot, "result", G_VARIANT_TYPE_VARDICT);
	if (result != NULL) {
		g_variant_lookup(result, "certificate_number", "&s", &first);
		g_variant_lookup(result, "last_certificate_number", "&s", &last);
	}
	if (first != NULL && last != NULL && !g_str_equal(first, last)) {
		g_string_append(name, "certificates-");
		append_number(name, first);
		g_string_append_c(name, '-');
		append_number(name, last);
	} else {
		append_number(name, first != NULL ? first : progress_id);
	}
	if (name->len == 0 || g_str_equal(name->str, "certificates--"))
		g_string_assign(name, "certificate");
	g_string_append(name, zip ? ".zip" : ".pdf");
	return g_string_free(name, FALSE);
}

/* The result's content type: application/zip or application/pdf (a
 * certgend that does not say: a PDF). */
gboolean
cg_http_download_is_zip(GVariant *snapshot)
{
	g_autoptr(GVariant) result = NULL;
	const char *content_type = NULL;

	if (snapshot != NULL)
		result = g_variant_lookup_value(snapshot, "result", G_VARIANT_TYPE_VARDICT);
	if (result != NULL)
		g_variant_lookup(result, "content_type", "&s", &content_type);
	return g_strcmp0(content_type, "application/zip") == 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-manifest.h"

#include <string.h>

struct _CgManifest {
	GString *csv;
};

CgManifest *
cg_manifest_new(void)
{
	CgManifest *manifest = g_new0(CgManifest, 1);

	manifest->csv = g_string_new("number,recipient_name,sha256\r\n");
	return manifest;
}

void
cg_manifest_free(CgManifest *manifest)
{
	if (manifest == NULL)
		return;
	g_string_free(manifest->csv, TRUE);
	g_free(manifest);
}

void
cg_manifest_append_field(GString *out, const char *value)
{
	/* what a spreadsheet reads as the start of a formula */
	gboolean formula = value[0] != '\0' && strchr("=+-@\t\r", value[0]) != NULL;
	gboolean quote = formula || strpbrk(value, ",\"\r\n") != NULL;

	if (!quote) {
		g_string_append(out, value);
		return;
	}
	g_string_append_c(out, '"');
	if (formula)
		g_string_append_c(out, '\'');
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

void
cg_manifest_add(CgManifest *manifest, const char *number, const char *recipient_name,
		const char *sha256)
{
	g_return_if_fail(manifest != NULL);

	cg_manifest_append_field(manifest->csv, number);
	g_string_append_c(manifest->csv, ',');
	cg_manifest_append_field(manifest->csv, recipient_name != NULL ? recipient_name : "");
	g_string_append_c(manifest->csv, ',');
	cg_manifest_append_field(manifest->csv, sha256);
	g_string_append(manifest->csv, "\r\n");
}

const char *
cg_manifest_get_data(const CgManifest *manifest, gsize *length)
{
	g_return_val_if_fail(manifest != NULL, NULL);

	if (length != NULL)
		*length = manifest->csv->len;
	return manifest->csv->str;
}

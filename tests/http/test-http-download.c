/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of cg-http-download.c: a download is named after its number
 * range and says whether it is a ZIP (issue 10 items 4 and 8). */
#include "cg-http-download.h"
#include "cg-test-util.h"

/* A snapshot whose result has these numbers and content type (any NULL:
 * left out; no result at all when @first is NULL). */
static GVariant *
snapshot(const char *first, const char *last, const char *content_type)
{
	GVariantDict result;
	GVariantDict dict;

	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "status", "s", "completed");
	if (first != NULL) {
		g_variant_dict_init(&result, NULL);
		g_variant_dict_insert(&result, "certificate_number", "s", first);
		if (last != NULL)
			g_variant_dict_insert(&result, "last_certificate_number", "s", last);
		if (content_type != NULL)
			g_variant_dict_insert(&result, "content_type", "s", content_type);
		g_variant_dict_insert_value(&dict, "result", g_variant_dict_end(&result));
	}
	return g_variant_ref_sink(g_variant_dict_end(&dict));
}

static void
assert_name(GVariant *snap, gboolean zip, const char *expected)
{
	g_autofree char *name = cg_http_download_filename(snap, "0123abcd", zip);

	g_assert_cmpstr(name, ==, expected);
}

static void
test_filename(void)
{
	g_autoptr(GVariant) batch = snapshot("CERT2026000101", "CERT2026000200", NULL);
	g_autoptr(GVariant) dashed = snapshot("CERT-2026-000101", "CERT-2026-000200", NULL);
	g_autoptr(GVariant) single = snapshot("CERT2026000007", "CERT2026000007", NULL);
	g_autoptr(GVariant) no_last = snapshot("CERT2026000007", NULL, NULL);
	g_autoptr(GVariant) none = snapshot(NULL, NULL, NULL);
	g_autoptr(GVariant) hostile = snapshot("../\"a\r\nb;c", "x/../\"y", NULL);
	g_autoptr(GVariant) empty = snapshot("\"/", "//", NULL);

	assert_name(batch, TRUE, "certificates-CERT2026000101-CERT2026000200.zip");
	assert_name(batch, FALSE, "certificates-CERT2026000101-CERT2026000200.pdf");
	assert_name(dashed, TRUE, "certificates-CERT-2026-000101-CERT-2026-000200.zip");
	assert_name(single, FALSE, "CERT2026000007.pdf");
	assert_name(single, TRUE, "CERT2026000007.zip");
	assert_name(no_last, FALSE, "CERT2026000007.pdf");
	assert_name(none, FALSE, "0123abcd.pdf");
	assert_name(NULL, TRUE, "0123abcd.zip");
	/* only [A-Za-z0-9_-] of a number reaches the header */
	assert_name(hostile, TRUE, "certificates-abc-xy.zip");
	assert_name(empty, FALSE, "certificate.pdf");
}

static void
test_is_zip(void)
{
	g_autoptr(GVariant) zip = snapshot("A", "B", "application/zip");
	g_autoptr(GVariant) pdf = snapshot("A", "B", "application/pdf");
	g_autoptr(GVariant) older = snapshot("A", "B", NULL);

	g_assert_true(cg_http_download_is_zip(zip));
	g_assert_false(cg_http_download_is_zip(pdf));
	g_assert_false(cg_http_download_is_zip(older));
	g_assert_false(cg_http_download_is_zip(NULL));
}

static const CgTestCase cases[] = {
    {"/http/download/filename", test_filename, NULL},
    {"/http/download/is-zip", test_is_zip, NULL},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the verification routes' pure parts (cg-http-verify.c): the
 * record as JSON and as an escaped page, and which generation issued a
 * number. */
#include <json-glib/json-glib.h>

#include "cg-http-verify.h"
#include "cg-test-util.h"

static GVariant *
record_new(const char *status, gint64 revoked_at_us, const char *reason)
{
	GVariantBuilder fields, record;

	g_variant_builder_init(&fields, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&fields, "{ss}", "recipientName", "<script>alert(1)</script> & Co");
	g_variant_builder_init(&record, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&record, "{sv}", "certificate_number",
			      g_variant_new_string("CERT2026000042"));
	g_variant_builder_add(&record, "{sv}", "status", g_variant_new_string(status));
	g_variant_builder_add(&record, "{sv}", "issued_at_us",
			      g_variant_new_int64(1700000000000000));
	g_variant_builder_add(&record, "{sv}", "revoked_at_us", g_variant_new_int64(revoked_at_us));
	g_variant_builder_add(&record, "{sv}", "revocation_reason", g_variant_new_string(reason));
	g_variant_builder_add(&record, "{sv}", "template_id", g_variant_new_string("classic"));
	g_variant_builder_add(&record, "{sv}", "fields", g_variant_builder_end(&fields));
	g_variant_builder_add(&record, "{sv}", "data_sha256", g_variant_new_string("aa"));
	g_variant_builder_add(&record, "{sv}", "file_sha256", g_variant_new_string("bb"));
	return g_variant_ref_sink(g_variant_builder_end(&record));
}

static void
test_verify_json(void)
{
	g_autoptr(GVariant) valid = record_new("valid", 0, "");
	g_autoptr(GVariant) revoked = record_new("revoked", 1700000100000000, "lost \"it\"");
	g_autofree char *json = cg_http_verify_record_to_json(valid);
	g_autofree char *json_revoked = cg_http_verify_record_to_json(revoked);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *o;

	g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
	o = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpuint(json_object_get_size(o), ==, 9);
	g_assert_cmpstr(json_object_get_string_member(o, "certificateNumber"), ==,
			"CERT2026000042");
	g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "valid");
	g_assert_cmpint(json_object_get_int_member(o, "issuedAt"), ==, 1700000000000);
	g_assert_true(json_object_get_null_member(o, "revokedAt"));
	g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(o, "fields"),
						      "recipientName"),
			==, "<script>alert(1)</script> & Co");
	g_assert_cmpstr(json_object_get_string_member(o, "fileSha256"), ==, "bb");

	g_assert_true(json_parser_load_from_data(parser, json_revoked, -1, NULL));
	o = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpint(json_object_get_int_member(o, "revokedAt"), ==, 1700000100000);
	g_assert_cmpstr(json_object_get_string_member(o, "revocationReason"), ==, "lost \"it\"");
}

static void
test_verify_html(void)
{
	g_autoptr(GVariant) valid = record_new("valid", 0, "");
	g_autoptr(GVariant) revoked = record_new("revoked", 1700000100000000, "<b>lost</b>");
	g_autofree char *page = cg_http_verify_record_to_html(valid);
	g_autofree char *revoked_page = cg_http_verify_record_to_html(revoked);
	g_autofree char *missing = cg_http_verify_record_to_html(NULL);

	g_assert_nonnull(strstr(page, "Valid certificate"));
	g_assert_nonnull(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
	g_assert_null(strstr(page, "<script>"));
	g_assert_nonnull(strstr(page, "width=device-width"));
	g_assert_nonnull(strstr(revoked_page, "Revoked on 2023-11-14"));
	g_assert_nonnull(strstr(revoked_page, "&lt;b&gt;lost&lt;/b&gt;"));
	g_assert_null(strstr(revoked_page, "<b>lost"));
	g_assert_nonnull(strstr(missing, "Not found"));
	g_assert_null(strstr(missing, "CERT"));
}

static GVariant *
snapshot_new(const char *owner, const char *first, const char *last)
{
	GVariantBuilder result, snapshot;

	g_variant_builder_init(&result, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&result, "{sv}", "certificate_number", g_variant_new_string(first));
	if (last != NULL)
		g_variant_builder_add(&result, "{sv}", "last_certificate_number",
				      g_variant_new_string(last));
	g_variant_builder_init(&snapshot, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&snapshot, "{sv}", "owner_label", g_variant_new_string(owner));
	g_variant_builder_add(&snapshot, "{sv}", "result", g_variant_builder_end(&result));
	return g_variant_ref_sink(g_variant_builder_end(&snapshot));
}

static void
test_verify_issued_by(void)
{
	g_autoptr(GVariant) one = snapshot_new("alice", "CERT2026000007", NULL);
	g_autoptr(GVariant) batch = snapshot_new("alice", "CERT2026000998", "CERT20261000002");
	g_autoptr(GVariant) no_result =
	    g_variant_ref_sink(g_variant_new_parsed("@a{sv} {'owner_label': <'alice'>}"));

	g_assert_true(cg_http_verify_generation_issued(one, "alice", "CERT2026000007"));
	g_assert_false(cg_http_verify_generation_issued(one, "bob", "CERT2026000007"));
	g_assert_false(cg_http_verify_generation_issued(one, "alice", "CERT2026000008"));
	g_assert_true(cg_http_verify_generation_issued(batch, "alice", "CERT2026000999"));
	g_assert_true(cg_http_verify_generation_issued(batch, "alice", "CERT20261000000"));
	g_assert_true(cg_http_verify_generation_issued(batch, "alice", "CERT20261000002"));
	g_assert_false(cg_http_verify_generation_issued(batch, "alice", "CERT20261000003"));
	g_assert_false(cg_http_verify_generation_issued(batch, "alice", "CERT2025000999"));
	g_assert_false(cg_http_verify_generation_issued(batch, "alice", "CERT2026000997"));
	g_assert_false(cg_http_verify_generation_issued(batch, "bob", "CERT2026000999"));
	g_assert_false(cg_http_verify_generation_issued(no_result, "alice", "CERT2026000007"));
}

static const CgTestCase cases[] = {
    {"/http/verify/json", test_verify_json},
    {"/http/verify/html", test_verify_html},
    {"/http/verify/issued-by", test_verify_issued_by},
};

CG_TEST_MAIN(cases)

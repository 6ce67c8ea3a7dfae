/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the update rewrite (cg-relay-update.c) and the stream id
 * rules (cg-relay-stream.c). */
#include <string.h>

#include "cg-relay-stream.h"
#include "cg-relay-update.h"
#include "cg-test-util.h"

#define ID "0123456789abcdef0123456789abcdef"

static GVariant *
certgend_update(double progress, const char *message)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "progress_id",
			      g_variant_new_string("ffffffffffffffffffffffffffffffff"));
	g_variant_builder_add(&b, "{sv}", "sequence", g_variant_new_uint64(4));
	g_variant_builder_add(&b, "{sv}", "progress", g_variant_new_double(progress));
	g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(message));
	g_variant_builder_add(&b, "{sv}", "status", g_variant_new_string("in_progress"));
	g_variant_builder_add(&b, "{sv}", "pages_done", g_variant_new_uint32(3));
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void
test_rewrite(void)
{
	g_autoptr(GVariant) update = certgend_update(40.0, "Rendering");
	g_autoptr(GVariant) out =
	    g_variant_ref_sink(cg_relay_update_rewrite(update, ID, 17, 12.5, NULL));
	const char *s = NULL;
	guint64 seq = 0;
	guint32 pages = 0;

	g_assert_true(g_variant_is_normal_form(out));
	g_assert_true(g_variant_lookup(out, "progress_id", "&s", &s));
	g_assert_cmpstr(s, ==, ID);
	g_assert_true(g_variant_lookup(out, "sequence", "t", &seq));
	g_assert_cmpuint(seq, ==, 17);
	g_assert_cmpfloat(cg_relay_update_get_progress(out), ==, 40.0);
	g_assert_true(g_variant_lookup(out, "message", "&s", &s));
	g_assert_cmpstr(s, ==, "Rendering");
	g_assert_true(g_variant_lookup(out, "pages_done", "u", &pages));
	g_assert_cmpuint(pages, ==, 3);
	/* each key once */
	g_assert_cmpuint(g_variant_n_children(out), ==, g_variant_n_children(update));
	g_assert_cmpstr(cg_relay_update_get_status(out), ==, "in_progress");
}

static void
test_floor_and_message(void)
{
	g_autoptr(GVariant) update = certgend_update(2.0, "Loading");
	g_autoptr(GVariant) out =
	    g_variant_ref_sink(cg_relay_update_rewrite(update, ID, 5, 63.0, "resumed on host2"));
	const char *message = NULL;

	/* a host that starts again from 0 never shows less than was published */
	g_assert_cmpfloat(cg_relay_update_get_progress(out), ==, 63.0);
	g_assert_true(g_variant_lookup(out, "message", "&s", &message));
	g_assert_cmpstr(message, ==, "resumed on host2");
	g_assert_cmpuint(g_variant_n_children(out), ==, g_variant_n_children(update));
}

static void
test_synthetic_terminal(void)
{
	g_autoptr(GVariant) params = g_variant_ref_sink(
	    g_variant_new("(sss@a{sv})", "tx-9", "nope", "{}", g_variant_new("a{sv}", NULL)));
	CgRelayEntry entry = {.stream_id = (char *)"1-0",
			      .id = (char *)ID,
			      .user = (char *)"alice",
			      .params = params};
	g_autoptr(GVariant) failed = g_variant_ref_sink(cg_relay_update_new_terminal(
	    &entry, "failed", "No template", "org.certgen.Certificates1.Error.TemplateNotFound",
	    "No template"));
	g_autoptr(GVariant) published =
	    g_variant_ref_sink(cg_relay_update_rewrite(failed, ID, 1, 0.0, NULL));
	const char *s = NULL;
	guint64 seq = 0;

	g_assert_cmpstr(cg_relay_update_get_status(published), ==, "failed");
	g_assert_true(g_variant_lookup(published, "error", "&s", &s));
	g_assert_cmpstr(s, ==, "org.certgen.Certificates1.Error.TemplateNotFound");
	g_assert_true(g_variant_lookup(published, "transaction_id", "&s", &s));
	g_assert_cmpstr(s, ==, "tx-9");
	g_assert_true(g_variant_lookup(published, "owner_label", "&s", &s));
	g_assert_cmpstr(s, ==, "alice");
	g_assert_true(g_variant_lookup(published, "sequence", "t", &seq));
	g_assert_cmpuint(seq, ==, 1);
	g_assert_null(cg_relay_update_get_content_type(published));
}

static void
test_stream_ids(void)
{
	guint64 ms = 0, seq = 0;

	g_assert_true(cg_relay_stream_id_parse("1700000000000-3", &ms, &seq));
	g_assert_cmpuint(ms, ==, 1700000000000);
	g_assert_cmpuint(seq, ==, 3);
	g_assert_false(cg_relay_stream_id_parse("1700000000000", NULL, NULL));
	g_assert_false(cg_relay_stream_id_parse("-3", NULL, NULL));
	g_assert_false(cg_relay_stream_id_parse("1-", NULL, NULL));
	g_assert_false(cg_relay_stream_id_parse("a-1", NULL, NULL));
	g_assert_false(cg_relay_stream_id_parse(NULL, NULL, NULL));
	g_assert_cmpint(cg_relay_stream_id_compare("2-0", "10-0"), <, 0);
	g_assert_cmpint(cg_relay_stream_id_compare("10-2", "10-10"), <, 0);
	g_assert_cmpint(cg_relay_stream_id_compare("10-0", "10-0"), ==, 0);
	g_assert_cmpint(cg_relay_stream_id_compare("11-0", "10-99"), >, 0);
}

static void
test_stream_fields(void)
{
	redisReply name = {.type = REDIS_REPLY_STRING, .len = 3, .str = (char *)"cmd"};
	redisReply value = {.type = REDIS_REPLY_STRING, .len = 6, .str = (char *)"cancel"};
	redisReply number = {.type = REDIS_REPLY_INTEGER, .integer = 5};
	redisReply id = {.type = REDIS_REPLY_STRING, .len = 3, .str = (char *)"1-0"};
	redisReply nil = {.type = REDIS_REPLY_NIL};
	redisReply *pairs[] = {&name, &value};
	redisReply *odd[] = {&name};
	redisReply *mixed[] = {&name, &number};
	redisReply fields = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = pairs};
	redisReply *entry_elements[] = {&id, &fields};
	redisReply entry = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = entry_elements};
	g_autoptr(GArray) got = NULL;
	g_autofree char *cmd = NULL;
	gboolean malformed = TRUE;

	g_assert_cmpstr(cg_relay_stream_entry_id(&entry), ==, "1-0");
	got = cg_relay_stream_entry_fields(&entry, &malformed);
	g_assert_false(malformed);
	g_assert_cmpuint(got->len, ==, 1);
	cmd = cg_relay_stream_field(got, "cmd");
	g_assert_cmpstr(cmd, ==, "cancel");
	g_assert_null(cg_relay_stream_field(got, "id"));

	/* a deleted entry: no fields, not malformed */
	entry_elements[1] = &nil;
	g_assert_null(cg_relay_stream_entry_fields(&entry, &malformed));
	g_assert_false(malformed);
	/* an odd count, a value that is no string, an entry that is no array */
	fields.element = odd;
	fields.elements = 1;
	entry_elements[1] = &fields;
	g_assert_null(cg_relay_stream_entry_fields(&entry, &malformed));
	g_assert_true(malformed);
	fields.element = mixed;
	fields.elements = 2;
	g_assert_null(cg_relay_stream_entry_fields(&entry, &malformed));
	g_assert_true(malformed);
	g_assert_null(cg_relay_stream_entry_fields(&number, &malformed));
	g_assert_true(malformed);
	g_assert_null(cg_relay_stream_entry_id(&number));
	entry_elements[0] = &number;
	g_assert_null(cg_relay_stream_entry_id(&entry));
}

static const CgTestCase cases[] = {
    {"/relay/update/rewrite", test_rewrite},
    {"/relay/update/floor-and-message", test_floor_and_message},
    {"/relay/update/synthetic-terminal", test_synthetic_terminal},
    {"/relay/stream/ids", test_stream_ids},
    {"/relay/stream/fields", test_stream_fields},
};

CG_TEST_MAIN(cases)

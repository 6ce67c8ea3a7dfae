/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the request entry's checks (cg-relay-entry.c). */
#include <string.h>

#include "cg-relay-entry.h"
#include "cg-test-util.h"

#define ID "0123456789abcdef0123456789abcdef"

static GBytes *
params_bytes(GVariant *options)
{
	g_autoptr(GVariant) params = g_variant_ref_sink(
	    g_variant_new("(sss@a{sv})", "tx-1", "classic", "{\"recipientName\":\"A\"}",
			  options != NULL ? options : g_variant_new("a{sv}", NULL)));

	return g_variant_get_data_as_bytes(params);
}

typedef struct {
	CgRelayField fields[8];
	gsize n;
} Fields;

static void
add(Fields *f, const char *name, const void *value, gsize len)
{
	CgRelayField field = {name, strlen(name), value, len};

	f->fields[f->n++] = field;
}

static void
add_str(Fields *f, const char *name, const char *value)
{
	add(f, name, value, strlen(value));
}

static void
good_fields(Fields *f, GBytes *params)
{
	f->n = 0;
	add_str(f, "id", ID);
	add_str(f, "user", "alice");
	add(f, "params", g_bytes_get_data(params, NULL), g_bytes_get_size(params));
	add_str(f, "at_ms", "1700000000123");
}

static void
assert_invalid(const Fields *f, const char *what)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRelayEntry) entry = cg_relay_entry_new("1-0", f->fields, f->n, &error);

	g_assert_null(entry);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	if (strstr(error->message, what) == NULL)
		g_error("expected \"%s\" in \"%s\"", what, error->message);
}

static void
test_id_rule(void)
{
	g_assert_true(cg_relay_id_is_valid(ID, 32));
	g_assert_false(cg_relay_id_is_valid(ID, 31));
	g_assert_false(cg_relay_id_is_valid("0123456789ABCDEF0123456789abcdef", 32));
	g_assert_false(cg_relay_id_is_valid("0123456789abcdeg0123456789abcdef", 32));
	g_assert_false(cg_relay_id_is_valid("0123456789abcdef0123456789abcde\0", 32));
	g_assert_false(cg_relay_id_is_valid(NULL, 0));
}

static void
test_good_entry(void)
{
	g_autoptr(GBytes) params = params_bytes(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRelayEntry) entry = NULL;
	g_autoptr(GVariant) start = NULL;
	g_autoptr(GVariant) options = NULL;
	const char *label = NULL;
	gboolean cancel = FALSE;
	Fields f;

	good_fields(&f, params);
	add_str(&f, "future_field", "ignored");
	entry = cg_relay_entry_new("1700000000123-0", f.fields, f.n, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(entry->stream_id, ==, "1700000000123-0");
	g_assert_cmpstr(entry->id, ==, ID);
	g_assert_cmpstr(entry->user, ==, "alice");
	g_assert_cmpint(entry->at_ms, ==, 1700000000123);
	g_assert_cmpstr(cg_relay_entry_get_transaction_id(entry), ==, "tx-1");
	g_assert_cmpstr(cg_relay_entry_get_template_id(entry), ==, "classic");
	start = g_variant_ref_sink(cg_relay_entry_start_parameters(entry));
	g_assert_true(g_variant_is_of_type(start, G_VARIANT_TYPE("(sssa{sv})")));
	options = g_variant_get_child_value(start, 3);
	g_assert_true(g_variant_lookup(options, "owner_label", "&s", &label));
	g_assert_cmpstr(label, ==, "alice");
	g_assert_true(g_variant_lookup(options, "cancel_on_disconnect", "b", &cancel));
	g_assert_true(cancel);
}

static void
test_options_kept_and_forced(void)
{
	GVariantBuilder b;
	g_autoptr(GBytes) params = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CgRelayEntry) entry = NULL;
	g_autoptr(GVariant) start = NULL;
	g_autoptr(GVariant) options = NULL;
	guint32 timeout_ms = 0;
	gboolean cancel = FALSE;
	Fields f;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "timeout_ms", g_variant_new_uint32(9000));
	g_variant_builder_add(&b, "{sv}", "cancel_on_disconnect", g_variant_new_boolean(FALSE));
	params = params_bytes(g_variant_builder_end(&b));
	good_fields(&f, params);
	entry = cg_relay_entry_new("1-0", f.fields, f.n, &error);
	g_assert_no_error(error);
	start = g_variant_ref_sink(cg_relay_entry_start_parameters(entry));
	options = g_variant_get_child_value(start, 3);
	g_assert_true(g_variant_lookup(options, "timeout_ms", "u", &timeout_ms));
	g_assert_cmpuint(timeout_ms, ==, 9000);
	/* the relay's own, whatever the entry said: exactly one */
	g_assert_true(g_variant_lookup(options, "cancel_on_disconnect", "b", &cancel));
	g_assert_true(cancel);
	g_assert_cmpuint(g_variant_n_children(options), ==, 3);
}

static void
test_missing_and_twice(void)
{
	g_autoptr(GBytes) params = params_bytes(NULL);
	static const char *const names[] = {"id", "user", "params", "at_ms"};
	Fields f;

	for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
		Fields missing = {.n = 0};

		good_fields(&f, params);
		for (gsize i = 0; i < f.n; i++) {
			if (!g_str_equal(f.fields[i].name, names[k]))
				missing.fields[missing.n++] = f.fields[i];
		}
		assert_invalid(&missing, names[k]);
	}
	good_fields(&f, params);
	add_str(&f, "user", "bob");
	assert_invalid(&f, "twice");
	assert_invalid(&(Fields){.n = 0}, "missing");
}

static void
test_bad_values(void)
{
	g_autoptr(GBytes) params = params_bytes(NULL);
	g_autofree char *long_user = g_strnfill(257, 'u');
	static const char *const bad_ids[] = {"", "abc", ID "0", "0123456789ABCDEF0123456789abcdef",
					      "0123456789abcdef 123456789abcdef"};
	static const char *const bad_at[] = {"", "-1", "+1", "1.5", "12a", "99999999999999999999"};
	Fields f;

	for (gsize i = 0; i < G_N_ELEMENTS(bad_ids); i++) {
		good_fields(&f, params);
		f.fields[0].value = bad_ids[i];
		f.fields[0].value_len = strlen(bad_ids[i]);
		assert_invalid(&f, "id:");
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bad_at); i++) {
		good_fields(&f, params);
		f.fields[3].value = bad_at[i];
		f.fields[3].value_len = strlen(bad_at[i]);
		assert_invalid(&f, "at_ms");
	}
	good_fields(&f, params);
	f.fields[3].value = "12\0003";
	f.fields[3].value_len = 4;
	assert_invalid(&f, "at_ms");

	good_fields(&f, params);
	f.fields[1].value = "";
	f.fields[1].value_len = 0;
	assert_invalid(&f, "user");
	f.fields[1].value = "al\nice";
	f.fields[1].value_len = 6;
	assert_invalid(&f, "user");
	f.fields[1].value = "al\0ce";
	f.fields[1].value_len = 5;
	assert_invalid(&f, "user");
	f.fields[1].value = "\xff\xfe";
	f.fields[1].value_len = 2;
	assert_invalid(&f, "user");
	f.fields[1].value = long_user;
	f.fields[1].value_len = strlen(long_user);
	assert_invalid(&f, "user");
	f.fields[1].value = "Zoë";
	f.fields[1].value_len = strlen("Zoë");
	{
		g_autoptr(CgRelayEntry) entry = cg_relay_entry_new("1-0", f.fields, f.n, NULL);

		g_assert_nonnull(entry);
		g_assert_cmpstr(entry->user, ==, "Zoë");
	}
}

static void
test_bad_params(void)
{
	g_autoptr(GBytes) good = params_bytes(NULL);
	g_autoptr(GVariant) other = g_variant_ref_sink(g_variant_new("(ss)", "a", "b"));
	g_autoptr(GBytes) other_bytes = g_variant_get_data_as_bytes(other);
	GVariantBuilder b;
	g_autoptr(GBytes) labelled = NULL;
	g_autofree char *corrupt = NULL;
	gsize len = g_bytes_get_size(good);
	Fields f;

	/* another type */
	good_fields(&f, good);
	f.fields[2].value = g_bytes_get_data(other_bytes, NULL);
	f.fields[2].value_len = g_bytes_get_size(other_bytes);
	assert_invalid(&f, "normal form");
	/* truncated, empty */
	good_fields(&f, good);
	f.fields[2].value_len = len - 1;
	assert_invalid(&f, "normal form");
	f.fields[2].value_len = 0;
	assert_invalid(&f, "normal form");
	/* a framing offset changed */
	corrupt = g_memdup2(g_bytes_get_data(good, NULL), len);
	corrupt[len - 1] ^= 1;
	good_fields(&f, good);
	f.fields[2].value = corrupt;
	assert_invalid(&f, "normal form");
	/* owner_label is the relay's to set */
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "owner_label", g_variant_new_string("mallory"));
	labelled = params_bytes(g_variant_builder_end(&b));
	good_fields(&f, labelled);
	assert_invalid(&f, "owner_label");
}

static const CgTestCase cases[] = {
    {"/relay/entry/id-rule", test_id_rule},
    {"/relay/entry/good", test_good_entry},
    {"/relay/entry/options", test_options_kept_and_forced},
    {"/relay/entry/missing-and-twice", test_missing_and_twice},
    {"/relay/entry/bad-values", test_bad_values},
    {"/relay/entry/bad-params", test_bad_params},
};

CG_TEST_MAIN(cases)

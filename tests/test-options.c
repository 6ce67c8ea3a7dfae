/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of cg-options: StartGeneration's a{sv} options (every key, its type,
 * its range, its default), the owner label, and the one check of string
 * arguments for control characters. */
#include <string.h>

#include "cg-error.h"
#include "cg-options.h"
#include "cg-test-util.h"

/* Parses @options (floating or not) and returns whether it succeeded. */
static gboolean
parse(GVariant *options, CgGenerationOptions *out, char **label, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);

	return cg_options_parse(sunk, out, label, error);
}

static GVariant *
one_option(const char *key, GVariant *value)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", key, value);
	return g_variant_builder_end(&builder);
}

/* Parses one option that must be refused: InvalidArgument whose message
 * holds @needle; the outputs stay untouched. */
static void
assert_refused(const char *key, GVariant *value, const char *needle)
{
	g_autoptr(GError) error = NULL;
	CgGenerationOptions out;
	char *label = (char *)"untouched";

	memset(&out, 0xa5, sizeof(out));
	g_assert_false(parse(one_option(key, value), &out, &label, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' does not contain '%s'", error->message, needle);
	g_assert_cmpstr(cg_error_to_dbus_name(error), ==,
			"org.certgen.Certificates1.Error.InvalidArgument");
	g_assert_cmpstr(label, ==, "untouched");
	for (gsize i = 0; i < sizeof(out); i++)
		g_assert_cmpuint(((const guint8 *)&out)[i], ==, 0xa5);
}

static void
test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	CgGenerationOptions out;
	char *label = (char *)"not reset";

	memset(&out, 0xa5, sizeof(out));
	g_assert_true(
	    parse(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &out, &label, &error));
	g_assert_no_error(error);
	/* DESIGN.md's defaults */
	g_assert_cmpuint(out.timeout_ms, ==, 300000);
	g_assert_cmpuint(out.update_interval_ms, ==, 500);
	g_assert_true(out.enable_cancellation);
	g_assert_false(out.enable_persistence);
	g_assert_false(out.cancel_on_disconnect);
	g_assert_false(out.validate_only);
	g_assert_cmpint(out.output_format, ==, CG_OUTPUT_FORMAT_PDF);
	g_assert_null(label);
}

static void
test_all_keys(void)
{
	GVariant *options =
	    g_variant_new_parsed("{'timeout_ms': <@u 1234>, 'update_interval_ms': <@u 0>, "
				 "'enable_cancellation': <false>,"
				 " 'enable_persistence': <true>, 'cancel_on_disconnect': <true>,"
				 " 'owner_label': <'web:alice'>, 'validate_only': <true>}");
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	CgGenerationOptions out;

	g_assert_true(parse(options, &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(out.timeout_ms, ==, 1234);
	g_assert_cmpuint(out.update_interval_ms, ==, 0);
	g_assert_false(out.enable_cancellation);
	g_assert_true(out.enable_persistence);
	g_assert_true(out.cancel_on_disconnect);
	g_assert_true(out.validate_only);
	g_assert_cmpstr(label, ==, "web:alice");
}

/* Each key alone changes only its own field. */
static void
test_each_key_alone(void)
{
	CgGenerationOptions defaults;

	cg_generation_options_init(&defaults);
	for (guint i = 0; i < 6; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *label = NULL;
		CgGenerationOptions out, expected = defaults;
		GVariant *options;

		switch (i) {
		case 0:
			options = one_option("timeout_ms", g_variant_new_uint32(1));
			expected.timeout_ms = 1;
			break;
		case 1:
			options = one_option("update_interval_ms", g_variant_new_uint32(60000));
			expected.update_interval_ms = 60000;
			break;
		case 2:
			options = one_option("enable_cancellation", g_variant_new_boolean(FALSE));
			expected.enable_cancellation = FALSE;
			break;
		case 3:
			options = one_option("enable_persistence", g_variant_new_boolean(TRUE));
			expected.enable_persistence = TRUE;
			break;
		case 4:
			options = one_option("cancel_on_disconnect", g_variant_new_boolean(TRUE));
			expected.cancel_on_disconnect = TRUE;
			break;
		default:
			options = one_option("validate_only", g_variant_new_boolean(TRUE));
			expected.validate_only = TRUE;
			break;
		}
		g_assert_true(parse(options, &out, &label, &error));
		g_assert_no_error(error);
		g_assert_null(label);
		g_assert_cmpuint(out.timeout_ms, ==, expected.timeout_ms);
		g_assert_cmpuint(out.update_interval_ms, ==, expected.update_interval_ms);
		g_assert_cmpint(out.enable_cancellation, ==, expected.enable_cancellation);
		g_assert_cmpint(out.enable_persistence, ==, expected.enable_persistence);
		g_assert_cmpint(out.cancel_on_disconnect, ==, expected.cancel_on_disconnect);
		g_assert_cmpint(out.validate_only, ==, expected.validate_only);
	}
}

static void
test_unknown_key(void)
{
	assert_refused("timeout", g_variant_new_uint32(1), "unknown option 'timeout'");
	/* the list of known keys helps the caller */
	assert_refused("Timeout_ms", g_variant_new_uint32(1), "known: timeout_ms");
	assert_refused("", g_variant_new_boolean(TRUE), "unknown option ''");
	assert_refused("bogus", g_variant_new_string("pdf"), "unknown option 'bogus'");
	/* a key the tracker has but the contract does not */
	assert_refused("owner_uid", g_variant_new_uint32(0), "unknown option 'owner_uid'");
}

/* One unknown key among good ones still fails the whole call. */
static void
test_unknown_among_known(void)
{
	GVariant *options = g_variant_new_parsed(
	    "{'timeout_ms': <@u 1000>, 'owner_label': <'web:bob'>, 'extra': <true>}");
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	CgGenerationOptions out;

	g_assert_false(parse(options, &out, &label, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "'extra'"));
	/* the label parsed before the failure is not leaked to the caller */
	g_assert_null(label);
}

static void
test_wrong_types(void)
{
	/* the wrong type is named, with the expected one */
	assert_refused("timeout_ms", g_variant_new_int32(1000),
		       "option timeout_ms: expected type 'u', got 'i'");
	assert_refused("timeout_ms", g_variant_new_uint64(1000), "expected type 'u', got 't'");
	assert_refused("timeout_ms", g_variant_new_string("1000"), "expected type 'u', got 's'");
	assert_refused("update_interval_ms", g_variant_new_double(5.0),
		       "option update_interval_ms: expected type 'u', got 'd'");
	assert_refused("enable_cancellation", g_variant_new_uint32(1),
		       "option enable_cancellation: expected type 'b', got 'u'");
	assert_refused("enable_persistence", g_variant_new_string("true"),
		       "option enable_persistence: expected type 'b', got 's'");
	assert_refused("cancel_on_disconnect", g_variant_new_byte(1),
		       "option cancel_on_disconnect: expected type 'b', got 'y'");
	assert_refused("validate_only", g_variant_new_string("yes"),
		       "option validate_only: expected type 'b', got 's'");
	assert_refused("owner_label", g_variant_new_object_path("/web/alice"),
		       "option owner_label: expected type 's', got 'o'");
	assert_refused("owner_label", g_variant_new_uint32(7), "expected type 's', got 'u'");
	/* a variant inside the variant is a wrong type too, not unwrapped */
	assert_refused("timeout_ms", g_variant_new_variant(g_variant_new_uint32(1000)),
		       "expected type 'u', got 'v'");
}

static void
test_ranges(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	CgGenerationOptions out;

	assert_refused("timeout_ms", g_variant_new_uint32(0),
		       "option timeout_ms: 0 is out of range (1–86400000)");
	assert_refused("timeout_ms", g_variant_new_uint32(86400001), "86400001 is out of range");
	assert_refused("timeout_ms", g_variant_new_uint32(G_MAXUINT32), "out of range");
	assert_refused("update_interval_ms", g_variant_new_uint32(60001),
		       "option update_interval_ms: 60001 is out of range (0–60000)");

	/* the limits themselves are accepted */
	g_assert_true(
	    parse(one_option("timeout_ms", g_variant_new_uint32(86400000)), &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(out.timeout_ms, ==, 86400000);
}

static void
test_owner_label(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	g_autofree char *max = g_strnfill(64, 'a');
	g_autofree char *too_long = g_strnfill(65, 'a');
	g_autofree char *e32 = cg_test_repeat("é", 32);
	g_autofree char *e33 = cg_test_repeat("é", 33);
	CgGenerationOptions out;

	g_assert_true(
	    parse(one_option("owner_label", g_variant_new_string(max)), &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(label, ==, max);
	g_clear_pointer(&label, g_free);

	/* 64 bytes, not characters: 32 two-byte characters are the most */
	g_assert_true(
	    parse(one_option("owner_label", g_variant_new_string(e32)), &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(label), ==, 64);
	g_clear_pointer(&label, g_free);
	assert_refused("owner_label", g_variant_new_string(e33),
		       "option owner_label: must be 1–64 bytes");

	assert_refused("owner_label", g_variant_new_string(""),
		       "option owner_label: must be 1–64 bytes");
	assert_refused("owner_label", g_variant_new_string(too_long),
		       "option owner_label: must be 1–64 bytes");
	assert_refused("owner_label", g_variant_new_string("web\nalice"),
		       "option owner_label: contains a control character (U+000A)");
	assert_refused("owner_label",
		       g_variant_new_string("web\xc2\x85"
					    "alice"),
		       "option owner_label: contains a control character (U+0085)");
}

/* output_format: "pdf" or "zip", nothing else (the message names the
 * option and the values allowed, and escapes what the caller sent). */
static void
test_output_format(void)
{
	g_autoptr(GError) error = NULL;
	CgGenerationOptions out;
	char *label = NULL;

	g_assert_true(
	    parse(one_option("output_format", g_variant_new_string("zip")), &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpint(out.output_format, ==, CG_OUTPUT_FORMAT_ZIP);
	g_assert_true(
	    parse(one_option("output_format", g_variant_new_string("pdf")), &out, &label, &error));
	g_assert_cmpint(out.output_format, ==, CG_OUTPUT_FORMAT_PDF);

	assert_refused("output_format", g_variant_new_string("tar"),
		       "option output_format: unknown value 'tar' (allowed: pdf, zip)");
	assert_refused("output_format", g_variant_new_string("ZIP"),
		       "unknown value 'ZIP' (allowed: pdf, zip)");
	assert_refused("output_format", g_variant_new_string(""),
		       "unknown value '' (allowed: pdf, zip)");
	assert_refused("output_format", g_variant_new_string("zip\x1b[2J"),
		       "unknown value 'zip\\033[2J'");
	assert_refused("output_format", g_variant_new_boolean(TRUE),
		       "option output_format: expected type 's', got 'b'");
	assert_refused("output_format", g_variant_new_uint32(1), "expected type 's', got 'u'");
}

/* The last of repeated keys wins, for the label without a leak. */
static void
test_repeated_key(void)
{
	/* an array of entries, so the keys can repeat */
	GVariant *options =
	    g_variant_new_parsed("@a{sv} [{'owner_label', <'first'>}, {'timeout_ms', <@u 10>},"
				 " {'owner_label', <'second'>}, {'timeout_ms', <@u 20>}]");
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	CgGenerationOptions out;

	g_assert_cmpuint(g_variant_n_children(options), ==, 4);
	g_assert_true(parse(options, &out, &label, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(label, ==, "second");
	g_assert_cmpuint(out.timeout_ms, ==, 20);
}

/* A key with a control character is refused by the string check, before it
 * is looked up, and is not echoed raw in the message. */
static void
test_key_control_character(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *label = NULL;
	CgGenerationOptions out;

	g_assert_false(
	    parse(one_option("timeout_ms\x1b[2J", g_variant_new_uint32(1)), &out, &label, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==,
			"options: a key: contains a control character (U+001B)");
	g_assert_null(strchr(error->message, '\x1b'));
}

static void
assert_string_refused(const char *value, const char *message)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(cg_check_string_argument("transaction_id", value, &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, message);
}

static void
test_check_string_argument(void)
{
	const char *good[] = {
	    "",
	    "tx-1",
	    "with space and ~ tilde",
	    "Grüße, 証明書, emoji 🎓",
	    "\u00a0no-break space (U+00A0, just past C1)",
	    "\u2028line separator is not C0/C1",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_true(cg_check_string_argument("transaction_id", good[i], &error));
		g_assert_no_error(error);
	}
	/* the NULL error is allowed */
	g_assert_false(cg_check_string_argument("x", "\t", NULL));

	/* C0, at both ends of the range, and where it sits in the string */
	assert_string_refused("\x01", "transaction_id: contains a control character (U+0001)");
	assert_string_refused("a\tb", "transaction_id: contains a control character (U+0009)");
	assert_string_refused("end\r", "transaction_id: contains a control character (U+000D)");
	assert_string_refused("\x1f", "transaction_id: contains a control character (U+001F)");
	/* DEL */
	assert_string_refused("a\x7f", "transaction_id: contains a control character (U+007F)");
	/* C1, both ends (U+0080 and U+009F as UTF-8) */
	assert_string_refused("\xc2\x80", "transaction_id: contains a control character (U+0080)");
	assert_string_refused("x\xc2\x9b[31m",
			      "transaction_id: contains a control character (U+009B)");
	assert_string_refused("\xc2\x9f", "transaction_id: contains a control character (U+009F)");
	/* the first one is named */
	assert_string_refused("ok\x07then\x1b",
			      "transaction_id: contains a control character (U+0007)");

	/* not UTF-8: a lone continuation byte, a raw C1 byte, an overlong form,
	 * a surrogate, a truncated sequence */
	assert_string_refused("\x80", "transaction_id: not valid UTF-8");
	assert_string_refused("a\x9b", "transaction_id: not valid UTF-8");
	assert_string_refused("\xc0\xaf", "transaction_id: not valid UTF-8");
	assert_string_refused("\xed\xa0\x80", "transaction_id: not valid UTF-8");
	assert_string_refused("\xe2\x82", "transaction_id: not valid UTF-8");
}

/* The message names the argument it was given. */
static void
test_check_string_argument_name(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(cg_check_string_argument("template_id", "classic\n", &error));
	g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_str_has_prefix(error->message, "template_id: "));
}

static void
test_owner_label_is_valid(void)
{
	g_autofree char *max = g_strnfill(64, 'x');
	g_autofree char *too_long = g_strnfill(65, 'x');

	g_assert_true(cg_owner_label_is_valid("a"));
	g_assert_true(cg_owner_label_is_valid("web:alice@example.org"));
	g_assert_true(cg_owner_label_is_valid("証明書"));
	g_assert_true(cg_owner_label_is_valid(max));
	g_assert_false(cg_owner_label_is_valid(""));
	g_assert_false(cg_owner_label_is_valid(too_long));
	g_assert_false(cg_owner_label_is_valid("tab\there"));
	g_assert_false(cg_owner_label_is_valid("del\x7f"));
	g_assert_false(cg_owner_label_is_valid("c1\xc2\x85"));
	g_assert_false(cg_owner_label_is_valid("bad\xff"));
}

static const CgTestCase cases[] = {
    {"/options/defaults", test_defaults},
    {"/options/all-keys", test_all_keys},
    {"/options/each-key-alone", test_each_key_alone},
    {"/options/unknown-key", test_unknown_key},
    {"/options/unknown-among-known", test_unknown_among_known},
    {"/options/wrong-types", test_wrong_types},
    {"/options/ranges", test_ranges},
    {"/options/owner-label", test_owner_label},
    {"/options/output-format", test_output_format},
    {"/options/repeated-key", test_repeated_key},
    {"/options/key-control-character", test_key_control_character},
    {"/options/check-string-argument", test_check_string_argument},
    {"/options/check-string-argument-name", test_check_string_argument_name},
    {"/options/owner-label-is-valid", test_owner_label_is_valid},
};

CG_TEST_MAIN(cases)

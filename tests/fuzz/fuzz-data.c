/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* data_json as any caller of StartGeneration sends it: cg_data_parse()
 * with the shipped "classic" template's rules and certgend's default
 * limits. Besides the sanitizers, what is accepted must be what the rules
 * say (every recipient has its required fields, no control characters),
 * its canonical JSON must parse again to the same recipient, and every
 * error must be InvalidData with a UTF-8 message. */
#include <stdint.h>
#include <string.h>

#include "cg-data.h"
#include "cg-error.h"
#include "cg-template.h"

#define FUZZ_MAX_BYTES (16 * 1024 * 1024)
#define FUZZ_MAX_RECIPIENTS 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GLogWriterOutput
fuzz_quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		return g_log_writer_default(level, fields, n_fields, user_data);
	return G_LOG_WRITER_HANDLED;
}

static const GPtrArray *
fuzz_rules(void)
{
	static CgTemplate *classic;

	if (classic == NULL) {
		const char *root = g_getenv("CERTGEN_SOURCE_ROOT");
		g_autofree char *dir = g_build_filename(root != NULL ? root : CG_FUZZ_SOURCE_ROOT,
							"data", "templates", NULL);
		const char *dirs[] = {dir, NULL};
		g_autoptr(CgTemplateStore) store = cg_template_store_new(dirs);
		g_autoptr(GError) error = NULL;

		g_log_set_writer_func(fuzz_quiet_writer, NULL, NULL);
		classic = cg_template_store_load(store, "classic", NULL, &error);
		g_assert_no_error(error);
	}
	return cg_template_get_rules(classic);
}

static void
fuzz_check_recipient(const GPtrArray *rules, const CgRecipient *recipient)
{
	g_autofree char *canonical = cg_recipient_canonical_json(recipient);
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) again = NULL;
	g_autofree char *canonical_again = NULL;

	for (guint i = 0; i < rules->len; i++) {
		const CgFieldRule *rule = g_ptr_array_index(rules, i);
		const char *value = cg_recipient_get(recipient, rule->name);

		if (value == NULL) {
			g_assert_false(rule->required);
			continue;
		}
		g_assert_true(g_utf8_validate(value, -1, NULL));
		for (const char *p = value; *p != '\0'; p++)
			g_assert_true((guchar)*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r');
		if (rule->type == CG_FIELD_TYPE_DATE)
			g_assert_true(cg_data_date_is_valid(value));
	}
	/* the canonical JSON is one recipient again, with the same fields */
	again = cg_data_parse(canonical, strlen(canonical), rules, 0, 1, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(cg_data_get_n_recipients(again), ==, 1);
	canonical_again = cg_recipient_canonical_json(cg_data_get_recipient(again, 0));
	g_assert_cmpstr(canonical_again, ==, canonical);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const GPtrArray *rules = fuzz_rules();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgData) parsed = cg_data_parse((const char *)data, size, rules, FUZZ_MAX_BYTES,
						 FUZZ_MAX_RECIPIENTS, NULL, &error);

	if (parsed == NULL) {
		g_assert_error(error, CG_ERROR, CG_ERROR_INVALID_DATA);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		g_assert_nonnull(strstr(error->message, ": "));
		return 0;
	}
	g_assert_no_error(error);
	g_assert_cmpuint(cg_data_get_n_recipients(parsed), >=, 1);
	g_assert_cmpuint(cg_data_get_n_recipients(parsed), <=, FUZZ_MAX_RECIPIENTS);
	for (guint i = 0; i < cg_data_get_n_recipients(parsed); i++)
		fuzz_check_recipient(rules, cg_data_get_recipient(parsed, i));
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A POST /api/certificates body, as any web user sends it: the bridge's
 * conversion to StartGeneration's arguments
 * (cg_http_start_parameters_from_body(), no server, no bus). Besides the
 * sanitizers: what is passed on is what D-Bus can carry and certgend's
 * parser takes (data_json a strict JSON object, valid UTF-8, no NUL); a
 * refusal is a CG_HTTP_ERROR with a UTF-8 message, and an invalid_data one
 * names its path and renders as JSON. */
#include <stdint.h>
#include <string.h>

#include "cg-http-error.h"
#include "cg-http-json.h"
#include "cg-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_json(const char *text)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = cg_json_parse(text, strlen(text), NULL, &error);

	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *data_path = NULL;
	g_autoptr(GVariant) parameters = NULL;
	const char *transaction_id, *template_id, *data_json;
	g_autoptr(GVariant) options = NULL;
	const char *owner = NULL;
	g_autofree char *body = NULL;

	parameters = cg_http_start_parameters_from_body((const char *)data, size, 32, "fuzz",
							&data_path, &error);
	if (parameters == NULL) {
		g_assert_nonnull(error);
		g_assert_true(error->domain == CG_HTTP_ERROR);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		if (data_path != NULL) {
			g_autofree char *json =
			    cg_http_invalid_data_json(error->message, data_path);

			g_assert_cmpint(error->code, ==, CG_HTTP_ERROR_INVALID_DATA);
			g_assert_true(g_str_has_prefix(error->message, data_path));
			fuzz_check_json(json);
		} else {
			g_assert_cmpint(error->code, !=, CG_HTTP_ERROR_INVALID_DATA);
		}
		return 0;
	}
	g_assert_no_error(error);
	g_assert_null(data_path);
	g_assert_true(g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sssa{sv})")));
	g_variant_get(parameters, "(&s&s&s@a{sv})", &transaction_id, &template_id, &data_json,
		      &options);
	g_assert_cmpuint(strlen(transaction_id), >=, 1);
	g_assert_cmpuint(strlen(transaction_id), <=, 128);
	g_assert_true(g_utf8_validate(template_id, -1, NULL));
	/* the data as sent: a part of the body (which has no NUL, being
	 * accepted), strict JSON again */
	body = g_strndup((const char *)data, size);
	g_assert_nonnull(strstr(body, data_json));
	fuzz_check_json(data_json);
	g_assert_true(g_variant_lookup(options, "owner_label", "&s", &owner));
	g_assert_cmpstr(owner, ==, "fuzz");
	return 0;
}

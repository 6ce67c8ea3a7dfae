/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CSV recipient data as certgenctl --csv and certgen-http's text/csv bodies
 * take it: cg_csv_to_data_json() with a shared field and small caps.
 * Besides the sanitizers, what is accepted must be strict JSON (cg-json)
 * of the data's shape, {shared..., "recipients": [objects of strings]}, with
 * at most the rows allowed; every error is a CG_CSV_ERROR with a UTF-8
 * message and at most CG_CSV_MAX_ISSUES issues, each a UTF-8 path and
 * message; and the input, as a service message, maps to UTF-8. */
#include <stdint.h>
#include <string.h>

#include "cg-csv.h"
#include "cg-json.h"

#define FUZZ_MAX_BYTES (1024 * 1024)
#define FUZZ_MAX_ROWS 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_json(const char *json, gsize length)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = cg_json_parse(json, length, NULL, &error);
	JsonObject *object;
	JsonArray *list;

	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	object = json_node_get_object(root);
	g_assert_cmpstr(json_object_get_string_member(object, "courseName"), ==, "Fuzzing");
	list = json_object_get_array_member(object, "recipients");
	g_assert_cmpuint(json_array_get_length(list), >=, 1);
	g_assert_cmpuint(json_array_get_length(list), <=, FUZZ_MAX_ROWS);
	for (guint i = 0; i < json_array_get_length(list); i++) {
		JsonObjectIter iter;
		const char *name;
		JsonNode *value;

		json_object_iter_init(&iter, json_array_get_object_element(list, i));
		while (json_object_iter_next(&iter, &name, &value)) {
			g_assert_cmpint(json_node_get_value_type(value), ==, G_TYPE_STRING);
			g_assert_cmpstr(json_node_get_string(value), !=, "");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const set[] = {"courseName=Fuzzing", NULL};
	CgCsvOptions options = {.max_bytes = FUZZ_MAX_BYTES, .max_rows = FUZZ_MAX_ROWS, .set = set};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) issues = NULL;
	g_autofree char *json = NULL;
	gsize length = 0;

	json = cg_csv_to_data_json((const char *)data, size, &options, &length, &issues, &error);
	if (json != NULL) {
		g_assert_no_error(error);
		g_assert_null(issues);
		fuzz_check_json(json, length);
	} else {
		g_assert_nonnull(error);
		g_assert_true(error->domain == CG_CSV_ERROR);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		g_assert_true(issues == NULL || issues->len <= CG_CSV_MAX_ISSUES);
		for (guint i = 0; issues != NULL && i < issues->len; i++) {
			const CgCsvIssue *issue = g_ptr_array_index(issues, i);

			g_assert_true(g_utf8_validate(issue->path, -1, NULL));
			g_assert_true(g_utf8_validate(issue->message, -1, NULL));
		}
	}
	/* the same bytes as a message certgend might send */
	if (g_utf8_validate_len((const char *)data, size, NULL) &&
	    memchr(data, '\0', size) == NULL) {
		g_autofree char *text = g_strndup((const char *)data, size);
		g_autofree char *mapped = cg_csv_map_message(text, NULL);

		g_assert_true(g_utf8_validate(mapped, -1, NULL));
	}
	return 0;
}

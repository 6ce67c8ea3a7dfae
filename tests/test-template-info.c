/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-template-info.h"
#include "cg-test-util.h"

/* ListTemplates' entries (DESIGN.md, Wave 2): built from the shipped
 * templates, every key with its type and the values of layout.json. */

static CgTemplateStore *
shipped_store(void)
{
	g_autofree char *dir = cg_test_shipped_templates_dir();
	const char *dirs[] = {dir, NULL};

	return cg_template_store_new(dirs);
}

static void
assert_keys(GVariant *dict, const char *const *keys_and_types)
{
	gsize n = 0;

	for (; keys_and_types[n * 2] != NULL; n++) {
		g_autoptr(GVariant) value =
		    g_variant_lookup_value(dict, keys_and_types[n * 2], NULL);

		if (value == NULL)
			g_error("no key %s", keys_and_types[n * 2]);
		g_assert_cmpstr(g_variant_get_type_string(value), ==, keys_and_types[n * 2 + 1]);
	}
	g_assert_cmpuint(g_variant_n_children(dict), ==, n);
}

/* One field's entry by name. */
static GVariant *
find_field(GVariant *fields, const char *name)
{
	for (gsize i = 0; i < g_variant_n_children(fields); i++) {
		g_autoptr(GVariant) field = g_variant_get_child_value(fields, i);
		const char *field_name = NULL;

		g_assert_true(g_variant_lookup(field, "name", "&s", &field_name));
		if (g_str_equal(field_name, name))
			return g_steal_pointer(&field);
	}
	g_error("no field %s", name);
	return NULL;
}

/* In the entry (field NULL) or a field's entry: @key's value as
 * g_variant_print() says. */
typedef struct {
	const char *field, *key, *printed;
} Expected;

/* The value of @key in @dict printed (GVariant text format), or NULL. */
static char *
print_value(GVariant *dict, const char *key)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, NULL);

	return value != NULL ? g_variant_print(value, FALSE) : NULL;
}

static void
test_template_info_entry(void)
{
	static const char *const entry_keys[] = {
	    "id", "s",	       "title", "s",	  "description", "s",  "width_pt",
	    "d",  "height_pt", "d",	"fields", "aa{sv}",	 NULL,
	};
	static const char *const field_keys[] = {
	    "name",	  "s", "label",	     "s", "required", "b", "type", "s",
	    "min_length", "u", "max_length", "u", "shared",   "b", NULL,
	};
	static const char *const names[] = {"recipientName", "courseName", "description",
					    "issueDate", "issuer"};
	static const Expected expected[] = {
	    {NULL, "id", "'classic'"},
	    {NULL, "title", "'Classic'"},
	    {NULL, "width_pt", "842.0"},
	    {NULL, "height_pt", "595.0"},
	    {"recipientName", "label", "'Recipient name'"},
	    {"recipientName", "required", "true"},
	    {"recipientName", "type", "'string'"},
	    {"recipientName", "min_length", "1"},
	    {"recipientName", "max_length", "128"},
	    {"issueDate", "label", "'Issue date'"},
	    {"issueDate", "type", "'date'"},
	    {"issueDate", "min_length", "0"}, /* required, but lengths are for strings */
	    {"issueDate", "max_length", "0"},
	    {"issuer", "required", "false"},
	    {"issuer", "min_length", "0"},
	    {"description", "max_length", "1000"},
	};
	g_autoptr(CgTemplateStore) store = shipped_store();
	g_autoptr(GError) error = NULL;
	g_autoptr(CgTemplate) tmpl = cg_template_store_load(store, "classic", NULL, &error);
	g_autoptr(GVariant) entry = NULL;
	g_autoptr(GVariant) fields = NULL;

	g_assert_no_error(error);
	entry = g_variant_ref_sink(cg_template_info_new(tmpl));
	assert_keys(entry, entry_keys);

	/* the data fields only, in layout order: no static text, number or QR */
	fields = g_variant_lookup_value(entry, "fields", G_VARIANT_TYPE("aa{sv}"));
	g_assert_cmpuint(g_variant_n_children(fields), ==, G_N_ELEMENTS(names));
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GVariant) field = g_variant_get_child_value(fields, i);
		g_autofree char *name = print_value(field, "name");
		g_autofree char *quoted = g_strdup_printf("'%s'", names[i]);
		g_autofree char *shared = print_value(field, "shared");

		assert_keys(field, field_keys);
		g_assert_cmpstr(name, ==, quoted);
		/* a batch may share any field (cg-data.c) */
		g_assert_cmpstr(shared, ==, "true");
	}

	for (gsize i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_autoptr(GVariant) field =
		    expected[i].field != NULL ? find_field(fields, expected[i].field) : NULL;
		g_autofree char *printed =
		    print_value(field != NULL ? field : entry, expected[i].key);

		g_test_message("%s.%s", expected[i].field ? expected[i].field : "",
			       expected[i].key);
		g_assert_cmpstr(printed, ==, expected[i].printed);
	}
}

static void
test_template_info_list(void)
{
	g_autoptr(CgTemplateStore) store = shipped_store();
	g_autoptr(GPtrArray) templates = cg_template_store_list(store, NULL);
	g_autoptr(GVariant) list = g_variant_ref_sink(cg_template_info_new_list(templates));
	g_autoptr(GPtrArray) none = g_ptr_array_new();
	g_autoptr(GVariant) empty = g_variant_ref_sink(cg_template_info_new_list(none));
	const char *id = NULL;

	g_assert_cmpstr(g_variant_get_type_string(list), ==, "aa{sv}");
	g_assert_cmpuint(g_variant_n_children(list), ==, 2);
	for (gsize i = 0; i < 2; i++) {
		g_autoptr(GVariant) entry = g_variant_get_child_value(list, i);

		g_assert_true(g_variant_lookup(entry, "id", "&s", &id));
		g_assert_cmpstr(id, ==, i == 0 ? "classic" : "modern");
	}
	g_assert_cmpstr(g_variant_get_type_string(empty), ==, "aa{sv}");
	g_assert_cmpuint(g_variant_n_children(empty), ==, 0);
}

static const CgTestCase cases[] = {
    {"/template-info/entry", test_template_info_entry},
    {"/template-info/list", test_template_info_list},
};

CG_TEST_MAIN(cases)

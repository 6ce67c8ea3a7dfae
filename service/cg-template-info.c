/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-template-info.h"

#include "cg-data.h"

static const char *
cg_field_type_to_string(CgFieldType type)
{
	return type == CG_FIELD_TYPE_DATE ? "date" : "string";
}

static GVariant *
cg_template_info_field(const CgTemplateField *field)
{
	const CgFieldRule *rule = field->rule;
	gboolean is_date = rule->type == CG_FIELD_TYPE_DATE;
	GVariantDict dict;

	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "name", "s", field->key);
	g_variant_dict_insert(&dict, "label", "s", field->label);
	g_variant_dict_insert(&dict, "required", "b", rule->required);
	g_variant_dict_insert(&dict, "type", "s", cg_field_type_to_string(rule->type));
	/* lengths are for strings; a date is YYYY-MM-DD whatever they say */
	g_variant_dict_insert(&dict, "min_length", "u", is_date ? 0 : rule->min_length);
	g_variant_dict_insert(&dict, "max_length", "u", is_date ? 0 : rule->max_length);
	g_variant_dict_insert(&dict, "shared", "b", cg_field_rule_is_shared(rule));
	return g_variant_dict_end(&dict);
}

GVariant *
cg_template_info_new(const CgTemplate *tmpl)
{
	const GPtrArray *fields;
	GVariantBuilder builder;
	GVariantDict dict;
	const char *title = NULL;
	const char *description = NULL;
	double width = 0, height = 0;

	g_return_val_if_fail(tmpl != NULL, NULL);

	fields = cg_template_get_fields(tmpl);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);

		if (field->kind == CG_TEMPLATE_FIELD_DATA)
			g_variant_builder_add_value(&builder, cg_template_info_field(field));
	}

	cg_template_get_page_size(tmpl, &width, &height);
	cg_template_get_texts(tmpl, &title, &description);
	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "id", "s", cg_template_get_id(tmpl));
	g_variant_dict_insert(&dict, "title", "s", title);
	g_variant_dict_insert(&dict, "description", "s", description);
	g_variant_dict_insert(&dict, "width_pt", "d", width);
	g_variant_dict_insert(&dict, "height_pt", "d", height);
	g_variant_dict_insert_value(&dict, "fields", g_variant_builder_end(&builder));
	return g_variant_dict_end(&dict);
}

GVariant *
cg_template_info_new_list(const GPtrArray *templates)
{
	GVariantBuilder builder;

	g_return_val_if_fail(templates != NULL, NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < templates->len; i++)
		g_variant_builder_add_value(&builder,
					    cg_template_info_new(g_ptr_array_index(templates, i)));
	return g_variant_builder_end(&builder);
}

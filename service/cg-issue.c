/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-issue.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cg-render.h"
#include "cg-verification.h"

struct _CgIssue {
	GPtrArray *codes; /* of char *, NULL-terminated */
	guint n_pages;
};

CgIssue *
cg_issue_new(guint n_pages, GError **error)
{
	g_autoptr(CgIssue) issue = g_new0(CgIssue, 1);

	issue->n_pages = n_pages;
	issue->codes = g_ptr_array_new_full(n_pages + 1, g_free);
	for (guint i = 0; i < n_pages; i++) {
		char *code = cg_verification_code_new(error);

		if (code == NULL)
			return NULL;
		g_ptr_array_add(issue->codes, code);
	}
	g_ptr_array_add(issue->codes, NULL);
	return g_steal_pointer(&issue);
}

void
cg_issue_free(CgIssue *issue)
{
	if (issue == NULL)
		return;
	if (issue->codes != NULL) {
		/* the codes are secrets: not left in freed memory */
		for (guint i = 0; i < issue->codes->len; i++) {
			char *code = issue->codes->pdata[i];

			if (code != NULL)
				explicit_bzero(code, strlen(code));
		}
		g_ptr_array_unref(issue->codes);
	}
	g_free(issue);
}

const char *const *
cg_issue_get_codes(const CgIssue *issue)
{
	return (const char *const *)issue->codes->pdata;
}

/* The printed fields of @recipient: the template's data fields with a value. */
static char *
cg_issue_fields_json(CgTemplate *tmpl, const CgRecipient *recipient)
{
	const GPtrArray *fields = cg_template_get_fields(tmpl);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	for (guint i = 0; i < fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(fields, i);
		const char *value;

		if (field->kind != CG_TEMPLATE_FIELD_DATA || field->key == NULL)
			continue;
		value = cg_recipient_get(recipient, field->key);
		if (value == NULL || value[0] == '\0')
			continue;
		json_builder_set_member_name(builder, field->key);
		json_builder_add_string_value(builder, value);
	}
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

gboolean
cg_issue_register(const CgIssue *issue, CgRegistry *registry, CgTemplate *tmpl, const CgData *data,
		  const CgRegistryIssue *shared, guint64 first_number,
		  const char *const *page_sha256, GError **error)
{
	guint n = cg_data_get_n_recipients(data);
	g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
	g_autofree CgRegistryPage *pages = NULL;

	g_return_val_if_fail(n == issue->n_pages, FALSE);

	pages = g_new0(CgRegistryPage, n);
	for (guint i = 0; i < n; i++) {
		const CgRecipient *recipient = cg_data_get_recipient(data, i);
		g_autofree char *canonical = cg_recipient_canonical_json(recipient);
		char *number = cg_render_certificate_number(shared->issued_at_us, first_number + i);
		char *fields = cg_issue_fields_json(tmpl, recipient);
		char *data_sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canonical, -1);
		char *code_sha256 = cg_verification_code_hash(issue->codes->pdata[i]);

		g_ptr_array_add(strings, number);
		g_ptr_array_add(strings, fields);
		g_ptr_array_add(strings, data_sha256);
		g_ptr_array_add(strings, code_sha256);
		pages[i].number = number;
		pages[i].sequence = first_number + i;
		pages[i].fields_json = fields;
		pages[i].data_sha256 = data_sha256;
		pages[i].code_sha256 = code_sha256;
		pages[i].file_sha256 = page_sha256 != NULL ? page_sha256[i] : NULL;
	}
	return cg_registry_insert(registry, shared, pages, n, error);
}

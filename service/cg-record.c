/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-record.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cg-check.h"
#include "cg-error.h"
#include "cg-glyphs.h"
#include "cg-verification.h"
#include "cg-verify-input.h"

/* The hash an unknown number's code is compared with: the work (and so the
 * time) is the same as for a known one. */
#define CG_RECORD_DUMMY_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static gboolean
cg_record_not_found(GError **error)
{
	g_set_error_literal(error, CG_ERROR, CG_ERROR_NOT_FOUND, CG_RECORD_NOT_FOUND);
	return FALSE;
}

/* The printed fields (a JSON object of strings, as cg-issue.c writes it)
 * as a{ss}. */
static GVariant *
cg_record_fields(const char *fields_json)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	GVariantBuilder builder;
	JsonNode *root;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
	if (fields_json != NULL && json_parser_load_from_data(parser, fields_json, -1, NULL) &&
	    (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_OBJECT(root)) {
		JsonObject *object = json_node_get_object(root);
		g_autoptr(GList) members = json_object_get_members(object);

		for (GList *l = members; l != NULL; l = l->next) {
			JsonNode *node = json_object_get_member(object, l->data);

			if (JSON_NODE_HOLDS_VALUE(node) &&
			    json_node_get_value_type(node) == G_TYPE_STRING)
				g_variant_builder_add(&builder, "{ss}", (const char *)l->data,
						      json_node_get_string(node));
		}
	}
	return g_variant_builder_end(&builder);
}

static const char *
cg_record_string(const char *s)
{
	return s != NULL ? s : "";
}

GVariant *
cg_record_verify(CgRegistry *registry, const char *number, const char *code, GError **error)
{
	g_autoptr(CgRegistryRecord) record = NULL;
	g_autoptr(GError) error_local = NULL;
	GVariantDict dict;
	gboolean match;

	g_return_val_if_fail(registry != NULL, NULL);
	g_return_val_if_fail(number != NULL, NULL);
	g_return_val_if_fail(code != NULL, NULL);

	/* What no certificate can have (the rule the clients check too) is
	 * unknown without asking the registry: the same NotFound. */
	if (!cg_certificate_number_is_valid(number) || !cg_verification_code_is_valid(code)) {
		cg_record_not_found(error);
		return NULL;
	}
	record = cg_registry_lookup(registry, number, &error_local);
	if (record == NULL && !g_error_matches(error_local, CG_ERROR, CG_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	match = cg_verification_code_matches(code, record != NULL ? record->code_sha256
								  : CG_RECORD_DUMMY_HASH);
	if (record == NULL || !match) {
		cg_record_not_found(error);
		return NULL;
	}
	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "certificate_number", "s", record->number);
	g_variant_dict_insert(&dict, "status", "s",
			      record->revoked_at_us != 0 ? "revoked" : "valid");
	g_variant_dict_insert(&dict, "issued_at_us", "x", record->issued_at_us);
	g_variant_dict_insert(&dict, "revoked_at_us", "x", record->revoked_at_us);
	g_variant_dict_insert(&dict, "revocation_reason", "s",
			      cg_record_string(record->revocation_reason));
	g_variant_dict_insert(&dict, "template_id", "s", cg_record_string(record->template_id));
	g_variant_dict_insert_value(&dict, "fields", cg_record_fields(record->fields_json));
	g_variant_dict_insert(&dict, "data_sha256", "s", cg_record_string(record->data_sha256));
	g_variant_dict_insert(&dict, "file_sha256", "s", cg_record_string(record->file_sha256));
	return g_variant_dict_end(&dict);
}

gboolean
cg_record_check_reason(const char *reason, GError **error)
{
	glong length;

	if (!cg_check_string_argument("reason", reason, error))
		return FALSE;
	length = g_utf8_strlen(reason, -1);
	if (length == 0 || length > CG_RECORD_REASON_MAX) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "reason: must be 1–%d characters, not %ld", CG_RECORD_REASON_MAX,
			    length);
		return FALSE;
	}
	for (const char *p = reason; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (cg_glyphs_is_bidi_control(c)) {
			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
				    "reason: contains a bidi control character (U+%04X)", c);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
cg_record_is_owner(CgRegistry *registry, guint32 uid, const char *number)
{
	g_autoptr(CgRegistryRecord) record = cg_registry_lookup(registry, number, NULL);

	return record != NULL && record->owner_uid == uid;
}

gboolean
cg_record_revoke(CgRegistry *registry, guint32 uid, gboolean is_admin, const char *number,
		 const char *reason, GError **error)
{
	g_autoptr(CgRegistryRecord) record = NULL;
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(registry != NULL, FALSE);
	g_return_val_if_fail(number != NULL, FALSE);
	g_return_val_if_fail(reason != NULL, FALSE);

	if (!cg_record_check_reason(reason, error))
		return FALSE;
	if (!cg_certificate_number_is_valid(number))
		return cg_record_not_found(error);
	record = cg_registry_lookup(registry, number, &error_local);
	if (record == NULL && !g_error_matches(error_local, CG_ERROR, CG_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (record == NULL || (record->owner_uid != uid && !is_admin))
		return cg_record_not_found(error);
	if (!cg_registry_revoke(registry, number, reason, g_get_real_time(), &error_local)) {
		if (g_error_matches(error_local, CG_ERROR, CG_ERROR_NOT_FOUND))
			return cg_record_not_found(error);
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a request entry. The bridge wrote it, but a bridge of another
 * version, a bug or anyone with access to Redis may have written anything:
 * every field is checked before the relay acts on it, and a bad entry is an
 * error (the caller acknowledges and logs it), never a crash.
 */
#include "cg-relay-entry.h"

#include <string.h>

#define CG_RELAY_MAX_USER_BYTES 256
/* certgend's own limit on data_json is [limits] max_data_bytes (16 MiB by
 * default); a little more for the rest of the arguments. */
#define CG_RELAY_MAX_PARAMS_BYTES (64u * 1024 * 1024)
#define CG_RELAY_MAX_AT_MS_DIGITS 19

gboolean
cg_relay_id_is_valid(const char *id, gsize len)
{
	if (id == NULL || len != 32)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isdigit(id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
user_is_valid(const char *user, gsize len)
{
	const char *end = user + len;

	if (len == 0 || len > CG_RELAY_MAX_USER_BYTES || memchr(user, '\0', len) != NULL ||
	    !g_utf8_validate(user, (gssize)len, NULL))
		return FALSE;
	for (const char *p = user; p < end; p = g_utf8_next_char(p)) {
		if (g_unichar_iscntrl(g_utf8_get_char(p)))
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_at_ms(const char *text, gsize len, gint64 *out)
{
	g_autofree char *copy = NULL;
	guint64 value = 0;

	if (len == 0 || len > CG_RELAY_MAX_AT_MS_DIGITS)
		return FALSE;
	copy = g_strndup(text, len);
	if (strlen(copy) != len ||
	    !g_ascii_string_to_unsigned(copy, 10, 0, G_MAXINT64, &value, NULL))
		return FALSE;
	*out = (gint64)value;
	return TRUE;
}

/* The params variant, or NULL with @error. */
static GVariant *
parse_params(const char *data, gsize len, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) params = NULL;
	g_autoptr(GVariant) options = NULL;
	g_autoptr(GVariant) label = NULL;

	if (len > CG_RELAY_MAX_PARAMS_BYTES) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "params: %" G_GSIZE_FORMAT " bytes, more than %u", len,
			    CG_RELAY_MAX_PARAMS_BYTES);
		return NULL;
	}
	/* a copy: g_malloc()'s alignment, and the reply is freed after the call */
	bytes = g_bytes_new(data, len);
	params = g_variant_ref_sink(
	    g_variant_new_from_bytes(G_VARIANT_TYPE("(sssa{sv})"), bytes, FALSE));
	if (!g_variant_is_normal_form(params)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "params: not a (sssa{sv}) GVariant in normal form");
		return NULL;
	}
	options = g_variant_get_child_value(params, 3);
	label = g_variant_lookup_value(options, "owner_label", NULL);
	if (label != NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "params: the options must not hold owner_label");
		return NULL;
	}
	return g_steal_pointer(&params);
}

typedef struct {
	const CgRelayField *id;
	const CgRelayField *user;
	const CgRelayField *params;
	const CgRelayField *at_ms;
} CgRelayEntryFields;

static gboolean
field_is(const CgRelayField *field, const char *name)
{
	gsize len = strlen(name);

	return field->name_len == len && memcmp(field->name, name, len) == 0;
}

static gboolean
collect_fields(const CgRelayField *fields, gsize n_fields, CgRelayEntryFields *out, GError **error)
{
	static const char *const names[] = {"id", "user", "params", "at_ms"};
	const CgRelayField **slots[] = {&out->id, &out->user, &out->params, &out->at_ms};

	for (gsize i = 0; i < n_fields; i++) {
		for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
			if (!field_is(&fields[i], names[k]))
				continue;
			if (*slots[k] != NULL) {
				g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
					    "the field %s is given twice", names[k]);
				return FALSE;
			}
			*slots[k] = &fields[i];
		}
	}
	for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
		if (*slots[k] == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "the field %s is missing", names[k]);
			return FALSE;
		}
	}
	return TRUE;
}

CgRelayEntry *
cg_relay_entry_new(const char *stream_id, const CgRelayField *fields, gsize n_fields,
		   GError **error)
{
	CgRelayEntryFields found = {0};
	g_autoptr(CgRelayEntry) entry = g_new0(CgRelayEntry, 1);

	entry->stream_id = g_strdup(stream_id);
	if (!collect_fields(fields, n_fields, &found, error))
		return NULL;
	if (!cg_relay_id_is_valid(found.id->value, found.id->value_len)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "id: not 32 lowercase hex digits");
		return NULL;
	}
	if (!user_is_valid(found.user->value, found.user->value_len)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "user: not 1–%u bytes of UTF-8 without control characters",
			    CG_RELAY_MAX_USER_BYTES);
		return NULL;
	}
	if (!parse_at_ms(found.at_ms->value, found.at_ms->value_len, &entry->at_ms)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "at_ms: not a decimal count of milliseconds");
		return NULL;
	}
	entry->params = parse_params(found.params->value, found.params->value_len, error);
	if (entry->params == NULL)
		return NULL;
	entry->id = g_strndup(found.id->value, found.id->value_len);
	entry->user = g_strndup(found.user->value, found.user->value_len);
	return g_steal_pointer(&entry);
}

void
cg_relay_entry_free(CgRelayEntry *entry)
{
	if (entry == NULL)
		return;
	g_free(entry->stream_id);
	g_free(entry->id);
	g_free(entry->user);
	g_clear_pointer(&entry->params, g_variant_unref);
	g_free(entry);
}

GVariant *
cg_relay_entry_start_parameters(const CgRelayEntry *entry)
{
	const char *transaction_id, *template_id, *data_json;
	g_autoptr(GVariant) options = NULL;
	GVariantBuilder builder;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_get(entry->params, "(&s&s&s@a{sv})", &transaction_id, &template_id, &data_json,
		      &options);
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (!g_str_equal(key, "cancel_on_disconnect"))
			g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&builder, "{sv}", "owner_label", g_variant_new_string(entry->user));
	/* a relay that dies takes its generations with it: another host
	 * starts them again */
	g_variant_builder_add(&builder, "{sv}", "cancel_on_disconnect",
			      g_variant_new_boolean(TRUE));
	return g_variant_new("(sss@a{sv})", transaction_id, template_id, data_json,
			     g_variant_builder_end(&builder));
}

const char *
cg_relay_entry_get_transaction_id(const CgRelayEntry *entry)
{
	const char *transaction_id = NULL;

	g_variant_get_child(entry->params, 0, "&s", &transaction_id);
	return transaction_id;
}

const char *
cg_relay_entry_get_template_id(const CgRelayEntry *entry)
{
	const char *template_id = NULL;

	g_variant_get_child(entry->params, 1, "&s", &template_id);
	return template_id;
}

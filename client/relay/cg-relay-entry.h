/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * One entry of certgen:requests, checked: nothing read from Redis is
 * trusted. The fields (README.md, "Beyond one host"): "id" (32 lowercase
 * hex digits), "user" (the web user: 1–256 bytes of UTF-8 without control
 * characters), "params" (StartGeneration's (sssa{sv}) serialized in normal
 * form, its options without "owner_label"), "at_ms" (a decimal count of
 * milliseconds). Other fields are ignored (the schema may grow); a field
 * given twice is an error.
 */
typedef struct {
	char *stream_id; /* the entry's id in certgen:requests, for XACK / XCLAIM */
	char *id;	 /* the generation's global progress id */
	char *user;
	GVariant *params; /* (sssa{sv}) */
	gint64 at_ms;
} CgRelayEntry;

/* A field of a stream entry as Redis sent it (not NUL-terminated). */
typedef struct {
	const char *name;
	gsize name_len;
	const char *value;
	gsize value_len;
} CgRelayField;

/* Whether @id (@len bytes) is a global progress id: 32 lowercase hex digits. */
gboolean cg_relay_id_is_valid(const char *id, gsize len);

/* The checked entry, or NULL with G_IO_ERROR_INVALID_DATA naming the problem. */
CgRelayEntry *cg_relay_entry_new(const char *stream_id, const CgRelayField *fields, gsize n_fields,
				 GError **error);
void cg_relay_entry_free(CgRelayEntry *entry);

/* StartGeneration's arguments: @entry's with "owner_label" = its user and
 * "cancel_on_disconnect" = true in the options (floating). */
GVariant *cg_relay_entry_start_parameters(const CgRelayEntry *entry);
const char *cg_relay_entry_get_transaction_id(const CgRelayEntry *entry);
const char *cg_relay_entry_get_template_id(const CgRelayEntry *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRelayEntry, cg_relay_entry_free)

G_END_DECLS

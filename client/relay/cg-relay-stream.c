/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stream replies, checked (see the header). */
#include "cg-relay-stream.h"

#include <string.h>

#include "cg-relay-keys.h"

void
cg_relay_stream_ack_request(CgRedis *redis, const char *stream_id)
{
	cg_redis_sendv(redis, NULL, NULL, NULL, "XACK", CG_RELAY_REQUESTS, CG_RELAY_GROUP,
		       stream_id, NULL);
	cg_redis_sendv(redis, NULL, NULL, NULL, "XDEL", CG_RELAY_REQUESTS, stream_id, NULL);
}

const redisReply *
cg_relay_stream_entries(const redisReply *reply, const char *key)
{
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i < reply->elements; i++) {
		const redisReply *stream = reply->element[i];
		const char *name;
		gsize len = 0;

		if (stream == NULL || stream->type != REDIS_REPLY_ARRAY || stream->elements != 2)
			continue;
		name = cg_redis_reply_string(stream->element[0], &len);
		if (name == NULL || len != strlen(key) || memcmp(name, key, len) != 0)
			continue;
		if (stream->element[1] != NULL && stream->element[1]->type == REDIS_REPLY_ARRAY)
			return stream->element[1];
	}
	return NULL;
}

const char *
cg_relay_stream_entry_id(const redisReply *entry)
{
	const char *id;
	gsize len = 0;

	if (entry == NULL || entry->type != REDIS_REPLY_ARRAY || entry->elements < 1)
		return NULL;
	id = cg_redis_reply_string(entry->element[0], &len);
	if (id == NULL || len != strlen(id) || !cg_relay_stream_id_parse(id, NULL, NULL))
		return NULL;
	return id;
}

GArray *
cg_relay_stream_entry_fields(const redisReply *entry, gboolean *malformed)
{
	const redisReply *fields;
	g_autoptr(GArray) array = NULL;

	*malformed = FALSE;
	if (entry == NULL || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) {
		*malformed = TRUE;
		return NULL;
	}
	fields = entry->element[1];
	if (fields == NULL || fields->type == REDIS_REPLY_NIL)
		return NULL;
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0) {
		*malformed = TRUE;
		return NULL;
	}
	array = g_array_sized_new(FALSE, TRUE, sizeof(CgRelayField), fields->elements / 2);
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		CgRelayField field = {0};

		field.name = cg_redis_reply_string(fields->element[i], &field.name_len);
		field.value = cg_redis_reply_string(fields->element[i + 1], &field.value_len);
		if (field.name == NULL || field.value == NULL) {
			*malformed = TRUE;
			return NULL;
		}
		g_array_append_val(array, field);
	}
	return g_steal_pointer(&array);
}

char *
cg_relay_stream_field(GArray *fields, const char *name)
{
	gsize len = strlen(name);

	for (guint i = 0; fields != NULL && i < fields->len; i++) {
		const CgRelayField *field = &g_array_index(fields, CgRelayField, i);

		if (field->name_len == len && memcmp(field->name, name, len) == 0)
			return g_strndup(field->value, field->value_len);
	}
	return NULL;
}

static gboolean
parse_part(const char *start, gsize len, guint64 *out)
{
	g_autofree char *copy = g_strndup(start, len);

	if (len == 0 || len > 20)
		return FALSE;
	return g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT64, out, NULL);
}

gboolean
cg_relay_stream_id_parse(const char *text, guint64 *ms, guint64 *seq)
{
	const char *dash;
	guint64 a = 0, b = 0;

	if (text == NULL || (dash = strchr(text, '-')) == NULL)
		return FALSE;
	if (!parse_part(text, (gsize)(dash - text), &a) ||
	    !parse_part(dash + 1, strlen(dash + 1), &b))
		return FALSE;
	if (ms != NULL)
		*ms = a;
	if (seq != NULL)
		*seq = b;
	return TRUE;
}

int
cg_relay_stream_id_compare(const char *a, const char *b)
{
	guint64 a_ms = 0, a_seq = 0, b_ms = 0, b_seq = 0;

	cg_relay_stream_id_parse(a, &a_ms, &a_seq);
	cg_relay_stream_id_parse(b, &b_ms, &b_seq);
	if (a_ms != b_ms)
		return a_ms < b_ms ? -1 : 1;
	if (a_seq != b_seq)
		return a_seq < b_seq ? -1 : 1;
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cg-redis.h"
#include "cg-relay-entry.h"

G_BEGIN_DECLS

/*
 * Reading Redis's stream replies without trusting their shape: the entries
 * of an XREAD / XREADGROUP reply, an entry's id and fields, and stream ids
 * ("MS-SEQ") compared as numbers.
 */

/* Done with request @stream_id: XACK, then XDEL. The group "hosts" is the
 * stream's only reader and each entry is handled once, so an entry no host
 * will read again goes (a request carries its data_json, up to
 * certgend's max_data_bytes). Fire and forget: an entry whose XACK is lost
 * is taken over after the claim timeout, found done and acknowledged. */
void cg_relay_stream_ack_request(CgRedis *redis, const char *stream_id);

/* The entries array of @key in an XREAD or XREADGROUP reply, or NULL. */
const redisReply *cg_relay_stream_entries(const redisReply *reply, const char *key);

/* The id of an entry ([id, fields]), or NULL. */
const char *cg_relay_stream_entry_id(const redisReply *entry);

/* The fields of an entry as a GArray of CgRelayField pointing into @entry;
 * NULL when the entry has no fields (deleted) or they are not pairs of
 * strings (then *@malformed is TRUE). */
GArray *cg_relay_stream_entry_fields(const redisReply *entry, gboolean *malformed);

/* The value of @name in @fields (NUL-terminated copy), or NULL. */
char *cg_relay_stream_field(GArray *fields, const char *name);

/* Whether @text is a stream id "MS-SEQ"; its parts. */
gboolean cg_relay_stream_id_parse(const char *text, guint64 *ms, guint64 *seq);
/* <0, 0, >0 as @a is before, equal to, after @b (both valid ids). */
int cg_relay_stream_id_compare(const char *a, const char *b);

G_END_DECLS

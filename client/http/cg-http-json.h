/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Request bodies: json-glib 1.6 recurses once per nesting level and crashes
 * on very deep input, so every body is scanned first: valid UTF-8, no NUL,
 * nesting at most @max_depth. Errors are CG_HTTP_ERROR_BAD_REQUEST with a
 * message naming the problem (and its byte offset). */
gboolean cg_http_json_check(const char *data, gsize len, guint max_depth, GError **error);

/* cg_http_json_check() + json_parser: the root node, which must be an object. */
JsonNode *cg_http_json_parse_object(const char *data, gsize len, guint max_depth, GError **error);

/* A certgend update or snapshot (a{sv}) as the JSON of an SSE event / a
 * WebSocket message: camelCase keys, times in milliseconds, "result"
 * converted, "error" as the short code with "errorName" and "errorMessage";
 * "owner_label" is left out. */
char *cg_http_update_to_json(GVariant *update);

/* GetAnalytics' a{sv} as {totalDuration, averageProgressRate, stageDurations,
 * status, startedAt, finishedAt}. */
char *cg_http_analytics_to_json(GVariant *analytics);

/* {"error": code, "message": message}. */
char *cg_http_error_json(const char *code, const char *message);

/* "progress_id" -> "progressId". */
char *cg_http_camel_case(const char *key);

/* Serialise @node compactly. */
char *cg_http_json_to_string(JsonNode *node);

G_END_DECLS

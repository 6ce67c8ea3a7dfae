/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Request bodies and WebSocket messages, parsed by certgend's strict
 * parser (service/cg-json.h: RFC 8259, no repeated keys, iterative, nesting
 * at most @max_depth). Errors are CG_HTTP_ERROR_BAD_REQUEST
 * ("Malformed JSON: ...") naming the problem, its path and byte offset. */
gboolean cg_http_json_check(const char *data, gsize len, guint max_depth, GError **error);

/* The root node, which must be an object. */
JsonNode *cg_http_json_parse_object(const char *data, gsize len, guint max_depth, GError **error);

/* The StartGeneration arguments (sss@a{sv}: transaction id, template id,
 * data_json, options with owner_label @user) of a POST /api/certificates
 * body {transactionId, templateId, data, options, outputFormat} (options:
 * timeout, updateInterval in ms; enableCancellation, enablePersistence,
 * validateOnly booleans; anything else is refused; outputFormat "pdf" or
 * "zip"). data_json is the "data"
 * member's text exactly as sent. What certgend would refuse as InvalidData
 * (a NUL escape, a repeated key, a comment, a single quote, a bad escape
 * ... inside "data") is CG_HTTP_ERROR_INVALID_DATA named by its path in
 * the data, which *@data_path (may be NULL) is set to; other problems are
 * BAD_REQUEST (not JSON) or INVALID_ARGUMENT (unknown or wrong members). A
 * pure function: no server, no bus. */
GVariant *cg_http_start_parameters_from_body(const char *body, gsize len, guint max_depth,
					     const char *user, char **data_path, GError **error);

/* The RenderPreview arguments (ssu: template id, data_json, page) of a
 * POST /api/preview body {templateId, data, page}: templateId defaults to
 * "classic", page (a whole number, 1 to 4294967295) to 1; "data" as for
 * cg_http_start_parameters_from_body(), and so are the errors. */
GVariant *cg_http_preview_parameters_from_body(const char *body, gsize len, guint max_depth,
					       char **data_path, GError **error);

/* The StartGeneration arguments of a start request: @transaction_id (NULL:
 * "web-" and a random UUID; otherwise 1–128 bytes), @template_id (NULL:
 * "classic"), @data_json and @options (ended here). */
GVariant *cg_http_start_parameters_new(const char *transaction_id, const char *template_id,
				       const char *data_json, GVariantBuilder *options,
				       GError **error);

/* Adds option output_format "zip" to @options for @value "zip" ("pdf",
 * certgend's default, and NULL add nothing); anything else is
 * CG_HTTP_ERROR_INVALID_ARGUMENT naming @name (the body field, or the CSV
 * upload's query parameter) and the values allowed. */
gboolean cg_http_add_output_format(GVariantBuilder *options, const char *name, const char *value,
				   GError **error);

/* {"error": "invalid_data", "message": @message, "errors": [{"path": @path,
 * "message": @message without its "@path: "}]}. */
char *cg_http_invalid_data_json(const char *message, const char *path);
/* The same with one "errors" entry per CgCsvIssue (common/cg-csv.h: path,
 * message) of @issues. */
char *cg_http_invalid_data_issues_json(const char *message, const GPtrArray *issues);
/* The same for an InvalidData @message of certgend's (every problem
 * joined: "recipients[3].issueDate: not a real date: 2023-02-30;
 * recipients[7].recipientName: required; … and 12 more"): one entry per
 * problem it names, split back at "; path: "; a message naming no path is
 * one entry of path "data". */
char *cg_http_invalid_data_message_json(const char *message);

/* A certgend update or snapshot (a{sv}) as the JSON of an SSE event / a
 * WebSocket message: camelCase keys, times in milliseconds, "result"
 * converted, "error" as the short code with "errorName" and "errorMessage";
 * "owner_label" is left out. */
char *cg_http_update_to_json(GVariant *update);

/* ListGenerations' aa{sv} as a JSON array of the generations whose
 * owner_label is @owner_label (a web user's), each as
 * cg_http_update_to_json() writes it. */
char *cg_http_owned_list_to_json(GVariant *list, const char *owner_label);

/* ListTemplates' aa{sv} as [{id, title, description, widthPt, heightPt,
 * fields: [{name, label, required, type, minLength, maxLength, shared}]}]:
 * every key camelCased, the values as they are. */
char *cg_http_templates_to_json(GVariant *templates);

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

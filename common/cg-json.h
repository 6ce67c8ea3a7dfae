/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The one JSON parser of certgend and certgen-http: strict RFC 8259, in one
 * iterative pass (no recursion on the input's depth), building a json-glib
 * tree. json-glib's own parser is lenient (comments, single quotes, "\q",
 * hex numbers, a second top-level value, strings cut at "\u0000", the last
 * of repeated keys kept silently) and recursive (deep nesting overflows the
 * stack); it is never used on input from outside.
 *
 * Refused: text that is not UTF-8 or holds a NUL byte, a "\u0000" escape,
 * comments, single quotes, escapes other than the RFC's, unpaired
 * surrogates, leading zeros, hex, NaN and Infinity, raw control characters
 * in strings, anything but whitespace after the value, and a key repeated
 * in one object. Limits (CgJsonLimits) stop the parse as soon as they are
 * passed, so memory stays proportional to what is accepted.
 *
 * Errors are in CG_JSON_ERROR. The message is "<path>: <what> at byte
 * offset <n>" (the path left out at the top level); the parts are there on
 * their own too (cg_json_error_get_path() ...), for callers that word
 * their messages differently.
 */

#define CG_JSON_ERROR (cg_json_error_quark())

typedef enum {
	CG_JSON_ERROR_TOO_LARGE,    /* more than max_bytes */
	CG_JSON_ERROR_EMPTY,	    /* nothing but whitespace */
	CG_JSON_ERROR_ENCODING,	    /* not UTF-8, or a NUL byte */
	CG_JSON_ERROR_NUL,	    /* a \u0000 escape */
	CG_JSON_ERROR_SYNTAX,	    /* not RFC 8259 JSON */
	CG_JSON_ERROR_DEPTH,	    /* nested deeper than max_depth */
	CG_JSON_ERROR_DUPLICATE,    /* an object repeats a key */
	CG_JSON_ERROR_ARRAY_LENGTH, /* an array longer than max_array_length */
	CG_JSON_ERROR_VALUES,	    /* more than max_values values in all */
} CgJsonError;

GQuark cg_json_error_quark(void);

/* Containers open at once, at most; also the default. */
#define CG_JSON_MAX_DEPTH 64

typedef struct {
	gsize max_bytes;	   /* 0: no limit */
	guint max_depth;	   /* 0 or more than CG_JSON_MAX_DEPTH: CG_JSON_MAX_DEPTH */
	guint max_array_length;	   /* elements of any one array; 0: no limit */
	guint64 max_values;	   /* values (containers too) in all; 0: no limit */
	GCancellable *cancellable; /* checked every CG_JSON_CANCEL_STRIDE values */
} CgJsonLimits;

/* How many values the parser reads between two looks at the cancellable:
 * a few milliseconds of work at most. A cancelled parse fails with
 * G_IO_ERROR_CANCELLED (not a CG_JSON_ERROR). */
#define CG_JSON_CANCEL_STRIDE 4096

/* A memory budget for cg_json_parse(): how many values @length bytes of
 * text may hold so that the tree stays within 8 x @length + 64 MiB,
 * whatever the text is (a json-glib value costs up to some 320 bytes, an
 * empty object). Far more than any valid certgen document needs. */
guint64 cg_json_values_budget(gsize length);

/* The root node (any kind of value), or NULL with @error set. @text need
 * not be NUL-terminated. @limits may be NULL (no limits but the depth). */
JsonNode *cg_json_parse(const char *text, gsize length, const CgJsonLimits *limits, GError **error);

/* Where a value is in the text: [start, end). */
typedef struct {
	gsize start;
	gsize end;
} CgJsonSpan;

/* cg_json_parse(), and when the root is an object *@spans is a new table
 * of its members: name → CgJsonSpan* of the value's text (so a member can
 * be passed on byte for byte). *@spans is NULL otherwise. */
JsonNode *cg_json_parse_with_spans(const char *text, gsize length, const CgJsonLimits *limits,
				   GHashTable **spans, GError **error);

/* Of a CG_JSON_ERROR: the JSON path of the value where the parse stopped
 * ("recipients[3].recipientName", "" at the top level; keys quoted as by
 * cg_json_quote()), what is wrong ("invalid escape", "duplicate field"),
 * and the byte offset (G_MAXSIZE when the error is not at one place, as
 * for TOO_LARGE and EMPTY). NULL, NULL, G_MAXSIZE for other errors. */
const char *cg_json_error_get_path(const GError *error);
const char *cg_json_error_get_what(const GError *error);
gsize cg_json_error_get_offset(const GError *error);

/* What kind of error a CG_JSON_ERROR is, in words that quote nothing of
 * the text ("a syntax error", "a repeated key", ...): for messages that
 * must not show a file's content. */
const char *cg_json_error_describe(const GError *error);

/* @text (valid UTF-8) as quoted in a message: at most 64 characters and
 * "...", control characters as \uXXXX (messages end up on terminals), ""
 * written as two quotes. */
char *cg_json_quote(const char *text);

/* How byte @c is written inside a JSON string literal: its escape (\n,
 * \", \u001f — written to @buf for the \u ones), or NULL when it
 * stands for itself (every byte >= 0x20 but '"' and '\\'; UTF-8 passes
 * through). The one escaping rule of every JSON writer of certgen. */
const char *cg_json_escape_byte(unsigned char c, char buf[8]);

/* Appends @text (valid UTF-8) to @out as a JSON string, escaped by
 * cg_json_escape_byte(). */
void cg_json_append_string(GString *out, const char *text);

G_END_DECLS

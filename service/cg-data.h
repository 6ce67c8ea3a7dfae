/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "cg-problems.h"

G_BEGIN_DECLS

/*
 * Data validation: data_json parsed by the strict JSON parser (cg-json.h)
 * and checked against a template's field rules. One recipient is an object; a batch is
 * {"recipients": [ {...}, ... ], <shared fields>} where shared fields apply to
 * every recipient that does not set them. Every error is CG_ERROR_INVALID_DATA
 * with a message naming the field and, in a batch, the recipient index:
 * "recipients[12].recipientName: required".
 */

typedef enum {
	CG_FIELD_TYPE_STRING,
	CG_FIELD_TYPE_DATE, /* "YYYY-MM-DD", a real calendar date */
} CgFieldType;

typedef struct _CgFieldRule CgFieldRule;
struct _CgFieldRule {
	char *name; /* JSON key, e.g. "recipientName" */
	CgFieldType type;
	gboolean required;
	guint min_length; /* in characters */
	guint max_length; /* in characters; 0 = no limit */
	/* Optional, the template's: the last check of a value that passed
	 * every other one (does it fit its box on the page?). A message for
	 * the problem list (g_free()), or NULL when the value is good.
	 * Called from the thread that parses; must be thread-safe. */
	char *(*check)(const CgFieldRule *rule, const char *value);
	gconstpointer check_data; /* for @check; borrowed */
};

CgFieldRule *cg_field_rule_new(const char *name, CgFieldType type, gboolean required,
			       guint min_length, guint max_length);
void cg_field_rule_free(CgFieldRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgFieldRule, cg_field_rule_free)

/* Whether @rule's field may stand beside "recipients" in a batch, shared by
 * every recipient that does not set it. The one place that decides it, for
 * the validator and for what ListTemplates says ("shared"): today every
 * field may. */
gboolean cg_field_rule_is_shared(const CgFieldRule *rule);

/* TRUE for "YYYY-MM-DD" naming a real calendar date (year 0001 or later). */
gboolean cg_data_date_is_valid(const char *value);

/* One recipient's fields after merging shared fields: name → UTF-8 value.
 * Only fields named by a rule are kept. */
typedef struct {
	GHashTable *fields;
} CgRecipient;

typedef struct {
	GPtrArray *recipients; /* of CgRecipient* */
	gboolean is_batch;
} CgData;

void cg_data_free(CgData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgData, cg_data_free)

/* Parse and validate. @rules: array of CgFieldRule*. Fails with
 * CG_ERROR_INVALID_DATA when @json is larger than @max_bytes, not valid UTF-8
 * or strict JSON (RFC 8259; a key repeated in any object, "\u0000" and
 * nesting deeper than 32 levels are refused too), has unknown fields, wrong
 * types, control characters other than tab/newline/carriage return in a
 * value, bidi embedding/override/isolate controls, characters no installed
 * font can print (unassigned, private use, or in no font; format characters
 * such as ZWJ/ZWNJ are allowed), missing required fields, lengths out of range, impossible dates,
 * an empty batch or more than @max_recipients recipients (0 for @max_bytes or
 * @max_recipients: no limit).
 *
 * Memory stays proportional to what a valid document can hold: the parse
 * stops at the first array element past @max_recipients (so a huge list
 * fails at recipient @max_recipients + 1, "recipients: at most N
 * recipients") and at more values than a valid document of @max_recipients
 * recipients has. A big parse and the free of a big CgData give the memory
 * back to the system (malloc_trim).
 *
 * The size is checked before anything else, then the JSON text as a whole
 * (its first error in text order): such an error, or data that is not an
 * object, is the one error. Then every rule broken is collected in
 * document order (other fields, other recipients), up to CG_PROBLEMS_MAX;
 * the error's message is cg_problems_to_message() of them (for a single
 * problem "recipients[12].recipientName: required"), and
 * cg_data_parse_full() hands the list out in *@problems (NULL when the
 * error is not such a list). A "recipients" that is not a non-empty list
 * within @max_recipients ends the check. @json need not be
 * NUL-terminated.
 *
 * @cancellable (may be NULL) is checked while parsing and between
 * recipients: cancelled, the parse stops with G_IO_ERROR_CANCELLED. */
CgData *cg_data_parse(const char *json, gsize length, const GPtrArray *rules, gsize max_bytes,
		      guint max_recipients, GCancellable *cancellable, GError **error);

CgData *cg_data_parse_full(const char *json, gsize length, const GPtrArray *rules, gsize max_bytes,
			   guint max_recipients, GCancellable *cancellable, CgProblems **problems,
			   GError **error);

/* Gives the memory that @length bytes of data_json took (its text, its tree)
 * back to the system once freed: glibc keeps freed heap otherwise, and a
 * worker's arena would stay at its peak. Does nothing for small data. */
void cg_data_release_memory(gsize length);

guint cg_data_get_n_recipients(const CgData *data);
const CgRecipient *cg_data_get_recipient(const CgData *data, guint index);

const char *cg_recipient_get(const CgRecipient *recipient, const char *name); /* or NULL */

/* Canonical JSON of the recipient (keys sorted, no whitespace) and the
 * verification string its QR code encodes:
 * "CERTGEN1;N=<certificate number>;H=<sha256 hex of the canonical JSON>". */
char *cg_recipient_canonical_json(const CgRecipient *recipient);
char *cg_recipient_verification(const CgRecipient *recipient, const char *certificate_number);

G_END_DECLS

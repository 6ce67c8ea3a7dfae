/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-data.h"

#include <json-glib/json-glib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cg-date.h"
#include "cg-error.h"
#include "cg-json.h"
#include "cg-glyphs.h"
#include "cg-problems.h"

/* Parses of data at least this large give their memory back at once. */
#define CG_DATA_TRIM_BYTES (256 * 1024)
/* Freeing this many recipients does too. */
#define CG_DATA_TRIM_RECIPIENTS 1000

#define CG_DATA_RECIPIENTS "recipients"

void
cg_field_rule_free(CgFieldRule *rule)
{
	if (rule == NULL)
		return;
	g_free(rule->name);
	g_free(rule);
}

CgFieldRule *
cg_field_rule_new(const char *name, CgFieldType type, gboolean required, guint min_length,
		  guint max_length)
{
	CgFieldRule *rule;

	g_return_val_if_fail(name != NULL, NULL);

	rule = g_new0(CgFieldRule, 1);
	rule->name = g_strdup(name);
	rule->type = type;
	rule->required = required;
	rule->min_length = min_length;
	rule->max_length = max_length;
	return rule;
}

gboolean
cg_field_rule_is_shared(const CgFieldRule *rule)
{
	g_return_val_if_fail(rule != NULL, FALSE);
	/* a value shared by all is as valid as each recipient's own: a
	 * batch may share any field, even recipientName (one name, many
	 * courses) */
	return TRUE;
}

static void
cg_recipient_free(CgRecipient *recipient)
{
	if (recipient == NULL)
		return;
	g_clear_pointer(&recipient->fields, g_hash_table_unref);
	g_free(recipient);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgRecipient, cg_recipient_free)

static CgRecipient *
cg_recipient_new(void)
{
	CgRecipient *recipient = g_new0(CgRecipient, 1);

	/* keys are interned field names: a template has a handful */
	recipient->fields = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	return recipient;
}

void
cg_data_free(CgData *data)
{
	gboolean large;

	if (data == NULL)
		return;
	large = data->recipients->len >= CG_DATA_TRIM_RECIPIENTS;
	g_clear_pointer(&data->recipients, g_ptr_array_unref);
	g_free(data);
	/* the end of a generation: its memory goes back to the system */
#ifdef __GLIBC__
	if (large)
		malloc_trim(0);
#endif
}

guint
cg_data_get_n_recipients(const CgData *data)
{
	g_return_val_if_fail(data != NULL, 0);
	return data->recipients->len;
}

const CgRecipient *
cg_data_get_recipient(const CgData *data, guint index)
{
	g_return_val_if_fail(data != NULL, NULL);
	g_return_val_if_fail(index < data->recipients->len, NULL);
	return g_ptr_array_index(data->recipients, index);
}

const char *
cg_recipient_get(const CgRecipient *recipient, const char *name)
{
	g_return_val_if_fail(recipient != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);
	return g_hash_table_lookup(recipient->fields, name);
}

/* "<where>" of a message: "recipients[<index>].<field>" in a batch
 * (@index >= 0), "recipients[<index>]" when @field is NULL, and "<field>"
 * otherwise; the field name quoted as cg_json_quote() does. */
static char *
cg_data_path(gint index, const char *field)
{
	g_autofree char *field_quoted = field != NULL ? cg_json_quote(field) : NULL;

	if (index >= 0 && field_quoted != NULL)
		return g_strdup_printf(CG_DATA_RECIPIENTS "[%d].%s", index, field_quoted);
	if (index >= 0)
		return g_strdup_printf(CG_DATA_RECIPIENTS "[%d]", index);
	return g_steal_pointer(&field_quoted);
}

/* Sets CG_ERROR_INVALID_DATA with the message "<where>: <what>" (see
 * cg_data_path()): for what stops the whole check. */
static void cg_data_set_error(GError **error, gint index, const char *field, const char *format,
			      ...) G_GNUC_PRINTF(4, 5);

/* Adds the problem "<where>: <what>" to @problems (nothing once full): for
 * what the check goes on after. */
static void cg_data_add_problem(CgProblems *problems, gint index, const char *field,
				const char *format, ...) G_GNUC_PRINTF(4, 5);

/* Both: into @problems when it is not NULL, else into @error. */
static void cg_data_report(CgProblems *problems, GError **error, gint index, const char *field,
			   const char *format, va_list args) G_GNUC_PRINTF(5, 0);

static void
cg_data_report(CgProblems *problems, GError **error, gint index, const char *field,
	       const char *format, va_list args)
{
	g_autofree char *what = g_strdup_vprintf(format, args);
	g_autofree char *path = cg_data_path(index, field);

	if (problems != NULL)
		cg_problems_add(problems, path, what);
	else
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "%s: %s", path, what);
}

static void
cg_data_set_error(GError **error, gint index, const char *field, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	cg_data_report(NULL, error, index, field, format, args);
	va_end(args);
}

static void
cg_data_add_problem(CgProblems *problems, gint index, const char *field, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	cg_data_report(problems, NULL, index, field, format, args);
	va_end(args);
}

/* "a number", "an object", ... for "must be a string, not <...>". */
static const char *
cg_data_node_kind(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		return "an object";
	case JSON_NODE_ARRAY:
		return "an array";
	case JSON_NODE_NULL:
		return "null";
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return "a string";
	case G_TYPE_BOOLEAN:
		return "a boolean";
	case G_TYPE_INT64:
	case G_TYPE_DOUBLE:
		return "a number";
	default:
		return "an unknown value";
	}
}

static gboolean
cg_data_node_is_string(JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static const CgFieldRule *
cg_data_find_rule(const GPtrArray *rules, const char *name)
{
	/* templates have a handful of fields: a linear scan beats hashing */
	for (guint i = 0; i < rules->len; i++) {
		const CgFieldRule *rule = g_ptr_array_index(rules, i);
		if (g_strcmp0(rule->name, name) == 0)
			return rule;
	}
	return NULL;
}

gboolean
cg_data_date_is_valid(const char *value)
{
	g_return_val_if_fail(value != NULL, FALSE);
	return cg_date_parse(value, NULL, NULL, NULL) == CG_DATE_OK;
}

/* The characters beyond ASCII: no bidi controls, and each one printable —
 * assigned, and in some installed font (format characters such as ZWJ and
 * ZWNJ shape the text and need no glyph of their own). */
static gboolean
cg_data_check_characters(const CgFieldRule *rule, gint index, const char *value,
			 CgProblems *problems)
{
	for (const char *p = value; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c;
		GUnicodeType type;

		if ((guchar)*p < 0x80)
			continue;
		c = g_utf8_get_char(p);
		type = g_unichar_type(c);
		if (cg_glyphs_is_bidi_control(c)) {
			cg_data_add_problem(
			    problems, index, rule->name,
			    "bidi control character U+%04X at byte offset %" G_GSIZE_FORMAT
			    " (it would reorder the printed text)",
			    c, (gsize)(p - value));
			return FALSE;
		}
		if (type == G_UNICODE_FORMAT)
			continue;
		if (type == G_UNICODE_UNASSIGNED || type == G_UNICODE_PRIVATE_USE ||
		    !cg_glyphs_available(c)) {
			cg_data_add_problem(problems, index, rule->name,
					    "U+%04X at byte offset %" G_GSIZE_FORMAT
					    " cannot be printed: no installed font has it",
					    c, (gsize)(p - value));
			return FALSE;
		}
	}
	return TRUE;
}

/* Checks one string value against @rule: no control characters other than
 * tab, newline and carriage return, length in characters, dates. */
static gboolean
cg_data_check_value(const CgFieldRule *rule, gint index, const char *value, CgProblems *problems)
{
	guint64 n_chars = 0;

	for (gsize i = 0; value[i] != '\0'; i++) {
		guchar c = value[i];
		gunichar control = 0;

		if ((c & 0xc0) != 0x80)
			n_chars++;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			control = c;
		else if (c == 0xc2 && (guchar)value[i + 1] >= 0x80 && (guchar)value[i + 1] <= 0x9f)
			control = (guchar)value[i + 1]; /* C1 controls U+0080..U+009F */
		if (control != 0) {
			cg_data_add_problem(
			    problems, index, rule->name,
			    "control character U+%04X at byte offset %" G_GSIZE_FORMAT, control, i);
			return FALSE;
		}
	}

	if (!cg_data_check_characters(rule, index, value, problems))
		return FALSE;

	if (rule->type == CG_FIELD_TYPE_DATE) {
		CgDateCheck check = cg_date_parse(value, NULL, NULL, NULL);
		g_autofree char *quoted = check != CG_DATE_OK ? cg_json_quote(value) : NULL;

		if (check == CG_DATE_BAD_FORMAT) {
			cg_data_add_problem(problems, index, rule->name,
					    "not a date (expected YYYY-MM-DD): %s", quoted);
			return FALSE;
		}
		if (check == CG_DATE_NOT_REAL) {
			cg_data_add_problem(problems, index, rule->name, "not a real date: %s",
					    quoted);
			return FALSE;
		}
	}

	if (n_chars < rule->min_length) {
		cg_data_add_problem(problems, index, rule->name,
				    "too short (%" G_GUINT64_FORMAT " characters, at least %u)",
				    n_chars, rule->min_length);
		return FALSE;
	}
	if (rule->max_length > 0 && n_chars > rule->max_length) {
		cg_data_add_problem(problems, index, rule->name,
				    "too long (%" G_GUINT64_FORMAT " characters, at most %u)",
				    n_chars, rule->max_length);
		return FALSE;
	}
	if (rule->check != NULL) {
		g_autofree char *problem = rule->check(rule, value);

		if (problem != NULL) {
			cg_data_add_problem(problems, index, rule->name, "%s", problem);
			return FALSE;
		}
	}
	return TRUE;
}

/* Everything a parse needs. Repeated keys never get here: cg-json refuses
 * them. Problems are collected in @problems up to CG_PROBLEMS_MAX: the
 * check goes on after one (other fields, other recipients) and stops once
 * the list is full. */
typedef struct {
	const GPtrArray *rules;
	GCancellable *cancellable;
	CgProblems *problems;
} CgDataParse;

/* Checks one member of a recipient (@index >= 0) or of the top level
 * (@index < 0), adding what is wrong to @problems; *@rule_out is the
 * field's rule when there is one, even for a bad value, and on success
 * *@value is the string, borrowed from @node. */
static gboolean
cg_data_check_member(CgDataParse *parse, CgProblems *problems, gint index, const char *name,
		     JsonNode *node, const CgFieldRule **rule_out, const char **value)
{
	const CgFieldRule *rule = cg_data_find_rule(parse->rules, name);

	*rule_out = rule;
	if (rule == NULL) {
		cg_data_add_problem(problems, index, name, "unknown field");
		return FALSE;
	}
	if (!cg_data_node_is_string(node)) {
		cg_data_add_problem(problems, index, name, "must be a string, not %s",
				    cg_data_node_kind(node));
		return FALSE;
	}
	*value = json_node_get_string(node);
	return cg_data_check_value(rule, index, *value, problems);
}

/* One recipient: its own fields in document order, then the shared ones it
 * lacks, then the required ones still missing. @index < 0 for a single
 * recipient; @shared (name → value) and @shared_present (names seen at the
 * top level, valid or not) are NULL then. NULL when it has a problem (all
 * of its problems are in parse->problems, as many as fit). */
static CgRecipient *
cg_data_parse_recipient(CgDataParse *parse, JsonObject *object, gint index, GHashTable *shared,
			GHashTable *shared_present)
{
	g_autoptr(CgRecipient) recipient = cg_recipient_new();
	guint n_problems = cg_problems_get_count(parse->problems);
	JsonObjectIter iter;
	const char *name;
	JsonNode *node;

	json_object_iter_init_ordered(&iter, object);
	while (json_object_iter_next_ordered(&iter, &name, &node)) {
		const CgFieldRule *rule = NULL;
		const char *value = NULL;
		gboolean ok;

		if (cg_problems_is_full(parse->problems))
			return NULL;
		ok = cg_data_check_member(parse, parse->problems, index, name, node, &rule, &value);
		/* a bad value still counts as present: it is not "required" */
		if (rule != NULL)
			g_hash_table_insert(recipient->fields,
					    (gpointer)g_intern_string(rule->name),
					    g_strdup(ok ? value : ""));
	}

	for (guint i = 0; i < parse->rules->len; i++) {
		const CgFieldRule *rule = g_ptr_array_index(parse->rules, i);
		const char *value;

		if (g_hash_table_contains(recipient->fields, rule->name))
			continue;
		value = shared != NULL ? g_hash_table_lookup(shared, rule->name) : NULL;
		if (value != NULL) {
			g_hash_table_insert(recipient->fields,
					    (gpointer)g_intern_string(rule->name), g_strdup(value));
			continue;
		}
		/* an invalid shared value is reported where it stands */
		if (shared_present != NULL && g_hash_table_contains(shared_present, rule->name))
			continue;
		if (rule->required)
			cg_data_add_problem(parse->problems, index, rule->name, "required");
	}
	if (cg_problems_get_count(parse->problems) > n_problems)
		return NULL;
	return g_steal_pointer(&recipient);
}

static gboolean
cg_data_parse_batch(CgDataParse *parse, JsonObject *root, guint max_recipients, CgData *data,
		    GError **error)
{
	g_autoptr(GHashTable) shared = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) shared_present = g_hash_table_new(g_str_hash, g_str_equal);
	/* the shared fields' problems after the list, reported after its own */
	g_autoptr(CgProblems) shared_after = cg_problems_new();
	JsonObjectIter iter;
	const char *name;
	JsonNode *node;
	JsonNode *list_node = NULL;
	JsonArray *list;
	guint n_recipients;

	/* The shared fields first, as every recipient needs them; their
	 * problems are reported in document order relative to the list. */
	json_object_iter_init_ordered(&iter, root);
	while (json_object_iter_next_ordered(&iter, &name, &node)) {
		CgProblems *problems = list_node == NULL ? parse->problems : shared_after;
		const CgFieldRule *rule = NULL;
		const char *value = NULL;

		if (g_strcmp0(name, CG_DATA_RECIPIENTS) == 0) {
			list_node = node;
			continue;
		}
		g_hash_table_add(shared_present, (gpointer)name);
		if (!cg_data_check_member(parse, problems, -1, name, node, &rule, &value))
			continue;
		if (!cg_field_rule_is_shared(rule)) {
			cg_data_add_problem(problems, -1, name,
					    "may not be shared; set it per recipient");
			continue;
		}
		g_hash_table_insert(shared, rule->name, (gpointer)value);
	}

	/* a list that is not one ends the check: nothing more can be said */
	if (!JSON_NODE_HOLDS_ARRAY(list_node)) {
		cg_data_add_problem(parse->problems, -1, CG_DATA_RECIPIENTS,
				    "must be an array, not %s", cg_data_node_kind(list_node));
		return TRUE;
	}
	list = json_node_get_array(list_node);
	n_recipients = json_array_get_length(list);
	if (n_recipients == 0) {
		cg_data_add_problem(parse->problems, -1, CG_DATA_RECIPIENTS,
				    "at least 1 recipient");
		return TRUE;
	}
	if (max_recipients > 0 && n_recipients > max_recipients) {
		cg_data_add_problem(parse->problems, -1, CG_DATA_RECIPIENTS,
				    "at most %u recipient%s", max_recipients,
				    max_recipients == 1 ? "" : "s");
		return TRUE;
	}

	for (guint i = 0; i < n_recipients && !cg_problems_is_full(parse->problems); i++) {
		JsonNode *element = json_array_get_element(list, i);
		CgRecipient *recipient;

		if (i % 256 == 0 && g_cancellable_set_error_if_cancelled(parse->cancellable, error))
			return FALSE;
		if (!JSON_NODE_HOLDS_OBJECT(element)) {
			cg_data_add_problem(parse->problems, (gint)i, NULL,
					    "must be an object, not %s",
					    cg_data_node_kind(element));
			continue;
		}
		recipient = cg_data_parse_recipient(parse, json_node_get_object(element), (gint)i,
						    shared, shared_present);
		/* once a problem is found, no recipient is kept */
		if (recipient != NULL && cg_problems_get_count(parse->problems) == 0)
			g_ptr_array_add(data->recipients, recipient);
		else
			cg_recipient_free(recipient);
	}

	cg_problems_append(parse->problems, shared_after);
	return TRUE;
}

/* The text is parsed by cg-json (strict RFC 8259, iterative, duplicate
 * keys refused) with limits that keep the tree small: at most
 * @max_recipients elements in any array (so a huge list stops at the first
 * recipient too many), at most as many values as a valid document could
 * have, within cg_json_values_budget(). */

#define CG_DATA_MAX_DEPTH 32

/* The most values a valid document has: the top level, its shared fields,
 * the list, and per recipient an object and its fields. */
static guint64
cg_data_max_values(const GPtrArray *rules, gsize length, guint max_recipients)
{
	guint64 per_recipient = 1 + (guint64)rules->len;
	guint64 budget = cg_json_values_budget(length);

	if (max_recipients == 0)
		return budget;
	return MIN(budget, 2 + rules->len + per_recipient * max_recipients);
}

/* A cg-json error in cg-data's words: "data: not valid JSON: ... at byte
 * offset N", "recipients[0].recipientName: duplicate field". */
static void
cg_data_set_json_error(GError **error, const GError *json_error, guint max_recipients)
{
	const char *path = cg_json_error_get_path(json_error);
	const char *what = cg_json_error_get_what(json_error);
	gsize offset = cg_json_error_get_offset(json_error);
	g_autofree char *at = offset != G_MAXSIZE
				  ? g_strdup_printf(" at byte offset %" G_GSIZE_FORMAT, offset)
				  : g_strdup("");

	if (path == NULL || what == NULL) {
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "data: %s",
			    json_error->message);
		return;
	}
	if (*path == '\0')
		path = "data";
	switch ((CgJsonError)json_error->code) {
	case CG_JSON_ERROR_DUPLICATE:
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "%s: duplicate field", path);
		return;
	case CG_JSON_ERROR_ARRAY_LENGTH:
		if (g_str_equal(path, CG_DATA_RECIPIENTS)) {
			g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA,
				    CG_DATA_RECIPIENTS ": at most %u recipient%s", max_recipients,
				    max_recipients == 1 ? "" : "s");
			return;
		}
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "%s: %s%s", path, what, at);
		return;
	case CG_JSON_ERROR_SYNTAX:
	case CG_JSON_ERROR_DEPTH:
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "data: not valid JSON: %s%s",
			    what, at);
		return;
	case CG_JSON_ERROR_TOO_LARGE:
	case CG_JSON_ERROR_EMPTY:
	case CG_JSON_ERROR_ENCODING:
	case CG_JSON_ERROR_NUL:
	case CG_JSON_ERROR_VALUES:
		break;
	}
	g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "data: %s%s", what, at);
}

void
cg_data_release_memory(gsize length)
{
#ifdef __GLIBC__
	if (length >= CG_DATA_TRIM_BYTES)
		malloc_trim(0);
#endif
}

static CgData *
cg_data_parse_tree(JsonNode *root, const GPtrArray *rules, guint max_recipients,
		   GCancellable *cancellable, CgProblems *problems, GError **error)
{
	CgDataParse parse = {rules, cancellable, problems};
	g_autoptr(CgData) data = NULL;
	JsonObject *object;

	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		cg_data_set_error(error, -1, "data", "must be a JSON object, not %s",
				  cg_data_node_kind(root));
		return NULL;
	}
	object = json_node_get_object(root);

	data = g_new0(CgData, 1);
	data->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)cg_recipient_free);
	data->is_batch = json_object_has_member(object, CG_DATA_RECIPIENTS);
	if (data->is_batch) {
		if (!cg_data_parse_batch(&parse, object, max_recipients, data, error))
			return NULL;
	} else {
		CgRecipient *recipient = cg_data_parse_recipient(&parse, object, -1, NULL, NULL);
		if (recipient != NULL)
			g_ptr_array_add(data->recipients, recipient);
	}
	if (cg_problems_get_count(problems) > 0) {
		g_autofree char *message = cg_problems_to_message(problems);

		g_set_error_literal(error, CG_ERROR, CG_ERROR_INVALID_DATA, message);
		return NULL;
	}
	return g_steal_pointer(&data);
}

CgData *
cg_data_parse_full(const char *json, gsize length, const GPtrArray *rules, gsize max_bytes,
		   guint max_recipients, GCancellable *cancellable, CgProblems **problems,
		   GError **error)
{
	CgJsonLimits limits = {0};
	g_autoptr(GError) json_error = NULL;
	g_autoptr(CgProblems) found = NULL;
	JsonNode *root;
	CgData *data;

	g_return_val_if_fail(json != NULL || length == 0, NULL);
	g_return_val_if_fail(rules != NULL, NULL);
	g_return_val_if_fail(problems == NULL || *problems == NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	limits.max_bytes = max_bytes;
	limits.max_depth = CG_DATA_MAX_DEPTH;
	limits.max_array_length = max_recipients;
	limits.max_values = cg_data_max_values(rules, length, max_recipients);
	limits.cancellable = cancellable;
	root = cg_json_parse(json, length, &limits, &json_error);
	if (root == NULL) {
		if (g_error_matches(json_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_propagate_error(error, g_steal_pointer(&json_error));
		else
			cg_data_set_json_error(error, json_error, max_recipients);
		cg_data_release_memory(length);
		return NULL;
	}
	found = cg_problems_new();
	data = cg_data_parse_tree(root, rules, max_recipients, cancellable, found, error);
	json_node_unref(root);
	cg_data_release_memory(length);
	if (data == NULL && problems != NULL && cg_problems_get_count(found) > 0)
		*problems = g_steal_pointer(&found);
	return data;
}

CgData *
cg_data_parse(const char *json, gsize length, const GPtrArray *rules, gsize max_bytes,
	      guint max_recipients, GCancellable *cancellable, GError **error)
{
	return cg_data_parse_full(json, length, rules, max_bytes, max_recipients, cancellable, NULL,
				  error);
}

static int
cg_data_compare_keys(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
cg_recipient_canonical_json(const CgRecipient *recipient)
{
	g_autofree gpointer *keys = NULL;
	guint n_keys = 0;
	GString *out;

	g_return_val_if_fail(recipient != NULL, NULL);

	/* byte order of UTF-8 keys is code point order */
	keys = g_hash_table_get_keys_as_array(recipient->fields, &n_keys);
	qsort(keys, n_keys, sizeof(gpointer), cg_data_compare_keys);

	out = g_string_new("{");
	for (guint i = 0; i < n_keys; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		cg_json_append_string(out, keys[i]);
		g_string_append_c(out, ':');
		cg_json_append_string(out, g_hash_table_lookup(recipient->fields, keys[i]));
	}
	g_string_append_c(out, '}');
	return g_string_free(out, FALSE);
}

char *
cg_recipient_verification(const CgRecipient *recipient, const char *certificate_number)
{
	g_autofree char *canonical = NULL;
	g_autofree char *hash = NULL;

	g_return_val_if_fail(recipient != NULL, NULL);
	g_return_val_if_fail(certificate_number != NULL, NULL);

	canonical = cg_recipient_canonical_json(recipient);
	hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canonical, -1);
	return g_strdup_printf("CERTGEN1;N=%s;H=%s", certificate_number, hash);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-data.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cg-error.h"

/* Keys and values quoted in error messages are cut to this many characters. */
#define CG_DATA_QUOTE_MAX_CHARS 64

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
	if (data == NULL)
		return;
	g_clear_pointer(&data->recipients, g_ptr_array_unref);
	g_free(data);
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

/* A key or value as quoted in an error message: at most
 * CG_DATA_QUOTE_MAX_CHARS characters, control characters written as \uXXXX
 * (messages end up on terminals). @text is valid UTF-8. */
static char *
cg_data_quote(const char *text)
{
	GString *out;
	const char *p = text;

	if (*text == '\0')
		return g_strdup("\"\""); /* an empty key */
	out = g_string_new(NULL);
	for (guint i = 0; i < CG_DATA_QUOTE_MAX_CHARS && *p != '\0'; i++) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			g_string_append_printf(out, "\\u%04X", c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	if (*p != '\0')
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

/* Sets CG_ERROR_INVALID_DATA with the message "<where>: <what>", where
 * <where> is "recipients[<index>].<field>" in a batch (@index >= 0),
 * "recipients[<index>]" when @field is NULL, and "<field>" otherwise. */
static void cg_data_set_error(GError **error, gint index, const char *field, const char *format,
			      ...) G_GNUC_PRINTF(4, 5);

static void
cg_data_set_error(GError **error, gint index, const char *field, const char *format, ...)
{
	va_list args;
	g_autofree char *what = NULL;
	g_autofree char *field_quoted = field != NULL ? cg_data_quote(field) : NULL;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);

	if (index >= 0 && field_quoted != NULL)
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA,
			    CG_DATA_RECIPIENTS "[%d].%s: %s", index, field_quoted, what);
	else if (index >= 0)
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, CG_DATA_RECIPIENTS "[%d]: %s",
			    index, what);
	else
		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_DATA, "%s: %s", field_quoted, what);
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

/* "YYYY-MM-DD" with digits in the right places. */
static gboolean
cg_data_parse_date(const char *value, guint *year, guint *month, guint *day)
{
	static const char pattern[] = "dddd-dd-dd";

	for (guint i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd' ? !g_ascii_isdigit(value[i]) : value[i] != pattern[i])
			return FALSE;
	}
	if (value[sizeof(pattern) - 1] != '\0')
		return FALSE;
	*year = (value[0] - '0') * 1000 + (value[1] - '0') * 100 + (value[2] - '0') * 10 +
		(value[3] - '0');
	*month = (value[5] - '0') * 10 + (value[6] - '0');
	*day = (value[8] - '0') * 10 + (value[9] - '0');
	return TRUE;
}

gboolean
cg_data_date_is_valid(const char *value)
{
	guint year, month, day;

	g_return_val_if_fail(value != NULL, FALSE);
	if (!cg_data_parse_date(value, &year, &month, &day))
		return FALSE;
	return month >= 1 && month <= 12 && g_date_valid_dmy(day, month, year);
}

/* Checks one string value against @rule: no control characters other than
 * tab, newline and carriage return, length in characters, dates. */
static gboolean
cg_data_check_value(const CgFieldRule *rule, gint index, const char *value, GError **error)
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
			cg_data_set_error(
			    error, index, rule->name,
			    "control character U+%04X at byte offset %" G_GSIZE_FORMAT, control, i);
			return FALSE;
		}
	}

	if (rule->type == CG_FIELD_TYPE_DATE) {
		guint year, month, day;
		g_autofree char *quoted = cg_data_quote(value);

		if (!cg_data_parse_date(value, &year, &month, &day)) {
			cg_data_set_error(error, index, rule->name,
					  "not a date (expected YYYY-MM-DD): %s", quoted);
			return FALSE;
		}
		if (!cg_data_date_is_valid(value)) {
			cg_data_set_error(error, index, rule->name, "not a real date: %s", quoted);
			return FALSE;
		}
	}

	if (n_chars < rule->min_length) {
		cg_data_set_error(error, index, rule->name,
				  "too short (%" G_GUINT64_FORMAT " characters, at least %u)",
				  n_chars, rule->min_length);
		return FALSE;
	}
	if (rule->max_length > 0 && n_chars > rule->max_length) {
		cg_data_set_error(error, index, rule->name,
				  "too long (%" G_GUINT64_FORMAT " characters, at most %u)",
				  n_chars, rule->max_length);
		return FALSE;
	}
	return TRUE;
}

/* Everything a parse needs: the rules, and the first object (in document
 * order) that repeats a key, found by cg_data_find_repeated(): json-glib
 * keeps only the last value of a repeated key, silently. */
typedef struct {
	const GPtrArray *rules;
	JsonObject *repeated_object;
	char *repeated_key;
} CgDataParse;

static void
cg_data_parse_clear(CgDataParse *parse)
{
	g_clear_pointer(&parse->repeated_key, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgDataParse, cg_data_parse_clear)

static gboolean
cg_data_is_repeated(CgDataParse *parse, JsonObject *object, const char *name)
{
	return object == parse->repeated_object && g_strcmp0(name, parse->repeated_key) == 0;
}

/* Checks one member of a recipient (@index >= 0) or of the top level
 * (@index < 0); on success *value is the string, borrowed from @node. */
static gboolean
cg_data_check_member(CgDataParse *parse, JsonObject *object, gint index, const char *name,
		     JsonNode *node, const CgFieldRule **rule_out, const char **value,
		     GError **error)
{
	const CgFieldRule *rule = cg_data_find_rule(parse->rules, name);

	if (cg_data_is_repeated(parse, object, name)) {
		cg_data_set_error(error, index, name, "duplicate field");
		return FALSE;
	}
	if (rule == NULL) {
		cg_data_set_error(error, index, name, "unknown field");
		return FALSE;
	}
	if (!cg_data_node_is_string(node)) {
		cg_data_set_error(error, index, name, "must be a string, not %s",
				  cg_data_node_kind(node));
		return FALSE;
	}
	*value = json_node_get_string(node);
	if (!cg_data_check_value(rule, index, *value, error))
		return FALSE;
	*rule_out = rule;
	return TRUE;
}

/* One recipient: its own fields in document order, then the shared ones it
 * lacks, then the required ones still missing. @index < 0 for a single
 * recipient; @shared (name → value) and @shared_present (names seen at the
 * top level, valid or not) are NULL then. */
static CgRecipient *
cg_data_parse_recipient(CgDataParse *parse, JsonObject *object, gint index, GHashTable *shared,
			GHashTable *shared_present, GError **error)
{
	g_autoptr(CgRecipient) recipient = cg_recipient_new();
	JsonObjectIter iter;
	const char *name;
	JsonNode *node;

	json_object_iter_init_ordered(&iter, object);
	while (json_object_iter_next_ordered(&iter, &name, &node)) {
		const CgFieldRule *rule = NULL;
		const char *value = NULL;

		if (!cg_data_check_member(parse, object, index, name, node, &rule, &value, error))
			return NULL;
		g_hash_table_insert(recipient->fields, (gpointer)g_intern_string(rule->name),
				    g_strdup(value));
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
		if (rule->required) {
			cg_data_set_error(error, index, rule->name, "required");
			return NULL;
		}
	}
	return g_steal_pointer(&recipient);
}

static gboolean
cg_data_parse_batch(CgDataParse *parse, JsonObject *root, guint max_recipients, CgData *data,
		    GError **error)
{
	g_autoptr(GHashTable) shared = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) shared_present = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) shared_error = NULL;
	gboolean shared_error_first = FALSE;
	JsonObjectIter iter;
	const char *name;
	JsonNode *node;
	JsonNode *list_node = NULL;
	JsonArray *list;
	guint n_recipients;

	/* The shared fields first, as every recipient needs them; their
	 * first error is reported in document order relative to the list. */
	json_object_iter_init_ordered(&iter, root);
	while (json_object_iter_next_ordered(&iter, &name, &node)) {
		const CgFieldRule *rule = NULL;
		const char *value = NULL;

		if (g_strcmp0(name, CG_DATA_RECIPIENTS) == 0) {
			list_node = node;
			continue;
		}
		g_hash_table_add(shared_present, (gpointer)name);
		if (shared_error != NULL)
			continue;
		if (!cg_data_check_member(parse, root, -1, name, node, &rule, &value,
					  &shared_error)) {
			shared_error_first = list_node == NULL;
			continue;
		}
		g_hash_table_insert(shared, rule->name, (gpointer)value);
	}
	if (shared_error != NULL && shared_error_first) {
		g_propagate_error(error, g_steal_pointer(&shared_error));
		return FALSE;
	}

	if (cg_data_is_repeated(parse, root, CG_DATA_RECIPIENTS)) {
		cg_data_set_error(error, -1, CG_DATA_RECIPIENTS, "duplicate field");
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_ARRAY(list_node)) {
		cg_data_set_error(error, -1, CG_DATA_RECIPIENTS, "must be an array, not %s",
				  cg_data_node_kind(list_node));
		return FALSE;
	}
	list = json_node_get_array(list_node);
	n_recipients = json_array_get_length(list);
	if (n_recipients == 0) {
		cg_data_set_error(error, -1, CG_DATA_RECIPIENTS, "at least 1 recipient");
		return FALSE;
	}
	if (max_recipients > 0 && n_recipients > max_recipients) {
		cg_data_set_error(error, -1, CG_DATA_RECIPIENTS, "at most %u recipient%s",
				  max_recipients, max_recipients == 1 ? "" : "s");
		return FALSE;
	}

	for (guint i = 0; i < n_recipients; i++) {
		JsonNode *element = json_array_get_element(list, i);
		CgRecipient *recipient;

		if (!JSON_NODE_HOLDS_OBJECT(element)) {
			cg_data_set_error(error, (gint)i, NULL, "must be an object, not %s",
					  cg_data_node_kind(element));
			return FALSE;
		}
		recipient = cg_data_parse_recipient(parse, json_node_get_object(element), (gint)i,
						    shared, shared_present, error);
		if (recipient == NULL)
			return FALSE;
		g_ptr_array_add(data->recipients, recipient);
	}

	if (shared_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&shared_error));
		return FALSE;
	}
	return TRUE;
}

/* json-glib 1.6 is lenient where strict JSON (RFC 8259) is not: it takes
 * comments, single quotes, unknown escapes ("\q" becomes "q"), hex and
 * leading-zero numbers, silently drops a second top-level value, cuts a
 * string at "\u0000", and recurses once per nesting level (deep nesting
 * overflows the stack). So the text is checked strictly first, in one
 * iterative pass with a depth limit, and json-glib only builds the tree. */

#define CG_DATA_MAX_DEPTH 32

/* Where an object is in the text and how many members it has there. */
typedef struct {
	gsize start;
	gsize end;
	guint n_members;
} CgJsonSpan;

typedef struct {
	const char *text;
	gsize length;
	gsize pos;
	GArray *spans; /* of CgJsonSpan, every object in document order */
} CgJsonLexer;

static gboolean
cg_json_error(CgJsonLexer *lexer, GError **error, const char *what)
{
	cg_data_set_error(error, -1, "data", "not valid JSON: %s at byte offset %" G_GSIZE_FORMAT,
			  what, lexer->pos);
	return FALSE;
}

static gboolean
cg_json_unexpected(CgJsonLexer *lexer, GError **error, const char *expected)
{
	g_autofree char *what = NULL;

	if (lexer->pos >= lexer->length) {
		what = g_strdup_printf("unexpected end of data, expected %s", expected);
	} else {
		gunichar c = g_utf8_get_char(lexer->text + lexer->pos);

		if (c > 0x20 && c < 0x7f)
			what = g_strdup_printf("unexpected '%c', expected %s", (char)c, expected);
		else
			what = g_strdup_printf("unexpected U+%04X, expected %s", c, expected);
	}
	return cg_json_error(lexer, error, what);
}

static void
cg_json_skip_whitespace(CgJsonLexer *lexer)
{
	while (lexer->pos < lexer->length) {
		char c = lexer->text[lexer->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		lexer->pos++;
	}
}

static gboolean
cg_json_peek(CgJsonLexer *lexer, char c)
{
	return lexer->pos < lexer->length && lexer->text[lexer->pos] == c;
}

static gint
cg_json_hex4(CgJsonLexer *lexer, gsize at)
{
	gint value = 0;

	if (lexer->length - at < 4)
		return -1;
	for (gsize i = at; i < at + 4; i++) {
		gint digit = g_ascii_xdigit_value(lexer->text[i]);

		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* A string; lexer->pos is at its opening quote. */
static gboolean
cg_json_string(CgJsonLexer *lexer, GError **error)
{
	gsize start = lexer->pos;

	if (!cg_json_peek(lexer, '"'))
		return cg_json_unexpected(lexer, error, "a string");
	lexer->pos++;
	while (lexer->pos < lexer->length) {
		guchar c = lexer->text[lexer->pos];
		gint unit;

		if (c == '"') {
			lexer->pos++;
			return TRUE;
		}
		if (c < 0x20) {
			g_autofree char *what =
			    g_strdup_printf("unescaped control character U+%04X in a string", c);
			return cg_json_error(lexer, error, what);
		}
		if (c != '\\') {
			lexer->pos++;
			continue;
		}
		if (lexer->pos + 1 >= lexer->length)
			break;
		c = lexer->text[lexer->pos + 1];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			lexer->pos += 2;
			continue;
		}
		if (c != 'u')
			return cg_json_error(lexer, error, "invalid escape");
		unit = cg_json_hex4(lexer, lexer->pos + 2);
		if (unit < 0)
			return cg_json_error(lexer, error, "invalid \\u escape");
		if (unit == 0) {
			cg_data_set_error(error, -1, "data",
					  "NUL character (\\u0000) at byte offset %" G_GSIZE_FORMAT,
					  lexer->pos);
			return FALSE;
		}
		if (unit >= 0xdc00 && unit <= 0xdfff)
			return cg_json_error(lexer, error, "unpaired surrogate");
		if (unit >= 0xd800 && unit <= 0xdbff) {
			gint low = -1;

			if (lexer->length - lexer->pos >= 12 &&
			    lexer->text[lexer->pos + 6] == '\\' &&
			    lexer->text[lexer->pos + 7] == 'u')
				low = cg_json_hex4(lexer, lexer->pos + 8);
			if (low < 0xdc00 || low > 0xdfff)
				return cg_json_error(lexer, error, "unpaired surrogate");
			lexer->pos += 6;
		}
		lexer->pos += 6;
	}
	lexer->pos = start; /* where it opens */
	return cg_json_error(lexer, error, "unterminated string");
}

static gboolean
cg_json_digits(CgJsonLexer *lexer)
{
	gsize start = lexer->pos;

	while (lexer->pos < lexer->length && g_ascii_isdigit(lexer->text[lexer->pos]))
		lexer->pos++;
	return lexer->pos > start;
}

static gboolean
cg_json_number(CgJsonLexer *lexer, GError **error)
{
	gsize start = lexer->pos;

	if (cg_json_peek(lexer, '-'))
		lexer->pos++;
	if (cg_json_peek(lexer, '0')) {
		lexer->pos++;
	} else if (!cg_json_digits(lexer)) {
		lexer->pos = start;
		return cg_json_error(lexer, error, "invalid number");
	}
	if (cg_json_peek(lexer, '.')) {
		lexer->pos++;
		if (!cg_json_digits(lexer)) {
			lexer->pos = start;
			return cg_json_error(lexer, error, "invalid number");
		}
	}
	if (cg_json_peek(lexer, 'e') || cg_json_peek(lexer, 'E')) {
		lexer->pos++;
		if (cg_json_peek(lexer, '+') || cg_json_peek(lexer, '-'))
			lexer->pos++;
		if (!cg_json_digits(lexer)) {
			lexer->pos = start;
			return cg_json_error(lexer, error, "invalid number");
		}
	}
	return TRUE;
}

/* A member's key and colon; counts the member in @span_index. */
static gboolean
cg_json_object_key(CgJsonLexer *lexer, guint span_index, GError **error)
{
	g_array_index(lexer->spans, CgJsonSpan, span_index).n_members++;
	cg_json_skip_whitespace(lexer);
	if (!cg_json_peek(lexer, '"'))
		return cg_json_unexpected(lexer, error, "a string (object key)");
	if (!cg_json_string(lexer, error))
		return FALSE;
	cg_json_skip_whitespace(lexer);
	if (!cg_json_peek(lexer, ':'))
		return cg_json_unexpected(lexer, error, "':'");
	lexer->pos++;
	return TRUE;
}

/* One value at the top, then only whitespace. Iterative: the stack holds
 * the open containers ('{' or '[') and, for objects, their span index.
 * Records every object's span in @spans. */
static gboolean
cg_data_check_syntax(const char *json, gsize length, GArray *spans, GError **error)
{
	CgJsonLexer lexer = {json, length, 0, spans};
	char stack[CG_DATA_MAX_DEPTH];
	guint stack_spans[CG_DATA_MAX_DEPTH];
	guint depth = 0;
	gboolean want_value = TRUE;

	cg_json_skip_whitespace(&lexer);
	if (lexer.pos == length) {
		cg_data_set_error(error, -1, "data", "empty");
		return FALSE;
	}
	while (TRUE) {
		char c;

		cg_json_skip_whitespace(&lexer);
		if (!want_value) {
			if (depth == 0) {
				if (lexer.pos < length)
					return cg_json_unexpected(&lexer, error,
								  "end of data after the value");
				return TRUE;
			}
			if (cg_json_peek(&lexer, stack[depth - 1] == '{' ? '}' : ']')) {
				lexer.pos++;
				depth--;
				if (stack[depth] == '{')
					g_array_index(spans, CgJsonSpan, stack_spans[depth]).end =
					    lexer.pos;
				continue;
			}
			if (!cg_json_peek(&lexer, ','))
				return cg_json_unexpected(&lexer, error,
							  stack[depth - 1] == '{' ? "',' or '}'"
										  : "',' or ']'");
			lexer.pos++;
			if (stack[depth - 1] == '{' &&
			    !cg_json_object_key(&lexer, stack_spans[depth - 1], error))
				return FALSE;
			want_value = TRUE;
			continue;
		}

		if (lexer.pos >= length)
			return cg_json_unexpected(&lexer, error, "a value");
		c = json[lexer.pos];
		if (c == '{' || c == '[') {
			if (depth == CG_DATA_MAX_DEPTH) {
				g_autofree char *what = g_strdup_printf(
				    "nested deeper than %d levels", CG_DATA_MAX_DEPTH);
				return cg_json_error(&lexer, error, what);
			}
			if (c == '{') {
				CgJsonSpan span = {lexer.pos, 0, 0};

				stack_spans[depth] = spans->len;
				g_array_append_val(spans, span);
			}
			stack[depth++] = c;
			lexer.pos++;
			/* the closing bracket or the first member comes next */
			want_value = FALSE;
			cg_json_skip_whitespace(&lexer);
			if (cg_json_peek(&lexer, c == '{' ? '}' : ']'))
				continue;
			want_value = TRUE;
			if (c == '{' && !cg_json_object_key(&lexer, stack_spans[depth - 1], error))
				return FALSE;
			continue;
		}
		if (c == '"') {
			if (!cg_json_string(&lexer, error))
				return FALSE;
		} else if (c == '-' || g_ascii_isdigit(c)) {
			if (!cg_json_number(&lexer, error))
				return FALSE;
		} else if (length - lexer.pos >= 4 && memcmp(json + lexer.pos, "true", 4) == 0) {
			lexer.pos += 4;
		} else if (length - lexer.pos >= 5 && memcmp(json + lexer.pos, "false", 5) == 0) {
			lexer.pos += 5;
		} else if (length - lexer.pos >= 4 && memcmp(json + lexer.pos, "null", 4) == 0) {
			lexer.pos += 4;
		} else {
			return cg_json_unexpected(&lexer, error, "a value");
		}
		want_value = FALSE;
	}
}

/* Finding which key an object repeats, on the error path only: json-glib
 * tells each member as it is parsed. */
typedef struct {
	GHashTable *counts;   /* JsonObject* (a reference) → members told */
	GHashTable *repeated; /* JsonObject* → the first repeated key */
} CgDataRepeats;

static void
cg_data_object_member_cb(JsonParser *parser, JsonObject *object, const char *name,
			 gpointer user_data)
{
	CgDataRepeats *repeats = user_data;
	guint count = GPOINTER_TO_UINT(g_hash_table_lookup(repeats->counts, object)) + 1;

	/* The reference keeps an object dropped by a repeated key from being
	 * freed and its address reused. On an existing key GHashTable drops
	 * the new reference again. */
	g_hash_table_insert(repeats->counts, json_object_ref(object), GUINT_TO_POINTER(count));
	if (json_object_get_size(object) < count &&
	    !g_hash_table_contains(repeats->repeated, object))
		g_hash_table_insert(repeats->repeated, object, g_strdup(name));
}

/* The first key that the object in @text repeats, or NULL. */
static char *
cg_data_repeated_key(const char *text, gsize length)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GHashTable) counts =
	    g_hash_table_new_full(NULL, NULL, (GDestroyNotify)json_object_unref, NULL);
	g_autoptr(GHashTable) repeated = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	CgDataRepeats repeats = {counts, repeated};
	gboolean loaded;
	JsonNode *root;

	g_signal_connect(parser, "object-member", G_CALLBACK(cg_data_object_member_cb), &repeats);
	loaded = json_parser_load_from_data(parser, text, (gssize)length, NULL);
	g_signal_handlers_disconnect_by_data(parser, &repeats);
	root = loaded ? json_parser_get_root(parser) : NULL;
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	return g_strdup(g_hash_table_lookup(repeated, json_node_get_object(root)));
}

/* Walks @node in document order beside the spans the syntax check
 * recorded: the first object with fewer members than its text has repeats
 * a key (json-glib keeps the last value). Its span index goes to
 * *span_index. Recursion is bounded by CG_DATA_MAX_DEPTH. */
static JsonObject *
cg_data_find_repeated(JsonNode *node, const GArray *spans, guint *next, guint *span_index)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *object = json_node_get_object(node);
		guint index = (*next)++;
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;

		if (index >= spans->len || json_object_get_size(object) !=
					       g_array_index(spans, CgJsonSpan, index).n_members) {
			*span_index = index;
			return object;
		}
		json_object_iter_init_ordered(&iter, object);
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			JsonObject *found = cg_data_find_repeated(member, spans, next, span_index);

			if (found != NULL)
				return found;
		}
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonObject *found = cg_data_find_repeated(json_array_get_element(array, i),
								  spans, next, span_index);

			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/* Checks the raw text: size first, then UTF-8 without NUL bytes, then
 * strict JSON syntax. */
static gboolean
cg_data_check_text(const char *json, gsize length, gsize max_bytes, GArray *spans, GError **error)
{
	const char *end = NULL;

	if (max_bytes > 0 && length > max_bytes) {
		cg_data_set_error(error, -1, "data",
				  "too large (%" G_GSIZE_FORMAT " bytes, at most %" G_GSIZE_FORMAT
				  ")",
				  length, max_bytes);
		return FALSE;
	}
	if (!g_utf8_validate_len(json, length, &end)) {
		if (*end == '\0')
			cg_data_set_error(error, -1, "data",
					  "NUL byte at byte offset %" G_GSIZE_FORMAT,
					  (gsize)(end - json));
		else
			cg_data_set_error(error, -1, "data",
					  "not valid UTF-8 at byte offset %" G_GSIZE_FORMAT,
					  (gsize)(end - json));
		return FALSE;
	}
	return cg_data_check_syntax(json, length, spans, error);
}

CgData *
cg_data_parse(const char *json, gsize length, const GPtrArray *rules, gsize max_bytes,
	      guint max_recipients, GError **error)
{
	g_auto(CgDataParse) parse = {0};
	g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(CgJsonSpan));
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(CgData) data = NULL;
	JsonNode *root;
	JsonObject *object;
	guint next_span = 0;
	guint repeated_span = 0;

	g_return_val_if_fail(json != NULL || length == 0, NULL);
	g_return_val_if_fail(rules != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (json == NULL)
		json = "";
	if (!cg_data_check_text(json, length, max_bytes, spans, error))
		return NULL;

	parser = json_parser_new();
	if (!json_parser_load_from_data(parser, json, (gssize)length, &error_local)) {
		cg_data_set_error(error, -1, "data", "not valid JSON: %s", error_local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		cg_data_set_error(error, -1, "data", "empty");
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		cg_data_set_error(error, -1, "data", "must be a JSON object, not %s",
				  cg_data_node_kind(root));
		return NULL;
	}
	object = json_node_get_object(root);

	parse.rules = rules;
	parse.repeated_object = cg_data_find_repeated(root, spans, &next_span, &repeated_span);
	if (parse.repeated_object != NULL) {
		const CgJsonSpan *span = &g_array_index(spans, CgJsonSpan, repeated_span);

		parse.repeated_key =
		    cg_data_repeated_key(json + span->start, span->end - span->start);
		if (parse.repeated_key == NULL) {
			/* cannot happen: the counts differ for no other reason */
			cg_data_set_error(error, -1, "data", "a field is repeated");
			return NULL;
		}
	}

	data = g_new0(CgData, 1);
	data->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)cg_recipient_free);
	data->is_batch = json_object_has_member(object, CG_DATA_RECIPIENTS);
	if (data->is_batch) {
		if (!cg_data_parse_batch(&parse, object, max_recipients, data, error))
			return NULL;
	} else {
		CgRecipient *recipient =
		    cg_data_parse_recipient(&parse, object, -1, NULL, NULL, error);
		if (recipient == NULL)
			return NULL;
		g_ptr_array_add(data->recipients, recipient);
	}
	return g_steal_pointer(&data);
}

static void
cg_data_append_json_string(GString *out, const char *text)
{
	g_string_append_c(out, '"');
	for (const char *p = text; *p != '\0'; p++) {
		guchar c = *p;

		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (c < 0x20)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, '"');
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
		cg_data_append_json_string(out, keys[i]);
		g_string_append_c(out, ':');
		cg_data_append_json_string(out, g_hash_table_lookup(recipient->fields, keys[i]));
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

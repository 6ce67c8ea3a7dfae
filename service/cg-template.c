/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Templates.
 *
 * A template is a directory <dir>/<id>/ holding layout.json and the
 * background PDF it names. layout.json (all lengths in PostScript points,
 * the origin at the top-left corner of the page, y growing downwards):
 *
 *   {
 *     "version": 1,                                optional, 1
 *     "title": "Classic",                          optional, 1–128 characters;
 *                                                  default the id
 *     "description": "A4 landscape, ...",          optional, 0–1000 characters
 *     "page": { "width": 842, "height": 595 },     must match the background page
 *     "background": { "file": "background.pdf",    a plain file name in the
 *                     "page": 1 },                 template directory; page
 *                                                  1-based, default 1
 *     "dateFormat": "%-d %B %Y",                   optional, for date fields:
 *                                                  %d %-d %m %-m %B %b %Y %%,
 *                                                  English month names
 *     "fields": [ FIELD, ... ]                     drawn in this order
 *   }
 *
 * A FIELD is one of
 *
 *   static text  { "text": "Certificate of Completion", STYLE }
 *   data field   { "key": "recipientName", STYLE, RULE, "prefix": s, "suffix": s }
 *   number       { "key": "certificateNumber", STYLE, "prefix": s, "suffix": s }
 *   QR code      { "key": "qr", "x": n, "y": n, "size": n, "color": c,
 *                  "background": c, "quietZone": n }
 *
 * STYLE members of text fields:
 *   "x", "y"          required; y is the baseline of the first line; x is the
 *                     left edge, the centre or the right edge of the text box
 *                     as "align" says
 *   "size"            required, font size (0.5 to 500)
 *   "maxWidth"        required, width of the text box (1 to the page width)
 *   "font"            fontconfig family, default "DejaVu Sans"; characters the
 *                     family lacks come from fallback fonts
 *   "weight"          "thin" … "normal" … "bold" … "heavy" or 100–1000; "normal"
 *   "style"           "normal" or "italic"; "normal"
 *   "color"           "#rrggbb"; "#000000"
 *   "align"           "left", "center" or "right"; "left"
 *   "minSize"         smallest size the text is shrunk to (0.5 to size); size / 2
 *   "maxLines"        lines the text may be wrapped onto (0 to 100, 0 = no
 *                     limit); 1 when "fit" is "shrink", 0 when "wrap"
 *   "maxDepth"        how far below y the lines may reach, descent included (0
 *                     to the page height, 0 = no limit); 0
 *   "fit"             "shrink" or "wrap": only the default of maxLines; every
 *                     text is drawn at the largest size from size down to
 *                     minSize at which it fits its box (cg-text-fit.h), never
 *                     ellipsized; data that cannot fit is refused; "shrink"
 *   "letterSpacing"   extra space between characters (-10 to 100); 0
 * "label" of a data field: what a form calls it (1–128 characters, default
 * the key). Title, description and labels are shown by clients
 * (ListTemplates), so they may hold no control characters.
 * RULE members of data fields (the data validation of cg-data.h):
 *   "required" (false), "type" ("string" or "date": YYYY-MM-DD drawn with
 *   dateFormat), "minLength" (1 when required, else 0), "maxLength" (0 = no
 *   limit); lengths in characters (integers up to CG_LENGTH_MAX), strings
 *   only.
 * A data field key is a name ([A-Za-z][A-Za-z0-9_]*, at most 64 bytes) and
 * appears once. An optional data field without a value draws nothing. The
 * QR code's "size" is its side including the quiet zone ("quietZone" modules
 * on each side, default 4); "color" #000000 and "background" #ffffff.
 *
 * Unknown members, wrong types and values out of range are errors, so a
 * typo never silently changes a certificate. Every number is checked to be
 * finite and in its range before it is converted to an integer type.
 *
 * Files: layout.json and the background are opened without blocking and
 * must be regular files (a FIFO, a device or a directory is refused, so none
 * can hang or flood a worker), of at most CG_LAYOUT_MAX_BYTES and
 * CG_BACKGROUND_MAX_BYTES; what is checked (fstat) is what is read (the same
 * descriptor). Symbolic links are followed: an administrator may link a
 * shared background into several templates.
 *
 * Errors (CG_ERROR_FAILED) reach unprivileged callers, so their message names
 * the template id, the file and the member and says what is wrong
 * ("Template fancy: layout.json: fields[2].size: must be a number from 0.5
 * to 500"), but never an absolute path nor anything read from a file (a
 * layout.json linked to /etc/passwd must not show a line of it). The full
 * story (paths, the value found, the parser's or poppler's own message) is
 * logged for the journal when cg_template_store_load() fails.
 */

#include "config.h"

#include "cg-template.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <json-glib/json-glib.h>
#include <poppler.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg-check.h"
#include "cg-date.h"
#include "cg-error.h"
#include "cg-field-name.h"
#include "cg-json.h"
#include "cg-getter.h"
#include "cg-text-fit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

#define CG_TEMPLATE_ID_MAX 64
#define CG_LAYOUT_MAX_BYTES (1024 * 1024)
#define CG_LAYOUT_MAX_DEPTH 32
#define CG_BACKGROUND_MAX_BYTES (16 * 1024 * 1024)
#define CG_LENGTH_MAX 1000000 /* minLength, maxLength: characters */
#define CG_PAGE_MAX 14400.0   /* PDF's largest page, 200 inches */
#define CG_PAGE_SIZE_TOLERANCE 0.5
#define CG_DEFAULT_FONT "DejaVu Sans"
#define CG_DEFAULT_DATE_FORMAT "%-d %B %Y"
#define CG_QR_DEFAULT_QUIET_ZONE 4
#define CG_TITLE_MAX 128	/* characters, title and labels */
#define CG_DESCRIPTION_MAX 1000 /* characters */
#define CG_NOT_FOUND_MAX_IDS 50 /* ids a TemplateNotFound message lists */

typedef struct {
	gboolean exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} CgFileStamp;

struct _CgTemplate {
	char *id;
	char *title;
	char *description;
	char *layout_path;
	char *background_path;
	CgFileStamp layout_stamp;
	CgFileStamp background_stamp;
	double width;
	double height;
	GBytes *background;
	guint background_page;
	char *date_format;
	GPtrArray *fields; /* of CgTemplateField* */
	GPtrArray *rules;  /* of CgFieldRule* */
};

struct _CgTemplateStore {
	GStrv dirs;
	GMutex lock;
	GHashTable *cache; /* id → CgTemplate* (a reference) */
};

static const char *const month_names[12] = {
    "January", "February", "March",	"April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};

/* ---- file stamps ------------------------------------------------------ */

static void
cg_file_stamp_get(const char *path, CgFileStamp *stamp)
{
	struct stat st;

	memset(stamp, 0, sizeof(*stamp));
	if (stat(path, &st) != 0)
		return;
	stamp->exists = TRUE;
	stamp->dev = st.st_dev;
	stamp->ino = st.st_ino;
	stamp->size = st.st_size;
	stamp->mtime = st.st_mtim;
}

static gboolean
cg_file_stamp_equal(const CgFileStamp *a, const CgFileStamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* ---- ids ---------------------------------------------------------------- */

gboolean
cg_template_id_is_valid(const char *id)
{
	gsize i;

	if (id == NULL || !(g_ascii_islower(id[0]) || g_ascii_isdigit(id[0])))
		return FALSE;
	for (i = 1; id[i] != '\0'; i++) {
		char c = id[i];

		if (i >= CG_TEMPLATE_ID_MAX)
			return FALSE;
		if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '_' || c == '-'))
			return FALSE;
	}
	return TRUE;
}

/* An id quoted for a message: it may come from anyone. */
static char *
cg_template_id_quote(const char *id)
{
	g_autofree char *escaped = g_strescape(id != NULL ? id : "", NULL);

	if (strlen(escaped) > 80)
		strcpy(escaped + 77, "...");
	return g_strdup_printf("“%s”", escaped);
}

/* ---- template objects --------------------------------------------------- */

static void
cg_template_field_free(CgTemplateField *field)
{
	if (field == NULL)
		return;
	g_free(field->key);
	g_free(field->label);
	g_free(field->text);
	g_free(field->prefix);
	g_free(field->suffix);
	g_free(field->font);
	g_free(field);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgTemplateField, cg_template_field_free)

static void
cg_template_clear(CgTemplate *tmpl)
{
	g_free(tmpl->id);
	g_free(tmpl->title);
	g_free(tmpl->description);
	g_free(tmpl->layout_path);
	g_free(tmpl->background_path);
	g_clear_pointer(&tmpl->background, g_bytes_unref);
	g_free(tmpl->date_format);
	g_clear_pointer(&tmpl->fields, g_ptr_array_unref);
	g_clear_pointer(&tmpl->rules, g_ptr_array_unref);
}

static CgTemplate *
cg_template_new(void)
{
	CgTemplate *tmpl = g_atomic_rc_box_new0(CgTemplate);

	tmpl->fields = g_ptr_array_new_with_free_func((GDestroyNotify)cg_template_field_free);
	tmpl->rules = g_ptr_array_new_with_free_func((GDestroyNotify)cg_field_rule_free);
	return tmpl;
}

CgTemplate *
cg_template_ref(CgTemplate *tmpl)
{
	g_return_val_if_fail(tmpl != NULL, NULL);
	return g_atomic_rc_box_acquire(tmpl);
}

void
cg_template_unref(CgTemplate *tmpl)
{
	if (tmpl == NULL)
		return;
	g_atomic_rc_box_release_full(tmpl, (GDestroyNotify)cg_template_clear);
}

CG_DEFINE_GETTER(CgTemplate, cg_template_get_id, const char *, id, NULL)
CG_DEFINE_GETTER(CgTemplate, cg_template_get_path, const char *, layout_path, NULL)
CG_DEFINE_GETTER(CgTemplate, cg_template_get_rules, const GPtrArray *, rules, NULL)
CG_DEFINE_GETTER(CgTemplate, cg_template_get_fields, const GPtrArray *, fields, NULL)

void
cg_template_get_texts(const CgTemplate *tmpl, const char **title, const char **description)
{
	g_return_if_fail(tmpl != NULL);
	if (title != NULL)
		*title = tmpl->title;
	if (description != NULL)
		*description = tmpl->description;
}

void
cg_template_get_page_size(const CgTemplate *tmpl, double *width, double *height)
{
	g_return_if_fail(tmpl != NULL);
	if (width != NULL)
		*width = tmpl->width;
	if (height != NULL)
		*height = tmpl->height;
}

GBytes *
cg_template_get_background(const CgTemplate *tmpl, guint *page_index)
{
	g_return_val_if_fail(tmpl != NULL, NULL);
	if (page_index != NULL)
		*page_index = tmpl->background_page;
	return tmpl->background;
}

/* ---- dates -------------------------------------------------------------- */

/* Checks @format; the conversions are those of strftime() that make sense
 * for a calendar date, with GNU's "-" for no padding. */
static gboolean
cg_date_format_is_valid(const char *format, char *bad_conversion)
{
	for (const char *p = format; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '-')
			p++;
		if (*p == '\0' || strchr("dmBbY%", *p) == NULL ||
		    (p[-1] == '-' && strchr("dm", *p) == NULL)) {
			*bad_conversion = *p;
			return FALSE;
		}
	}
	return TRUE;
}

char *
cg_template_format_date(const CgTemplate *tmpl, const char *iso_date)
{
	GString *out;
	guint year, month, day;

	g_return_val_if_fail(tmpl != NULL, NULL);
	g_return_val_if_fail(iso_date != NULL, NULL);

	/* the same real-date check as data validation: no "31 February" */
	if (cg_date_parse(iso_date, &year, &month, &day) != CG_DATE_OK)
		return g_strdup(iso_date);
	out = g_string_sized_new(32);
	for (const char *p = tmpl->date_format; *p != '\0'; p++) {
		gboolean pad = TRUE;

		if (*p != '%') {
			g_string_append_c(out, *p);
			continue;
		}
		p++;
		if (*p == '-') {
			pad = FALSE;
			p++;
		}
		switch (*p) {
		case 'd':
			g_string_append_printf(out, pad ? "%02u" : "%u", day);
			break;
		case 'm':
			g_string_append_printf(out, pad ? "%02u" : "%u", month);
			break;
		case 'B':
			g_string_append(out, month_names[month - 1]);
			break;
		case 'b':
			g_string_append_len(out, month_names[month - 1], 3);
			break;
		case 'Y':
			g_string_append_printf(out, "%04u", year);
			break;
		default: /* '%'; the format was checked when loaded */
			g_string_append_c(out, *p);
			break;
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- layout.json parsing ------------------------------------------------ */

/* One load of a template: who it is for messages, and what the journal
 * gets beyond the message (see the comment at the top). */
typedef struct {
	const char *id;
	char *detail;		   /* for the journal only; NULL when the message says it all */
	GCancellable *cancellable; /* checked between the steps and while parsing */
} CgLoad;

static void
cg_load_clear(CgLoad *load)
{
	g_clear_pointer(&load->detail, g_free);
}

/* Sets "Template <id>: <format>" (no path, nothing read from a file) and
 * keeps @detail for the journal. */
static gboolean cg_load_fail(CgLoad *load, GError **error, const char *detail, const char *format,
			     ...) G_GNUC_PRINTF(4, 5);

static gboolean
cg_load_fail(CgLoad *load, GError **error, const char *detail, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);

	g_free(load->detail);
	load->detail = g_strdup(detail);
	g_set_error(error, CG_ERROR, CG_ERROR_FAILED, "Template %s: %s", load->id, message);
	return FALSE;
}

static void
cg_file_stamp_from_stat(CgFileStamp *stamp, const struct stat *st)
{
	memset(stamp, 0, sizeof(*stamp));
	stamp->exists = TRUE;
	stamp->dev = st->st_dev;
	stamp->ino = st->st_ino;
	stamp->size = st->st_size;
	stamp->mtime = st->st_mtim;
}

/* Reads the regular file @path (@name in messages) of at most @max_bytes
 * into *@contents (NUL-terminated) and its stamp. Opened without blocking
 * and checked on the descriptor it is read from: a FIFO, a device or a
 * directory put there is refused, never waited on or read without end. */
static gboolean
cg_template_read_file(CgLoad *load, const char *path, const char *name, gsize max_bytes,
		      CgFileStamp *stamp, char **contents, gsize *length, GError **error)
{
	g_autoptr(GByteArray) buffer = NULL;
	g_autofree char *detail = NULL;
	struct stat st;
	int saved_errno;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		saved_errno = errno;
		detail = g_strdup_printf("cannot open %s: %s", path, g_strerror(saved_errno));
		return cg_load_fail(load, error, detail, "%s: cannot be opened: %s", name,
				    g_strerror(saved_errno));
	}
	if (fstat(fd, &st) != 0) {
		saved_errno = errno;
		close(fd);
		detail = g_strdup_printf("cannot stat %s: %s", path, g_strerror(saved_errno));
		return cg_load_fail(load, error, detail, "%s: cannot be read: %s", name,
				    g_strerror(saved_errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		detail = g_strdup_printf("%s is not a regular file (mode %o)", path,
					 (unsigned)st.st_mode);
		return cg_load_fail(load, error, detail, "%s: not a regular file", name);
	}
	if (st.st_size < 0 || (guint64)st.st_size > max_bytes) {
		close(fd);
		detail =
		    g_strdup_printf("%s has %" G_GINT64_FORMAT " bytes", path, (gint64)st.st_size);
		return cg_load_fail(load, error, detail,
				    "%s: larger than %" G_GSIZE_FORMAT " bytes", name, max_bytes);
	}

	/* The file may grow between fstat() and read(): the cap holds for what
	 * is read, not for what fstat() said. */
	buffer = g_byte_array_sized_new((guint)st.st_size + 1);
	for (;;) {
		guint8 chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved_errno = errno;
			close(fd);
			detail =
			    g_strdup_printf("cannot read %s: %s", path, g_strerror(saved_errno));
			return cg_load_fail(load, error, detail, "%s: cannot be read: %s", name,
					    g_strerror(saved_errno));
		}
		if (n == 0)
			break;
		if (buffer->len + (gsize)n > max_bytes) {
			close(fd);
			detail = g_strdup_printf("%s grew beyond %" G_GSIZE_FORMAT " bytes", path,
						 max_bytes);
			return cg_load_fail(load, error, detail,
					    "%s: larger than %" G_GSIZE_FORMAT " bytes", name,
					    max_bytes);
		}
		g_byte_array_append(buffer, chunk, (guint)n);
	}
	close(fd);

	cg_file_stamp_from_stat(stamp, &st);
	*length = buffer->len;
	g_byte_array_append(buffer, (const guint8 *)"", 1);
	*contents = (char *)g_byte_array_free(g_steal_pointer(&buffer), FALSE);
	return TRUE;
}

/* A JSON object of layout.json and where it is, for messages. */
typedef struct {
	CgLoad *load;
	JsonObject *object;
	const char *where; /* "fields[2]", "page", or NULL for the top level */
} CgLayoutObject;

static gboolean cg_layout_error_detail(GError **error, const CgLayoutObject *obj,
				       const char *member, const char *detail, const char *format,
				       ...) G_GNUC_PRINTF(5, 6);

/* @member must be one of the names of the format (a literal of this file),
 * never a name read from the file; @detail (or NULL) goes to the journal. */
static gboolean
cg_layout_error_detail(GError **error, const CgLayoutObject *obj, const char *member,
		       const char *detail, const char *format, ...)
{
	g_autofree char *message = NULL;
	g_autofree char *name = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);

	if (obj->where != NULL && member != NULL)
		name = g_strdup_printf("%s.%s", obj->where, member);
	else
		name = g_strdup(obj->where != NULL ? obj->where : member);
	if (name != NULL)
		return cg_load_fail(obj->load, error, detail, "layout.json: %s: %s", name, message);
	return cg_load_fail(obj->load, error, detail, "layout.json: %s", message);
}

#define cg_layout_error(error, obj, member, ...)                                                   \
	cg_layout_error_detail(error, obj, member, NULL, __VA_ARGS__)

static gboolean
cg_strv_has(const char *const *strv, const char *str)
{
	return strv != NULL && g_strv_contains(strv, str);
}

static gboolean
cg_layout_check_members(const CgLayoutObject *obj, const char *const *allowed,
			const char *const *allowed2, GError **error)
{
	g_autoptr(GList) members = json_object_get_members(obj->object);

	for (GList *l = members; l != NULL; l = l->next) {
		const char *member = l->data;

		if (!cg_strv_has(allowed, member) && !cg_strv_has(allowed2, member)) {
			/* the name is the file's: for the journal only */
			g_autofree char *quoted = cg_template_id_quote(member);
			g_autofree char *detail = g_strdup_printf("the member is %s", quoted);

			return cg_layout_error_detail(error, obj, NULL, detail, "%s",
						      obj->where != NULL
							  ? "unknown member"
							  : "unknown member at the top level");
		}
	}
	return TRUE;
}

/* The member's node in *ret, NULL when absent; FALSE (an error) only when
 * it is absent and @required. */
static gboolean
cg_layout_member(const CgLayoutObject *obj, const char *member, gboolean required, JsonNode **ret,
		 GError **error)
{
	*ret = json_object_get_member(obj->object, member);
	if (*ret == NULL && required)
		return cg_layout_error(error, obj, member, "missing");
	return TRUE;
}

static gboolean
cg_layout_node_is_number(JsonNode *node)
{
	GType type;

	if (!JSON_NODE_HOLDS_VALUE(node))
		return FALSE;
	type = json_node_get_value_type(node);
	return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* A number in [min, max] (an integer when @integer); *out keeps its
 * default when absent and optional. */
static gboolean
cg_layout_numeric(const CgLayoutObject *obj, const char *member, gboolean required, double min,
		  double max, gboolean integer, double *out, GError **error)
{
	g_autofree char *detail = NULL;
	JsonNode *node;
	double value;

	if (!cg_layout_member(obj, member, required, &node, error))
		return FALSE;
	if (node == NULL)
		return TRUE;
	if (!cg_layout_node_is_number(node))
		return cg_layout_error(error, obj, member, "expected a number");
	value = json_node_get_double(node);
	/* checked before any conversion: 11e308 is inf, and casting that (or
	 * anything out of range) to an integer type is undefined */
	if (isfinite(value) && value >= min && value <= max &&
	    (!integer || floor(value) == value)) {
		*out = value;
		return TRUE;
	}
	detail = g_strdup_printf("the value is %g", value);
	if (integer)
		return cg_layout_error_detail(error, obj, member, detail,
					      "must be an integer from %.0f to %.0f", min, max);
	return cg_layout_error_detail(error, obj, member, detail, "must be a number from %g to %g",
				      min, max);
}

static gboolean
cg_layout_number(const CgLayoutObject *obj, const char *member, gboolean required, double min,
		 double max, double *out, GError **error)
{
	return cg_layout_numeric(obj, member, required, min, max, FALSE, out, error);
}

static gboolean
cg_layout_uint(const CgLayoutObject *obj, const char *member, guint min, guint max, guint *out,
	       GError **error)
{
	double value = *out;

	if (!cg_layout_numeric(obj, member, FALSE, min, max, TRUE, &value, error))
		return FALSE;
	*out = (guint)value;
	return TRUE;
}

/* A boolean (@type G_TYPE_BOOLEAN, *out a gboolean) or a string borrowed
 * from the JSON tree (G_TYPE_STRING, *out a const char *); *out unchanged
 * when absent and not @required. Called as cg_layout_bool() and
 * cg_layout_string(), which keep the types of @out straight. */
static gboolean
cg_layout_scalar(const CgLayoutObject *obj, const char *member, gboolean required, GType type,
		 gpointer out, GError **error)
{
	JsonNode *node;

	if (!cg_layout_member(obj, member, required, &node, error))
		return FALSE;
	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type)
		return cg_layout_error(error, obj, member, "%s",
				       type == G_TYPE_BOOLEAN ? "expected true or false"
							      : "expected a string");
	if (type == G_TYPE_BOOLEAN)
		*(gboolean *)out = json_node_get_boolean(node);
	else
		*(const char **)out = json_node_get_string(node);
	return TRUE;
}

static inline gboolean
cg_layout_bool(const CgLayoutObject *obj, const char *member, gboolean *out, GError **error)
{
	return cg_layout_scalar(obj, member, FALSE, G_TYPE_BOOLEAN, out, error);
}

static inline gboolean
cg_layout_string(const CgLayoutObject *obj, const char *member, gboolean required, const char **out,
		 GError **error)
{
	return cg_layout_scalar(obj, member, required, G_TYPE_STRING, (gpointer)out, error);
}

/* One of @names (NULL-terminated); *out is its index. */
static gboolean
cg_layout_enum(const CgLayoutObject *obj, const char *member, const char *const *names, int *out,
	       GError **error)
{
	const char *value = NULL;
	g_autofree char *expected = NULL;

	if (!cg_layout_string(obj, member, FALSE, &value, error))
		return FALSE;
	if (value == NULL)
		return TRUE;
	for (int i = 0; names[i] != NULL; i++) {
		if (g_str_equal(value, names[i])) {
			*out = i;
			return TRUE;
		}
	}
	expected = g_strjoinv(", ", (char **)names);
	return cg_layout_error(error, obj, member, "expected one of %s", expected);
}

/* Text a client shows (title, description, labels): @min_chars to
 * @max_chars characters without control characters (the rule of
 * cg_check_string_argument()); *out unchanged when absent. */
static gboolean
cg_layout_display_text(const CgLayoutObject *obj, const char *member, guint min_chars,
		       guint max_chars, const char **out, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	const char *value = NULL;
	glong n_chars;

	if (!cg_layout_string(obj, member, FALSE, &value, error))
		return FALSE;
	if (value == NULL)
		return TRUE;
	if (!cg_check_string_argument(member, value, &local_error))
		return cg_layout_error_detail(error, obj, member, local_error->message,
					      "contains a control character");
	n_chars = g_utf8_strlen(value, -1);
	if (n_chars < (glong)min_chars || n_chars > (glong)max_chars)
		return cg_layout_error(error, obj, member, "must be %u to %u characters", min_chars,
				       max_chars);
	*out = value;
	return TRUE;
}

static gboolean
cg_layout_color(const CgLayoutObject *obj, const char *member, double rgb[3], GError **error)
{
	const char *value = NULL;

	if (!cg_layout_string(obj, member, FALSE, &value, error))
		return FALSE;
	if (value == NULL)
		return TRUE;
	if (strlen(value) != 7 || value[0] != '#')
		return cg_layout_error(error, obj, member, "expected a colour as #rrggbb");
	for (guint i = 0; i < 3; i++) {
		int hi = g_ascii_xdigit_value(value[1 + 2 * i]);
		int lo = g_ascii_xdigit_value(value[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return cg_layout_error(error, obj, member, "expected a colour as #rrggbb");
		rgb[i] = (hi * 16 + lo) / 255.0;
	}
	return TRUE;
}

static gboolean
cg_layout_weight(const CgLayoutObject *obj, const char *member, guint *out, GError **error)
{
	static const struct {
		const char *name;
		guint weight;
	} weights[] = {
	    {"thin", 100},	{"ultralight", 200}, {"light", 300},	{"normal", 400},
	    {"regular", 400},	{"medium", 500},     {"semibold", 600}, {"bold", 700},
	    {"ultrabold", 800}, {"heavy", 900},
	};
	JsonNode *node = json_object_get_member(obj->object, member);
	const char *value;

	if (node == NULL)
		return TRUE;
	if (cg_layout_node_is_number(node))
		return cg_layout_uint(obj, member, 100, 1000, out, error);
	if (!cg_layout_string(obj, member, TRUE, &value, error))
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(weights); i++) {
		if (g_str_equal(value, weights[i].name)) {
			*out = weights[i].weight;
			return TRUE;
		}
	}
	return cg_layout_error(error, obj, member,
			       "expected a number 100–1000 or one of thin, ultralight, light, "
			       "normal, medium, semibold, bold, ultrabold, heavy");
}

/* The member as a JSON object. */
static gboolean
cg_layout_object(const CgLayoutObject *obj, const char *member, CgLayoutObject *child,
		 GError **error)
{
	JsonNode *node;

	if (!cg_layout_member(obj, member, TRUE, &node, error))
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return cg_layout_error(error, obj, member, "expected an object");
	child->load = obj->load;
	child->object = json_node_get_object(node);
	child->where = member;
	return TRUE;
}

static const char *const text_members[] = {
    "x",     "y",   "size",	"maxWidth", "font",	     "weight",	 "style", "color",
    "align", "fit", "maxLines", "minSize",  "letterSpacing", "maxDepth", NULL,
};
static const char *const static_text_members[] = {"text", NULL};
static const char *const data_members[] = {
    "key", "label", "prefix", "suffix", "required", "type", "minLength", "maxLength", NULL,
};
static const char *const number_members[] = {"key", "prefix", "suffix", NULL};
static const char *const qr_members[] = {
    "key", "x", "y", "size", "color", "background", "quietZone", NULL,
};
static const char *const align_names[] = {"left", "center", "right", NULL};
static const char *const fit_names[] = {"shrink", "wrap", NULL};
static const char *const style_names[] = {"normal", "italic", NULL};
static const char *const type_names[] = {"string", "date", NULL};
static const char *const reserved_keys[] = {CG_FIELD_RECIPIENTS, NULL};

static gboolean
cg_layout_parse_qr(const CgLayoutObject *obj, CgTemplate *tmpl, CgTemplateField *field,
		   GError **error)
{
	field->quiet_zone = CG_QR_DEFAULT_QUIET_ZONE;
	field->color[0] = field->color[1] = field->color[2] = 0.0;
	field->background[0] = field->background[1] = field->background[2] = 1.0;
	if (!cg_layout_check_members(obj, qr_members, NULL, error) ||
	    !cg_layout_number(obj, "x", TRUE, 0, tmpl->width, &field->x, error) ||
	    !cg_layout_number(obj, "y", TRUE, 0, tmpl->height, &field->y, error) ||
	    !cg_layout_number(obj, "size", TRUE, 10, MIN(tmpl->width, tmpl->height), &field->size,
			      error) ||
	    !cg_layout_color(obj, "color", field->color, error) ||
	    !cg_layout_color(obj, "background", field->background, error) ||
	    !cg_layout_uint(obj, "quietZone", 0, 16, &field->quiet_zone, error))
		return FALSE;
	if (field->x + field->size > tmpl->width + CG_PAGE_SIZE_TOLERANCE ||
	    field->y + field->size > tmpl->height + CG_PAGE_SIZE_TOLERANCE)
		return cg_layout_error(error, obj, "size", "the code does not fit on the page");
	return TRUE;
}

static gboolean
cg_layout_parse_text_style(const CgLayoutObject *obj, CgTemplate *tmpl, CgTemplateField *field,
			   GError **error)
{
	const char *font = CG_DEFAULT_FONT;
	int align = CG_TEMPLATE_ALIGN_LEFT;
	int fit = CG_TEMPLATE_FIT_SHRINK;
	int style = 0;

	field->weight = 400;
	field->min_size = -1;
	field->max_lines = G_MAXUINT;
	if (!cg_layout_number(obj, "x", TRUE, 0, tmpl->width, &field->x, error) ||
	    !cg_layout_number(obj, "y", TRUE, 0, tmpl->height, &field->y, error) ||
	    !cg_layout_number(obj, "size", TRUE, 0.5, 500, &field->size, error) ||
	    !cg_layout_number(obj, "maxWidth", TRUE, 1, tmpl->width, &field->max_width, error) ||
	    !cg_layout_string(obj, "font", FALSE, &font, error) ||
	    !cg_layout_weight(obj, "weight", &field->weight, error) ||
	    !cg_layout_enum(obj, "style", style_names, &style, error) ||
	    !cg_layout_color(obj, "color", field->color, error) ||
	    !cg_layout_enum(obj, "align", align_names, &align, error) ||
	    !cg_layout_enum(obj, "fit", fit_names, &fit, error) ||
	    !cg_layout_uint(obj, "maxLines", 0, 100, &field->max_lines, error) ||
	    !cg_layout_number(obj, "minSize", FALSE, 0.5, 500, &field->min_size, error) ||
	    !cg_layout_number(obj, "maxDepth", FALSE, 0, tmpl->height, &field->max_depth, error) ||
	    !cg_layout_number(obj, "letterSpacing", FALSE, -10, 100, &field->letter_spacing, error))
		return FALSE;
	if (font[0] == '\0')
		return cg_layout_error(error, obj, "font", "must not be empty");
	if (field->min_size > field->size)
		return cg_layout_error(error, obj, "minSize", "larger than size");
	if (field->min_size < 0)
		field->min_size = field->size / 2;
	/* "shrink" is a box of one line, "wrap" one of as many as it takes */
	if (field->max_lines == G_MAXUINT)
		field->max_lines = fit == CG_TEMPLATE_FIT_SHRINK ? 1 : 0;
	field->font = g_strdup(font);
	field->italic = style == 1;
	field->align = align;
	field->fit = fit;
	return TRUE;
}

static gboolean
cg_layout_parse_affixes(const CgLayoutObject *obj, CgTemplateField *field, GError **error)
{
	const char *prefix = "";
	const char *suffix = "";

	if (!cg_layout_string(obj, "prefix", FALSE, &prefix, error) ||
	    !cg_layout_string(obj, "suffix", FALSE, &suffix, error))
		return FALSE;
	field->prefix = g_strdup(prefix);
	field->suffix = g_strdup(suffix);
	return TRUE;
}

static gboolean
cg_layout_parse_label(const CgLayoutObject *obj, CgTemplateField *field, GError **error)
{
	const char *label = field->key;

	if (!cg_layout_display_text(obj, "label", 1, CG_TITLE_MAX, &label, error))
		return FALSE;
	field->label = g_strdup(label);
	return TRUE;
}

/* CgFieldRule.check of a string or date field: does the value, as it is
 * drawn, fit its box? */
static char *
cg_template_check_value(const CgFieldRule *rule, const char *value)
{
	const CgTemplate *tmpl = rule->check_data;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *date = NULL;

	for (guint i = 0; i < tmpl->fields->len; i++) {
		const CgTemplateField *field = g_ptr_array_index(tmpl->fields, i);

		if (field->rule != rule)
			continue;
		if (field->is_date)
			value = date = cg_template_format_date(tmpl, value);
		cg_text_fit_compose(text, field, value);
		return cg_text_fit_check(field, text->str);
	}
	return NULL;
}

static gboolean
cg_layout_parse_rule(const CgLayoutObject *obj, CgTemplate *tmpl, CgTemplateField *field,
		     GError **error)
{
	CgFieldRule *rule;
	gboolean required = FALSE;
	int type = CG_FIELD_TYPE_STRING;
	guint min_length = G_MAXUINT;
	guint max_length = 0;

	if (!cg_layout_bool(obj, "required", &required, error) ||
	    !cg_layout_enum(obj, "type", type_names, &type, error) ||
	    !cg_layout_uint(obj, "minLength", 0, CG_LENGTH_MAX, &min_length, error) ||
	    !cg_layout_uint(obj, "maxLength", 0, CG_LENGTH_MAX, &max_length, error))
		return FALSE;
	if (type == CG_FIELD_TYPE_DATE && min_length != G_MAXUINT)
		return cg_layout_error(error, obj, "minLength", "only for string fields");
	if (type == CG_FIELD_TYPE_DATE && max_length != 0)
		return cg_layout_error(error, obj, "maxLength", "only for string fields");
	if (min_length == G_MAXUINT)
		min_length = required ? 1 : 0;
	if (max_length != 0 && min_length > max_length)
		return cg_layout_error(error, obj, "minLength", "larger than maxLength");

	rule = g_new0(CgFieldRule, 1);
	rule->name = g_strdup(field->key);
	rule->type = type;
	rule->required = required;
	rule->min_length = min_length;
	rule->max_length = max_length;
	rule->check = cg_template_check_value;
	rule->check_data = tmpl;
	field->rule = rule;
	field->is_date = type == CG_FIELD_TYPE_DATE;
	g_ptr_array_add(tmpl->rules, rule);
	return TRUE;
}

static CgTemplateField *
cg_layout_parse_field(CgLoad *load, JsonNode *node, guint index, CgTemplate *tmpl,
		      GHashTable *data_keys, GError **error)
{
	g_autoptr(CgTemplateField) field = g_new0(CgTemplateField, 1);
	g_autofree char *where = g_strdup_printf("fields[%u]", index);
	CgLayoutObject obj = {load, NULL, where};
	const char *key = NULL;
	const char *text = NULL;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		cg_layout_error(error, &obj, NULL, "expected an object");
		return NULL;
	}
	obj.object = json_node_get_object(node);
	if (!cg_layout_string(&obj, "key", FALSE, &key, error) ||
	    !cg_layout_string(&obj, "text", FALSE, &text, error))
		return NULL;
	if ((key == NULL) == (text == NULL)) {
		cg_layout_error(error, &obj, NULL, "needs either \"key\" or \"text\"");
		return NULL;
	}

	if (text != NULL) {
		field->kind = CG_TEMPLATE_FIELD_TEXT;
		if (text[0] == '\0') {
			cg_layout_error(error, &obj, "text", "must not be empty");
			return NULL;
		}
		field->text = g_strdup(text);
		if (!cg_layout_check_members(&obj, text_members, static_text_members, error) ||
		    !cg_layout_parse_text_style(&obj, tmpl, field, error))
			return NULL;
		return g_steal_pointer(&field);
	}

	field->key = g_strdup(key);
	if (g_str_equal(key, "qr")) {
		field->kind = CG_TEMPLATE_FIELD_QR;
		if (!cg_layout_parse_qr(&obj, tmpl, field, error))
			return NULL;
		return g_steal_pointer(&field);
	}
	if (g_str_equal(key, "certificateNumber")) {
		field->kind = CG_TEMPLATE_FIELD_NUMBER;
		if (!cg_layout_check_members(&obj, text_members, number_members, error) ||
		    !cg_layout_parse_text_style(&obj, tmpl, field, error) ||
		    !cg_layout_parse_affixes(&obj, field, error))
			return NULL;
		return g_steal_pointer(&field);
	}

	field->kind = CG_TEMPLATE_FIELD_DATA;
	if (!cg_field_name_is_valid(key) || g_strv_contains(reserved_keys, key)) {
		g_autofree char *quoted = cg_template_id_quote(key);
		g_autofree char *detail = g_strdup_printf("the key is %s", quoted);

		cg_layout_error_detail(error, &obj, "key", detail,
				       "not a data field name (a letter, then letters, digits or "
				       "_, at most %u)",
				       CG_FIELD_NAME_MAX);
		return NULL;
	}
	if (g_hash_table_contains(data_keys, key)) {
		g_autofree char *quoted = cg_template_id_quote(key);
		g_autofree char *detail = g_strdup_printf("the key is %s", quoted);

		cg_layout_error_detail(error, &obj, "key", detail,
				       "the same data field appears twice");
		return NULL;
	}
	if (!cg_layout_check_members(&obj, text_members, data_members, error) ||
	    !cg_layout_parse_label(&obj, field, error) ||
	    !cg_layout_parse_text_style(&obj, tmpl, field, error) ||
	    !cg_layout_parse_affixes(&obj, field, error) ||
	    !cg_layout_parse_rule(&obj, tmpl, field, error))
		return NULL;
	g_hash_table_add(data_keys, field->key);
	return g_steal_pointer(&field);
}

/* Reads the background PDF named by the layout and checks it with poppler. */
static gboolean
cg_template_load_background(CgTemplate *tmpl, const CgLayoutObject *root, const char *dir,
			    GError **error)
{
	static const char *const background_members[] = {"file", "page", NULL};
	g_autoptr(GError) local_error = NULL;
	g_autoptr(PopplerDocument) document = NULL;
	g_autoptr(PopplerPage) page = NULL;
	g_autofree char *contents = NULL;
	g_autofree char *quoted = NULL;
	g_autofree char *name = NULL;
	g_autofree char *detail = NULL;
	CgLoad *load = root->load;
	CgLayoutObject obj;
	const char *file = NULL;
	guint page_number = 1;
	gsize length = 0;
	double width, height;
	int n_pages;

	if (!cg_layout_object(root, "background", &obj, error) ||
	    !cg_layout_check_members(&obj, background_members, NULL, error) ||
	    !cg_layout_string(&obj, "file", TRUE, &file, error) ||
	    !cg_layout_uint(&obj, "page", 1, 100000, &page_number, error))
		return FALSE;
	if (file[0] == '\0' || strchr(file, '/') != NULL || g_str_equal(file, ".") ||
	    g_str_equal(file, ".."))
		return cg_layout_error(error, &obj, "file", "must be a plain file name");

	/* a plain name from layout.json itself; quoted, as it may be anything */
	quoted = cg_template_id_quote(file);
	name = g_strdup_printf("background %s", quoted);
	tmpl->background_path = g_build_filename(dir, file, NULL);
	tmpl->background_page = page_number - 1;
	if (!cg_template_read_file(load, tmpl->background_path, name, CG_BACKGROUND_MAX_BYTES,
				   &tmpl->background_stamp, &contents, &length, error))
		return FALSE;
	if (length < 5 || memcmp(contents, "%PDF-", 5) != 0) {
		detail = g_strdup_printf("%s does not start with %%PDF-", tmpl->background_path);
		return cg_load_fail(load, error, detail, "%s: not a PDF file", name);
	}
	tmpl->background = g_bytes_new_take(g_steal_pointer(&contents), length);

	/* poppler's messages may quote the file: for the journal only */
	document = poppler_document_new_from_bytes(tmpl->background, NULL, &local_error);
	if (document == NULL) {
		detail = g_strdup_printf("%s: %s", tmpl->background_path, local_error->message);
		return cg_load_fail(load, error, detail, "%s: not a valid PDF", name);
	}
	n_pages = poppler_document_get_n_pages(document);
	if (page_number > (guint)MAX(n_pages, 0)) {
		detail = g_strdup_printf("%s has %d page(s)", tmpl->background_path, n_pages);
		return cg_layout_error_detail(error, &obj, "page", detail,
					      "the background has no page %u", page_number);
	}
	page = poppler_document_get_page(document, (int)page_number - 1);
	if (page == NULL) {
		detail = g_strdup_printf("poppler cannot open page %u of %s", page_number,
					 tmpl->background_path);
		return cg_layout_error_detail(error, &obj, "page", detail,
					      "cannot open page %u of the background", page_number);
	}
	poppler_page_get_size(page, &width, &height);
	if (fabs(width - tmpl->width) > CG_PAGE_SIZE_TOLERANCE ||
	    fabs(height - tmpl->height) > CG_PAGE_SIZE_TOLERANCE) {
		detail = g_strdup_printf("page %u of %s is %g×%g pt", page_number,
					 tmpl->background_path, width, height);
		return cg_load_fail(load, error, detail,
				    "layout.json: page: %g×%g pt, but page %u of the background "
				    "has another size",
				    tmpl->width, tmpl->height, page_number);
	}
	return TRUE;
}

static CgTemplate *
cg_template_load(CgLoad *load, const char *id, const char *layout_path, GError **error)
{
	static const char *const root_members[] = {
	    "version", "title", "description", "page", "background", "dateFormat", "fields", NULL,
	};
	static const char *const page_members[] = {"width", "height", NULL};
	g_autoptr(CgTemplate) tmpl = cg_template_new();
	g_autoptr(JsonNode) root_node = NULL;
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GHashTable) data_keys = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *dir = g_path_get_dirname(layout_path);
	g_autofree char *contents = NULL;
	CgLayoutObject root = {load, NULL, NULL};
	CgLayoutObject page;
	const char *date_format = CG_DEFAULT_DATE_FORMAT;
	const char *title = id;
	const char *description = "";
	CgJsonLimits json_limits = {CG_LAYOUT_MAX_BYTES, CG_LAYOUT_MAX_DEPTH, 0, 0};
	JsonNode *fields_node;
	JsonArray *fields;
	double version = 1;
	gsize length = 0;
	char bad_conversion = 0;

	tmpl->id = g_strdup(id);
	tmpl->layout_path = g_strdup(layout_path);

	if (g_cancellable_set_error_if_cancelled(load->cancellable, error))
		return NULL;
	/* the stamp is that of what is read: an edit after it shows next time */
	if (!cg_template_read_file(load, layout_path, "layout.json", CG_LAYOUT_MAX_BYTES,
				   &tmpl->layout_stamp, &contents, &length, error))
		return NULL;
	/* strict, iterative, depth and size capped (json-glib's parser
	 * recursed per level: a deep file crashed certgend); the caller is told
	 * the kind and place, the journal the detail that may quote the file */
	json_limits.max_values = cg_json_values_budget(length);
	json_limits.cancellable = load->cancellable;
	root_node = cg_json_parse(contents, length, &json_limits, &local_error);
	if (root_node == NULL) {
		gsize offset;

		if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			return NULL;
		}
		offset = cg_json_error_get_offset(local_error);

		if (offset == G_MAXSIZE)
			cg_load_fail(load, error, local_error->message,
				     "layout.json: not valid JSON (%s)",
				     cg_json_error_describe(local_error));
		else
			cg_load_fail(
			    load, error, local_error->message,
			    "layout.json: not valid JSON (%s) at byte offset %" G_GSIZE_FORMAT,
			    cg_json_error_describe(local_error), offset);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root_node)) {
		cg_layout_error(error, &root, NULL, "expected a JSON object");
		return NULL;
	}
	root.object = json_node_get_object(root_node);
	if (!cg_layout_check_members(&root, root_members, NULL, error) ||
	    !cg_layout_number(&root, "version", FALSE, 1, 1, &version, error) ||
	    !cg_layout_display_text(&root, "title", 1, CG_TITLE_MAX, &title, error) ||
	    !cg_layout_display_text(&root, "description", 0, CG_DESCRIPTION_MAX, &description,
				    error) ||
	    !cg_layout_object(&root, "page", &page, error) ||
	    !cg_layout_check_members(&page, page_members, NULL, error) ||
	    !cg_layout_number(&page, "width", TRUE, 1, CG_PAGE_MAX, &tmpl->width, error) ||
	    !cg_layout_number(&page, "height", TRUE, 1, CG_PAGE_MAX, &tmpl->height, error) ||
	    !cg_layout_string(&root, "dateFormat", FALSE, &date_format, error))
		return NULL;
	if (!cg_date_format_is_valid(date_format, &bad_conversion)) {
		g_autofree char *detail =
		    g_strdup_printf("the conversion is “%%%c”",
				    g_ascii_isprint(bad_conversion) ? bad_conversion : '?');

		cg_layout_error_detail(error, &root, "dateFormat", detail,
				       "unknown conversion (known: %%d %%-d %%m %%-m %%B %%b %%Y "
				       "%%%%)");
		return NULL;
	}
	tmpl->date_format = g_strdup(date_format);
	tmpl->title = g_strdup(title);
	tmpl->description = g_strdup(description);

	if (!cg_layout_member(&root, "fields", TRUE, &fields_node, error))
		return NULL;
	if (!JSON_NODE_HOLDS_ARRAY(fields_node)) {
		cg_layout_error(error, &root, "fields", "expected an array");
		return NULL;
	}
	fields = json_node_get_array(fields_node);
	for (guint i = 0; i < json_array_get_length(fields); i++) {
		CgTemplateField *field = cg_layout_parse_field(
		    load, json_array_get_element(fields, i), i, tmpl, data_keys, error);

		if (field == NULL)
			return NULL;
		g_ptr_array_add(tmpl->fields, field);
	}

	if (g_cancellable_set_error_if_cancelled(load->cancellable, error))
		return NULL;
	if (!cg_template_load_background(tmpl, &root, dir, error))
		return NULL;
	return g_steal_pointer(&tmpl);
}

/* ---- the store ------------------------------------------------------------ */

CgTemplateStore *
cg_template_store_new(const char *const *dirs)
{
	CgTemplateStore *store = g_new0(CgTemplateStore, 1);

	store->dirs = g_strdupv((char **)dirs);
	if (store->dirs == NULL)
		store->dirs = g_new0(char *, 1);
	g_mutex_init(&store->lock);
	store->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)cg_template_unref);
	return store;
}

void
cg_template_store_free(CgTemplateStore *store)
{
	if (store == NULL)
		return;
	g_strfreev(store->dirs);
	g_clear_pointer(&store->cache, g_hash_table_unref);
	g_mutex_clear(&store->lock);
	g_free(store);
}

static int
cg_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GStrv
cg_template_store_list_ids(CgTemplateStore *store)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GHashTableIter iter;
	gpointer id;

	g_return_val_if_fail(store != NULL, NULL);

	for (guint i = 0; store->dirs[i] != NULL; i++) {
		g_autoptr(GDir) dir = g_dir_open(store->dirs[i], 0, NULL);
		const char *name;

		if (dir == NULL)
			continue;
		/* names only, never paths: what is not an id is not a template */
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *path = NULL;
			struct stat st;

			if (!cg_template_id_is_valid(name) || g_hash_table_contains(seen, name))
				continue;
			path = g_build_filename(store->dirs[i], name, "layout.json", NULL);
			if (stat(path, &st) == 0)
				g_hash_table_add(seen, g_strdup(name));
		}
	}
	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, &id, NULL))
		g_ptr_array_add(ids, g_strdup(id));
	g_ptr_array_sort(ids, cg_compare_strings);
	g_ptr_array_add(ids, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&ids), FALSE);
}

/* "Template 'x' not found; available: classic, modern": @id is a valid id
 * (a name of [a-z0-9_-]), so it is shown as it is. */
static void
cg_template_store_set_not_found(CgTemplateStore *store, const char *id, GError **error)
{
	g_auto(GStrv) ids = cg_template_store_list_ids(store);
	g_autoptr(GString) available = g_string_new(NULL);
	guint n = g_strv_length(ids);

	for (guint i = 0; i < n && i < CG_NOT_FOUND_MAX_IDS; i++)
		g_string_append_printf(available, "%s%s", i > 0 ? ", " : "", ids[i]);
	if (n > CG_NOT_FOUND_MAX_IDS)
		g_string_append_printf(available, " and %u more", n - CG_NOT_FOUND_MAX_IDS);
	if (n == 0)
		g_set_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND,
			    "Template '%s' not found; no templates are installed", id);
	else
		g_set_error(error, CG_ERROR, CG_ERROR_TEMPLATE_NOT_FOUND,
			    "Template '%s' not found; available: %s", id, available->str);
}

/* The layout.json of @id in the first directory that has it. */
static char *
cg_template_store_find(CgTemplateStore *store, CgLoad *load, CgFileStamp *stamp, GError **error)
{
	const char *id = load->id;

	if (!cg_template_id_is_valid(id)) {
		g_autofree char *quoted = cg_template_id_quote(id);

		g_set_error(error, CG_ERROR, CG_ERROR_INVALID_ARGUMENT,
			    "%s is not a template id (expected [a-z0-9][a-z0-9_-]*, at most %u "
			    "characters)",
			    quoted, CG_TEMPLATE_ID_MAX);
		return NULL;
	}
	for (guint i = 0; store->dirs[i] != NULL; i++) {
		g_autofree char *path = g_build_filename(store->dirs[i], id, "layout.json", NULL);
		g_autofree char *detail = NULL;
		struct stat st;

		if (stat(path, &st) != 0) {
			int saved_errno = errno;

			if (saved_errno == ENOENT || saved_errno == ENOTDIR)
				continue;
			detail =
			    g_strdup_printf("cannot stat %s: %s", path, g_strerror(saved_errno));
			cg_load_fail(load, error, detail, "layout.json: cannot be read: %s",
				     g_strerror(saved_errno));
			return NULL;
		}
		if (!S_ISREG(st.st_mode)) {
			detail = g_strdup_printf("%s is not a regular file (mode %o)", path,
						 (unsigned)st.st_mode);
			cg_load_fail(load, error, detail, "layout.json: not a regular file");
			return NULL;
		}
		if (stamp != NULL)
			cg_file_stamp_from_stat(stamp, &st);
		return g_steal_pointer(&path);
	}
	cg_template_store_set_not_found(store, id, error);
	return NULL;
}

gboolean
cg_template_store_check(CgTemplateStore *store, const char *id, GError **error)
{
	g_autofree char *path = NULL;
	CgLoad load = {id, NULL};

	g_return_val_if_fail(store != NULL, FALSE);
	path = cg_template_store_find(store, &load, NULL, error);
	if (load.detail != NULL)
		g_debug("Template %s: %s", id, load.detail);
	cg_load_clear(&load);
	return path != NULL;
}

/* Logs why @id failed to load, in full, and makes sure *@error says no
 * more than the comment at the top allows. */
static void
cg_template_load_failed(CgLoad *load, const char *layout_path, GError **error)
{
	g_autofree char *prefix = g_strdup_printf("Template %s: ", load->id);
	GError *e = *error;

	if (e->domain == CG_ERROR && e->code != CG_ERROR_FAILED)
		return; /* not a name, not found: said in full already */
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* nothing wrong with the template */
	if (e->domain != CG_ERROR || !g_str_has_prefix(e->message, prefix)) {
		/* not worded by cg_load_fail(): it may hold a path or a quote of
		 * the file, so it is for the journal only */
		g_autofree char *detail = g_strdup(e->message);

		g_clear_error(error);
		cg_load_fail(load, error, detail, "cannot be loaded");
		e = *error;
	}
	g_log_structured(
	    G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "CERTGEN_TEMPLATE_ID", "%s", load->id,
	    "CERTGEN_TEMPLATE_PATH", "%s", layout_path != NULL ? layout_path : "", "MESSAGE",
	    "%s (%s)%s%s", e->message, layout_path != NULL ? layout_path : "no layout.json",
	    load->detail != NULL ? ": " : "", load->detail != NULL ? load->detail : "");
}

/* The cached template if its files did not change. Called locked. */
static CgTemplate *
cg_template_store_lookup(CgTemplateStore *store, const char *id, const char *layout_path,
			 const CgFileStamp *layout_stamp)
{
	CgTemplate *cached = g_hash_table_lookup(store->cache, id);
	CgFileStamp background_stamp;

	if (cached == NULL || !g_str_equal(cached->layout_path, layout_path) ||
	    !cg_file_stamp_equal(&cached->layout_stamp, layout_stamp))
		return NULL;
	cg_file_stamp_get(cached->background_path, &background_stamp);
	if (!cg_file_stamp_equal(&cached->background_stamp, &background_stamp))
		return NULL;
	return cg_template_ref(cached);
}

CgTemplate *
cg_template_store_load(CgTemplateStore *store, const char *id, GCancellable *cancellable,
		       GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autofree char *layout_path = NULL;
	CgLoad load = {id, NULL, cancellable};
	CgFileStamp layout_stamp;
	CgTemplate *tmpl;

	g_return_val_if_fail(store != NULL, NULL);

	layout_path = cg_template_store_find(store, &load, &layout_stamp, &local_error);
	if (layout_path == NULL) {
		cg_template_load_failed(&load, NULL, &local_error);
		cg_load_clear(&load);
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}

	g_mutex_lock(&store->lock);
	tmpl = cg_template_store_lookup(store, id, layout_path, &layout_stamp);
	g_mutex_unlock(&store->lock);
	if (tmpl != NULL)
		return tmpl;

	/* Parsed unlocked: other templates stay available meanwhile. Two threads
	 * may load the same template at once; the last one is kept. */
	tmpl = cg_template_load(&load, id, layout_path, &local_error);
	if (tmpl == NULL) {
		cg_template_load_failed(&load, layout_path, &local_error);
		cg_load_clear(&load);
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	cg_load_clear(&load);
	g_debug("Loaded template %s from %s", id, layout_path);

	g_mutex_lock(&store->lock);
	g_hash_table_replace(store->cache, g_strdup(id), cg_template_ref(tmpl));
	g_mutex_unlock(&store->lock);
	return tmpl;
}

GPtrArray *
cg_template_store_list(CgTemplateStore *store, GCancellable *cancellable)
{
	g_auto(GStrv) ids = NULL;
	GPtrArray *templates;

	g_return_val_if_fail(store != NULL, NULL);

	ids = cg_template_store_list_ids(store);
	templates = g_ptr_array_new_with_free_func((GDestroyNotify)cg_template_unref);
	for (guint i = 0; ids[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		CgTemplate *tmpl = cg_template_store_load(store, ids[i], cancellable, &error);

		/* a broken template is no reason to hide the others; the load
		 * logged the detail */
		if (tmpl == NULL) {
			g_message("Template %s is left out of the list: %s", ids[i],
				  error->message);
			continue;
		}
		g_ptr_array_add(templates, tmpl);
	}
	return templates;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "cg-data.h"

G_BEGIN_DECLS

/*
 * Templates: a template id is a name ([a-z0-9][a-z0-9_-]{0,63}), never a path,
 * looked up in the configured directories in order (an admin's directory
 * before the shipped one). A template is <dir>/<id>/layout.json (json-glib)
 * plus the background PDF it names, opened with poppler; both must be
 * regular files within size caps (see cg-template.c). Parsed templates are
 * cached and reloaded when their files change (mtime/size). A CgTemplate is
 * immutable and may be shared between threads; poppler objects are not
 * thread-safe, so a template keeps the background as bytes and a renderer
 * opens its own document (see cg-render.h).
 */

typedef struct _CgTemplate CgTemplate;
typedef struct _CgTemplateStore CgTemplateStore;

gboolean cg_template_id_is_valid(const char *id);

/* @dirs: NULL-terminated, searched in order. Thread-safe. */
CgTemplateStore *cg_template_store_new(const char *const *dirs);
void cg_template_store_free(CgTemplateStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgTemplateStore, cg_template_store_free)

/* Cheap check usable on the main loop: CG_ERROR_INVALID_ARGUMENT for an
 * id that is not a name, CG_ERROR_TEMPLATE_NOT_FOUND when no directory has it,
 * CG_ERROR_FAILED when its layout.json is not a readable regular file. */
gboolean cg_template_store_check(CgTemplateStore *store, const char *id, GError **error);

/* Load (or take from the cache) a template. Errors: as _check(), plus
 * CG_ERROR_FAILED for a broken template, with a message naming the template
 * id, the file and what is wrong but no path and nothing read from a file
 * (it goes to unprivileged callers); the full detail is logged. Thread-safe;
 * returns a new reference. @cancellable (may be NULL) is checked between
 * the steps of a load and while parsing layout.json: cancelled, the load
 * stops with G_IO_ERROR_CANCELLED (the cache is used as it is). */
CgTemplate *cg_template_store_load(CgTemplateStore *store, const char *id,
				   GCancellable *cancellable, GError **error);

/* The ids of every directory of a template directory that is named like
 * an id and has a layout.json, in all directories, sorted, each once (not
 * loaded: one may still fail to load). NULL-terminated; g_strfreev(). */
GStrv cg_template_store_list_ids(CgTemplateStore *store);

/* Every template that loads, sorted by id (an id in several directories:
 * the first directory's, as cg_template_store_load() finds it); one that
 * fails to load is left out and logged. Array of CgTemplate* references.
 * Thread-safe; cached templates cost a stat() of their files each. */
GPtrArray *cg_template_store_list(CgTemplateStore *store, GCancellable *cancellable);

CgTemplate *cg_template_ref(CgTemplate *tmpl);
void cg_template_unref(CgTemplate *tmpl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgTemplate, cg_template_unref)

const char *cg_template_get_id(const CgTemplate *tmpl);
/* What clients show: layout.json's "title" (default the id) and
 * "description" (default ""), borrowed. Either may be NULL. */
void cg_template_get_texts(const CgTemplate *tmpl, const char **title, const char **description);
/* Field rules for data validation: array of CgFieldRule* (cg-data.h). */
const GPtrArray *cg_template_get_rules(const CgTemplate *tmpl);
/* Page size in PostScript points. */
void cg_template_get_page_size(const CgTemplate *tmpl, double *width, double *height);

/*
 * What a renderer needs of a template (see the layout format in
 * cg-template.c). Everything is owned by the template and immutable.
 */
typedef enum {
	CG_TEMPLATE_FIELD_TEXT,	  /* static "text" */
	CG_TEMPLATE_FIELD_DATA,	  /* a data field, "key" names it */
	CG_TEMPLATE_FIELD_NUMBER, /* "key": "certificateNumber" */
	CG_TEMPLATE_FIELD_QR,	  /* "key": "qr", the verification code */
} CgTemplateFieldKind;

typedef enum {
	CG_TEMPLATE_ALIGN_LEFT,
	CG_TEMPLATE_ALIGN_CENTER,
	CG_TEMPLATE_ALIGN_RIGHT,
} CgTemplateAlign;

/* Only the default of max_lines: every text is shrunk and wrapped to fit
 * its box the same way (cg-text-fit.h). */
typedef enum {
	CG_TEMPLATE_FIT_SHRINK, /* max_lines 1 by default */
	CG_TEMPLATE_FIT_WRAP,	/* max_lines 0 (no limit) by default */
} CgTemplateFit;

typedef struct {
	CgTemplateFieldKind kind;
	char *key;		 /* data field name or special key; NULL for static text */
	char *label;		 /* data fields: what a form calls it (default the key) */
	char *text;		 /* static text; NULL otherwise */
	const CgFieldRule *rule; /* data fields: its validation rule */
	gboolean is_date;	 /* data fields of type date: formatted with date_format */
	char *prefix;		 /* text drawn before the value ("" if none) */
	char *suffix;		 /* text drawn after the value ("" if none) */
	double x;		 /* points from the left; see align */
	double y;		 /* points from the top: first baseline; QR: top edge */
	double size;		 /* font size in points; QR: side length with quiet zone */
	char *font;		 /* fontconfig family (fallback fonts come on their own) */
	guint weight;		 /* 100–1000, as CSS and PangoWeight */
	gboolean italic;	 /* style */
	double letter_spacing;	 /* points */
	double color[3];	 /* RGB 0–1 */
	double background[3];	 /* QR: quiet zone colour */
	CgTemplateAlign align;	 /* x is the left edge, centre or right edge */
	double max_width;	 /* points */
	CgTemplateFit fit;	 /* shrink or wrap */
	guint max_lines;	 /* lines of the box; 0 = no limit */
	double max_depth;	 /* how far below y the lines may reach; 0 = no limit */
	double min_size;	 /* smallest font size the text is shrunk to */
	guint quiet_zone;	 /* QR: modules of quiet zone on each side */
} CgTemplateField;

/* Array of CgTemplateField*, in drawing order. */
const GPtrArray *cg_template_get_fields(const CgTemplate *tmpl);
/* The background PDF file's bytes (borrowed) and the 0-based page to draw. */
GBytes *cg_template_get_background(const CgTemplate *tmpl, guint *page_index);
/* "YYYY-MM-DD" formatted with the template's dateFormat (English month
 * names, independent of the locale); a value that is not such a date, or
 * not a real one (cg_date_parse()), is returned unchanged. */
char *cg_template_format_date(const CgTemplate *tmpl, const char *iso_date);
/* The layout.json the template was loaded from. */
const char *cg_template_get_path(const CgTemplate *tmpl);

G_END_DECLS

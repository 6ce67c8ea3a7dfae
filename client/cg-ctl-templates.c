/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-ctl-templates.h"

#include <stddef.h>
#include <sys/param.h>

#include "cg-ctl-bus.h"

/* A row whose key is the member's name. */
#define NAMED(Struct, member, bus_type) CG_BUS_FIELD(Struct, #member, bus_type, member)

static const CgBusField template_fields[] = {NAMED(CgCtlTemplate, id, SD_BUS_TYPE_STRING),
					     NAMED(CgCtlTemplate, title, SD_BUS_TYPE_STRING),
					     NAMED(CgCtlTemplate, description, SD_BUS_TYPE_STRING),
					     NAMED(CgCtlTemplate, width_pt, SD_BUS_TYPE_DOUBLE),
					     NAMED(CgCtlTemplate, height_pt, SD_BUS_TYPE_DOUBLE)};

static const CgBusField field_fields[] = {
    NAMED(CgCtlTemplateField, name, SD_BUS_TYPE_STRING),
    NAMED(CgCtlTemplateField, label, SD_BUS_TYPE_STRING),
    NAMED(CgCtlTemplateField, type, SD_BUS_TYPE_STRING),
    NAMED(CgCtlTemplateField, required, SD_BUS_TYPE_BOOLEAN),
    NAMED(CgCtlTemplateField, shared, SD_BUS_TYPE_BOOLEAN),
    NAMED(CgCtlTemplateField, min_length, SD_BUS_TYPE_UINT32),
    NAMED(CgCtlTemplateField, max_length, SD_BUS_TYPE_UINT32)};

/* One template being read, and where escaped strings go. */
typedef struct {
	CgCtlTemplate template;
	CgStrings *strings;
} Reading;

/* One a{sv} of "fields". */
static int
read_field(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	Reading *reading = userdata;
	CgCtlTemplate *t = &reading->template;
	int r = cg_grow((void **)&t->fields, t->n_fields, sizeof(*t->fields));

	if (r < 0)
		return r;
	t->fields[t->n_fields] = (CgCtlTemplateField){0};
	r = cg_bus_read_dict(m, field_fields, ELEMENTSOF(field_fields), &t->fields[t->n_fields],
			     NULL, json, reading->strings);
	if (r >= 0)
		t->n_fields++;
	return r;
}

static int
fields_hook(sd_bus_message *m, const char *key, const char *contents, void *base, CgCtlJson *json)
{
	if (!streq(key, "fields") || !streq(contents, "aa{sv}"))
		return 0;
	return cg_bus_read_array(m, true, contents, read_field, base, json);
}

static void
template_done(CgCtlTemplate *t)
{
	free(t->fields);
	free(t->json);
	*t = (CgCtlTemplate){0};
}

/* One entry, appended to the list; on failure nothing is kept. */
static int
read_template(sd_bus_message *m, void *userdata, CgCtlJson *unused)
{
	CgCtlTemplates *list = userdata;
	_cleanup_(cg_ctl_json_done) CgCtlJson json = {0};
	Reading reading = {.strings = &list->strings};
	int r;

	r = cg_grow((void **)&list->items, list->n, sizeof(*list->items));
	if (r >= 0)
		r = cg_ctl_json_open(&json);
	if (r >= 0)
		r = cg_bus_read_dict(m, template_fields, ELEMENTSOF(template_fields),
				     &reading.template, fields_hook, &json, &list->strings);
	if (r >= 0)
		r = cg_ctl_json_finish(&json, &reading.template.json);
	if (r >= 0 && reading.template.id == NULL)
		r = -EBADMSG;
	if (r < 0) {
		template_done(&reading.template);
		return r;
	}
	list->items[list->n++] = reading.template;
	return 0;
}

int
cg_ctl_templates_read(sd_bus_message *m, CgCtlTemplates *ret)
{
	int r = cg_bus_read_array(m, false, "aa{sv}", read_template, ret, NULL);

	return r < 0 ? r : 0;
}

void
cg_ctl_templates_done(CgCtlTemplates *t)
{
	for (size_t i = 0; i < t->n; i++)
		template_done(&t->items[i]);
	free(t->items);
	cg_strings_done(&t->strings);
	*t = (CgCtlTemplates){0};
}

const CgCtlTemplate *
cg_ctl_templates_find(const CgCtlTemplates *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->items[i].id, id))
			return &t->items[i];
	return NULL;
}

char *
cg_ctl_templates_ids(const CgCtlTemplates *t)
{
	size_t size = 1;
	char *ids;

	for (size_t i = 0; i < t->n; i++)
		size += strlen(t->items[i].id) + 2;
	ids = calloc(1, size);
	if (ids == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		if (i > 0)
			strcat(ids, ", ");
		strcat(ids, t->items[i].id);
	}
	return ids;
}

void
cg_ctl_templates_print_table(const CgCtlTemplates *t)
{
	int w_id = (int)strlen("ID"), w_title = (int)strlen("TITLE");

	if (t->n == 0) {
		printf("No templates.\n");
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		w_id = MAX(w_id, (int)strlen(t->items[i].id));
		w_title = MIN(40, MAX(w_title, (int)strlen(strna(t->items[i].title))));
	}
	printf("%-*s  %-*s  %-13s  %s\n", w_id, "ID", w_title, "TITLE", "PAGE (PT)", "FIELDS");
	for (size_t i = 0; i < t->n; i++) {
		const CgCtlTemplate *tmpl = &t->items[i];
		char page[64];

		snprintf(page, sizeof(page), "%g x %g", tmpl->width_pt, tmpl->height_pt);
		printf("%-*s  %-*.*s  %-13s  %zu\n", w_id, tmpl->id, w_title, w_title,
		       strna(tmpl->title), page, tmpl->n_fields);
	}
	printf("\n%zu template%s listed.\n", t->n, t->n == 1 ? "" : "s");
}

void
cg_ctl_template_print(const CgCtlTemplate *t)
{
	int w_name = (int)strlen("NAME"), w_label = (int)strlen("LABEL");

	printf("%16s: %s\n", "Template", t->id);
	printf("%16s: %s\n", "Title", strna(t->title));
	if (!isempty(t->description))
		printf("%16s: %s\n", "Description", t->description);
	printf("%16s: %g x %g pt\n", "Page", t->width_pt, t->height_pt);
	if (t->n_fields == 0)
		return;
	for (size_t i = 0; i < t->n_fields; i++) {
		w_name = MAX(w_name, (int)strlen(strna(t->fields[i].name)));
		w_label = MIN(40, MAX(w_label, (int)strlen(strna(t->fields[i].label))));
	}
	printf("\n%-*s  %-*s  %-6s  %-8s  %-9s  %s\n", w_name, "NAME", w_label, "LABEL", "TYPE",
	       "REQUIRED", "LENGTH", "SHARED");
	for (size_t i = 0; i < t->n_fields; i++) {
		const CgCtlTemplateField *f = &t->fields[i];
		char length[32];

		if (f->max_length > 0)
			snprintf(length, sizeof(length), "%u-%u", f->min_length, f->max_length);
		else if (f->min_length > 0)
			snprintf(length, sizeof(length), "%u-", f->min_length);
		else
			snprintf(length, sizeof(length), "-");
		printf("%-*s  %-*.*s  %-6s  %-8s  %-9s  %s\n", w_name, strna(f->name), w_label,
		       w_label, strna(f->label), strna(f->type), f->required ? "yes" : "no", length,
		       f->shared ? "yes" : "no");
	}
}

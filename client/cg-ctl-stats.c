/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cg-ctl-stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "cg-ctl-bus.h"

static const CgBusField stats_fields[] = {
    CG_BUS_FIELD(CgCtlStats, "window", SD_BUS_TYPE_UINT32, window),
};

static const CgBusField template_fields[] = {
    CG_BUS_FIELD(CgCtlTemplateStats, "generations", SD_BUS_TYPE_UINT64, generations),
    CG_BUS_FIELD(CgCtlTemplateStats, "pages", SD_BUS_TYPE_UINT64, pages),
    CG_BUS_FIELD(CgCtlTemplateStats, "page_ms_p50", SD_BUS_TYPE_DOUBLE, page_ms_p50),
    CG_BUS_FIELD(CgCtlTemplateStats, "page_ms_p95", SD_BUS_TYPE_DOUBLE, page_ms_p95),
};

/* Where the entries of one stage_ms_p50 or stage_ms_p95 go. */
typedef struct {
	CgCtlTemplateStats *template;
	bool p95;
} StageReading;

/* The row of @stage, made on first sight (NULL when there is no room). */
static CgCtlStageTime *
stage_row(CgCtlTemplateStats *t, const char *stage)
{
	for (size_t i = 0; i < t->n_stages; i++)
		if (streq(t->stages[i].stage, stage))
			return &t->stages[i];
	if (t->n_stages == ELEMENTSOF(t->stages))
		return NULL;
	t->stages[t->n_stages] = (CgCtlStageTime){.stage = stage};
	return &t->stages[t->n_stages++];
}

/* One {sd} of stage_ms_p50 / stage_ms_p95. */
static int
read_stage(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	StageReading *reading = userdata;
	CgCtlStageTime *row;
	CgCtlBusBasic ms;
	const char *stage;
	int r =
	    cg_bus_read_entry(m, SD_BUS_TYPE_DOUBLE, reading->template->strings, &stage, &ms, json);

	if (r < 0)
		return r;
	row = stage_row(reading->template, stage);
	if (row != NULL)
		*(reading->p95 ? &row->p95 : &row->p50) = ms.d;
	return 0;
}

static int
template_hook(sd_bus_message *m, const char *key, const char *contents, void *base, CgCtlJson *json)
{
	StageReading stages = {base, streq(key, "stage_ms_p95")};

	if ((!streq(key, "stage_ms_p50") && !streq(key, "stage_ms_p95")) ||
	    !streq(contents, "a{sd}"))
		return 0;
	return cg_bus_read_array(m, true, contents, read_stage, &stages, json);
}

/* One {sa{sv}} of "templates", appended. */
static int
read_template(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	CgCtlStats *s = userdata;
	CgCtlTemplateStats t = {.strings = &s->strings};
	const char *id;
	int r;

	r = cg_grow((void **)&s->templates, s->n_templates, sizeof(*s->templates));
	if (r >= 0)
		r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &id);
	if (r < 0)
		return r;
	if (json != NULL)
		cg_ctl_json_key(json, id);
	t.id = cg_strings_safe(&s->strings, id);
	if (t.id == NULL)
		return -ENOMEM;
	r = cg_bus_read_dict(m, template_fields, ELEMENTSOF(template_fields), &t, template_hook,
			     json, &s->strings);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	t.strings = NULL;
	s->templates[s->n_templates++] = t;
	return 0;
}

/* One {st} of "by_status". */
static int
read_status(sd_bus_message *m, void *userdata, CgCtlJson *json)
{
	CgCtlStats *s = userdata;
	CgCtlStatusCount count;
	CgCtlBusBasic n;
	int r = cg_bus_read_entry(m, SD_BUS_TYPE_UINT64, &s->strings, &count.status, &n, json);

	if (r < 0)
		return r;
	count.n = n.u64;
	if (s->n_status < ELEMENTSOF(s->by_status))
		s->by_status[s->n_status++] = count;
	return 0;
}

static int
stats_hook(sd_bus_message *m, const char *key, const char *contents, void *base, CgCtlJson *json)
{
	if (streq(key, "by_status") && streq(contents, "a{st}"))
		return cg_bus_read_array(m, true, contents, read_status, base, json);
	if (streq(key, "templates") && streq(contents, "a{sa{sv}}"))
		return cg_bus_read_array(m, true, contents, read_template, base, json);
	return 0;
}

int
cg_ctl_stats_read(sd_bus_message *m, CgCtlJson *json, CgCtlStats *ret)
{
	*ret = (CgCtlStats){0};
	return cg_bus_read_dict(m, stats_fields, ELEMENTSOF(stats_fields), ret, stats_hook, json,
				&ret->strings);
}

void
cg_ctl_stats_done(CgCtlStats *s)
{
	free(s->templates);
	cg_strings_done(&s->strings);
	*s = (CgCtlStats){0};
}

void
cg_ctl_stats_print(const CgCtlStats *s)
{
	printf("Generations: %" PRIu32 " (the last finished ones)\n", s->window);
	for (size_t i = 0; i < s->n_status; i++)
		printf("%s%s %" PRIu64, i == 0 ? "By status: " : ", ", s->by_status[i].status,
		       s->by_status[i].n);
	if (s->n_status > 0)
		fputc('\n', stdout);
	if (s->n_templates == 0)
		return;

	printf("\n%-20s %11s %9s %12s %12s\n", "TEMPLATE", "GENERATIONS", "PAGES", "PAGE P50",
	       "PAGE P95");
	for (size_t i = 0; i < s->n_templates; i++) {
		const CgCtlTemplateStats *t = &s->templates[i];

		printf("%-20s %11" PRIu64 " %9" PRIu64 " %9.1f ms %9.1f ms\n", t->id,
		       t->generations, t->pages, t->page_ms_p50, t->page_ms_p95);
	}
	for (size_t i = 0; i < s->n_templates; i++) {
		const CgCtlTemplateStats *t = &s->templates[i];

		if (t->n_stages == 0)
			continue;
		printf("\n%s\n  %-18s %12s %12s\n", t->id, "STAGE", "P50", "P95");
		for (size_t k = 0; k < t->n_stages; k++)
			printf("  %-18s %9.1f ms %9.1f ms\n", t->stages[k].stage, t->stages[k].p50,
			       t->stages[k].p95);
	}
}

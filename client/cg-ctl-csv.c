/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-ctl-csv.h"

#include "cg-contract.h"
#include "cg-csv.h"
#include "cg-ctl-file.h"

/* GLib's allocations are malloc()'s (GLib >= 2.46): what cg-csv returns is
 * free()d like the rest of certgenctl's strings. */

int
cg_ctl_csv_to_json(const char *source, const char *text, size_t size, char *const *set,
		   char **ret_json)
{
	CgCsvOptions options = {
	    .max_bytes = CG_DATA_MAX_BYTES,
	    .max_rows = CG_CSV_MAX_ROWS,
	    .set = (const char *const *)set,
	    .set_label = CG_CTL_CSV_SET_LABEL,
	};
	g_autoptr(GPtrArray) issues = NULL;
	g_autoptr(GError) error = NULL;
	char *json;
	int r;

	json = cg_csv_to_data_json(text, size, &options, NULL, &issues, &error);
	if (json != NULL) {
		*ret_json = json;
		return 0;
	}
	r = g_error_matches(error, CG_CSV_ERROR, CG_CSV_ERROR_TOO_LARGE) ? -EFBIG
	    : g_error_matches(error, CG_CSV_ERROR, CG_CSV_ERROR_SET)	 ? -E2BIG
									 : -EINVAL;
	cg_log_error("%s: invalid CSV data: %s.", source, error->message);
	for (guint i = 0; issues != NULL && issues->len > 1 && i < issues->len; i++) {
		const CgCsvIssue *issue = g_ptr_array_index(issues, i);

		fprintf(stderr, "  %s: %s\n", issue->path, issue->message);
	}
	return r;
}

/* @s mapped, owned by @u's pool; @s itself when unchanged, NULL when out
 * of memory. */
static const char *
map_string(CgUpdate *u, const char *s)
{
	char *mapped;

	if (s == NULL)
		return NULL;
	mapped = cg_csv_map_message(s, CG_CTL_CSV_SET_LABEL);
	if (streq(mapped, s)) {
		free(mapped);
		return s;
	}
	return cg_strings_take(&u->strings, mapped);
}

int
cg_ctl_csv_map_update(CgUpdate *u)
{
	const char *text, *error_message;

	if (!streq_ptr(u->error, CG_ERROR_PREFIX "InvalidData"))
		return 0;
	text = map_string(u, u->text);
	error_message = map_string(u, u->error_message);
	if ((u->text != NULL && text == NULL) ||
	    (u->error_message != NULL && error_message == NULL))
		return -ENOMEM;
	u->text = text;
	u->error_message = error_message;
	for (size_t i = 0; i < u->n_errors; i++) {
		const char *path = u->errors[i].path;

		if (path == NULL)
			continue;
		path = cg_strings_take(&u->strings, cg_csv_map_path(path, CG_CTL_CSV_SET_LABEL));
		if (path == NULL)
			return -ENOMEM;
		u->errors[i].path = path;
	}
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cg-date.h"

CgDateCheck
cg_date_parse(const char *value, guint *year, guint *month, guint *day)
{
	static const char pattern[] = "dddd-dd-dd";
	guint y, m, d;

	g_return_val_if_fail(value != NULL, CG_DATE_BAD_FORMAT);

	for (guint i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd' ? !g_ascii_isdigit(value[i]) : value[i] != pattern[i])
			return CG_DATE_BAD_FORMAT;
	}
	if (value[sizeof(pattern) - 1] != '\0')
		return CG_DATE_BAD_FORMAT;
	y = (guint)((value[0] - '0') * 1000 + (value[1] - '0') * 100 + (value[2] - '0') * 10 +
		    (value[3] - '0'));
	m = (guint)((value[5] - '0') * 10 + (value[6] - '0'));
	d = (guint)((value[8] - '0') * 10 + (value[9] - '0'));
	if (m < 1 || m > 12 || y < 1 || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
		return CG_DATE_NOT_REAL;
	if (year != NULL)
		*year = y;
	if (month != NULL)
		*month = m;
	if (day != NULL)
		*day = d;
	return CG_DATE_OK;
}

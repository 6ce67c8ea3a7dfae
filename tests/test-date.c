/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the one date parser (common/cg-date.c). */
#include "cg-date.h"
#include "cg-test-util.h"

static void
test_date_parse(void)
{
	static const struct {
		const char *value;
		CgDateCheck check;
	} cases[] = {
	    {"2024-05-17", CG_DATE_OK},
	    {"2024-02-29", CG_DATE_OK},
	    {"2000-02-29", CG_DATE_OK},
	    {"0001-01-01", CG_DATE_OK},
	    {"9999-12-31", CG_DATE_OK},
	    {"2023-02-29", CG_DATE_NOT_REAL},
	    {"1900-02-29", CG_DATE_NOT_REAL},
	    {"2026-02-31", CG_DATE_NOT_REAL},
	    {"2026-04-31", CG_DATE_NOT_REAL},
	    {"2026-13-01", CG_DATE_NOT_REAL},
	    {"2026-00-10", CG_DATE_NOT_REAL},
	    {"2026-01-00", CG_DATE_NOT_REAL},
	    {"0000-01-01", CG_DATE_NOT_REAL},
	    {"2026-1-01", CG_DATE_BAD_FORMAT},
	    {"2026-01-011", CG_DATE_BAD_FORMAT},
	    {"2026/01/01", CG_DATE_BAD_FORMAT},
	    {"", CG_DATE_BAD_FORMAT},
	    {"２０２６-01-01", CG_DATE_BAD_FORMAT},
	    {"2026-01-0a", CG_DATE_BAD_FORMAT},
	    {" 2026-01-01", CG_DATE_BAD_FORMAT},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint year = 0, month = 0, day = 0;
		CgDateCheck check = cg_date_parse(cases[i].value, &year, &month, &day);

		g_test_message("%s", cases[i].value);
		g_assert_cmpint(check, ==, cases[i].check);
		if (check == CG_DATE_OK)
			g_assert_true(
			    g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year));
	}
}

static void
test_date_fields(void)
{
	guint year = 0, month = 0, day = 0;

	g_assert_cmpint(cg_date_parse("2024-05-17", &year, &month, &day), ==, CG_DATE_OK);
	g_assert_cmpuint(year, ==, 2024);
	g_assert_cmpuint(month, ==, 5);
	g_assert_cmpuint(day, ==, 17);
	/* not set for a date that is not real */
	year = month = day = 7;
	g_assert_cmpint(cg_date_parse("2026-02-31", &year, &month, &day), ==, CG_DATE_NOT_REAL);
	g_assert_cmpuint(year, ==, 7);
	g_assert_cmpint(cg_date_parse("2026-03-01", NULL, NULL, NULL), ==, CG_DATE_OK);
}

static const CgTestCase cases[] = {
    {"/date/parse", test_date_parse},
    {"/date/fields", test_date_fields},
};

CG_TEST_MAIN(cases)

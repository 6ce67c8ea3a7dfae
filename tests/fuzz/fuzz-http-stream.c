/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an SSE or WebSocket client controls besides the path: the
 * Last-Event-ID header, the WebSocket's ?lastEventId= query, the messages it
 * sends, and — through its resumes — the table of genuine resumes. The
 * first byte picks the input; the rest is the input. */
#include <stdint.h>

#include "cg-http-error.h"
#include "cg-http-resume.h"
#include "cg-http-ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_last_event_id(const char *text)
{
	guint64 value = 0;
	guint64 again = 0;
	g_autofree char *printed = NULL;
	guint64 sequences[5];

	if (!cg_http_resume_parse_id(text, &value))
		return;
	/* what was accepted is the number it prints as */
	printed = g_strdup_printf("%" G_GUINT64_FORMAT, value);
	g_assert_true(cg_http_resume_parse_id(printed, &again));
	g_assert_cmpuint(again, ==, value);
	/* the plan never skips a state the client cannot have seen */
	sequences[0] = 0;
	sequences[1] = value > 0 ? value - 1 : 0;
	sequences[2] = value;
	sequences[3] = value < G_MAXUINT64 ? value + 1 : value;
	sequences[4] = G_MAXUINT64;

	for (gsize i = 0; i < G_N_ELEMENTS(sequences); i++) {
		for (int terminal = 0; terminal <= 1; terminal++) {
			guint64 sequence = sequences[i];
			CgHttpResumePlan plan =
			    cg_http_resume_plan(TRUE, value, sequence, terminal);

			if (value > sequence)
				g_assert_cmpint(plan, ==, CG_HTTP_RESUME_FROM_START);
			else if (terminal && value == sequence)
				g_assert_cmpint(plan, ==, CG_HTTP_RESUME_UP_TO_DATE);
			else
				g_assert_cmpint(plan, ==, CG_HTTP_RESUME_AFTER);
			g_assert_cmpint(cg_http_resume_plan(FALSE, value, sequence, terminal), ==,
					CG_HTTP_RESUME_FROM_START);
		}
	}
}

static void
fuzz_query(const char *text)
{
	guint64 value = 0;

	cg_http_resume_parse_query(text, &value);
}

static void
fuzz_ws_message(gboolean text, const char *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	CgHttpWsRequest request = cg_http_ws_parse_message(text, data, len, &error);

	if (request == CG_HTTP_WS_REQUEST_INVALID) {
		g_assert_nonnull(error);
		g_assert_true(g_error_matches(error, CG_HTTP_ERROR, CG_HTTP_ERROR_BAD_REQUEST));
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
	} else {
		g_assert_null(error);
		g_assert_cmpint(request, ==, CG_HTTP_WS_REQUEST_CANCEL);
		g_assert_true(text);
	}
}

/* Each 3 bytes one operation on a small table: note / check / prune, on 4
 * users and 8 ids, the clock moving forward. */
static void
fuzz_table(const guint8 *data, gsize size)
{
	const guint max_per_user = 3, max_total = 7;
	const gint64 ttl_us = 100;
	g_autoptr(CgHttpResumeTable) table =
	    cg_http_resume_table_new(max_per_user, max_total, ttl_us);
	gint64 now = 0;

	for (gsize i = 0; i + 3 <= size; i += 3) {
		char user[] = {'u', (char)('0' + (data[i] & 3)), '\0'};
		char id[] = {'p', (char)('0' + ((data[i] >> 2) & 7)), '\0'};
		guint64 sequence = data[i + 1];

		now += data[i + 2] & 0x3f;
		switch (data[i] >> 6) {
		case 0:
		case 1:
			cg_http_resume_table_note(table, user, id, sequence, now);
			/* just noted: a resume up to it is genuine — unless the
			 * table is full of other users' ids */
			if (cg_http_resume_table_check(table, user, id, sequence, now)) {
				g_assert_true(cg_http_resume_table_check(table, user, id, 0, now));
			} else {
				g_assert_cmpuint(cg_http_resume_table_get_size(table), ==,
						 max_total);
				g_assert_cmpuint(cg_http_resume_table_get_user_size(table, user),
						 ==, 0);
			}
			break;
		case 2:
			cg_http_resume_table_check(table, user, id, sequence, now);
			/* expired: never genuine */
			g_assert_false(
			    cg_http_resume_table_check(table, user, id, 0, now + ttl_us + 300));
			break;
		default:
			cg_http_resume_table_prune(table, now);
			break;
		}
		g_assert_cmpuint(cg_http_resume_table_get_size(table), <=, max_total);
		g_assert_cmpuint(cg_http_resume_table_get_user_size(table, user), <=, max_per_user);
	}
	cg_http_resume_table_prune(table, now + ttl_us);
	g_assert_cmpuint(cg_http_resume_table_get_size(table), ==, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = NULL;

	if (size < 1 || size > 16384)
		return 0;
	text = g_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		fuzz_last_event_id(text);
		break;
	case 1:
		fuzz_query(text);
		break;
	case 2:
		fuzz_ws_message(TRUE, (const char *)data + 1, size - 1);
		break;
	case 3:
		fuzz_ws_message(FALSE, (const char *)data + 1, size - 1);
		break;
	default:
		fuzz_table(data + 1, size - 1);
		break;
	}
	return 0;
}

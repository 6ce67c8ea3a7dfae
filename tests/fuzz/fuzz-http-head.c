/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request head a client sends on the bridge's own accept path
 * (cg-http-head.c): any bytes. Checks that the parser never reads past what
 * it is given, that a complete head is no longer than the input and the
 * cap, that its fields are valid UTF-8 without control characters, and
 * that the answer does not change when more bytes follow a complete head. */
#include <stdint.h>
#include <string.h>

#include "cg-http-head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fields(SoupMessageHeaders *headers)
{
	SoupMessageHeadersIter iter;
	const char *name, *value;

	soup_message_headers_iter_init(&iter, headers);
	while (soup_message_headers_iter_next(&iter, &name, &value)) {
		g_assert_true(g_utf8_validate(value, -1, NULL));
		g_assert_true(name[0] != '\0');
		for (const char *p = value; *p != '\0'; p++)
			g_assert_true((guchar)*p >= 0x20 || *p == '\t');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: reading past it is a sanitizer finding */
	g_autofree char *copy = g_memdup2(data, size);
	CgHttpHead head = {0};
	CgHttpHeadResult result;

	result = cg_http_head_parse(copy, size, &head);
	if (result == CG_HTTP_HEAD_COMPLETE) {
		g_autofree char *longer = g_malloc(head.length + 16);
		CgHttpHead again = {0};

		g_assert_cmpuint(head.length, <=, size);
		g_assert_cmpuint(head.length, <=, CG_HTTP_HEAD_MAX_BYTES);
		g_assert_true(head.path[0] == '/');
		check_fields(head.headers);
		/* what follows the head does not change it */
		memcpy(longer, copy, head.length);
		memset(longer + head.length, 'Z', 16);
		g_assert_cmpint(cg_http_head_parse(longer, head.length + 16, &again), ==,
				CG_HTTP_HEAD_COMPLETE);
		g_assert_cmpuint(again.length, ==, head.length);
		g_assert_cmpstr(again.path, ==, head.path);
		cg_http_head_clear(&again);
	} else if (result == CG_HTTP_HEAD_INVALID) {
		g_assert_true(head.status == 400 || head.status == 431 || head.status == 505);
		g_assert_nonnull(head.reason);
		g_assert_null(head.headers);
	} else {
		g_assert_cmpuint(size, <, CG_HTTP_HEAD_MAX_BYTES);
	}
	cg_http_head_clear(&head);
	return 0;
}

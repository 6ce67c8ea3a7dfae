/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the shared frames (cg-http-frame.c) and a stream's
 * bounded, coalescing queue (cg-http-queue.c). */
#include "cg-http-queue.h"
#include "cg-test-util.h"

static CgHttpFrame *
frame(guint64 sequence, gboolean terminal)
{
	return cg_http_frame_new(sequence, TRUE, terminal,
				 g_strdup_printf("{\"sequence\":%" G_GUINT64_FORMAT "}", sequence));
}

static void
assert_bytes(GBytes *bytes, const char *text)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);

	g_assert_cmpmem(data, len, text, strlen(text));
}

static void
test_frame(void)
{
	g_autoptr(CgHttpFrame) update = frame(7, FALSE);
	g_autoptr(CgHttpFrame) plain = cg_http_frame_new(0, FALSE, TRUE, g_strdup("{\"a\":1}"));

	g_assert_cmpuint(cg_http_frame_get_sequence(update), ==, 7);
	g_assert_false(cg_http_frame_is_terminal(update));
	assert_bytes(cg_http_frame_get_json(update), "{\"sequence\":7}");
	assert_bytes(cg_http_frame_get_sse(update), "id: 7\ndata: {\"sequence\":7}\n\n");
	/* made once, then shared */
	g_assert_true(cg_http_frame_get_sse(update) == cg_http_frame_get_sse(update));
	g_assert_true(cg_http_frame_is_terminal(plain));
	assert_bytes(cg_http_frame_get_sse(plain), "data: {\"a\":1}\n\n");
}

static guint64
pop_sequence(CgHttpQueue *queue)
{
	g_autoptr(CgHttpFrame) popped = cg_http_queue_pop(queue);

	g_assert_nonnull(popped);
	return cg_http_frame_get_sequence(popped);
}

static void
push(CgHttpQueue *queue, guint64 sequence, gboolean terminal, gboolean expected)
{
	g_autoptr(CgHttpFrame) f = frame(sequence, terminal);

	g_assert_cmpint(cg_http_queue_push(queue, f), ==, expected);
}

static void
test_order(void)
{
	CgHttpQueue queue = {0};

	g_assert_null(cg_http_queue_pop(&queue));
	push(&queue, 1, FALSE, TRUE);
	push(&queue, 2, FALSE, TRUE);
	/* older or repeated sequences are refused */
	push(&queue, 2, FALSE, FALSE);
	push(&queue, 1, FALSE, FALSE);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, 2);
	g_assert_cmpuint(pop_sequence(&queue), ==, 1);
	/* the last sequence is remembered after a pop */
	push(&queue, 2, FALSE, FALSE);
	push(&queue, 3, FALSE, TRUE);
	g_assert_cmpuint(pop_sequence(&queue), ==, 2);
	g_assert_cmpuint(pop_sequence(&queue), ==, 3);
	g_assert_null(cg_http_queue_pop(&queue));
	g_assert_cmpuint(queue.dropped, ==, 0);
	cg_http_queue_clear(&queue);
}

static void
test_coalesce(void)
{
	CgHttpQueue queue = {0};
	guint64 last = 0;

	for (guint64 s = 1; s <= CG_HTTP_QUEUE_MAX; s++)
		push(&queue, s, FALSE, TRUE);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, CG_HTTP_QUEUE_MAX);
	/* full: the queued (older) frames give way to the newest */
	push(&queue, 10, FALSE, TRUE);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, 1);
	g_assert_cmpuint(queue.dropped, ==, CG_HTTP_QUEUE_MAX);
	/* a client that never reads: bounded, increasing, the newest kept */
	for (guint64 s = 11; s < 1000; s++) {
		push(&queue, s, FALSE, TRUE);
		g_assert_cmpuint(cg_http_queue_get_length(&queue), <=, CG_HTTP_QUEUE_MAX);
	}
	push(&queue, 1000, TRUE, TRUE);
	/* nothing after the terminal frame, even with a newer sequence */
	push(&queue, 1001, FALSE, FALSE);
	push(&queue, 1002, TRUE, FALSE);
	while (cg_http_queue_get_length(&queue) > 0) {
		g_autoptr(CgHttpFrame) popped = cg_http_queue_pop(&queue);
		guint64 s = cg_http_frame_get_sequence(popped);

		g_assert_cmpuint(s, >, last);
		last = s;
		g_assert_cmpint(cg_http_frame_is_terminal(popped), ==, s == 1000);
	}
	g_assert_cmpuint(last, ==, 1000);
}

static void
test_terminal_on_full_queue(void)
{
	CgHttpQueue queue = {0};
	g_autoptr(CgHttpFrame) popped = NULL;

	for (guint64 s = 1; s <= CG_HTTP_QUEUE_MAX; s++)
		push(&queue, s, FALSE, TRUE);
	push(&queue, 99, TRUE, TRUE);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, 1);
	popped = cg_http_queue_pop(&queue);
	g_assert_true(cg_http_frame_is_terminal(popped));
	g_assert_cmpuint(cg_http_frame_get_sequence(popped), ==, 99);
}

static void
test_no_id_frames(void)
{
	CgHttpQueue queue = {0};
	g_autoptr(CgHttpFrame) lost = cg_http_frame_new(0, FALSE, TRUE, g_strdup("{}"));

	/* the "service vanished" event has no id and still ends the stream */
	push(&queue, 5, FALSE, TRUE);
	g_assert_true(cg_http_queue_push(&queue, lost));
	g_assert_true(queue.terminal);
	g_assert_cmpuint(pop_sequence(&queue), ==, 5);
	g_assert_cmpuint(pop_sequence(&queue), ==, 0);
	/* a clear releases the references; the queue can be cleared twice */
	push(&queue, 6, FALSE, FALSE);
	cg_http_queue_clear(&queue);
	cg_http_queue_clear(&queue);
}

static void
test_clear_releases(void)
{
	CgHttpQueue queue = {0};

	push(&queue, 1, FALSE, TRUE);
	push(&queue, 2, FALSE, TRUE);
	cg_http_queue_clear(&queue);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, 0);
	g_assert_null(cg_http_queue_pop(&queue));
}

static void
push_replayed(CgHttpQueue *queue, guint64 sequence, gboolean terminal, gboolean expected)
{
	g_autoptr(CgHttpFrame) f = frame(sequence, terminal);

	g_assert_cmpint(cg_http_queue_push_replayed(queue, f), ==, expected);
}

/* A resume's replay is never coalesced, however long; live frames pushed
 * meanwhile wait behind it as one (the latest); the order holds. */
static void
test_replay_backlog(void)
{
	CgHttpQueue queue = {0};

	for (guint64 s = 5; s <= 20; s++)
		push_replayed(&queue, s, FALSE, TRUE);
	push_replayed(&queue, 20, FALSE, FALSE); /* not newer */
	push(&queue, 21, FALSE, TRUE);
	push(&queue, 22, FALSE, TRUE); /* replaces 21 behind the backlog */
	push_replayed(&queue, 21, FALSE, FALSE);
	g_assert_cmpuint(cg_http_queue_get_length(&queue), ==, 17);
	for (guint64 s = 5; s <= 20; s++)
		g_assert_cmpuint(pop_sequence(&queue), ==, s);
	g_assert_cmpuint(queue.dropped, ==, 1);
	/* the backlog is gone: live frames coalesce as before */
	g_assert_null(queue.backlog);
	push(&queue, 23, FALSE, TRUE);
	g_assert_cmpuint(pop_sequence(&queue), ==, 22);
	g_assert_cmpuint(pop_sequence(&queue), ==, 23);
	g_assert_null(cg_http_queue_pop(&queue));

	/* the terminal frame behind a backlog is kept, and ends the queue */
	for (guint64 s = 30; s <= 40; s++)
		push_replayed(&queue, s, FALSE, TRUE);
	push(&queue, 41, TRUE, TRUE);
	push(&queue, 42, FALSE, FALSE);
	push_replayed(&queue, 43, FALSE, FALSE);
	for (guint64 s = 30; s <= 41; s++)
		g_assert_cmpuint(pop_sequence(&queue), ==, s);
	g_assert_null(cg_http_queue_pop(&queue));

	/* cleared with a backlog and a live frame behind it: nothing leaks */
	{
		CgHttpQueue other = {0};

		for (guint64 s = 1; s <= 9; s++)
			push_replayed(&other, s, FALSE, TRUE);
		push(&other, 10, FALSE, TRUE);
		cg_http_queue_clear(&other);
		g_assert_cmpuint(cg_http_queue_get_length(&other), ==, 0);
		g_assert_null(other.backlog);
		g_assert_null(other.after);
	}
}

static const CgTestCase cases[] = {
    {"/http/queue/frame", test_frame},
    {"/http/queue/order", test_order},
    {"/http/queue/coalesce", test_coalesce},
    {"/http/queue/terminal-on-full-queue", test_terminal_on_full_queue},
    {"/http/queue/no-id-frames", test_no_id_frames},
    {"/http/queue/clear-releases", test_clear_releases},
    {"/http/queue/replay-backlog", test_replay_backlog},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the stream registry (cg-http-streams.c): the per-minute
 * limits on new streams and resumes, the slots, the open streams and their
 * shutdown. */
#include "cg-http-error.h"
#include "cg-http-streams.h"
#include "cg-test-util.h"

#define S ((gint64)G_USEC_PER_SEC)

static CgHttpStreams *
streams_new(guint per_minute, guint resumes_per_minute, guint max, guint max_per_user)
{
	CgHttpConfig config;
	CgHttpStreams *streams;

	cg_http_config_init(&config);
	config.streams_per_minute = per_minute;
	config.resumes_per_minute = resumes_per_minute;
	config.max_streams = max;
	config.max_streams_per_user = max_per_user;
	streams = cg_http_streams_new(&config);
	cg_http_config_clear(&config);
	return streams;
}

static void
test_rate(void)
{
	g_autoptr(CgHttpStreams) streams = streams_new(2, 1, 100, 100);
	g_autoptr(GError) error = NULL;
	gint64 now = 1000 * S;
	guint retry = 0;

	g_assert_true(
	    cg_http_streams_check_rate(streams, "alice", "p1", FALSE, 0, now, &retry, &error));
	/* a claimed resume of events never sent counts as a new stream */
	g_assert_true(
	    cg_http_streams_check_rate(streams, "alice", "p1", TRUE, 3, now, &retry, &error));
	g_assert_false(
	    cg_http_streams_check_rate(streams, "alice", "p1", TRUE, 3, now, &retry, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED);
	g_assert_nonnull(strstr(error->message, "2 progress streams per minute"));
	g_assert_cmpuint(retry, ==, 60);
	g_clear_error(&error);
	g_assert_true(
	    cg_http_streams_check_rate(streams, "bob", "p1", FALSE, 0, now, &retry, &error));
	g_assert_no_error(error);
}

static void
test_genuine_resume(void)
{
	g_autoptr(CgHttpStreams) streams = streams_new(1, 1, 100, 100);
	g_autoptr(GError) error = NULL;
	gint64 now = g_get_monotonic_time();
	guint retry = 0;

	g_assert_true(
	    cg_http_streams_check_rate(streams, "alice", "p1", FALSE, 0, now, &retry, &error));
	cg_http_streams_note_sent(streams, "alice", "p1", 5);
	/* sent up to 5: resumes after 5 or before are genuine, one a minute */
	g_assert_true(
	    cg_http_streams_check_rate(streams, "alice", "p1", TRUE, 5, now, &retry, &error));
	g_assert_false(
	    cg_http_streams_check_rate(streams, "alice", "p1", TRUE, 4, now, &retry, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_RATE_LIMITED);
	g_assert_nonnull(strstr(error->message, "reconnects"));
	g_clear_error(&error);
	/* beyond what was sent, or for another user: a new stream (over its limit) */
	g_assert_false(
	    cg_http_streams_check_rate(streams, "alice", "p1", TRUE, 6, now, &retry, &error));
	g_assert_nonnull(strstr(error->message, "progress streams per minute"));
	g_clear_error(&error);
	g_assert_true(
	    cg_http_streams_check_rate(streams, "bob", "p1", TRUE, 5, now, &retry, &error));
	g_assert_no_error(error);
}

static void
test_slots(void)
{
	g_autoptr(CgHttpStreams) streams = streams_new(100, 100, 3, 2);
	g_autoptr(GError) error = NULL;
	guint retry = 0;

	g_assert_true(cg_http_streams_acquire_slot(streams, "alice", &retry, &error));
	g_assert_true(cg_http_streams_acquire_slot(streams, "alice", &retry, &error));
	g_assert_false(cg_http_streams_acquire_slot(streams, "alice", &retry, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_TOO_MANY_STREAMS);
	g_assert_cmpuint(cg_http_error_status(error), ==, 429);
	g_assert_cmpuint(retry, ==, 5);
	g_clear_error(&error);
	g_assert_true(cg_http_streams_acquire_slot(streams, "bob", &retry, &error));
	retry = 0;
	g_assert_false(cg_http_streams_acquire_slot(streams, "carol", &retry, &error));
	g_assert_error(error, CG_HTTP_ERROR, CG_HTTP_ERROR_OVERLOADED);
	g_assert_cmpuint(cg_http_error_status(error), ==, 503);
	g_assert_cmpuint(retry, ==, 5);
	g_clear_error(&error);
	cg_http_streams_release_slot(streams, "bob");
	g_assert_true(cg_http_streams_acquire_slot(streams, "carol", &retry, &error));
	g_assert_no_error(error);
}

static guint shutdown_calls;

static void
shutdown_cb(gpointer stream)
{
	CgHttpStreams **streams = stream;

	shutdown_calls++;
	/* what the stream modules do: end and unregister */
	cg_http_streams_remove(*streams, stream);
}

static void
test_open_and_shutdown(void)
{
	g_autoptr(CgHttpStreams) streams = streams_new(100, 100, 2, 2);
	g_autoptr(GError) error = NULL;
	CgHttpStreams *a = streams, *b = streams;
	guint retry = 0;

	g_assert_true(cg_http_streams_acquire_slot(streams, "alice", &retry, &error));
	cg_http_streams_add(streams, &a, "alice", shutdown_cb);
	g_assert_true(cg_http_streams_acquire_slot(streams, "alice", &retry, &error));
	cg_http_streams_add(streams, &b, "alice", shutdown_cb);
	g_assert_cmpuint(cg_http_streams_get_n_open(streams), ==, 2);
	g_assert_false(cg_http_streams_acquire_slot(streams, "bob", &retry, &error));
	g_clear_error(&error);

	/* removing releases the slot; removing twice is harmless */
	cg_http_streams_remove(streams, &a);
	cg_http_streams_remove(streams, &a);
	g_assert_cmpuint(cg_http_streams_get_n_open(streams), ==, 1);
	g_assert_true(cg_http_streams_acquire_slot(streams, "bob", &retry, &error));
	cg_http_streams_add(streams, &a, "bob", shutdown_cb);

	shutdown_calls = 0;
	cg_http_streams_shutdown_all(streams);
	g_assert_cmpuint(shutdown_calls, ==, 2);
	g_assert_cmpuint(cg_http_streams_get_n_open(streams), ==, 0);
	g_assert_true(cg_http_streams_acquire_slot(streams, "carol", &retry, &error));
	g_assert_true(cg_http_streams_acquire_slot(streams, "carol", &retry, &error));
	g_assert_no_error(error);
	cg_http_streams_prune(streams, g_get_monotonic_time() + 3600 * S);
}

static const CgTestCase cases[] = {
    {"/http/streams/rate", test_rate},
    {"/http/streams/genuine-resume", test_genuine_resume},
    {"/http/streams/slots", test_slots},
    {"/http/streams/open-and-shutdown", test_open_and_shutdown},
};

CG_TEST_MAIN(cases)

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the next-iteration calls through one GSource
 * (cg-http-deferred.c): order, once each, cancel (also of an item of the
 * batch being run), queueing from a call, freeing with items queued. */
#include "cg-http-deferred.h"
#include "cg-test-util.h"

typedef struct _Owner Owner;

typedef struct {
	CgHttpDeferred *deferred;
	GString *log;
	Owner *cancel_on_call; /* cancelled by the first call */
	gboolean requeue;      /* the first call queues itself again */
} Fixture;

struct _Owner {
	CgHttpDeferredItem item;
	Fixture *fixture;
	char name;
};

static void
called(gpointer data)
{
	Owner *owner = data;
	Fixture *f = owner->fixture;

	g_string_append_c(f->log, owner->name);
	if (f->cancel_on_call != NULL) {
		cg_http_deferred_cancel(f->deferred, &f->cancel_on_call->item);
		f->cancel_on_call = NULL;
	}
	if (f->requeue) {
		f->requeue = FALSE;
		cg_http_deferred_queue(f->deferred, &owner->item, called, owner);
	}
}

static void
queue(Fixture *f, Owner *owner)
{
	cg_http_deferred_queue(f->deferred, &owner->item, called, owner);
}

/* One main loop iteration without blocking. */
static void
iterate(void)
{
	g_main_context_iteration(NULL, FALSE);
}

static void
fixture_init(Fixture *f)
{
	f->deferred = cg_http_deferred_new(G_PRIORITY_DEFAULT);
	f->log = g_string_new(NULL);
}

static void
fixture_clear(Fixture *f)
{
	cg_http_deferred_free(f->deferred);
	g_string_free(f->log, TRUE);
}

static void
test_order_once(void)
{
	Fixture f = {0};
	Owner a = {.fixture = &f, .name = 'a'}, b = {.fixture = &f, .name = 'b'},
	      c = {.fixture = &f, .name = 'c'};

	fixture_init(&f);
	queue(&f, &a);
	queue(&f, &b);
	queue(&f, &a); /* queued already: nothing more */
	queue(&f, &c);
	g_assert_true(cg_http_deferred_is_queued(&b.item));
	g_assert_cmpuint(cg_http_deferred_get_length(f.deferred), ==, 3);
	/* not from inside the queueing call */
	g_assert_cmpstr(f.log->str, ==, "");
	iterate();
	g_assert_cmpstr(f.log->str, ==, "abc");
	g_assert_false(cg_http_deferred_is_queued(&b.item));
	g_assert_cmpuint(cg_http_deferred_get_length(f.deferred), ==, 0);
	/* nothing left to run: no further calls */
	iterate();
	g_assert_cmpstr(f.log->str, ==, "abc");
	fixture_clear(&f);
}

static void
test_cancel(void)
{
	Fixture f = {0};
	Owner a = {.fixture = &f, .name = 'a'}, b = {.fixture = &f, .name = 'b'};

	fixture_init(&f);
	queue(&f, &a);
	queue(&f, &b);
	cg_http_deferred_cancel(f.deferred, &a.item);
	cg_http_deferred_cancel(f.deferred, &a.item); /* not queued: nothing */
	iterate();
	g_assert_cmpstr(f.log->str, ==, "b");
	/* everything cancelled: the source goes too */
	queue(&f, &a);
	cg_http_deferred_cancel(f.deferred, &a.item);
	iterate();
	g_assert_cmpstr(f.log->str, ==, "b");
	fixture_clear(&f);
}

static void
test_cancel_in_running_batch(void)
{
	Fixture f = {0};
	Owner a = {.fixture = &f, .name = 'a'}, b = {.fixture = &f, .name = 'b'},
	      c = {.fixture = &f, .name = 'c'};

	fixture_init(&f);
	queue(&f, &a);
	queue(&f, &b);
	queue(&f, &c);
	/* a's call cancels b, which is in the batch being run */
	f.cancel_on_call = &b;
	iterate();
	g_assert_cmpstr(f.log->str, ==, "ac");
	g_assert_false(cg_http_deferred_is_queued(&b.item));
	fixture_clear(&f);
}

static void
test_requeue_waits(void)
{
	Fixture f = {0};
	Owner a = {.fixture = &f, .name = 'a'}, b = {.fixture = &f, .name = 'b'};

	fixture_init(&f);
	queue(&f, &a);
	queue(&f, &b);
	f.requeue = TRUE;
	iterate();
	/* a queued itself again from its call: the next iteration, not this */
	g_assert_cmpstr(f.log->str, ==, "ab");
	g_assert_true(cg_http_deferred_is_queued(&a.item));
	iterate();
	g_assert_cmpstr(f.log->str, ==, "aba");
	fixture_clear(&f);
}

static void
test_free_queued(void)
{
	Fixture f = {0};
	Owner a = {.fixture = &f, .name = 'a'};

	fixture_init(&f);
	queue(&f, &a);
	cg_http_deferred_free(f.deferred);
	f.deferred = NULL;
	g_assert_false(cg_http_deferred_is_queued(&a.item));
	/* its source went with it */
	iterate();
	g_assert_cmpstr(f.log->str, ==, "");
	cg_http_deferred_free(NULL);
	fixture_clear(&f);
}

static const CgTestCase cases[] = {
    {"/http/deferred/order-once", test_order_once},
    {"/http/deferred/cancel", test_cancel},
    {"/http/deferred/cancel-in-running-batch", test_cancel_in_running_batch},
    {"/http/deferred/requeue-waits", test_requeue_waits},
    {"/http/deferred/free-queued", test_free_queued},
};

CG_TEST_MAIN(cases)

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen beyond one host (issue 13): two hosts (each a private bus,
certgend, certgen-relay) and two bridges (certgen-http --redis, A on host
1's bus, B on host 2's) on one redis-server (certgen_test/hosts.py,
certgen_test/redis.py). What the issue lists: a generation started on A
and followed on B; A killed mid-stream and B resuming with Last-Event-ID;
a certgend killed mid-batch and the batch finished by the other host; the
rate limit shared by the bridges; a download from B of a file host 1
made; Redis restarted (503s, then recovery); and what another web user
gets on B for A's generation (404 everywhere), cancels across bridges and
garbage in Redis.

Claims time out after 1.5 s (--claim-timeout-ms), so the whole file runs
in well under two minutes. Suite `multihost` (meson test -C build --suite
multihost); one case by hand:
  PYTHONPATH=tests /usr/bin/python3 tests/integration/test_multihost.py \
      MultiHostTests.test_stream_on_other_bridge
"""

import hashlib
import json
import re
import subprocess
import time

from certgen_test.bridge import BOB, TERMINAL, batch_data, recipient_data
from certgen_test.hosts import (MultiHostTestCase, multihost_bridge_args, relay_args)
from certgen_test.redis import ResponseError
from certgen_test.testbus import BusClient, main, random_id, wait_until

from gi.repository import GLib  # noqa: E402  (testbus made sure it is there)

ID_RE = r"^[0-9a-f]{32}$"
FINISHED_TTL_S = 30
# A batch that runs for a second or more on two workers: long enough to kill
# something in the middle of it on a loaded 2-core machine, short enough
# to be rendered twice in a case.
KILL_BATCH = 3000
# Long enough (seconds) to be certainly running when a case acts on it.
LONG_BATCH = 10000


def decode_update(data):
    """A Redis event's `u` (GVariant a{sv}, normal form) -> dict."""
    value = GLib.Variant.new_from_bytes(GLib.VariantType.new("a{sv}"), GLib.Bytes.new(data),
                                        False)
    if not value.is_normal_form():
        raise AssertionError(f"an event that is not in normal form: {data[:80]!r}")
    return value.unpack()


def pdf_pages(data):
    """The page count pdfinfo (poppler) reads from PDF bytes."""
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout
    return int(re.search(rb"^Pages:\s+(\d+)", out, re.M).group(1))


@relay_args("--finished-ttl-s", str(FINISHED_TTL_S))
class MultiHostTests(MultiHostTestCase):
    """Two hosts and two bridges on one Redis."""

    # -- helpers -------------------------------------------------------------------

    def start(self, bridge, data=None, token=None, **options):
        body = {"transactionId": "tx-multihost",
                "data": data if data is not None else recipient_data()}
        if options:
            body["options"] = options
        kwargs = {} if token is None else {"token": token}
        resp = bridge.request("POST", "/api/certificates", body, **kwargs)
        self.assertEqual(resp.status, 201, f"POST on {bridge.name}: {resp!r}")
        pid = resp.json["progressId"]
        self.assertRegex(pid, ID_RE)
        return pid

    def check_events(self, events, pid, first_after=None):
        """Each event's id is its sequence, the sequences grow (from after
        first_after, a Last-Event-ID), overall progress never goes down,
        every event is pid's, and exactly one is terminal: the last."""
        seqs = []
        progress = 0.0
        for event in events:
            update = event.json
            self.assertEqual(update["progressId"], pid, update)
            self.assertEqual(event.id, str(update["sequence"]), event)
            seqs.append(update["sequence"])
            self.assertGreaterEqual(update["progress"], progress, update)
            progress = update["progress"]
        self.assertTrue(events, "no events")
        self.assertEqual(seqs, sorted(set(seqs)), f"sequences do not grow: {seqs}")
        if first_after is not None:
            self.assertGreater(seqs[0], first_after, seqs)
        statuses = [e.json["status"] for e in events]
        self.assertIn(statuses[-1], TERMINAL, statuses)
        self.assertNotIn(True, [s in TERMINAL for s in statuses[:-1]], statuses)
        return seqs

    def follow(self, bridge, pid, token=None, headers=None, first_after=None, read_timeout=60):
        """The events of pid on bridge up to the terminal one, checked; the
        stream must end after it."""
        kwargs = {} if token is None else {"token": token}
        stream = bridge.sse(pid, headers=headers, read_timeout=read_timeout, **kwargs)
        try:
            self.assertEqual(stream.status, 200, stream.body() if stream.status != 200 else "")
            events = stream.events_until_terminal()
            self.check_events(events, pid, first_after)
            self.assertTrue(stream.at_end(), "the stream goes on after the terminal event")
            return events
        finally:
            stream.close()

    def redis_events(self, pid):
        """The generation's event stream in Redis -> [(sequence, update)]."""
        out = []
        for entry_id, fields in self.redis.client().xrange(f"certgen:gen:{pid}:events"):
            seq, _, zero = entry_id.decode().partition("-")
            self.assertEqual(zero, "0", entry_id)
            self.assertEqual(set(fields), {b"u"}, fields)
            out.append((int(seq), decode_update(fields[b"u"])))
        return out

    def assert_events_match_redis(self, events, pid):
        """Every event a bridge sent is the update Redis holds under its id
        (but the bridge's own "queued" snapshot of sequence 0, sent before a
        host published anything)."""
        stored = dict(self.redis_events(pid))
        for event in events:
            update = event.json
            if update["sequence"] == 0:
                self.assertEqual(update["status"], "queued", update)
                continue
            self.assertIn(update["sequence"], stored, f"event {event.id} is not in Redis")
            u = stored[update["sequence"]]
            self.assertEqual(u["progress_id"], pid)
            self.assertEqual(u["sequence"], update["sequence"])
            self.assertEqual(u["status"], update["status"], (u, update))
            self.assertEqual(u["stage"], update["stage"], (u, update))
            self.assertAlmostEqual(u["progress"], update["progress"], places=1)

    def assert_redis_events_sound(self, pid):
        """Redis's event stream: sequences 1, 2, ... without a gap, progress
        never down, one terminal update, the last, the hash's last_seq and
        snapshot the newest -> the updates."""
        events = self.redis_events(pid)
        seqs = [s for s, _ in events]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "published sequences")
        progress = [u["progress"] for _, u in events]
        self.assertEqual(progress, sorted(progress), "published progress goes down")
        statuses = [u["status"] for _, u in events]
        self.assertIn(statuses[-1], TERMINAL)
        self.assertEqual([s for s in statuses if s in TERMINAL], statuses[-1:])
        gen = self.gen(pid)
        self.assertEqual(int(gen["last_seq"]), seqs[-1])
        self.assertEqual(decode_update(gen["snapshot"]), events[-1][1])
        self.assertEqual(gen["state"], b"done")
        self.assertEqual(gen["status"].decode(), statuses[-1])
        return [u for _, u in events]

    def first_events(self, stream, until):
        """Events of stream until until(update) is true (none terminal)."""
        events = []
        while True:
            event = stream.next_event()
            self.assertIsNotNone(event, "the stream ended early")
            events.append(event)
            update = event.json
            self.assertNotIn(update["status"], TERMINAL, f"finished too early: {update}")
            if until(update):
                return events

    def host_generations(self, host):
        """What host's certgend knows (ListGenerations as the relay's uid)."""
        client = BusClient(host.bus_address)
        try:
            return client.call("ListGenerations")
        finally:
            client.close()

    def other_host(self, host):
        return self.host2 if host is self.host1 else self.host1

    # -- the cases -------------------------------------------------------------------

    def test_stream_on_other_bridge(self):
        """Started on A, followed on B (SSE and WebSocket) and on A: the same
        events (the updates Redis holds under their ids), ids = sequences,
        the terminal one last; the published sequences have no gap."""
        pid = self.start(self.bridge_a, batch_data(60), updateInterval=20)
        stream_a = self.bridge_a.sse(pid)
        ws_b = self.bridge_b.websocket(pid)
        self.assertEqual(ws_b.status, 101, ws_b.body)
        events_b = self.follow(self.bridge_b, pid)
        self.assertEqual(events_b[-1].json["status"], "completed", events_b[-1].json)
        self.assertGreater(len(events_b), 3, events_b)
        events_a = stream_a.events_until_terminal()
        self.check_events(events_a, pid)
        self.assertTrue(stream_a.at_end())
        stream_a.close()
        messages = ws_b.messages_until_close()
        ws_b.close()
        self.assertEqual(messages[-1]["status"], "completed", messages[-1])
        ws_seqs = [m["sequence"] for m in messages]
        self.assertEqual(ws_seqs, sorted(set(ws_seqs)))
        # the same event under the same id on both bridges
        by_seq_a = {e.id: e.json for e in events_a}
        common = [e for e in events_b if e.id in by_seq_a]
        self.assertIn(events_b[-1], common)
        for event in common:
            self.assertEqual(event.json, by_seq_a[event.id], f"event {event.id} differs")
        by_seq_b = {e.json["sequence"]: e.json for e in events_b}
        for m in messages:
            if m["sequence"] in by_seq_b:
                self.assertEqual(m, by_seq_b[m["sequence"]])
        self.assert_events_match_redis(events_a + events_b, pid)
        updates = self.assert_redis_events_sound(pid)
        self.assertEqual(updates[-1]["pages_done"], 60)
        # a finished generation followed later, on either bridge, without
        # and with a Last-Event-ID: the terminal event again, or nothing new
        for bridge in self.bridges:
            again = self.follow(bridge, pid)
            self.assertEqual(again[-1].json, events_b[-1].json)
        middle = events_b[len(events_b) // 2].id
        resumed = self.follow(self.bridge_a, pid, headers={"Last-Event-ID": middle},
                              first_after=int(middle))
        self.assertEqual(resumed[-1].json, events_b[-1].json)

    def test_bridge_killed_mid_stream(self):
        """A SIGKILLed mid-stream; B, asked with the Last-Event-ID A last sent,
        delivers every event published since exactly once, then the live
        ones to the terminal event."""
        pid = self.start(self.bridge_a, batch_data(KILL_BATCH), updateInterval=20)
        stream = self.bridge_a.sse(pid)
        seen = self.first_events(stream, lambda u: u.get("stage") == "pdf_generation"
                                 and u["pagesDone"] > 0)
        last = int(seen[-1].id)
        self.bridge_a.kill()
        stream.close()
        # the client reconnects later (retry: 2000): events were published
        # meanwhile that it never got, and B must send every one of them
        wait_until(lambda: int(self.gen(pid).get("last_seq", b"0")) >= last + 3, 10,
                   "three more events published")
        stored = int(self.gen(pid)["last_seq"])
        events = self.follow(self.bridge_b, pid, headers={"Last-Event-ID": str(last)},
                             first_after=last)
        seqs = [int(e.id) for e in events]
        self.assertEqual(seqs[:stored - last], list(range(last + 1, stored + 1)),
                         "B skipped or repeated stored events after the Last-Event-ID")
        # then the live ones, each at most once (follow checked that the
        # sequences grow; a stream behind may coalesce live events, as on
        # one host: README, certgen-http)
        self.assertEqual(events[-1].json["status"], "completed")
        self.assertEqual(seqs[-1], len(self.assert_redis_events_sound(pid)))
        self.assert_events_match_redis(events, pid)
        # B serves new generations as ever
        other = self.start(self.bridge_b)
        self.assertEqual(self.follow(self.bridge_b, other)[-1].json["status"], "completed")

    def test_certgend_killed_mid_batch(self):
        """The host rendering a batch loses its certgend (SIGKILL) mid-way: after
        the claim timeout the other host runs it; the stream on B goes on
        with the same progress id, growing sequences, progress never down,
        to the terminal event; the PDF downloads with every page."""
        pid = self.start(self.bridge_a, batch_data(KILL_BATCH), updateInterval=50)
        stream = self.bridge_b.sse(pid, read_timeout=90)
        self.assertEqual(stream.status, 200)
        before = self.first_events(stream, lambda u: u.get("stage") == "pdf_generation"
                                   and u["pagesDone"] > 0)
        gen = self.gen(pid)
        self.assertEqual(gen["state"], b"running")
        first = self.host_named(gen["host"].decode())
        first_local = gen["local_id"].decode()
        self.assertRegex(first_local, ID_RE)
        killed_at = time.monotonic()
        first.kill_daemon()
        second = self.other_host(first)
        after = stream.events_until_terminal()
        took_over = time.monotonic() - killed_at
        self.assertTrue(stream.at_end())
        stream.close()
        events = before + after
        self.check_events(events, pid)
        self.assertEqual(after[-1].json["status"], "completed", after[-1].json)
        self.assertEqual(after[-1].json["pagesDone"], KILL_BATCH)
        self.assertLess(before[-1].json["pagesDone"], KILL_BATCH)
        gen = self.gen(pid)
        self.assertEqual(gen["host"].decode(), second.name)
        self.assertNotEqual(gen["local_id"].decode(), first_local)
        # the other host waited for the claim timeout (1.5 s) before taking it
        self.assertGreater(took_over, 1.0)
        published = self.assert_redis_events_sound(pid)
        self.assert_events_match_redis(events, pid)
        self.assertIn(f"resumed on {second.name}", [u["message"] for u in published])
        # the relay whose certgend died lives on
        self.assertTrue(first.relay.alive(), first.relay.log_text())
        resp = self.bridge_a.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/pdf")
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(),
                         after[-1].json["result"]["checksum"])
        self.assertEqual(pdf_pages(resp.body), KILL_BATCH)
        with open(second.cert_file(gen["local_id"].decode()), "rb") as f:
            self.assertEqual(f.read(), resp.body)

    @multihost_bridge_args("--generations-per-minute", "5")
    def test_rate_limit_shared(self):
        """5 generation requests a minute per web user across bridges: 3 on A
        and 2 on B pass, the 6th (on B, and on A) is 429 with Retry-After;
        another user is not affected."""
        for _ in range(3):
            self.start(self.bridge_a)
        for _ in range(2):
            self.start(self.bridge_b)
        for bridge in (self.bridge_b, self.bridge_a):
            resp = bridge.request("POST", "/api/certificates", {"data": recipient_data()})
            self.assertError(resp, 429, "rate_limited", bridge.name)
            retry = int(resp.header("Retry-After"))
            self.assertTrue(1 <= retry <= 60, retry)
        self.start(self.bridge_b, token=BOB)
        self.assertEqual(len(self.redis.client().smembers("certgen:user:alice:gens")), 5)

    def test_download_from_other_bridge(self):
        """A file host 1 made downloads from B (host 2's bus): the bytes of host 1's
        certgend, the result's checksum; stored in Redis with its size and
        an expiry of at most the finished TTL; 404 for another user."""
        self.assertIsNone(self.host2.stop_relay())  # host 1 renders it
        pid = self.start(self.bridge_a, batch_data(3))
        last = self.follow(self.bridge_b, pid)[-1].json
        self.assertEqual(last["status"], "completed", last)
        gen = self.gen(pid)
        self.assertEqual(gen["host"], b"host1")
        resp = self.bridge_b.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/pdf")
        self.assertIn("attachment", resp.header("Content-Disposition"))
        with open(self.host1.cert_file(gen["local_id"].decode()), "rb") as f:
            made = f.read()
        self.assertEqual(resp.body, made)
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(), last["result"]["checksum"])
        self.assertEqual(pdf_pages(resp.body), 3)
        r = self.redis.client()
        self.assertEqual(r.get(f"certgen:gen:{pid}:file"), made)
        self.assertEqual(int(gen["file_size"]), len(made))
        for key in (f"certgen:gen:{pid}", f"certgen:gen:{pid}:events", f"certgen:gen:{pid}:file"):
            ttl = r.ttl(key)
            self.assertTrue(0 < ttl <= FINISHED_TTL_S, f"{key}: TTL {ttl}")
        # the same from A, and nothing for bob on either
        self.assertEqual(self.bridge_a.request("GET", f"/api/certificates/{pid}/download").body,
                         made)
        for bridge in self.bridges:
            self.assertError(bridge.request("GET", f"/api/certificates/{pid}/download",
                                            token=BOB), 404, "not_found")

    def test_redis_restart(self):
        """Redis stopped: every route that needs it answers 503
        service_unavailable with Retry-After on both bridges; an open stream
        stays open. Redis back (empty, no persistence): the running
        generation's stream goes on to its terminal event (the relay
        writes its hash again and publishes what waited), and a new
        generation works end to end."""
        done = self.start(self.bridge_a)
        self.follow(self.bridge_b, done)
        running = self.start(self.bridge_a, batch_data(LONG_BATCH), updateInterval=100)
        stream = self.bridge_b.sse(running, read_timeout=60)
        self.assertEqual(stream.status, 200)
        before = self.first_events(stream, lambda u: u.get("stage") == "pdf_generation")
        self.redis.stop()
        routes = (("POST", "/api/certificates", {"data": recipient_data()}),
                  ("GET", f"/api/certificates/progress/{done}", None),
                  ("DELETE", f"/api/certificates/progress/{running}", None),
                  ("GET", f"/api/certificates/progress/{done}/analytics", None),
                  ("GET", f"/api/certificates/{done}/download", None))
        for bridge in self.bridges:
            wait_until(lambda b=bridge: b.request("GET", f"/api/certificates/{done}/download")
                       .status == 503, 10, f"bridge {bridge.name} seeing Redis gone")
            for method, path, body in routes:
                with self.subTest(bridge=bridge.name, method=method, path=path):
                    resp = bridge.request(method, path, body)
                    self.assertError(resp, 503, "service_unavailable")
                    self.assertTrue(1 <= int(resp.header("Retry-After")) <= 60, resp.headers)
        self.redis.start()
        # back: nothing of before survived (no persistence), new work runs
        for bridge in self.bridges:
            wait_until(lambda b=bridge: b.request("GET", f"/api/certificates/{done}/analytics")
                       .status == 404, 15, f"bridge {bridge.name} back on Redis")
        # the stream opened before the outage reaches the terminal event
        after = stream.events_until_terminal()
        self.assertTrue(stream.at_end())
        stream.close()
        self.check_events(before + after, running)
        self.assertEqual(after[-1].json["status"], "completed", after[-1].json)
        self.assertEqual(after[-1].json["pagesDone"], LONG_BATCH)
        pid = self.start(self.bridge_a)
        last = self.follow(self.bridge_b, pid, read_timeout=30)[-1].json
        self.assertEqual(last["status"], "completed", last)
        resp = self.bridge_b.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(), last["result"]["checksum"])
        for host in self.hosts:
            self.assertTrue(host.relay.alive(), host.relay.log_text())

    def test_other_user_gets_404_on_other_bridge(self):
        """bob on B for alice's generation from A: 404 not_found, the body of an
        unknown id, on the stream, the WebSocket, cancel, analytics and
        download, while it runs and once it is done; his cancel cancels
        nothing."""
        pid = self.start(self.bridge_a, batch_data(200), updateInterval=50)
        unknown = random_id()

        def refusals():
            out = []
            for method, path in (("GET", "/api/certificates/progress/{}"),
                                 ("DELETE", "/api/certificates/progress/{}"),
                                 ("GET", "/api/certificates/progress/{}/analytics"),
                                 ("GET", "/api/certificates/{}/download")):
                resp = self.bridge_b.request(method, path.format(pid), token=BOB)
                body = self.assertError(resp, 404, "not_found", f"{method} {path}")
                same = self.bridge_b.request(method, path.format(unknown), token=BOB)
                self.assertEqual(same.status, 404)
                # the same words as for an id that never existed (which they name)
                self.assertEqual(json.loads(json.dumps(body).replace(pid, unknown)), same.json,
                                 f"{method} {path}")
                out.append(body)
            # a WebSocket is refused after the upgrade, as on one host
            ws = self.bridge_b.websocket(pid, token=BOB)
            self.assertEqual(ws.status, 101)
            messages = ws.messages_until_close()
            ws.close()
            self.assertEqual(ws.close_code, 4404)
            self.assertEqual([m.get("error") for m in messages], ["not_found"])
            return out
        refusals()
        last = self.follow(self.bridge_b, pid)[-1].json
        self.assertEqual(last["status"], "completed", last)
        refusals()
        self.assertEqual(self.redis.client().smembers("certgen:user:bob:gens"), set())
        self.assertEqual(self.bridge_b.request(
            "GET", f"/api/certificates/progress/{pid}/analytics").status, 200)

    def test_cancel_from_other_bridge(self):
        """A running generation started on A is cancelled by a DELETE on B (the
        owning host's certgend cancels it); a second DELETE: 409."""
        pid = self.start(self.bridge_a, batch_data(LONG_BATCH), updateInterval=50)
        stream = self.bridge_a.sse(pid)
        before = self.first_events(stream, lambda u: u.get("stage") == "pdf_generation")
        resp = self.bridge_b.request("DELETE", f"/api/certificates/progress/{pid}")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, {"success": True})
        after = stream.events_until_terminal()
        stream.close()
        self.check_events(before + after, pid)
        self.assertEqual(after[-1].json["status"], "cancelled", after[-1].json)
        self.assertLess(after[-1].json["pagesDone"], LONG_BATCH)
        self.assertError(self.bridge_b.request("DELETE", f"/api/certificates/progress/{pid}"),
                         409, "already_finished")
        self.assert_redis_events_sound(pid)

    def test_cancel_while_queued(self):
        """No relay running: the request waits in Redis; cancelled on B, the
        relay that takes it later publishes `cancelled` without starting it."""
        for host in self.hosts:
            self.assertIsNone(host.stop_relay())
        pid = self.start(self.bridge_a, batch_data(5))
        self.assertEqual(self.gen(pid)["state"], b"queued")
        resp = self.bridge_b.request("DELETE", f"/api/certificates/progress/{pid}")
        self.assertEqual(resp.status, 200, resp)
        self.host1.start_relay()
        last = self.follow(self.bridge_b, pid)[-1].json
        self.assertEqual(last["status"], "cancelled", last)
        self.assertEqual(self.gen(pid)["state"], b"done")
        # certgend never saw it
        self.assertEqual(self.host_generations(self.host1), [])
        # and the consumer group has nothing pending
        pending = self.redis.client().xpending("certgen:requests", "hosts")
        wait_until(lambda: self.redis.client().xpending("certgen:requests", "hosts")["pending"]
                   == 0, 10, f"the entry acknowledged (pending: {pending})")

    def test_session_on_other_bridge(self):
        """A session cookie made on A authenticates GETs on B; logging out on B
        ends it on A."""
        resp = self.bridge_a.request("POST", "/api/session")
        self.assertEqual(resp.status, 200, resp)
        cookie = {"Cookie": resp.header("Set-Cookie").split(";")[0]}
        pid = self.start(self.bridge_a)
        stream = self.bridge_b.sse(pid, token=None, headers=cookie)
        self.assertEqual(stream.status, 200)
        events = stream.events_until_terminal()
        stream.close()
        self.assertEqual(events[-1].json["status"], "completed")
        self.assertEqual(self.bridge_b.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                               token=None, headers=cookie).status, 200)
        resp = self.bridge_b.request("DELETE", "/api/session", headers=cookie)
        self.assertEqual(resp.status, 200, resp)
        self.assertError(self.bridge_a.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                               token=None, headers=cookie), 401, "unauthorized")

    def test_garbage_in_redis(self):
        """What no bridge or relay wrote: requests with a bad id or params, a
        generation whose snapshot, events and analytics are not GVariants.
        Nobody crashes, nothing of it is served as an update, and the next
        real generation runs."""
        r = self.redis.client()
        try:
            r.xgroup_create("certgen:requests", "hosts", id="0", mkstream=True)
        except ResponseError as e:  # the relays made it
            self.assertIn("BUSYGROUP", str(e))
        for fields in ({"id": "../../etc/passwd", "user": "alice", "params": b"x", "at_ms": "1"},
                       {"id": random_id(), "user": "alice", "params": b"\x00\xff" * 9,
                        "at_ms": "1"},
                       {"id": random_id().upper(), "user": "alice", "params": b"", "at_ms": "x"},
                       {"nothing": "here"}):
            r.xadd("certgen:requests", fields)
        bad = random_id()
        r.hset(f"certgen:gen:{bad}", mapping={"user": "alice", "state": "done",
                                              "status": "completed", "last_seq": "2",
                                              "snapshot": b"\x01garbage", "analytics": b"\x02",
                                              "file_size": "10", "host": "host1",
                                              "local_id": "not-an-id"})
        r.sadd("certgen:user:alice:gens", bad)
        r.xadd(f"certgen:gen:{bad}:events", {"u": b"\x03not a variant"}, id="1-0")
        r.xadd(f"certgen:gen:{bad}:events", {"x": b"no u"}, id="2-0")
        r.set(f"certgen:gen:{bad}:file", b"not a pdf")
        for bridge in self.bridges:
            for method, path in (("GET", f"/api/certificates/progress/{bad}/analytics"),
                                 ("GET", f"/api/certificates/{bad}/download")):
                resp = bridge.request(method, path)
                self.assertGreaterEqual(resp.status, 400, f"{method} {path}: {resp!r}")
                self.assertTrue(resp.header("Content-Type").startswith("application/json"))
            stream = bridge.sse(bad, read_timeout=10)
            if stream.status == 200:
                for event in iter(stream.next_event, None):
                    self.assertNotIn("garbage", json.dumps(event.json))
                    self.assertEqual(event.json.get("progressId"), bad, event.json)
            stream.close()
        pid = self.start(self.bridge_b)
        self.assertEqual(self.follow(self.bridge_a, pid)[-1].json["status"], "completed")
        for host in self.hosts:
            self.assertTrue(host.relay.alive(), host.relay.log_text())
        for bridge in self.bridges:
            self.assertTrue(bridge.child.alive(), bridge.log_text())
        # the bad requests were not started anywhere
        wait_until(lambda: r.xpending("certgen:requests", "hosts")["pending"] == 0, 10,
                   "the bad entries acknowledged")


if __name__ == "__main__":
    main()

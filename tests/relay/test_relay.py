#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-relay alone (issue 13): a real redis-server, a real private bus
with certgend and the relay from the build tree; python3-redis writes
requests as the bridge would and reads what the relay publishes. The
multi-host tests with bridges are tests/multihost (mhtest's); these prove
the relay's side of the schema (README.md, "Beyond one host"). Each case
is its own meson test (suite 'relay')."""

import os
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from certgen_test.privatebus import PrivateBus  # noqa: E402
from certgen_test.testbus import (BIG_BATCH, BUILD_ROOT, TIMEOUT_FACTOR, WRAPPER,  # noqa: E402
                                  GLib, batch_json, main, single_json, spin, timeout,
                                  wait_until)
from relay_harness import (ERROR_PREFIX, RELAY, REQUESTS, RelayTestCase,  # noqa: E402
                           control_key, decode_update, events_key, file_key, gen_key,
                           params_bytes, relay_args)

# Long enough to act on mid-run, short enough to run twice in a case.
BATCH = BIG_BATCH
# Seconds of rendering: still running after Redis restarts, and across a
# few claim timeouts (certgend under valgrind renders ~20 times slower, and
# a batch must end within certgend's default timeout of 5 minutes).
LONG_BATCH = 2000 if WRAPPER else 8000
# Claim timeout of the heartbeat case: timers of a relay under valgrind run late.
CLAIM_MS = int(1000 * TIMEOUT_FACTOR)


def pdf_pages(data):
    """The page count pdfinfo (poppler) reads from the PDF @data."""
    proc = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    for line in proc.stdout.decode().splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo printed no page count: {proc.stdout!r}")


class CommandLineTests(unittest.TestCase):

    def run_relay(self, *args):
        return subprocess.run([RELAY] + list(args), capture_output=True, text=True,
                              timeout=timeout(20), check=False)

    def test_refuses_without_redis_or_with_bad_values(self):
        """Without --redis the relay refuses to start (exit 2, says why);
        so it does for a bad address, host id or limit."""
        cases = [
            ((), "needs --redis"),
            (("--redis", "host:0"), "--redis"),
            (("--redis", ""), "--redis"),
            (("--redis", "/tmp/r.sock", "--host-id", "a b"), "--host-id"),
            (("--redis", "/tmp/r.sock", "--host-id", "x" * 65), "--host-id"),
            (("--redis", "/tmp/r.sock", "--host-id", "h:1"), "--host-id"),
            (("--redis", "/tmp/r.sock", "--max-active", "0"), "--max-active"),
            (("--redis", "/tmp/r.sock", "--claim-timeout-ms", "10"), "--claim-timeout-ms"),
            (("--redis", "/tmp/r.sock", "--file-max-bytes", "-1"), "--file-max-bytes"),
            (("--redis", "/tmp/r.sock", "stray"), ""),
        ]
        for args, says in cases:
            with self.subTest(args=args):
                proc = self.run_relay(*args)
                self.assertEqual(proc.returncode, 2, proc)
                self.assertIn(says, proc.stderr)
        proc = self.run_relay("--version")
        self.assertEqual(proc.returncode, 0, proc)
        self.assertIn("certgen-relay", proc.stdout)


class RequestTests(RelayTestCase):

    @relay_args("--finished-ttl-s", "120")
    def test_request_runs_and_is_published(self):
        """A request runs on certgend as alice's and every update is an
        event SEQ-0; the terminal is last; the hash, analytics and the
        file (certgend's very bytes, a PDF) are stored with the finished
        TTL, and the entry is acknowledged."""
        pid, entry_id = self.submit(single_json(recipientName="Relay Person"),
                                    transaction="tx-relay-1")
        events = self.wait_terminal(pid)
        self.assert_events_sound(pid, events)
        last = events[-1][1]
        self.assertEqual(last["status"], "completed", last)
        self.assertEqual(last["transaction_id"], "tx-relay-1")
        self.wait_acked()

        h = self.gen_hash(pid)
        self.assertEqual(h["state"], b"done")
        self.assertEqual(h["status"], b"completed")
        self.assertEqual(h["host"], b"host1")
        self.assertEqual(h["user"], b"alice")
        self.assertEqual(int(h["last_seq"]), last["sequence"])
        self.assertEqual(h["snapshot"], events[-1][2])
        self.assertAlmostEqual(float(h["progress"]), last["progress"])
        local_id = h["local_id"].decode()
        self.assertRegex(local_id, r"^[0-9a-f]{32}$")
        self.assertNotEqual(local_id, pid)

        # certgend ran it for alice, started by the relay as a delegate
        snap = self.root.progress(local_id)
        self.assertEqual(snap["owner_label"], "alice")
        self.assertEqual(snap["status"], "completed")

        analytics = decode_update(h["analytics"])
        self.assertEqual(analytics["status"], "completed")
        self.assertIn("pdf_generation", analytics["stage_durations"])

        stored = self.r.get(file_key(pid))
        with open(self.cert_path(local_id), "rb") as f:
            self.assertEqual(stored, f.read())
        self.assertEqual(int(h["file_size"]), len(stored))
        self.assertEqual(h["file_type"], b"application/pdf")
        self.assertEqual(pdf_pages(stored), 1)
        self.assertNotIn("file_error", h)

        for key in (gen_key(pid), events_key(pid), file_key(pid)):
            ttl = self.r.ttl(key)
            self.assertTrue(0 < ttl <= 120, f"{key}: TTL {ttl}")
        self.assertIn(f"{pid}: finished and published", self.relay.text())

    def test_batch_progress_floor_and_pages(self):
        """A batch: many updates, all consecutive, progress never down, the
        stored PDF has a page per recipient."""
        pid, _ = self.submit(batch_json(40))
        events = self.wait_terminal(pid, 120)
        self.assert_events_sound(pid, events)
        self.assertGreater(len(events), 3)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.assertEqual(pdf_pages(self.r.get(file_key(pid))), 40)

    def test_refused_start_is_a_failed_terminal(self):
        """certgend refusing StartGeneration (unknown template): one event,
        sequence 1, status failed with the D-Bus error name."""
        pid, _ = self.submit(single_json(), template="no-such-template")
        events = self.wait_terminal(pid)
        self.assertEqual(len(events), 1, events)
        self.assert_events_sound(pid, events)
        update = events[0][1]
        self.assertEqual(update["status"], "failed")
        self.assertEqual(update["error"], ERROR_PREFIX + "TemplateNotFound")
        self.assertIn("no-such-template", update["error_message"])
        self.wait_acked()
        h = self.gen_hash(pid)
        self.assertEqual((h["state"], h["status"]), (b"done", b"failed"))
        self.assertFalse(self.r.exists(file_key(pid)))

    @relay_args("--file-max-bytes", "100")
    def test_file_too_large_is_not_stored(self):
        """A file above --file-max-bytes: completed, file_error too_large,
        no file key."""
        pid, _ = self.submit(single_json())
        events = self.wait_terminal(pid)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.wait_acked()
        h = self.gen_hash(pid)
        self.assertEqual(h["file_error"], b"too_large")
        self.assertNotIn("file_size", h)
        self.assertFalse(self.r.exists(file_key(pid)))

    def test_done_entry_is_only_acked(self):
        """An entry whose hash says done (a takeover of a finished one):
        acknowledged, nothing started, nothing published."""
        pid, entry_id = self.submit(single_json(), hash_extra={"state": "done"})
        self.relay.wait_log(f"{pid}: already done")
        self.wait_acked()
        self.assertFalse(self.r.exists(events_key(pid)))
        self.assertEqual(self.root.call("ListGenerations"), [])

    @relay_args("--max-active", "1")
    def test_reads_no_more_than_it_has_room_for(self):
        """With --max-active 1 the relay holds one entry at a time: the
        others stay undelivered in the stream until it is done."""
        first, _ = self.submit(batch_json(BATCH))
        second, _ = self.submit(single_json())
        wait_until(lambda: self.gen_hash(first).get("state") == b"running", 30,
                   "the first running")
        spin(0.3)
        info = self.r.xinfo_groups(REQUESTS)[0]
        self.assertEqual(info["pending"], 1, info)
        self.assertFalse(self.r.exists(events_key(second)))
        self.wait_terminal(first, 120)
        events = self.wait_terminal(second)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.wait_acked()


class BadEntryTests(RelayTestCase):

    def test_bad_entries_are_acked_and_logged(self):
        """Hostile entries (wrong params type, bad ids, params not in
        normal form, missing fields, owner_label in the options, a user
        that is not the hash's, a bad at_ms): each acknowledged and logged,
        nothing started, nothing published; the relay goes on."""
        good = params_bytes(single_json())
        non_normal = bytearray(good)
        # a padding byte before the options (aligned to 8) made non-zero:
        # still readable, not normal form
        pad = good.index(b"\x00", good.index(b"}\x00") + 2)
        non_normal[pad] = 0x41
        variant = GLib.Variant.new_from_bytes(GLib.VariantType.new("(sssa{sv})"),
                                              GLib.Bytes.new(bytes(non_normal)), False)
        self.assertFalse(variant.is_normal_form())
        now = int(time.time() * 1000)
        pid = os.urandom(16).hex()
        cases = {
            "wrong params type": {"id": pid, "user": "alice", "at_ms": now,
                                  "params": GLib.Variant("(ss)", ("a", "b"))
                                  .get_data_as_bytes().get_data()},
            "short id": {"id": "abc", "user": "alice", "params": good, "at_ms": now},
            "upper-case id": {"id": pid.upper(), "user": "alice", "params": good,
                              "at_ms": now},
            "non-normal params": {"id": pid, "user": "alice", "params": bytes(non_normal),
                                  "at_ms": now},
            "truncated params": {"id": pid, "user": "alice", "params": good[:-3],
                                 "at_ms": now},
            "no params": {"id": pid, "user": "alice", "at_ms": now},
            "no id": {"user": "alice", "params": good, "at_ms": now},
            "no user": {"id": pid, "params": good, "at_ms": now},
            "no at_ms": {"id": pid, "user": "alice", "params": good},
            "bad at_ms": {"id": pid, "user": "alice", "params": good, "at_ms": "-12x"},
            "user with a control character": {"id": pid, "user": "al\x07ice",
                                              "params": good, "at_ms": now},
            "owner_label in options": {
                "id": pid, "user": "alice", "at_ms": now,
                "params": params_bytes(single_json(), owner_label="mallory")},
            "another user than the hash's": {"id": pid, "user": "bob", "params": good,
                                             "at_ms": now},
        }
        for what, fields in cases.items():
            with self.subTest(what):
                _, entry_id = self.submit(single_json(), pid=pid, fields=fields)
                self.relay.wait_log(f"Ignoring request {entry_id}", what=f"{what} logged")
                self.wait_acked()
        self.assertFalse(self.r.exists(events_key(pid)))
        self.assertEqual(self.gen_hash(pid)["state"], b"queued")
        self.assertEqual(self.root.call("ListGenerations"), [])
        # still working
        ok, _ = self.submit(single_json())
        self.assertEqual(self.wait_terminal(ok)[-1][1]["status"], "completed")


class CancelTests(RelayTestCase):

    def test_cancel_via_control_stream(self):
        """cmd cancel on certgen:host:host1:control cancels the running
        generation on certgend; the terminal cancelled event is the last."""
        pid, _ = self.submit(batch_json(BATCH))
        wait_until(lambda: self.gen_hash(pid).get("state") == b"running", 30, "running")
        local_id = self.gen_hash(pid)["local_id"].decode()
        # not ours, and not a command: both only logged
        other = os.urandom(16).hex()
        self.r.xadd(control_key("host1"), {"cmd": "cancel", "id": other})
        self.r.xadd(control_key("host1"), {"cmd": "reboot", "id": pid})
        self.r.xadd(control_key("host1"), {"cmd": "cancel", "id": pid})
        events = self.wait_terminal(pid, 60)
        self.assert_events_sound(pid, events)
        self.assertEqual(events[-1][1]["status"], "cancelled")
        self.assertEqual(self.root.progress(local_id)["status"], "cancelled")
        self.wait_acked()
        self.assertEqual(self.gen_hash(pid)["status"], b"cancelled")
        self.assertFalse(self.r.exists(file_key(pid)))
        text = self.relay.text()
        self.assertIn(f"Cancel of {other}: not a generation this host runs", text)
        self.assertIn("Ignoring control entry", text)

    def test_queued_cancel_requested(self):
        """A request whose hash has cancel_requested: one cancelled event,
        never started on certgend."""
        pid, _ = self.submit(single_json(), hash_extra={"cancel_requested": 1})
        events = self.wait_terminal(pid)
        self.assertEqual(len(events), 1, events)
        self.assert_events_sound(pid, events)
        self.assertEqual(events[0][1]["status"], "cancelled")
        self.wait_acked()
        self.assertEqual(self.root.call("ListGenerations"), [])
        h = self.gen_hash(pid)
        self.assertEqual((h["state"], h["status"]), (b"done", b"cancelled"))


class TakeoverTests(RelayTestCase):

    def second_host(self):
        """A second host: its own private bus and certgend -> its bus."""
        host2 = PrivateBus(BUILD_ROOT, config={
            "limits": {"start_per_minute": 1000, "max_active": 32},
            "cleanup": {"finished_ttl_s": 600, "max_age_s": 1800},
            "workers": {"threads": 2}})
        host2.__enter__()
        self.addCleanup(host2.__exit__, None, None, None)
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        return host2

    @relay_args("--claim-timeout-ms", str(CLAIM_MS), "--file-max-bytes", "1000")
    def test_heartbeat_keeps_a_long_generation(self):
        """A generation running for several claim timeouts stays with its
        host while that host re-claims it: a second host, taking over
        whatever is idle, never takes it."""
        pid, entry_id = self.submit(batch_json(LONG_BATCH))
        wait_until(lambda: self.gen_hash(pid).get("state") == b"running", 30, "running")
        host2 = self.second_host()
        relay2 = self.start_relay("host2", host2.address, ["--claim-timeout-ms", str(CLAIM_MS)])
        started = time.monotonic()
        events = self.wait_terminal(pid, 120)
        self.assertGreater(time.monotonic() - started, 2 * CLAIM_MS / 1000,
                           "the batch ended within two claim timeouts: too short to tell")
        self.assert_events_sound(pid, events)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.assertEqual(self.gen_hash(pid)["host"], b"host1")
        self.assertNotIn("Took over", relay2.text())
        self.assertFalse(any("resumed on" in u["message"] for _, u, _ in events))
        self.wait_acked()

    @relay_args("--claim-timeout-ms", "1500")
    def test_takeover_after_sigkill(self):
        """SIGKILL the relay mid-batch: a relay on a second host (its own
        bus and certgend) takes the entry over after the claim timeout and
        continues the same id: sequences go on, progress never goes down,
        its first update says "resumed on host2", the terminal arrives.
        The first host's certgend cancels the orphan (cancel_on_disconnect)."""
        pid, _ = self.submit(batch_json(BATCH))
        wait_until(lambda: int(self.gen_hash(pid).get("last_seq", 0)) >= 3
                   and float(self.gen_hash(pid).get("progress", 0)) > 0, 60,
                   "a few updates published")
        local_1 = self.gen_hash(pid)["local_id"].decode()
        self.relay.kill()
        before = self.events(pid)
        self.assertNotIn(before[-1][1]["status"], ("completed",))

        host2 = self.second_host()
        relay2 = self.start_relay("host2", host2.address, ["--claim-timeout-ms", "1500"])

        events = self.wait_terminal(pid, 180)
        self.assert_events_sound(pid, events)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.assertEqual(events[:len(before)], before, "published events changed")
        resumed = events[len(before)][1]
        self.assertEqual(resumed["message"], "resumed on host2", resumed)
        self.wait_acked()
        h = self.gen_hash(pid)
        self.assertEqual(h["host"], b"host2")
        self.assertNotEqual(h["local_id"].decode(), local_1)
        self.assertEqual(pdf_pages(self.r.get(file_key(pid))), BATCH)
        self.assertIn("Took over request", relay2.text())
        # the dead relay's generation stopped on host 1
        wait_until(lambda: self.root.progress(local_1)["status"] == "cancelled", 30,
                   "host 1's orphan cancelled")


class RedisLossTests(RelayTestCase):

    def test_redis_restart_mid_run(self):
        """Redis restarted without persistence mid-batch: the generation
        goes on, the relay makes the group and the hash again, and the
        rest of the updates and the terminal arrive."""
        pid, _ = self.submit(batch_json(BATCH))
        wait_until(lambda: int(self.gen_hash(pid).get("last_seq", 0)) >= 2, 60,
                   "a few updates published")
        self.redis_server.stop()
        spin(0.5)
        self.redis_server.start()
        self.relay.wait_log(r"Connected to Redis .*\n(.|\n)*Connected to Redis", 20,
                            "the relay reconnected")
        events = self.wait_terminal(pid, 120)
        self.assertEqual(events[-1][1]["status"], "completed")
        seqs = [u["sequence"] for _, u, _ in events]
        self.assertEqual(seqs, sorted(seqs))
        h = self.gen_hash(pid)
        self.assertEqual((h["state"], h["user"], h["host"]), (b"done", b"alice", b"host1"))
        self.assertEqual(int(h["last_seq"]), seqs[-1])
        self.assertTrue(self.r.sismember("certgen:user:alice:gens", pid))
        self.assertEqual(pdf_pages(self.r.get(file_key(pid))), BATCH)
        # the group is there again and the relay still takes requests
        ok, _ = self.submit(single_json())
        self.assertEqual(self.wait_terminal(ok)[-1][1]["status"], "completed")


class RedisLossWhileRunningTests(RelayTestCase):

    @relay_args("--file-max-bytes", "1000")
    def test_hash_rewritten_while_running(self):
        """Redis restarted without persistence while a long batch runs: the
        relay writes the hash again (running, its user, its host) before the
        generation ends, and the events it publishes from then on are
        consecutive, progress not going down, up to the terminal."""
        pid, _ = self.submit(batch_json(LONG_BATCH))
        wait_until(lambda: int(self.gen_hash(pid).get("last_seq", 0)) >= 2, 60,
                   "a few updates published")
        self.redis_server.stop()
        self.redis_server.start()
        self.assertFalse(self.r.exists(gen_key(pid)))

        def rewritten():
            h = self.gen_hash(pid)
            return h.get("state") is not None and h
        h = wait_until(rewritten, 20, "the hash written again")
        self.assertEqual((h["state"], h["user"], h["host"]), (b"running", b"alice", b"host1"))
        self.assertTrue(self.r.sismember("certgen:user:alice:gens", pid))
        events = self.wait_terminal(pid, 120)
        self.assert_events_sound(pid, events, first_seq=events[0][1]["sequence"])
        # the earlier events are gone with Redis, except the last one before
        # the restart, which the relay published again with the hash
        self.assertGreater(events[0][1]["sequence"], 1, events[0])
        self.assertEqual(events[-1][1]["status"], "completed")
        self.assertEqual(self.gen_hash(pid)["file_error"], b"too_large")


class CertgendLossTests(RelayTestCase):

    @relay_args("--claim-timeout-ms", "1500")
    def test_certgend_leaving_stops_taking(self):
        """certgend leaving the bus: the relay drops its running generation
        without acknowledging it and takes nothing new; once certgend is
        back the relay takes the stale entry again and finishes it."""
        pid, _ = self.submit(batch_json(BATCH))
        wait_until(lambda: self.gen_hash(pid).get("state") == b"running", 30, "running")
        self.stop_daemon()
        self.relay.wait_log(f"{pid}: leaving it to another host: certgend left the bus")
        self.assertEqual(self.n_pending(), 1)
        queued, _ = self.submit(single_json())
        spin(2.0)
        self.assertFalse(self.r.exists(events_key(queued)))
        self.start_daemon()
        events = self.wait_terminal(pid, 180)
        self.assertEqual(events[-1][1]["status"], "completed")
        self.assert_events_sound(pid, events)
        self.assertTrue(any(u["message"] == "resumed on host1" for _, u, _ in events))
        self.assertEqual(self.wait_terminal(queued)[-1][1]["status"], "completed")
        self.wait_acked()


if __name__ == "__main__":
    main()

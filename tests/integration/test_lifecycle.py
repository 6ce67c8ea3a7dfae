#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: what happens to a generation over time:
coalescing, cancellation, timeout, cleanup ages, disconnects, SIGTERM."""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (BIG_BATCH, ERROR_PREFIX, STAGES, TIMEOUT_FACTOR, CertgenTestCase,
                        DBusCallError, batch_json, daemon_config, drain_main_context, main,
                        multi_uid_unavailable_reason, ensure_test_users, single_json,
                        stage_sequence, wait_until)


def in_stage_updates(updates, stage):
    """Updates that stayed inside `stage` (not the first of the stage, not terminal)."""
    out = []
    for prev, cur in zip(updates, updates[1:]):
        if cur["stage"] == stage and prev["stage"] == stage and cur["status"] == "in_progress":
            out.append(cur)
    return out


class LifecycleTests(CertgenTestCase):

    def other_user(self):
        """certgen-test1 when the suite can switch uids, else the test's own uid."""
        if multi_uid_unavailable_reason() is None:
            ensure_test_users()
            return "certgen-test1"
        return None

    def test_coalescing(self):
        """update_interval_ms=1000 sends at most about one in-stage update per
        second of pdf_generation; 0 sends many. Stage changes always go out."""
        n = 300
        pid_fast = self.root.start(batch_json(n), update_interval_ms=0, transaction="tx-fast")
        self.root.wait_terminal(pid_fast, 60)
        pid_slow = self.root.start(batch_json(n), update_interval_ms=1000, transaction="tx-slow")
        self.root.wait_terminal(pid_slow, 60)
        fast = self.root.updates[pid_fast]
        slow = self.root.updates[pid_slow]
        for updates in (fast, slow):
            self.assertEqual(updates[-1]["status"], "completed", updates[-1])
            self.assertEqual(stage_sequence(updates), STAGES)
            self.assert_sequence_consecutive(updates)
        pdf_ms = self.root.call("GetAnalytics", pid_slow)["stage_durations"]["pdf_generation"]
        slow_in_stage = in_stage_updates(slow, "pdf_generation")
        fast_in_stage = in_stage_updates(fast, "pdf_generation")
        self.assertLessEqual(len(slow_in_stage), pdf_ms / 1000 + 2,
                             f"{len(slow_in_stage)} in-stage updates in {pdf_ms} ms "
                             "with update_interval_ms=1000")
        # ... and each in-stage update came at least an interval after the
        # previous update of that stage (timestamps of sending, 10% slack)
        for prev, cur in zip(slow, slow[1:]):
            if cur["stage"] == prev["stage"] and cur["status"] == "in_progress":
                self.assertGreaterEqual(cur["timestamp_us"] - prev["timestamp_us"], 900_000,
                                        f"in-stage updates too close: {prev} / {cur}")
        self.assertGreaterEqual(len(fast_in_stage), 20,
                                "update_interval_ms=0 should send (nearly) every page")
        self.assertGreater(len(fast_in_stage), 3 * len(slow_in_stage))
        # interval 0: page counters seen one by one up to the total
        pages = [u["pages_done"] for u in fast if u["stage"] == "pdf_generation"]
        self.assertEqual(pages, sorted(pages))
        self.assertEqual(max(u["pages_done"] for u in fast), n)

    def test_cancel_mid_batch(self):
        """Cancel once pdf_generation runs: terminal 'cancelled' soon, the work
        stops, no .pdf and no temporary file left."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=200)
        self.root.wait_stage(pid, "pdf_generation")
        self.root.call("Cancel", pid)
        t0 = time.monotonic()
        final = self.root.wait_terminal(pid, 10)
        self.assertEqual(final["status"], "cancelled", final)
        self.assertLess(final["pages_done"], BIG_BATCH)
        self.assertNotIn("result", final)
        self.assertLess(time.monotonic() - t0, 5 * TIMEOUT_FACTOR)
        snap = self.assert_terminal_last(self.root, pid)
        self.assertEqual(snap["status"], "cancelled")
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])
        self.assert_work_stopped()
        self.assertEqual(self.root.call("GetAnalytics", pid)["status"], "cancelled")
        # progress never went down, even at the end
        progress = [u["progress"] for u in self.root.updates[pid]]
        self.assertEqual(progress, sorted(progress))
        self.assert_healthy()

    def test_cancel_right_after_start(self):
        """Cancel in the first stages also ends 'cancelled' with no file."""
        pid = self.root.start(batch_json(BIG_BATCH))
        self.root.call("Cancel", pid)
        final = self.root.wait_terminal(pid, 10)
        self.assertEqual(final["status"], "cancelled", final)
        self.assert_terminal_last(self.root, pid)
        self.assert_no_file_for(pid)
        self.assert_healthy()

    def test_timeout(self):
        """timeout_ms=200 on a big batch: 'timed_out', work stopped, no file."""
        pid = self.root.start(batch_json(BIG_BATCH), timeout_ms=200)
        final = self.root.wait_terminal(pid, 10)
        self.assertEqual(final["status"], "timed_out", final)
        self.assertNotIn("result", final)
        elapsed_ms = (final["timestamp_us"] - final["started_at_us"]) / 1000
        self.assertGreaterEqual(elapsed_ms, 190)
        self.assertLess(elapsed_ms, 5000 * TIMEOUT_FACTOR)
        self.assert_terminal_last(self.root, pid)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])
        self.assert_work_stopped()
        self.assertEqual(self.root.call("GetAnalytics", pid)["status"], "timed_out")
        self.assertDBusError("AlreadyFinished", self.root.call, "Cancel", pid)
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assert_healthy()

    @daemon_config(cleanup={"finished_ttl_s": 1})
    def test_finished_ttl(self):
        """finished_ttl_s=1: a finished generation is forgotten (NotFound) and
        its file deleted a little later."""
        pid, updates = self.run_to_end(single_json())
        self.assertEqual(updates[-1]["status"], "completed")
        self.assertTrue(os.path.isfile(self.cert_path(pid)))

        def forgotten():
            try:
                self.root.progress(pid)
                return False
            except Exception as e:  # pylint: disable=broad-except
                self.assertEqual(getattr(e, "name", ""),
                                 "org.certgen.Certificates1.Error.NotFound", e)
                return True
        wait_until(forgotten, 6, "the finished generation to be forgotten")
        wait_until(lambda: not os.path.exists(self.cert_path(pid)), 3, "the file to be deleted")
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertDBusError("NotFound", self.root.open_certificate, pid)
        self.assert_healthy()

    @daemon_config(cleanup={"finished_ttl_s": 1, "max_age_s": 2})
    def test_finished_ttl_keeps_persistent_result(self):
        """enable_persistence=true: neither finished_ttl_s nor max_age_s
        forget a persistent result (keep_days does); its file stays."""
        pid, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(updates[-1]["status"], "completed")
        time.sleep(3.5)  # finished_ttl_s is 1 here, max_age_s 2
        self.assertEqual(self.root.progress(pid)["status"], "completed")
        self.assertTrue(os.path.isfile(self.cert_path(pid)))

    @daemon_config(cleanup={"max_age_s": 1})
    def test_max_age_forgets_running(self):
        """max_age_s=1: even a running generation is forgotten (cancelled first,
        so its file never appears and the starter gets a terminal update).
        The batch must outlast max_age_s: BIG_BATCH (2,000 pages) ends in
        under a second since issue 12's faster join, so four times that."""
        pid = self.root.start(batch_json(4 * BIG_BATCH))
        self.root.wait_stage(pid, "pdf_generation")

        def forgotten():
            return not any(s["progress_id"] == pid for s in self.root.call("ListGenerations"))
        wait_until(forgotten, 8, "the old generation to be forgotten")
        self.assertDBusError("NotFound", self.root.progress, pid)
        final = self.root.wait_terminal(pid, 5)
        # DESIGN.md only says it is forgotten; data/certgen.conf says it is
        # cancelled first. Either way the work ended without a result.
        self.assertIn(final["status"], ("cancelled", "timed_out"), final)
        self.assertNotIn("result", final)
        # forgotten with the terminal update sent at once: the worker may
        # still be stopping, but its temporary file must go away
        wait_until(lambda: not self.files_of(pid), 5, f"no files of {pid}")
        self.assert_work_stopped()

    def test_cancel_on_disconnect(self):
        """cancel_on_disconnect=true: the starter leaves the bus mid-batch, the
        generation ends 'cancelled' (seen by root, who manages all)."""
        client = self.spawn_client(self.other_user())
        reply = client.start(batch_json(BIG_BATCH), cancel_on_disconnect=True)
        self.assertTrue(reply["ok"], reply)
        pid = reply["value"]
        self.assertTrue(client.wait_signal(id=pid, stage="pdf_generation"))
        client.close()
        wait_until(lambda: self.root.progress(pid)["status"] != "in_progress", 10,
                   "the generation to end after its starter left")
        self.assertEqual(self.root.progress(pid)["status"], "cancelled")
        self.assert_no_file_for(pid)
        self.assert_work_stopped()
        self.assert_healthy()

    def test_no_cancel_on_disconnect_by_default(self):
        """Without cancel_on_disconnect the generation outlives its starter."""
        client = self.spawn_client(self.other_user())
        reply = client.start(batch_json(100))
        self.assertTrue(reply["ok"], reply)
        pid = reply["value"]
        client.close(kill=True)
        wait_until(lambda: self.root.progress(pid)["status"] != "in_progress", 30,
                   "the generation to end")
        snap = self.root.progress(pid)
        self.assertEqual(snap["status"], "completed", snap)
        self.assertTrue(os.path.isfile(self.cert_path(pid)))

    def test_subscriber_disconnects(self):
        """A subscriber killed mid-generation: the daemon keeps working, the
        starter gets everything to the end, later calls succeed."""
        pid = self.root.start(batch_json(300), update_interval_ms=20)
        sub = self.spawn_client()
        self.assertTrue(sub.call("Subscribe", pid)["ok"])
        self.assertTrue(sub.wait_signal(id=pid, count=2))
        sub.close(kill=True)
        final = self.root.wait_terminal(pid, 60)
        self.assertEqual(final["status"], "completed", final)
        self.assert_sequence_consecutive(self.root.updates[pid])
        self.assert_terminal_last(self.root, pid)
        # and an in-process subscriber whose connection closes mid-run
        pid2 = self.root.start(batch_json(300), update_interval_ms=20)
        sub2 = self.new_client()
        sub2.call("Subscribe", pid2)
        wait_until(lambda: len(sub2.updates.get(pid2, [])) >= 1, 20, "a subscriber update")
        sub2.close()
        self.assertEqual(self.root.wait_terminal(pid2, 60)["status"], "completed")
        self.assertEqual(len(self.root.call("ListGenerations")), 2)
        self.assert_healthy()

    def test_no_broadcast(self):
        """Updates go to the starter only: another connection with a match
        rule (even eavesdrop='true') that did not Subscribe receives nothing."""
        watcher = self.new_client()
        watcher.add_match("type='signal',interface='org.certgen.Certificates1.Manager'")
        try:
            watcher.add_match("type='signal',interface='org.certgen.Certificates1.Manager',"
                              "eavesdrop='true'")
        except Exception:  # pylint: disable=broad-except
            pass  # refusing the eavesdrop rule is fine too
        pid, updates = self.run_to_end(batch_json(5), update_interval_ms=0)
        self.assertGreater(len(updates), 7)
        watcher.progress(pid)  # a round trip: anything sent before has arrived
        drain_main_context()
        self.assertEqual(watcher.received, [])

    def test_sigterm_mid_generation(self):
        """SIGTERM while a big batch renders: exit 0 quickly, no partial or
        temporary file left."""
        pid = self.root.start(batch_json(BIG_BATCH), enable_persistence=True)
        self.root.wait_stage(pid, "pdf_generation")
        t0 = time.monotonic()
        self.stop_daemon()
        self.assertLess(time.monotonic() - t0, 5 * TIMEOUT_FACTOR)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])


    def test_sigterm_forgets_finished(self):
        """Stopping forgets every generation: files without persistence are
        deleted (nobody could fetch them again), persistent ones stay."""
        plain, _ = self.run_to_end(single_json())
        kept, _ = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(self.cert_dir_entries(), sorted([f"{plain}.pdf", f"{kept}.pdf"]))
        self.stop_daemon()
        self.assertEqual(self.cert_dir_entries(), [f"{kept}.pdf"])



class QueuedCancelTests(CertgenTestCase):
    """Issue 15 item 4: a generation still waiting for a worker ends as soon
    as it is cancelled or times out, frees its place, and the worker never
    runs it (one worker, kept busy by a big batch)."""

    def start_busy(self):
        busy = self.root.start(batch_json(BIG_BATCH), transaction="tx-busy")
        self.root.wait_stage(busy, "pdf_generation")
        return busy

    def end_busy(self, busy):
        self.root.call("Cancel", busy)
        self.assertEqual(self.root.wait_terminal(busy)["status"], "cancelled")

    def assert_never_ran(self, pid):
        """Only the updates of the main loop: no stage a worker reports."""
        stages = {u["stage"] for u in self.root.updates[pid]}
        self.assertEqual(stages, {"initializing"}, self.root.updates[pid])
        self.assert_no_file_for(pid)

    @daemon_config(workers={"threads": 1})
    def test_cancel_queued(self):
        """Cancel on a queued generation: cancelled within 100 ms, and after
        the worker is free nothing more is sent for it."""
        busy = self.start_busy()
        queued = self.root.start(single_json(), transaction="tx-queued")
        t0 = time.monotonic()
        self.root.call("Cancel", queued)
        final = self.root.wait_terminal(queued, 5)
        elapsed = time.monotonic() - t0
        self.assertEqual(final["status"], "cancelled", final)
        self.assertLess(elapsed, 0.1 * TIMEOUT_FACTOR, f"cancelled after {elapsed:.3f} s")
        self.assertEqual(self.root.progress(busy)["status"], "in_progress")
        self.end_busy(busy)
        self.assert_healthy()  # the worker went past it
        self.assert_terminal_last(self.root, queued)
        self.assert_never_ran(queued)

    @daemon_config(workers={"threads": 1})
    def test_timeout_queued(self):
        """timeout_ms on a queued generation: timed_out within 100 ms of the
        deadline, not when the worker gets to it."""
        busy = self.start_busy()
        t0 = time.monotonic()
        queued = self.root.start(single_json(), transaction="tx-queued", timeout_ms=300)
        final = self.root.wait_terminal(queued, 5)
        elapsed = time.monotonic() - t0
        self.assertEqual(final["status"], "timed_out", final)
        self.assertLess(elapsed, 0.3 + 0.1 * TIMEOUT_FACTOR, f"timed out after {elapsed:.3f} s")
        self.assertEqual(self.root.progress(busy)["status"], "in_progress")
        self.end_busy(busy)
        self.assert_healthy()
        self.assert_terminal_last(self.root, queued)
        self.assert_never_ran(queued)

    @daemon_config(workers={"threads": 1}, limits={"max_active": 2})
    def test_cancel_queued_frees_slot(self):
        """A cancelled queued generation stops counting against the caps at
        once: another can start right away."""
        busy = self.start_busy()
        queued = self.root.start(single_json(), transaction="tx-queued")
        self.assertDBusError("LimitExceeded", self.root.start, single_json())
        self.root.call("Cancel", queued)
        self.root.wait_terminal(queued, 5)
        again = self.root.start(single_json(), transaction="tx-again")
        self.end_busy(busy)
        self.assertEqual(self.root.wait_terminal(again)["status"], "completed")

    @daemon_config(workers={"threads": 1})
    def test_sigterm_with_queued(self):
        """SIGTERM with one generation running and others queued: exit 0,
        nothing left in the state directory."""
        busy = self.start_busy()
        queued = [self.root.start(single_json(), transaction=f"tx-q{i}") for i in range(3)]
        self.stop_daemon()
        for pid in [busy] + queued:
            self.assert_no_file_for(pid)


class CancelRaceTests(CertgenTestCase):
    """Issue 15 item 5: Cancel timed around the end of a generation either
    wins (cancelled, no file) or answers AlreadyFinished; never success
    followed by completed."""

    RUNS = 300

    def test_cancel_at_completion(self):
        outcomes = {"cancelled": 0, "already_finished": 0}
        client = self.root
        for i in range(self.RUNS):
            pid = client.start(single_json(), transaction=f"tx-race-{i}", update_interval_ms=0)
            # aim at the end: the last stage the worker reports, then a
            # delay that walks across the completion over the runs
            client.wait_stage(pid, "file_preparation")
            time.sleep((i % 10) * 0.0005)
            try:
                client.call("Cancel", pid)
                accepted = True
            except DBusCallError as e:
                self.assertEqual(e.name, ERROR_PREFIX + "AlreadyFinished", e)
                accepted = False
            final = client.wait_terminal(pid, 20)
            if accepted:
                self.assertEqual(final["status"], "cancelled",
                                 f"run {i}: Cancel succeeded, then {final['status']}")
                self.assertFalse(os.path.exists(self.cert_path(pid)),
                                 f"run {i}: cancelled, but the file is there")
                outcomes["cancelled"] += 1
            else:
                self.assertEqual(final["status"], "completed", final)
                self.assertTrue(os.path.isfile(self.cert_path(pid)))
                outcomes["already_finished"] += 1
            self.assertEqual(client.progress(pid)["status"], final["status"])
            client.call("Cleanup")
        sys.stderr.write(f"outcomes over {self.RUNS} runs: {outcomes}\n")
        self.assertEqual(self.cert_dir_entries(), [])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: every method's success path, the stage
sequence, the update and result keys (DESIGN.md, D-Bus contract)."""

import errno
import fcntl
import hashlib
import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (BIG_BATCH, BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SOURCE_ROOT, STAGES,
                        UPDATE_KEYS, CertgenTestCase, GLib, batch_json, drain_main_context,
                        main, no_daemon, sha256_file, single_json, this_year_prefixes,
                        read_to_end, stage_sequence, wait_until)

CERT_NUMBER = re.compile(r"^CERT(\d{4})(\d{6})$")


def project_version():
    with open(os.path.join(SOURCE_ROOT, "meson.build"), encoding="utf-8") as f:
        return re.search(r"version:\s*'([^']+)'", f.read()).group(1)


class ManagerTests(CertgenTestCase):

    def test_version_property(self):
        """Version via org.freedesktop.DBus.Properties Get and GetAll; the bus
        policy lets callers use Properties, Introspectable and Peer."""
        (value,) = self.root.raw_call(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties",
                                      "Get", GLib.Variant("(ss)", (MANAGER_IFACE, "Version")),
                                      "(v)").unpack()
        self.assertEqual(value, project_version())
        (props,) = self.root.raw_call(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties",
                                      "GetAll", GLib.Variant("(s)", (MANAGER_IFACE,)),
                                      "(a{sv})").unpack()
        self.assertEqual(props, {"Version": project_version()})
        (xml,) = self.root.raw_call(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Introspectable",
                                    "Introspect", None, "(s)").unpack()
        self.assertIn(f'<interface name="{MANAGER_IFACE}">', xml)
        for method in ("StartGeneration", "Cancel", "GetProgress", "GetAnalytics", "Subscribe",
                       "Unsubscribe", "ListGenerations", "OpenCertificate", "Cleanup",
                       "ListTemplates"):
            self.assertIn(f'<method name="{method}">', xml)
        self.assertIn('<signal name="ProgressChanged">', xml)
        self.root.raw_call(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", None, None)

    def test_single_generation_stages(self):
        """One recipient: every stage in order, consecutive sequence, monotonic
        progress, terminal update last and equal to GetProgress."""
        pid = self.root.start(single_json(), transaction="tx-stages")
        self.assertRegex(pid, r"^[0-9a-f]{32}$")
        self.root.wait_terminal(pid)
        updates = self.root.updates[pid]
        for u in updates:
            self.assert_update_shape(u)
            self.assertEqual(u["progress_id"], pid)
            self.assertEqual(u["transaction_id"], "tx-stages")
        self.assertEqual(stage_sequence(updates), STAGES)
        self.assert_sequence_consecutive(updates)
        progress = [u["progress"] for u in updates]
        self.assertEqual(progress, sorted(progress), "progress went down")
        self.assertEqual([u["status"] for u in updates[:-1]], ["in_progress"] * (len(updates) - 1))
        last = updates[-1]
        self.assertEqual(last["status"], "completed")
        self.assertEqual(last["stage"], "completed")
        self.assertEqual(last["stage_index"], 6)
        self.assertEqual(last["progress"], 100.0)
        self.assertEqual(last["pages_done"], 1)
        self.assertEqual(last["pages_total"], 1)
        self.assertNotIn("error", last)
        started = {u["started_at_us"] for u in updates}
        self.assertEqual(len(started), 1, "started_at_us changed")
        stamps = [u["timestamp_us"] for u in updates]
        self.assertEqual(stamps, sorted(stamps))
        self.assertGreaterEqual(stamps[0], started.pop())
        snap = self.assert_terminal_last(self.root, pid)
        self.assertEqual(snap["result"], last["result"])
        # timestamps are CLOCK_REALTIME microseconds
        self.assertLess(abs(last["timestamp_us"] / 1e6 - time.time()), 30)

    def test_single_result(self):
        """result: certificate_number CERT<year><6 digits>, file_size and
        checksum of the file in <state>/certificates/<id>.pdf, pages 1."""
        pid, updates = self.run_to_end(single_json())
        result = updates[-1]["result"]
        self.assertTrue({"certificate_number", "file_size", "checksum", "pages"} <= set(result),
                        result)
        m = CERT_NUMBER.match(result["certificate_number"])
        self.assertIsNotNone(m, result["certificate_number"])
        self.assertIn(f"CERT{m.group(1)}", this_year_prefixes())
        path = self.cert_path(pid)
        self.assertTrue(os.path.isfile(path), self.cert_dir_entries())
        self.assertEqual(result["file_size"], os.path.getsize(path))
        self.assertEqual(result["checksum"], sha256_file(path))
        self.assertRegex(result["checksum"], r"^[0-9a-f]{64}$")
        self.assertEqual(result["pages"], 1)
        with open(path, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        self.assertEqual([e for e in self.cert_dir_entries() if e.startswith(".")], [])
        self.assertTrue(os.path.isfile(os.path.join(self.state_dir, "registry.db")))
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "counter")))

    def test_batch_result_numbers(self):
        """A batch: one page per recipient, consecutive certificate numbers
        from certificate_number to last_certificate_number."""
        n = 5
        pid, updates = self.run_to_end(batch_json(n))
        last = updates[-1]
        self.assertEqual(last["status"], "completed", last)
        result = last["result"]
        self.assertEqual(result["pages"], n)
        self.assertEqual(last["pages_total"], n)
        self.assertEqual(last["pages_done"], n)
        first = CERT_NUMBER.match(result["certificate_number"])
        final = CERT_NUMBER.match(result["last_certificate_number"])
        self.assertIsNotNone(first, result)
        self.assertIsNotNone(final, result)
        self.assertEqual(first.group(1), final.group(1))
        self.assertEqual(int(final.group(2)) - int(first.group(2)), n - 1)
        self.assertEqual(result["file_size"], os.path.getsize(self.cert_path(pid)))
        self.assertEqual(result["checksum"], sha256_file(self.cert_path(pid)))
        # pages_done/pages_total advance during pdf_generation
        pages = [u["pages_done"] for u in updates]
        self.assertEqual(pages, sorted(pages))
        self.assertTrue(all(u["pages_total"] in (0, n) for u in updates))

        # the next generation gets new, higher numbers
        pid2, updates2 = self.run_to_end(single_json())
        nxt = CERT_NUMBER.match(updates2[-1]["result"]["certificate_number"])
        self.assertGreater(int(nxt.group(2)), int(final.group(2)))

    def test_concurrent_numbers_unique(self):
        """Batches running at the same time get disjoint number ranges."""
        pids = [self.root.start(batch_json(20), transaction=f"tx-{i}") for i in range(3)]
        ranges = []
        for pid in pids:
            final = self.root.wait_terminal(pid, 60)
            self.assertEqual(final["status"], "completed", final)
            first = int(CERT_NUMBER.match(final["result"]["certificate_number"]).group(2))
            last = int(CERT_NUMBER.match(final["result"]["last_certificate_number"]).group(2))
            self.assertEqual(last - first, 19)
            ranges.append(set(range(first, last + 1)))
        self.assertEqual(len(set().union(*ranges)), 60, "certificate numbers overlap")

    def test_starter_subscribe_no_duplicates(self):
        """A starter that also Subscribes gets every update once."""
        pid = self.root.start(batch_json(300), update_interval_ms=20)
        self.root.call("Subscribe", pid)
        final = self.root.wait_terminal(pid, 60)
        self.assertEqual(final["status"], "completed")
        self.assert_sequence_consecutive(self.root.updates[pid])
        self.assert_terminal_last(self.root, pid)

    @no_daemon
    def test_counter_survives_restart(self):
        """Certificate numbers continue after a restart (counter in the state dir)."""
        self.start_daemon()
        _, updates = self.run_to_end(single_json())
        first = CERT_NUMBER.match(updates[-1]["result"]["certificate_number"])
        self.stop_daemon()
        for c in self.clients:
            c.close()
        self.clients = []
        self.start_daemon()
        _, updates = self.run_to_end(single_json())
        second = CERT_NUMBER.match(updates[-1]["result"]["certificate_number"])
        self.assertGreater(int(second.group(2)), int(first.group(2)))

    def test_get_progress(self):
        """GetProgress while running and when finished: the update keys, and
        the sequence of the last update sent."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=100)
        snap = self.root.progress(pid)
        self.assert_update_shape(snap)
        self.assertEqual(snap["progress_id"], pid)
        self.assertEqual(snap["transaction_id"], "tx-test")
        self.assertTrue(snap["cancellable"])
        self.assertNotIn("result", snap)
        self.root.wait_stage(pid, "pdf_generation")
        snap = self.root.progress(pid)
        drain_main_context()
        self.assertEqual(snap["status"], "in_progress")
        self.assertEqual(snap["pages_total"], BIG_BATCH)
        # every update sent before the reply has arrived before it
        self.assertEqual(snap["sequence"], self.root.updates[pid][-1]["sequence"])
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)
        snap = self.assert_terminal_last(self.root, pid)
        self.assertEqual(snap["status"], "cancelled")

    def test_snapshot_time_is_the_last_update(self):
        """A later GetProgress of a finished generation tells when its last
        update was sent, not when it was asked (issue 10 item 8)."""
        pid, updates = self.run_to_end(single_json())
        time.sleep(1.2)
        asked_at_us = int(time.time() * 1e6)
        snap = self.root.progress(pid)
        self.assertEqual(snap["sequence"], updates[-1]["sequence"])
        # last_sent is kept to the millisecond, rounded up
        self.assertLessEqual(abs(snap["timestamp_us"] - updates[-1]["timestamp_us"]), 1000)
        self.assertLess(snap["timestamp_us"], asked_at_us - 1_000_000)

    def test_expires_at(self):
        """expires_at_us says until when the file stays: while running the
        max_age_s limit, after the end finish + finished_ttl_s (600 s here);
        a persistent generation says 0 and persistent true."""
        pid = self.root.start(batch_json(BIG_BATCH))
        snap = self.root.progress(pid)
        self.assertFalse(snap["persistent"])
        self.assertEqual(snap["expires_at_us"], snap["started_at_us"] + 1800 * 1_000_000)
        self.root.wait_terminal(pid)
        last = self.root.updates[pid][-1]
        self.assertAlmostEqual(last["expires_at_us"], last["timestamp_us"] + 600 * 1_000_000,
                               delta=1_000_000)
        kept, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertTrue(updates[-1]["persistent"])
        self.assertEqual(updates[-1]["expires_at_us"], 0)

    def test_file_appears_atomically(self):
        """No partial file is ever visible: whenever <id>.pdf can be seen it is
        the complete final file; temporary files are hidden dot-files and gone
        at the end."""
        pid = self.root.start(batch_json(300), update_interval_ms=0)
        seen = set()

        def poll():
            for entry in self.cert_dir_entries():
                if entry == f"{pid}.pdf":
                    try:
                        with open(self.cert_path(pid), "rb") as f:
                            data = f.read()
                    except FileNotFoundError:
                        continue
                    seen.add((len(data), data.startswith(b"%PDF-"),
                              b"%%EOF" in data[-32:]))
                else:
                    self.assertTrue(entry.startswith("."), f"visible non-final file {entry}")
            return self.root.terminal_update(pid)
        final = wait_until(poll, 60, "the batch to finish")
        self.assertEqual(final["status"], "completed", final)
        self.assertLessEqual(seen, {(final["result"]["file_size"], True, True)},
                             "a partial <id>.pdf was visible")
        self.assertEqual(self.cert_dir_entries(), [f"{pid}.pdf"])

    def test_expected_end(self):
        """expected_end_us: 0 or an estimate; once half the pages are done it is
        a time after started_at_us and not absurdly far from the real end."""
        pid = self.root.start(batch_json(300), update_interval_ms=0)
        final = self.root.wait_terminal(pid, 60)
        self.assertEqual(final["status"], "completed")
        duration = final["timestamp_us"] - final["started_at_us"]
        late = [u for u in self.root.updates[pid] if u["stage"] == "pdf_generation"
                and u["pages_done"] >= 150 and u["status"] == "in_progress"]
        self.assertTrue(late, "no in-stage updates after half the pages")
        for u in self.root.updates[pid]:
            self.assertTrue(u["expected_end_us"] == 0
                            or u["expected_end_us"] >= u["started_at_us"], u)
        for u in late:
            self.assertGreater(u["expected_end_us"], 0, u)
            self.assertLess(abs(u["expected_end_us"] - final["timestamp_us"]),
                            max(duration, 1_000_000), u)

    def test_get_analytics(self):
        """GetAnalytics: keys and types; a duration for each stage reached."""
        pid, updates = self.run_to_end(batch_json(3))
        a = self.root.call("GetAnalytics", pid)
        self.assertEqual(set(a), {"total_duration_ms", "average_progress_rate",
                                  "stage_durations", "status", "started_at_us",
                                  "finished_at_us"})
        self.assertEqual(a["status"], "completed")
        self.assertEqual(a["started_at_us"], updates[-1]["started_at_us"])
        self.assertGreaterEqual(a["finished_at_us"], a["started_at_us"])
        wall_ms = (a["finished_at_us"] - a["started_at_us"]) / 1000
        self.assertLessEqual(abs(a["total_duration_ms"] - wall_ms), 50, a)
        durations = a["stage_durations"]
        self.assertTrue(set(STAGES[:6]) <= set(durations) <= set(STAGES), durations)
        self.assertLessEqual(sum(durations.values()), a["total_duration_ms"] + len(durations))
        self.assertIsInstance(a["average_progress_rate"], float)
        self.assertGreater(a["average_progress_rate"], 0.0)
        if a["total_duration_ms"] >= 20:
            expected = 100.0 / (a["total_duration_ms"] / 1000.0)
            self.assertAlmostEqual(a["average_progress_rate"] / expected, 1.0, delta=0.25)
        # types on the wire
        raw = self.root.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetAnalytics",
                                 GLib.Variant("(s)", (pid,)), "(a{sv})").get_child_value(0)
        types = {k: raw.lookup_value(k, None).get_type_string() for k in a}
        self.assertEqual(types, {"total_duration_ms": "t", "average_progress_rate": "d",
                                 "stage_durations": "a{st}", "status": "s",
                                 "started_at_us": "x", "finished_at_us": "x"})

    def test_get_analytics_running(self):
        """GetAnalytics of a running generation: finished_at_us 0, status in_progress."""
        pid = self.root.start(batch_json(BIG_BATCH))
        self.root.wait_stage(pid, "pdf_generation")
        a = self.root.call("GetAnalytics", pid)
        self.assertEqual(a["status"], "in_progress")
        self.assertEqual(a["finished_at_us"], 0)
        self.assertIn("data_validation", a["stage_durations"])
        self.assertNotIn("file_preparation", a["stage_durations"])
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)
        a = self.root.call("GetAnalytics", pid)
        self.assertEqual(a["status"], "cancelled")
        self.assertGreater(a["finished_at_us"], 0)
        self.assertNotIn("completed", a["stage_durations"])

    def test_update_wire_types(self):
        """Each update key has the D-Bus type of the contract."""
        pid = self.root.start(single_json())
        self.root.wait_terminal(pid)
        raw = self.root.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetProgress",
                                 GLib.Variant("(s)", (pid,)), "(a{sv})").get_child_value(0)
        for key, sig in UPDATE_KEYS.items():
            value = raw.lookup_value(key, None)
            self.assertIsNotNone(value, key)
            self.assertEqual(value.get_type_string(), sig, key)
        result = raw.lookup_value("result", None)
        self.assertEqual(result.get_type_string(), "a{sv}")
        rtypes = {k: result.lookup_value(k, None).get_type_string()
                  for k in ("certificate_number", "file_size", "checksum", "pages")}
        self.assertEqual(rtypes, {"certificate_number": "s", "file_size": "t",
                                  "checksum": "s", "pages": "u"})

    def test_list_generations(self):
        """ListGenerations: snapshots of every generation, oldest first."""
        self.assertEqual(self.root.call("ListGenerations"), [])
        pid1, _ = self.run_to_end(single_json(), transaction="tx-one")
        pid2, _ = self.run_to_end(batch_json(2), transaction="tx-two")
        snaps = self.root.call("ListGenerations")
        self.assertEqual([s["progress_id"] for s in snaps], [pid1, pid2])
        self.assertEqual([s["transaction_id"] for s in snaps], ["tx-one", "tx-two"])
        for s in snaps:
            self.assert_update_shape(s)
            self.assertEqual(s["status"], "completed")
            snap = self.root.progress(s["progress_id"])
            # timestamp_us may be "now" in a snapshot; everything else is the same state
            s.pop("timestamp_us")
            snap.pop("timestamp_us")
            self.assertEqual(s, snap)

    def test_open_certificate(self):
        """OpenCertificate: a read-only fd of the PDF, same bytes as the file,
        sha256 == result checksum."""
        pid, updates = self.run_to_end(batch_json(2))
        result = updates[-1]["result"]
        fd = self.root.open_certificate(pid)
        try:
            self.assertEqual(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE, os.O_RDONLY)
            with self.assertRaises(OSError) as cm:
                os.write(fd, b"overwrite")
            self.assertEqual(cm.exception.errno, errno.EBADF)
            data = read_to_end(fd)
        finally:
            os.close(fd)
        self.assertTrue(data.startswith(b"%PDF-"))
        with open(self.cert_path(pid), "rb") as f:
            self.assertEqual(data, f.read())
        self.assertEqual(hashlib.sha256(data).hexdigest(), result["checksum"])
        self.assertEqual(len(data), result["file_size"])
        self.assertIn(b"%%EOF", data[-32:])
        # each call gives a new descriptor from the start of the file
        fd2 = self.root.open_certificate(pid)
        try:
            self.assertEqual(os.read(fd2, 5), b"%PDF-")
        finally:
            os.close(fd2)

    def test_subscribe_unsubscribe(self):
        """A second connection gets updates after Subscribe (sequence going on
        +1 from GetProgress) and none after Unsubscribe returned."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=50)
        other = self.new_client()
        self.root.wait_stage(pid, "pdf_generation")
        other.call("Subscribe", pid)
        snap = other.progress(pid)
        wait_until(lambda: len(other.updates.get(pid, [])) >= 3, 20,
                   "3 updates on the subscribed connection")
        got = other.updates[pid]
        self.assertTrue(all(u["progress_id"] == pid for u in got))
        self.assert_sequence_consecutive(got)
        self.assertLessEqual(got[0]["sequence"], snap["sequence"] + 1)
        other.call("Unsubscribe", pid)
        drain_main_context()
        count = len(other.updates[pid])
        seq_at_unsubscribe = other.progress(pid)["sequence"]
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)
        self.assert_terminal_last(self.root, pid)
        self.assertGreater(self.root.updates[pid][-1]["sequence"], seq_at_unsubscribe)
        self.assertEqual(len(other.updates[pid]), count, "updates after Unsubscribe")

    def test_subscribe_whole_run(self):
        """A subscriber that subscribes at once receives the same updates as
        the starter from then on, including the terminal one."""
        other = self.new_client()
        pid = self.root.start(batch_json(300), update_interval_ms=20)
        other.call("Subscribe", pid)
        snap = other.progress(pid)
        self.root.wait_terminal(pid)
        other.wait_terminal(pid)
        self.assert_terminal_last(other, pid)
        got = [u for u in other.updates[pid]]
        self.assert_sequence_consecutive(got)
        starter_tail = [u for u in self.root.updates[pid] if u["sequence"] > snap["sequence"]]
        self.assertEqual([u["sequence"] for u in got if u["sequence"] > snap["sequence"]],
                         [u["sequence"] for u in starter_tail])
        self.assertEqual(got[-1], self.root.updates[pid][-1])

    def test_subscribe_finished(self):
        """Subscribing to a finished generation succeeds and sends nothing."""
        pid, updates = self.run_to_end(single_json())
        other = self.new_client()
        other.call("Subscribe", pid)
        self.assertEqual(other.progress(pid)["sequence"], updates[-1]["sequence"])
        drain_main_context()
        self.assertEqual(other.updates.get(pid, []), [])
        other.call("Unsubscribe", pid)

    def test_starter_unsubscribe(self):
        """The starter itself can unsubscribe: no update after the reply."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=50)
        self.root.wait_stage(pid, "pdf_generation")
        self.root.call("Unsubscribe", pid)
        drain_main_context()
        count = len(self.root.updates[pid])
        watcher = self.new_client()
        watcher.call("Subscribe", pid)
        wait_until(lambda: len(watcher.updates.get(pid, [])) >= 2, 20, "updates to the watcher")
        self.root.call("Cancel", pid)
        watcher.wait_terminal(pid)
        self.assert_terminal_last(watcher, pid)
        self.assertEqual(len(self.root.updates[pid]), count, "updates after Unsubscribe")

    def test_cleanup(self):
        """Cleanup forgets finished generations (count), deletes their files,
        keeps running ones."""
        pid1, _ = self.run_to_end(single_json())
        pid2, _ = self.run_to_end(batch_json(2))
        running = self.root.start(batch_json(BIG_BATCH))
        self.assertTrue(os.path.isfile(self.cert_path(pid1)))
        self.assertEqual(self.root.call("Cleanup"), 2)
        for pid in (pid1, pid2):
            self.assertDBusError("NotFound", self.root.progress, pid)
            self.assertFalse(os.path.exists(self.cert_path(pid)))
        self.assertEqual([s["progress_id"] for s in self.root.call("ListGenerations")],
                         [running])
        self.assertEqual(self.root.call("Cleanup"), 0)
        self.root.call("Cancel", running)
        self.root.wait_terminal(running)
        self.assertEqual(self.root.call("Cleanup"), 1)
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(self.cert_dir_entries(), [])

    def test_cleanup_removes_persistent_result(self):
        """enable_persistence=true: kept until its owner's Cleanup, which
        forgets it and removes its file (DESIGN.md: expires_at_us)."""
        pid, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(updates[-1]["status"], "completed")
        self.assertTrue(os.path.isfile(self.cert_path(pid)))
        self.assertEqual(sha256_file(self.cert_path(pid)), updates[-1]["result"]["checksum"])
        self.assertEqual(self.root.call("Cleanup"), 1)
        self.assertDBusError("NotFound", self.root.progress, pid)
        self.assertFalse(os.path.exists(self.cert_path(pid)))

    def test_all_options_accepted(self):
        """Every documented option with its documented type is accepted."""
        pid = self.root.start(single_json(), timeout_ms=60000, enable_cancellation=True,
                              enable_persistence=False, update_interval_ms=250,
                              cancel_on_disconnect=False)
        self.root.wait_terminal(pid)
        self.assertEqual(self.root.updates[pid][-1]["status"], "completed")

    @unittest.skipUnless(os.geteuid() == 0, "uid 0 delegates only when the tests run as root")
    def test_root_owner_label(self):
        """Without polkit uid 0 may delegate: owner_label is in every update."""
        pid = self.root.start(single_json(), owner_label="web-alice")
        self.root.wait_terminal(pid)
        for u in self.root.updates[pid]:
            self.assertEqual(u.get("owner_label"), "web-alice", u)
        self.assertEqual(self.root.progress(pid)["owner_label"], "web-alice")
        self.assertEqual(self.root.updates[pid][-1]["status"], "completed")
        # and a generation without delegation carries no owner_label
        pid2, updates = self.run_to_end(single_json())
        self.assertNotIn("owner_label", updates[-1])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GetStatistics: the window of the last finished generations, counts by
status, per-template percentiles, kept across a certgend restart (issue 11
item 3; the ETA from history is tested in test-tracker.c and measured by
tests/bench/bench-eta.py)."""

import json
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (ACTION_GENERATE, BUS_NAME, MANAGER_IFACE, OBJECT_PATH,
                                  CertgenTestCase, batch_json, daemon_config, main, multi_uid,
                                  single_json, wait_until, with_polkit)

TOP_TYPES = {"window": "u", "by_status": "a{st}", "templates": "a{sa{sv}}"}
TEMPLATE_TYPES = {"generations": "t", "pages": "t", "stage_ms_p50": "a{sd}",
                  "stage_ms_p95": "a{sd}", "page_ms_p50": "d", "page_ms_p95": "d"}
STATUSES = ["cancelled", "completed", "failed", "timed_out"]


class StatisticsTests(CertgenTestCase):

    def statistics_file(self):
        return os.path.join(self.state_dir, "statistics.json")

    def run_mix(self):
        """Two completed classic (1 and 3 pages), one failed classic
        (InvalidData), one completed modern."""
        for data in (single_json(), batch_json(3)):
            _, updates = self.run_to_end(data)
            self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        _, updates = self.run_to_end(json.dumps({"recipientName": 5}))
        self.assertEqual(updates[-1]["status"], "failed", updates[-1])
        _, updates = self.run_to_end(single_json(), template="modern")
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])

    def test_empty(self):
        self.assertEqual(self.root.call("GetStatistics"),
                         {"window": 0, "by_status": dict.fromkeys(STATUSES, 0), "templates": {}})

    def test_after_generations(self):
        """Counts by status (the failed one too), per template: generations,
        pages of the completed ones, stage and page percentiles."""
        self.run_mix()
        stats = self.root.call("GetStatistics")
        self.assertEqual(stats["window"], 4)
        self.assertEqual(stats["by_status"], {"cancelled": 0, "completed": 3, "failed": 1,
                                              "timed_out": 0})
        self.assertEqual(sorted(stats["templates"]), ["classic", "modern"])
        classic = stats["templates"]["classic"]
        self.assertEqual(classic["generations"], 3)
        self.assertEqual(classic["pages"], 4)
        self.assertEqual(stats["templates"]["modern"]["generations"], 1)
        self.assertEqual(stats["templates"]["modern"]["pages"], 1)
        for key in ("stage_ms_p50", "stage_ms_p95"):
            self.assertEqual(sorted(classic[key]),
                             sorted(["initializing", "template_loading", "data_validation",
                                     "pdf_generation", "file_preparation", "download_ready"]))
        self.assertGreater(classic["page_ms_p50"], 0.0)
        self.assertGreaterEqual(classic["page_ms_p95"], classic["page_ms_p50"])
        self.assertGreaterEqual(classic["stage_ms_p95"]["pdf_generation"],
                                classic["stage_ms_p50"]["pdf_generation"])

    @daemon_config(statistics={"window": 2})
    def test_window_config(self):
        """[statistics] window: only the newest generations count; after a
        restart with a smaller window, the newest of the file."""
        self.run_mix()
        stats = self.root.call("GetStatistics")
        self.assertEqual(stats["window"], 2)
        self.assertEqual(stats["by_status"]["failed"], 1)
        self.assertEqual(sorted(stats["templates"]), ["classic", "modern"])
        self.stop_daemon()
        self.start_daemon({"statistics": {"window": 1}})
        stats = self.root.call("GetStatistics")
        self.assertEqual(stats["window"], 1)
        self.assertEqual(list(stats["templates"]), ["modern"])

    def test_wire_types(self):
        self.run_mix()
        raw = self.root.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "GetStatistics", None,
                                 "(a{sv})").get_child_value(0)
        self.assertEqual({k: raw.lookup_value(k, None).get_type_string() for k in TOP_TYPES},
                         TOP_TYPES)
        self.assertEqual(raw.n_children(), len(TOP_TYPES))
        templates = raw.lookup_value("templates", None)
        for i in range(templates.n_children()):
            entry = templates.get_child_value(i).get_child_value(1)
            self.assertEqual({k: entry.lookup_value(k, None).get_type_string()
                              for k in TEMPLATE_TYPES}, TEMPLATE_TYPES)
            self.assertEqual(entry.n_children(), len(TEMPLATE_TYPES))

    def test_cancelled_counted(self):
        pid = self.root.start(batch_json(200))
        self.root.call("Cancel", pid)
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["status"], "cancelled", final)
        stats = self.root.call("GetStatistics")
        self.assertEqual(stats["by_status"]["cancelled"], 1)
        self.assertEqual(stats["templates"]["classic"]["pages"], 0)

    def test_survives_restart(self):
        """The window is kept in the registry and read back."""
        self.run_mix()
        before = self.root.call("GetStatistics")
        self.stop_daemon()
        self.assertFalse(os.path.exists(self.statistics_file()))
        with sqlite3.connect(os.path.join(self.state_dir, "registry.db")) as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM statistics").fetchone()[0], 4)
        self.start_daemon()
        self.assertEqual(self.root.call("GetStatistics"), before)

    def test_old_file_migrated(self):
        """An older certgend's statistics.json is taken over once (then
        renamed); a corrupt one is logged, renamed, and the window starts
        empty."""
        self.run_mix()
        before = self.root.call("GetStatistics")
        self.stop_daemon()
        os.unlink(os.path.join(self.state_dir, "registry.db"))
        for suffix in ("-wal", "-shm"):
            if os.path.exists(os.path.join(self.state_dir, "registry.db" + suffix)):
                os.unlink(os.path.join(self.state_dir, "registry.db" + suffix))
        generations = [{"template_id": "classic", "status": "completed", "pages": 3,
                        "stage_ms": [1, 2, 3, 30, 4, 0]}] * 2
        with open(self.statistics_file(), "w", encoding="utf-8") as f:
            json.dump({"version": 1, "generations": generations}, f)
        self.start_daemon()
        stats = self.root.call("GetStatistics")
        self.assertEqual(stats["window"], 2)
        self.assertEqual(stats["templates"]["classic"]["pages"], 6)
        self.assertNotEqual(stats, before)
        self.assertFalse(os.path.exists(self.statistics_file()))
        self.assertTrue(os.path.exists(self.statistics_file() + ".migrated"))
        self.stop_daemon()
        self.start_daemon()
        self.assertEqual(self.root.call("GetStatistics")["window"], 2)

    def test_corrupt_file_ignored(self):
        """A corrupt old file is logged (not quoted) and ignored: certgend
        starts with an empty window, keeps the new ones in the registry."""
        self.stop_daemon()
        os.makedirs(self.state_dir, exist_ok=True)
        with open(self.statistics_file(), "w", encoding="utf-8") as f:
            f.write('{"version": 1, "generations": [{"template_id": "\\u001b[31m"}]}')
        self.start_daemon()
        self.assertEqual(self.root.call("GetStatistics")["window"], 0)
        self.assert_healthy()
        wait_until(lambda: self.root.call("GetStatistics")["window"] == 1, 10, "window")
        self.stop_daemon(check=False)
        with open(self.daemon_log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        self.assertIn("statistics.json is corrupt", log)
        self.assertNotIn("\x1b", log)
        self.assertFalse(os.path.exists(self.statistics_file()))
        self.start_daemon()
        self.assertEqual(self.root.call("GetStatistics")["window"], 1)

    @with_polkit()
    def test_root_may_without_grant(self):
        self.assertEqual(self.root.call("GetStatistics")["window"], 0)

    @multi_uid
    @with_polkit()
    def test_needs_generate(self):
        """Another uid needs org.certgen.Certificates1.generate."""
        self.run_mix()
        u1 = self.spawn_client("certgen-test1")
        self.assertClientError(u1.call("GetStatistics"), "PermissionDenied", "generate denied")
        self.set_polkit_allowed([ACTION_GENERATE])
        reply = u1.call("GetStatistics")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["value"]["window"], 4)

    @multi_uid
    def test_other_uid_sees_aggregates(self):
        """Without polkit anyone may generate, so anyone may ask; the answer
        is the same aggregate, with no id or owner in it."""
        self.run_mix()
        u1 = self.spawn_client("certgen-test1")
        reply = u1.call("GetStatistics")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["value"], self.root.call("GetStatistics"))
        self.assertNotIn("progress_id", json.dumps(reply["value"]))


if __name__ == "__main__":
    main()

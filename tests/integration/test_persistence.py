#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Persistence across restarts (issue 14 item 6): a generation started with
enable_persistence is kept in the registry once it completes; after a
certgend restart GetProgress, GetAnalytics, ListGenerations and
OpenCertificate answer as before, for its owner only, until its owner's
Cleanup or [persistence] keep_days; the bytes an owner keeps are capped
(max_persistent_bytes_per_owner -> LimitExceeded at StartGeneration); the
startup sweep keeps exactly the persistent results."""

import hashlib
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean

from gi.repository import GLib  # noqa: E402

from certgen_test.testbus import (TEST_USERS, CertgenTestCase, batch_json,  # noqa: E402
                                  daemon_config, main, multi_uid, single_json)

U1, U2 = TEST_USERS


class PersistenceTests(CertgenTestCase):

    def registry(self):
        return sqlite3.connect(os.path.join(self.state_dir, "registry.db"))

    def read_fd(self, fd):
        with os.fdopen(fd, "rb") as f:
            return f.read()

    def daemon_log_text(self):
        with open(self.daemon_log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def restart(self, config=None, check=True):
        self.stop_daemon(check=check)
        self.start_daemon(config)

    def test_survives_restart(self):
        """Everything a client can ask of a persistent result reads the same
        after a restart; a result not asked to persist is gone, file too."""
        kept, updates = self.run_to_end(batch_json(3), enable_persistence=True)
        final = updates[-1]
        self.assertEqual(final["status"], "completed", final)
        self.assertTrue(final["persistent"])
        self.assertEqual(final["expires_at_us"], 0)
        gone, updates = self.run_to_end(single_json())
        self.assertFalse(updates[-1]["persistent"])
        self.assertGreater(updates[-1]["expires_at_us"], 0)
        before = self.root.progress(kept)
        analytics = self.root.call("GetAnalytics", kept)
        pdf_before = self.read_fd(self.root.open_certificate(kept))

        self.restart()
        self.assertEqual(self.root.progress(kept), before)
        self.assertEqual(self.root.call("GetAnalytics", kept), analytics)
        listed = {g["progress_id"]: g for g in self.root.call("ListGenerations")}
        self.assertEqual(listed.get(kept), before)
        self.assertNotIn(gone, listed)
        pdf = self.read_fd(self.root.open_certificate(kept))
        self.assertEqual(pdf, pdf_before)
        self.assertEqual(hashlib.sha256(pdf).hexdigest(), before["result"]["checksum"])
        self.assertDBusError("NotFound", self.root.progress, gone)
        self.assertEqual(self.cert_dir_entries(), [f"{kept}.pdf"])
        log = self.daemon_log_text()
        self.assertIn("Persistence: 1 generation restored", log)
        # a later restart again: still there, nothing else swept
        self.restart()
        self.assertEqual(self.root.progress(kept), before)
        self.assert_healthy()

    def test_zip_survives_restart(self):
        kept, updates = self.run_to_end(batch_json(2), enable_persistence=True,
                                        output_format="zip")
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        before = self.root.progress(kept)
        self.restart()
        self.assertEqual(self.root.progress(kept), before)
        data = self.read_fd(self.root.open_certificate(kept))
        self.assertTrue(data.startswith(b"PK"))
        self.assertEqual(self.cert_dir_entries(), [f"{kept}.zip"])

    @multi_uid
    def test_owner_only_after_restart(self):
        """Another uid gets NotFound for a restored result, as for any
        other; an administrator's Cleanup does not remove it; its owner's
        Cleanup does, file and row, for good."""
        u1 = self.spawn_client(U1)
        started = u1.start(single_json(), enable_persistence=True)
        self.assertTrue(started["ok"], started)
        pid = started["value"]
        self.assertTrue(u1.wait_signal(id=pid, status=["completed"], seconds=60))
        self.restart()
        u1, u2 = self.spawn_client(U1), self.spawn_client(U2)
        self.assertTrue(u1.call("GetProgress", pid)["ok"])
        for method in ("GetProgress", "GetAnalytics", "OpenCertificate", "Cancel"):
            self.assertClientError(u2.call(method, pid), "NotFound", f"{method} by another uid")
        self.assertNotIn(pid, [g["progress_id"] for g in u2.call("ListGenerations")["value"]])
        self.assertClientError(u2.call("GetProgress", pid), "NotFound")

        self.root.call("Cleanup")  # root: manage-all, but not its result
        self.assertTrue(u1.call("GetProgress", pid)["ok"])
        self.assertEqual(self.cert_dir_entries(), [f"{pid}.pdf"])
        cleaned = u2.call("Cleanup")
        self.assertTrue(cleaned["ok"], cleaned)
        self.assertTrue(u1.call("GetProgress", pid)["ok"])

        cleaned = u1.call("Cleanup")
        self.assertTrue(cleaned["ok"], cleaned)
        self.assertEqual(cleaned["value"], 1)
        self.assertClientError(u1.call("GetProgress", pid), "NotFound", "after Cleanup")
        self.assertEqual(self.cert_dir_entries(), [])
        with self.registry() as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM generations").fetchone()[0], 0)
        self.restart()
        u1 = self.spawn_client(U1)
        self.assertClientError(u1.call("GetProgress", pid), "NotFound", "after a restart")

    @daemon_config(persistence={"max_persistent_bytes_per_owner": 1000})
    def test_quota(self):
        """Once an owner keeps max_persistent_bytes_per_owner, a persistent
        start is LimitExceeded (naming the figures) and changes nothing;
        other starts go on; the owner's Cleanup frees the room; the bytes
        kept count after a restart too."""
        config = {"persistence": {"max_persistent_bytes_per_owner": 1000}}
        first, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        size = updates[-1]["result"]["file_size"]
        self.assertGreater(size, 1000)
        count = len(self.root.call("ListGenerations"))
        with self.assertRaises(Exception) as raised:
            self.root.start(single_json(), enable_persistence=True)
        self.assertIn("LimitExceeded", str(raised.exception))
        self.assertIn(f"take {size} bytes, at most 1000", str(raised.exception))
        self.assertEqual(len(self.root.call("ListGenerations")), count)
        _, updates = self.run_to_end(single_json())
        self.assertEqual(updates[-1]["status"], "completed")

        self.restart(config)
        self.assertDBusError("LimitExceeded", self.root.start, single_json(),
                             enable_persistence=True)
        self.root.call("Cleanup")
        self.assertDBusError("NotFound", self.root.progress, first)
        _, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(updates[-1]["status"], "completed")

    @daemon_config(persistence={"keep_days": 1})
    def test_keep_days(self):
        """A result older than keep_days is forgotten at start (its row and
        its file), logged; a younger one stays."""
        config = {"persistence": {"keep_days": 1}}
        old, _ = self.run_to_end(single_json(), enable_persistence=True)
        young, _ = self.run_to_end(single_json(), enable_persistence=True)
        self.stop_daemon()
        # Move the old one's start (and so its end) two days back.
        with self.registry() as db:
            (blob,) = db.execute("SELECT record FROM generations WHERE progress_id = ?",
                                 (old,)).fetchone()
            record = GLib.Variant.new_from_bytes(GLib.VariantType("a{sv}"),
                                                 GLib.Bytes.new(blob), False).unpack()
            record["started_at_us"] -= 2 * 86400 * 1000000
            typed = GLib.Variant("a{sv}", {
                k: GLib.Variant(self.record_type(k, v), v) for k, v in record.items()})
            db.execute("UPDATE generations SET record = ?, finished_at_us = finished_at_us - ?"
                       " WHERE progress_id = ?",
                       (typed.get_data_as_bytes().get_data(), 2 * 86400 * 1000000, old))
        self.start_daemon(config)
        deadline = time.monotonic() + 10
        while os.path.exists(self.cert_path(old)) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.cert_dir_entries(), [f"{young}.pdf"])
        self.assertDBusError("NotFound", self.root.progress, old)
        self.assertEqual(self.root.progress(young)["status"], "completed")
        with self.registry() as db:
            ids = [r[0] for r in db.execute("SELECT progress_id FROM generations")]
        self.assertEqual(ids, [young])

    @staticmethod
    def record_type(key, value):
        types = {"version": "u", "owner_uid": "u", "sequence": "t", "started_at_us": "x",
                 "finished_ms": "u", "last_sent_ms": "u", "reached": "y", "stage_ms": "au",
                 "file_size": "t", "pages": "u"}
        return types.get(key, "s")

    def test_broken_rows_forgotten(self):
        """A row whose record is not one, or whose file is gone or changed,
        or that names a file elsewhere, is logged and deleted; its file (if
        any) swept; certgend starts and serves the rest."""
        good, _ = self.run_to_end(single_json(), enable_persistence=True)
        changed, _ = self.run_to_end(single_json(), enable_persistence=True)
        missing, _ = self.run_to_end(single_json(), enable_persistence=True)
        self.stop_daemon()
        with open(self.cert_path(changed), "ab") as f:
            f.write(b"tampered")
        os.unlink(self.cert_path(missing))
        with self.registry() as db:
            db.execute("INSERT INTO generations VALUES (?, 0, NULL, ?, 1, 1, ?)",
                       ("f" * 32, "f" * 32 + ".pdf", b"\x00garbage\x1b[31m"))
            db.execute("INSERT INTO generations VALUES (?, 0, NULL, ?, 1, 1, ?)",
                       ("../../etc\x1b", "passwd", b""))
        self.start_daemon()
        self.assertEqual(self.root.progress(good)["status"], "completed")
        for pid in (changed, missing, "f" * 32):
            self.assertDBusError("NotFound", self.root.progress, pid)
        self.assertEqual(self.cert_dir_entries(), [f"{good}.pdf"])
        with self.registry() as db:
            ids = [r[0] for r in db.execute("SELECT progress_id FROM generations")]
        self.assertEqual(ids, [good])
        self.stop_daemon(check=False)
        log = self.daemon_log_text()
        self.assertIn(f"{changed} not restored (its file was changed)", log)
        self.assertIn(f"{missing} not restored (its file is gone)", log)
        self.assertIn("(not an id) not restored", log)
        self.assertNotIn("\x1b", log)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests of the startup sweep (issue 14 item 7): kill -9
in the middle of a batch leaves a hidden temporary file; the next start
removes it and logs it, and every file no persistent generation owns (an
orphan, a completed result that did not ask to persist); it keeps the
persistent results, which read as before."""

import os
import signal
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import CertgenTestCase, batch_json, main, single_json, wait_until


class SweepTests(CertgenTestCase):

    def test_sigkill_mid_batch(self):
        kept, updates = self.run_to_end(single_json(), enable_persistence=True)
        self.assertEqual(updates[-1]["status"], "completed")
        before = self.root.progress(kept)
        done, updates = self.run_to_end(single_json())
        self.assertEqual(updates[-1]["status"], "completed")
        pid = self.root.start(batch_json(2000), update_interval_ms=50)
        self.root.wait_stage(pid, "pdf_generation")
        wait_until(lambda: any(e.startswith(".") for e in self.cert_dir_entries()), 30,
                   "a temporary file")
        # an orphan a crash between rename and the registry's commit leaves
        orphan = self.cert_path("0123456789abcdef0123456789abcdef")
        with open(orphan, "wb") as f:
            f.write(b"%PDF-1.5\n")
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.daemon_log.close()
        self.daemon = None
        self.assertTrue(any(e.startswith(".") for e in self.cert_dir_entries()))

        self.assertIn(f"{done}.pdf", self.cert_dir_entries())

        self.start_daemon()
        self.assertEqual(self.cert_dir_entries(), [f"{kept}.pdf"])
        self.assertEqual(self.root.progress(kept), before)
        self.assertDBusError("NotFound", self.root.progress, done)
        with open(self.daemon_log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        self.assertIn("Startup sweep: removed", log)
        self.assertIn(f"{os.path.basename(orphan)} (no certificate of it is in the registry)", log)
        self.assertIn(f"{done}.pdf (its generation did not ask for persistence)", log)
        self.assertIn("a temporary file of an interrupted generation", log)
        self.assert_healthy()


if __name__ == "__main__":
    main()

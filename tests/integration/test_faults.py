#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: faults of the machine around it — a full
state filesystem, a read-only state directory at start — and the test bus
itself (no complaints from dbus-daemon about the policy it is given).

The filesystem cases mount a small tmpfs over the case's state directory,
so they need root (CI runs as root); otherwise they are skipped."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (BUS_NAME, CERTGEND, TEMPLATE_DIR, BusClient, CertgenTestCase, batch_json,
                        main, no_daemon, timeout)


def mount_tmpfs(testcase, path, options):
    """Mount a tmpfs on path (created if missing), unmounted at cleanup."""
    if os.geteuid() != 0:
        testcase.skipTest("mounting a tmpfs needs root")
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "certgen-test", path],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        testcase.skipTest(f"cannot mount a tmpfs: {r.stderr.strip()}")
    testcase.addCleanup(subprocess.run, ["umount", "-l", path], check=False)


class FaultTests(CertgenTestCase):

    @no_daemon
    def test_state_filesystem_full(self):
        """The state directory on a 256 KiB filesystem: a 100-page batch
        (about 400 KiB) ends 'failed' with an error naming the full disk,
        nothing partial is left, and the service stays healthy: a single
        certificate still completes afterwards."""
        mount_tmpfs(self, self.state_dir, "size=256k,mode=0755")
        self.start_daemon()
        pid, updates = self.run_to_end(batch_json(100), seconds=60)
        final = updates[-1]
        self.assertEqual(final["status"], "failed", final)
        self.assertIn("space", final.get("error_message", "").lower(), final)
        self.assertTrue(final.get("error", "").startswith("org.certgen.Certificates1.Error.")
                        or final.get("error", "").startswith("org.freedesktop.DBus.Error."),
                        final)
        self.assert_no_file_for(pid)
        self.assertEqual([e for e in self.cert_dir_entries() if e.startswith(".")], [],
                         "hidden temporary files left on the full filesystem")
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assert_healthy()

    @no_daemon
    def test_state_dir_read_only_at_start(self):
        """A read-only state directory: certgend says which directory and
        why on stderr, exits with status 1 and never takes the bus name."""
        mount_tmpfs(self, self.state_dir, "ro,size=64k,mode=0755")
        config = self.write_config()
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        r = subprocess.run([CERTGEND, "--config", config, "--template-dir", TEMPLATE_DIR,
                            "--state-dir", self.state_dir],
                           capture_output=True, text=True, env=env, timeout=timeout(20),
                           check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(self.state_dir, r.stderr)
        self.assertIn("Read-only file system", r.stderr)
        probe = BusClient(self.bus_address)
        try:
            self.assertIsNone(probe.name_owner(BUS_NAME))
        finally:
            probe.close()

    def test_bus_log_clean(self):
        """The test bus accepts the project's policy without complaint: the
        service user it names exists (the harness creates the users of
        data/systemd/certgen.sysusers, as a package install would)."""
        self.assert_healthy()
        with open(os.path.join(self.tmpdir, "dbus-daemon.log"), encoding="utf-8",
                  errors="replace") as f:
            log = f.read()
        self.assertNotIn("Unknown username", log)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgenctl verify and revoke against certgend on the private bus:
input checks before any call, verify FILE.pdf of a good and of a tampered
file, verify NUMBER CODE, revoke by another uid (refused) and by the owner
(certgenctl(1), DESIGN.md Wave 2)."""

import json
import os
import subprocess
import sys
import urllib.parse
import zipfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (BUILD_ROOT, TEST_USERS, CertgenTestCase, batch_json,  # noqa: E402
                        main, multi_uid, timeout)

CERTGENCTL = os.environ.get("CERTGENCTL") or os.path.join(BUILD_ROOT, "client", "certgenctl")
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 6
CODE = "abcdefghijklmnopqrstuvwxyz"


def certgend_has_verify():
    path = os.path.join(SOURCE_ROOT, "introspection", "org.certgen.Certificates1.xml")
    with open(path, encoding="utf-8") as f:
        return 'name="Verify"' in f.read()


class VerifyCtlTests(CertgenTestCase):

    def ctl(self, *args, user=None):
        """-> (returncode, stdout, stderr)"""
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.tmpdir,
               "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}
        cmd = [CERTGENCTL, *args]
        if user is not None:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + cmd
        proc = subprocess.run(cmd, capture_output=True, env=env, cwd=self.tmpdir,
                              timeout=timeout(60), check=False)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def generate(self, n=2):
        """A batch saved to a file -> (path, final update)."""
        data = os.path.join(self.tmpdir, "data.json")
        with open(data, "w", encoding="utf-8") as f:
            f.write(batch_json(n))
        path = os.path.join(self.tmpdir, "batch.pdf")
        rc, out, err = self.ctl("generate", "--data", data, "--output", path, "--json")
        self.assertEqual(rc, EXIT_OK, err)
        final = [json.loads(line) for line in out.splitlines() if line.strip()][-1]
        return path, final

    def test_input_checks(self):
        """Bad numbers, codes and a missing reason are usage errors (exit 2),
        refused before anything is asked."""
        for args, text in ((("verify", "../etc/passwd", CODE), "Invalid certificate number"),
                           (("verify", "CERT1", "short"), "Invalid verification code"),
                           (("verify", "CERT1", CODE + "/x"), "Invalid verification code"),
                           (("verify", "a" * 65, CODE), "Invalid certificate number"),
                           (("revoke", "CERT1"), "needs --reason"),
                           (("revoke", "CERT/1", "--reason", "x"), "Invalid certificate number"),
                           (("revoke", "CERT1", "--reason", ""), "--reason needs"),
                           (("verify", "CERT1", CODE, "--reason", "x"), "does not apply"),
                           (("verify",), "Missing argument")):
            with self.subTest(args=args):
                rc, out, err = self.ctl(*args)
                self.assertEqual(rc, EXIT_USAGE, err)
                self.assertIn(text, err)
                self.assertEqual(out, "")

    def test_verify_file_not_a_pdf(self):
        """A file that is not a PDF, or is missing: a clear error, exit 1."""
        path = os.path.join(self.tmpdir, "not.pdf")
        with open(path, "wb") as f:
            f.write(b"hello")
        rc, _, err = self.ctl("verify", path)
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn("is not a PDF", err)
        rc, _, err = self.ctl("verify", os.path.join(self.tmpdir, "missing.pdf"))
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn("Failed to read", err)

    def test_verify_tampered_file(self):
        """A file changed after it was issued is never valid: non-zero, verdict NOT VALID."""
        path, _ = self.generate()
        with open(path, "ab") as f:
            f.write(b"\n% appended\n")
        rc, out, err = self.ctl("verify", path)
        self.assertEqual(rc, EXIT_FAILED, out + err)
        self.assertIn("Verdict: NOT VALID", out)
        self.assertEqual(len([l for l in out.splitlines() if l.startswith("page ")]), 2, out)
        rc, out, _ = self.ctl("verify", path, "--json")
        self.assertEqual(rc, EXIT_FAILED)
        report = json.loads(out)
        self.assertFalse(report["valid"])
        self.assertEqual(len(report["pages"]), 2)


class VerifyCtlFlowTests(VerifyCtlTests):
    """Needs certgend's Verify/Revoke (the registry)."""

    def setUp(self):
        if not certgend_has_verify():
            self.skipTest("certgend has no Verify yet (registry not merged)")
        super().setUp()

    def number_and_code(self, final):
        url = final["result"]["verification_url"]
        parts = urllib.parse.urlsplit(url)
        return parts.path.rsplit("/", 1)[1], urllib.parse.parse_qs(parts.query)["c"][0]

    def test_verify_good_file_and_number(self):
        """The file as issued: every page valid, hash matches, exit 0;
        NUMBER CODE shows the record; a wrong code is 'no such certificate'."""
        path, final = self.generate()
        rc, out, err = self.ctl("verify", path)
        self.assertEqual(rc, EXIT_OK, out + err)
        self.assertIn("Verdict: VALID", out)
        self.assertIn("matches the registry", out)
        number, code = self.number_and_code(final)
        rc, out, err = self.ctl("verify", number, code)
        self.assertEqual(rc, EXIT_OK, err)
        self.assertIn("valid", out)
        self.assertIn(number, out)
        rc, out, _ = self.ctl("verify", number, code, "--json")
        self.assertEqual(json.loads(out)["status"], "valid")
        rc, _, err = self.ctl("verify", number, "b" * len(code))
        self.assertEqual(rc, EXIT_REFUSED)
        self.assertIn("No such certificate or wrong code", err)

    def test_verify_zip_member(self):
        """A member PDF taken out of a ZIP result verifies as issued: its
        link's record holds that member's own SHA-256."""
        pid, updates = self.run_to_end(batch_json(3), output_format="zip")
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        with zipfile.ZipFile(self.cert_path(pid, "zip")) as z:
            names = sorted(n for n in z.namelist() if n.endswith(".pdf"))
            z.extractall(self.tmpdir, members=names)
        for name in names:
            rc, out, err = self.ctl("verify", os.path.join(self.tmpdir, name))
            self.assertEqual(rc, EXIT_OK, out + err)
            self.assertIn("Verdict: VALID", out)
            self.assertIn("matches the registry", out)

    @multi_uid
    def test_revoke_scoping(self):
        """Another uid cannot revoke (same answer as unknown); the owner can; then
        verify says revoked (exit 1) and revoking again is refused."""
        path, final = self.generate()
        number, code = self.number_and_code(final)
        rc, _, err = self.ctl("revoke", number, "--reason", "not mine", user=TEST_USERS[1])
        self.assertEqual(rc, EXIT_REFUSED, err)
        self.assertIn("No such certificate of yours", err)
        rc, out, err = self.ctl("revoke", number, "--reason", "issued in error")
        self.assertEqual(rc, EXIT_OK, err)
        rc, out, _ = self.ctl("verify", number, code)
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn("revoked", out)
        self.assertIn("issued in error", out)
        rc, out, _ = self.ctl("verify", path)
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn("REVOKED", out)
        rc, _, err = self.ctl("revoke", number, "--reason", "again")
        self.assertEqual(rc, EXIT_REFUSED)
        self.assertIn("revoked already", err)


if __name__ == "__main__":
    main()

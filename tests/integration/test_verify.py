#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests of the certificate registry (issue 14 items
4 and 5, the service side): the QR code holds the verification URL (read
back with zbarimg from the page rasterized by pdftoppm) and the QR area
links to it (poppler); Verify answers anyone; Revoke is for the issuing
uid only (another uid gets NotFound), once (AlreadyRevoked); a wrong code
and an unknown number read the same."""

import os
import re
import subprocess
import sys
import tempfile
import zipfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (TEST_USERS, CertgenTestCase, batch_json,
                                  main, multi_uid, sha256_file, single_json)

U1, U2 = TEST_USERS
URL_RE = re.compile(r"^http://localhost:8080/verify/(CERT\d{10})\?c=([a-z2-7]{26})$")


class VerifyTests(CertgenTestCase):

    def qr_urls(self, path):
        """The QR codes of every page, as zbarimg reads the rasterized pages."""
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["pdftoppm", "-r", "150", "-png", path, os.path.join(tmp, "p")],
                           check=True)
            urls = []
            for name in sorted(os.listdir(tmp)):
                out = subprocess.run(["zbarimg", "--quiet", "--raw", os.path.join(tmp, name)],
                                     check=True, capture_output=True, text=True).stdout
                urls.append(out.strip())
            return urls

    def link_urls(self, path):
        """The link annotations' URLs per page, as poppler's pdfinfo -url
        lists them ("Page Type URL")."""
        out = subprocess.run(["pdfinfo", "-url", path], check=True, capture_output=True,
                             text=True).stdout
        pages = {}
        for line in out.splitlines()[1:]:
            page, kind, url = line.split()
            self.assertEqual(kind, "Annotation")
            pages.setdefault(int(page), []).append(url)
        return [pages.get(i + 1, []) for i in range(max(pages, default=0))]

    def test_qr_url_link_and_verify(self):
        """Each page's QR code is its own verification URL, its QR area
        links there, the first is the result's verification_url, and
        Verify with the code from the URL answers the public record."""
        pid, updates = self.run_to_end(batch_json(3))
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        result = self.root.progress(pid)["result"]
        path = self.cert_path(pid)
        qr = self.qr_urls(path)
        self.assertEqual(len(qr), 3)
        self.assertEqual(qr[0], result["verification_url"])
        self.assertEqual(self.link_urls(path), [[u] for u in qr])
        numbers = []
        for i, url in enumerate(qr):
            m = URL_RE.match(url)
            self.assertIsNotNone(m, url)
            number, code = m.groups()
            numbers.append(number)
            record = self.root.call("Verify", number, code)
            self.assertEqual(record["certificate_number"], number)
            self.assertEqual(record["status"], "valid")
            self.assertEqual(record["revoked_at_us"], 0)
            self.assertEqual(record["revocation_reason"], "")
            self.assertEqual(record["template_id"], "classic")
            self.assertEqual(record["fields"]["recipientName"], f"Batch Person {i}")
            self.assertEqual(record["file_sha256"], sha256_file(path))
            self.assertEqual(record["file_sha256"], result["checksum"])
            self.assertRegex(record["data_sha256"], r"^[0-9a-f]{64}$")
            self.assertGreater(record["issued_at_us"], 0)
            for key in ("owner", "owner_uid", "progress_id", "owner_label"):
                self.assertNotIn(key, record)
        self.assertEqual(numbers[0], result["certificate_number"])
        self.assertEqual(numbers[-1], result["last_certificate_number"])
        self.assertEqual(len(set(m.group(2) for m in map(URL_RE.match, qr))), 3)

    def test_wrong_code_and_unknown_number_alike(self):
        pid, _ = self.run_to_end(single_json())
        url = self.root.progress(pid)["result"]["verification_url"]
        number, code = URL_RE.match(url).groups()
        wrong = "a" * 26 if code != "a" * 26 else "b" * 26
        errors = []
        # a number or code of a shape no certificate has (a path, a
        # megabyte) is answered alike, without a registry lookup
        for args in ((number, wrong), ("CERT2000999999", code), (number, ""),
                     (number, code.upper()), (number + "0", code),
                     ("../../etc/passwd", code), ("C" * 100000, code), (number, "c" * 100000)):
            with self.assertRaises(Exception) as ctx:
                self.root.call("Verify", *args)
            errors.append((ctx.exception.name, ctx.exception.message))
        self.assertEqual(len(set(errors)), 1, errors)
        self.assertTrue(errors[0][0].endswith(".NotFound"), errors)
        self.assertDBusError("InvalidArgument", self.root.call, "Verify", number, "x\x1by")

    def test_verify_survives_restart(self):
        pid, _ = self.run_to_end(single_json())
        number, code = URL_RE.match(self.root.progress(pid)["result"]["verification_url"]).groups()
        self.stop_daemon()
        self.start_daemon()
        self.assertEqual(self.root.call("Verify", number, code)["status"], "valid")
        # numbers go on from the registry after a restart
        pid2, _ = self.run_to_end(single_json())
        second = self.root.progress(pid2)["result"]["certificate_number"]
        self.assertEqual(int(second[8:]), int(number[8:]) + 1)

    def test_zip_members_link_and_verify(self):
        """output_format zip: each member PDF links to its own URL, which
        verifies; the record's file_sha256 is that member's own (what a
        recipient holds and `certgenctl verify FILE.pdf` checks)."""
        pid, updates = self.run_to_end(batch_json(2), output_format="zip")
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        result = self.root.progress(pid)["result"]
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(self.cert_path(pid, "zip")) as z:
                members = [n for n in z.namelist() if n.endswith(".pdf")]
                z.extractall(tmp)
            self.assertEqual(len(members), 2)
            for name in members:
                (url,), = self.link_urls(os.path.join(tmp, name))
                number, code = URL_RE.match(url).groups()
                self.assertEqual(f"{number}.pdf", name)
                record = self.root.call("Verify", number, code)
                self.assertEqual(record["status"], "valid")
                self.assertEqual(record["file_sha256"], sha256_file(os.path.join(tmp, name)))
                self.assertNotEqual(record["file_sha256"], result["checksum"])
        self.assertTrue(result["verification_url"].startswith(
            f"http://localhost:8080/verify/{result['certificate_number']}?c="))

    @multi_uid
    def test_revoke_scoping(self):
        """Verify by anyone; Revoke by another uid: NotFound, like an unknown
        number; by the owner: revoked; again: AlreadyRevoked."""
        u1, u2 = self.spawn_client(U1), self.spawn_client(U2)
        started = u1.start(single_json())
        self.assertTrue(started["ok"], started)
        pid = started["value"]
        self.assertTrue(u1.wait_signal(id=pid, status=["completed"], seconds=60))
        got = u1.call("GetProgress", pid)
        self.assertTrue(got["ok"], got)
        number, code = URL_RE.match(got["value"]["result"]["verification_url"]).groups()

        seen = u2.call("Verify", number, code)
        self.assertTrue(seen["ok"], seen)
        self.assertEqual(seen["value"]["status"], "valid")

        theirs = u2.call("Revoke", number, "not mine")
        self.assertClientError(theirs, "NotFound", "Revoke by another uid")
        unknown = u2.call("Revoke", "CERT2000999999", "not mine")
        self.assertClientError(unknown, "NotFound", "Revoke of an unknown number")
        self.assertEqual(theirs["message"], unknown["message"])
        self.assertEqual(u2.call("Verify", number, code)["value"]["status"], "valid")

        bad = u1.call("Revoke", number, "bidi \u202e trick")
        self.assertClientError(bad, "InvalidArgument", "bidi control in the reason")
        bad = u1.call("Revoke", number, "")
        self.assertClientError(bad, "InvalidArgument", "empty reason")
        bad = u1.call("Revoke", number, "x" * 501)
        self.assertClientError(bad, "InvalidArgument", "reason too long")

        ok = u1.call("Revoke", number, "Issued by mistake")
        self.assertTrue(ok["ok"], ok)
        record = u2.call("Verify", number, code)["value"]
        self.assertEqual(record["status"], "revoked")
        self.assertEqual(record["revocation_reason"], "Issued by mistake")
        self.assertGreater(record["revoked_at_us"], 0)
        again = u1.call("Revoke", number, "twice")
        self.assertClientError(again, "AlreadyRevoked", "second Revoke")
        wrong = u2.call("Verify", number, "a" * 26)
        self.assertClientError(wrong, "NotFound", "wrong code")


if __name__ == "__main__":
    main()

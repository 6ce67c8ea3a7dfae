#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: output_format "zip" (issue 10 item 4): one
one-page PDF per recipient plus manifest.csv, fetched with OpenCertificate
and read back with Python's zipfile and poppler; per-page progress;
cancellation; bad option values; another uid."""

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile

sys.dont_write_bytecode = True  # keep the source tree clean

from gi.repository import GLib

from certgen_test.testbus import (ERROR_PREFIX, TERMINAL, TEST_USERS, TIMEOUT_FACTOR,
                                  CertgenTestCase, DBusCallError, batch_json, main, multi_uid,
                                  single_json, sha256_file)

HOSTILE_NAMES = [
    "Ada Lovelace",
    '=HYPERLINK("http://evil.example","click")',
    'Smith, "Junior"',
    "+1 Plus",
    "-2 Minus",
    "@Mention",
    "Zoë Ångström",
]


def names_json(names):
    return json.dumps({"recipients": [{"recipientName": n} for n in names],
                       "courseName": "Zip Course", "issueDate": "2024-05-17"})


def csv_name(name):
    """What manifest.csv holds for a name: formulas get a leading apostrophe."""
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def pdf_pages_and_text(data):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], check=True, capture_output=True,
                              text=True).stdout
        text = subprocess.run(["pdftotext", "-layout", f.name, "-"], check=True,
                              capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return pages, text


class ZipTests(CertgenTestCase):

    def read_fd(self, pid):
        """The file OpenCertificate passes."""
        with os.fdopen(self.root.open_certificate(pid), "rb") as f:
            return f.read()

    def number_at(self, result, i):
        first = result["certificate_number"]
        m = re.match(r"^(.*?)(\d+)$", first)
        return f"{m.group(1)}{int(m.group(2)) + i:0{len(m.group(2))}d}"

    def check_member(self, pdf, number, decode_qr):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{number}.pdf")
            with open(path, "wb") as f:
                f.write(pdf)
            check = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            fonts = subprocess.run(["pdffonts", path], check=True, capture_output=True,
                                   text=True).stdout.splitlines()[2:]
            self.assertTrue(fonts, number)
            self.assertTrue(all(" yes " in line for line in fonts), fonts)
            urls = subprocess.run(["pdfinfo", "-url", path], check=True, capture_output=True,
                                  text=True).stdout.splitlines()[1:]
            self.assertEqual(len(urls), 1, urls)
            url = urls[0].split()[2]
            self.assertIn(f"/{number}?c=", url)
            if decode_qr:
                subprocess.run(["pdftoppm", "-r", "150", "-png", path, os.path.join(tmp, "p")],
                               check=True)
                (png,) = [n for n in os.listdir(tmp) if n.endswith(".png")]
                qr = subprocess.run(["zbarimg", "--quiet", "--raw", os.path.join(tmp, png)],
                                    check=True, capture_output=True, text=True).stdout.strip()
                self.assertEqual(qr, url)

    def check_zip(self, data, result, names):
        """The archive: a one-page PDF per name, named by its number in order,
        each showing its name; manifest.csv last with numbers, names, SHA-256s."""
        archive = zipfile.ZipFile(io.BytesIO(data))
        self.assertIsNone(archive.testzip())
        numbers = [self.number_at(result, i) for i in range(len(names))]
        self.assertEqual(numbers[-1], result["last_certificate_number"])
        self.assertEqual(archive.namelist(), [f"{n}.pdf" for n in numbers] + ["manifest.csv"])
        for info in archive.infolist():
            self.assertNotIn("/", info.filename)
            self.assertEqual(info.date_time, archive.infolist()[0].date_time)
        rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8"),
                                           newline="")))
        self.assertEqual(rows[0], ["number", "recipient_name", "sha256"])
        self.assertEqual(len(rows), len(names) + 1)
        for i, (number, name) in enumerate(zip(numbers, names)):
            pdf = archive.read(f"{number}.pdf")
            pages, text = pdf_pages_and_text(pdf)
            self.assertEqual(pages, 1, number)
            self.assertIn(name, text)
            self.assertIn(number, text)
            self.assertEqual(rows[i + 1], [number, csv_name(name), hashlib.sha256(pdf).hexdigest()])
            # cut from its range's PDF (issue 12): a sound PDF of its own,
            # fonts embedded, its own link; the QR code decodes to it on the
            # first page of each range and the last member
            self.check_member(pdf, number, i in (0, 8) or i == len(names) - 1)
        self.assertTrue(archive.read("manifest.csv").endswith(b"\r\n"))

    def test_zip_open_certificate(self):
        """OpenCertificate gives the ZIP (checksum and size of the result), every
        member read back (across two ranges); snapshot and result say zip."""
        # twice over: 14 members, two ranges of the batch (issue 12)
        names = HOSTILE_NAMES * 2
        pid, updates = self.run_to_end(names_json(names), output_format="zip")

        last = updates[-1]
        self.assertEqual(last["status"], "completed", last)
        self.assertTrue(all(u["output_format"] == "zip" for u in updates))
        result = last["result"]
        self.assertEqual(result["content_type"], "application/zip")
        self.assertEqual(result["pages"], len(names))
        data = self.read_fd(pid)
        self.assertEqual(data[:4], b"PK\x03\x04")
        self.assertEqual(hashlib.sha256(data).hexdigest(), result["checksum"])
        self.assertEqual(len(data), result["file_size"])
        self.assertEqual(sha256_file(self.cert_path(pid, "zip")), result["checksum"])
        self.assertFalse(os.path.exists(self.cert_path(pid)))
        self.check_zip(data, result, names)
        raw_manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.csv")
        # RFC 4180 quoting, and the formula shown as text
        self.assertIn(b',"\'=HYPERLINK(""http://evil.example"",""click"")",', raw_manifest)
        self.assertIn(b',"Smith, ""Junior""",', raw_manifest)
        self.assertEqual([e for e in self.cert_dir_entries() if e.startswith(".")], [])
        snap = self.root.progress(pid)
        self.assertEqual(snap["output_format"], "zip")

    def test_zip_single_recipient(self):
        """One recipient: one PDF and the manifest; Cleanup deletes the ZIP."""
        pid, updates = self.run_to_end(single_json(recipientName="Solo Person"),
                                       output_format="zip")
        result = updates[-1]["result"]
        self.assertEqual(result["certificate_number"], result["last_certificate_number"])
        self.check_zip(self.read_fd(pid), result, ["Solo Person"])
        # forgotten, the ZIP goes as a PDF does
        self.assertEqual(self.root.call("Cleanup"), 1)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])

    def test_pdf_is_default(self):
        """Without the option, and with output_format "pdf": a PDF."""
        for options in ({}, {"output_format": "pdf"}):
            pid, updates = self.run_to_end(batch_json(2), **options)
            self.assertEqual(updates[-1]["output_format"], "pdf")
            self.assertEqual(updates[-1]["result"]["content_type"], "application/pdf")
            self.assertEqual(self.read_fd(pid)[:5], b"%PDF-")

    def test_zip_progress_per_page(self):
        """Per-page progress as for a PDF: pages_done grows one page at a time
        to the total during pdf_generation; progress never goes down."""
        n = 60
        pid, updates = self.run_to_end(batch_json(n), output_format="zip",
                                       update_interval_ms=0)
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        pages = [u["pages_done"] for u in updates if u["stage"] == "pdf_generation"]
        self.assertEqual(pages, sorted(pages))
        # Every page is reported, in order (test-zip's CgTestProgress checks
        # each call); the tracker sends at most one update a millisecond
        # (update_interval_ms 0 rounds to 1 ms), and since a range of 8
        # pages renders as one PDF (issue 12) a quiet machine draws about
        # two pages a millisecond: some 25-30 of 60 values arrive, not
        # every one.
        self.assertGreater(len(set(pages)), n // 4, "progress should come per page")
        self.assertEqual(max(u["pages_done"] for u in updates), n)
        progress = [u["progress"] for u in updates]
        self.assertEqual(progress, sorted(progress))
        self.assert_sequence_consecutive(updates)

    def test_zip_cancel_mid_batch(self):
        """Cancel while the ZIP's pages render: cancelled, the work stops on
        both workers, no .zip and no temporary file left."""
        pid = self.root.start(batch_json(3000), output_format="zip", update_interval_ms=100)
        self.root.wait_stage(pid, "pdf_generation")
        self.root.call("Cancel", pid)
        t0 = time.monotonic()
        final = self.root.wait_terminal(pid, 10)
        self.assertEqual(final["status"], "cancelled", final)
        self.assertLess(final["pages_done"], 3000)
        self.assertLess(time.monotonic() - t0, 5 * TIMEOUT_FACTOR)
        self.assert_terminal_last(self.root, pid)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])
        self.assert_work_stopped()
        self.assert_healthy()

    def test_zip_timeout_leaves_nothing(self):
        """timeout_ms ends a ZIP batch timed_out with no file."""
        pid = self.root.start(batch_json(3000), output_format="zip", timeout_ms=1500)
        final = self.root.wait_terminal(pid, 30)
        self.assertEqual(final["status"], "timed_out", final)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])

    def test_bad_output_format(self):
        """An unknown value or a wrong type: InvalidArgument naming the option
        (and the values allowed); nothing is created."""
        cases = [("tar", "allowed: pdf, zip"), ("ZIP", "allowed: pdf, zip"),
                 ("", "allowed: pdf, zip"), ("zip\x1b[2J", "allowed: pdf, zip"),
                 (GLib.Variant("b", True), "expected type 's'"),
                 (GLib.Variant("as", ["zip"]), "expected type 's'")]
        for value, needle in cases:
            with self.assertRaises(DBusCallError) as cm:
                self.root.start(batch_json(2), output_format=value)
            err = cm.exception
            self.assertEqual(err.name, ERROR_PREFIX + "InvalidArgument", f"{value!r}: {err}")
            self.assertIn("output_format", str(err))
            self.assertIn(needle, str(err))
            self.assertNotIn("\x1b", str(err))
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(self.cert_dir_entries(), [])

    @multi_uid
    def test_zip_other_uid_not_found(self):
        """Another uid gets NotFound for a ZIP generation, as for any other;
        its owner fetches the ZIP."""
        u1 = self.spawn_client(TEST_USERS[0])
        u2 = self.spawn_client(TEST_USERS[1])
        start = u1.start(batch_json(3), output_format="zip")
        self.assertTrue(start["ok"], start)
        pid = start["value"]
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL)))
        self.assertClientError(u2.call("OpenCertificate", pid), "NotFound")
        self.assertClientError(u2.call("GetProgress", pid), "NotFound")
        fetched = u1.call("OpenCertificate", pid)
        self.assertTrue(fetched["ok"], fetched)
        self.assertEqual(fetched["value"]["head"][:2], "PK")
        self.assertEqual(fetched["value"]["sha256"],
                         self.root.progress(pid)["result"]["checksum"])


if __name__ == "__main__":
    main()

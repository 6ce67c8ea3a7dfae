#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: a PDF batch rendered in page ranges by both
workers and joined (issue 12 item 1; cairo's ranges by cg-pdf-concat.c):
the PDF valid for poppler and qpdf, every page there, numbers consecutive
in page order, fonts embedded (once per range: each range is a cairo
surface of its own), each page's QR code and link its own verification
URL across the ranges' seams, per-page progress, cancellation leaving no
file."""

import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import CertgenTestCase, batch_json, main

PAGES = 300
RANGES = 8  # cg_pdf_batch_range_pages(300) = 38 pages: 7 ranges of 38, one of 34


def poppler(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def page_text(path, page):
    return poppler("pdftotext", "-f", str(page), "-l", str(page), "-layout", path, "-")


def fonts(path):
    """pdffonts' rows: (name, emb)."""
    lines = poppler("pdffonts", path).splitlines()
    dashes = lines[1]
    cols = [m.span() for m in re.finditer(r"-+", dashes)]
    emb = cols[3]
    return [(line[:cols[0][1]].strip(), line[emb[0]:emb[1]].strip())
            for line in lines[2:] if line.strip()]


def qr_url(path, page):
    """The QR code of @page, as zbarimg reads it from the rasterized page."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), path,
                        os.path.join(tmp, "p")], check=True)
        (name,) = os.listdir(tmp)
        return poppler("zbarimg", "--quiet", "--raw", os.path.join(tmp, name)).strip()


def link_urls(path):
    """{page: [URL, ...]} of the link annotations, as pdfinfo -url lists them."""
    pages = {}
    for line in poppler("pdfinfo", "-url", path).splitlines()[1:]:
        page, kind, url = line.split()
        pages.setdefault(int(page), []).append(url)
    return pages


class PdfBatchTests(CertgenTestCase):

    def number_at(self, first, i):
        m = re.match(r"^(.*?)(\d+)$", first)
        return f"{m.group(1)}{int(m.group(2)) + i:0{len(m.group(2))}d}"

    def test_pdf_batch_joined(self):
        """300 pages by both workers: valid, 300 pages, page i shows number
        first + i and recipient i, fonts all embedded, RANGES copies each."""
        pid, updates = self.run_to_end(batch_json(PAGES), seconds=120)
        last = updates[-1]
        self.assertEqual(last["status"], "completed", last)
        result = last["result"]
        self.assertEqual(result["pages"], PAGES)
        path = self.cert_path(pid)
        info = poppler("pdfinfo", path)
        self.assertEqual(int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)), PAGES)
        first, final = result["certificate_number"], result["last_certificate_number"]
        self.assertEqual(self.number_at(first, PAGES - 1), final)
        self.assertRegex(info, rf"Title:\s+Certificates {first}–{final}")
        for page in (1, 2, 38, 39, 150, PAGES):
            text = page_text(path, page)
            self.assertIn(self.number_at(first, page - 1), text, page)
            self.assertIn(f"Batch Person {page - 1}\n", text.replace("  ", "\n"), page)
        # progress: pages in order, never past the batch, all of them at the
        # end (a fast machine renders 300 pages inside one update interval,
        # so the stage may report only its start)
        pages = [u["pages_done"] for u in updates if u["stage"] == "pdf_generation"]
        self.assertEqual(pages, sorted(pages))
        self.assertTrue(all(0 <= p <= PAGES for p in pages), pages)
        self.assertEqual(last["pages_done"], PAGES, last)
        # links: one a page, page i's for number first + i; the QR codes
        # of pages on both sides of the ranges' seams decode to them
        links = link_urls(path)
        self.assertEqual(sorted(links), list(range(1, PAGES + 1)))
        for page in range(1, PAGES + 1):
            self.assertEqual(len(links[page]), 1, (page, links[page]))
            self.assertIn(f"/{self.number_at(first, page - 1)}?c=", links[page][0], page)
        self.assertEqual(links[1][0], result["verification_url"])
        for page in (1, 38, 39, PAGES):
            self.assertEqual(qr_url(path, page), links[page][0], page)
        # qpdf finds nothing wrong in the joined file
        check = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        # fonts: every one embedded; a range's set at most once per range,
        # a subset that comes out the same in every range (the batch-wide
        # texts') written once (cg-pdf-concat.h's CG_PDF_CONCAT_SHARE)
        one_pid, one_updates = self.run_to_end(batch_json(1), transaction="tx-one")
        self.assertEqual(one_updates[-1]["status"], "completed")
        batch_fonts, one_fonts = fonts(path), fonts(self.cert_path(one_pid))
        self.assertTrue(one_fonts)
        self.assertTrue(all(emb == "yes" for _, emb in batch_fonts), batch_fonts)
        self.assertGreaterEqual(len(batch_fonts), len(one_fonts), batch_fonts)
        self.assertLess(len(batch_fonts), RANGES * len(one_fonts), batch_fonts)

    def test_pdf_batch_cancel(self):
        """Cancelled while both workers render: cancelled, no file, no
        temporary file."""
        pid = self.root.start(batch_json(3000), update_interval_ms=100)
        self.root.wait_stage(pid, "pdf_generation")
        self.root.call("Cancel", pid)
        last = self.root.wait_terminal(pid, 30)
        self.assertEqual(last["status"], "cancelled", last)
        self.assertLess(last["pages_done"], 3000)
        self.assert_no_file_for(pid)
        self.assertEqual(self.cert_dir_entries(), [])
        self.assert_work_stopped()
        self.assert_healthy()


if __name__ == "__main__":
    main()

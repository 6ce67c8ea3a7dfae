#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""RenderPreview (issue 10 item 3; DESIGN.md, Wave 2): one page as PNG in a
sealed, read-only fd, no number issued, nothing tracked; StartGeneration's
checks; a page out of range; [limits] preview_per_minute; polkit."""

import fcntl
import json
import math
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (ACTION_GENERATE, CertgenTestCase, GLib, batch_json,  # noqa: E402
                                  daemon_config, main, multi_uid, recipient, single_json,
                                  with_polkit)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 96


def png_size(png):
    """(width, height) from the IHDR chunk."""
    assert png[12:16] == b"IHDR", png[:32]
    return struct.unpack(">II", png[16:24])


class PreviewTests(CertgenTestCase):

    def test_preview_is_png_of_page_size(self):
        """A PNG at 96 dpi of the template's page; nothing tracked, no file."""
        for template in self.root.call("ListTemplates"):
            with self.subTest(template=template["id"]):
                png = self.root.render_preview(single_json(), template["id"], 1)
                self.assertEqual(png[:8], PNG_SIGNATURE)
                self.assertEqual(png_size(png),
                                 (math.ceil(template["width_pt"] * DPI / 72),
                                  math.ceil(template["height_pt"] * DPI / 72)))
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(self.cert_dir_entries(), [])

    def test_preview_fd_sealed_read_only(self):
        fd = self.root.open_fd("RenderPreview",
                               GLib.Variant("(ssu)", ("classic", single_json(), 1)))
        try:
            seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
            for seal in (fcntl.F_SEAL_WRITE, fcntl.F_SEAL_SHRINK, fcntl.F_SEAL_GROW):
                self.assertTrue(seals & seal, seals)
            with self.assertRaises(OSError):
                os.write(fd, b"x")
            self.assertEqual(os.pread(fd, 8, 0), PNG_SIGNATURE)
        finally:
            os.close(fd)

    def test_preview_leaves_no_fd(self):
        """certgend keeps no descriptor of a preview, answered or refused."""
        fd_dir = f"/proc/{self.daemon.pid}/fd"

        def preview_fds():
            # a worker thread may open its own font files the first time it
            # renders, so count the previews' memfds, not all descriptors
            targets = []
            for name in os.listdir(fd_dir):
                try:
                    targets.append(os.readlink(os.path.join(fd_dir, name)))
                except OSError:
                    pass  # closed meanwhile
            return [t for t in targets if "certgen-preview" in t]
        for page in (1, 2, 3):
            self.root.render_preview(batch_json(3), "classic", page)
            self.assertDBusError("InvalidArgument", self.root.render_preview, batch_json(3),
                                 "classic", 4)
        self.assertEqual(preview_fds(), [])

    def test_preview_page_is_recipient(self):
        """Page N is recipient N: pages differ, the same page is the same."""
        data = batch_json(3)
        first = self.root.render_preview(data, "classic", 1)
        self.assertEqual(self.root.render_preview(data, "classic", 1), first)
        self.assertNotEqual(self.root.render_preview(data, "classic", 3), first)
        single = self.root.render_preview(json.dumps(recipient(0)), "classic", 1)
        self.assertEqual(png_size(single), png_size(first))

    def test_preview_page_out_of_range(self):
        for page, data, count in ((0, batch_json(3), 3), (4, batch_json(3), 3),
                                  (2, single_json(), 1), (2**32 - 1, single_json(), 1)):
            with self.subTest(page=page):
                e = self.assertDBusError("InvalidArgument", self.root.render_preview, data,
                                         "classic", page)
                self.assertIn(f"page: {page} is out of range, the data has {count} page",
                              e.message)

    def test_preview_invalid_data_names_field(self):
        data = json.dumps({"recipients": [recipient(0), {"courseName": "x"}]})
        e = self.assertDBusError("InvalidData", self.root.render_preview, data, "classic", 1)
        # every problem at once, joined as in a failed generation's error_message
        self.assertEqual(e.message, "recipients[1].recipientName: required; "
                         "recipients[1].issueDate: required")
        e = self.assertDBusError("InvalidData", self.root.render_preview, "{", "classic", 1)
        self.assertIn("not valid JSON", e.message)

    def test_preview_bad_template(self):
        e = self.assertDBusError("TemplateNotFound", self.root.render_preview, single_json(),
                                 "nosuchtemplate", 1)
        self.assertIn("available: classic, modern", e.message)
        e = self.assertDBusError("InvalidArgument", self.root.render_preview, single_json(),
                                 "clas\x1bsic", 1)
        self.assertIn("template_id", e.message)
        e = self.assertDBusError("InvalidArgument", self.root.render_preview, single_json(),
                                 "../classic", 1)
        self.assertIn("not a template id", e.message)

    def test_preview_issues_no_number(self):
        """The counter does not move: the next generation gets the next number."""
        _, before = self.run_to_end(single_json())
        first = before[-1]["result"]["certificate_number"]
        for page in (1, 2, 3):
            self.root.render_preview(batch_json(3), "classic", page)
        _, after = self.run_to_end(single_json())
        number = after[-1]["result"]["certificate_number"]
        self.assertEqual(int(number[-6:]), int(first[-6:]) + 1, (first, number))
        self.assertEqual(len(self.root.call("ListGenerations")), 2)

    @daemon_config(limits={"preview_per_minute": 3})
    def test_preview_rate_limited(self):
        """preview_per_minute per caller; refused previews do not count, and
        StartGeneration has its own limit."""
        self.assertDBusError("InvalidData", self.root.render_preview, "{}", "classic", 1)
        self.assertDBusError("InvalidArgument", self.root.render_preview, single_json(),
                             "classic", 9)
        self.assertDBusError("TemplateNotFound", self.root.render_preview, single_json(),
                             "nosuch", 1)
        for _ in range(3):
            self.root.render_preview()
        e = self.assertDBusError("RateLimited", self.root.render_preview)
        self.assertIn("At most 3 previews", e.message)
        self.run_to_end(single_json())
        self.assert_healthy()

    @multi_uid
    @with_polkit()
    def test_preview_needs_generate(self):
        """Another uid needs org.certgen.Certificates1.generate."""
        u1 = self.spawn_client("certgen-test1")
        self.assertClientError(u1.call("RenderPreview", "classic", single_json(), 1),
                               "PermissionDenied", "generate denied")
        self.set_polkit_allowed([ACTION_GENERATE])
        reply = u1.call("RenderPreview", "classic", single_json(), 1)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["value"]["head"], "\x89PNG\r")


if __name__ == "__main__":
    main()

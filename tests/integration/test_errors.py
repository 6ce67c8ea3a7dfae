#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests: every D-Bus error name of the contract, each
for the reason DESIGN.md gives, and the daemon healthy afterwards."""

import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test import testbus as cg_testbus  # noqa: E402 (TemplateErrorTests points its TEMPLATE_DIR elsewhere)
from certgen_test.testbus import (BIG_BATCH, ERROR_PREFIX, CertgenTestCase, GLib, batch_json,
                        daemon_config, main, random_id, recipient, single_json)


class ErrorTests(CertgenTestCase):

    def assert_nothing_created(self):
        self.assertEqual(self.root.call("ListGenerations"), [])

    # -- NotFound -------------------------------------------------------------

    def test_not_found_unknown_id(self):
        """Every method taking an id answers NotFound for one that never existed."""
        for pid in (random_id(), "0" * 32):
            for method in ("GetProgress", "GetAnalytics", "Cancel", "Subscribe", "Unsubscribe"):
                with self.subTest(method=method, pid=pid):
                    self.assertDBusError("NotFound", self.root.call, method, pid)
            with self.subTest(method="OpenCertificate", pid=pid):
                self.assertDBusError("NotFound", self.root.open_certificate, pid)
        self.assert_healthy()

    # -- InvalidArgument ------------------------------------------------------

    def test_invalid_argument_unknown_option(self):
        """Unknown option keys are InvalidArgument, never ignored."""
        for opts in ({"bogus": GLib.Variant("u", 1)},
                     {"timeoutMs": GLib.Variant("u", 1000)},
                     {"timeout_ms": GLib.Variant("u", 1000), "extra": GLib.Variant("b", True)}):
            with self.subTest(options=list(opts)):
                e = self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                                         **opts)
                self.assertTrue(e.message, "the error message must say what is wrong")
        self.assert_nothing_created()
        self.assert_healthy()

    def test_invalid_argument_option_type(self):
        """Options with a wrong D-Bus type are InvalidArgument."""
        cases = {
            "timeout_ms": GLib.Variant("s", "1000"),
            "enable_cancellation": GLib.Variant("u", 1),
            "enable_persistence": GLib.Variant("s", "true"),
            "update_interval_ms": GLib.Variant("i", 100),
            "cancel_on_disconnect": GLib.Variant("i", 0),
            "owner_label": GLib.Variant("u", 7),
        }
        for key, value in cases.items():
            with self.subTest(option=key, type=value.get_type_string()):
                self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                                     **{key: value})
        # a timeout_ms of type t (64-bit) is not u either
        self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                             timeout_ms=GLib.Variant("t", 1000))
        self.assert_nothing_created()
        self.assert_healthy()

    def test_invalid_argument_template_id(self):
        """Template ids are names [a-z0-9][a-z0-9_-]{0,63}, never paths."""
        bad = ["../x", "a/b", "CLASSIC", "", "/classic", "classic/", ".", "..", "-x", "_x",
               "a" * 65, "clas sic", "classic\n", "./classic", "Classic"]
        for template in bad:
            with self.subTest(template=template):
                self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                                     template=template)
        self.assert_nothing_created()
        self.assert_healthy()

    def test_invalid_argument_transaction_id(self):
        """transaction_id must be 1-128 bytes."""
        self.assertDBusError("InvalidArgument", self.root.start, single_json(), transaction="")
        self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                             transaction="t" * 129)
        self.assert_nothing_created()
        pid, updates = self.run_to_end(single_json(), transaction="t" * 128)
        self.assertEqual(updates[-1]["transaction_id"], "t" * 128)

    # -- TemplateNotFound -----------------------------------------------------

    def test_template_not_found(self):
        for template in ("nosuchtemplate", "classic2", "a" * 64):
            with self.subTest(template=template):
                self.assertDBusError("TemplateNotFound", self.root.start, single_json(),
                                     template=template)
        self.assert_nothing_created()
        self.assert_healthy()

    # -- InvalidData ----------------------------------------------------------

    @daemon_config(limits={"max_data_bytes": 1024})
    def test_invalid_data_oversize(self):
        """data_json above max_data_bytes is InvalidData at once; at the limit it is accepted."""
        big = json.dumps(recipient(0, description="x" * 1000))
        self.assertGreater(len(big.encode()), 1024)
        self.assertDBusError("InvalidData", self.root.start, big)
        self.assert_nothing_created()
        fits = json.dumps(recipient(0, description="d" * 700))
        self.assertLessEqual(len(fits.encode()), 1024)
        pid, updates = self.run_to_end(fits)
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])

    def check_validation_failure(self, data, field):
        """The generation starts, then ends failed in data_validation with
        error InvalidData and an error_message naming the field."""
        pid = self.root.start(data)
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData", final)
        self.assertEqual(final["stage"], "data_validation", final)
        self.assertIn(field, final["error_message"])
        self.assertNotIn("result", final)
        stages = {u["stage"] for u in self.root.updates[pid]}
        self.assertNotIn("pdf_generation", stages)
        self.assert_terminal_last(self.root, pid)
        snap = self.root.progress(pid)
        self.assertEqual(snap["error"], final["error"])
        self.assertEqual(snap["error_message"], final["error_message"])
        self.assert_no_file_for(pid)
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assertDBusError("AlreadyFinished", self.root.call, "Cancel", pid)
        a = self.root.call("GetAnalytics", pid)
        self.assertEqual(a["status"], "failed")
        self.assertNotIn("pdf_generation", a["stage_durations"])
        return final

    def test_invalid_data_batch_field(self):
        """recipients[1] without recipientName: 'recipients[1].recipientName: required'."""
        data = json.dumps({"recipients": [{"recipientName": "Ok Person"}, {}],
                           "courseName": "C", "issueDate": "2024-01-31"})
        final = self.check_validation_failure(data, "recipients[1].recipientName")
        self.assertTrue(final["error_message"].startswith("recipients[1].recipientName"),
                        final["error_message"])
        self.assert_healthy()

    def test_invalid_data_every_error(self):
        """Every problem at once (issue 14 item 3): error_message joins
        them, the failed update and GetProgress carry errors (path,
        message) in document order; validate_only the same."""
        data = json.dumps({"courseName": "C", "recipients": [
            {"recipientName": "A", "issueDate": "2023-02-30"},
            {"recipientName": "B", "issueDate": "2024-01-31"},
            {"issueDate": "2024-01-31", "foo": "x"},
        ]})
        expected = [
            {"path": "recipients[0].issueDate", "message": "not a real date: 2023-02-30"},
            {"path": "recipients[2].foo", "message": "unknown field"},
            {"path": "recipients[2].recipientName", "message": "required"},
        ]
        joined = "; ".join(f"{e['path']}: {e['message']}" for e in expected)
        for options in ({}, {"validate_only": True}):
            with self.subTest(options=options):
                pid = self.root.start(data, **options)
                final = self.root.wait_terminal(pid)
                self.assertEqual(final["status"], "failed", final)
                self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData", final)
                self.assertEqual(final["error_message"], joined)
                self.assertEqual(final["errors"], expected)
                snap = self.root.progress(pid)
                self.assertEqual(snap["errors"], expected)
                self.assertEqual(snap["error_message"], joined)
                self.assert_no_file_for(pid)

        # one problem: the message as it always was, and a list of one
        one = self.check_validation_failure(
            json.dumps({"recipients": [{"recipientName": "Ok"}, {}], "courseName": "C",
                        "issueDate": "2024-01-31"}), "recipients[1].recipientName")
        self.assertEqual(one["error_message"], "recipients[1].recipientName: required")
        self.assertEqual(one["errors"], [{"path": "recipients[1].recipientName",
                                          "message": "required"}])
        self.assert_healthy()

    def test_invalid_data_errors_capped(self):
        """150 bad rows: 100 errors, the message names 20 and '… and 80 more'."""
        rows = [{"recipientName": f"N{i}", "issueDate": "2023-02-30"} for i in range(150)]
        data = json.dumps({"courseName": "C", "recipients": rows})
        pid = self.root.start(data)
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(len(final["errors"]), 100)
        self.assertEqual(final["errors"][99]["path"], "recipients[99].issueDate")
        self.assertTrue(final["error_message"].endswith(
            "recipients[19].issueDate: not a real date: 2023-02-30; … and 80 more"),
            final["error_message"][-120:])
        self.assertEqual(final["error_message"].count("; "), 20)
        self.assertEqual(len(self.root.progress(pid)["errors"]), 100)

    def test_invalid_data_no_errors_list(self):
        """Data that is not JSON is one error, without an errors list."""
        pid = self.root.start("{")
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData", final)
        self.assertNotIn("errors", final)

    def test_invalid_data_field_rules(self):
        """Each field rule of the classic template fails with that field named."""
        cases = [
            (dict(recipient(0), recipientName=""), "recipientName"),
            (dict(recipient(0), recipientName="n" * 129), "recipientName"),
            ({k: v for k, v in recipient(0).items() if k != "courseName"}, "courseName"),
            (dict(recipient(0), courseName="c" * 201), "courseName"),
            (dict(recipient(0), issueDate="2023-02-30"), "issueDate"),
            (dict(recipient(0), issueDate="17.05.2024"), "issueDate"),
            (dict(recipient(0), issuer="i" * 129), "issuer"),
            (dict(recipient(0), description="d" * 1001), "description"),
            (dict(recipient(0), recipientName=42), "recipientName"),
        ]
        for data, field in cases:
            with self.subTest(field=field, data=str(data)[:60]):
                self.check_validation_failure(json.dumps(data), field)
        self.assert_healthy()

    def test_invalid_data_glyphs_and_bidi(self):
        """A character no installed font has, or a bidi control, fails the
        generation in data_validation naming the field and the code point;
        ZWJ and ZWNJ stay allowed (issue 14 item 2)."""
        batch = {"recipients": [{"recipientName": "Fine"}, {"recipientName": "Bad\u0378"}],
                 "courseName": "C", "issueDate": "2024-01-31"}
        final = self.check_validation_failure(json.dumps(batch), "recipients[1].recipientName")
        self.assertIn("U+0378", final["error_message"])
        final = self.check_validation_failure(
            json.dumps(dict(recipient(0), issuer="Acme\u202e Ltd")), "issuer")
        self.assertIn("bidi control character U+202E", final["error_message"])
        pid, updates = self.run_to_end(
            json.dumps(dict(recipient(0), recipientName="\u0645\u200c\u0646\u200d")))
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])

    def test_invalid_data_limits_exact(self):
        """The documented maxima themselves are accepted (128/200/128/1000 characters,
        counted as characters, not bytes)."""
        data = dict(recipient(0), recipientName="é" * 128, courseName="c" * 200,
                    issuer="i" * 128, description="d" * 1000, issueDate="2024-02-29")
        pid, updates = self.run_to_end(json.dumps(data))
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])

    FIT_SCRIPTS = {
        "Latin": "Maria de los Ángeles Fernández-Villaverde y Rodríguez de la Fuente ",
        "CJK": "国际标准化组织认证高级软件工程师培训课程東京大学情報理工学系研究科",
        "Arabic": "محمد بن عبد الرحمن بن عبد الله الفلاني ",
        "Hebrew": "אברהם בן דוד הכהן מירושלים ",
    }

    @staticmethod
    def fit_sample(unit, n):
        """unit repeated and cut to n characters, not ending in a space."""
        text = (unit * (n // len(unit) + 1))[:n]
        return text[:-1] + "x" if text.endswith(" ") else text

    def test_invalid_data_cannot_fit(self):
        """A value within its length that cannot fit its box even at the
        template's minSize fails in data_validation, before any page, naming
        the field and the recipient (a shared field by its own path); no file
        (issue 14 item 1)."""
        batch = {"recipients": [{"recipientName": "Fine"},
                                {"recipientName": "\ufdfd" * 128}],
                 "courseName": "C", "issueDate": "2024-01-31", "issuer": "\u2e3b" * 128}
        pid = self.root.start(json.dumps(batch))
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData", final)
        self.assertEqual(final["stage"], "data_validation", final)
        self.assertIn("recipients[1].recipientName: does not fit in 3 lines at 8 pt",
                      final["error_message"])
        self.assertIn("issuer: does not fit in 3 lines at 4.5 pt", final["error_message"])
        self.assertNotIn("recipients[0]", final["error_message"])
        stages = {u["stage"] for u in self.root.updates[pid]}
        self.assertNotIn("pdf_generation", stages)
        self.assert_no_file_for(pid)
        self.assert_healthy()

    def test_max_lengths_fit_every_script(self):
        """The longest values the shipped templates accept (128-character
        names and issuers, 200-character courses) complete on both templates
        in Latin, CJK, Arabic and Hebrew (issue 14 item 1)."""
        for template in ("classic", "modern"):
            for script, unit in self.FIT_SCRIPTS.items():
                with self.subTest(template=template, script=script):
                    data = dict(recipient(0), recipientName=self.fit_sample(unit, 128),
                                courseName=self.fit_sample(unit, 200),
                                issuer=self.fit_sample(unit, 128))
                    pid, updates = self.run_to_end(json.dumps(data), template=template)
                    self.assertEqual(updates[-1]["status"], "completed", updates[-1])

    def test_invalid_data_not_json(self):
        """data_json that is not JSON is InvalidData (at once or in data_validation)."""
        try:
            pid = self.root.start('{"recipientName": "x", ')
        except Exception as e:  # pylint: disable=broad-except
            self.assertEqual(getattr(e, "name", None), ERROR_PREFIX + "InvalidData", e)
        else:
            final = self.root.wait_terminal(pid)
            self.assertEqual(final["status"], "failed")
            self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData")
            self.assert_no_file_for(pid)
        self.assert_healthy()

    @daemon_config(limits={"max_recipients": 5})
    def test_invalid_data_too_many_recipients(self):
        """max_recipients=5: a batch of 6 is InvalidData (at once or in
        data_validation, naming recipients); a batch of 5 completes."""
        try:
            pid = self.root.start(batch_json(6))
        except Exception as e:  # pylint: disable=broad-except
            self.assertEqual(getattr(e, "name", None), ERROR_PREFIX + "InvalidData", e)
            self.assert_nothing_created()
        else:
            final = self.root.wait_terminal(pid)
            self.assertEqual(final["status"], "failed", final)
            self.assertEqual(final["error"], ERROR_PREFIX + "InvalidData", final)
            self.assertIn("recipients", final["error_message"])
            self.assertNotIn("pdf_generation", {u["stage"] for u in self.root.updates[pid]})
            self.assert_no_file_for(pid)
        pid, updates = self.run_to_end(batch_json(5))
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        self.assertEqual(updates[-1]["result"]["pages"], 5)

    # -- Failed -------------------------------------------------------------------

    def test_internal_failure(self):
        """An I/O failure (the certificates directory replaced by a file) ends
        the generation 'failed' with error ...Error.Failed and a message; the
        daemon recovers once the directory is back."""
        os.makedirs(self.cert_dir, exist_ok=True)
        self.assertEqual(self.cert_dir_entries(), [])
        os.rmdir(self.cert_dir)
        with open(self.cert_dir, "w", encoding="utf-8") as f:
            f.write("not a directory\n")
        try:
            pid = self.root.start(batch_json(3))
            final = self.root.wait_terminal(pid)
        finally:
            os.unlink(self.cert_dir)
            os.mkdir(self.cert_dir, 0o755)
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(final["error"], ERROR_PREFIX + "Failed", final)
        self.assertTrue(final["error_message"], final)
        self.assertNotIn("result", final)
        self.assert_terminal_last(self.root, pid)
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assertEqual(self.cert_dir_entries(), [])
        self.assert_healthy()

    # -- RateLimited ----------------------------------------------------------

    @daemon_config(limits={"start_per_minute": 3})
    def test_rate_limited(self):
        """start_per_minute=3: the 4th StartGeneration is RateLimited; Cancel
        is never rate limited."""
        pids = [self.root.start(batch_json(BIG_BATCH), transaction=f"tx-{i}") for i in range(3)]
        self.assertDBusError("RateLimited", self.root.start, single_json())
        self.assertDBusError("RateLimited", self.root.start, single_json())
        self.assertEqual([s["progress_id"] for s in self.root.call("ListGenerations")], pids)
        for pid in pids:
            self.root.call("Cancel", pid)
        for pid in pids:
            final = self.root.wait_terminal(pid)
            self.assertEqual(final["status"], "cancelled")
            self.assert_no_file_for(pid)
        # still limited after the cancellations: the window is a minute
        self.assertDBusError("RateLimited", self.root.start, single_json())

    # -- LimitExceeded --------------------------------------------------------

    @daemon_config(limits={"max_active_per_owner": 1})
    def test_limit_exceeded_per_owner(self):
        """max_active_per_owner=1: a second start while a big batch runs is
        LimitExceeded; once it ended, starting works again."""
        pid = self.root.start(batch_json(BIG_BATCH))
        self.assertDBusError("LimitExceeded", self.root.start, single_json())
        self.assertEqual(len(self.root.call("ListGenerations")), 1)
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)
        self.assert_healthy()

    @daemon_config(limits={"max_active": 1})
    def test_limit_exceeded_overall(self):
        """max_active=1 holds across owners (here a delegated owner_label)."""
        pid = self.root.start(batch_json(BIG_BATCH))
        self.assertDBusError("LimitExceeded", self.root.start, single_json())
        if os.geteuid() == 0:
            self.assertDBusError("LimitExceeded", self.root.start, single_json(),
                                 owner_label="web-bob")
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)
        self.assert_healthy()

    @daemon_config(limits={"max_subscriptions_per_connection": 2})
    def test_limit_exceeded_subscriptions(self):
        """max_subscriptions_per_connection=2: the third Subscribe on one
        connection (to running generations) is LimitExceeded; Unsubscribe
        makes room."""
        # one starter connection per generation: a starter's own generations
        # count against its connection's allowance (data/certgen.conf)
        starters = [self.new_client() for _ in range(3)]
        pids = [c.start(batch_json(BIG_BATCH), transaction=f"tx-{i}")
                for i, c in enumerate(starters)]
        watcher = self.new_client()
        watcher.call("Subscribe", pids[0])
        watcher.call("Subscribe", pids[1])
        self.assertDBusError("LimitExceeded", watcher.call, "Subscribe", pids[2])
        watcher.call("Unsubscribe", pids[0])
        watcher.call("Subscribe", pids[2])
        # another connection has its own allowance
        other = self.new_client()
        other.call("Subscribe", pids[2])
        for c, pid in zip(starters, pids):
            c.call("Cancel", pid)
        for c, pid in zip(starters, pids):
            self.assertEqual(c.wait_terminal(pid)["status"], "cancelled")
        self.assertTrue(watcher.wait_terminal(pids[2]))

    # -- NotCancellable / AlreadyFinished / NotReady ---------------------------

    def test_not_cancellable(self):
        """enable_cancellation=false: Cancel is NotCancellable, cancellable is
        false in every update, and the generation completes."""
        pid = self.root.start(batch_json(300), enable_cancellation=False)
        self.assertDBusError("NotCancellable", self.root.call, "Cancel", pid)
        self.assertFalse(self.root.progress(pid)["cancellable"])
        final = self.root.wait_terminal(pid, 60)
        self.assertEqual(final["status"], "completed", final)
        self.assertTrue(all(u["cancellable"] is False for u in self.root.updates[pid]))
        self.assertDBusError("AlreadyFinished", self.root.call, "Cancel", pid)

    def test_already_finished(self):
        """Cancel after completed or after cancelled is AlreadyFinished."""
        pid, updates = self.run_to_end(single_json())
        self.assertEqual(updates[-1]["status"], "completed")
        self.assertFalse(updates[-1]["cancellable"])
        self.assertDBusError("AlreadyFinished", self.root.call, "Cancel", pid)
        pid2 = self.root.start(batch_json(BIG_BATCH))
        self.root.call("Cancel", pid2)
        self.root.wait_terminal(pid2)
        self.assertDBusError("AlreadyFinished", self.root.call, "Cancel", pid2)
        # the completed one is untouched
        self.assertEqual(self.root.progress(pid)["status"], "completed")
        self.assertTrue(os.path.isfile(self.cert_path(pid)))

    def test_not_ready(self):
        """OpenCertificate before download_ready (a big batch running) and
        after a cancellation is NotReady."""
        pid = self.root.start(batch_json(BIG_BATCH))
        self.root.wait_stage(pid, "pdf_generation")
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.root.call("Cancel", pid)
        final = self.root.wait_terminal(pid)
        self.assertEqual(final["status"], "cancelled")
        self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assert_healthy()



class TemplateErrorTests(CertgenTestCase):
    """Broken templates in the template directory (whoever may write there):
    a generation fails with ...Error.Failed and a message that names the
    template and what is wrong, never a path nor anything read from a file;
    the detail is in certgend's log; no worker hangs on a FIFO."""

    BROKEN_SIZE = """{ "page": { "width": 842, "height": 595 },
      "background": { "file": "background.pdf" }, "fields": [
      { "key": "recipientName", "x": 1, "y": 1, "size": 4711, "maxWidth": 100 } ] }"""

    def setUp(self):
        # certgend gets this directory instead of data/templates: the
        # shipped classic (linked, for assert_healthy) beside broken ones
        self.template_dir = tempfile.mkdtemp(prefix="certgen-it-templates-")
        self.addCleanup(shutil.rmtree, self.template_dir, ignore_errors=True)
        classic = os.path.join(cg_testbus.TEMPLATE_DIR, "classic")
        os.symlink(classic, os.path.join(self.template_dir, "classic"))
        background = os.path.join(classic, "background.pdf")
        self.add_template("broken-size", self.BROKEN_SIZE, background)
        self.add_template("linked", None, background)
        os.symlink("/etc/passwd", os.path.join(self.template_dir, "linked", "layout.json"))
        with open(os.path.join(classic, "layout.json"), encoding="utf-8") as f:
            classic_layout = f.read()
        self.add_template("fifo-background", classic_layout, None)
        os.mkfifo(os.path.join(self.template_dir, "fifo-background", "background.pdf"))
        self.add_template("dir-layout", None, None)
        os.mkdir(os.path.join(self.template_dir, "dir-layout", "layout.json"))

        saved = cg_testbus.TEMPLATE_DIR
        cg_testbus.TEMPLATE_DIR = self.template_dir
        try:
            super().setUp()
        finally:
            cg_testbus.TEMPLATE_DIR = saved

    def add_template(self, name, layout, background):
        path = os.path.join(self.template_dir, name)
        os.mkdir(path)
        if layout is not None:
            with open(os.path.join(path, "layout.json"), "w", encoding="utf-8") as f:
                f.write(layout)
        if background is not None:
            shutil.copy(background, os.path.join(path, "background.pdf"))

    def assert_discreet(self, message, *secrets):
        self.assertNotIn("/", message, f"a path in {message!r}")
        self.assertNotIn(self.template_dir, message)
        for secret in secrets:
            self.assertNotIn(secret, message)

    def daemon_log_text(self):
        with open(self.daemon_log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def failed_generation(self, template):
        pid = self.root.start(single_json(), template=template)
        final = self.root.wait_terminal(pid, 20)
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(final["error"], ERROR_PREFIX + "Failed", final)
        self.assertEqual(self.root.progress(pid)["error_message"], final["error_message"])
        return final["error_message"]

    def test_broken_template_message(self):
        """A value out of range: the member and its range, not the value
        nor the path; the journal has both."""
        message = self.failed_generation("broken-size")
        self.assertEqual(message, "Template broken-size: layout.json: fields[0].size: "
                                  "must be a number from 0.5 to 500")
        self.assert_discreet(message, "4711")
        log = self.daemon_log_text()
        self.assertIn(os.path.join(self.template_dir, "broken-size", "layout.json"), log)
        self.assertIn("4711", log)
        self.assert_healthy()

    def test_linked_to_etc_passwd(self):
        """layout.json linked to /etc/passwd: no line of it, no /etc."""
        message = self.failed_generation("linked")
        self.assertTrue(message.startswith("Template linked: layout.json: "), message)
        self.assert_discreet(message, "root", "/etc", "passwd")
        self.assert_healthy()

    def test_fifo_background(self):
        """A FIFO as the background fails at once; no worker waits on it."""
        for _ in range(3):  # more than one worker would be stuck otherwise
            message = self.failed_generation("fifo-background")
            self.assertEqual(message, "Template fifo-background: background "
                                      "“background.pdf”: not a regular file")
        self.assert_healthy()

    def test_directory_as_layout(self):
        """A directory as layout.json is refused by StartGeneration itself."""
        err = self.assertDBusError("Failed", self.root.start, single_json(),
                                   template="dir-layout")
        self.assertIn("Template dir-layout: layout.json: not a regular file", err.message)
        self.assert_discreet(err.message)
        self.assert_nothing_created()
        self.assert_healthy()

    def assert_nothing_created(self):
        self.assertEqual(self.root.call("ListGenerations"), [])


class StringArgumentTests(CertgenTestCase):
    """Issue 15 item 6: every string argument certgend stores or echoes is
    refused with a control character in it (C0, DEL, C1): InvalidArgument
    naming the argument and the character; nothing is created."""

    HOSTILE = [("\x1b[2J", "U+001B"), ("tab\there", "U+0009"), ("line\nbreak", "U+000A"),
               ("del\x7f", "U+007F"), ("csi\u009b31m", "U+009B"), ("nel\u0085", "U+0085")]

    def assert_refused(self, argument, code, func, *args, **kwargs):
        e = self.assertDBusError("InvalidArgument", func, *args, **kwargs)
        self.assertIn(f"{argument}: contains a control character ({code})", e.message)
        for c in e.message:
            self.assertFalse(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f,
                             f"raw control character in the error: {e.message!r}")

    def assert_start_refuses_hostile(self, argument, make_kwargs):
        """StartGeneration with each HOSTILE value put into an argument by
        make_kwargs(value) is refused, naming it; nothing is created."""
        for value, code in self.HOSTILE:
            with self.subTest(value=value):
                self.assert_refused(argument, code, self.root.start, single_json(),
                                    **make_kwargs(value))
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_transaction_id(self):
        self.assert_start_refuses_hostile("transaction_id",
                                          lambda value: {"transaction": f"tx-{value}"})
        # printable Unicode stays allowed
        pid, updates = self.run_to_end(single_json(), transaction="tx-ü-✓-日本")
        self.assertEqual(updates[-1]["transaction_id"], "tx-ü-✓-日本")

    def test_template_id(self):
        self.assert_start_refuses_hostile("template_id",
                                          lambda value: {"template": f"classic{value}"})

    def test_owner_label(self):
        """owner_label (the delegate's web user; root may delegate)."""
        for value, code in self.HOSTILE:
            with self.subTest(value=value):
                self.assert_refused("option owner_label", code, self.root.start,
                                    single_json(), owner_label=f"web-{value}")
        self.assertEqual(self.root.call("ListGenerations"), [])
        pid = self.root.start(single_json(), owner_label="web-alice")
        self.assertEqual(self.root.wait_terminal(pid)["owner_label"], "web-alice")

    def test_option_key(self):
        e = self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                                 **{"timeout_ms\x1b": GLib.Variant("u", 1000)})
        self.assertIn("options: a key: contains a control character (U+001B)", e.message)
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_progress_id(self):
        """Echoed in NotFound and in the log: refused too, for every method."""
        pid = self.root.start(single_json())
        self.root.wait_terminal(pid)
        for method in ("GetProgress", "GetAnalytics", "Cancel", "Subscribe", "Unsubscribe"):
            with self.subTest(method=method):
                self.assert_refused("progress_id", "U+001B", self.root.call, method,
                                    pid + "\x1b[2J")
        self.assert_refused("progress_id", "U+009B", self.root.open_certificate,
                            "\u009b" + pid)
        self.assert_healthy()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgenctl integration tests: the sd-bus client against certgend on the
private bus — plain, JSON and terminal output, saving the PDF, Ctrl-C,
watching another process's generation, forged signals, polling when signals
cannot be had, errors and exit statuses (DESIGN.md, certgenctl(1))."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import zipfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test import testbus as cg_testbus  # noqa: E402  (BUS_CONFIG is patched for the no-AddMatch case)
from certgen_test.testbus import (BIG_BATCH, BUILD_ROOT, MANAGER_IFACE, OBJECT_PATH, STAGES,  # noqa: E402
                        UPDATE_KEYS, CertgenTestCase, GLib, batch_json, daemon_config, main,
                        no_daemon, pdf_text, sha256_file, single_json, timeout, wait_until)

CERTGENCTL = os.environ.get("CERTGENCTL") or os.path.join(BUILD_ROOT, "client", "certgenctl")

# certgenctl(1), EXIT STATUS
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED, EXIT_TIMED_OUT, EXIT_UNREACHABLE, \
    EXIT_REFUSED = range(7)

PLAIN_LINE = re.compile(r"^\[ *(\d+\.\d)%\] ([a-z_]+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BAR = re.compile(r"\[[█▏▎▍▌▋▊▉░#-]{5,}\]")
NOT_RUNNING = ("certgend is not running (org.certgen.Certificates1 has no owner on the "
               "system bus)")

# A bus on which AddMatch is refused: certgenctl cannot receive signals
# through a match and must poll GetProgress instead.
NO_ADD_MATCH_POLICY = """
  <policy context="mandatory">
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="AddMatch"/>
  </policy>
</busconfig>
"""


def no_add_match(func):
    func.ctl_no_add_match = True
    return func


def bad_batch_json():
    """recipients[1] lacks recipientName."""
    return json.dumps({"recipients": [{"recipientName": "Fine Person"},
                                      {"courseName": "No Name Here"}],
                       "courseName": "Batch Course", "issueDate": "2024-05-17"})


class CertgenctlTests(CertgenTestCase):

    # -- plumbing -------------------------------------------------------------

    def setUp(self):
        if not os.access(CERTGENCTL, os.X_OK):
            self.fail(f"certgenctl not built: {CERTGENCTL}")
        self.ctl_runs = 0
        super().setUp()

    def _start_bus(self):
        method = getattr(self, self._testMethodName)
        if not getattr(method, "ctl_no_add_match", False):
            super()._start_bus()
            return
        saved = cg_testbus.BUS_CONFIG
        cg_testbus.BUS_CONFIG = saved.replace("</busconfig>", NO_ADD_MATCH_POLICY)
        try:
            super()._start_bus()
        finally:
            cg_testbus.BUS_CONFIG = saved

    def ctl_env(self, **extra):
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": self.tmpdir,
            "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address,
            "CERTGENCTL_DEBUG": "1",
        }
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def _log_path(self):
        self.ctl_runs += 1
        return os.path.join(self.tmpdir, f"certgenctl-{self.ctl_runs}.log")

    def ctl(self, *args, stdin=None, seconds=60, env=None, binary=False):
        """Run certgenctl to the end -> (returncode, stdout, stderr). stderr is
        also kept in a *.log file, printed when the test fails."""
        log_path = self._log_path()
        with open(log_path, "wb") as log:
            log.write(f"$ certgenctl {' '.join(args)}\n".encode())
            log.flush()
            proc = subprocess.run([CERTGENCTL, *args], input=stdin, capture_output=True,
                                  env=env or self.ctl_env(), cwd=self.tmpdir,
                                  timeout=timeout(seconds), check=False)
            log.write(proc.stderr)
            log.write(f"\n[exit status {proc.returncode}]\n".encode())
        out = proc.stdout if binary else proc.stdout.decode("utf-8")
        return proc.returncode, out, proc.stderr.decode("utf-8")

    def spawn_ctl(self, *args, env=None):
        """certgenctl in the background; stdout is a pipe, stderr a *.log file."""
        log_path = self._log_path()
        log = open(log_path, "wb")  # pylint: disable=consider-using-with
        log.write(f"$ certgenctl {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [CERTGENCTL, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=log, env=env or self.ctl_env(), cwd=self.tmpdir)
        log.close()
        proc.log_path = log_path
        proc.buffer = b""
        proc.lines = []

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        self.addCleanup(stop)
        return proc

    def read_line(self, proc, seconds=30):
        """Next stdout line of a spawned certgenctl (None at EOF)."""
        deadline = time.monotonic() + timeout(seconds)
        while b"\n" not in proc.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"certgenctl printed no line in {seconds}s")
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                proc.buffer += chunk
        line, proc.buffer = proc.buffer.split(b"\n", 1)
        text = line.decode("utf-8")
        proc.lines.append(text)
        return text

    def read_until(self, proc, predicate, seconds=30):
        while True:
            line = self.read_line(proc, seconds)
            if line is None:
                self.fail(f"certgenctl ended before the expected line; got {proc.lines}")
            if predicate(line):
                return line

    def finish(self, proc, seconds=30):
        """Wait for a spawned certgenctl -> (returncode, all stdout lines, stderr)."""
        while self.read_line(proc, seconds) is not None:
            pass
        rc = proc.wait(timeout(seconds))
        with open(proc.log_path, encoding="utf-8") as f:
            stderr = f.read()
        return rc, proc.lines, stderr

    def data_file(self, text, name=None):
        name = name or f"data-{self.ctl_runs + 1}-{time.monotonic_ns()}.json"
        path = os.path.join(self.tmpdir, name)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text)
        return path

    def out_dir(self):
        path = os.path.join(self.tmpdir, "out")
        os.makedirs(path, exist_ok=True)
        return path

    def json_lines(self, lines):
        objs = []
        for line in lines:
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                self.fail(f"not a JSON line: {line!r}: {e}")
        return objs

    def assert_json_updates(self, objs, pid=None):
        """Updates (objects with a sequence) have every D-Bus key and strictly
        increasing sequences; the last object is the final result object."""
        updates = [o for o in objs if "sequence" in o]
        self.assertTrue(updates, objs)
        seqs = [u["sequence"] for u in updates]
        self.assertEqual(seqs, sorted(set(seqs)), "sequences must strictly increase")
        for u in updates:
            for key in UPDATE_KEYS:
                self.assertIn(key, u, f"update lacks {key}: {u}")
            self.assertIn(u["stage"], STAGES)
            self.assertIsInstance(u["progress"], float)
            if pid is not None:
                self.assertEqual(u["progress_id"], pid)
        progress = [u["progress"] for u in updates]
        self.assertEqual(progress, sorted(progress), "progress went down")
        self.assertNotIn("sequence", objs[-1], "the last object is the result, not an update")
        self.assertEqual(objs[-1]["progress_id"], updates[-1]["progress_id"])
        self.assertEqual(objs[-1]["status"], updates[-1]["status"])
        return updates, objs[-1]

    def assert_no_temporary_files(self, directory, allowed=()):
        left = [e for e in os.listdir(directory) if e not in allowed]
        self.assertEqual(left, [], f"unexpected files in {directory}")

    # -- generate -----------------------------------------------------------

    def test_generate_plain_output(self):
        """Not a terminal: one plain line per update, the last one says
        completed, then the summary; exit 0; --output is the very PDF (size and
        SHA-256 of the result), written atomically (no temporary file left)."""
        data = self.data_file(single_json(recipientName="Plain Output"))
        out = os.path.join(self.out_dir(), "plain.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        lines = stdout.splitlines()
        progress_lines = [line for line in lines if PLAIN_LINE.match(line)]
        self.assertGreaterEqual(len(progress_lines), 3, lines)
        self.assertNotIn("\r", stdout)
        self.assertNotIn("\x1b", stdout)
        stages = [PLAIN_LINE.match(line).group(2) for line in progress_lines]
        for stage in stages[:-1]:
            self.assertIn(stage, STAGES)
        self.assertEqual(stages[-1], "completed")
        self.assertTrue(progress_lines[-1].startswith("[100.0%] completed"), progress_lines[-1])
        percents = [float(PLAIN_LINE.match(line).group(1)) for line in progress_lines]
        self.assertEqual(percents, sorted(percents))
        m = re.search(r"^Generation ([0-9a-f]{32}) completed: certificate (CERT\d{10}) "
                      r"\(1 page, .*sha256 ([0-9a-f]{64})\)\.$", stdout, re.M)
        self.assertIsNotNone(m, stdout)
        pid, number, checksum = m.groups()
        self.assertEqual(lines[-2], f"Saved to {out}.")
        # where the result is and until when (issue 10 item 6)
        self.assertRegex(lines[-1], rf"^certgend keeps the PDF until .+: certgenctl fetch {pid} "
                                    r"--output FILE \(generate --persist keeps it longer\)\.$")

        snap = self.root.progress(pid)
        self.assertEqual(snap["status"], "completed")
        self.assertEqual(snap["result"]["certificate_number"], number)
        self.assertEqual(snap["result"]["checksum"], checksum)
        self.assertEqual(snap["transaction_id"][:11], "certgenctl-")
        with open(out, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        self.assertEqual(os.path.getsize(out), snap["result"]["file_size"])
        self.assertEqual(sha256_file(out), snap["result"]["checksum"])
        self.assertEqual(sha256_file(out), sha256_file(self.cert_path(pid)))
        self.assert_no_temporary_files(self.out_dir(), allowed=["plain.pdf"])
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o666 & ~self.umask())

    @staticmethod
    def umask():
        mask = os.umask(0)
        os.umask(mask)
        return mask

    def test_generate_json(self):
        """--json: every line is a JSON object; updates carry the D-Bus keys with
        strictly increasing sequences, the terminal update is completed and the
        last object is the result; stdin data with --data -; options reach the
        service (--template, --transaction, --timeout)."""
        n = 30
        out = os.path.join(self.out_dir(), "batch.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", "-", "--json", "--template",
                                      "modern", "--transaction", "tx-ctl-json", "--timeout",
                                      "120", "-o", out, stdin=batch_json(n).encode())
        self.assertEqual(rc, EXIT_OK, stderr)
        objs = self.json_lines(stdout.splitlines())
        updates, final = self.assert_json_updates(objs)
        pid = final["progress_id"]
        self.assertEqual(updates[-1]["status"], "completed")
        self.assertEqual(updates[-1]["stage"], "completed")
        self.assertEqual(updates[-1]["progress"], 100.0)
        self.assertTrue(all(u["status"] == "in_progress" for u in updates[:-1]))
        self.assertTrue(all(u["transaction_id"] == "tx-ctl-json" for u in updates))
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["transaction_id"], "tx-ctl-json")
        self.assertEqual(final["output"], out)
        self.assertEqual(final["result"], updates[-1]["result"])
        self.assertEqual(final["result"]["pages"], n)
        self.assertNotIn("error", final)
        snap = self.root.progress(pid)
        self.assertEqual(dict(snap["result"]), final["result"])
        self.assertEqual(snap["sequence"], updates[-1]["sequence"])
        self.assertEqual(sha256_file(out), final["result"]["checksum"])
        self.assertEqual(os.path.getsize(out), final["result"]["file_size"])
        # --timeout 120 became timeout_ms=120000: not timed out, and the
        # modern template was used (portrait page).
        with open(out, "rb") as f:
            head = f.read()
        self.assertIn(b"/MediaBox [ 0 0 595", head)

    def pty_run(self, args, columns, env):
        """Run certgenctl with stdout on a pseudo-terminal of the given width
        -> (returncode, raw terminal output, stderr)."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        log_path = self._log_path()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([CERTGENCTL, *args], stdin=subprocess.DEVNULL,
                                    stdout=slave, stderr=log, env=env, cwd=self.tmpdir)
            os.close(slave)
            output = b""
            deadline = time.monotonic() + timeout(60)
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:  # EIO: the slave side is closed
                        break
                    if not chunk:
                        break
                    output += chunk
                elif proc.poll() is not None:
                    break  # exited and nothing more to read
            os.close(master)
            rc = proc.wait(timeout(10))
        with open(log_path, encoding="utf-8") as f:
            stderr = f.read()
        return rc, output.decode("utf-8"), stderr

    def redraws(self, output):
        """The in-place redraws: segments between carriage returns on the
        first line, without escape sequences."""
        first_line = output.replace("\r\n", "\n").split("\n", 1)[0]
        segments = [ANSI.sub("", seg) for seg in first_line.split("\r")]
        return [seg for seg in segments if seg]

    def test_generate_terminal_bar(self):
        """On a terminal: one line redrawn in place (\\r and erase-line), a bar
        as wide as the terminal allows, percentage, pages of the batch, colour;
        the final state stays on the screen followed by the summary."""
        n = 300
        data = self.data_file(batch_json(n))
        columns = 100
        rc, output, stderr = self.pty_run(["generate", "--data", data], columns,
                                          self.ctl_env(TERM="xterm-256color"))
        self.assertEqual(rc, EXIT_OK, f"{stderr}\n{output!r}")
        self.assertIn("\r", output)
        self.assertIn("\x1b[K", output)
        self.assertIn("\x1b[32m", output, "colours on a terminal without NO_COLOR")
        segments = self.redraws(output)
        self.assertGreaterEqual(len(segments), 5, segments)
        for seg in segments:
            self.assertLessEqual(len(seg), columns - 3, f"line wider than the terminal: {seg!r}")
            self.assertRegex(seg, r"^\S+ +" + BAR.pattern + r" +\d+\.\d%", seg)
            # the bar uses the width left over: the line fills columns - 3
            # (the last column, and room for an echoed ^C)
            self.assertEqual(len(seg), columns - 3, seg)
        self.assertTrue(any(f"/{n} pages" in seg for seg in segments), segments)
        self.assertTrue(segments[-1].startswith("completed"), segments[-1])
        self.assertIn("100.0%", segments[-1])
        # the summary, wrapped between words to the terminal's width
        self.assertRegex(output, r"\nGeneration [0-9a-f]{32} completed: certificates\s+"
                                 r"CERT\d{10}\s+to\s+CERT\d{10}\s+\(300\s+pages")
        # the in-place line is written once per update, not once per line
        self.assertEqual(output.replace("\r\n", "\n").split("\n", 1)[0].count("\r"),
                         len(segments))

    def test_generate_terminal_no_color(self):
        """NO_COLOR: no colour sequences, still redrawn in place; a narrow
        terminal gets a narrower bar and nothing longer than it."""
        data = self.data_file(single_json())
        columns = 60
        rc, output, stderr = self.pty_run(["generate", "--data", data], columns,
                                          self.ctl_env(TERM="xterm", NO_COLOR="1",
                                                       LANG="C"))
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertNotRegex(output, r"\x1b\[[0-9;]*m", "colour despite NO_COLOR")
        self.assertIn("\x1b[K", output)
        segments = self.redraws(output)
        self.assertGreaterEqual(len(segments), 3, segments)
        for seg in segments:
            self.assertEqual(len(seg), columns - 3, seg)
            # LANG=C: an ASCII bar
            self.assertRegex(seg, r"\[[#-]+\]")
        self.assertTrue(segments[-1].startswith("completed"), segments)

    def test_generate_persist(self):
        """generate --persist: enable_persistence; certgenctl says the PDF is
        kept until the owner's cleanup, status says so too, and the JSON
        result carries persistent and expires_at_us."""
        data = self.data_file(single_json())
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--persist")
        self.assertEqual(rc, EXIT_OK, stderr)
        pid = re.search(r"Generation ([0-9a-f]{32}) completed", stdout).group(1)
        self.assertIn(f"certgend keeps the PDF until you clean it up: certgenctl fetch {pid}",
                      stdout)
        snap = self.root.progress(pid)
        self.assertTrue(snap["persistent"])
        self.assertEqual(snap["expires_at_us"], 0)
        rc, stdout, stderr = self.ctl("status", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, r"Kept: +until its owner's cleanup")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        final = json.loads(stdout.splitlines()[-1])
        self.assertFalse(final["persistent"])
        self.assertGreater(final["expires_at_us"], 0)
        rc, stdout, stderr = self.ctl("status", final["progress_id"])
        self.assertRegex(stdout, r"Kept: +until \w{3} \d{4}-\d\d-\d\d")
        # --persist belongs to generate only
        rc, _, stderr = self.ctl("status", pid, "--persist")
        self.assertEqual(rc, EXIT_USAGE)
        self.assertIn('Option --persist does not apply to "status"', stderr)

    def test_generate_terminal_40_columns(self):
        """A 40-column terminal still shows a bar: the ETA and the page
        count give way first; nothing is wider than the terminal allows, and
        a long summary is wrapped between words, never inside one (issue
        10 item 8)."""
        data = self.data_file(batch_json(300))
        columns = 40
        rc, output, stderr = self.pty_run(["generate", "--data", data], columns,
                                          self.ctl_env(TERM="xterm", NO_COLOR="1"))
        self.assertEqual(rc, EXIT_OK, f"{stderr}\n{output!r}")
        segments = self.redraws(output)
        self.assertGreaterEqual(len(segments), 3, segments)
        for seg in segments:
            self.assertEqual(len(seg), columns - 3, seg)
            self.assertRegex(seg, BAR.pattern, seg)
            self.assertNotIn("ETA", seg)
        summary = ANSI.sub("", output.replace("\r\n", "\n").split("\n", 1)[1])
        lines = [line for line in summary.split("\n") if line]
        self.assertGreater(len(lines), 1, summary)
        for line in lines:
            # a word longer than a line stands alone
            if " " in line:
                self.assertLessEqual(len(line), columns - 1, line)
        words = " ".join(lines).split()
        self.assertIn("completed:", words)
        # the checksum (64 hex digits, longer than the line) stands alone, whole
        self.assertTrue(any(re.fullmatch(r"[0-9a-f]{64}\)?\.?", w) for w in words), words)

    def test_generate_terminal_eta_in_seconds(self):
        """The ETA is in whole seconds (or minutes) all along, never in
        milliseconds, so its unit does not flip near the end."""
        data = self.data_file(batch_json(BIG_BATCH))
        rc, output, stderr = self.pty_run(["generate", "--data", data], 120,
                                          self.ctl_env(TERM="xterm", NO_COLOR="1"))
        self.assertEqual(rc, EXIT_OK, f"{stderr}\n{output!r}")
        etas = re.findall(r"ETA (\S+)", output)
        self.assertTrue(etas, output[-2000:])
        for eta in etas:
            self.assertRegex(eta, r"^(\d+s|\d+m\d\ds|\d+h\d\dm)$", etas)

    def test_generate_invalid_data_names_field(self):
        """A batch whose second recipient lacks recipientName: the generation
        fails in data_validation, the message names the field, exit 1, and no
        output file is written."""
        data = self.data_file(bad_batch_json())
        out = os.path.join(self.out_dir(), "never.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--output", out)
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("Invalid data: recipients[1].recipientName: required", stderr)
        self.assertRegex(stderr, r"Generation [0-9a-f]{32} failed: Invalid data: ")
        last = [line for line in stdout.splitlines() if PLAIN_LINE.match(line)][-1]
        self.assertEqual(PLAIN_LINE.match(last).group(2), "failed", stdout)
        self.assertFalse(os.path.exists(out))
        self.assert_no_temporary_files(self.out_dir())

        # JSON: the final object carries the error name and message
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--json")
        self.assertEqual(rc, EXIT_FAILED, stderr)
        _, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
        self.assertEqual(final["status"], "failed")
        self.assertEqual(final["error"], "org.certgen.Certificates1.Error.InvalidData")
        self.assertEqual(final["error_message"], "recipients[1].recipientName: required")

    def test_generate_every_error(self):
        """Every problem at once: after the failure line, one line per problem
        (path: message); --json's final object has them as "errors"; --dry-run
        the same; CSV rows named as rows and columns."""
        data = self.data_file(json.dumps({"courseName": "C", "recipients": [
            {"recipientName": "A", "issueDate": "2023-02-30"},
            {"issueDate": "2024-05-17", "foo": "x\u001b[2J"}]}))
        expected = [("recipients[0].issueDate", "not a real date: 2023-02-30"),
                    ("recipients[1].foo", "unknown field"),
                    ("recipients[1].recipientName", "required")]
        for extra in ([], ["--dry-run"]):
            with self.subTest(extra=extra):
                rc, stdout, stderr = self.ctl("generate", "--data", data, *extra)
                self.assertEqual(rc, EXIT_FAILED, stderr)
                lines = stderr.splitlines()
                failed = [i for i, line in enumerate(lines) if " failed: Invalid data: " in line]
                self.assertTrue(failed, stderr)
                after = [line.split("  ", 1)[-1] for line in lines[failed[-1] + 1:]]
                self.assertEqual(after, [f"{p}: {m}" for p, m in expected], stderr)
                self.assertNotIn("\x1b", stderr + stdout)

                rc, stdout, stderr = self.ctl("generate", "--data", data, "--json", *extra)
                self.assertEqual(rc, EXIT_FAILED, stderr)
                _, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
                self.assertEqual([(e["path"], e["message"]) for e in final["errors"]], expected)
                self.assertEqual(final["error_message"],
                                 "; ".join(f"{p}: {m}" for p, m in expected))

        csv = "recipientName,courseName,issueDate\r\nAda,C,2024-02-30\r\n,C,2024-05-17\r\n"
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv), "--json")
        self.assertEqual(rc, EXIT_FAILED, stderr)
        _, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
        self.assertEqual([e["path"] for e in final["errors"]],
                         ["row 2, column issueDate", "row 3, column recipientName"], final)
        self.assertEqual(final["error_message"],
                         "row 2, column issueDate: not a real date: 2024-02-30; "
                         "row 3, column recipientName: required")

    # -- generate --dry-run ----------------------------------------------------

    def test_generate_dry_run(self):
        """--dry-run: validate_only; "valid: N pages", exit 0, no file, no
        number; --json ends with pages_total and no result."""
        data = self.data_file(batch_json(3))
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--dry-run")
        self.assertEqual(rc, EXIT_OK, stderr)
        m = re.search(r"^Generation ([0-9a-f]{32}): valid: 3 pages for template classic; "
                      r"nothing generated \(dry run\)\.$", stdout, re.M)
        self.assertIsNotNone(m, stdout)
        self.assertEqual(stdout.splitlines()[-1], m.group(0))
        pid = m.group(1)
        snap = self.root.progress(pid)
        self.assertEqual(snap["status"], "completed")
        self.assertNotIn("result", snap)
        self.assertEqual(self.cert_dir_entries(), [])

        rc, stdout, stderr = self.ctl("generate", "--data", data, "--dry-run", "--json",
                                      "--template", "modern")
        self.assertEqual(rc, EXIT_OK, stderr)
        updates, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["pages_total"], 3)
        self.assertNotIn("result", final)
        self.assertEqual({u["template_id"] for u in updates}, {"modern"})
        self.assertNotIn("pdf_generation", [u["stage"] for u in updates])
        self.assertEqual(self.cert_dir_entries(), [])

    def test_generate_dry_run_invalid(self):
        """--dry-run with bad data fails like a real run (exit 1, the field
        named); --dry-run and --output do not go together."""
        data = self.data_file(bad_batch_json())
        rc, _, stderr = self.ctl("generate", "--data", data, "--dry-run")
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("Invalid data: recipients[1].recipientName: required", stderr)
        out = os.path.join(self.out_dir(), "never.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--dry-run", "--output", out)
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn("--output cannot be combined with --dry-run", stderr)
        self.assertEqual(stdout, "")
        self.assertFalse(os.path.exists(out))
        rc, _, stderr = self.ctl("status", "--dry-run", "0" * 32)
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertEqual(self.root.call("ListGenerations")[-1]["status"], "failed")

    # -- templates --------------------------------------------------------------

    # -- preview ------------------------------------------------------------------

    def test_preview_writes_png(self):
        """preview: RenderPreview's PNG saved to a file (or stdout), the page
        asked; no generation, no number used."""
        data = self.data_file(batch_json(2))
        out = os.path.join(self.out_dir(), "page.png")
        rc, stdout, stderr = self.ctl("preview", "--data", data, "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(stdout, f"Saved a preview of page 1 to {out}.\n")
        with open(out, "rb") as f:
            first = f.read()
        self.assertEqual(first, self.root.render_preview(batch_json(2), "classic", 1))
        self.assert_no_temporary_files(self.out_dir(), allowed=["page.png"])
        rc, png, stderr = self.ctl("preview", "-d", data, "--page", "2", "-t", "modern",
                                   "-o", "-", binary=True)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(png, self.root.render_preview(batch_json(2), "modern", 2))
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_preview_refusals(self):
        """Not onto a terminal; usage errors before any call; the service's
        errors exit 6 and write nothing."""
        data = self.data_file(single_json())
        rc, _, stderr = self.pty_run(["preview", "--data", data, "--output", "-"], 80,
                                     self.ctl_env())
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn("Refusing to write a PNG image to the terminal", stderr)
        for args, message in (
                (["--data", data], "preview needs --output FILE.png"),
                (["--output", "x.png"], "preview needs the recipient data"),
                (["--data", data, "-o", "x.png", "--page", "0"], "Invalid --page \"0\""),
                (["--data", data, "-o", "x.png", "--page", "-1"], "Invalid --page"),
                (["--data", data, "-o", "x.png", "--page", "4294967296"], "Invalid --page"),
                (["--data", data, "-o", "x.png", "--dry-run"], "--dry-run")):
            with self.subTest(args=args):
                rc, _, stderr = self.ctl("preview", *args)
                self.assertEqual(rc, EXIT_USAGE, stderr)
                self.assertIn(message, stderr)
        out = os.path.join(self.out_dir(), "never.png")
        rc, _, stderr = self.ctl("preview", "--data", data, "--page", "2", "-o", out)
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertIn("page: 2 is out of range, the data has 1 page", stderr)
        rc, _, stderr = self.ctl("preview", "--data", self.data_file(bad_batch_json()),
                                 "-o", out)
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertIn("recipients[1].recipientName: required", stderr)
        self.assertFalse(os.path.exists(out))
        self.assert_no_temporary_files(self.out_dir())

    def test_templates_table(self):
        """templates: one line per template; --json ListTemplates' entries."""
        rc, stdout, stderr = self.ctl("templates")
        self.assertEqual(rc, EXIT_OK, stderr)
        lines = stdout.splitlines()
        self.assertRegex(lines[0], r"^ID +TITLE +PAGE \(PT\) +FIELDS$")
        self.assertRegex(lines[1], r"^classic +Classic +842 x 595 +5$")
        self.assertRegex(lines[2], r"^modern +Modern +595 x 842 +5$")
        self.assertEqual(lines[-1], "2 templates listed.")
        rc, stdout, stderr = self.ctl("templates", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(json.loads(stdout), self.root.call("ListTemplates"))
        self.assertEqual(len(stdout.splitlines()), 1)

    def test_templates_one(self):
        """templates ID: title, page and a line per data field; --json the entry."""
        rc, stdout, stderr = self.ctl("templates", "classic")
        self.assertEqual(rc, EXIT_OK, stderr)
        for line in ("Template: classic", "Title: Classic", "Description: A4 landscape.*",
                     "Page: 842 x 595 pt", "NAME +LABEL +TYPE +REQUIRED +LENGTH +SHARED",
                     "recipientName +Recipient name +string +yes +1-128 +yes",
                     "issueDate +Issue date +date +yes +- +yes",
                     "issuer +Issued by +string +no +0-128 +yes"):
            self.assertRegex(stdout, rf"(^|\n) *{line}\n")
        rc, stdout, stderr = self.ctl("templates", "modern", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        (modern,) = [t for t in self.root.call("ListTemplates") if t["id"] == "modern"]
        self.assertEqual(json.loads(stdout), modern)

    def test_templates_unknown(self):
        """An unknown id: exit 6 and the ids there are; hostile text escaped."""
        for args in (["templates", "fancy"], ["templates", "fancy", "--json"]):
            rc, stdout, stderr = self.ctl(*args)
            self.assertEqual(rc, EXIT_REFUSED, stderr)
            self.assertIn("Template 'fancy' not found; available: classic, modern", stderr)
            self.assertEqual(stdout, "")
        rc, stdout, stderr = self.ctl("templates", "\x1b[31mred")
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertNotIn("\x1b", stderr)
        self.assertIn("Template '\\x1b[31mred' not found", stderr)
        rc, _, stderr = self.ctl("templates", "a", "b")
        self.assertEqual(rc, EXIT_USAGE, stderr)

    # -- stats ------------------------------------------------------------------

    def test_stats_table(self):
        """stats: counts by status, a row per template, its stages; --json
        GetStatistics as one object."""
        rc, stdout, stderr = self.ctl("stats")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(stdout, "Generations: 0 (the last finished ones)\nBy status: "
                         "completed 0, failed 0, cancelled 0, timed_out 0\n")
        self.run_to_end(batch_json(3))
        self.run_to_end(json.dumps({"recipientName": 5}))
        self.run_to_end(single_json(), template="modern")
        rc, stdout, stderr = self.ctl("stats")
        self.assertEqual(rc, EXIT_OK, stderr)
        lines = stdout.splitlines()
        self.assertEqual(lines[0], "Generations: 3 (the last finished ones)")
        self.assertEqual(lines[1], "By status: completed 2, failed 1, cancelled 0, timed_out 0")
        self.assertRegex(lines[3], r"^TEMPLATE +GENERATIONS +PAGES +PAGE P50 +PAGE P95$")
        self.assertRegex(lines[4], r"^classic +2 +3 +\d+\.\d ms +\d+\.\d ms$")
        self.assertRegex(lines[5], r"^modern +1 +1 +\d+\.\d ms +\d+\.\d ms$")
        self.assertRegex(stdout, r"\nclassic\n  STAGE +P50 +P95\n  initializing +\d")
        self.assertRegex(stdout, r"\n  pdf_generation +\d+\.\d ms +\d+\.\d ms\n")
        rc, stdout, stderr = self.ctl("stats", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(len(stdout.splitlines()), 1)
        self.assertEqual(json.loads(stdout), self.root.call("GetStatistics"))
        rc, _, stderr = self.ctl("stats", "extra")
        self.assertEqual(rc, EXIT_USAGE, stderr)

    def test_generate_data_errors(self):
        """Data that never reaches a generation: a missing file and text that is
        not UTF-8 are local errors (exit 1), an unknown template is refused by
        certgend (exit 6), JSON syntax errors fail the generation (exit 1)."""
        missing = os.path.join(self.tmpdir, "missing.json")
        rc, _, stderr = self.ctl("generate", "--data", missing)
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn(f"Failed to read the data from {missing}: No such file or directory",
                      stderr)

        latin1 = self.data_file('{"recipientName": "Jos\xe9"}'.encode("latin-1"))
        rc, _, stderr = self.ctl("generate", "--data", latin1)
        self.assertEqual(rc, EXIT_FAILED)
        self.assertIn("is not valid UTF-8", stderr)

        rc, _, stderr = self.ctl("generate", "--data", self.data_file(single_json()),
                                 "--template", "no-such-template")
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertIn("Unknown template: ", stderr)
        self.assertIn("no-such-template", stderr)

        rc, _, stderr = self.ctl("generate", "--data", self.data_file("{not json"))
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("failed: Invalid data: ", stderr)

        self.assertEqual(self.root.call("ListGenerations")[-1]["status"], "failed")

    @daemon_config(limits={"start_per_minute": 1})
    def test_generate_rate_limited(self):
        """An error reply to StartGeneration: a sentence with the service's
        message and exit 6."""
        data = self.data_file(single_json())
        rc, _, stderr = self.ctl("generate", "--data", data)
        self.assertEqual(rc, EXIT_OK, stderr)
        rc, stdout, stderr = self.ctl("generate", "--data", data)
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertRegex(stderr, r"Rate limited: .+")
        self.assertEqual(stdout, "")

    def interrupt_generation(self, sig):
        data = self.data_file(batch_json(BIG_BATCH))
        out_dir = self.out_dir()
        out = os.path.join(out_dir, "interrupted.pdf")
        proc = self.spawn_ctl("generate", "--data", data, "--json", "--output", out)
        first = json.loads(self.read_line(proc))
        pid = first["progress_id"]
        self.read_until(proc, lambda line: json.loads(line).get("stage") == "pdf_generation")
        proc.send_signal(sig)
        rc, lines, stderr = self.finish(proc)
        self.assertEqual(rc, EXIT_CANCELLED, stderr)
        self.assertIn(f"Cancelling generation {pid}", stderr)
        self.assertIn(f"Generation {pid} was cancelled.", stderr)
        updates, final = self.assert_json_updates(self.json_lines(lines), pid)
        self.assertEqual(updates[-1]["status"], "cancelled")
        self.assertEqual(final["status"], "cancelled")
        self.assertNotIn("output", final)
        self.assertFalse(os.path.exists(out), "output written for a cancelled generation")
        self.assert_no_temporary_files(out_dir)
        snap = self.root.progress(pid)
        self.assertEqual(snap["status"], "cancelled")
        self.assertLess(snap["pages_done"], BIG_BATCH)
        self.assert_no_file_for(pid)

    def test_generate_sigint_cancels(self):
        """Ctrl-C (SIGINT) while waiting: Cancel, the terminal update, a message,
        exit 3, and no output file or temporary file."""
        self.interrupt_generation(signal.SIGINT)

    def test_generate_sigterm_cancels(self):
        """SIGTERM behaves like Ctrl-C."""
        self.interrupt_generation(signal.SIGTERM)

    def test_generate_timeout(self):
        """--timeout SECONDS becomes timeout_ms: the generation times out, exit 4."""
        data = self.data_file(batch_json(BIG_BATCH))
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--timeout", "0.5")
        self.assertEqual(rc, EXIT_TIMED_OUT, stderr)
        self.assertRegex(stderr, r"Generation [0-9a-f]{32} timed out")
        self.assertIn("] timed_out", stdout)

    def test_generate_no_wait(self):
        """--no-wait prints the id and returns; the generation runs on."""
        data = self.data_file(single_json())
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--no-wait")
        self.assertEqual(rc, EXIT_OK, stderr)
        pid = stdout.strip()
        self.assertRegex(pid, r"^[0-9a-f]{32}$")
        wait_until(lambda: self.root.progress(pid)["status"] == "completed", 30,
                   "the generation to complete")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--no-wait", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(json.loads(stdout)["progress_id"], r"^[0-9a-f]{32}$")

    @no_add_match
    def test_generate_polls_without_signals(self):
        """The bus refuses AddMatch: certgenctl says so, polls GetProgress every
        200 ms and still follows the generation to its end, in order."""
        data = self.data_file(batch_json(200))
        out = os.path.join(self.out_dir(), "polled.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--json", "-o", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("polling GetProgress every 200 ms", stderr)
        updates, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
        self.assertEqual(final["status"], "completed")
        self.assertGreaterEqual(len(updates), 2)
        self.assertEqual(sha256_file(out), final["result"]["checksum"])

    def test_generate_poll_option(self):
        """--poll follows by GetProgress alone, also through a cancellation."""
        data = self.data_file(batch_json(BIG_BATCH))
        proc = self.spawn_ctl("generate", "--data", data, "--json", "--poll")
        self.read_until(proc, lambda line: json.loads(line).get("stage") == "pdf_generation")
        proc.send_signal(signal.SIGINT)
        rc, lines, stderr = self.finish(proc)
        self.assertEqual(rc, EXIT_CANCELLED, stderr)
        self.assertNotIn("Cannot receive", stderr)
        updates, final = self.assert_json_updates(self.json_lines(lines))
        self.assertEqual(final["status"], "cancelled")

    # -- watch --------------------------------------------------------------

    def test_watch_other_process(self):
        """watch follows a generation started by another process of the same
        user (the harness's connection) to completion and saves it."""
        pid = self.root.start(batch_json(600), update_interval_ms=100, transaction="tx-watched")
        out = os.path.join(self.out_dir(), "watched.pdf")
        proc = self.spawn_ctl("watch", pid, "--json", "--output", out)
        rc, lines, stderr = self.finish(proc, 90)
        self.assertEqual(rc, EXIT_OK, stderr)
        updates, final = self.assert_json_updates(self.json_lines(lines), pid)
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["transaction_id"], "tx-watched")
        in_progress = [u for u in updates if u["status"] == "in_progress"]
        self.assertGreaterEqual(len(in_progress), 2, "watch showed no live updates")
        terminal = self.root.wait_terminal(pid, 60)
        self.assertEqual(updates[-1]["sequence"], terminal["sequence"])
        self.assertEqual(sha256_file(out), terminal["result"]["checksum"])

    def test_watch_finished_generation(self):
        """watch of a finished generation prints its terminal state (plain)."""
        pid, _ = self.run_to_end(single_json())
        rc, stdout, stderr = self.ctl("watch", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("[100.0%] completed", stdout)
        self.assertIn(f"Generation {pid} completed", stdout)

    def test_watch_ignores_forged_signals(self):
        """ProgressChanged from anyone but certgend's unique name is ignored,
        sent to certgenctl directly or broadcast; watch ends with the real
        terminal update (cancelled by the harness: exit 3)."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=100)
        proc = self.spawn_ctl("watch", pid, "--json")
        self.read_until(proc, lambda line: json.loads(line).get("stage") == "pdf_generation")
        name = self.unique_name_of(proc.pid)

        forger = self.new_client(listen=False)
        forged = {"progress_id": GLib.Variant("s", pid),
                  "transaction_id": GLib.Variant("s", "forged"),
                  "stage": GLib.Variant("s", "completed"),
                  "stage_index": GLib.Variant("u", 6),
                  "stage_progress": GLib.Variant("u", 100),
                  "progress": GLib.Variant("d", 100.0),
                  "status": GLib.Variant("s", "completed"),
                  "message": GLib.Variant("s", "FORGED"),
                  "sequence": GLib.Variant("t", 10 ** 9)}
        params = GLib.Variant("(sa{sv})", (pid, forged))
        forger.conn.emit_signal(name, OBJECT_PATH, MANAGER_IFACE, "ProgressChanged", params)
        forger.conn.emit_signal(None, OBJECT_PATH, MANAGER_IFACE, "ProgressChanged", params)
        forger.conn.flush_sync(None)
        # the next real update still gets through (sequence far below 10**9)
        self.read_until(proc, lambda line: json.loads(line).get("pages_done", 0) > 0)
        self.root.call("Cancel", pid)
        rc, lines, stderr = self.finish(proc)
        self.assertEqual(rc, EXIT_CANCELLED, stderr)
        self.assertNotIn("FORGED", "\n".join(lines))
        updates, final = self.assert_json_updates(self.json_lines(lines), pid)
        self.assertEqual(final["status"], "cancelled")
        self.assertTrue(all(u["sequence"] < 10 ** 9 for u in updates))

    def test_watch_interrupt_keeps_running(self):
        """Ctrl-C in watch stops watching (exit 3) but does not cancel."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=100)
        proc = self.spawn_ctl("watch", pid)
        self.read_until(proc, lambda line: "pdf_generation" in line)
        proc.send_signal(signal.SIGINT)
        rc, _, stderr = self.finish(proc)
        self.assertEqual(rc, EXIT_CANCELLED, stderr)
        self.assertIn(f"Stopped waiting; generation {pid} keeps running.", stderr)
        self.assertEqual(self.root.progress(pid)["status"], "in_progress")
        self.root.call("Cancel", pid)
        self.root.wait_terminal(pid)

    def test_watch_daemon_leaves(self):
        """certgend goes away while watched: exit 5 and a message."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=100)
        proc = self.spawn_ctl("watch", pid)
        self.read_until(proc, lambda line: "pdf_generation" in line)
        self.stop_daemon()
        rc, _, stderr = self.finish(proc)
        self.assertEqual(rc, EXIT_UNREACHABLE, stderr)
        self.assertIn(f"certgend left the system bus before generation {pid} ended.", stderr)

    # -- the other commands -------------------------------------------------

    def test_status(self):
        """status: fields for people, --json the snapshot."""
        pid, updates = self.run_to_end(batch_json(3), transaction="tx-status")
        result = updates[-1]["result"]
        rc, stdout, stderr = self.ctl("status", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, rf"Generation: {pid}\n")
        self.assertRegex(stdout, r"Transaction: tx-status\n")
        self.assertRegex(stdout, r"Template: classic\n")
        self.assertRegex(stdout, r"Status: completed\n")
        self.assertRegex(stdout, r"Stage: completed \(7/7\), 100%\n")
        self.assertRegex(stdout, r"Pages: 3/3\n")
        self.assertIn(f"{result['certificate_number']} to {result['last_certificate_number']}",
                      stdout)
        self.assertIn(result["checksum"], stdout)
        rc, stdout, stderr = self.ctl("status", pid, "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        snap = json.loads(stdout)
        self.assertEqual(snap["progress_id"], pid)
        self.assertEqual(snap["result"], dict(result))
        self.assertEqual(snap["sequence"], updates[-1]["sequence"])

    def test_status_failed_generation(self):
        """status of a failed generation shows the error sentence."""
        pid, _ = self.run_to_end(bad_batch_json())
        rc, stdout, stderr = self.ctl("status", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("Error: Invalid data: recipients[1].recipientName: required", stdout)

    def test_analytics(self):
        """analytics: durations per stage in pipeline order; --json the dict."""
        pid, _ = self.run_to_end(batch_json(3))
        rc, stdout, stderr = self.ctl("analytics", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, r"Total duration: \d+ ms")
        self.assertRegex(stdout, r"Status: completed")
        shown = re.findall(r"^(\w+) +\d+ ms$", stdout, re.M)
        self.assertEqual(shown, [s for s in STAGES if s in shown])
        self.assertIn("pdf_generation", shown)
        rc, stdout, stderr = self.ctl("analytics", pid, "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        a = json.loads(stdout)
        expected = self.root.call("GetAnalytics", pid)
        self.assertEqual(set(a), set(expected))
        self.assertEqual(a["stage_durations"], dict(expected["stage_durations"]))
        self.assertEqual(a["total_duration_ms"], expected["total_duration_ms"])

    def test_list(self):
        """list: a table with every generation; --json an array of snapshots."""
        rc, stdout, stderr = self.ctl("list")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(stdout, "No generations.\n")
        rc, stdout, _ = self.ctl("list", "--json")
        self.assertEqual(json.loads(stdout), [])
        pid1, _ = self.run_to_end(single_json(), transaction="tx-list-1")
        pid2, _ = self.run_to_end(bad_batch_json(), transaction="tx-list-2")
        rc, stdout, stderr = self.ctl("list")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, rf"{pid1} +tx-list-1 +completed +completed +100\.0%")
        self.assertRegex(stdout, rf"{pid2} +tx-list-2 +failed +data_validation")
        self.assertIn("2 generations listed.", stdout)
        rc, stdout, stderr = self.ctl("list", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual([s["progress_id"] for s in json.loads(stdout)], [pid1, pid2])

    def test_fetch(self):
        """fetch: OpenCertificate's file descriptor copied to a file or stdout;
        NotReady for a generation without a file."""
        pid, updates = self.run_to_end(single_json())
        result = updates[-1]["result"]
        out = os.path.join(self.out_dir(), "fetched.pdf")
        rc, stdout, stderr = self.ctl("fetch", pid, "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn(f"to {out}", stdout)
        self.assertEqual(sha256_file(out), result["checksum"])
        self.assert_no_temporary_files(self.out_dir(), allowed=["fetched.pdf"])
        # replaces an existing file
        with open(out, "wb") as f:
            f.write(b"old")
        rc, _, stderr = self.ctl("fetch", pid, "-o", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(os.path.getsize(out), result["file_size"])

        rc, data, stderr = self.ctl("fetch", pid, "--output", "-", binary=True)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(len(data), result["file_size"])
        self.assertTrue(data.startswith(b"%PDF-"))
        # ... but not onto a terminal (issue 10 item 8)
        rc, output, stderr = self.pty_run(["fetch", pid, "--output", "-"], 80, self.ctl_env())
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn("Refusing to write a certificate to the terminal", stderr)
        self.assertNotIn("%PDF", output)

        failed, _ = self.run_to_end(bad_batch_json())
        out2 = os.path.join(self.out_dir(), "failed.pdf")
        rc, _, stderr = self.ctl("fetch", failed, "--output", out2)
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertIn("The certificate is not ready: ", stderr)
        self.assertFalse(os.path.exists(out2))

        rc, _, stderr = self.ctl("fetch", pid)
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn("fetch needs --output FILE", stderr)

    def assert_zip_of(self, path, n):
        """path is a ZIP of n PDFs and manifest.csv."""
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            self.assertEqual(len(names), n + 1, names)
            self.assertEqual(names[-1], "manifest.csv")
            self.assertTrue(all(name.endswith(".pdf") for name in names[:-1]), names)
            self.assertTrue(archive.read(names[0]).startswith(b"%PDF-"))

    def test_generate_zip(self):
        """generate --zip: option output_format "zip"; --output saves the ZIP
        (SHA-256 of the result); the summary says ZIP; --json's result object
        carries output_format and content_type; status shows them."""
        n = 4
        data = self.data_file(batch_json(n))
        out = os.path.join(self.out_dir(), "class.bin")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--zip", "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        m = re.search(r"^Generation ([0-9a-f]{32}) completed: certificates \S+ to \S+ "
                      r"\(4 pages, ZIP, .*sha256 ([0-9a-f]{64})\)\.$", stdout, re.M)
        self.assertIsNotNone(m, stdout)
        pid, checksum = m.groups()
        self.assertEqual(sha256_file(out), checksum)
        self.assert_zip_of(out, n)
        snap = self.root.progress(pid)
        self.assertEqual(snap["output_format"], "zip")
        self.assertEqual(snap["result"]["content_type"], "application/zip")
        self.assert_no_temporary_files(self.out_dir(), allowed=["class.bin"])

        rc, stdout, stderr = self.ctl("status", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, r"Output: zip\n")
        self.assertRegex(stdout, r"Content type: application/zip\n")
        rc, stdout, stderr = self.ctl("status", pid, "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(json.loads(stdout)["output_format"], "zip")
        self.assertEqual(json.loads(stdout)["result"]["content_type"], "application/zip")

        rc, stdout, stderr = self.ctl("generate", "--data", data, "--zip", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        final = self.json_lines(stdout.splitlines())[-1]
        self.assertEqual(final["output_format"], "zip")
        self.assertEqual(final["result"]["content_type"], "application/zip")

        # fetch writes the ZIP as it is
        fetched = os.path.join(self.out_dir(), "fetched.zip")
        rc, _, stderr = self.ctl("fetch", pid, "--output", fetched)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(sha256_file(fetched), checksum)

    def test_generate_output_zip_implies_zip(self):
        """--output FILE.zip (any case) asks for a ZIP without --zip; a .pdf
        name stays a PDF."""
        data = self.data_file(batch_json(2))
        out = os.path.join(self.out_dir(), "Class.ZIP")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assert_zip_of(out, 2)
        out_pdf = os.path.join(self.out_dir(), "class.pdf")
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--output", out_pdf)
        self.assertEqual(rc, EXIT_OK, stderr)
        with open(out_pdf, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        # --zip is an option of generate only
        rc, _, stderr = self.ctl("status", "0123456789abcdef0123456789abcdef", "--zip")
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn("Option --zip does not apply to \"status\"", stderr)

    def test_cancel_and_cleanup(self):
        """cancel ends a running generation; a second cancel is refused;
        cleanup forgets finished generations and says how many."""
        pid = self.root.start(batch_json(BIG_BATCH), update_interval_ms=100)
        self.root.wait_stage(pid, "pdf_generation")
        rc, stdout, stderr = self.ctl("cancel", pid)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(stdout, "")
        self.assertEqual(self.root.wait_terminal(pid)["status"], "cancelled")
        rc, _, stderr = self.ctl("cancel", pid)
        self.assertEqual(rc, EXIT_REFUSED)
        self.assertIn("The generation has already finished: ", stderr)

        self.run_to_end(single_json())
        rc, stdout, stderr = self.ctl("cleanup")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(stdout, "Removed 2 finished generations.\n")
        rc, stdout, stderr = self.ctl("cleanup", "--json")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertEqual(json.loads(stdout), {"removed": 0})
        rc, _, stderr = self.ctl("status", pid)
        self.assertEqual(rc, EXIT_REFUSED)
        self.assertIn(f"Not found: No generation {pid}", stderr)

    def test_not_found(self):
        """Every command that takes an id says NotFound plainly (exit 6)."""
        unknown = "0123456789abcdef0123456789abcdef"
        out = os.path.join(self.out_dir(), "x.pdf")
        for args in (["status", unknown], ["watch", unknown], ["cancel", unknown],
                     ["analytics", unknown], ["fetch", unknown, "-o", out],
                     ["status", unknown, "--json"]):
            rc, stdout, stderr = self.ctl(*args)
            self.assertEqual(rc, EXIT_REFUSED, f"{args}: {stderr}")
            self.assertIn(f"Not found: No generation {unknown}", stderr, args)
            self.assertEqual(stdout, "", args)
        self.assertFalse(os.path.exists(out))

    @no_daemon
    def test_service_absent(self):
        """No certgend on the bus: exit 5 and a plain explanation, for every
        command; no bus at all: exit 5 too."""
        data = self.data_file(single_json())
        for args in (["list"], ["status", "abc"], ["generate", "--data", data],
                     ["watch", "abc"], ["cleanup"]):
            rc, stdout, stderr = self.ctl(*args)
            self.assertEqual(rc, EXIT_UNREACHABLE, f"{args}: {stderr}")
            self.assertIn(NOT_RUNNING, stderr, args)
            self.assertEqual(stdout, "", args)
        rc, _, stderr = self.ctl("list", env=self.ctl_env(
            DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.tmpdir}/no-such-socket"))
        self.assertEqual(rc, EXIT_UNREACHABLE, stderr)
        self.assertIn("Failed to connect to the system bus", stderr)

    @no_daemon
    def test_usage_errors(self):
        """Bad command lines exit 2 with a hint; --help and --version exit 0."""
        for args, message in (
                (["--no-such-option"], "unrecognized option"),
                (["list", "--no-such-option"], "unrecognized option"),
                ([], "Missing command"),
                (["frobnicate"], 'Unknown command "frobnicate"'),
                (["status"], "Missing argument"),
                (["status", "a", "b"], "Too many arguments"),
                (["fetch"], "Missing argument"),
                (["generate"], "generate needs the recipient data"),
                (["generate", "--data"], "requires an argument"),
                (["generate", "--data", "x", "--timeout", "soon"], "Invalid --timeout"),
                (["generate", "--data", "x", "--timeout", "0"], "Invalid --timeout"),
                (["generate", "--data", "x", "--no-wait", "-o", "y"], "--no-wait"),
                (["list", "--data", "x"], 'Option --data does not apply to "list"'),
                (["cancel", "x", "--json"], 'Option --json does not apply to "cancel"'),
        ):
            rc, stdout, stderr = self.ctl(*args)
            self.assertEqual(rc, EXIT_USAGE, f"{args}: {stderr}")
            self.assertIn(message, stderr, args)
            self.assertEqual(stdout, "", args)

        rc, stdout, _ = self.ctl("--help")
        self.assertEqual(rc, EXIT_OK)
        for verb in ("generate", "status", "watch", "cancel", "analytics", "list", "fetch",
                     "cleanup"):
            self.assertRegex(stdout, rf"\n  {verb}\b")
        self.assertIn("Exit status:", stdout)
        for code in range(7):
            self.assertRegex(stdout, rf"\n  {code}  ")
        rc, stdout, _ = self.ctl("generate", "--help")
        self.assertEqual(rc, EXIT_OK)
        self.assertIn("--timeout=SECONDS", stdout)
        self.assertIn("Ctrl-C", stdout)
        rc, stdout, _ = self.ctl("--version")
        self.assertEqual(rc, EXIT_OK)
        self.assertRegex(stdout, r"^certgenctl \d+\.\d+\.\d+")



class CertgenctlEscapingTests(CertgenctlTests):
    """Issue 15 item 6 through certgenctl: hostile strings are refused by
    certgend (certgenctl says which argument, and prints no raw control
    character), printable Unicode is shown as it is. How certgenctl
    escapes bus text itself is unit-tested (tests/test-ctl-util.c)."""

    def assert_no_raw_control(self, *texts):
        for text in texts:
            for c in text:
                self.assertFalse((ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f,
                                 f"raw control character in {text!r}")

    def test_hostile_transaction_refused(self):
        data = self.data_file(single_json())
        rc, stdout, stderr = self.ctl("generate", "--data", data, "--no-wait",
                                      "--transaction", "tx-\x1b]0;owned\x07\x1b[2J")
        self.assertEqual(rc, EXIT_REFUSED, stderr)
        self.assertIn("Invalid argument: transaction_id: contains a control character "
                      "(U+001B)", stderr)
        self.assert_no_raw_control(stdout, stderr)
        rc, stdout, stderr = self.ctl("list")
        self.assertEqual((rc, stdout), (EXIT_OK, "No generations.\n"), stderr)

    def test_hostile_id_refused(self):
        for verb in ("status", "cancel", "analytics", "watch"):
            with self.subTest(verb=verb):
                rc, stdout, stderr = self.ctl(verb, "\x1b[31m" + "0" * 32)
                self.assertEqual(rc, EXIT_REFUSED, stderr)
                self.assertIn("progress_id: contains a control character (U+001B)", stderr)
                self.assert_no_raw_control(stdout, stderr)

    def test_list_unicode_as_is(self):
        pid, _ = self.run_to_end(single_json(), transaction="tx-ü-✓-日本")
        rc, stdout, stderr = self.ctl("list")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertRegex(stdout, rf"{pid} +tx-ü-✓-日本 +completed")
        self.assert_no_raw_control(stdout)
        rc, stdout, stderr = self.ctl("list", "--json")
        self.assertEqual(json.loads(stdout)[0]["transaction_id"], "tx-ü-✓-日本")


# A CSV batch: the header is row 1, so recipient i is row i + 2.
CSV_HEADER = "recipientName,courseName,issueDate\r\n"


def csv_rows(n, course="CSV Course"):
    return CSV_HEADER + "".join(f'"Csv Person {i}, Jr.","{course}",2024-05-17\r\n'
                                for i in range(n))


class CertgenctlCsvTests(CertgenctlTests):
    """generate --csv FILE|- [--set FIELD=VALUE]...: the CSV becomes the same
    data JSON; errors name rows and columns (certgenctl(1), CSV DATA)."""

    def test_csv_file(self):
        """--csv FILE: one page per row, in order, quoted commas kept; the PDF
        holds every row's name."""
        out = os.path.join(self.out_dir(), "csv.pdf")
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv_rows(3)),
                                      "--output", out)
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("(3 pages,", stdout)
        text = pdf_text(out)
        for i in range(3):
            self.assertIn(f"Csv Person {i}, Jr.", text)
        self.assertIn("CSV Course", text)

    def test_csv_stdin_and_set(self):
        """--csv - reads standard input; --set gives shared fields (with a BOM
        and LF line ends, and a quoted field holding a line break)."""
        csv = "\ufeffrecipientName\n\"Ada\nLovelace\"\nAlan Turing\n\n"
        out = os.path.join(self.out_dir(), "set.pdf")
        rc, stdout, stderr = self.ctl("generate", "--csv", "-", "--set", "courseName=Set Course",
                                      "--set", "issueDate=2024-05-17", "--output", out,
                                      stdin=csv.encode())
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("(2 pages,", stdout)
        text = pdf_text(out)
        self.assertIn("Alan Turing", text)
        self.assertIn("Set Course", text)

    def test_csv_service_errors_name_rows(self):
        """certgend's InvalidData paths come back as rows and columns: recipient
        1 (the second row after the header) is row 3; a bad --set value is
        named as the --set."""
        csv = csv_rows(1) + ",Missing Name,2024-05-17\r\n"
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv))
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("Invalid data: row 3, column recipientName: required", stderr)
        self.assertNotIn("recipients[", stderr + stdout)
        self.assertIn("failed: row 3, column recipientName: required", stdout)

        rc, stdout, stderr = self.ctl("generate", "--csv", "-", "--set", "issueDate=2024-02-31",
                                      "--set", "courseName=C", "--json",
                                      stdin=b"recipientName\nAda\n")
        self.assertEqual(rc, EXIT_FAILED, stderr)
        _, final = self.assert_json_updates(self.json_lines(stdout.splitlines()))
        self.assertEqual(final["error"], "org.certgen.Certificates1.Error.InvalidData")
        self.assertTrue(final["error_message"].startswith("--set issueDate: not a real date"),
                        final)

        # the same data as JSON keeps certgend's paths
        rc, _, stderr = self.ctl("generate", "--data", self.data_file(bad_batch_json()))
        self.assertIn("recipients[1].recipientName: required", stderr)

    def test_csv_local_errors(self):
        """Problems of the CSV itself are found before anything starts, all at
        once, each named by row (and column): exit 1, no generation."""
        csv = ("recipientName,courseName,issueDate\n"
               "Ada,C,2024-05-17\n"
               "Bob,C\n"
               "Caf\xe9,C,2024-05-17\n").encode("latin-1")
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv))
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn(": invalid CSV data: row 3: expected 3 columns, found 2 (and 1 more "
                      "problem).", stderr)
        self.assertIn("  row 3: expected 3 columns, found 2\n", stderr)
        self.assertIn("  row 4, column recipientName: invalid UTF-8\n", stderr)

        cases = [
            (b"a,a\n1,2\n", "row 1, column 2: a named twice (also column 1)"),
            (b"recipientName\n\"Ada\n", "row 2, column recipientName: a quoted field is not "
                                         "closed by the end of the text"),
            (b"recipientName\nA\"da\n", "row 2, column recipientName: a quote inside an "
                                         "unquoted field"),
            (b"recipientName\n", "row 2: no recipients"),
            (b"", "row 1: no header row"),
            (b"recipientName\nA\0da\n", "row 2, column recipientName: NUL byte"),
        ]
        for csv, message in cases:
            with self.subTest(csv=csv):
                rc, _, stderr = self.ctl("generate", "--csv", "-", stdin=csv)
                self.assertEqual(rc, EXIT_FAILED, stderr)
                self.assertIn(f"standard input: invalid CSV data: {message}", stderr)
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_csv_usage_errors(self):
        """--set problems and option clashes are usage errors (exit 2)."""
        data = self.data_file(csv_rows(1))
        cases = [
            (("--csv", data, "--set", "recipientName=X"),
             "--set recipientName: also a column of the CSV (column 1)"),
            (("--csv", data, "--set", "issuer"), "--set issuer: expected FIELD=VALUE"),
            (("--csv", data, "--set", "a=1", "--set", "a=2"), "--set a: given twice"),
            (("--csv", data, "--set", "no way=1"), "--set no way: not a field name"),
            (("--csv", data, "--data", data), "--data and --csv cannot be combined"),
            (("--data", data, "--set", "a=1"), "--set applies to CSV data (--csv)"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                rc, _, stderr = self.ctl("generate", *args)
                self.assertIn(message, stderr)
                if "also a column" not in message:
                    self.assertEqual(rc, EXIT_USAGE, stderr)
                else:
                    self.assertEqual(rc, EXIT_FAILED, stderr)
        rc, _, stderr = self.ctl("status", "x", "--csv", data)
        self.assertEqual(rc, EXIT_USAGE, stderr)
        self.assertIn('Option --csv does not apply to "status"', stderr)
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_csv_dry_run(self):
        """--csv with --dry-run: validated only, errors by row and column as ever."""
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv_rows(2)),
                                      "--dry-run")
        self.assertEqual(rc, EXIT_OK, stderr)
        self.assertIn("valid: 2 pages for template classic", stdout)
        self.assertEqual(self.cert_dir_entries(), [])
        csv = csv_rows(1) + ",Missing Name,2024-05-17\r\n"
        rc, stdout, stderr = self.ctl("generate", "--csv", self.data_file(csv), "--dry-run")
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("Invalid data: row 3, column recipientName: required", stderr)

    @daemon_config(limits={"max_recipients": 2})
    def test_csv_max_recipients(self):
        """certgend's own cap: three rows with max_recipients=2 fail, named as
        the rows."""
        rc, _, stderr = self.ctl("generate", "--csv", self.data_file(csv_rows(3)))
        self.assertEqual(rc, EXIT_FAILED, stderr)
        self.assertIn("Invalid data: rows: at most 2 recipients", stderr)


if __name__ == "__main__":
    main()

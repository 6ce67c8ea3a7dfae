#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The README's recipe for running certgen uninstalled:
tests/scripts/private-bus.sh starts a private bus with the system bus's
policy, certgend and certgen-http from the build tree, and either prints the
environment to use or runs a command in it (issue 10 item 8)."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (BUILD_ROOT, SOURCE_ROOT, CertgenTestCase, main,  # noqa: E402
                                  no_daemon, single_json, timeout)

SCRIPT = os.path.join(SOURCE_ROOT, "tests", "scripts", "private-bus.sh")
CERTGENCTL = os.path.join(BUILD_ROOT, "client", "certgenctl")


class PrivateBusScriptTests(CertgenTestCase):

    def script_env(self):
        env = {k: v for k, v in os.environ.items() if k != "DBUS_SYSTEM_BUS_ADDRESS"}
        env["CERTGEN_BUILD_ROOT"] = BUILD_ROOT
        return env

    @no_daemon
    def test_command_runs_in_the_environment(self):
        """private-bus.sh -- certgenctl generate ...: the command reaches the
        script's certgend, its exit status is the script's, and the PDF is
        there."""
        data = os.path.join(self.tmpdir, "ada.json")
        with open(data, "w", encoding="utf-8") as f:
            f.write(single_json(recipientName="Ada Scripted"))
        out = os.path.join(self.tmpdir, "ada.pdf")
        r = subprocess.run([SCRIPT, "--", CERTGENCTL, "generate", "--data", data,
                            "--output", out], capture_output=True, text=True,
                           env=self.script_env(), cwd=self.tmpdir, timeout=timeout(60),
                           check=False)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertIn("completed", r.stdout)
        text = subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True,
                              check=True).stdout
        self.assertIn("Ada Scripted", text)
        # the command's own failure is the script's
        r = subprocess.run([SCRIPT, "--", CERTGENCTL, "status", "0" * 32],
                           capture_output=True, text=True, env=self.script_env(),
                           timeout=timeout(60), check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)

    @no_daemon
    def test_prints_the_environment_until_stopped(self):
        """Without a command: eval-able exports of the bus address, the
        bridge's URL and a token that the bridge accepts; Ctrl-C stops it
        all and removes its scratch directory."""
        proc = subprocess.Popen([SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.script_env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        env, scratch = {}, None
        for line in proc.stdout:
            m = re.match(r"export (\w+)='([^']*)'$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
            m = re.search(r"logs in (\S+)", line)
            if m:
                scratch = m.group(1)
            if line.startswith("# Ctrl-C"):
                break
        self.assertEqual(set(env), {"DBUS_SYSTEM_BUS_ADDRESS", "CERTGEN_URL", "CERTGEN_TOKEN"})
        r = subprocess.run([CERTGENCTL, "list"], capture_output=True, text=True,
                           env=dict(os.environ, **env), timeout=timeout(30), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        request = urllib.request.Request(
            env["CERTGEN_URL"] + "/api/certificates",
            data=json.dumps({"data": json.loads(single_json())}).encode(),
            headers={"Authorization": f"Bearer {env['CERTGEN_TOKEN']}",
                     "Content-Type": "application/json"})
        if os.geteuid() == 0:  # without polkit only root may delegate
            with urllib.request.urlopen(request, timeout=timeout(30)) as resp:
                self.assertEqual(resp.status, 201)
                self.assertRegex(json.load(resp)["progressId"], r"^[0-9a-f]{32}$")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout(30)), 0, proc.stderr.read())
        self.assertIsNotNone(scratch)
        self.assertFalse(os.path.exists(scratch), "scratch directory left behind")


if __name__ == "__main__":
    main()

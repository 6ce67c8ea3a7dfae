# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counting the method calls certgend gets on the private bus: dbus-monitor
(BecomeMonitor, allowed to root by the test bus's policy) writes every
Manager method call to a file; count(member) reads it."""

import os
import re
import shutil
import subprocess

from .testbus import wait_until

MANAGER_RULE = "type='method_call',interface='org.certgen.Certificates1.Manager'"


class BusMonitor:
    def __init__(self, address, path):
        if shutil.which("dbus-monitor") is None:
            raise RuntimeError("dbus-monitor not installed (dbus-bin)")
        self.path = path
        self.out = open(path, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["dbus-monitor", "--address", address, MANAGER_RULE],
            stdout=self.out, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def count(self, member):
        """How many calls of Manager.@member were seen."""
        return len(re.findall(rf"^method call .* member={member}$", self.text(), re.M))

    def wait_for(self, member, at_least, seconds=10):
        wait_until(lambda: self.count(member) >= at_least, seconds,
                   f"{at_least} {member} calls on the bus")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.out.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private system bus with certgend from the build tree, for the demo and
the benchmarks (the integration suite has its own harness, testbus.py,
whose bus configuration this reuses)."""

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time


from .testbus import BUS_CONFIG, POLICY_FILE, TEMPLATE_DIR

BUS_NAME = "org.certgen.Certificates1"


def status_kib(pid, key):
    """A /proc/PID/status figure in KiB: "VmRSS", "VmHWM" (the peak) ..."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss(pid):
    """Starts VmHWM again from the current RSS."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


class PrivateBus:
    """with PrivateBus(build_root, config={...}) as bus: bus.address, bus.state_dir

    template_dirs: directories searched before the shipped templates;
    max_connections: the bus's connection limits (the system bus allows 256
    per user)."""

    def __init__(self, build_root, config=None, daemon=True, quiet=True, template_dirs=(),
                 max_connections=None):
        self.build_root = os.path.abspath(build_root)
        self.max_connections = max_connections
        self.config = config or {}
        self.template_dirs = list(template_dirs)
        self.want_daemon = daemon
        self.quiet = quiet
        self.daemon = None

    def __enter__(self):
        self.tmpdir = tempfile.mkdtemp(prefix="certgen-")
        os.chmod(self.tmpdir, 0o755)
        socket = os.path.join(self.tmpdir, "system_bus_socket")
        conf = os.path.join(self.tmpdir, "bus.conf")
        text = BUS_CONFIG.format(socket=socket, policy=POLICY_FILE,
                                 user=pwd.getpwuid(os.geteuid()).pw_name)
        if self.max_connections is not None:
            # the system bus allows 256 connections per user
            limits = "".join(f'  <limit name="{name}">{self.max_connections}</limit>\n'
                             for name in ("max_completed_connections",
                                          "max_connections_per_user"))
            text = text.replace("</busconfig>", limits + "</busconfig>")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(text)
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork",
                                     "--nopidfile", "--print-address=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.bus.stdout.readline()
        self.address = f"unix:path={socket}"
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        self.state_dir = os.path.join(self.tmpdir, "state")
        if self.want_daemon:
            self.start_daemon()
        return self

    def start_daemon(self):
        cfg = os.path.join(self.tmpdir, "certgen.conf")
        with open(cfg, "w", encoding="utf-8") as f:
            for group, keys in self.config.items():
                f.write(f"[{group}]\n")
                for key, value in keys.items():
                    f.write(f"{key}={value}\n")
        self.log_path = os.path.join(self.tmpdir, "certgend.log")
        log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        self.daemon = subprocess.Popen(
            [os.path.join(self.build_root, "service", "certgend"), "--config", cfg]
            + [arg for d in self.template_dirs + [TEMPLATE_DIR] for arg in ("--template-dir", d)]
            + ["--state-dir", self.state_dir],
            stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address))
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = subprocess.run(["gdbus", "call", "--system", "-d", "org.freedesktop.DBus",
                                "-o", "/org/freedesktop/DBus", "-m",
                                "org.freedesktop.DBus.NameHasOwner", BUS_NAME],
                               capture_output=True, text=True, check=False)
            if "true" in r.stdout:
                return
            if self.daemon.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("certgend did not start:\n" + open(self.log_path).read())

    def __exit__(self, *exc):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(30)
        self.bus.terminate()
        self.bus.wait(10)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return False

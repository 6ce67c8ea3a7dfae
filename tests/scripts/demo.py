#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Live demo: a private system bus, certgend from the build tree, and a
client that follows a batch generation stage by stage, then fetches the PDF
through OpenCertificate (fd passing) and prints the analytics; then the same
with certgenctl generate.

Usage: /usr/bin/python3 tests/scripts/demo.py BUILD_DIR [OUTPUT.pdf]"""

import json
import os
import shutil
import subprocess
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

from certgen_test.privatebus import BUS_NAME, PrivateBus  # noqa: E402

PATH = "/org/certgen/Certificates1"
IFACE = "org.certgen.Certificates1.Manager"

DATA = {
    "recipients": [
        {"recipientName": "Ada Lovelace"},
        {"recipientName": "Zoë Łukasiewicz-Ñúñez"},
        {"recipientName": "Дмитрий Шостакович"},
        {"recipientName": "Αλέξανδρος Παπαδόπουλος"},
        {"recipientName": "Grace Brewster Murray Hopper"},
        {"recipientName": "Alan Mathison Turing"},
    ] + [{"recipientName": f"Student {i:03d}"} for i in range(1, 195)],
    "courseName": "Reliable System Services with GLib and D-Bus",
    "issueDate": "2026-11-28",
    "issuer": "certgen Academy",
}


def bar(progress, width=30):
    filled = int(progress * width / 100)
    return "#" * filled + "-" * (width - filled)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    output = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "certgen-demo.pdf")
    tty = sys.stdout.isatty()
    with PrivateBus(build, config={"workers": {"threads": 2}}) as bus:
        print(f"private system bus: {bus.address}")
        conn = Gio.DBusConnection.new_for_address_sync(
            bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        owner = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetNameOwner",
                               GLib.Variant("(s)", (BUS_NAME,)), None, 0, -1, None)[0]
        version = conn.call_sync(BUS_NAME, PATH, "org.freedesktop.DBus.Properties", "Get",
                                 GLib.Variant("(ss)", (IFACE, "Version")), None, 0, -1,
                                 None)[0]
        print(f"certgend {version} owns {BUS_NAME} as {owner}")
        loop = GLib.MainLoop()
        state = {"id": None, "last": None, "pending": []}

        def show(update):
            line = (f"[{bar(update['progress'])}] {update['progress']:5.1f}%  "
                    f"{update['stage']:<16} {update['pages_done']:>3}/{update['pages_total']:<3} "
                    f"seq {update['sequence']:<3} {update['message']}")
            if tty:
                print("\r" + line.ljust(110), end="", flush=True)
            else:
                print(line)
            state["last"] = update
            if update["status"] != "in_progress":
                if tty:
                    print()
                loop.quit()

        def on_signal(_c, sender, _p, _i, _m, params):
            if sender != owner:  # only the service's unique name is trusted
                return
            pid, update = params.unpack()
            if state["id"] is None:
                state["pending"].append((pid, update))
            elif pid == state["id"]:
                show(update)

        # Subscribe first, then start: nothing is missed.
        conn.signal_subscribe(owner, IFACE, "ProgressChanged", PATH, None,
                              Gio.DBusSignalFlags.NONE, on_signal)
        options = {"update_interval_ms": GLib.Variant("u", 50)}
        pid = conn.call_sync(BUS_NAME, PATH, IFACE, "StartGeneration",
                             GLib.Variant("(sssa{sv})", ("demo-1", "classic",
                                                         json.dumps(DATA), options)),
                             GLib.VariantType("(s)"), 0, -1, None)[0]
        print(f"StartGeneration -> {pid} ({len(DATA['recipients'])} recipients)")
        state["id"] = pid
        for p, u in state.pop("pending"):
            if p == pid:
                show(u)
        if state["last"] is None or state["last"]["status"] == "in_progress":
            loop.run()
        final = state["last"]
        if final["status"] != "completed":
            print(f"generation ended {final['status']}: {final.get('error_message')}")
            return 1
        result = final["result"]
        print(f"completed: {result['pages']} pages, {result['certificate_number']} .. "
              f"{result['last_certificate_number']}, {result['file_size']} bytes, "
              f"sha256 {result['checksum'][:16]}...")
        reply, fds = conn.call_with_unix_fd_list_sync(
            BUS_NAME, PATH, IFACE, "OpenCertificate", GLib.Variant("(s)", (pid,)),
            GLib.VariantType("(h)"), 0, -1, None, None)
        fd = fds.get(reply[0])
        with os.fdopen(fd, "rb") as src, open(output, "wb") as dst:
            shutil.copyfileobj(src, dst)
        print(f"OpenCertificate -> fd, saved {output}")
        analytics = conn.call_sync(BUS_NAME, PATH, IFACE, "GetAnalytics",
                                   GLib.Variant("(s)", (pid,)), None, 0, -1, None)[0]
        print(f"analytics: {analytics['total_duration_ms']} ms total, "
              f"{analytics['average_progress_rate']:.0f} %/s")
        for stage, ms in analytics["stage_durations"].items():
            print(f"  {stage:<17} {ms:>6} ms")
        info = subprocess.run(["pdfinfo", output], capture_output=True, text=True,
                              check=False).stdout
        print("\n".join(line for line in info.splitlines()
                        if line.split(":")[0] in ("Pages", "Page size", "Creator",
                                                  "CreationDate")))
        return demo_certgenctl(build, bus, output)


def demo_certgenctl(build, bus, output):
    """The same from the command line: certgenctl generate, on the same bus."""
    data_path = os.path.join(bus.tmpdir, "class.json")
    with open(data_path, "w", encoding="utf-8") as f:
        json.dump(dict(DATA, recipients=DATA["recipients"][:40]), f)
    ctl_output = output.replace(".pdf", "-certgenctl.pdf")
    command = [os.path.join(build, "client", "certgenctl"), "generate", "--data", data_path,
               "--output", ctl_output]
    print(f"\n$ DBUS_SYSTEM_BUS_ADDRESS={bus.address} certgenctl generate --data class.json "
          f"--output {os.path.basename(ctl_output)}", flush=True)
    return subprocess.run(command, env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address),
                          check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

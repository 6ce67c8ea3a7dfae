#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen integration tests: a scripted D-Bus client for another process/uid.

It is also where the harness's D-Bus names, method signatures and small
helpers are defined once: testbus.py imports them. This file must import
nothing of the harness, because the harness copies it alone to a scratch
directory another uid can read.

The harness (certgen_test/testbus.py) runs this file as a subprocess, usually under
`setpriv --reuid=USER --regid=USER --clear-groups`, so that calls reach
certgend with that user's uid. It reads one JSON command per line on stdin
and answers each with exactly one JSON line on stdout:

  {"cmd": "call", "method": M, "args": [...], "options": {k: [sig, value]}}
      -> {"ok": true, "value": ...} or {"ok": false, "error": NAME, "message": ...}
  {"cmd": "add_match", "rule": RULE}       AddMatch on the bus driver
  {"cmd": "request_name", "name": NAME}    RequestName on the bus driver
  {"cmd": "raw_call", "destination", "path", "interface", "method",
   "signature", "args"}                    any method call
  {"cmd": "signals"}                       every org.certgen.Certificates1.Manager
                                           signal this connection received so far
  {"cmd": "wait_signal", "id": ID, "status": [..] | "stage": S | "count": N,
   "timeout": SECONDS}                     wait for a matching received signal
  {"cmd": "exit"}

Every answer carries "signal_count": how many Manager signals had been
received when it was written. Messages arrive in order on one connection, so
after a method reply that count includes every signal sent before the reply.

Signals are recorded by a connection filter, which sees every incoming
message whether or not anything subscribed to it: a signal that reaches this
connection at all (broadcast, eavesdropped or unicast) is recorded.
"""

import argparse
import hashlib
import json
import os
import sys
import threading
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = "org.certgen.Certificates1"
OBJECT_PATH = "/org/certgen/Certificates1"
MANAGER_IFACE = "org.certgen.Certificates1.Manager"

# method -> (in signature, out signature)
METHODS = {
    "StartGeneration": ("(sssa{sv})", "(s)"),
    "Cancel": ("(s)", "()"),
    "GetProgress": ("(s)", "(a{sv})"),
    "GetAnalytics": ("(s)", "(a{sv})"),
    "Subscribe": ("(s)", "()"),
    "Unsubscribe": ("(s)", "()"),
    "ListGenerations": ("()", "(aa{sv})"),
    "OpenCertificate": ("(s)", "(h)"),
    "Cleanup": ("()", "(u)"),
    "ListTemplates": ("()", "(aa{sv})"),
    "GetStatistics": ("()", "(a{sv})"),
    "RenderPreview": ("(ssu)", "(h)"),
    "Verify": ("(ss)", "(a{sv})"),
    "Revoke": ("(ss)", "()"),
}

TERMINAL = ("completed", "failed", "cancelled", "timed_out")


def read_to_end(fd):
    """Everything left to read from the file descriptor fd."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def strip_remote(message, name):
    prefix = f"GDBus.Error:{name}: "
    return message[len(prefix):] if name and message.startswith(prefix) else message


def jsonable(value):
    """Unpacked GVariant values -> JSON-friendly values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


class Client:
    def __init__(self, address):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        self.conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        self.lock = threading.Lock()
        self.signals = []
        self.conn.add_filter(self._filter)

    def _filter(self, _conn, message, incoming):
        if (incoming and message.get_message_type() == Gio.DBusMessageType.SIGNAL
                and message.get_interface() == MANAGER_IFACE):
            body = message.get_body()
            record = {
                "sender": message.get_sender(),
                "destination": message.get_destination(),
                "member": message.get_member(),
                "args": jsonable(body.unpack()) if body is not None else [],
                "time": time.monotonic(),
            }
            with self.lock:
                self.signals.append(record)
        return message

    def signal_count(self):
        with self.lock:
            return len(self.signals)

    def snapshot_signals(self):
        with self.lock:
            return list(self.signals)

    @staticmethod
    def _options(raw):
        out = {}
        for key, (sig, value) in (raw or {}).items():
            out[key] = GLib.Variant(sig, value)
        return out

    def call(self, method, args, options=None):
        in_sig, out_sig = METHODS[method]
        args = list(args)
        if method == "StartGeneration":
            args = args[:3] + [self._options(options)]
        params = GLib.Variant(in_sig, tuple(args)) if in_sig != "()" else None
        if method in ("OpenCertificate", "RenderPreview"):
            result, fd_list = self.conn.call_with_unix_fd_list_sync(
                BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, params,
                GLib.VariantType.new(out_sig), Gio.DBusCallFlags.NO_AUTO_START,
                30000, None, None)
            index = result.unpack()[0]
            fd = fd_list.get(index)
            try:
                data = read_to_end(fd)
            finally:
                os.close(fd)
            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "head": data[:5].decode("latin-1")}
        result = self.conn.call_sync(
            BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, params,
            GLib.VariantType.new(out_sig), Gio.DBusCallFlags.NO_AUTO_START, 30000, None)
        values = result.unpack()
        if len(values) == 0:
            return None
        return jsonable(values[0])

    def bus_call(self, method, params, out_sig):
        result = self.conn.call_sync(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            method, params, GLib.VariantType.new(out_sig),
            Gio.DBusCallFlags.NONE, 30000, None)
        values = result.unpack()
        return jsonable(values[0]) if values else None

    def wait_signal(self, request):
        deadline = time.monotonic() + float(request.get("timeout", 30))
        pid = request.get("id")
        while True:
            matching = [s for s in self.snapshot_signals()
                        if s["member"] == "ProgressChanged"
                        and (pid is None or s["args"][0] == pid)]
            if "count" in request and len(matching) >= request["count"]:
                return True
            for s in matching:
                update = s["args"][1]
                if "status" in request and update.get("status") in request["status"]:
                    return True
                if "stage" in request and update.get("stage") == request["stage"]:
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def handle(self, request):
        cmd = request["cmd"]
        if cmd == "call":
            return {"ok": True, "value": self.call(request["method"], request.get("args", []),
                                                  request.get("options"))}
        if cmd == "add_match":
            self.bus_call("AddMatch", GLib.Variant("(s)", (request["rule"],)), "()")
            return {"ok": True}
        if cmd == "request_name":
            value = self.bus_call("RequestName", GLib.Variant("(su)", (request["name"], 4)), "(u)")
            return {"ok": True, "value": value}
        if cmd == "raw_call":
            sig = request.get("signature")
            params = GLib.Variant(sig, tuple(request.get("args", []))) if sig else None
            result = self.conn.call_sync(
                request["destination"], request["path"], request["interface"],
                request["method"], params, None, Gio.DBusCallFlags.NO_AUTO_START, 30000, None)
            return {"ok": True, "value": jsonable(result.unpack()) if result else None}
        if cmd == "signals":
            return {"ok": True, "value": self.snapshot_signals()}
        if cmd == "wait_signal":
            return {"ok": self.wait_signal(request)}
        if cmd == "info":
            return {"ok": True, "value": {"unique_name": self.conn.get_unique_name(),
                                          "uid": os.getuid(), "gid": os.getgid(),
                                          "groups": os.getgroups()}}
        raise ValueError(f"unknown command {cmd!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default=os.environ.get("DBUS_SYSTEM_BUS_ADDRESS"))
    args = parser.parse_args()

    client = Client(args.address)

    def reply(obj):
        obj["signal_count"] = client.signal_count()
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"ok": True, "ready": True, "unique_name": client.conn.get_unique_name(),
           "uid": os.getuid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        if request["cmd"] == "exit":
            break
        try:
            reply(client.handle(request))
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            reply({"ok": False, "error": name, "message": strip_remote(e.message, name)})
    client.conn.close_sync(None)


if __name__ == "__main__":
    main()

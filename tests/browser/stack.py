#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The stack the browser tests drive: a private system bus with certgend
from the build tree (certgen_test/privatebus.py, which reuses the
integration suite's bus configuration) and certgen-http in front of it,
serving client/web.

    PYTHONPATH=tests /usr/bin/python3 tests/browser/stack.py [--users N] [--artifacts DIR]
        [--template-dir DIR]...

prints one JSON line when everything is up:

    {"url": "http://127.0.0.1:PORT", "port": PORT, "token": "...",
     "tokens": {"web1": "...", ...}, "bridgeLog": PATH, "daemonLog": PATH}

then reads commands from standard input, one a line, and answers each with
one JSON line:

    kill-bridge      SIGKILL certgen-http (a crash: streams drop mid-event)
    start-bridge     start it again on the same port
    restart-bridge   both
    logs             {"bridge": "...", "daemon": "..."} (the last 64 KiB)

End of input or SIGTERM tears everything down (bridge, certgend, bus).

Environment: CERTGEN_SOURCE_ROOT, CERTGEN_BUILD_ROOT (set by meson),
CERTGEN_HTTP (the bridge binary, default $CERTGEN_BUILD_ROOT/client/http/
certgen-http). Exits 77 when a piece is missing.
"""

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("CERTGEN_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD_ROOT = os.environ.get("CERTGEN_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")

BRIDGE = os.environ.get("CERTGEN_HTTP") or os.path.join(BUILD_ROOT, "client", "http", "certgen-http")
CERTGEND = os.path.join(BUILD_ROOT, "service", "certgend")
WEB_ROOT = os.path.join(SOURCE_ROOT, "client", "web")

for path, what in ((CERTGEND, "certgend"), (BRIDGE, "certgen-http")):
    if not os.access(path, os.X_OK):
        sys.stderr.write(f"stack.py: {what} is not built ({path})\n")
        sys.exit(77)
if shutil.which("dbus-daemon") is None:
    sys.stderr.write("stack.py: dbus-daemon is not installed\n")
    sys.exit(77)

try:
    from certgen_test.testbus import DEFAULT_CONFIG  # noqa: E402  (needs python3-gi)
    from certgen_test.privatebus import PrivateBus  # noqa: E402
except SystemExit:
    raise
except ImportError as e:  # pragma: no cover
    sys.stderr.write(f"stack.py: {e}\n")
    sys.exit(77)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, size=65536):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Bridge:
    def __init__(self, tmpdir, port, tokens_file):
        self.port = port
        self.tokens_file = tokens_file
        self.log_path = os.path.join(tmpdir, "certgen-http.log")
        self.proc = None

    def start(self, seconds=20):
        log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        log.write(f"--- starting certgen-http at {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        env = dict(os.environ, G_MESSAGES_DEBUG=os.environ.get("G_MESSAGES_DEBUG", "all"))
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [BRIDGE, "--listen", f"127.0.0.1:{self.port}", "--tokens", self.tokens_file,
             "--web-root", WEB_ROOT],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + seconds
        url = f"http://127.0.0.1:{self.port}/"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"certgen-http exited with {self.proc.returncode}:\n"
                                   + tail(self.log_path, 4096))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("certgen-http did not answer within "
                           f"{seconds} s:\n" + tail(self.log_path, 4096))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3, help="web users (tokens) to create")
    parser.add_argument("--artifacts", help="copy the logs here on exit")
    parser.add_argument("--template-dir", action="append", default=[],
                        help="a template directory searched before the shipped one")
    parser.add_argument("--finished-ttl", type=int,
                        help="certgend's [cleanup] finished_ttl_s (how long results stay)")
    args = parser.parse_args()
    config = {group: dict(keys) for group, keys in DEFAULT_CONFIG.items()}
    if args.finished_ttl is not None:
        config["cleanup"]["finished_ttl_s"] = args.finished_ttl

    # SIGTERM ends the command loop like end of input does.
    def on_term(_sig, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    with PrivateBus(BUILD_ROOT, config=config, template_dirs=args.template_dir) as bus:
        tokens = {f"web{i + 1}": secrets.token_urlsafe(24) for i in range(args.users)}
        tokens_file = os.path.join(bus.tmpdir, "tokens")
        with open(tokens_file, "w", encoding="ascii") as f:
            for name, token in tokens.items():
                f.write(f"{name} {hashlib.sha256(token.encode()).hexdigest()}\n")
        os.chmod(tokens_file, 0o600)
        bridge = Bridge(bus.tmpdir, free_port(), tokens_file)
        try:
            bridge.start()
            reply({"url": f"http://127.0.0.1:{bridge.port}", "port": bridge.port,
                   "token": tokens["web1"], "tokens": tokens,
                   "bridgeLog": bridge.log_path, "daemonLog": bus.log_path,
                   "stateDir": bus.state_dir})
            for line in sys.stdin:
                cmd = line.strip()
                try:
                    if cmd == "kill-bridge":
                        bridge.kill()
                        reply({"ok": True})
                    elif cmd == "start-bridge":
                        bridge.start()
                        reply({"ok": True})
                    elif cmd == "restart-bridge":
                        bridge.kill()
                        bridge.start()
                        reply({"ok": True})
                    elif cmd == "logs":
                        reply({"ok": True, "bridge": tail(bridge.log_path),
                               "daemon": tail(bus.log_path)})
                    elif cmd:
                        reply({"ok": False, "error": f"unknown command {cmd!r}"})
                except RuntimeError as e:
                    reply({"ok": False, "error": str(e)})
        except KeyboardInterrupt:
            pass
        finally:
            bridge.stop()
            if args.artifacts:
                os.makedirs(args.artifacts, exist_ok=True)
                for path in (bridge.log_path, bus.log_path):
                    if os.path.exists(path):
                        shutil.copy(path, args.artifacts)
    return 0


if __name__ == "__main__":
    sys.exit(main())

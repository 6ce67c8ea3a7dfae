#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run certgen uninstalled: a private bus with the system bus's policy,
certgend and certgen-http from the build tree, and the environment that
points clients at them.

    tests/scripts/private-bus.sh [--build DIR] [--port N]
        prints the environment (eval-able "export" lines), then keeps
        everything running until Ctrl-C;
    tests/scripts/private-bus.sh [--build DIR] -- COMMAND [ARG...]
        runs COMMAND with that environment, stops everything when it ends,
        and exits with its status.

The environment: DBUS_SYSTEM_BUS_ADDRESS (certgenctl, gdbus --system and
busctl --system use it), CERTGEN_URL (the bridge) and CERTGEN_TOKEN (a
bearer token of the web user "demo"). Without polkit on the private bus
only root may delegate, so the bridge's requests need this script to run
as root; certgenctl works as any user."""

import argparse
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys

from certgen_test.privatebus import PrivateBus
from certgen_test.testbus import (BUILD_ROOT, SOURCE_ROOT, read_text, spawn_socket_activated,
                                  wait_until)


def start_bridge(bus, build, port):
    """certgen-http on 127.0.0.1:port (0: any free port), socket-activated so
    the port is known before it starts -> (process, url, token)."""
    token = secrets.token_urlsafe(24)
    tokens = os.path.join(bus.tmpdir, "http-tokens")
    with open(tokens, "w", encoding="utf-8") as f:
        f.write(f"demo {hashlib.sha256(token.encode()).hexdigest()}\n")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    log_path = os.path.join(bus.tmpdir, "certgen-http.log")
    argv = [os.path.join(build, "client", "http", "certgen-http"), "--tokens", tokens,
            "--web-root", os.path.join(SOURCE_ROOT, "client", "web")]
    with open(log_path, "wb") as log:
        proc = spawn_socket_activated(argv, listener, dict(os.environ), log)
    listener.close()
    wait_until(lambda: "certgend is :" in read_text(log_path) or proc.poll() is not None, 20,
               "certgen-http to find certgend")
    if proc.poll() is not None:
        raise RuntimeError("certgen-http did not start:\n" + read_text(log_path))
    return proc, url, token


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--build", default=BUILD_ROOT,
                        help="the meson build directory (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="the bridge's port (0: any)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- COMMAND [ARG...]: run it, then stop")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    build = os.path.abspath(args.build)
    with PrivateBus(build) as bus:
        bridge, url, token = start_bridge(bus, build, args.port)
        env = {"DBUS_SYSTEM_BUS_ADDRESS": bus.address, "CERTGEN_URL": url,
               "CERTGEN_TOKEN": token}
        try:
            if command:
                return subprocess.run(command, env=dict(os.environ, **env),
                                      check=False).returncode
            for key, value in env.items():
                print(f"export {key}='{value}'")
            print(f"# certgend's state: {bus.state_dir}; logs in {bus.tmpdir}", flush=True)
            print("# Ctrl-C stops the bus, certgend and certgen-http.", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
            return 0
        finally:
            bridge.send_signal(signal.SIGTERM)
            bridge.wait(15)


if __name__ == "__main__":
    sys.exit(main())

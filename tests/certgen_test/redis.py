# SPDX-License-Identifier: LGPL-2.1-or-later
"""A redis-server of the tests' own (issue 13), as README's "Beyond one
host" section runs it: no TCP port, a unix socket in a temporary directory
(mode 700: the tests' processes run as the test's user), no persistence
(`--save ''`, `--appendonly no`), in the foreground with its log in the
directory. One server per test class (setUpClass); cases empty it with
flush(). stop() and start() again reuse the same socket path, so bridges and
relays started with that address find the new server when they reconnect
(the Redis-restart case): nothing survives a restart.

The python3-redis client (client()) is for assertions and for writing what
no bridge or relay would (garbage for the negative cases); the code under
test talks to the server through common/cg-redis.c.

Without redis-server or python3-redis a case is skipped with the reason
(tests/scripts/deps.sh installs both).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from .testbus import timeout

try:
    import redis as _redis
except ImportError:  # pragma: no cover
    _redis = None

# Redis's error replies (BUSYGROUP …) as python3-redis raises them
ResponseError = _redis.exceptions.ResponseError if _redis is not None else Exception

REDIS_SERVER = os.environ.get("CERTGEN_REDIS_SERVER") or shutil.which("redis-server")


def unavailable_reason():
    """Why no RedisServer can run here, or None."""
    if REDIS_SERVER is None:
        return "redis-server is not installed (tests/scripts/deps.sh installs it)"
    if _redis is None:
        return "python3-redis is not installed (tests/scripts/deps.sh installs it)"
    return None


class RedisServer:
    """server = RedisServer(); server.start(); server.address ...; server.close()

    address: the unix socket's path, as certgen-http --redis and
    certgen-relay --redis take it."""

    def __init__(self, directory=None):
        reason = unavailable_reason()
        if reason:
            raise unittest.SkipTest(reason)
        # a short path: a unix socket's path has at most 107 bytes, and
        # cg-redis accepts at most 100
        self.own_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="cg-redis-")
        self.address = os.path.join(self.dir, "redis.sock")
        self.log_path = os.path.join(self.dir, "redis-server.log")
        self.proc = None
        self._client = None
        self.starts = 0

    def start(self):
        """Starts the server on self.address and waits until it answers PING."""
        if self.proc is not None:
            raise RuntimeError("redis-server is running already")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [REDIS_SERVER, "--port", "0", "--unixsocket", self.address,
                 "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", self.dir, "--databases", "1"],
                stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        # its log says when it listens (a connect before that is refused)
        deadline = time.monotonic() + timeout(10)
        while self.log_text().count("ready to accept connections") < self.starts:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode}: "
                                     f"{self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start: {self.log_text()}")
            time.sleep(0.005)
        if not self.client().ping():
            raise AssertionError(f"redis-server does not answer PING: {self.log_text()}")
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stops the server (SIGTERM, or sig) and waits for it; the socket
        file goes with it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout(10))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.unlink(self.address)  # after SIGKILL the socket file stays
        except FileNotFoundError:
            pass

    def restart(self, down_s=0.0):
        """stop(), down_s seconds without a server, start() on the same socket."""
        self.stop()
        time.sleep(down_s)
        return self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self):
        """A python3-redis client (bytes in, bytes out), made once per start."""
        if self._client is None:
            self._client = _redis.Redis(unix_socket_path=self.address,
                                        socket_timeout=timeout(10))
        return self._client

    def flush(self):
        """Empties the server between cases."""
        self.client().flushall()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def close(self):
        self.stop()
        if self.own_dir and not os.environ.get("CERTGEN_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

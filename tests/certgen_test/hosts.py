# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several certgen "hosts" on one machine behind one Redis (issue 13), for
tests/integration/test_multihost.py and tests/bench/redis-hop.py.

- Host: what one rendering host runs, in a directory of its own: a private
  system bus (testbus.launch_bus, the same configuration as every bus
  test), certgend from the build tree on it (fresh state directory,
  testbus's DEFAULT_CONFIG), and certgen-relay --redis beside it. The relay
  runs as the test's user: as root (CI) certgend's fallback rule lets it
  pass owner_label; otherwise the python3-dbusmock polkit mock is started
  first and grants it the generate and delegate actions, as
  tests/http/test_http.py's delegate case does for the bridge.
- Bridge: certgen-http --redis on a host's bus, on a port the kernel picks,
  with the clients of bridge.py (http_request, SseStream, WebSocket).
- MultiHostTestCase: one RedisServer per class (setUpClass), emptied before
  every case; per case two hosts and two bridges, A on host 1's bus and B
  on host 2's. Bridges and relays are told apart by --bridge-id A/B and
  --host-id host1/host2.

Every process can be SIGKILLed (kill()); the others get SIGTERM at the end
of a case and must exit 0 with a log free of CRITICAL and sanitizer output
(LOG_BAD_PATTERNS). Every log is printed when a case fails.

Environment (besides testbus's and bridge's): CERTGEN_RELAY overrides the
relay binary, CERTGEN_RELAY_WRAPPER (e.g. valgrind) is prefixed to its
command line as CERTGEN_HTTP_WRAPPER is to the bridge's.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from .bridge import (ALICE, BRIDGE, BRIDGE_WRAPPER, TOKENS, WEB_ROOT, SseStream, WebSocket,
                     check_error, http_request, token_hash)
from .redis import RedisServer, unavailable_reason
from .testbus import (ACTION_DELEGATE, ACTION_GENERATE, BUILD_ROOT, BUS_NAME, CERTGEND,
                      LOG_BAD_PATTERNS, POLKIT_NAME, POLKIT_PATH, SYSTEM_PYTHON, TEMPLATE_DIR,
                      WRAPPER, BusClient, case_setting, ensure_service_users, launch_bus,
                      read_text, timeout, wait_until, write_config_file)

try:
    from gi.repository import GLib
except ImportError:  # pragma: no cover (testbus exits 77 first)
    GLib = None

RELAY = os.environ.get("CERTGEN_RELAY") or os.path.join(BUILD_ROOT, "client", "relay",
                                                        "certgen-relay")
RELAY_WRAPPER = shlex.split(os.environ.get("CERTGEN_RELAY_WRAPPER", ""))

# Short timeouts so that a host's death is noticed within the suite's budget
# (longer under a wrapper such as valgrind: a slow relay is no dead one).
CLAIM_TIMEOUT_MS = int(timeout(1.5) * 1000)
# Limits of the bridges: high, so no case is throttled by accident; the
# rate-limit case sets its own (the last of repeated options wins).
BRIDGE_DEFAULT_ARGS = ("--generations-per-minute", "1000", "--streams-per-minute", "1000",
                       "--resumes-per-minute", "1000", "--max-streams-per-user", "100")


def relay_args(*args):
    """Extra arguments for both relays of one case (or of a class's cases)."""
    return case_setting("cg_relay_args", list(args))


def multihost_bridge_args(*args):
    """Extra arguments for both bridges of one case (after the defaults)."""
    return case_setting("cg_bridge_args", list(args))


def host_config(**groups):
    """certgend's config groups of one case, for both hosts."""
    return case_setting("cg_config", groups)


class Child:
    """One process of a host or bridge, with its log file."""

    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.offset = log.tell()
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.killed = False
        self.stopped = False

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self, since_start=True):
        text = read_text(self.log_path)
        return text[self.offset:] if since_start else text

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, pattern, seconds, what):
        """Waits until the log (since this start) matches pattern -> the match.
        Raises AssertionError when the process exits first."""
        regex = re.compile(pattern)

        def seen():
            m = regex.search(self.log_text())
            if m:
                return m
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} "
                                     f"before {what}:\n{self.log_text()}")
            return None
        return wait_until(seen, seconds, f"{self.name}: {what}")

    def kill(self, sig=signal.SIGKILL):
        """SIGKILL (or sig) and wait: the process is not checked at the end."""
        self.killed = True
        if self.alive():
            self.proc.send_signal(sig)
        self.proc.wait(timeout(15))

    def stop(self, check=True):
        """SIGTERM; unless it was killed: -> a problem (str) or None. The
        exit status must be 0 and the log clean; a second stop() is no-op."""
        if self.killed or self.stopped:
            return None
        self.stopped = True
        died = self.proc.poll()
        if died is not None:
            return (f"{self.name} died during the test with status {died}"
                    + (f" (signal {signal.Signals(-died).name})" if died < 0 else ""))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout(15))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return f"{self.name} did not exit within {timeout(15):.0f} s of SIGTERM"
        if not check:
            return None
        if rc != 0:
            return f"{self.name} exited with status {rc} after SIGTERM"
        log = self.log_text()
        for pattern in LOG_BAD_PATTERNS:
            m = pattern.search(log)
            if m:
                return f"{self.name}'s log contains {m.group(0)!r}"
        return None


class Host:
    """A private bus, certgend and certgen-relay in directory/name."""

    def __init__(self, directory, name, redis_address, config=None, relay_extra=(),
                 claim_timeout_ms=CLAIM_TIMEOUT_MS):
        self.name = name
        self.dir = os.path.join(directory, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.redis_address = redis_address
        self.config = config
        self.relay_extra = list(relay_extra)
        self.claim_timeout_ms = claim_timeout_ms
        self.state_dir = os.path.join(self.dir, "state")
        self.cert_dir = os.path.join(self.state_dir, "certificates")
        self.bus = None
        self.bus_log = None
        self.bus_address = None
        self.polkitd = None
        self.daemon = None
        self.relay = None
        self.relays = []    # every relay started (a case may restart it)
        self.daemons = []

    # -- starting ------------------------------------------------------------

    def start(self):
        self.start_bus()
        if os.geteuid() != 0:
            self.start_polkit((ACTION_GENERATE, ACTION_DELEGATE))
        self.start_daemon()
        self.start_relay()
        return self

    def env(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        return env

    def start_bus(self):
        # pylint: disable-next=consider-using-with
        self.bus_log = open(os.path.join(self.dir, "dbus-daemon.log"), "wb")
        self.bus, self.bus_address = launch_bus(self.dir, self.bus_log)

    def start_polkit(self, allowed):
        with open(os.path.join(self.dir, "polkitd-mock.log"), "ab") as log:
            self.polkitd = subprocess.Popen(  # pylint: disable=consider-using-with
                [SYSTEM_PYTHON, "-m", "dbusmock", "--system", "--template", "polkitd"],
                stdout=log, stderr=subprocess.STDOUT, env=self.env())
        probe = BusClient(self.bus_address)
        try:
            wait_until(lambda: probe.name_owner(POLKIT_NAME) or self.polkitd.poll() is not None,
                       15, f"{self.name}: the polkit mock on the bus")
            if self.polkitd.poll() is not None:
                raise AssertionError(f"polkit mock exited with {self.polkitd.returncode}")
            probe.raw_call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SetAllowed",
                           GLib.Variant("(as)", (list(allowed),)), "()")
        finally:
            probe.close()

    def start_daemon(self):
        config = write_config_file(os.path.join(self.dir, "certgen.conf"), self.config)
        os.makedirs(self.state_dir, exist_ok=True)
        self.daemon = Child(f"{self.name} certgend",
                            WRAPPER + [CERTGEND, "--config", config, "--template-dir",
                                       TEMPLATE_DIR, "--state-dir", self.state_dir, "--debug"],
                            self.env(), os.path.join(self.dir, "certgend.log"))
        self.daemons.append(self.daemon)
        probe = BusClient(self.bus_address)
        try:
            wait_until(lambda: probe.name_owner(BUS_NAME) or not self.daemon.alive(), 20,
                       f"{self.name}: {BUS_NAME} on the bus")
            if not self.daemon.alive():
                raise AssertionError(f"{self.name}: certgend exited with "
                                     f"{self.daemon.proc.returncode}:\n{self.daemon.log_text()}")
        finally:
            probe.close()
        return self.daemon

    def relay_argv(self, extra=()):
        return RELAY_WRAPPER + [RELAY, "--redis", self.redis_address, "--host-id", self.name,
                                "--claim-timeout-ms", str(self.claim_timeout_ms)] + list(
                                    self.relay_extra) + list(extra)

    def start_relay(self, extra=()):
        """Starts certgen-relay and waits for its ready line."""
        if not os.access(RELAY, os.X_OK):
            raise AssertionError(f"certgen-relay not built: {RELAY}")
        self.relay = Child(f"{self.name} certgen-relay", self.relay_argv(extra), self.env(),
                           os.path.join(self.dir, "certgen-relay.log"))
        self.relays.append(self.relay)
        self.relay.wait_log(r"certgen-relay: ready \(host " + re.escape(self.name) + r"\)", 20,
                            "its ready line")
        return self.relay

    def kill_daemon(self):
        """SIGKILL certgend (its relay stays)."""
        self.daemon.kill()

    def kill_relay(self):
        """SIGKILL certgen-relay (certgend stays)."""
        self.relay.kill()

    def stop_relay(self, check=True):
        """SIGTERM certgen-relay -> a problem (str) or None."""
        return self.relay.stop(check)

    # -- the state directory -----------------------------------------------------

    def cert_file(self, local_id, ext="pdf"):
        return os.path.join(self.cert_dir, f"{local_id}.{ext}")

    # -- stopping ----------------------------------------------------------------

    def stop(self, check=True):
        """Relays, certgend, polkit mock, bus -> the problems found."""
        problems = []
        for child in self.relays + self.daemons:
            problem = child.stop(check)
            if problem:
                problems.append(problem)
        for proc in (self.polkitd, self.bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout(5))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.bus is not None:
            self.bus.stdout.close()
            self.bus = None
        if self.bus_log is not None:
            self.bus_log.close()
            self.bus_log = None
        return problems

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                out.append((f"{self.name}/{name}", read_text(os.path.join(self.dir, name))))
        return out


class Bridge:
    """certgen-http --redis on bus_address, in directory (its log there);
    with redis_address None the single-host bridge (no --redis), for the
    benchmark's comparison."""

    def __init__(self, directory, name, bus_address, redis_address, tokens_path, extra=()):
        self.name = name
        self.dir = directory
        self.bus_address = bus_address
        self.redis_address = redis_address
        self.tokens_path = tokens_path
        self.extra = list(extra)
        self.child = None
        self.children = []
        self.port = None
        self.log_path = os.path.join(directory, f"certgen-http-{name}.log")

    def argv(self):
        redis = ([] if self.redis_address is None else
                 ["--redis", self.redis_address, "--bridge-id", self.name])
        return BRIDGE_WRAPPER + [BRIDGE, "--listen", "127.0.0.1:0", "--tokens", self.tokens_path,
                                 "--web-root", WEB_ROOT, "--debug"] + redis + self.extra

    def start(self):
        if not os.access(BRIDGE, os.X_OK):
            raise AssertionError(f"certgen-http not built: {BRIDGE}")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("LISTEN_FDS", None)
        env.pop("LISTEN_PID", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.child = Child(f"bridge {self.name}", self.argv(), env, self.log_path)
        self.children.append(self.child)
        m = self.child.wait_log(r"Listening on http://127\.0\.0\.1:(\d+)/", 20, "listening")
        self.port = int(m.group(1))
        if self.redis_address is None:
            self.child.wait_log(r"certgend is :", 20, "seeing certgend")
        return self

    def kill(self):
        self.child.kill()

    def stop(self, check=True):
        return [p for p in (c.stop(check) for c in self.children) if p]

    def log_text(self):
        return read_text(self.log_path)

    # -- clients -------------------------------------------------------------------

    def request(self, method, path, body=None, token=ALICE, headers=None, raw=None):
        return http_request(self.port, method, path, body, token, headers, raw)

    def sse(self, pid, token=ALICE, headers=None, read_timeout=30):
        h = {"Accept": "text/event-stream"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        return SseStream(self.port, f"/api/certificates/progress/{pid}", h, read_timeout)

    def websocket(self, pid, token=ALICE, headers=None):
        h = {}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        return WebSocket(self.port, f"/api/certificates/ws/{pid}", h)


class MultiHostTestCase(unittest.TestCase):
    """Per class a RedisServer; per case host1 + host2 and bridges A (on
    host 1's bus) and B (on host 2's)."""

    maxDiff = None
    redis = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a missing redis-server skips each case in setUp (a class-level
        # skip runs no case, and testbus.main would call that a pass)
        if unavailable_reason():
            return
        cls.redis = RedisServer()
        cls.addClassCleanup(cls.redis.close)
        cls.redis.start()

    # -- unittest plumbing -------------------------------------------------------

    def run(self, result=None):
        before = len(result.errors) + len(result.failures) if result else 0
        super().run(result)
        if result is not None and len(result.errors) + len(result.failures) > before:
            for name, text in self._saved_logs or self.collect_logs():
                sys.stderr.write(f"\n-------------- {name} --------------\n")
                sys.stderr.write(text[-100000:])
                sys.stderr.write(f"\n-------------- end of {name} --------------\n")

    def collect_logs(self):
        logs = [("redis-server.log", self.redis.log_text())] if self.redis else []
        for host in getattr(self, "hosts", []):
            logs += host.logs()
        for bridge in getattr(self, "bridges", []):
            logs.append((os.path.basename(bridge.log_path), bridge.log_text()))
        return logs

    def setting(self, name, default):
        """A decorator's setting: the case's own, else its class's."""
        method = getattr(self, self._testMethodName)
        return getattr(method, name, getattr(type(self), name, default))

    def setUp(self):
        reason = unavailable_reason()
        if reason:
            self.skipTest(reason)
        if not os.access(RELAY, os.X_OK):
            self.fail(f"certgen-relay not built: {RELAY}")
        ensure_service_users()
        self._saved_logs = None
        if not self.redis.running():
            self.redis.start()  # a case that stopped it failed half-way
        self.redis.flush()
        self.tmpdir = tempfile.mkdtemp(prefix="certgen-mh-")
        os.chmod(self.tmpdir, 0o755)
        self.tokens_path = os.path.join(self.tmpdir, "http-tokens")
        with open(self.tokens_path, "w", encoding="utf-8") as f:
            for name, token in TOKENS.items():
                f.write(f"{name} {token_hash(token)}\n")
        self.hosts = []
        self.bridges = []
        self.addCleanup(self._cleanup_all)
        config = self.setting("cg_config", None)
        extra_relay = self.setting("cg_relay_args", [])
        for name in ("host1", "host2"):
            host = Host(self.tmpdir, name, self.redis.address, config, extra_relay)
            self.hosts.append(host)
            host.start()
        self.host1, self.host2 = self.hosts
        extra_bridge = list(BRIDGE_DEFAULT_ARGS) + self.setting("cg_bridge_args", [])
        for name, host in (("A", self.host1), ("B", self.host2)):
            bridge = Bridge(self.tmpdir, name, host.bus_address, self.redis.address,
                            self.tokens_path, extra_bridge)
            self.bridges.append(bridge)
            bridge.start()
        self.bridge_a, self.bridge_b = self.bridges

    def tearDown(self):
        problems = []
        for bridge in self.bridges:
            problems += bridge.stop()
        for host in self.hosts:
            problems += host.stop()
        self.assertEqual(problems, [])

    def _cleanup_all(self):
        for bridge in getattr(self, "bridges", []):
            bridge.stop(check=False)
        for host in getattr(self, "hosts", []):
            host.stop(check=False)
        self._saved_logs = self.collect_logs()
        if not os.environ.get("CERTGEN_TEST_KEEP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        else:
            sys.stderr.write(f"kept {self.tmpdir}\n")

    # -- helpers -------------------------------------------------------------------

    def assertError(self, resp, status, code, what=""):
        return check_error(self, resp, status, code, what)

    def host_named(self, name):
        return next(h for h in self.hosts if h.name == name)

    def gen(self, pid):
        """The generation's hash in Redis, str -> bytes."""
        return {k.decode(): v for k, v in self.redis.client().hgetall(f"certgen:gen:{pid}").items()}

# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-relay test harness: certgend on the private system bus
(certgen_test.testbus.CertgenTestCase), a redis-server of the case's own
on a unix socket (no persistence) and certgen-relay from the build tree,
run as the test's user (root in CI: allowed to pass owner_label without
polkit, as the bridge is in tests/http). python3-redis plays the bridge:
it writes the hash and the request entry the way certgen-http --redis does
(README.md, "Beyond one host") and reads what the relay publishes.

On teardown every relay still running gets SIGTERM and must exit 0 with a
log free of CRITICAL / sanitizer output; the logs of relay, redis-server
and certgend are printed when a case fails.

Environment (besides testbus's): CERTGEN_RELAY overrides the binary,
CERTGEN_RELAY_WRAPPER (e.g. "valgrind --error-exitcode=1") is prefixed.
"""

import os
import re
import shlex
import signal
import subprocess
import time

from certgen_test.redis import RedisServer, unavailable_reason
from certgen_test.testbus import (BUILD_ROOT, LOG_BAD_PATTERNS, TERMINAL, CertgenTestCase, GLib,
                                  case_setting, read_text, timeout, wait_until)

try:
    import redis
except ImportError:  # pragma: no cover
    redis = None  # setUp skips: unavailable_reason() says why

RELAY = os.environ.get("CERTGEN_RELAY") or os.path.join(BUILD_ROOT, "client", "relay",
                                                        "certgen-relay")
RELAY_WRAPPER = shlex.split(os.environ.get("CERTGEN_RELAY_WRAPPER", ""))

REQUESTS = "certgen:requests"
GROUP = "hosts"
ERROR_PREFIX = "org.certgen.Certificates1.Error."


def relay_args(*args):
    """Extra command-line arguments for the first relay of one case."""
    return case_setting("cg_relay_args", list(args))


def gen_key(pid):
    return f"certgen:gen:{pid}"


def events_key(pid):
    return f"certgen:gen:{pid}:events"


def file_key(pid):
    return f"certgen:gen:{pid}:file"


def control_key(host):
    return f"certgen:host:{host}:control"


def params_bytes(data_json, template="classic", transaction="tx-relay", **options):
    """StartGeneration's arguments as the bridge serializes them: (sssa{sv})
    in normal form (little-endian, as this host)."""
    opts = {}
    for key, value in options.items():
        if isinstance(value, GLib.Variant):
            opts[key] = value
        elif isinstance(value, bool):
            opts[key] = GLib.Variant("b", value)
        elif isinstance(value, int):
            opts[key] = GLib.Variant("u", value)
        else:
            opts[key] = GLib.Variant("s", value)
    variant = GLib.Variant("(sssa{sv})", (transaction, template, data_json, opts))
    return variant.get_data_as_bytes().get_data()


def decode_update(data):
    """A published update (a{sv} bytes), checked as readers must -> dict."""
    variant = GLib.Variant.new_from_bytes(GLib.VariantType.new("a{sv}"), GLib.Bytes.new(data),
                                          False)
    if not variant.is_normal_form():
        raise AssertionError(f"update not in normal form: {data!r}")
    return variant.unpack()


class RelayProcess:
    """certgen-relay with its own log file."""

    def __init__(self, testcase, host, bus_address, args=(), name=None):
        self.host = host
        self.log_path = os.path.join(testcase.tmpdir, f"certgen-relay-{name or host}.log")
        self.log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        cmd = RELAY_WRAPPER + [RELAY, "--redis", testcase.redis_server.address,
                               "--host-id", host, "--debug"] + list(args)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        ready = f"certgen-relay: ready (host {host})"
        wait_until(lambda: self.proc.poll() is not None or ready in self.text(), 20,
                   f"certgen-relay {host} ready")
        if self.proc.poll() is not None:
            raise AssertionError(f"certgen-relay exited with {self.proc.returncode}: "
                                 f"{self.text()}")

    def text(self):
        return read_text(self.log_path)

    def wait_log(self, pattern, seconds=20, what=None):
        regex = re.compile(pattern)
        return wait_until(lambda: regex.search(self.text()), seconds, what or pattern)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self, testcase, check=True):
        """SIGTERM; asserts exit status 0 and a clean log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout(15))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    testcase.fail(f"certgen-relay {self.host} did not exit on SIGTERM")
        elif check:
            testcase.fail(f"certgen-relay {self.host} died with {self.proc.returncode}")
        self.log.close()
        if not check:
            return
        testcase.assertEqual(self.proc.returncode, 0, f"certgen-relay {self.host} exit status")
        log = self.text()
        for pattern in LOG_BAD_PATTERNS:
            m = pattern.search(log)
            testcase.assertIsNone(m, f"certgen-relay log has {m.group(0)!r}" if m else "")


class RelayTestCase(CertgenTestCase):
    """certgend + redis-server + certgen-relay "host1" per case."""

    def setUp(self):
        reason = unavailable_reason()
        if reason:
            self.skipTest(reason)
        if not os.access(RELAY, os.X_OK):
            self.fail(f"certgen-relay not built: {RELAY}")
        super().setUp()
        self.relays = []
        self.redis_server = RedisServer(self.tmpdir)
        self.addCleanup(self.redis_server.stop)
        self.addCleanup(self._kill_relays)
        self.redis_server.start()
        self.r = redis.Redis(unix_socket_path=self.redis_server.address)
        self.addCleanup(self.r.close)
        method = getattr(self, self._testMethodName)
        self.relay = self.start_relay("host1", self.bus_address,
                                      getattr(method, "cg_relay_args", []))

    def start_relay(self, host, bus_address, args=(), name=None):
        relay = RelayProcess(self, host, bus_address, args, name)
        self.relays.append(relay)
        return relay

    def _kill_relays(self):
        for relay in self.relays:
            if relay.proc.poll() is None:
                relay.proc.kill()
                relay.proc.wait()
            if not relay.log.closed:
                relay.log.close()

    def tearDown(self):
        for relay in self.relays:
            if not relay.log.closed:
                relay.stop(self)
        super().tearDown()

    # -- playing the bridge --------------------------------------------------------

    def submit(self, data_json, user="alice", pid=None, fields=None, hash_extra=None, **params):
        """Creates the hash and adds the request entry as the bridge does
        -> (progress id, stream entry id). @fields replaces the entry's
        fields (hostile entries)."""
        pid = pid or os.urandom(16).hex()
        now_ms = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=True)
        mapping = {"user": user, "state": "queued", "created_ms": now_ms}
        mapping.update(hash_extra or {})
        pipe.hset(gen_key(pid), mapping=mapping)
        pipe.expire(gen_key(pid), 1800)
        pipe.sadd(f"certgen:user:{user}:gens", pid)
        pipe.execute()
        try:
            self.r.xgroup_create(REQUESTS, GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        if fields is None:
            fields = {"id": pid, "user": user, "params": params_bytes(data_json, **params),
                      "at_ms": now_ms}
        entry_id = self.r.xadd(REQUESTS, fields).decode()
        return pid, entry_id

    def events(self, pid):
        """The published events -> [(entry id, update dict, raw bytes)]."""
        out = []
        for entry_id, fields in self.r.xrange(events_key(pid)):
            self.assertEqual(set(fields), {b"u"}, fields)
            out.append((entry_id.decode(), decode_update(fields[b"u"]), fields[b"u"]))
        return out

    def gen_hash(self, pid):
        return {k.decode(): v for k, v in self.r.hgetall(gen_key(pid)).items()}

    def wait_terminal(self, pid, seconds=60):
        def terminal():
            events = self.events(pid)
            return events and events[-1][1]["status"] in TERMINAL and events
        return wait_until(terminal, seconds, f"the terminal event of {pid}")

    def wait_acked(self, seconds=20):
        """Every request entry acknowledged and deleted (XACK + XDEL)."""
        wait_until(lambda: self.r.xpending(REQUESTS, GROUP)["pending"] == 0
                   and self.r.xlen(REQUESTS) == 0, seconds,
                   "no request entry left (acknowledged and deleted)")

    def n_pending(self):
        return self.r.xpending(REQUESTS, GROUP)["pending"]

    def assert_events_sound(self, pid, events, first_seq=1):
        """Entry ids are the sequences, consecutive; the terminal is last;
        every update has the global id; progress never goes down."""
        seqs = [u["sequence"] for _, u, _ in events]
        self.assertEqual(seqs, list(range(first_seq, first_seq + len(seqs))), seqs)
        self.assertEqual([e for e, _, _ in events], [f"{s}-0" for s in seqs])
        for _, update, _ in events:
            self.assertEqual(update["progress_id"], pid, update)
        progress = [u["progress"] for _, u, _ in events]
        self.assertEqual(progress, sorted(progress), f"progress went down: {progress}")
        statuses = [u["status"] for _, u, _ in events]
        self.assertIn(statuses[-1], TERMINAL)
        self.assertTrue(all(s not in TERMINAL for s in statuses[:-1]), statuses)

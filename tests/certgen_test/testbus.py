# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen integration test harness (private system bus).

In the manner of power-profiles-daemon's integration_test.py: every test gets
its own temporary directory, its own dbus-daemon configured like Debian's
system bus (deny own, deny method calls by default, EXTERNAL auth) plus the
project's bus policy data/dbus-1/org.certgen.Certificates1.conf, optionally a
polkit mock (python3-dbusmock's `polkitd` template) and certgend from the
build tree with a fresh state directory. Conditions are waited for with
bounded timeouts, never fixed sleeps. On teardown certgend gets SIGTERM and
must exit 0 with a clean log; its log is printed when a test fails.

Environment:
  CERTGEN_SOURCE_ROOT, CERTGEN_BUILD_ROOT  set by meson (tests/meson.build)
  CERTGEN_DAEMON_WRAPPER  e.g. "valgrind --error-exitcode=1 --leak-check=full";
                          prefixed to certgend's command line, timeouts grow
  CERTGEN_TIMEOUT_FACTOR  multiply every timeout (default 1, 10 with a wrapper)
  CERTGEN_TEST_KEEP       keep the temporary directory (debugging)

Run one case: PYTHONPATH=tests /usr/bin/python3 tests/integration/test_manager.py Class.test_name
(exit status 77 when the case was skipped, which meson reports as SKIP).
"""

import datetime
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import gi

    gi.require_version("Gio", "2.0")
    from gi.repository import Gio, GLib
except (ImportError, ValueError) as _e:  # pragma: no cover
    sys.stderr.write(f"Skipping: python3-gi with Gio is not available: {_e}\n")
    sys.exit(77)

from .cg_client import (  # noqa: E402  (the names the scripted client shares)
    BUS_NAME, MANAGER_IFACE, METHODS, OBJECT_PATH, TERMINAL, read_to_end, strip_remote)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("CERTGEN_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD_ROOT = os.environ.get("CERTGEN_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
CERTGEND = os.environ.get("CERTGEND") or os.path.join(BUILD_ROOT, "service", "certgend")
TEMPLATE_DIR = os.path.join(SOURCE_ROOT, "data", "templates")
POLICY_FILE = os.path.join(SOURCE_ROOT, "data", "dbus-1", "org.certgen.Certificates1.conf")
CLIENT_SCRIPT = os.path.join(HERE, "cg_client.py")
SYSTEM_PYTHON = "/usr/bin/python3"

WRAPPER = shlex.split(os.environ.get("CERTGEN_DAEMON_WRAPPER", ""))
TIMEOUT_FACTOR = float(os.environ.get("CERTGEN_TIMEOUT_FACTOR") or (10 if WRAPPER else 1))

ERROR_PREFIX = "org.certgen.Certificates1.Error."
POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
ACTION_GENERATE = "org.certgen.Certificates1.generate"
ACTION_MANAGE_ALL = "org.certgen.Certificates1.manage-all"
ACTION_DELEGATE = "org.certgen.Certificates1.delegate"

STAGES = ["initializing", "template_loading", "data_validation", "pdf_generation",
          "file_preparation", "download_ready", "completed"]
UPDATE_KEYS = {
    "progress_id": "s", "transaction_id": "s", "stage": "s", "stage_index": "u",
    "stage_progress": "u", "progress": "d", "status": "s", "message": "s",
    "sequence": "t", "timestamp_us": "x", "started_at_us": "x", "expected_end_us": "x",
    "cancellable": "b", "pages_done": "u", "pages_total": "u", "persistent": "b",
    "expires_at_us": "x", "template_id": "s",
    "output_format": "s",
}
TEST_USERS = ("certgen-test1", "certgen-test2")

# Limits for tests: generous rate limit so a test is never throttled by
# accident; the rate-limit and cap tests set their own.
DEFAULT_CONFIG = {
    "limits": {
        "start_per_minute": 1000,
        "preview_per_minute": 1000,
        "max_active_per_owner": 8,
        "max_active": 32,
        "max_recipients": 10000,
        "max_data_bytes": 16777216,
        "max_subscriptions_per_connection": 64,
    },
    "cleanup": {"finished_ttl_s": 600, "max_age_s": 1800},
    "workers": {"threads": 2},
}

# A batch this large runs for seconds: long enough to act on it mid-run.
BIG_BATCH = 2000

LOG_BAD_PATTERNS = [
    re.compile(r"AddressSanitizer"),
    re.compile(r"LeakSanitizer"),
    re.compile(r"runtime error:"),
    re.compile(r"CRITICAL"),
    re.compile(r"ERROR SUMMARY: [1-9]"),
    re.compile(r"definitely lost: [1-9]"),
    re.compile(r"Invalid (read|write|free)"),
    re.compile(r"uninitialised value"),
]


def timeout(seconds):
    return seconds * TIMEOUT_FACTOR


# ---------------------------------------------------------------------------
# Test data


def recipient(i=0, **extra):
    r = {"recipientName": f"Recipient Number {i}", "courseName": "Integration Testing 101",
         "issueDate": "2024-05-17", "issuer": "certgen test suite"}
    r.update(extra)
    return r


def single_json(**extra):
    return json.dumps(recipient(0, **extra))


def batch_json(n, **shared):
    data = {"recipients": [{"recipientName": f"Batch Person {i}"} for i in range(n)],
            "courseName": "Batch Course", "issueDate": "2024-05-17",
            "issuer": "certgen test suite"}
    data.update(shared)
    return json.dumps(data)


def spawn_socket_activated(argv, listener, env, log):
    """Starts argv as systemd's socket activation does: listener as fd 3,
    LISTEN_FDS=1 and LISTEN_PID its own pid; output to the file log."""
    fd = listener.fileno()

    def as_fd3():
        os.dup2(fd, 3)
        os.set_inheritable(3, True)
    return subprocess.Popen(  # pylint: disable=consider-using-with
        ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh"] + list(argv),
        stdout=log, stderr=subprocess.STDOUT, env=dict(env, LISTEN_FDS="1"),
        preexec_fn=as_fd3, pass_fds=(fd, 3))


def read_text(path):
    """A log file's text so far (undecodable bytes replaced)."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def stage_sequence(updates, key="stage"):
    """The stages the updates went through, each once, in order."""
    stages = []
    for u in updates:
        if not stages or stages[-1] != u[key]:
            stages.append(u[key])
    return stages


def random_id():
    return secrets.token_hex(16)


# ---------------------------------------------------------------------------
# Decorators read by CertgenTestCase.setUp


def case_setting(attribute, value):
    """A decorator that sets attribute = value on a test method, for setUp."""
    def deco(func):
        setattr(func, attribute, value)
        return func
    return deco


def daemon_config(**groups):
    """Per-test config groups merged over DEFAULT_CONFIG, e.g.
    @daemon_config(limits={"start_per_minute": 3})."""
    return case_setting("cg_config", groups)


def with_polkit(*allowed):
    """Start the polkit mock before certgend, allowing these actions."""
    return case_setting("cg_polkit", list(allowed))


def multi_uid(func):
    """The test runs client code as certgen-test1/2 (needs root and setpriv)."""
    func.cg_multi_uid = True
    return func


def no_daemon(func):
    """setUp starts the bus only; the test starts certgend itself."""
    func.cg_no_daemon = True
    return func


# ---------------------------------------------------------------------------
# Errors and waiting


class DBusCallError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def wait_until(condition, seconds, what="condition"):
    """Run the default main context until condition() is true.
    Raises AssertionError after seconds * TIMEOUT_FACTOR."""
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + timeout(seconds)
    while True:
        while ctx.iteration(False):
            pass
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout(seconds):.1f}s waiting for {what}")
        time.sleep(0.005)


def drain_main_context():
    ctx = GLib.MainContext.default()
    while ctx.iteration(False):
        pass


def spin(seconds):
    """Dispatch events for a while (only for 'nothing else arrives' checks)."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        while ctx.iteration(False):
            pass
        time.sleep(0.005)


def _to_variant(key, value):
    if isinstance(value, GLib.Variant):
        return value
    if isinstance(value, bool):
        return GLib.Variant("b", value)
    if isinstance(value, int):
        return GLib.Variant("u", value)
    if isinstance(value, str):
        return GLib.Variant("s", value)
    raise TypeError(f"option {key}: cannot guess a D-Bus type for {value!r}")


# ---------------------------------------------------------------------------
# In-process client (the test's own uid, root in CI)


class BusClient:
    """One connection to the private bus with helpers for certgend's API.

    Every ProgressChanged from the daemon's unique name that reaches this
    connection is recorded in self.received (in arrival order) and per id in
    self.updates."""

    METHODS = METHODS

    def __init__(self, address, daemon_name=None):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        self.conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        self.received = []
        self.updates = {}
        self._sub = None
        if daemon_name:
            self.listen(daemon_name)

    def listen(self, daemon_name):
        """Record ProgressChanged signals sent by daemon_name (its unique name:
        clients accept the signal only from the name's owner)."""
        def on_signal(_conn, sender, _path, _iface, _member, params):
            pid, update = params.unpack()
            self.received.append((pid, update))
            self.updates.setdefault(pid, []).append(update)
        self._sub = self.conn.signal_subscribe(
            daemon_name, MANAGER_IFACE, "ProgressChanged", OBJECT_PATH, None,
            Gio.DBusSignalFlags.NONE, on_signal)

    def close(self):
        if self.conn is None:
            return
        if self._sub is not None:
            self.conn.signal_unsubscribe(self._sub)
            self._sub = None
        if not self.conn.is_closed():
            self.conn.close_sync(None)
        self.conn = None

    @property
    def unique_name(self):
        return self.conn.get_unique_name()

    # raw calls

    def raw_call(self, dest, path, iface, method, params, out_sig, fd=False,
                 timeout_ms=None):
        if timeout_ms is None:
            timeout_ms = int(timeout(20) * 1000)
        try:
            if fd:
                return self.conn.call_with_unix_fd_list_sync(
                    dest, path, iface, method, params,
                    GLib.VariantType.new(out_sig) if out_sig else None,
                    Gio.DBusCallFlags.NO_AUTO_START, timeout_ms, None, None)
            return self.conn.call_sync(
                dest, path, iface, method, params,
                GLib.VariantType.new(out_sig) if out_sig else None,
                Gio.DBusCallFlags.NO_AUTO_START, timeout_ms, None)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            raise DBusCallError(name or f"(local) {e.domain}:{e.code}",
                                strip_remote(e.message, name)) from None

    def call(self, method, *args):
        in_sig, out_sig = self.METHODS[method]
        params = GLib.Variant(in_sig, tuple(args)) if in_sig != "()" else None
        result = self.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, params, out_sig)
        values = result.unpack()
        return values[0] if len(values) == 1 else None

    # convenience

    def start(self, data=None, template="classic", transaction="tx-test", **options):
        if data is None:
            data = single_json()
        opts = {k: _to_variant(k, v) for k, v in options.items()}
        return self.call("StartGeneration", transaction, template, data, opts)

    def progress(self, pid):
        return self.call("GetProgress", pid)

    def open_fd(self, method, params):
        """A method whose one out argument is a file descriptor -> that fd
        (a dup owned by the caller, who closes it)."""
        result, fd_list = self.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, params,
                                        "(h)", fd=True)
        (index,) = result.unpack()
        return fd_list.get(index)

    def open_certificate(self, pid):
        """OpenCertificate -> a file descriptor (the caller closes it)."""
        return self.open_fd("OpenCertificate", GLib.Variant("(s)", (pid,)))

    def render_preview(self, data=None, template="classic", page=1):
        """RenderPreview -> the PNG's bytes."""
        if data is None:
            data = single_json()
        fd = self.open_fd("RenderPreview", GLib.Variant("(ssu)", (template, data, page)))
        try:
            return read_to_end(fd)
        finally:
            os.close(fd)

    def bus(self, method, params, out_sig):
        return self.raw_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", method, params, out_sig).unpack()

    def name_owner(self, name):
        try:
            return self.bus("GetNameOwner", GLib.Variant("(s)", (name,)), "(s)")[0]
        except DBusCallError:
            return None

    def add_match(self, rule):
        self.bus("AddMatch", GLib.Variant("(s)", (rule,)), "()")

    def terminal_update(self, pid):
        for u in self.updates.get(pid, []):
            if u.get("status") in TERMINAL:
                return u
        return None

    def wait_terminal(self, pid, seconds=30):
        return wait_until(lambda: self.terminal_update(pid), seconds,
                          f"terminal ProgressChanged for {pid}")

    def wait_stage(self, pid, stage, seconds=30):
        return wait_until(
            lambda: next((u for u in self.updates.get(pid, []) if u.get("stage") == stage
                          or u.get("status") in TERMINAL), None),
            seconds, f"stage {stage} of {pid}")


# ---------------------------------------------------------------------------
# Subprocess client (another uid)


class ClientProcess:
    """cg_client.py in a subprocess, possibly as another user."""

    def __init__(self, testcase, address, user=None):
        self.user = user
        self.log_path = os.path.join(testcase.tmpdir, f"client-{user or 'self'}-{id(self)}.log")
        self.log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        script = os.path.join(testcase.tmpdir, "cg_client.py")
        if not os.path.exists(script):
            shutil.copy(CLIENT_SCRIPT, script)
            os.chmod(script, 0o644)
        cmd = [SYSTEM_PYTHON, script, "--address", address]
        if user is not None:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/",
            "PYTHONDONTWRITEBYTECODE": "1",
            "G_DEBUG": "fatal-criticals",
            "DBUS_SYSTEM_BUS_ADDRESS": address,
        }
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            env=env, cwd=testcase.tmpdir)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""
        hello = self._read_line(timeout(15))
        self.unique_name = hello["unique_name"]
        self.uid = hello["uid"]

    def _read_line(self, seconds):
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"client {self.user}: no answer in {seconds:.1f}s; "
                                     f"log: {self.read_log()}")
            if self.selector.select(left):
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"client {self.user} exited "
                                         f"({self.proc.wait()}); log: {self.read_log()}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, cmd, wait_s=30, **kwargs):
        kwargs["cmd"] = cmd
        self.proc.stdin.write((json.dumps(kwargs) + "\n").encode())
        self.proc.stdin.flush()
        return self._read_line(timeout(wait_s) + 5)

    def call(self, method, *args, options=None):
        """-> reply dict: {"ok": bool, "value" | "error", "message", "signal_count"}"""
        return self.request("call", method=method, args=list(args), options=options or {})

    def start(self, data=None, template="classic", transaction="tx-client", **options):
        if data is None:
            data = single_json()
        typed = {}
        for k, v in options.items():
            if isinstance(v, bool):
                typed[k] = ["b", v]
            elif isinstance(v, int):
                typed[k] = ["u", v]
            elif isinstance(v, str):
                typed[k] = ["s", v]
            else:
                typed[k] = list(v)
        return self.call("StartGeneration", transaction, template, data, options=typed)

    def signals(self):
        return self.request("signals")["value"]

    def updates(self, pid):
        return [s["args"][1] for s in self.signals()
                if s["member"] == "ProgressChanged" and s["args"][0] == pid]

    def wait_signal(self, seconds=30, **kwargs):
        return self.request("wait_signal", wait_s=seconds, timeout=timeout(seconds),
                            **kwargs)["ok"]

    def close(self, kill=False):
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                try:
                    self.proc.stdin.write(b'{"cmd": "exit"}\n')
                    self.proc.stdin.flush()
                except BrokenPipeError:
                    pass
            try:
                self.proc.wait(timeout(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.selector.close()
        self.log.close()


# ---------------------------------------------------------------------------
# Users


def multi_uid_unavailable_reason():
    if os.geteuid() != 0:
        return "multi-uid tests need root (to run clients as certgen-test1/2)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing"
    return None


def ensure_test_users():
    """Create certgen-test1/2 (system users, no home, nologin) if missing.
    dbus-daemon refuses connections from uids without a passwd entry."""
    lock_path = os.path.join(tempfile.gettempdir(), "certgen-test-users.lock")
    with open(lock_path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for user in TEST_USERS:
            try:
                pwd.getpwnam(user)
                continue
            except KeyError:
                pass
            r = subprocess.run(["useradd", "--system", "--no-create-home",
                                "--shell", "/usr/sbin/nologin", user],
                               capture_output=True, text=True, check=False)
            if r.returncode not in (0, 9):  # 9: already exists
                raise unittest.SkipTest(f"cannot create {user}: {r.stderr.strip()}")


SYSUSERS_FILE = os.path.join(SOURCE_ROOT, "data", "systemd", "certgen.sysusers")


def ensure_service_users():
    """As root, create the service users the bus policy names ("certgen",
    "certgen-http") from the project's own sysusers.d file, as a package
    install would, so dbus-daemon does not meet an unknown user. Without
    root nothing changes (dbus-daemon then only logs a warning)."""
    if os.geteuid() != 0 or shutil.which("systemd-sysusers") is None:
        return
    try:
        pwd.getpwnam("certgen")
        pwd.getpwnam("certgen-http")
        return
    except KeyError:
        pass
    lock_path = os.path.join(tempfile.gettempdir(), "certgen-test-users.lock")
    with open(lock_path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["systemd-sysusers", SYSUSERS_FILE], capture_output=True, check=False)


# ---------------------------------------------------------------------------
# The test case


# The default policy of Debian's /usr/share/dbus-1/system.conf: deny by
# default, then what every connection may do. Every private system bus of the
# tests starts with it.
SYSTEM_DEFAULT_POLICY = """  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
"""

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- certgen integration tests: a private system bus. Derived from Debian's
     /usr/share/dbus-1/system.conf (no fork, no pidfile, no syslog, no
     activation, runs as the test's user). -->
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>

""" + SYSTEM_DEFAULT_POLICY + """  <policy context="default">
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>

  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>

  <!-- The policy under test, as installed to $datadir/dbus-1/system.d. -->
  <include>{policy}</include>

  <!-- Test only: the daemon and the polkit mock run as the test's user
       instead of certgen / root-owned polkitd. -->
  <policy user="{user}">
    <allow own="org.certgen.Certificates1"/>
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow send_destination="org.freedesktop.PolicyKit1"
           send_interface="org.freedesktop.DBus.Mock"/>
  </policy>
  <!-- As polkit's own system.d file: everyone may ask the authority. -->
  <policy context="default">
""" + "".join(f"""    <allow send_destination="org.freedesktop.PolicyKit1" send_interface="{interface}"/>
""" for interface in ("org.freedesktop.PolicyKit1.Authority", "org.freedesktop.DBus.Properties",
                      "org.freedesktop.DBus.Introspectable")) + """  </policy>
</busconfig>
"""


def write_config_file(path, overrides=None):
    """certgend's configuration at path: DEFAULT_CONFIG with the groups of
    overrides merged over it -> path."""
    groups = {g: dict(v) for g, v in DEFAULT_CONFIG.items()}
    for group, keys in (overrides or {}).items():
        groups.setdefault(group, {}).update(keys)
    with open(path, "w", encoding="utf-8") as f:
        for group, keys in groups.items():
            f.write(f"[{group}]\n")
            for key, value in keys.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                f.write(f"{key}={value}\n")
            f.write("\n")
    return path


def launch_bus(tmpdir, log):
    """A private system bus (BUS_CONFIG) listening in tmpdir, its stderr to
    the file log -> (process, address). Raises AssertionError when
    dbus-daemon does not print its address in time."""
    socket = os.path.join(tmpdir, "system_bus_socket")
    config = os.path.join(tmpdir, "bus.conf")
    with open(config, "w", encoding="utf-8") as f:
        f.write(BUS_CONFIG.format(socket=socket, policy=POLICY_FILE,
                                  user=pwd.getpwuid(os.geteuid()).pw_name))
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile",
         "--print-address=1"],
        stdout=subprocess.PIPE, stderr=log)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = b""
    deadline = time.monotonic() + timeout(10)
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError("dbus-daemon did not print its address")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"dbus-daemon exited: {proc.wait()}")
            line += chunk
    except AssertionError:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        raise
    finally:
        sel.close()
    return proc, f"unix:path={socket}"


class CertgenTestCase(unittest.TestCase):
    """Base class: private system bus + certgend per test."""

    maxDiff = None

    # -- unittest plumbing -------------------------------------------------

    def run(self, result=None):
        before = len(result.errors) + len(result.failures) if result else 0
        super().run(result)
        if result is not None and len(result.errors) + len(result.failures) > before:
            self._print_logs()

    def _print_logs(self):
        logs = getattr(self, "_saved_logs", None) or self._collect_logs()
        for name, text in logs:
            sys.stderr.write(f"\n-------------- {name} --------------\n")
            sys.stderr.write(text[-200000:])
            sys.stderr.write(f"\n-------------- end of {name} --------------\n")

    def _collect_logs(self):
        logs = []
        tmpdir = getattr(self, "tmpdir", None)
        if not tmpdir or not os.path.isdir(tmpdir):
            return logs
        for name in sorted(os.listdir(tmpdir)):
            if name.endswith(".log"):
                with open(os.path.join(tmpdir, name), "rb") as f:
                    logs.append((name, f.read().decode("utf-8", "replace")))
        return logs

    def setUp(self):
        method = getattr(self, self._testMethodName)
        if getattr(method, "cg_multi_uid", False):
            reason = multi_uid_unavailable_reason()
            if reason:
                self.skipTest(reason)
            ensure_test_users()
        if not os.access(CERTGEND, os.X_OK):
            self.fail(f"certgend not built: {CERTGEND}")

        ensure_service_users()
        self.tmpdir = tempfile.mkdtemp(prefix="certgen-it-")
        os.chmod(self.tmpdir, 0o755)  # other uids reach the bus socket
        self.state_dir = os.path.join(self.tmpdir, "state")
        self.cert_dir = os.path.join(self.state_dir, "certificates")
        self.daemon = None
        self.daemon_log = None
        self.polkitd = None
        self.clients = []
        self.root = None
        self._saved_logs = None
        self.addCleanup(self._cleanup_all)

        self._start_bus()
        polkit = getattr(method, "cg_polkit", None)
        if polkit is not None:
            self.start_polkit(polkit)
        if not getattr(method, "cg_no_daemon", False):
            self.start_daemon(getattr(method, "cg_config", None))

    # -- bus ---------------------------------------------------------------

    def _start_bus(self):
        # pylint: disable-next=consider-using-with
        self.bus_log = open(os.path.join(self.tmpdir, "dbus-daemon.log"), "wb")
        self.bus_proc, self.bus_address = launch_bus(self.tmpdir, self.bus_log)
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)

    def new_client(self, listen=True):
        """A new in-process connection (the test's uid)."""
        client = BusClient(self.bus_address, self.daemon_name if listen else None)
        self.clients.append(client)
        return client

    def spawn_client(self, user=None):
        """cg_client.py as user (None: the test's own uid)."""
        client = ClientProcess(self, self.bus_address, user)
        self.clients.append(client)
        return client

    # -- polkit mock ---------------------------------------------------------

    def start_polkit(self, allowed=()):
        # pylint: disable-next=consider-using-with
        log = open(os.path.join(self.tmpdir, "polkitd-mock.log"), "wb")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        self.polkitd = subprocess.Popen(  # pylint: disable=consider-using-with
            [SYSTEM_PYTHON, "-m", "dbusmock", "--system", "--template", "polkitd"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        probe = BusClient(self.bus_address)
        try:
            wait_until(lambda: probe.name_owner(POLKIT_NAME) or self.polkitd.poll() is not None,
                       15, "the polkit mock on the bus")
            if self.polkitd.poll() is not None:
                self.fail(f"polkit mock exited with {self.polkitd.returncode}")
        finally:
            probe.close()
        self.set_polkit_allowed(allowed)

    def set_polkit_allowed(self, actions):
        probe = BusClient(self.bus_address)
        try:
            probe.raw_call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SetAllowed",
                           GLib.Variant("(as)", (list(actions),)), "()")
        finally:
            probe.close()

    # -- certgend ------------------------------------------------------------

    def write_config(self, overrides=None, name="certgen.conf"):
        return write_config_file(os.path.join(self.tmpdir, name), overrides)

    def start_daemon(self, config=None):
        self.config_path = self.write_config(config)
        os.makedirs(self.state_dir, exist_ok=True)
        self.daemon_log_path = os.path.join(self.tmpdir, "certgend.log")
        self.daemon_log = open(self.daemon_log_path, "ab")  # pylint: disable=consider-using-with
        # a test's own template directories (extra_template_dirs) come first
        dirs = list(getattr(self, "extra_template_dirs", ())) + [TEMPLATE_DIR]
        cmd = WRAPPER + [CERTGEND, "--config", self.config_path] + [
            arg for d in dirs for arg in ("--template-dir", d)] + [
            "--state-dir", self.state_dir, "--debug"]
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.daemon = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdout=self.daemon_log, stderr=subprocess.STDOUT, env=env)
        probe = BusClient(self.bus_address)
        try:
            wait_until(lambda: probe.name_owner(BUS_NAME) or self.daemon.poll() is not None,
                       20, f"{BUS_NAME} on the bus")
            if self.daemon.poll() is not None:
                self.fail(f"certgend exited with {self.daemon.returncode} before owning the name")
            self.daemon_name = probe.name_owner(BUS_NAME)
        finally:
            probe.close()
        self.root = self.new_client()
        return self.root

    def stop_daemon(self, check=True):
        """SIGTERM certgend; assert exit status 0 and a clean log."""
        if self.daemon is None:
            return
        daemon, self.daemon = self.daemon, None
        died = daemon.poll()
        if died is None:
            daemon.send_signal(signal.SIGTERM)
        elif check:
            self.daemon_log.close()
            self.fail(f"certgend died during the test with status {died}"
                      + (f" (signal {signal.Signals(-died).name})" if died < 0 else ""))
        try:
            rc = daemon.wait(timeout(15))
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
            if check:
                self.fail("certgend did not exit within 15 s of SIGTERM")
            return
        finally:
            self.daemon_log.close()
        if not check:
            return
        with open(self.daemon_log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        self.assertEqual(rc, 0, f"certgend exited with status {rc} after SIGTERM")
        for pattern in LOG_BAD_PATTERNS:
            m = pattern.search(log)
            self.assertIsNone(m, f"certgend log contains {m.group(0)!r}" if m else "")

    def tearDown(self):
        # Clients first (so their disconnects are handled by a live daemon),
        # then the daemon, checked.
        for c in self.clients:
            c.close()
        self.clients = []
        self.stop_daemon()

    def _cleanup_all(self):
        for c in getattr(self, "clients", []):
            try:
                c.close()
            except Exception:  # pylint: disable=broad-except
                pass
        if getattr(self, "daemon", None) is not None:
            self.stop_daemon(check=False)
        for proc in (self.polkitd, getattr(self, "bus_proc", None)):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout(5))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if getattr(self, "bus_proc", None) is not None:
            self.bus_proc.stdout.close()
            self.bus_log.close()
        self._saved_logs = self._collect_logs()
        if not os.environ.get("CERTGEN_TEST_KEEP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        else:
            sys.stderr.write(f"kept {self.tmpdir}\n")

    # -- assertions and helpers ------------------------------------------------

    def assertDBusError(self, name, func, *args, **kwargs):
        """func(*args) must fail with org.certgen.Certificates1.Error.<name>
        (or the full name when it contains a dot)."""
        full = name if "." in name else ERROR_PREFIX + name
        try:
            value = func(*args, **kwargs)
        except DBusCallError as e:
            self.assertEqual(e.name, full, f"expected {full}, got {e.name}: {e.message}")
            return e
        self.fail(f"expected {full}, the call succeeded and returned {value!r}")
        return None

    def assertClientError(self, reply, name, what=""):
        full = name if "." in name else ERROR_PREFIX + name
        self.assertFalse(reply["ok"], f"{what}: expected {full}, got success {reply}")
        self.assertEqual(reply["error"], full, f"{what}: {reply}")

    def daemon_cpu_seconds(self):
        """User + system CPU time certgend has used so far."""
        with open(f"/proc/{self.daemon.pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def assert_work_stopped(self, seconds=0.6):
        """certgend burns (almost) no CPU any more: the worker really stopped."""
        before = self.daemon_cpu_seconds()
        spin(seconds)
        used = self.daemon_cpu_seconds() - before
        self.assertLess(used, seconds * 0.3 * max(1, TIMEOUT_FACTOR / 5),
                        f"certgend used {used:.2f}s CPU in {seconds}s after the terminal update")

    def cert_path(self, pid, ext="pdf"):
        return os.path.join(self.cert_dir, f"{pid}.{ext}")

    def cert_dir_entries(self):
        try:
            return sorted(os.listdir(self.cert_dir))
        except FileNotFoundError:
            return []

    def files_of(self, pid):
        """<id>.pdf or <id>.zip and hidden temporary files (.<id>.pdf.XXXXXX) of pid."""
        return [e for e in self.cert_dir_entries()
                if e in (f"{pid}.pdf", f"{pid}.zip") or (e.startswith(".") and pid in e)]

    def assert_no_file_for(self, pid):
        """No final file and no temporary (dot) file of pid left behind."""
        self.assertEqual(self.files_of(pid), [], f"files of {pid} left in the state directory")

    def run_to_end(self, data=None, client=None, seconds=60, **options):
        """Start a generation and wait for its terminal update -> (pid, updates)."""
        client = client or self.root
        pid = client.start(data, **options)
        client.wait_terminal(pid, seconds)
        return pid, client.updates[pid]

    def assert_healthy(self):
        """A normal generation still runs to completion."""
        pid, updates = self.run_to_end(single_json(recipientName="Health Check"),
                                       transaction="tx-health")
        self.assertEqual(updates[-1]["status"], "completed", updates[-1])
        self.assertTrue(os.path.isfile(self.cert_path(pid)))
        return pid

    def assert_update_shape(self, update):
        for key, sig in UPDATE_KEYS.items():
            self.assertIn(key, update, f"update lacks {key}: {update}")
        self.assertIn(update["stage"], STAGES)
        self.assertEqual(update["stage_index"], STAGES.index(update["stage"]), update)
        self.assertTrue(0 <= update["stage_progress"] <= 100, update)
        self.assertTrue(0.0 <= update["progress"] <= 100.0, update)
        self.assertIn(update["status"], TERMINAL + ("in_progress",))

    def unique_name_of(self, pid):
        """The unique bus name of the connection of process pid."""
        def find():
            (names,) = self.root.bus("ListNames", None, "(as)")
            for name in names:
                if not name.startswith(":"):
                    continue
                try:
                    (p,) = self.root.bus("GetConnectionUnixProcessID",
                                         GLib.Variant("(s)", (name,)), "(u)")
                except DBusCallError:
                    continue
                if p == pid:
                    return name
            return None
        return wait_until(find, 10, f"a bus connection of pid {pid}")

    def assert_sequence_consecutive(self, updates):
        seqs = [u["sequence"] for u in updates]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))),
                         "sequence must grow by exactly 1 per update")

    def assert_terminal_last(self, client, pid):
        """The terminal update is the last: nothing follows it and GetProgress
        reports the same sequence."""
        updates = client.updates[pid]
        terminal_index = next(i for i, u in enumerate(updates) if u["status"] in TERMINAL)
        spin(0.3)
        snap = client.progress(pid)
        drain_main_context()
        updates = client.updates[pid]
        self.assertEqual(len(updates), terminal_index + 1,
                         f"updates after the terminal one: {updates[terminal_index + 1:]}")
        self.assertEqual(snap["sequence"], updates[-1]["sequence"])
        self.assertEqual(snap["status"], updates[-1]["status"])
        return snap


def this_year_prefixes():
    now = datetime.datetime.now()
    utc = datetime.datetime.now(datetime.timezone.utc)
    return {f"CERT{now.year}", f"CERT{utc.year}"}


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pdf_text(pdf):
    """The text of a PDF (a path, or its bytes), by pdftotext (poppler-utils)."""
    if isinstance(pdf, bytes):
        proc = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                              capture_output=True, check=True)
    else:
        proc = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"],
                              capture_output=True, check=True)
    return proc.stdout.decode("utf-8")


def main():
    """unittest.main that exits 77 when every selected case was skipped."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    result = prog.result
    if result.testsRun and len(result.skipped) == result.testsRun and result.wasSuccessful():
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)


# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http test harness: certgend on the private system bus
(cg_testbus.CertgenTestCase) plus the bridge from the build tree, started as
the test's user (root in CI, allowed to pass owner_label without polkit) on
a port the kernel picks, with a tokens file of two web users. Small clients
for HTTP (http.client), server-sent events and WebSocket (hand-written: the
handshake, unmasked server frames, masked client frames).

On teardown the bridge gets SIGTERM and must exit 0 with a log free of
CRITICAL / sanitizer output; its log is printed when a case fails.

Environment (besides cg_testbus's): CERTGEN_HTTP overrides the bridge binary;
CERTGEN_HTTP_WRAPPER (e.g. "valgrind --error-exitcode=1 --leak-check=full")
is prefixed to its command line.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time

from .testbus import (BIG_BATCH, BUILD_ROOT, LOG_BAD_PATTERNS, SOURCE_ROOT, case_setting,
                        CertgenTestCase, ensure_test_users, multi_uid_unavailable_reason,
                        timeout, wait_until)

BRIDGE = os.environ.get("CERTGEN_HTTP") or os.path.join(BUILD_ROOT, "client", "http",
                                                        "certgen-http")
WEB_ROOT = os.path.join(SOURCE_ROOT, "client", "web")
BRIDGE_WRAPPER = shlex.split(os.environ.get("CERTGEN_HTTP_WRAPPER", ""))

TOKENS = {
    "alice": "alice-0123456789abcdef-token",
    "bob": "bob-fedcba9876543210-token",
}
ALICE = TOKENS["alice"]
BOB = TOKENS["bob"]

SSE_KEYS = {"progressId", "stage", "stageIndex", "stageProgress", "progress", "status",
            "message", "sequence", "timestamp", "pagesDone", "pagesTotal", "expectedEnd",
            "cancellable", "transactionId", "startedAt", "persistent", "expiresAt"}
TERMINAL = ("completed", "failed", "cancelled", "timed_out")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def bridge_args(*args):
    """Extra command-line arguments for the bridge of one case."""
    return case_setting("cg_bridge_args", list(args))


def bridge_user(user):
    """Run the bridge of one case as @user (a test user: needs root and
    setpriv; the case is skipped otherwise), a delegate like the installed
    certgen-http user rather than root."""
    return case_setting("cg_bridge_user", user)


def no_bridge(func):
    """setUp does not start the bridge; the case does."""
    func.cg_no_bridge = True
    return func


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Response:
    def __init__(self, resp, body):
        self.status = resp.status
        self.reason = resp.reason
        self.headers = resp.headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.body[:300]!r}>"


class SseEvent:
    def __init__(self):
        self.id = None
        self.data = []
        self.event = None
        self.retry = None

    @property
    def json(self):
        return json.loads("\n".join(self.data))

    def __repr__(self):
        return f"<event id={self.id} data={self.data}>"


class SseStream:
    """A GET of a text/event-stream, read line by line per WHATWG."""

    def __init__(self, port, path, headers, read_timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout(read_timeout))
        self.conn.request("GET", path, headers=headers)
        # http.client lets go of the socket of a response that ends with
        # the connection (a stream); tests that cut it off use this
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.lines = []     # every line as received
        self.comments = []
        self.retry = None
        self.ended = False  # the server ended the response
        self.last_event_id = None

    def header(self, name):
        return self.resp.getheader(name)

    def body(self):
        return self.resp.read()

    def next_event(self):
        """The next dispatched event (with data), or None at the end."""
        event = SseEvent()
        while True:
            raw = self.resp.readline()
            if not raw:
                self.ended = True
                return None
            line = raw.decode("utf-8").rstrip("\r\n")
            self.lines.append(line)
            if line == "":
                if event.data:
                    if event.id is not None:
                        self.last_event_id = event.id
                    return event
                event = SseEvent()
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                event.data.append(value)
            elif field == "id":
                event.id = value
            elif field == "retry":
                self.retry = value
                event.retry = value
            elif field == "event":
                event.event = value

    def events_until_terminal(self):
        """The events up to the first terminal one, or to the end."""
        events = []
        for event in iter(self.next_event, None):
            events.append(event)
            if event.json.get("status") in TERMINAL:
                break
        return events

    def at_end(self):
        """True when nothing follows (the response is complete)."""
        return self.next_event() is None and self.ended

    def close(self):
        self.resp.close()
        self.conn.close()
        if self.sock is not None:
            self.sock.close()


class WebSocket:
    """A tiny RFC 6455 client: masked frames out, unmasked frames in."""

    def __init__(self, port, path, headers=None, connect_timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout(connect_timeout))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for h in header_lines:
            name, _, value = h.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.body = b""
        if self.status == 101:
            expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != expected:
                raise AssertionError(f"bad Sec-WebSocket-Accept: {self.headers}")
        else:
            length = int(self.headers.get("content-length", "0"))
            while len(self.buffer) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
            self.body = self.buffer[:length]
        self.close_code = None
        self.close_reason = None

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed; got {self.buffer!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self.send_frame(0x1, text.encode())

    def recv_frame(self):
        b0, b1 = self._read_exact(2)
        opcode = b0 & 0x0F
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked")
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read_exact(8))
        return opcode, self._read_exact(n)

    def recv_message(self):
        """The next text message as JSON; None after a close frame."""
        while True:
            opcode, payload = self.recv_frame()
            if opcode == 0x1:
                return json.loads(payload.decode())
            if opcode == 0x8:
                if len(payload) >= 2:
                    (self.close_code,) = struct.unpack("!H", payload[:2])
                    self.close_reason = payload[2:].decode()
                try:
                    self.send_frame(0x8, payload[:2])
                except OSError:
                    pass
                return None
            if opcode == 0x9:
                self.send_frame(0xA, payload)

    def messages_until_close(self):
        """The text messages up to the close frame."""
        return list(iter(self.recv_message, None))

    def close(self):
        self.sock.close()


def http_request(port, method, path, body=None, token=ALICE, headers=None, raw=None):
    """One request on a connection of its own to 127.0.0.1:port -> Response.
    body: a JSON-able value; raw: bytes sent as they are; token: the Bearer
    token (None: no Authorization header)."""
    h = dict(headers or {})
    if token is not None:
        h.setdefault("Authorization", f"Bearer {token}")
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout(30))
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        return Response(resp, resp.read())
    finally:
        conn.close()


def check_error(testcase, resp, status, code, what=""):
    """testcase's assertions that resp is the bridge's JSON error: status,
    a reason phrase, {"error": code, "message"} (and "errors" for
    invalid_data) -> the body."""
    testcase.assertEqual(resp.status, status, f"{what}: {resp!r}")
    # a reason phrase for every status (libsoup knows none for 429)
    testcase.assertNotEqual(resp.reason, "Unknown Error", f"{what}: {resp!r}")
    if status == 429:
        testcase.assertEqual(resp.reason, "Too Many Requests", f"{what}: {resp!r}")
    testcase.assertTrue(resp.header("Content-Type").startswith("application/json"), resp)
    body = resp.json
    # every invalid_data body lists its problems (DESIGN.md, Wave 2)
    if code == "invalid_data":
        testcase.assertEqual(set(body), {"error", "message", "errors"}, body)
        testcase.assertTrue(body["errors"], body)
        for entry in body["errors"]:
            testcase.assertEqual(set(entry), {"path", "message"}, body)
    else:
        testcase.assertEqual(set(body), {"error", "message"}, body)
    testcase.assertEqual(body["error"], code, f"{what}: {body}")
    testcase.assertTrue(body["message"], body)
    return body


class HttpTestCase(CertgenTestCase):
    """CertgenTestCase + certgen-http."""

    def setUp(self):
        super().setUp()
        if not os.access(BRIDGE, os.X_OK):
            self.fail(f"certgen-http not built: {BRIDGE}")
        self.bridge = None
        self.bridge_log = None
        self.port = None
        self.tokens_path = os.path.join(self.tmpdir, "http-tokens")
        self.write_tokens(TOKENS)
        self.addCleanup(self._kill_bridge)
        method = getattr(self, self._testMethodName)
        if not getattr(method, "cg_no_bridge", False):
            self.start_bridge(getattr(method, "cg_bridge_args", []))

    def write_tokens(self, tokens):
        with open(self.tokens_path, "w", encoding="utf-8") as f:
            f.write("# test users\n")
            for name, token in tokens.items():
                f.write(f"{name} {token_hash(token)}\n")

    # -- the bridge ------------------------------------------------------------

    def bridge_log_text(self):
        with open(self.bridge_log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start_bridge(self, extra=(), web_root=WEB_ROOT, wait_for_daemon=True, host="127.0.0.1"):
        self.bridge_log_path = os.path.join(self.tmpdir, "certgen-http.log")
        self.bridge_log = open(self.bridge_log_path, "ab")  # pylint: disable=consider-using-with
        start_offset = self.bridge_log.tell()
        cmd = BRIDGE_WRAPPER + [BRIDGE, "--listen", f"{host}:0", "--tokens", self.tokens_path,
               "--web-root", web_root, "--debug"] + list(extra)
        user = getattr(getattr(self, self._testMethodName), "cg_bridge_user", None)
        if user is not None:
            reason = multi_uid_unavailable_reason()
            if reason:
                self.skipTest(reason)
            ensure_test_users()
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + cmd
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        env.pop("LISTEN_FDS", None)
        env.pop("LISTEN_PID", None)
        self.bridge = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdout=self.bridge_log, stderr=subprocess.STDOUT, env=env)

        def listening():
            if self.bridge.poll() is not None:
                return True
            m = re.search(r"Listening on http://" + re.escape(host) + r":(\d+)/",
                          self.bridge_log_text()[start_offset:])
            return m and int(m.group(1))
        port = wait_until(listening, 20, "certgen-http listening")
        if self.bridge.poll() is not None:
            self.fail(f"certgen-http exited with {self.bridge.returncode}: "
                      f"{self.bridge_log_text()}")
        self.port = port
        if wait_for_daemon and self.daemon is not None:
            wait_until(lambda: "certgend is :" in self.bridge_log_text()[start_offset:], 20,
                       "certgen-http seeing certgend")
        return self.bridge

    def stop_bridge(self, check=True, signalled=False):
        """SIGTERM the bridge (unless the case did: signalled) and check its end."""
        if self.bridge is None:
            return
        bridge, self.bridge = self.bridge, None
        died = None if signalled else bridge.poll()
        if died is None and not signalled:
            bridge.send_signal(signal.SIGTERM)
        try:
            rc = bridge.wait(timeout(15))
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()
            self.bridge_log.close()
            if check:
                self.fail("certgen-http did not exit within 15 s of SIGTERM")
            return
        self.bridge_log.close()
        if not check:
            return
        if died is not None:
            self.fail(f"certgen-http died during the test with status {died}")
        log = self.bridge_log_text()
        self.assertEqual(rc, 0, f"certgen-http exited with status {rc} after SIGTERM")
        for pattern in LOG_BAD_PATTERNS:
            m = pattern.search(log)
            self.assertIsNone(m, f"certgen-http log contains {m.group(0)!r}" if m else "")

    def _kill_bridge(self):
        if getattr(self, "bridge", None) is not None:
            self.stop_bridge(check=False)

    def tearDown(self):
        self.stop_bridge()
        super().tearDown()

    def bridge_fd_count(self):
        return len(os.listdir(f"/proc/{self.bridge.pid}/fd"))

    # -- HTTP ----------------------------------------------------------------------

    def request(self, method, path, body=None, token=ALICE, headers=None, raw=None):
        """-> Response. body: a JSON-able value; raw: bytes sent as they are."""
        return http_request(self.port, method, path, body, token, headers, raw)

    def assertError(self, resp, status, code, what=""):
        return check_error(self, resp, status, code, what)

    def start(self, data=None, token=ALICE, template=None, transaction="tx-http",
              output_format=None, **options):
        body = {"transactionId": transaction,
                "data": data if data is not None else recipient_data()}
        if template is not None:
            body["templateId"] = template
        if output_format is not None:
            body["outputFormat"] = output_format
        if options:
            body["options"] = options
        resp = self.request("POST", "/api/certificates", body, token=token)
        self.assertEqual(resp.status, 201, resp)
        pid = resp.json["progressId"]
        self.assertRegex(pid, r"^[0-9a-f]{32}$")
        return pid

    def sse(self, pid, token=ALICE, headers=None, read_timeout=30):
        h = {"Accept": "text/event-stream"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        return SseStream(self.port, f"/api/certificates/progress/{pid}", h, read_timeout)

    def websocket(self, pid, token=ALICE, headers=None, query=""):
        h = {}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        return WebSocket(self.port, f"/api/certificates/ws/{pid}{query}", h)

    def big_batch_followed_twice(self):
        """A big batch followed by an SSE stream and a WebSocket, each past
        its first event -> (progress id, stream, ws)."""
        pid = self.start(batch_data(BIG_BATCH))
        stream = self.sse(pid)
        self.assertIsNotNone(stream.next_event())
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 101)
        self.assertIsNotNone(ws.recv_message())
        return pid, stream, ws

    def wait_finished(self, pid, token=ALICE, seconds=60):
        """Follow the SSE stream to the terminal event -> its JSON."""
        stream = self.sse(pid, token=token, read_timeout=seconds)
        try:
            self.assertEqual(stream.status, 200)
            events = stream.events_until_terminal()
            self.assertTrue(events, "no events")
            return events[-1].json
        finally:
            stream.close()


def recipient_data(i=0, **extra):
    data = {"recipientName": f"Web Recipient {i}", "courseName": "HTTP Bridges 101",
            "issueDate": "2024-05-17", "issuer": "certgen-http tests"}
    data.update(extra)
    return data


def batch_data(n):
    return {"recipients": [{"recipientName": f"Web Batch Person {i}"} for i in range(n)],
            "courseName": "Batch Course", "issueDate": "2024-05-17"}


def recv_all(sock, seconds):
    """Read until the peer closes or seconds pass -> (data, closed)."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False

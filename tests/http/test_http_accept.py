#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http's own accept path (client/http/cg-http-accept.c): the bridge
accepts TCP itself, reads GET /api/certificates/progress/{id} with a strict
head parser (cg-http-head.c) and hands every other connection to libsoup.
Hostile heads on the stream route (too long, too many fields, malformed,
control characters, invalid UTF-8, slow) are refused and the connection
closed; the route answers exactly as through libsoup (the same code decides:
a stream asked for on a kept-alive libsoup connection is the comparison);
the other routes keep working through the shared listener. Each case is its
own meson test (suite 'http')."""

import json
import socket
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.bridge import (ALICE, BOB, HttpTestCase, batch_data,  # noqa: E402
                                 bridge_args, recv_all)
from certgen_test.testbus import BIG_BATCH, main, random_id, timeout, wait_until  # noqa: E402

ROUTE = "/api/certificates/progress/"
HEAD_MAX = 8192  # CG_HTTP_HEAD_MAX_BYTES
FIELDS_MAX = 64  # CG_HTTP_HEAD_MAX_FIELDS


def parse_response(data):
    """-> (status, {lower name: value}, body) of the raw bytes of a response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def read_response(sock):
    """-> (status, headers, body) of one response with a Content-Length."""
    sock.settimeout(timeout(10))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, headers, _ = parse_response(head + b"\r\n\r\n")
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


class AcceptTestCase(HttpTestCase):

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port))
        self.addCleanup(sock.close)
        return sock

    def kept_alive(self):
        """A connection that libsoup serves (its first request is not the
        stream route's), after one answered request."""
        sock = self.connect()
        sock.sendall(b"GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + ALICE.encode() + b"\r\n\r\n")
        self.assertEqual(read_response(sock)[0], 404)
        return sock

    def exchange(self, raw, seconds=10):
        """Sends raw bytes on a new connection -> (data, closed)."""
        sock = self.connect()
        sock.sendall(raw)
        return recv_all(sock, timeout(seconds))

    def assertRefused(self, raw, status, code, what=""):
        """The head is refused with @status, a JSON error @code, and the
        connection is closed."""
        data, closed = self.exchange(raw)
        self.assertTrue(data, f"{what}: no response")
        got, headers, body = parse_response(data)
        self.assertEqual(got, status, f"{what}: {data[:200]!r}")
        self.assertTrue(headers["content-type"].startswith("application/json"), what)
        self.assertEqual(headers.get("connection"), "close", what)
        self.assertEqual(int(headers["content-length"]), len(body), what)
        self.assertEqual(json.loads(body)["error"], code, what)
        self.assertTrue(closed, f"{what}: the connection must be closed")
        return body

    def stream_head(self, pid, token=ALICE, extra=""):
        return (f"GET {ROUTE}{pid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\n{extra}\r\n").encode()


class HostileHeadTests(AcceptTestCase):

    def test_oversized_request_line(self):
        """A request line longer than the head cap: 400, closed."""
        raw = f"GET {ROUTE}{'a' * (HEAD_MAX + 100)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        self.assertRefused(raw, 400, "bad_request", "long request line")
        self.assertEqual(self.request("GET", "/api/nothing").status, 404)

    def test_oversized_headers(self):
        """Header fields beyond the head cap, or more fields than allowed: 431, closed."""
        pid = random_id()
        big = self.stream_head(pid, extra="X-Big: " + "b" * HEAD_MAX + "\r\n")
        self.assertRefused(big, 431, "headers_too_large", "big field")
        many = self.stream_head(pid, extra="".join(f"X-F{i}: v\r\n"
                                                   for i in range(FIELDS_MAX + 1)))
        self.assertRefused(many, 431, "headers_too_large", "many fields")
        # just below both caps is served (and refused for the unknown id only)
        fine = self.stream_head(pid, extra="".join(f"X-F{i}: v\r\n"
                                                   for i in range(FIELDS_MAX - 3)))
        data, _ = self.exchange(fine)
        self.assertEqual(parse_response(data)[0], 404, data[:200])

    def test_bad_request_lines(self):
        """Malformed request lines on the route: 400 (505 for another HTTP version)."""
        pid = random_id()
        for raw, status, code in (
                (f"GET {ROUTE}{pid}  HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
                (f"GET {ROUTE}{pid}\r\nHost: x\r\n\r\n", 400, "bad_request"),
                (f"GET {ROUTE}{pid} HTTP/1.1 x\r\nHost: x\r\n\r\n", 400, "bad_request"),
                (f"GET {ROUTE}{pid} HTTP/2.0\r\nHost: x\r\n\r\n", 505,
                 "http_version_not_supported"),
                (f"GET {ROUTE}{pid} HTTP/1.1\rHost: x\r\n\r\n", 400, "bad_request"),
                (f"GET {ROUTE}{pid} HTTP/1.1\r\n\r\n", 400, "bad_request"),  # no Host
        ):
            with self.subTest(raw=raw):
                self.assertRefused(raw.encode(), status, code, repr(raw))

    def test_malformed_fields(self):
        """A field without a colon, with a space before it, folded, or a body on the
        route: 400, closed."""
        pid = random_id()
        for extra in ("NoColonHere\r\n", "X-Space : v\r\n", "X-Fold: a\r\n b\r\n",
                      ": empty-name\r\n", "Content-Length: 5\r\n",
                      "Transfer-Encoding: chunked\r\n"):
            with self.subTest(extra=extra):
                self.assertRefused(self.stream_head(pid, extra=extra), 400, "bad_request",
                                   repr(extra))

    def test_control_chars_and_invalid_utf8(self):
        """Control characters or non-ASCII bytes in the path, control characters or
        invalid UTF-8 in Last-Event-ID: 400, closed."""
        pid = random_id()
        for path in (f"{ROUTE}{pid}\x01".encode(), f"{ROUTE}{pid}".encode() + b"\xff",
                     f"{ROUTE}".encode() + "é".encode()):
            with self.subTest(path=path):
                raw = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"
                self.assertRefused(raw, 400, "bad_request", repr(path))
        for value in (b"1\x01", b"\xff\xfe", b"\xc3", b"1\x00"):
            with self.subTest(value=value):
                raw = self.stream_head(pid)[:-2] + b"Last-Event-ID: " + value + b"\r\n\r\n"
                self.assertRefused(raw, 400, "bad_request", repr(value))

    @bridge_args("--header-timeout-ms", "1000")
    def test_slowloris(self):
        """A partial head on the route (or a partial request line), then silence:
        closed after the header timeout, while a complete request is served."""
        partial_head = self.connect()
        partial_head.sendall(f"GET {ROUTE}{random_id()} HTTP/1.1\r\nHost: x\r\nX-Slow: "
                             .encode())
        partial_line = self.connect()
        partial_line.sendall(f"GET {ROUTE}{random_id()}".encode())
        silent = self.connect()
        started = time.monotonic()
        self.assertEqual(self.request("GET", "/api/nothing").status, 404)
        for sock, what in ((partial_head, "partial head"), (partial_line, "partial line"),
                           (silent, "silent")):
            data, closed = recv_all(sock, timeout(5))
            self.assertTrue(closed, f"{what}: must be cut off")
            self.assertEqual(data, b"", what)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertLess(time.monotonic() - started, timeout(6))

    @bridge_args("--header-timeout-ms", "1500")
    def test_dribbled_head_is_served(self):
        """A head that arrives a few bytes at a time within the timeout is served."""
        pid = self.start()
        sock = self.connect()
        raw = self.stream_head(pid)
        for i in range(0, len(raw), 7):
            sock.sendall(raw[i:i + 7])
            time.sleep(0.01)
        sock.settimeout(timeout(30))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            self.assertTrue(chunk, data)
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:100])


class SameAnswersTests(AcceptTestCase):
    """The route answers the same through the bridge's own path (a new
    connection) and through libsoup (a kept-alive connection after another
    request): one code decides."""

    def both(self, head):
        """-> (own path's, libsoup path's) (status, headers, body) for @head."""
        own, closed = self.exchange(head)
        self.assertTrue(closed, own[:200])
        sock = self.kept_alive()
        sock.sendall(head)
        return parse_response(own), read_response(sock)

    def assertSame(self, own, soup, what):
        self.assertEqual(own[0], soup[0], what)
        ignore = {"date", "content-length", "keep-alive"}
        self.assertEqual({k: v for k, v in own[1].items() if k not in ignore},
                         {k: v for k, v in soup[1].items() if k not in ignore} | (
                             {"connection": "close"} if "connection" in own[1] else {}),
                         what)
        self.assertEqual(own[2], soup[2], what)

    def test_refusals_alike(self):
        """Wrong token, no token, unknown id, another user's generation, a malformed
        id, a forbidden origin: the same status, headers and body either way."""
        pid = self.start(batch_data(BIG_BATCH))
        for what, head in (
                ("wrong token", self.stream_head(pid, token="not-a-token")),
                ("no token", f"GET {ROUTE}{pid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()),
                ("unknown id", self.stream_head(random_id())),
                ("another user's", self.stream_head(pid, token=BOB)),
                ("malformed id", self.stream_head("a.b")),
                ("empty id", self.stream_head("")),
                ("origin", self.stream_head(pid, extra="Origin: http://evil.example\r\n")),
        ):
            with self.subTest(what=what):
                own, soup = self.both(head)
                self.assertIn(own[0], (401, 403, 404), what)
                self.assertSame(own, soup, what)
                if own[0] == 401:
                    self.assertEqual(own[1]["www-authenticate"], 'Bearer realm="certgen"')
        self.request("DELETE", f"{ROUTE}{pid}")

    def test_other_user_gets_the_unknown_404(self):
        """bob on alice's generation gets the body an unknown id gets."""
        pid = self.start(batch_data(50))
        unknown = random_id()
        theirs, _ = self.exchange(self.stream_head(pid, token=BOB))
        nothing, _ = self.exchange(self.stream_head(unknown, token=BOB))
        theirs, nothing = parse_response(theirs), parse_response(nothing)
        self.assertEqual(theirs[0], 404)
        self.assertEqual(theirs[2].replace(pid.encode(), b"ID"),
                         nothing[2].replace(unknown.encode(), b"ID"))
        self.assertEqual(theirs[1].keys(), nothing[1].keys())

    def test_stream_alike_and_byte_identical(self):
        """A stream through each path: the same head, and byte-identical events."""
        pid = self.start(batch_data(40))
        own = self.connect()
        own.sendall(self.stream_head(pid))
        soup = self.kept_alive()
        soup.sendall(self.stream_head(pid))
        own_data, own_closed = recv_all(own, timeout(60))
        soup_data, soup_closed = recv_all(soup, timeout(60))
        self.assertTrue(own_closed and soup_closed, "both streams end after the terminal event")
        own_r, soup_r = parse_response(own_data), parse_response(soup_data)
        self.assertEqual(own_r[0], 200)
        self.assertSame(own_r[:2] + (b"",), soup_r[:2] + (b"",), "stream head")
        self.assertEqual(own_r[1]["content-type"], "text/event-stream; charset=utf-8")
        self.assertEqual(own_r[1]["cache-control"], "no-cache")

        def events(body):
            return {block.split("\n", 1)[0]: block
                    for block in body.decode().split("\n\n") if block.startswith("id: ")}
        own_events, soup_events = events(own_r[2]), events(soup_r[2])
        self.assertTrue(own_events)
        common = set(own_events) & set(soup_events)
        self.assertTrue(common, "the streams share events")
        for key in common:
            self.assertEqual(own_events[key], soup_events[key], key)
        self.assertIn('"status":"completed"', list(own_events.values())[-1])

    def test_pipelined_bytes_after_the_head_are_dropped(self):
        """What a client sends after its stream request does not disturb the stream."""
        pid = self.start()
        data, closed = self.exchange(self.stream_head(pid) + b"GET / HTTP/1.1\r\n\r\n", 60)
        self.assertTrue(closed)
        status, _, body = parse_response(data)
        self.assertEqual(status, 200)
        self.assertIn(b'"status":"completed"', body)
        self.assertNotIn(b"HTTP/1.1", body)


class SharedListenerTests(AcceptTestCase):

    def test_keep_alive_through_libsoup(self):
        """Other routes go to libsoup unchanged and keep their connection alive:
        the page, templates, /metrics, a POST and an SSE stream on one connection."""
        sock = self.connect()
        auth = b"Authorization: Bearer " + ALICE.encode() + b"\r\n"

        def ask(raw):
            sock.sendall(raw)
            return read_response(sock)

        self.assertEqual(ask(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[0], 200)
        self.assertEqual(ask(b"GET /api/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                             b"\r\n")[0], 200)
        self.assertEqual(ask(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[0], 200)
        body = json.dumps({"transactionId": "tx-keep", "data": {
            "recipientName": "Kept Alive", "courseName": "C", "issueDate": "2024-05-17"}})
        status, _, created = ask(b"POST /api/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                 auth + b"Content-Type: application/json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" +
                                 body.encode())
        self.assertEqual(status, 201, created)
        pid = json.loads(created)["progressId"]
        sock.sendall(self.stream_head(pid))
        data, closed = recv_all(sock, timeout(60))
        self.assertTrue(closed)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        self.assertIn(b'"status":"completed"', data)
        resp = self.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.body.startswith(b"%PDF"))
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 101)
        ws.close()

    def test_route_methods_go_to_libsoup(self):
        """Other methods on the route are libsoup's, as before: 405 with Allow."""
        pid = random_id()
        for method in ("POST", "PUT", "HEAD"):
            with self.subTest(method=method):
                resp = self.request(method, f"{ROUTE}{pid}")
                self.assertEqual(resp.status, 405, resp)
                self.assertEqual(resp.header("Allow"), "GET, DELETE")

    @bridge_args("--max-streams-per-user", "1000", "--max-streams", "20",
                 "--streams-per-minute", "100000")
    def test_flood_beyond_the_cap(self):
        """60 connections at once on a 20-stream bridge: 20 streams, the rest 503
        overloaded with Retry-After, each refused connection closed; the descriptors
        come back."""
        pid = self.start(batch_data(BIG_BATCH))
        before = self.bridge_fd_count()
        socks = [self.connect() for _ in range(60)]
        for sock in socks:
            sock.sendall(self.stream_head(pid))
        statuses = []
        for sock in socks:
            sock.settimeout(timeout(20))
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            status, headers, _ = parse_response(data)
            statuses.append(status)
            if status == 503:
                self.assertTrue(headers.get("retry-after"), headers)
                _, closed = recv_all(sock, timeout(5))
                self.assertTrue(closed, "a refused connection is closed")
        self.assertEqual(statuses.count(200), 20, statuses)
        self.assertEqual(statuses.count(503), 40, statuses)
        for sock in socks:
            sock.close()
        wait_until(lambda: self.bridge_fd_count() <= before, 20, "descriptors back")
        self.request("DELETE", f"{ROUTE}{pid}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http --redis (issue 13): two bridges (A with the tokens file, B
without: it knows the tokens A published) on one redis-server of each
case's own, certgend on the private bus, and for the end-to-end case the
real certgen-relay beside it. What no bridge or relay would write (garbage,
another user's hash) is planted with python3-redis, and so are the events of
the streaming cases that need no rendering: a relay's output as README's
schema defines it (GVariant a{sv} bytes, entry ids SEQ-0, the hash's
snapshot in the same MULTI). Each case is its own meson test (suite
'http')."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "relay"))

from certgen_test.bridge import (ALICE, BOB, BRIDGE, BRIDGE_WRAPPER, TOKENS,  # noqa: E402
                                 WEB_ROOT, HttpTestCase, recipient_data)
from certgen_test.testbus import (LOG_BAD_PATTERNS, CertgenTestCase, GLib, main,  # noqa: E402
                                  read_text, timeout, wait_until)
from certgen_test.redis import RedisServer, unavailable_reason  # noqa: E402
from relay_harness import RELAY, RelayProcess, redis  # noqa: E402

UNKNOWN = "0123456789abcdef0123456789abcdef"


def update_bytes(pid, seq, status="in_progress", progress=None, **extra):
    fields = {"progress_id": GLib.Variant("s", pid), "sequence": GLib.Variant("t", seq),
              "status": GLib.Variant("s", status),
              "progress": GLib.Variant("d", progress if progress is not None else seq * 10.0),
              "stage": GLib.Variant("s", "rendering"),
              "timestamp_us": GLib.Variant("x", int(time.time() * 1e6))}
    for key, value in extra.items():
        fields[key] = value
    return GLib.Variant("a{sv}", fields).get_data_as_bytes().get_data()


def bridge_extra(*args):
    """Extra arguments for both bridges of one case."""
    def wrap(func):
        func.cg_redis_bridge_args = list(args)
        return func
    return wrap


class Bridge:
    """One certgen-http --redis with its own log."""

    def __init__(self, case, name, tokens, extra=()):
        self.name = name
        self.log_path = os.path.join(case.tmpdir, f"certgen-http-{name}.log")
        self.log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        cmd = BRIDGE_WRAPPER + [BRIDGE, "--listen", "127.0.0.1:0", "--web-root", WEB_ROOT, "--debug",
               "--redis", case.redis_server.address, "--bridge-id", name]
        if tokens:
            cmd += ["--tokens", case.tokens_path]
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=case.bus_address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd + list(extra), stdout=self.log, stderr=subprocess.STDOUT, env=env)

        def listening():
            if self.proc.poll() is not None:
                return True
            m = re.search(r"Listening on http://127\.0\.0\.1:(\d+)/", self.text())
            return m and "Connected to Redis" in self.text() and int(m.group(1))
        self.port = wait_until(listening, 20, f"bridge {name} listening and connected")
        if self.proc.poll() is not None:
            raise AssertionError(f"bridge {name} exited: {self.text()}")

    def text(self):
        return read_text(self.log_path)

    def stop(self, case, check=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout(15))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    case.fail(f"bridge {self.name} did not exit on SIGTERM")
        elif check:
            case.fail(f"bridge {self.name} died with {self.proc.returncode}")
        self.log.close()
        if not check:
            return
        case.assertEqual(self.proc.returncode, 0, f"bridge {self.name} exit status")
        log = self.text()
        for pattern in LOG_BAD_PATTERNS:
            m = pattern.search(log)
            case.assertIsNone(m, f"bridge {self.name} log has {m.group(0)!r}" if m else "")


class RedisBridgeCase(HttpTestCase):
    """certgend + redis-server + bridges A and B."""

    def setUp(self):  # pylint: disable=super-init-not-called
        reason = unavailable_reason()
        if reason:
            self.skipTest(reason)
        CertgenTestCase.setUp(self)  # pylint: disable=bad-super-call
        self.bridge = None
        self.port = None
        self.tokens_path = os.path.join(self.tmpdir, "http-tokens")
        self.write_tokens(TOKENS)
        self.bridges = []
        self.relays = []
        self.redis_server = RedisServer(self.tmpdir)
        self.addCleanup(self.redis_server.stop)
        self.addCleanup(self._kill_all)
        self.redis_server.start()
        self.r = redis.Redis(unix_socket_path=self.redis_server.address)
        self.addCleanup(self.r.close)
        extra = getattr(getattr(self, self._testMethodName), "cg_redis_bridge_args", [])
        self.a = self.start_redis_bridge("A", True, extra)
        self.b = self.start_redis_bridge("B", False, extra)
        # B knows the tokens A published
        wait_until(lambda: self.r.hlen("certgen:tokens") == len(TOKENS), 10, "tokens published")

    def start_redis_bridge(self, name, tokens, extra=()):
        bridge = Bridge(self, name, tokens, extra)
        self.bridges.append(bridge)
        return bridge

    def _kill_all(self):
        for proc in [b.proc for b in self.bridges] + [r.proc for r in self.relays]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def tearDown(self):
        for bridge in self.bridges:
            if not bridge.log.closed:
                bridge.stop(self)
        for relay in self.relays:
            if not relay.log.closed:
                relay.stop(self)
        CertgenTestCase.tearDown(self)  # pylint: disable=bad-super-call

    # -- HTTP on one bridge ---------------------------------------------------------

    def on(self, bridge, method, path, body=None, token=ALICE, headers=None):
        self.port = bridge.port
        return self.request(method, path, body, token=token, headers=headers)

    def start_on(self, bridge, token=ALICE):
        self.port = bridge.port
        return self.start(token=token)

    def sse_on(self, bridge, pid, token=ALICE, headers=None):
        self.port = bridge.port
        return self.sse(pid, token=token, headers=headers)

    def ws_on(self, bridge, pid, token=ALICE, query=""):
        self.port = bridge.port
        return self.websocket(pid, token=token, query=query)

    # -- playing the relay ------------------------------------------------------------

    def publish(self, pid, seq, status="in_progress", **extra):
        """An update as a relay publishes it: the event and the hash in one MULTI."""
        data = update_bytes(pid, seq, status, **extra)
        done = status in ("completed", "failed", "cancelled", "timed_out")
        pipe = self.r.pipeline(transaction=True)
        pipe.xadd(f"certgen:gen:{pid}:events", {"u": data}, id=f"{seq}-0")
        fields = {"state": "done" if done else "running", "host": "h1", "last_seq": seq,
                  "snapshot": data}
        if done:
            fields["status"] = status
        pipe.hset(f"certgen:gen:{pid}", mapping=fields)
        pipe.execute()

    def metrics(self, bridge):
        conn = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=timeout(10))
        try:
            conn.request("GET", "/metrics")
            return conn.getresponse().read().decode()
        finally:
            conn.close()


class CommandLineTests(CertgenTestCase):

    def test_bad_redis_options(self):
        """A bad --redis address, a bad --bridge-id, --bridge-id without --redis: exit 2
        with a message naming the option."""
        for args, option in ((["--redis", "host:99999"], "--redis"),
                             (["--redis", ""], "--redis"),
                             (["--redis", "/" + "x" * 120], "--redis"),
                             (["--redis", "/tmp/r.sock", "--bridge-id", "a b"], "--bridge-id"),
                             (["--redis", "/tmp/r.sock", "--bridge-id", "x" * 65], "--bridge-id"),
                             (["--bridge-id", "A"], "--bridge-id")):
            with self.subTest(args=args):
                r = subprocess.run([BRIDGE, "--listen", "127.0.0.1:0"] + args,
                                   capture_output=True, check=False, timeout=timeout(20))
                self.assertEqual(r.returncode, 2, r)
                self.assertIn(option, r.stderr.decode(), r)


class SharedStateTests(RedisBridgeCase):

    def test_start_queues_the_request(self):
        """POST on B (no tokens file of its own): 201, the hash, the user's set and the
        request entry with the parameters as GVariant (sssa{sv}) without owner_label."""
        pid = self.start_on(self.b)
        h = self.r.hgetall(f"certgen:gen:{pid}")
        self.assertEqual(h[b"user"], b"alice")
        self.assertEqual(h[b"state"], b"queued")
        self.assertGreater(self.r.ttl(f"certgen:gen:{pid}"), 1700)
        self.assertEqual(self.r.smembers("certgen:user:alice:gens"), {pid.encode()})
        entries = self.r.xrange("certgen:requests")
        self.assertEqual(len(entries), 1)
        fields = entries[0][1]
        self.assertEqual(fields[b"id"], pid.encode())
        self.assertEqual(fields[b"user"], b"alice")
        params = GLib.Variant.new_from_bytes(GLib.VariantType("(sssa{sv})"),
                                             GLib.Bytes.new(fields[b"params"]), False)
        self.assertTrue(params.is_normal_form())
        transaction, template, data_json, options = params.unpack()
        self.assertEqual((transaction, template), ("tx-http", "classic"))
        self.assertEqual(json.loads(data_json), recipient_data())
        self.assertNotIn("owner_label", options)
        groups = self.r.xinfo_groups("certgen:requests")
        self.assertEqual([g["name"] for g in groups], [b"hosts"])
        # the same validation as without Redis: nothing queued for a bad body
        resp = self.on(self.a, "POST", "/api/certificates", {"data": {"a": 1}, "bogus": 1})
        self.assertError(resp, 400, "invalid_argument")
        self.assertEqual(self.r.xlen("certgen:requests"), 1)
        # the queued generation is listed on A
        resp = self.on(self.a, "GET", "/api/certificates")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual([g["progressId"] for g in resp.json], [pid])
        self.assertEqual(resp.json[0]["status"], "queued")
        self.assertEqual(self.on(self.a, "GET", "/api/certificates", token=BOB).json, [])

    def test_session_across_bridges(self):
        """A session made on A works on B; DELETE on B ends it on A too; only the hash of
        the session id is stored."""
        resp = self.on(self.a, "POST", "/api/session")
        self.assertEqual(resp.status, 200, resp)
        cookie = resp.header("Set-Cookie").split(";")[0]
        session = cookie.split("=", 1)[1]
        self.assertEqual(resp.json["user"], "alice")
        keys = [k.decode() for k in self.r.keys("certgen:session:*")]
        self.assertEqual(len(keys), 1)
        self.assertNotIn(session, keys[0])
        self.assertGreater(self.r.ttl(keys[0]), 43000)
        pid = self.start_on(self.a)
        resp = self.on(self.b, "GET", "/api/certificates", token=None,
                       headers={"Cookie": cookie})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual([g["progressId"] for g in resp.json], [pid])
        # bob cannot end alice's session
        self.on(self.b, "DELETE", "/api/session", token=BOB, headers={"Cookie": cookie})
        self.assertEqual(self.on(self.a, "GET", "/api/certificates", token=None,
                                 headers={"Cookie": cookie}).status, 200)
        resp = self.on(self.b, "DELETE", "/api/session", headers={"Cookie": cookie})
        self.assertEqual(resp.status, 200, resp)
        self.assertError(self.on(self.a, "GET", "/api/certificates", token=None,
                                 headers={"Cookie": cookie}), 401, "unauthorized")
        # a forged session id, a wrong token: 401 on either bridge
        self.assertError(self.on(self.b, "GET", "/api/certificates", token=None,
                                 headers={"Cookie": "certgen_session=" + "0" * 64}),
                         401, "unauthorized")
        self.assertError(self.on(self.b, "GET", "/api/certificates", token="nope"),
                         401, "unauthorized")

    @bridge_extra("--generations-per-minute", "3")
    def test_rate_limit_shared(self):
        """The generation limit holds across the bridges: 3 a minute for alice whichever
        bridge takes them; bob has his own."""
        self.start_on(self.a)
        self.start_on(self.b)
        self.start_on(self.a)
        for bridge in (self.a, self.b):
            resp = self.on(bridge, "POST", "/api/certificates", {"data": recipient_data()})
            body = self.assertError(resp, 429, "rate_limited", bridge.name)
            self.assertIn("3 generation requests per minute", body["message"])
            self.assertGreaterEqual(int(resp.header("Retry-After")), 1)
            self.assertLessEqual(int(resp.header("Retry-After")), 60)
        self.start_on(self.b, token=BOB)
        self.assertEqual(self.r.xlen("certgen:requests"), 4)

    def test_tokens_follow_the_file(self):
        """A reload on A rewrites certgen:tokens (a new user works on B, a removed one
        is refused there, and so are his sessions)."""
        carol = "carol-token-0000"
        resp = self.on(self.b, "POST", "/api/session", token=BOB)
        self.assertEqual(resp.status, 200, resp)
        bob_cookie = resp.header("Set-Cookie").split(";")[0]
        self.assertEqual(self.on(self.a, "GET", "/api/certificates", token=None,
                                 headers={"Cookie": bob_cookie}).status, 200)
        self.write_tokens({"alice": ALICE, "carol": carol})
        self.a.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "Reloaded 2 tokens" in self.a.text(), 10, "reload")
        wait_until(lambda: self.r.hlen("certgen:tokens") == 2, 10, "tokens rewritten")
        self.start_on(self.b, token=carol)
        self.assertError(self.on(self.b, "POST", "/api/certificates",
                                 {"data": recipient_data()}, token=BOB), 401, "unauthorized")
        self.assertEqual(self.r.keys("certgen:tokens:new:*"), [])
        # bob's session ended with his token, on every bridge
        self.assertError(self.on(self.a, "GET", "/api/certificates", token=None,
                                 headers={"Cookie": bob_cookie}), 401, "unauthorized")


class OwnerTests(RedisBridgeCase):

    def routes(self, pid):
        return (("GET", f"/api/certificates/progress/{pid}"),
                ("DELETE", f"/api/certificates/progress/{pid}"),
                ("GET", f"/api/certificates/progress/{pid}/analytics"),
                ("GET", f"/api/certificates/{pid}/download"))

    def test_foreign_id_is_not_found_everywhere(self):
        """Another user's id: the very 404 of an unknown id on every route, SSE and
        WebSocket included, on both bridges; a malformed id likewise."""
        pid = self.start_on(self.a)
        self.publish(pid, 1)
        for bridge in (self.a, self.b):
            for method, path in self.routes(pid):
                with self.subTest(bridge=bridge.name, route=path, method=method):
                    foreign = self.assertError(self.on(bridge, method, path, token=BOB),
                                               404, "not_found")
                    unknown = self.assertError(
                        self.on(bridge, method, path.replace(pid, UNKNOWN), token=BOB),
                        404, "not_found")
                    self.assertEqual(foreign["message"].replace(pid, "ID"),
                                     unknown["message"].replace(UNKNOWN, "ID"))
            ws = self.ws_on(bridge, pid, token=BOB)
            self.assertEqual(ws.status, 101)
            messages = ws.messages_until_close()
            self.assertEqual(messages[-1]["error"], "not_found", messages)
            self.assertEqual(ws.close_code, 4404)
            ws.close()
        for bad in ("0123456789ABCDEF0123456789abcdef", "short", "x" * 33):
            self.assertError(self.on(self.b, "GET", f"/api/certificates/progress/{bad}"),
                             404, "not_found")
        # nothing was cancelled by bob
        self.assertIsNone(self.r.hget(f"certgen:gen:{pid}", "cancel_requested"))
        self.assertEqual(self.r.exists("certgen:host:h1:control"), 0)

    def test_hostile_values(self):
        """Values no relay writes: clean errors, never a crash, and the bridges go on."""
        pid = self.start_on(self.a)
        key = f"certgen:gen:{pid}"
        # a snapshot that is no a{sv}
        self.r.hset(key, mapping={"state": "done", "status": "completed",
                                  "snapshot": b"\x01\x02garbage\xff", "analytics": b"\xff" * 7,
                                  "last_seq": "3"})
        self.r.set(f"certgen:gen:{pid}:file", b"%PDF-1.7 not really")
        resp = self.on(self.b, "GET", f"/api/certificates/progress/{pid}")
        self.assertError(resp, 500, "failed")
        self.assertError(self.on(self.a, "GET", f"/api/certificates/progress/{pid}/analytics"),
                         500, "failed")
        self.assertError(self.on(self.b, "GET", f"/api/certificates/{pid}/download"),
                         500, "failed")
        # the list leaves it out, and drops ids that are no ids
        self.r.sadd("certgen:user:alice:gens", "../../etc/passwd", UNKNOWN)
        resp = self.on(self.b, "GET", "/api/certificates")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, [])
        wait_until(lambda: self.r.smembers("certgen:user:alice:gens") == {pid.encode()}, 10,
                   "bad and expired ids dropped")
        # a user field with a NUL, or another user: not found
        for user in (b"alice\x00", b"bob", b"x" * 300):
            self.r.hset(key, "user", user)
            self.assertError(self.on(self.a, "GET", f"/api/certificates/progress/{pid}"),
                             404, "not_found", repr(user))
        # the hash is a string: Redis refuses, the bridge says so
        self.r.delete(key)
        self.r.set(key, "not a hash")
        for method, path in self.routes(pid):
            resp = self.on(self.b, method, path)
            self.assertIn(resp.status, (404, 500), (path, resp))
        # a stored token table that is no hash: 503/500, not a crash; then it heals
        self.r.delete("certgen:tokens")
        self.r.set("certgen:tokens", "x")
        resp = self.on(self.b, "GET", "/api/certificates")
        self.assertEqual(resp.status, 500, resp)
        self.a.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.r.type("certgen:tokens") == b"hash", 10, "tokens healed")
        self.assertEqual(self.on(self.b, "GET", "/api/certificates").status, 200)

    def test_hostile_events(self):
        """A stream with entries that are not updates: skipped with a warning; the good
        ones and the terminal event arrive."""
        pid = self.start_on(self.a)
        stream = self.sse_on(self.b, pid)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.next_event().json["status"], "queued")
        self.r.xadd(f"certgen:gen:{pid}:events", {"u": b"\x00junk"}, id="1-0")
        self.r.xadd(f"certgen:gen:{pid}:events", {"other": b"x"}, id="2-0")
        self.r.xadd(f"certgen:gen:{pid}:events", {"u": b"x"}, id="3-1")
        self.publish(pid, 4)
        self.publish(pid, 5, "completed")
        events = stream.events_until_terminal()
        self.assertEqual([e.json["sequence"] for e in events], [4, 5])
        stream.close()
        wait_until(lambda: "Skipping event 1" in self.b.text(), 10, "the warning")

    def test_cancel(self):
        """Queued: cancel_requested on the hash; running: a cancel on the host's control
        stream; done: 409; a hostile host: 500."""
        pid = self.start_on(self.a)
        resp = self.on(self.b, "DELETE", f"/api/certificates/progress/{pid}")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.r.hget(f"certgen:gen:{pid}", "cancel_requested"), b"1")
        pid2 = self.start_on(self.b)
        self.publish(pid2, 1)
        resp = self.on(self.a, "DELETE", f"/api/certificates/progress/{pid2}")
        self.assertEqual(resp.status, 200, resp)
        entries = self.r.xrange("certgen:host:h1:control")
        self.assertEqual([e[1] for e in entries], [{b"cmd": b"cancel", b"id": pid2.encode()}])
        self.publish(pid2, 2, "cancelled")
        self.assertError(self.on(self.a, "DELETE", f"/api/certificates/progress/{pid2}"),
                         409, "already_finished")
        self.r.hset(f"certgen:gen:{pid}", mapping={"state": "running", "host": "h1 x:*"})
        self.assertError(self.on(self.a, "DELETE", f"/api/certificates/progress/{pid}"),
                         500, "failed")
        # WebSocket cancel goes the same way
        pid3 = self.start_on(self.a)
        ws = self.ws_on(self.b, pid3)
        self.assertEqual(ws.recv_message()["status"], "queued")
        ws.send_text(json.dumps({"type": "cancel"}))
        self.assertEqual(ws.recv_message(), {"type": "cancel", "success": True})
        self.assertEqual(self.r.hget(f"certgen:gen:{pid3}", "cancel_requested"), b"1")
        ws.close()

    def test_analytics_and_download_from_redis(self):
        """Done: analytics from the hash, the file from certgen:gen:ID:file with the
        snapshot's name and type; before: 409 not_ready."""
        pid = self.start_on(self.a)
        self.assertError(self.on(self.b, "GET", f"/api/certificates/progress/{pid}/analytics"),
                         409, "not_ready")
        self.assertError(self.on(self.b, "GET", f"/api/certificates/{pid}/download"),
                         409, "not_ready")
        self.publish(pid, 1, "completed")
        analytics = GLib.Variant("a{sv}", {
            "status": GLib.Variant("s", "completed"),
            "total_duration_ms": GLib.Variant("t", 1234)}).get_data_as_bytes().get_data()
        self.r.hset(f"certgen:gen:{pid}", "analytics", analytics)
        self.r.set(f"certgen:gen:{pid}:file", b"%PDF-1.7\nfake pdf bytes")
        resp = self.on(self.b, "GET", f"/api/certificates/progress/{pid}/analytics")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["status"], "completed")
        resp = self.on(self.a, "GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/pdf")
        self.assertEqual(resp.body, b"%PDF-1.7\nfake pdf bytes")
        self.assertIn(pid, resp.header("Content-Disposition"))
        # expired file: 404
        self.r.delete(f"certgen:gen:{pid}:file")
        self.assertError(self.on(self.a, "GET", f"/api/certificates/{pid}/download"),
                         404, "not_found")


class StreamTests(RedisBridgeCase):

    def test_streams_on_both_bridges(self):
        """SSE on A and WebSocket on B follow the same generation: every event once, in
        order, the terminal one last; one hub per bridge."""
        pid = self.start_on(self.a)
        sse = self.sse_on(self.a, pid)
        sse2 = self.sse_on(self.a, pid)
        ws = self.ws_on(self.b, pid)
        self.assertEqual(sse.next_event().json["status"], "queued")
        self.assertEqual(sse2.next_event().json["status"], "queued")
        self.assertEqual(ws.recv_message()["status"], "queued")
        for seq in (1, 2, 3):
            self.publish(pid, seq)
            time.sleep(0.05)
        self.publish(pid, 4, "completed")
        for stream in (sse, sse2):
            events = stream.events_until_terminal()
            self.assertEqual([e.json["sequence"] for e in events], [1, 2, 3, 4])
            self.assertEqual([e.id for e in events], ["1", "2", "3", "4"])
            self.assertTrue(stream.at_end())
            stream.close()
        messages = ws.messages_until_close()
        self.assertEqual([m["sequence"] for m in messages], [1, 2, 3, 4])
        ws.close()

    def test_resume_on_another_bridge(self):
        """Last-Event-ID on B after events seen on A: the stored events after it, the
        newest state, then the live ones, nothing lost; after the terminal event: 204."""
        pid = self.start_on(self.a)
        self.publish(pid, 1)
        self.publish(pid, 2)
        stream = self.sse_on(self.a, pid)
        self.assertEqual(stream.next_event().json["sequence"], 2)
        stream.close()
        for seq in (3, 4, 5):
            self.publish(pid, seq, message=GLib.Variant("s", f"step {seq}"))
        stream = self.sse_on(self.b, pid, headers={"Last-Event-ID": "2"})
        replayed = [stream.next_event() for _ in range(3)]
        self.assertEqual([e.json["sequence"] for e in replayed], [3, 4, 5])
        self.assertEqual([e.json["message"] for e in replayed], ["step 3", "step 4", "step 5"])
        self.assertEqual([e.id for e in replayed], ["3", "4", "5"])
        self.publish(pid, 6, "completed")
        self.assertEqual(stream.next_event().json["sequence"], 6)
        self.assertTrue(stream.at_end())
        stream.close()
        stream = self.sse_on(self.b, pid, headers={"Last-Event-ID": "6"})
        self.assertEqual(stream.status, 204)
        stream.close()
        ws = self.ws_on(self.a, pid, query="?lastEventId=3")
        self.assertEqual([m["sequence"] for m in ws.messages_until_close()], [4, 5, 6])
        ws.close()
        # events that expired: the newest state only
        self.r.delete(f"certgen:gen:{pid}:events")
        ws = self.ws_on(self.b, pid, query="?lastEventId=1")
        self.assertEqual([m["sequence"] for m in ws.messages_until_close()], [6])
        ws.close()
        # a second stream resuming on a followed generation replays too
        pid2 = self.start_on(self.a)
        for seq in (1, 2, 3):
            self.publish(pid2, seq)
        live = self.sse_on(self.b, pid2)
        self.assertEqual(live.next_event().json["sequence"], 3)
        resumed = self.sse_on(self.b, pid2, headers={"Last-Event-ID": "1"})
        self.assertEqual([resumed.next_event().json["sequence"] for _ in range(2)], [2, 3])
        self.publish(pid2, 4, "completed")
        self.assertEqual([e.json["sequence"] for e in resumed.events_until_terminal()], [4])
        self.assertEqual([e.json["sequence"] for e in live.events_until_terminal()], [4])
        live.close()
        resumed.close()

    @bridge_extra("--streams-per-minute", "100")
    def test_one_blocking_read_for_all_streams(self):
        """Each bridge has two Redis connections however many generations its streams
        follow; a stream joining while the read blocks gets its events at once (CLIENT
        UNBLOCK), not after the block's 5 s."""
        clients_before = len(self.r.client_list())
        pids = [self.start_on(self.a) for _ in range(3)]
        pids += [self.start_on(self.b) for _ in range(2)]
        first = self.sse_on(self.a, pids[0])
        self.assertEqual(first.next_event().json["status"], "queued")
        time.sleep(0.3)  # A's read blocks on the first generation's stream
        streams = [first]
        for pid in pids[1:]:
            stream = self.sse_on(self.a, pid)
            self.assertEqual(stream.next_event().json["status"], "queued")
            streams.append(stream)
            began = time.monotonic()
            self.publish(pid, 1)
            self.assertEqual(stream.next_event().json["sequence"], 1)
            self.assertLess(time.monotonic() - began, 2.0)
        self.assertEqual(len(self.r.client_list()), clients_before)
        for pid, stream in zip(pids, streams):
            self.publish(pid, 2, "completed")
            self.assertEqual(stream.events_until_terminal()[-1].json["sequence"], 2)
            stream.close()

    def test_cookie_streams_and_csv(self):
        """A session cookie made on B opens an SSE stream and a WebSocket on A; a CSV
        upload is marked in the hash (its events name rows on every bridge)."""
        resp = self.on(self.b, "POST", "/api/session")
        cookie = resp.header("Set-Cookie").split(";")[0]
        self.port = self.a.port
        resp = self.request("POST", "/api/certificates?templateId=classic&set.courseName=C"
                            "&set.issueDate=2024-05-17", raw=b"recipientName\r\nAda\r\n",
                            headers={"Content-Type": "text/csv"})
        self.assertEqual(resp.status, 201, resp)
        pid = resp.json["progressId"]
        self.assertEqual(self.r.hget(f"certgen:gen:{pid}", "source"), b"csv")
        stream = self.sse_on(self.a, pid, token=None, headers={"Cookie": cookie})
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.next_event().json["status"], "queued")
        stream.close()
        self.port = self.a.port
        ws = self.websocket(pid, token=None, headers={"Cookie": cookie})
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv_message()["status"], "queued")
        ws.close()
        # no credential at all: refused after the upgrade
        ws = self.websocket(pid, token=None)
        messages = ws.messages_until_close()
        self.assertEqual(messages[-1]["error"], "unauthorized", messages)
        self.assertEqual(ws.close_code, 1008)
        ws.close()

    @bridge_extra("--max-streams-per-user", "2", "--streams-per-minute", "100")
    def test_stream_caps_shared(self):
        """Two open streams of alice, one on each bridge: the third is refused on either;
        a stream that ends frees its place at once."""
        pid = self.start_on(self.a)
        one = self.sse_on(self.a, pid)
        two = self.sse_on(self.b, pid)
        self.assertEqual(one.next_event().json["status"], "queued")
        self.assertEqual(two.next_event().json["status"], "queued")
        for bridge in (self.a, self.b):
            resp = self.on(bridge, "GET", f"/api/certificates/progress/{pid}")
            self.assertError(resp, 429, "too_many_streams", bridge.name)
            self.assertTrue(resp.header("Retry-After"))
        self.assertEqual(self.r.zcard("certgen:streams:alice"), 2)
        one.close()
        wait_until(lambda: self.r.zcard("certgen:streams:alice") == 1, 10, "lease given up")
        three = self.sse_on(self.b, pid)
        self.assertEqual(three.status, 200)
        # bob has his own
        pid_bob = self.start_on(self.b, token=BOB)
        four = self.sse_on(self.a, pid_bob, token=BOB)
        self.assertEqual(four.status, 200)
        for stream in (two, three, four):
            stream.close()

    @bridge_extra("--streams-per-minute", "2", "--resumes-per-minute", "100")
    def test_stream_rate_and_resume_exemption(self):
        """New streams count against the shared per-minute limit; a resume with events that
        exist and are alice's is exempt (counted as a resume) on the other bridge; bob
        claiming alice's events is a new stream."""
        pid = self.start_on(self.a)
        self.publish(pid, 1)
        self.publish(pid, 2)
        for bridge in (self.a, self.b):
            s = self.sse_on(bridge, pid)
            self.assertEqual(s.status, 200)
            s.close()
        self.assertError(self.on(self.a, "GET", f"/api/certificates/progress/{pid}"),
                         429, "rate_limited")
        s = self.sse_on(self.b, pid, headers={"Last-Event-ID": "2"})
        self.assertEqual(s.status, 200)
        s.close()
        s = self.sse_on(self.b, pid, headers={"Last-Event-ID": "9"})
        self.assertEqual(s.status, 429)
        s.close()

    @bridge_extra("--keepalive-ms", "200")
    def test_redis_down_then_up(self):
        """Redis stopped: 503 with Retry-After and a JSON error on every route that needs it,
        /metrics says so; open streams stay open (keep-alives) and, once Redis is back,
        continue from their last id; then everything works again."""
        pid = self.start_on(self.a)
        self.publish(pid, 1)
        stream = self.sse_on(self.b, pid)
        self.assertEqual(stream.next_event().json["sequence"], 1)
        self.redis_server.stop()
        wait_until(lambda: "certgen_http_redis_connected 0" in self.metrics(self.a), 10,
                   "A sees Redis down")
        for bridge in (self.a, self.b):
            for method, path in (("POST", "/api/certificates"),
                                 ("GET", "/api/certificates"),
                                 ("GET", f"/api/certificates/progress/{pid}"),
                                 ("GET", f"/api/certificates/{pid}/download"),
                                 ("POST", "/api/session")):
                with self.subTest(bridge=bridge.name, method=method, path=path):
                    resp = self.on(bridge, method, path,
                                   {"data": recipient_data()} if method == "POST" else None)
                    self.assertError(resp, 503, "service_unavailable")
                    self.assertGreaterEqual(int(resp.header("Retry-After")), 1)
        # the open stream still gets keep-alives
        for _ in range(100):
            line = stream.resp.readline()
            self.assertTrue(line, "the stream ended while Redis was down")
            if line.startswith(b": keep-alive"):
                break
        else:
            self.fail("no keep-alive while Redis was down")
        self.redis_server.start()
        wait_until(lambda: "certgen_http_redis_connected 1" in self.metrics(self.b), 15,
                   "B sees Redis back")
        wait_until(lambda: self.r.hlen("certgen:tokens") == len(TOKENS), 15,
                   "A published the tokens again")
        text = self.metrics(self.b)
        m = re.search(r"certgen_http_redis_reconnects_total (\d+)", text)
        self.assertGreaterEqual(int(m.group(1)), 1, text)
        # the server came back empty; the relay publishes on (playing it here)
        self.publish(pid, 2)
        self.publish(pid, 3, "completed")
        events = stream.events_until_terminal()
        self.assertEqual([e.json["sequence"] for e in events], [2, 3])
        stream.close()
        self.start_on(self.b)


class RelayTests(RedisBridgeCase):

    def test_generation_through_the_relay(self):
        """The real certgen-relay beside certgend: POST on A, the stream on B to its
        terminal event, the download on B, analytics on A, the list on both."""
        if not os.access(RELAY, os.X_OK):
            self.fail(f"certgen-relay not built: {RELAY}")
        self.relays.append(RelayProcess(self, "host1", self.bus_address))
        pid = self.start_on(self.a)
        stream = self.sse_on(self.b, pid)
        events = stream.events_until_terminal()
        stream.close()
        self.assertEqual(events[-1].json["status"], "completed", events)
        sequences = [e.json["sequence"] for e in events]
        self.assertEqual(sequences, sorted(set(sequences)))
        self.assertTrue(all(e.json["progressId"] == pid for e in events))
        progress = [e.json["progress"] for e in events]
        self.assertEqual(progress, sorted(progress))

        def downloaded():
            resp = self.on(self.b, "GET", f"/api/certificates/{pid}/download")
            return resp if resp.status == 200 else None
        resp = wait_until(downloaded, 20, "the file in Redis")
        self.assertEqual(resp.header("Content-Type"), "application/pdf")
        self.assertTrue(resp.body.startswith(b"%PDF"), resp.body[:20])
        resp = self.on(self.a, "GET", f"/api/certificates/progress/{pid}/analytics")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["status"], "completed")
        for bridge in (self.a, self.b):
            listed = self.on(bridge, "GET", "/api/certificates").json
            self.assertEqual([(g["progressId"], g["status"]) for g in listed],
                             [(pid, "completed")])
        # a refusal of certgend's arrives as the terminal failed event
        resp = self.on(self.a, "POST", "/api/certificates",
                       {"templateId": "no-such-template", "data": recipient_data()})
        self.assertEqual(resp.status, 201, resp)
        stream = self.sse_on(self.b, resp.json["progressId"])
        events = stream.events_until_terminal()
        stream.close()
        self.assertEqual(events[-1].json["status"], "failed", events)


if __name__ == "__main__":
    main()

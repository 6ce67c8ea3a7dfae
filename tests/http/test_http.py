#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http tests: every route and error status of the HTTP contract
(DESIGN.md "HTTP contract"), the SSE format and resumption, WebSocket,
sessions, per-user scoping, limits and hostile input, against certgend on a
private bus. Each case is its own meson test (suite 'http')."""

import collections
import hashlib
import http.client
import io
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.bridge import (ALICE, BOB, BRIDGE, SSE_KEYS, TERMINAL, TOKENS,  # noqa: E402
                             WEB_ROOT, HttpTestCase, batch_data, bridge_args, bridge_user,
                             no_bridge, recipient_data, recv_all, token_hash)
from certgen_test.testbus import (ACTION_DELEGATE, ACTION_GENERATE, BIG_BATCH, MANAGER_IFACE,  # noqa: E402
                        OBJECT_PATH, GLib, daemon_config, main, pdf_text, random_id,
                        read_text, spawn_socket_activated, spin, stage_sequence, timeout,
                        wait_until, with_polkit)


class AuthTests(HttpTestCase):

    def test_no_token(self):
        """Every /api route without credentials: 401, JSON error, WWW-Authenticate."""
        pid = random_id()
        for method, path in (("POST", "/api/certificates"),
                             ("GET", f"/api/certificates/progress/{pid}"),
                             ("DELETE", f"/api/certificates/progress/{pid}"),
                             ("GET", f"/api/certificates/progress/{pid}/analytics"),
                             ("GET", f"/api/certificates/{pid}/download"),
                             ("GET", "/api/templates"), ("POST", "/api/preview"),
                             ("POST", "/api/session"), ("DELETE", "/api/session")):
            with self.subTest(method=method, path=path):
                resp = self.request(method, path, {"data": recipient_data()}
                                    if method == "POST" else None, token=None)
                self.assertError(resp, 401, "unauthorized", path)
                self.assertTrue(resp.header("WWW-Authenticate").startswith("Bearer"), resp)

    def test_bad_token(self):
        """A wrong token, another scheme or an empty token: 401."""
        for value in ("Bearer wrong-token", f"Bearer {ALICE}x", "Bearer ", f"Basic {ALICE}",
                      f"bearer{ALICE}"):
            with self.subTest(authorization=value):
                resp = self.request("POST", "/api/certificates", {"data": recipient_data()},
                                    token=None, headers={"Authorization": value})
                self.assertError(resp, 401, "unauthorized", value)

    def test_good_token(self):
        """A listed token: 201 with the progress id and its Location."""
        resp = self.request("POST", "/api/certificates",
                            {"transactionId": "tx-good", "templateId": "classic",
                             "data": recipient_data()})
        self.assertEqual(resp.status, 201, resp)
        pid = resp.json["progressId"]
        self.assertEqual(set(resp.json), {"progressId"})
        self.assertEqual(resp.header("Location"), f"/api/certificates/progress/{pid}")
        # certgend knows it as alice's, started by the bridge
        snap = self.root.progress(pid)
        self.assertEqual(snap["owner_label"], "alice")
        self.assertEqual(snap["transaction_id"], "tx-good")
        # "Bearer" is case-insensitive
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()},
                            token=None, headers={"Authorization": f"bearer {BOB}"})
        self.assertEqual(resp.status, 201, resp)

    def test_tokens_reload_on_sighup(self):
        """SIGHUP reloads the tokens file: a new user works, a removed one is refused,
        and a bad file keeps the old tokens."""
        carol = "carol-token-0000"
        self.write_tokens({"alice": ALICE, "carol": carol})
        self.bridge.send_signal(signal.SIGHUP)
        wait_until(lambda: "Reloaded 2 tokens" in self.bridge_log_text(), 10, "reload")
        self.start(token=carol)
        self.assertError(self.request("POST", "/api/certificates",
                                      {"data": recipient_data()}, token=BOB),
                         401, "unauthorized")
        with open(self.tokens_path, "w", encoding="utf-8") as f:
            f.write("broken line without hash\n")
        self.bridge.send_signal(signal.SIGHUP)
        wait_until(lambda: "Keeping the old tokens" in self.bridge_log_text(), 10, "reload")
        self.start(token=carol)

    @no_bridge
    def test_hash_token(self):
        """certgen-http hash-token prints the SHA-256 hex of standard input."""
        for given in ("s3cret-token", "s3cret-token\n", "s3cret-token\r\n"):
            r = subprocess.run([BRIDGE, "hash-token"], input=given.encode(),
                               capture_output=True, check=False)
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(r.stdout.decode(), token_hash("s3cret-token") + "\n")
        for bad in ("", "\n", "two words"):
            r = subprocess.run([BRIDGE, "hash-token"], input=bad.encode(),
                               capture_output=True, check=False)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertTrue(r.stderr, bad)

    @no_bridge
    def test_bad_command_lines(self):
        """Bad options and a bad tokens file stop the bridge with a message."""
        bad_tokens = os.path.join(self.tmpdir, "bad-tokens")
        with open(bad_tokens, "w", encoding="utf-8") as f:
            f.write("alice nothex\n")
        for args in (["--listen", "nowhere"], ["--listen", "127.0.0.1:99999"],
                     ["--listen", "example.org:80"], ["--allow-origin", "example.org"],
                     ["--tokens", bad_tokens], ["--tokens", "/nonexistent/tokens"],
                     ["extra"]):
            with self.subTest(args=args):
                r = subprocess.run([BRIDGE] + args, capture_output=True, check=False,
                                   timeout=timeout(10))
                self.assertNotEqual(r.returncode, 0, r)
                self.assertTrue(r.stderr.strip(), r)


class RouteTests(HttpTestCase):

    def test_sse_format(self):
        """SSE: headers, "retry: 2000" first, a comment, id = sequence, camelCase data,
        every stage, monotonic progress, the response ends after the terminal event."""
        pid = self.start(transaction="tx-sse")
        stream = self.sse(pid)
        self.assertEqual(stream.status, 200)
        self.assertTrue(stream.header("Content-Type").startswith("text/event-stream"))
        self.assertEqual(stream.header("Cache-Control"), "no-cache")
        events = stream.events_until_terminal()
        self.assertTrue(stream.at_end(), "the stream must end after the terminal event")
        self.assertEqual(stream.lines[0], "retry: 2000")
        self.assertEqual(stream.lines[1], ": connected")
        self.assertEqual(stream.lines[2], "")
        self.assertIn("connected", stream.comments)
        seqs = []
        for event in events:
            data = event.json
            self.assertTrue(SSE_KEYS <= set(data), f"missing {SSE_KEYS - set(data)}")
            self.assertNotIn("owner_label", data)
            self.assertNotIn("ownerLabel", data)
            self.assertEqual(event.id, str(data["sequence"]))
            self.assertEqual(data["progressId"], pid)
            self.assertEqual(data["transactionId"], "tx-sse")
            self.assertLess(abs(data["timestamp"] / 1000 - time.time()), 60)
            seqs.append(data["sequence"])
        self.assertEqual(seqs, sorted(set(seqs)), "sequences must grow")
        progress = [e.json["progress"] for e in events]
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(stage_sequence([e.json for e in events])[-1], "completed")
        last = events[-1].json
        self.assertEqual(last["status"], "completed")
        self.assertEqual(last["progress"], 100.0)
        self.assertEqual(last["stageIndex"], 6)
        self.assertEqual(set(last["result"]),
                         {"certificateNumber", "lastCertificateNumber", "fileSize", "checksum",
                          "pages", "contentType"} & set(last["result"]) | {
                              "certificateNumber", "fileSize", "checksum", "pages",
                              "contentType", "verificationUrl"})
        self.assertRegex(last["result"]["verificationUrl"],
                         r"^http://localhost:8080/verify/CERT\d{10}\?c=[a-z2-7]{26}$")
        self.assertEqual(last["result"]["contentType"], "application/pdf")
        self.assertEqual(last["outputFormat"], "pdf")
        self.assertRegex(last["result"]["checksum"], r"^[0-9a-f]{64}$")
        self.assertEqual(last["downloadUrl"], f"/api/certificates/{pid}/download")
        # every line of the stream is a field, a comment or blank
        for line in stream.lines:
            self.assertRegex(line, r"^(|:.*|(id|data|retry): .*)$")
        stream.close()

    def test_analytics(self):
        """GET .../analytics: totalDuration, averageProgressRate, stageDurations, status."""
        pid = self.start()
        self.wait_finished(pid)
        resp = self.request("GET", f"/api/certificates/progress/{pid}/analytics")
        self.assertEqual(resp.status, 200, resp)
        data = resp.json
        self.assertTrue({"totalDuration", "averageProgressRate", "stageDurations",
                         "status"} <= set(data), data)
        self.assertEqual(data["status"], "completed")
        self.assertIsInstance(data["totalDuration"], int)
        self.assertGreater(data["averageProgressRate"], 0)
        self.assertIn("pdf_generation", data["stageDurations"])
        for value in data["stageDurations"].values():
            self.assertIsInstance(value, int)
        self.assertLessEqual(sum(data["stageDurations"].values()), data["totalDuration"] + 10)

    def test_download(self):
        """GET .../download: the PDF as an attachment, the bytes of the result."""
        pid = self.start()
        last = self.wait_finished(pid)
        resp = self.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/pdf")
        number = last["result"]["certificateNumber"]
        self.assertEqual(resp.header("Content-Disposition"), f'attachment; filename="{number}.pdf"')
        self.assertEqual(int(resp.header("Content-Length")), last["result"]["fileSize"])
        self.assertTrue(resp.body.startswith(b"%PDF-"))
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(), last["result"]["checksum"])

    def download_of(self, data, fmt):
        """Start with outputFormat fmt, wait, download: the events and the
        download say fmt, and the attachment is named after the number
        range -> (pid, result, response)."""
        pid = self.start(data, output_format=fmt)
        last = self.wait_finished(pid)
        self.assertEqual(last["outputFormat"], fmt)
        result = last["result"]
        self.assertEqual(result["contentType"], f"application/{fmt}")
        resp = self.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), f"application/{fmt}")
        first, final = result["certificateNumber"], result["lastCertificateNumber"]
        self.assertNotEqual(first, final)
        self.assertEqual(resp.header("Content-Disposition"),
                         f'attachment; filename="certificates-{first}-{final}.{fmt}"')
        self.assertEqual(int(resp.header("Content-Length")), result["fileSize"])
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(), result["checksum"])
        return pid, result, resp

    def test_download_zip(self):
        """outputFormat "zip": the events say so, the download is the ZIP
        (application/zip) named after the batch's number range."""
        pid, result, resp = self.download_of(batch_data(3), "zip")
        with zipfile.ZipFile(io.BytesIO(resp.body)) as archive:
            self.assertEqual(len(archive.namelist()), 4)
            self.assertEqual(archive.namelist()[0], f"{result['certificateNumber']}.pdf")
            self.assertEqual(archive.namelist()[-1], "manifest.csv")
        # another web user: 404, as for any generation of someone else
        self.assertError(self.request("GET", f"/api/certificates/{pid}/download", token=BOB),
                         404, "not_found")

    def test_download_batch_pdf_named_by_range(self):
        """A PDF batch's download is named after its number range too."""
        _, _, resp = self.download_of(batch_data(2), "pdf")
        self.assertTrue(resp.body.startswith(b"%PDF-"))

    def test_bad_output_format(self):
        """outputFormat other than "pdf"/"zip", or not a string: 400
        invalid_argument naming the field; nothing is started."""
        for value in ("tar", "ZIP", 1, ["zip"]):  # at most 5 requests a minute
            resp = self.request("POST", "/api/certificates",
                                {"data": recipient_data(), "outputFormat": value})
            body = self.assertError(resp, 400, "invalid_argument", repr(value))
            self.assertIn("outputFormat", body["message"])
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_download_not_ready(self):
        """Before download_ready: 409 not_ready."""
        pid = self.start(batch_data(BIG_BATCH))
        resp = self.request("GET", f"/api/certificates/{pid}/download")
        self.assertError(resp, 409, "not_ready")
        self.request("DELETE", f"/api/certificates/progress/{pid}")

    def test_cancel_mid_batch(self):
        """DELETE during pdf_generation: {"success": true}, then a cancelled event ends
        the stream; no download."""
        pid = self.start(batch_data(BIG_BATCH))
        stream = self.sse(pid, read_timeout=60)
        while True:
            event = stream.next_event()
            self.assertIsNotNone(event, "stream ended early")
            if event.json["stage"] == "pdf_generation" and event.json["pagesDone"] > 0:
                break
        resp = self.request("DELETE", f"/api/certificates/progress/{pid}")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, {"success": True})
        events = stream.events_until_terminal()
        self.assertEqual(events[-1].json["status"], "cancelled")
        self.assertTrue(stream.at_end())
        stream.close()
        self.assertError(self.request("GET", f"/api/certificates/{pid}/download"), 409,
                         "not_ready")

    def test_cancel_after_completion(self):
        """DELETE of a finished generation: 409 already_finished."""
        pid = self.start()
        self.wait_finished(pid)
        self.assertError(self.request("DELETE", f"/api/certificates/progress/{pid}"), 409,
                         "already_finished")

    def test_not_cancellable(self):
        """enableCancellation false: DELETE gives 409 not_cancellable; the event says
        cancellable false."""
        pid = self.start(batch_data(400), enableCancellation=False)
        self.assertError(self.request("DELETE", f"/api/certificates/progress/{pid}"), 409,
                         "not_cancellable")
        last = self.wait_finished(pid)
        self.assertFalse(last["cancellable"])

    def test_options_mapping(self):
        """options {timeout, enableCancellation, enablePersistence, updateInterval}
        reach certgend; a tiny timeout ends as timed_out."""
        pid = self.start(batch_data(BIG_BATCH), timeout=300, updateInterval=100,
                         enablePersistence=True, enableCancellation=True)
        last = self.wait_finished(pid)
        self.assertEqual(last["status"], "timed_out", last)

    def test_static_files(self):
        """GET / serves index.html, GET /certificate-progress.js the module, from the
        web root; other names are 404."""
        for path, name, ctype in (("/", "index.html", "text/html"),
                                  ("/certificate-progress.js", "certificate-progress.js",
                                   "text/javascript")):
            file = os.path.join(WEB_ROOT, name)
            if not os.path.exists(file):
                continue
            resp = self.request("GET", path, token=None)
            self.assertEqual(resp.status, 200, resp)
            self.assertTrue(resp.header("Content-Type").startswith(ctype), resp.headers)
            with open(file, "rb") as f:
                self.assertEqual(resp.body, f.read())
        # a web root of our own: exact bytes and types
        root = os.path.join(self.tmpdir, "web")
        os.makedirs(root)
        files = {"index.html": b"<!doctype html><title>t</title>",
                 "certificate-progress.js": b"export class X {}\n",
                 ".secret.js": b"no", "notes.bin": b"no"}
        for name, content in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(content)
        self.stop_bridge()
        self.start_bridge(web_root=root)
        resp = self.request("GET", "/", token=None)
        self.assertEqual((resp.status, resp.body), (200, files["index.html"]))
        self.assertEqual(resp.header("Content-Type"), "text/html; charset=utf-8")
        resp = self.request("GET", "/certificate-progress.js", token=None)
        self.assertEqual((resp.status, resp.body), (200, files["certificate-progress.js"]))
        self.assertTrue(resp.header("Content-Type").startswith("text/javascript"))
        self.assertEqual(resp.header("X-Content-Type-Options"), "nosniff")
        for path in ("/.secret.js", "/notes.bin", "/../etc/passwd", "/%2e%2e/etc/passwd",
                     "/missing.js", "/sub/index.html"):
            with self.subTest(path=path):
                self.assertEqual(self.request("GET", path, token=None).status, 404)
        self.assertEqual(self.request("POST", "/", token=None, raw=b"x").status, 405)

    def test_unknown_routes_and_methods(self):
        """Unknown /api routes: 404 JSON; wrong methods: 405 with Allow."""
        pid = random_id()
        self.assertError(self.request("GET", "/api/nothing"), 404, "not_found")
        self.assertError(self.request("GET", "/api/certificates/progress/"), 404, "not_found")
        for method, path, allow in (("PUT", "/api/certificates", "GET, POST"),
                                    ("PUT", f"/api/certificates/progress/{pid}", "GET, DELETE"),
                                    ("POST", f"/api/certificates/{pid}/download", "GET"),
                                    ("GET", "/api/session", "POST, DELETE")):
            with self.subTest(method=method, path=path):
                resp = self.request(method, path)
                self.assertError(resp, 405, "method_not_allowed")
                self.assertEqual(resp.header("Allow"), allow)


class ScopingTests(HttpTestCase):

    def test_other_user_gets_404(self):
        """bob gets for alice's id exactly what he gets for an unknown id: 404 with the
        same body, on SSE, DELETE, analytics, download and WebSocket."""
        pid = self.start(batch_data(50), token=ALICE)
        unknown = random_id()
        for method, fmt in (("GET", "/api/certificates/progress/{}"),
                            ("DELETE", "/api/certificates/progress/{}"),
                            ("GET", "/api/certificates/progress/{}/analytics"),
                            ("GET", "/api/certificates/{}/download")):
            with self.subTest(method=method, path=fmt):
                theirs = self.request(method, fmt.format(pid), token=BOB)
                nothing = self.request(method, fmt.format(unknown), token=BOB)
                self.assertError(theirs, 404, "not_found")
                self.assertError(nothing, 404, "not_found")
                self.assertEqual(theirs.body.replace(pid.encode(), b"ID"),
                                 nothing.body.replace(unknown.encode(), b"ID"))
                self.assertEqual(dict(theirs.headers.items()).keys(),
                                 dict(nothing.headers.items()).keys())
        ws = self.websocket(pid, token=BOB)
        self.assertEqual(ws.status, 101)
        messages = ws.messages_until_close()
        self.assertEqual(ws.close_code, 4404)
        self.assertEqual([m.get("error") for m in messages], ["not_found"])
        ws.close()
        # alice still sees and finishes it; bob never cancelled it
        self.assertEqual(self.wait_finished(pid)["status"], "completed")

    def test_list_is_the_web_users_own(self):
        """GET /api/certificates lists the web user's generations only — never
        another web user's, nor one started on D-Bus without a label — as the
        objects of the progress stream, download URL included (issue 10
        item 7); it needs a token like every /api route."""
        mine = [self.start(transaction=f"tx-mine-{i}", token=ALICE) for i in range(2)]
        theirs = self.start(transaction="tx-bob", token=BOB)
        local = self.root.start(transaction="tx-local")
        for pid in mine:
            self.assertEqual(self.wait_finished(pid)["status"], "completed")
        resp = self.request("GET", "/api/certificates", token=ALICE)
        self.assertEqual(resp.status, 200, resp)
        listed = resp.json
        self.assertEqual(sorted(g["progressId"] for g in listed), sorted(mine))
        for g in listed:
            for key in ("progressId", "transactionId", "status", "stage", "progress",
                        "pagesTotal", "startedAt", "expiresAt", "result", "downloadUrl"):
                self.assertIn(key, g)
            self.assertNotIn("ownerLabel", g)
            self.assertEqual(g["downloadUrl"], f"/api/certificates/{g['progressId']}/download")
        resp = self.request("GET", "/api/certificates", token=BOB)
        self.assertEqual([g["progressId"] for g in resp.json], [theirs])
        self.assertNotIn(local, resp.body.decode())
        resp = self.request("GET", "/api/certificates", token=None)
        self.assertError(resp, 401, "unauthorized")
        resp = self.request("PUT", "/api/certificates", {"data": recipient_data()})
        self.assertEqual(resp.status, 405, resp)
        self.assertEqual(resp.header("Allow"), "GET, POST")

    def test_local_users_generations_hidden(self):
        """A generation started on D-Bus without a label (a local user) is 404 for
        every web user."""
        pid = self.root.start()
        for token in (ALICE, BOB):
            self.assertError(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                          token=token), 404, "not_found")

    def test_forged_signal_ignored(self):
        """A ProgressChanged sent to the bridge by someone other than certgend's unique
        name never reaches a stream."""
        pid = self.start(batch_data(300))
        stream = self.sse(pid)
        first = stream.next_event()
        self.assertIsNotNone(first)
        bridge_name = self.unique_name_of(self.bridge.pid)
        forger = self.new_client(listen=False)
        forged = {"progress_id": GLib.Variant("s", pid), "status": GLib.Variant("s", "completed"),
                  "stage": GLib.Variant("s", "completed"), "sequence": GLib.Variant("t", 10**9),
                  "message": GLib.Variant("s", "FORGED")}
        forger.conn.emit_signal(bridge_name, OBJECT_PATH, MANAGER_IFACE, "ProgressChanged",
                                GLib.Variant("(sa{sv})", (pid, forged)))
        forger.conn.flush_sync(None)
        events = [first] + stream.events_until_terminal()
        for event in events:
            self.assertNotEqual(event.json.get("message"), "FORGED")
            self.assertLess(event.json["sequence"], 10**9)
        self.assertEqual(events[-1].json["status"], "completed")
        stream.close()


class ErrorStatusTests(HttpTestCase):

    @bridge_args("--generations-per-minute", "1000")
    def test_malformed_json(self):
        """400 bad_request naming the problem, for broken, deep, non-UTF-8 or
        non-object bodies; nothing is started."""
        cases = {
            b"{": "Malformed JSON",
            b"": "empty",
            b"[1, 2]": "object",
            b"\"text\"": "object",
            b"[" * 100000 + b"]" * 100000: "nested deeper",
            b"{\"a\":" * 50000 + b"1" + b"}" * 50000: "nested deeper",
            b"{\"data\": \"\xff\xfe\"}": "UTF-8",
            b"{\"data\": {}}\x00": "NUL",
        }
        for raw, words in cases.items():
            with self.subTest(body=raw[:30]):
                resp = self.request("POST", "/api/certificates", raw=raw,
                                    headers={"Content-Type": "application/json"})
                body = self.assertError(resp, 400, "bad_request")
                self.assertIn(words, body["message"])
        self.assertEqual(self.root.call("ListGenerations"), [])

    @bridge_args("--generations-per-minute", "1000")
    def test_invalid_fields(self):
        """400 invalid_argument naming the field: unknown fields and options, wrong
        types, a missing data object; 415 for another content type."""
        cases = [
            ({"data": recipient_data(), "colour": "red"}, "colour"),
            ({"transactionId": 5, "data": recipient_data()}, "transactionId"),
            ({"transactionId": "x" * 200, "data": recipient_data()}, "transactionId"),
            ({"templateId": ["classic"], "data": recipient_data()}, "templateId"),
            ({}, "data"),
            ({"data": "a string"}, "data"),
            ({"data": recipient_data(), "options": {"timeout": "soon"}}, "options.timeout"),
            ({"data": recipient_data(), "options": {"timeout": 0}}, "options.timeout"),
            ({"data": recipient_data(), "options": {"updateInterval": 1.5}},
             "options.updateInterval"),
            ({"data": recipient_data(), "options": {"enableCancellation": "yes"}},
             "options.enableCancellation"),
            ({"data": recipient_data(), "options": {"timeoutMs": 1}}, "timeoutMs"),
            ({"data": recipient_data(), "options": []}, "options"),
            ({"data": recipient_data(), "templateId": "../../etc"}, "template"),
        ]
        for body, words in cases:
            with self.subTest(body=body):
                resp = self.request("POST", "/api/certificates", body)
                err = self.assertError(resp, 400, "invalid_argument")
                self.assertIn(words, err["message"])
        resp = self.request("POST", "/api/certificates", raw=b"data=1",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(resp, 415, "unsupported_media_type")
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_template_not_found(self):
        """An unknown template: 400 template_not_found."""
        resp = self.request("POST", "/api/certificates",
                            {"templateId": "no-such-template", "data": recipient_data()})
        self.assertError(resp, 400, "template_not_found")

    @daemon_config(limits={"max_data_bytes": 1024})
    def test_invalid_data_rejected(self):
        """certgend's InvalidData (data too large for its config): 400 invalid_data."""
        resp = self.request("POST", "/api/certificates",
                            {"data": recipient_data(description="d" * 900,
                                                    issuer="i" * 120)})
        self.assertError(resp, 400, "invalid_data")
        self.assertEqual([e["path"] for e in resp.json["errors"]], ["data_json"], resp.json)

    def test_invalid_data_event(self):
        """Data that breaks the template's rules: 201, then a failed event carrying
        error "invalid_data", errorName and an errorMessage naming the field."""
        pid = self.start({"courseName": "No Name", "issueDate": "2024-05-17"})
        last = self.wait_finished(pid)
        self.assertEqual(last["status"], "failed")
        self.assertEqual(last["error"], "invalid_data")
        self.assertEqual(last["errorName"], "org.certgen.Certificates1.Error.InvalidData")
        self.assertIn("recipientName", last["errorMessage"])
        self.assertEqual(last["errors"], [{"path": "recipientName", "message": "required"}])
        # another web user sees nothing of it, errors included
        self.assertEqual(self.sse(pid, token=BOB).status, 404)

    def test_invalid_data_every_error(self):
        """Every problem at once: the failed event and the progress body carry
        errors [{path, message}] and errorMessage joins them."""
        pid = self.start({"recipients": [{"recipientName": "A", "issueDate": "2023-02-30"},
                                         {"issueDate": "2024-05-17"}], "courseName": "C"})
        last = self.wait_finished(pid)
        self.assertEqual(last["error"], "invalid_data", last)
        self.assertEqual(last["errors"], [
            {"path": "recipients[0].issueDate", "message": "not a real date: 2023-02-30"},
            {"path": "recipients[1].recipientName", "message": "required"}])
        self.assertEqual(last["errorMessage"],
                         "recipients[0].issueDate: not a real date: 2023-02-30; "
                         "recipients[1].recipientName: required")

    @bridge_args("--max-body-bytes", "65536")
    def test_body_too_large(self):
        """A body over the cap: 413 payload_too_large, by Content-Length or chunked."""
        big = json.dumps({"data": recipient_data(description="x" * 70000)}).encode()
        resp = self.request("POST", "/api/certificates", raw=big,
                            headers={"Content-Type": "application/json"})
        self.assertError(resp, 413, "payload_too_large")
        # chunked, no Content-Length
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout(30))
        conn.putrequest("POST", "/api/certificates")
        conn.putheader("Authorization", f"Bearer {ALICE}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(big), 8192):
            piece = big[i:i + 8192]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 413)
        self.assertEqual(json.loads(resp.read())["error"], "payload_too_large")
        conn.close()
        self.assertEqual(self.root.call("ListGenerations"), [])
        # just under the cap is fine
        self.start(recipient_data(description="y" * 900))

    def test_rate_limit_generations(self):
        """The 6th generation request in a minute: 429 rate_limited with Retry-After;
        other users are not affected."""
        for i in range(5):
            self.start(transaction=f"tx-{i}")
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()})
        self.assertError(resp, 429, "rate_limited")
        retry = int(resp.header("Retry-After"))
        self.assertTrue(1 <= retry <= 60, retry)
        self.start(token=BOB)

    def test_refused_requests_do_not_count(self):
        """Requests refused before anything is created (415, 400, certgend's
        InvalidArgument and TemplateNotFound) do not use up the generation
        rate limit; the 6th generation still gets 429 (issue 10 item 8)."""
        for _ in range(3):
            resp = self.request("POST", "/api/certificates", raw=b"x=1",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertError(resp, 415, "unsupported_media_type")
            resp = self.request("POST", "/api/certificates", raw=b"{not json",
                                headers={"Content-Type": "application/json"})
            self.assertEqual(resp.status, 400, resp)
        for body in ({"templateId": "no-such-template", "data": recipient_data()},
                     {"transactionId": "tx-\u001b[2J", "data": recipient_data()}):
            resp = self.request("POST", "/api/certificates", body)
            self.assertEqual(resp.status, 400, resp)
        for i in range(5):
            self.start(transaction=f"tx-{i}")
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()})
        self.assertError(resp, 429, "rate_limited")

    def test_rate_limit_streams(self):
        """The 11th SSE connection in a minute: 429 with Retry-After; reconnects that
        carry a Last-Event-ID are not counted."""
        pid = self.start()
        last = self.wait_finished(pid)  # 1
        for i in range(9):  # 2..10
            stream = self.sse(pid)
            self.assertEqual(stream.status, 200, i)
            stream.events_until_terminal()
            stream.close()
        resp = self.request("GET", f"/api/certificates/progress/{pid}")
        self.assertError(resp, 429, "rate_limited")
        self.assertTrue(1 <= int(resp.header("Retry-After")) <= 60)
        for i in range(5):
            stream = self.sse(pid, headers={"Last-Event-ID": str(last["sequence"] - 1)})
            self.assertEqual(stream.status, 200, i)
            self.assertEqual(stream.events_until_terminal()[-1].json["status"], "completed")
            stream.close()
        # a WebSocket is a stream too
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 429)
        ws.close()

    @daemon_config(limits={"max_active_per_owner": 1})
    def test_limit_exceeded(self):
        """certgend's LimitExceeded (too many active for this web user): 429."""
        pid = self.start(batch_data(BIG_BATCH))
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()})
        self.assertError(resp, 429, "limit_exceeded")
        self.assertTrue(resp.header("Retry-After"))
        self.request("DELETE", f"/api/certificates/progress/{pid}")

    @bridge_args("--max-streams-per-user", "2", "--max-streams", "3")
    def test_stream_caps(self):
        """Concurrent streams: per user 429 too_many_streams, overall 503 overloaded;
        slots come back when streams end."""
        pid_a = self.start(batch_data(BIG_BATCH))
        pid_b = self.start(batch_data(BIG_BATCH), token=BOB)
        streams = [self.sse(pid_a), self.sse(pid_a)]
        for s in streams:
            self.assertEqual(s.status, 200)
            self.assertIsNotNone(s.next_event())
        resp = self.request("GET", f"/api/certificates/progress/{pid_a}")
        self.assertError(resp, 429, "too_many_streams")
        self.assertTrue(resp.header("Retry-After"))
        streams.append(self.sse(pid_b, token=BOB))
        self.assertEqual(streams[-1].status, 200)
        self.assertIsNotNone(streams[-1].next_event())
        resp = self.request("GET", f"/api/certificates/progress/{pid_b}", token=BOB)
        self.assertError(resp, 503, "overloaded")
        for s in streams:
            s.close()
        wait_until(lambda: self.request("GET", f"/api/certificates/progress/{pid_a}/analytics"
                                        ).status == 200, 10, "requests")
        self.request("DELETE", f"/api/certificates/progress/{pid_a}")
        self.request("DELETE", f"/api/certificates/progress/{pid_b}", token=BOB)

        def stream_opens():
            s = self.sse(pid_a)
            try:
                return s.status == 200
            finally:
                s.close()
        wait_until(stream_opens, 10, "a free stream slot")

    def test_unavailable_and_recovery(self):
        """certgend stopped: 503 service_unavailable with Retry-After on every route;
        once it is back the bridge serves again (new generations, new signals)."""
        pid = self.start()
        self.wait_finished(pid)
        self.stop_daemon()
        wait_until(lambda: "left the bus" in self.bridge_log_text(), 10, "vanished")
        for method, path, body in (("POST", "/api/certificates", {"data": recipient_data()}),
                                   ("GET", f"/api/certificates/progress/{pid}", None),
                                   ("DELETE", f"/api/certificates/progress/{pid}", None),
                                   ("GET", f"/api/certificates/progress/{pid}/analytics", None),
                                   ("GET", f"/api/certificates/{pid}/download", None)):
            with self.subTest(method=method, path=path):
                resp = self.request(method, path, body)
                self.assertError(resp, 503, "service_unavailable")
                self.assertTrue(resp.header("Retry-After"))
        self.start_daemon()
        wait_until(lambda: self.bridge_log_text().count("certgend is :") >= 2, 10, "reappeared")
        pid = self.start()
        self.assertEqual(self.wait_finished(pid)["status"], "completed")

    def test_daemon_vanishes_mid_stream(self):
        """certgend leaving the bus ends open streams with an error event."""
        pid, stream, ws = self.big_batch_followed_twice()
        self.stop_daemon()
        events = stream.events_until_terminal()
        last = events[-1].json
        self.assertEqual(last["status"], "failed")
        self.assertEqual(last["error"], "service_unavailable")
        self.assertTrue(stream.at_end())
        stream.close()
        messages = ws.messages_until_close()
        self.assertEqual(messages[-1]["error"], "service_unavailable")
        self.assertEqual(ws.close_code, 4503)
        ws.close()


class StreamTests(HttpTestCase):

    def test_resume_with_last_event_id(self):
        """A reconnect with Last-Event-ID continues after that event: no repeats, and the
        terminal event arrives."""
        pid = self.start(batch_data(300))
        stream = self.sse(pid)
        seen = []
        for _ in range(3):
            event = stream.next_event()
            self.assertIsNotNone(event)
            seen.append(int(event.id))
        stream.close()
        stream = self.sse(pid, headers={"Last-Event-ID": str(seen[-1])})
        self.assertEqual(stream.status, 200)
        events = stream.events_until_terminal()
        self.assertTrue(stream.at_end())
        ids = [int(e.id) for e in events]
        self.assertTrue(all(i > seen[-1] for i in ids), (seen, ids))
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(events[-1].json["status"], "completed")
        stream.close()

    def test_resume_after_finished(self):
        """Resuming after the generation ended still delivers the terminal event; a
        client that has it gets 204 (EventSource stops reconnecting)."""
        pid = self.start()
        last = self.wait_finished(pid)
        stream = self.sse(pid, headers={"Last-Event-ID": str(last["sequence"] - 2)})
        events = stream.events_until_terminal()
        self.assertEqual([e.json["sequence"] for e in events], [last["sequence"]])
        self.assertEqual(events[0].json["status"], "completed")
        self.assertEqual(events[0].json["result"], last["result"])
        self.assertTrue(stream.at_end())
        stream.close()
        stream = self.sse(pid, headers={"Last-Event-ID": str(last["sequence"])})
        self.assertEqual(stream.status, 204)
        stream.close()
        # garbage Last-Event-ID: a fresh stream
        stream = self.sse(pid, headers={"Last-Event-ID": "not-a-number"})
        self.assertEqual(stream.events_until_terminal()[-1].json["sequence"], last["sequence"])
        stream.close()

    def test_client_disconnect_releases_fds(self):
        """Clients that disconnect mid-stream (SSE and WebSocket): the bridge's open
        file descriptors return to where they were."""
        pid = self.start(batch_data(BIG_BATCH))
        time.sleep(0.3)
        baseline = self.bridge_fd_count()
        for _ in range(3):
            stream = self.sse(pid)
            self.assertIsNotNone(stream.next_event())
            self.assertGreater(self.bridge_fd_count(), baseline)
            stream.sock.shutdown(socket.SHUT_RDWR)
            stream.close()
        for _ in range(2):
            ws = self.websocket(pid)
            self.assertIsNotNone(ws.recv_message())
            ws.sock.shutdown(socket.SHUT_RDWR)
            ws.close()
        wait_until(lambda: self.bridge_fd_count() <= baseline, 10,
                   f"fd count back to {baseline}")
        # the generation goes on and can still be followed and cancelled
        stream = self.sse(pid)
        self.assertEqual(stream.next_event().json["status"], "in_progress")
        stream.close()
        self.assertEqual(self.request("DELETE", f"/api/certificates/progress/{pid}").status, 200)

    @bridge_args("--max-streams-per-user", "1000", "--streams-per-minute", "100000")
    def test_burst_of_streams(self):
        """300 streams requested at once (more D-Bus calls than the bus lets one
        connection have pending): every one is served, to the terminal event."""
        n = 300
        pid = self.start(batch_data(1000))
        socks = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(n)]
        request = (f"GET /api/certificates/progress/{pid} HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {ALICE}\r\nConnection: close\r\n\r\n").encode()
        for sock in socks:
            sock.sendall(request)
        statuses = collections.Counter()
        for sock in socks:
            data, closed = recv_all(sock, timeout(60))
            sock.close()
            head = data.split(b"\r\n", 1)[0].decode()
            done = closed and b'"status":"completed"' in data
            statuses[f"{head} completed={done}"] += 1
        self.assertEqual(statuses, collections.Counter({"HTTP/1.1 200 OK completed=True": n}))

    @bridge_args("--keepalive-ms", "300")
    def test_keepalive_comments(self):
        """Idle streams get keep-alive comments."""
        pid = self.start(batch_data(BIG_BATCH), updateInterval=5000)
        stream = self.sse(pid)
        self.assertIsNotNone(stream.next_event())
        deadline = time.monotonic() + timeout(5)
        while "keep-alive" not in stream.comments and time.monotonic() < deadline:
            stream.next_event()
        self.assertIn("keep-alive", stream.comments)
        stream.close()
        self.request("DELETE", f"/api/certificates/progress/{pid}")

    @bridge_args("--header-timeout-ms", "1000")
    def test_header_timeout(self):
        """A connection that does not complete its headers in time is closed; a
        complete request meanwhile is served."""
        slow = socket.create_connection(("127.0.0.1", self.port))
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        silent = socket.create_connection(("127.0.0.1", self.port))
        started = time.monotonic()
        self.assertEqual(self.request("GET", "/api/nothing").status, 404)
        _, closed = recv_all(slow, timeout(5))
        self.assertTrue(closed, "the partial request must be cut off")
        _, closed = recv_all(silent, timeout(5))
        self.assertTrue(closed, "a silent connection must be cut off")
        self.assertLess(time.monotonic() - started, timeout(6))
        slow.close()
        silent.close()
        self.assertEqual(self.request("GET", "/api/nothing").status, 404)

    @bridge_args("--header-timeout-ms", "2000")
    def test_header_timeouts_are_per_connection(self):
        """The header timers of many connections share one clock: each
        partial request is cut off no earlier than its own deadline, and a
        connection whose request was complete keeps its (idle) life."""
        served = socket.create_connection(("127.0.0.1", self.port))
        first = socket.create_connection(("127.0.0.1", self.port))
        first.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        served.sendall(b"GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Authorization: Bearer " + ALICE.encode() + b"\r\n\r\n")
        time.sleep(1.0)
        second = socket.create_connection(("127.0.0.1", self.port))
        second_opened = time.monotonic()
        second.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        _, closed = recv_all(first, timeout(5))
        self.assertTrue(closed, "the first partial request must be cut off")
        _, closed = recv_all(second, timeout(5))
        self.assertTrue(closed, "the second partial request must be cut off")
        # not at the first one's deadline: its own, 2 s after it opened
        self.assertGreaterEqual(time.monotonic() - second_opened, 1.9)
        data, closed = recv_all(served, 0.5)
        self.assertTrue(data.startswith(b"HTTP/1.1 404"), data)
        self.assertFalse(closed, "a served kept-alive connection has no header timer")
        for sock in (first, second, served):
            sock.close()

    @bridge_args("--body-timeout-ms", "1000")
    def test_body_timeout(self):
        """A request body that stops arriving is cut off."""
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(b"POST /api/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + ALICE.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\"")
        started = time.monotonic()
        _, closed = recv_all(sock, timeout(5))
        self.assertTrue(closed, "the stalled body must be cut off")
        self.assertLess(time.monotonic() - started, timeout(4))
        sock.close()
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_sse_http10(self):
        """An HTTP/1.0 client gets the stream unchunked, ended by closing."""
        pid = self.start()
        self.wait_finished(pid)
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(f"GET /api/certificates/progress/{pid} HTTP/1.0\r\n"
                     f"Authorization: Bearer {ALICE}\r\n\r\n".encode())
        data, closed = recv_all(sock, timeout(10))
        sock.close()
        self.assertTrue(closed)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head)
        self.assertNotIn(b"chunked", head.lower())
        self.assertTrue(body.startswith(b"retry: 2000\n: connected\n\nid: "), body[:80])
        self.assertIn(b'"status":"completed"', body)

    @bridge_args("--idle-timeout-ms", "1000")
    def test_idle_timeout(self):
        """A kept-alive connection that stays idle is closed."""
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(b"GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + ALICE.encode() + b"\r\n\r\n")
        data, closed = recv_all(sock, timeout(5))
        self.assertTrue(data.startswith(b"HTTP/1.1 404"), data)
        self.assertTrue(closed, "the idle connection must be closed")
        sock.close()


class ActivationTests(HttpTestCase):

    @no_bridge
    def test_socket_activation(self):
        """A listening socket passed as systemd does (LISTEN_FDS, fd 3) is served."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        log_path = os.path.join(self.tmpdir, "certgen-http-activated.log")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        env.setdefault("G_DEBUG", "fatal-criticals")
        with open(log_path, "wb") as log:
            proc = spawn_socket_activated(
                [BRIDGE, "--tokens", self.tokens_path, "--listen", "127.0.0.1:1", "--debug"],
                listener, env, log)
        try:
            listener.close()

            def log_text():
                return read_text(log_path)
            wait_until(lambda: "certgend is :" in log_text() or proc.poll() is not None, 20,
                       "the activated bridge")
            self.assertIsNone(proc.poll(), log_text())
            self.assertIn(f"Listening on http://127.0.0.1:{port}/", log_text())
            self.port = port
            pid = self.start()
            self.assertEqual(self.wait_finished(pid)["status"], "completed")
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout(15))
        self.assertEqual(rc, 0, log_text())


class ShutdownTests(HttpTestCase):

    def test_sigterm_with_open_streams(self):
        """SIGTERM while streams are open: SSE responses end, WebSockets close with
        1001, the bridge exits 0 with a clean log (checked by stop_bridge)."""
        pid, stream, ws = self.big_batch_followed_twice()
        idle = socket.create_connection(("127.0.0.1", self.port))
        self.bridge.send_signal(signal.SIGTERM)
        ws.messages_until_close()
        self.assertEqual(ws.close_code, 1001)
        ws.close()
        while stream.next_event() is not None:
            pass
        self.assertTrue(stream.ended)
        stream.close()
        _, closed = recv_all(idle, timeout(10))
        self.assertTrue(closed)
        idle.close()
        self.stop_bridge(signalled=True)
        # certgend did not lose the generation
        self.assertEqual(self.root.progress(pid)["status"], "in_progress")


class CorsTests(HttpTestCase):

    @bridge_args("--allow-origin", "http://app.example.test")
    def test_cors_allowed(self):
        """An allowed origin gets Access-Control-Allow-Origin; the preflight of DELETE
        is answered."""
        origin = "http://app.example.test"
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()},
                            headers={"Origin": origin})
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), origin)
        self.assertIn("Origin", resp.header("Vary"))
        pid = resp.json["progressId"]
        resp = self.request("OPTIONS", f"/api/certificates/progress/{pid}", token=None,
                            headers={"Origin": origin,
                                     "Access-Control-Request-Method": "DELETE",
                                     "Access-Control-Request-Headers": "authorization"})
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), origin)
        self.assertIn("DELETE", resp.header("Access-Control-Allow-Methods"))
        self.assertIn("Authorization", resp.header("Access-Control-Allow-Headers"))
        resp = self.request("DELETE", f"/api/certificates/progress/{pid}",
                            headers={"Origin": origin})
        self.assertIn(resp.status, (200, 409), resp)
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), origin)
        resp = self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                            headers={"Origin": origin})
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), origin)

    @bridge_args("--allow-origin", "http://app.example.test")
    def test_cors_denied(self):
        """Other origins: no CORS headers, preflight 403, state changes 403."""
        evil = "http://evil.example.test"
        pid = self.start()
        resp = self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                            headers={"Origin": evil})
        self.assertIsNone(resp.header("Access-Control-Allow-Origin"))
        resp = self.request("OPTIONS", f"/api/certificates/progress/{pid}", token=None,
                            headers={"Origin": evil, "Access-Control-Request-Method": "DELETE"})
        self.assertError(resp, 403, "forbidden")
        self.assertIsNone(resp.header("Access-Control-Allow-Origin"))
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()},
                            headers={"Origin": evil})
        self.assertError(resp, 403, "forbidden")
        resp = self.request("DELETE", f"/api/certificates/progress/{pid}",
                            headers={"Origin": evil})
        self.assertError(resp, 403, "forbidden")
        # same-origin requests (the bridge's own page) are fine
        resp = self.request("POST", "/api/certificates", {"data": recipient_data()},
                            headers={"Origin": f"http://127.0.0.1:{self.port}"})
        self.assertEqual(resp.status, 201, resp)

    def test_no_cors_by_default(self):
        """Without --allow-origin nothing is shared cross-origin."""
        resp = self.request("OPTIONS", "/api/certificates", token=None,
                            headers={"Origin": "http://app.example.test",
                                     "Access-Control-Request-Method": "POST"})
        self.assertEqual(resp.status, 403)
        self.assertIsNone(resp.header("Access-Control-Allow-Origin"))


class WebSocketTests(HttpTestCase):

    def test_websocket_events(self):
        """The same events as JSON text messages; closed with 1000 after the terminal."""
        pid = self.start()
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 101)
        messages = ws.messages_until_close()
        self.assertEqual(ws.close_code, 1000)
        self.assertTrue(messages)
        for m in messages:
            self.assertTrue(SSE_KEYS <= set(m), m)
        seqs = [m["sequence"] for m in messages]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertEqual(messages[-1]["status"], "completed")
        ws.close()
        # resume from a sequence
        ws = self.websocket(pid, query=f"?lastEventId={seqs[-1] - 1}")
        self.assertEqual([m["sequence"] for m in ws.messages_until_close()], [seqs[-1]])
        ws.close()

    def test_websocket_cancel(self):
        """{"type":"cancel"} cancels: an acknowledgement, then the cancelled event."""
        pid = self.start(batch_data(BIG_BATCH))
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 101)
        self.assertIsNotNone(ws.recv_message())
        ws.send_text("not json")
        reply = ws.recv_message()
        while "type" not in reply:
            reply = ws.recv_message()
        self.assertEqual(reply["error"], "bad_request")
        ws.send_text(json.dumps({"type": "cancel"}))
        messages = ws.messages_until_close()
        self.assertIn({"type": "cancel", "success": True}, messages)
        updates = [m for m in messages if "status" in m]
        self.assertEqual(updates[-1]["status"], "cancelled")
        self.assertEqual(ws.close_code, 1000)
        ws.close()

    def test_websocket_auth(self):
        """No credentials: 401 before the upgrade; the session cookie works."""
        pid = self.start()
        ws = self.websocket(pid, token=None)
        self.assertEqual(ws.status, 401)
        self.assertEqual(json.loads(ws.body)["error"], "unauthorized")
        ws.close()
        cookie = self.request("POST", "/api/session").header("Set-Cookie").split(";")[0]
        ws = self.websocket(pid, token=None, headers={"Cookie": cookie})
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.messages_until_close()[-1]["status"], "completed")
        ws.close()
        ws = self.websocket(pid, headers={"Origin": "http://evil.example.test"})
        self.assertEqual(ws.status, 403)
        ws.close()


class SessionTests(HttpTestCase):

    def test_session_cookie_flow(self):
        """POST /api/session (Bearer) sets an HttpOnly, SameSite=Strict cookie that
        authenticates GETs only; DELETE /api/session clears it."""
        resp = self.request("POST", "/api/session")
        self.assertEqual(resp.status, 200, resp)
        set_cookie = resp.header("Set-Cookie")
        attrs = [a.strip() for a in set_cookie.split(";")]
        self.assertRegex(attrs[0], r"^certgen_session=[0-9a-f]{64}$")
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/", attrs)
        self.assertEqual(resp.json["user"], "alice")
        cookie = {"Cookie": attrs[0]}
        pid = self.start()
        # GETs with the cookie alone
        stream = self.sse(pid, token=None, headers=cookie)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.events_until_terminal()[-1].json["status"], "completed")
        stream.close()
        self.assertEqual(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                      token=None, headers=cookie).status, 200)
        self.assertEqual(self.request("GET", f"/api/certificates/{pid}/download",
                                      token=None, headers=cookie).status, 200)
        # state changes need the Bearer header
        self.assertError(self.request("DELETE", f"/api/certificates/progress/{pid}",
                                      token=None, headers=cookie), 401, "unauthorized")
        self.assertError(self.request("POST", "/api/certificates", {"data": recipient_data()},
                                      token=None, headers=cookie), 401, "unauthorized")
        self.assertError(self.request("DELETE", "/api/session", token=None, headers=cookie),
                         401, "unauthorized")
        # the cookie is alice's: bob's id stays hidden
        pid_bob = self.start(token=BOB)
        self.assertError(self.request("GET", f"/api/certificates/progress/{pid_bob}/analytics",
                                      token=None, headers=cookie), 404, "not_found")
        # a forged cookie
        self.assertError(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                      token=None,
                                      headers={"Cookie": "certgen_session=" + "0" * 64}),
                         401, "unauthorized")
        # logout
        resp = self.request("DELETE", "/api/session", headers=cookie)
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("Max-Age=0", resp.header("Set-Cookie"))
        self.assertTrue(resp.header("Set-Cookie").startswith("certgen_session=;"))
        self.assertError(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                      token=None, headers=cookie), 401, "unauthorized")

    def test_session_revoked_with_token(self):
        """Removing a user from the tokens file ends their sessions."""
        cookie = {"Cookie": self.request("POST", "/api/session").header("Set-Cookie")
                  .split(";")[0]}
        pid = self.start()
        self.assertEqual(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                      token=None, headers=cookie).status, 200)
        self.write_tokens({"bob": BOB})
        self.bridge.send_signal(signal.SIGHUP)
        wait_until(lambda: "Reloaded 1 tokens" in self.bridge_log_text(), 10, "reload")
        self.assertError(self.request("GET", f"/api/certificates/progress/{pid}/analytics",
                                      token=None, headers=cookie), 401, "unauthorized")



# for the classes below (kept apart from the imports at the top)
import base64  # noqa: E402

from certgen_test.bridge import WebSocket  # noqa: E402


class EarlyWebSocket(WebSocket):
    """A WebSocket whose first text message goes out in the same write as the
    handshake: it reaches the bridge before any check of the upgrade can finish."""

    def __init__(self, port, path, headers, early_text):
        # pylint: disable=super-init-not-called
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout(30))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        payload = early_text.encode()
        mask = os.urandom(4)
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + \
            bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + frame)
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split()[1])
        self.body = b""
        self.close_code = None
        self.close_reason = None


def wait_status(case, pid, status, token=ALICE, seconds=60):
    """Poll the analytics route (not a stream) until the generation has @status."""
    def reached():
        resp = case.request("GET", f"/api/certificates/progress/{pid}/analytics", token=token)
        case.assertEqual(resp.status, 200, resp)
        return resp.json["status"] == status
    wait_until(reached, seconds, f"{pid} {status}")


class BridgeOwnerCheckTests(HttpTestCase):
    """Every action of the bridge on an id passes the owner check first (issue 15/1)."""

    CANCEL = json.dumps({"type": "cancel"})

    def assert_refused(self, ws):
        self.assertEqual(ws.status, 101)
        messages = ws.messages_until_close()
        self.assertEqual(ws.close_code, 4404, messages)
        self.assertNotIn({"type": "cancel", "success": True}, messages)
        for m in messages:
            self.assertEqual(m.get("error"), "not_found", messages)
            self.assertNotIn("status", m, messages)
        ws.close()

    def test_ws_cancel_before_owner_check(self):
        """bob's {"type":"cancel"} sent with the handshake, before the owner check of
        alice's id could finish: refused, alice's generation completes."""
        pid = self.start(batch_data(300), token=ALICE)
        for _ in range(3):
            ws = EarlyWebSocket(self.port, f"/api/certificates/ws/{pid}",
                                {"Authorization": f"Bearer {BOB}"}, self.CANCEL)
            self.assert_refused(ws)
        stream = self.sse(pid)
        self.assertEqual(stream.next_event().json["status"], "in_progress")
        self.assertEqual(stream.events_until_terminal()[-1].json["status"], "completed")
        stream.close()

    def test_ws_cancel_after_upgrade(self):
        """bob's cancel right after the 101, and again: refused; alice's generation
        completes; bob's HTTP routes on it are 404 like an unknown id."""
        pid = self.start(batch_data(300), token=ALICE)
        for _ in range(3):
            ws = self.websocket(pid, token=BOB)
            self.assertEqual(ws.status, 101)
            try:
                ws.send_text(self.CANCEL)
                ws.send_text(self.CANCEL)
            except OSError:
                pass  # already closed by the bridge
            self.assert_refused(ws)
        unknown = random_id()
        for method, fmt in (("DELETE", "/api/certificates/progress/{}"),
                            ("GET", "/api/certificates/progress/{}"),
                            ("GET", "/api/certificates/progress/{}/analytics"),
                            ("GET", "/api/certificates/{}/download")):
            theirs = self.request(method, fmt.format(pid), token=BOB)
            nothing = self.request(method, fmt.format(unknown), token=BOB)
            self.assertError(theirs, 404, "not_found", f"{method} {fmt}")
            self.assertEqual(theirs.body.replace(pid.encode(), b"ID"),
                             nothing.body.replace(unknown.encode(), b"ID"))
        stream = self.sse(pid)
        self.assertEqual(stream.next_event().json["status"], "in_progress")
        self.assertEqual(stream.events_until_terminal()[-1].json["status"], "completed")
        stream.close()

    def test_ws_cancel_of_own_generation_sent_early(self):
        """alice's own cancel sent with the handshake waits for the owner check, then
        cancels: the acknowledgement follows the first event."""
        pid = self.start(batch_data(BIG_BATCH), token=ALICE)
        ws = EarlyWebSocket(self.port, f"/api/certificates/ws/{pid}",
                            {"Authorization": f"Bearer {ALICE}"}, self.CANCEL)
        self.assertEqual(ws.status, 101)
        messages = ws.messages_until_close()
        self.assertEqual(ws.close_code, 1000, messages)
        self.assertIn("status", messages[0], messages)
        self.assertIn({"type": "cancel", "success": True}, messages)
        self.assertEqual(messages[-1]["status"], "cancelled", messages)
        ws.close()


class BridgeResumeTests(HttpTestCase):
    """Resume rules of SSE and WebSocket (issue 15/9 and 15/10)."""

    def test_sse_last_event_id_above_current(self):
        """A Last-Event-ID above the current sequence still gets the current state and
        the terminal event (running and finished generations)."""
        pid = self.start(batch_data(300))
        stream = self.sse(pid, headers={"Last-Event-ID": "999999999"})
        self.assertEqual(stream.status, 200)
        events = stream.events_until_terminal()
        self.assertTrue(events, "no events")
        self.assertEqual(events[0].json["status"], "in_progress")
        self.assertEqual(events[-1].json["status"], "completed")
        self.assertTrue(stream.at_end())
        stream.close()
        last = events[-1].json
        for header in (str(last["sequence"] + 1), "18446744073709551615"):
            stream = self.sse(pid, headers={"Last-Event-ID": header})
            self.assertEqual(stream.status, 200, header)
            events = stream.events_until_terminal()
            self.assertEqual([e.json["sequence"] for e in events], [last["sequence"]])
            self.assertEqual(events[0].json["result"], last["result"])
            self.assertTrue(stream.at_end())
            stream.close()

    def test_ws_last_event_id_above_current(self):
        """The same for the WebSocket's ?lastEventId=."""
        pid = self.start(batch_data(300))
        ws = self.websocket(pid, query="?lastEventId=999999999")
        self.assertEqual(ws.status, 101)
        messages = ws.messages_until_close()
        self.assertEqual(ws.close_code, 1000)
        self.assertTrue(messages, "no messages")
        self.assertEqual(messages[0]["status"], "in_progress")
        self.assertEqual(messages[-1]["status"], "completed")
        ws.close()
        last = messages[-1]
        ws = self.websocket(pid, query=f"?lastEventId={last['sequence'] + 5}")
        self.assertEqual([m["sequence"] for m in ws.messages_until_close()], [last["sequence"]])
        ws.close()

    def finished_and_unknown_ids(self):
        """Three finished generations of alice's, and ten ids to resume: two
        of hers, then eight that never existed -> (pids, ids)."""
        pids = [self.start(transaction=f"tx-{i}") for i in range(3)]
        for pid in pids:
            wait_status(self, pid, "completed")
        return pids, pids[:2] + [random_id() for _ in range(8)]

    def test_sse_fake_resume_is_rate_limited(self):
        """Last-Event-ID on ids this user never streamed counts as a new stream: the
        11th in a minute is 429; a genuine resume stays exempt."""
        pids, ids = self.finished_and_unknown_ids()
        last = {}
        for i, pid in enumerate(ids):
            stream = self.sse(pid, headers={"Last-Event-ID": "0"})
            self.assertEqual(stream.status, 200 if pid in pids else 404, i)
            if stream.status == 200:
                last[pid] = stream.events_until_terminal()[-1].json
                self.assertEqual(last[pid]["status"], "completed")
            stream.close()
        last = last[pids[0]]
        resp = self.request("GET", f"/api/certificates/progress/{pids[2]}",
                            headers={"Last-Event-ID": "0"})
        self.assertError(resp, 429, "rate_limited")
        self.assertTrue(1 <= int(resp.header("Retry-After")) <= 60)
        resp = self.request("GET", f"/api/certificates/progress/{pids[0]}",
                            headers={"Last-Event-ID": "not-a-number"})
        self.assertError(resp, 429, "rate_limited")
        # genuine resumes: alice was sent pids[0]'s events
        for i in range(3):
            stream = self.sse(pids[0], headers={"Last-Event-ID": str(last["sequence"] - 1)})
            self.assertEqual(stream.status, 200, i)
            self.assertEqual(stream.events_until_terminal()[-1].json["status"], "completed")
            stream.close()
        # ... but not above what she was sent
        resp = self.request("GET", f"/api/certificates/progress/{pids[0]}",
                            headers={"Last-Event-ID": str(last["sequence"] + 1)})
        self.assertError(resp, 429, "rate_limited")
        # bob's budget is his own
        resp = self.request("GET", f"/api/certificates/progress/{pids[0]}", token=BOB,
                            headers={"Last-Event-ID": "0"})
        self.assertError(resp, 404, "not_found")

    def test_ws_fake_resume_is_rate_limited(self):
        """The same for ?lastEventId= on the WebSocket."""
        pids, ids = self.finished_and_unknown_ids()
        last = {}
        for i, pid in enumerate(ids):
            ws = self.websocket(pid, query="?lastEventId=0")
            self.assertEqual(ws.status, 101, i)
            messages = ws.messages_until_close()
            self.assertEqual(ws.close_code, 1000 if pid in pids else 4404, (i, messages))
            if pid in pids:
                last[pid] = messages[-1]
            ws.close()
        last = last[pids[0]]
        ws = self.websocket(pids[2], query="?lastEventId=0")
        self.assertEqual(ws.status, 429)
        ws.close()
        ws = self.websocket(pids[0], query=f"?lastEventId={last['sequence'] - 1}")
        self.assertEqual(ws.status, 101)
        self.assertEqual([m["sequence"] for m in ws.messages_until_close()], [last["sequence"]])
        ws.close()
        ws = self.websocket(pids[0], query=f"?lastEventId={last['sequence'] + 1}")
        self.assertEqual(ws.status, 429)
        ws.close()



class BridgeWsInputTests(HttpTestCase):
    """Hostile WebSocket messages get an error message, never a broken frame."""

    def test_ws_lone_surrogate(self):
        """A message whose JSON holds a lone surrogate escape: a bad_request error
        message in valid UTF-8, and the stream goes on to its terminal event."""
        pid = self.start(batch_data(300))
        ws = self.websocket(pid)
        self.assertEqual(ws.status, 101)
        for text in ('{"tye\\ud800":{"a":1}}', '{"type":"\\udfff"', '{"\\ud800":'):
            ws.send_text(text)
        messages = ws.messages_until_close()
        errors = [m for m in messages if m.get("type") == "error"]
        self.assertEqual([m["error"] for m in errors], ["bad_request"] * 3, messages)
        self.assertEqual(messages[-1]["status"], "completed")
        self.assertEqual(ws.close_code, 1000)
        ws.close()


class StrictBodyTests(HttpTestCase):
    """The bridge parses bodies with certgend's strict parser (service/cg-json.c):
    what D-Bus refuses as InvalidData is a 400 invalid_data naming the field, and
    the data is passed on as sent (issue 15 item 2)."""

    REST = '"courseName":"Strict Parsing","issueDate":"2024-05-17"'
    CASES = [
        # (name, data as sent, the path the error names)
        ("nul-escape", '{"recipientName":"Alice\\u0000EVIL",' + REST + '}', "recipientName"),
        ("duplicate", '{"recipientName":"Alice","recipientName":"Mallory",' + REST + '}',
         "recipientName"),
        ("duplicate-deep", '{"recipients":[{"recipientName":"A"},{"recipientName":"B",'
         '"recipientName":"C"}],' + REST + '}', "recipients[1].recipientName"),
        ("comment", '{"recipientName": /* hi */ "Alice",' + REST + '}', "recipientName"),
        ("line-comment", '{"recipientName": // hi\n "Alice",' + REST + '}', "recipientName"),
        ("single-quotes", "{\"recipientName\": 'Alice'," + REST + "}", "recipientName"),
        ("bad-escape", '{"recipientName":"Al\\qice",' + REST + '}', "recipientName"),
        ("lone-surrogate", '{"recipientName":"Al\\ud800ice",' + REST + '}', "recipientName"),
        ("leading-zero", '{"recipientName":"A","issuer":007,' + REST + '}', "data"),
    ]

    def post_raw(self, data_text):
        body = ('{"transactionId":"tx-strict","data":' + data_text + '}').encode()
        return self.request("POST", "/api/certificates", raw=body,
                            headers={"Content-Type": "application/json"})

    def dbus_refuses(self, data_text):
        """The same data straight over D-Bus -> its InvalidData message."""
        from certgen_test.testbus import DBusCallError  # noqa: E402
        try:
            pid = self.root.start(data_text, transaction="tx-strict-dbus")
        except DBusCallError as e:
            self.assertEqual(e.name, "org.certgen.Certificates1.Error.InvalidData", e)
            return e.message
        last = self.root.wait_terminal(pid)
        self.assertEqual(last["status"], "failed", last)
        self.assertEqual(last["error"], "org.certgen.Certificates1.Error.InvalidData", last)
        return last["error_message"]

    @bridge_args("--generations-per-minute", "1000")
    def test_lenient_json_refused_like_dbus(self):
        """NUL escape, repeated keys (at depth too), comments, single quotes, bad
        escapes, lone surrogates, leading zeros in data: 400 invalid_data naming the
        field, with an errors list; nothing is started. D-Bus refuses the same bytes
        as InvalidData."""
        for name, data_text, path in self.CASES:
            with self.subTest(case=name):
                resp = self.post_raw(data_text)
                self.assertEqual(resp.status, 400, resp)
                body = resp.json
                self.assertEqual(body["error"], "invalid_data", body)
                self.assertTrue(body["message"].startswith(path + ": "), body)
                self.assertEqual(len(body["errors"]), 1, body)
                self.assertEqual(body["errors"][0]["path"], path, body)
                self.assertTrue(body["errors"][0]["message"], body)
                self.assertNotIn(path + ":", body["errors"][0]["message"], body)
        self.assertEqual(self.root.call("ListGenerations"), [])
        for name, data_text, path in self.CASES:
            with self.subTest(case=name, over="D-Bus"):
                self.dbus_refuses(data_text)

    @bridge_args("--generations-per-minute", "1000")
    def test_body_outside_data(self):
        """A repeated body member is 400 invalid_argument; broken JSON around the data
        stays 400 bad_request."""
        for raw in (b'{"transactionId":"a","transactionId":"b","data":{}}',
                    b'{"data":{},"data":{}}'):
            with self.subTest(body=raw):
                resp = self.request("POST", "/api/certificates", raw=raw,
                                    headers={"Content-Type": "application/json"})
                err = self.assertError(resp, 400, "invalid_argument")
                self.assertIn("duplicate field", err["message"])
        for raw in (b'{"data":{}} /* c */', b"{'data':{}}", b'{"data":{} "x":1}',
                    b'{"options":{"timeout":01},"data":{}}'):
            with self.subTest(body=raw):
                resp = self.request("POST", "/api/certificates", raw=raw,
                                    headers={"Content-Type": "application/json"})
                err = self.assertError(resp, 400, "bad_request")
                self.assertIn("Malformed JSON", err["message"])
        self.assertEqual(self.root.call("ListGenerations"), [])

    def test_data_passed_as_sent(self):
        """Valid data in any strict spelling (escapes, whitespace, key order) is
        accepted and generated; the name arrives decoded exactly once."""
        data_text = ('{ "issueDate" : "2024-05-17",\n\t"recipientName":"J\\u00f6rg '
                     '\\"Q\\" \\\\ \\/ \\ud83d\\ude00", "courseName":"C"}')
        resp = self.post_raw(data_text)
        self.assertEqual(resp.status, 201, resp)
        last = self.wait_finished(resp.json["progressId"])
        self.assertEqual(last["status"], "completed", last)



class BridgeDelegateTests(HttpTestCase):
    """The bridge as a non-root delegate (certgen-test1, polkit granting it
    generate and delegate, as the installed rules do for certgen-http):
    certgend sees only the bridge's uid, so the bridge's own owner check is
    all that stands between two web users (issue 15/1)."""

    @with_polkit(ACTION_GENERATE, ACTION_DELEGATE)
    @bridge_user("certgen-test1")
    def test_ws_cancel_of_another_web_user_refused(self):
        """bob's WebSocket cancel of alice's generation, sent with the
        handshake and again after the 101: refused, alice's completes; alice's
        own cancel through the same delegate still works."""
        with open(f"/proc/{self.bridge.pid}/status", encoding="ascii") as f:
            uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
        self.assertEqual(uid, pwd.getpwnam("certgen-test1").pw_uid, "the bridge is not a delegate")
        pid = self.start(batch_data(300), token=ALICE)
        early = EarlyWebSocket(self.port, f"/api/certificates/ws/{pid}",
                               {"Authorization": f"Bearer {BOB}"},
                               BridgeOwnerCheckTests.CANCEL)
        BridgeOwnerCheckTests.assert_refused(self, early)
        ws = self.websocket(pid, token=BOB)
        self.assertEqual(ws.status, 101)
        try:
            ws.send_text(BridgeOwnerCheckTests.CANCEL)
        except OSError:
            pass  # already closed by the bridge
        BridgeOwnerCheckTests.assert_refused(self, ws)
        self.assertEqual(self.wait_finished(pid)["status"], "completed")

        mine = self.start(batch_data(BIG_BATCH), token=ALICE)
        ws = self.websocket(mine, token=ALICE)
        self.assertEqual(ws.status, 101)
        ws.send_text(BridgeOwnerCheckTests.CANCEL)
        messages = ws.messages_until_close()
        ws.close()
        self.assertIn({"type": "cancel", "success": True}, messages)
        self.assertEqual(self.wait_finished(mine)["status"], "cancelled")


def camel(key):
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def camel_keys(value):
    """ListTemplates' entries as GET /api/templates must give them."""
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    if isinstance(value, dict):
        return {camel(k): camel_keys(v) for k, v in value.items()}
    return value


class TemplateRouteTests(HttpTestCase):

    def test_templates_body(self):
        """GET /api/templates: ListTemplates' entries with camelCase keys."""
        resp = self.request("GET", "/api/templates")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.header("Content-Type").startswith("application/json"), resp)
        body = resp.json
        self.assertEqual(body, camel_keys(self.root.call("ListTemplates")))
        self.assertEqual([t["id"] for t in body], ["classic", "modern"])
        self.assertEqual(set(body[0]), {"id", "title", "description", "widthPt", "heightPt",
                                        "fields"})
        self.assertEqual(body[0]["widthPt"], 842.0)
        self.assertEqual(body[0]["fields"][0],
                         {"name": "recipientName", "label": "Recipient name", "required": True,
                          "type": "string", "minLength": 1, "maxLength": 128, "shared": True})

    def test_templates_auth(self):
        """Like the other /api routes: 401 without credentials (or a wrong token),
        a session cookie does for this GET, other methods 405."""
        self.assertError(self.request("GET", "/api/templates", token=None), 401, "unauthorized")
        self.assertError(self.request("GET", "/api/templates", token="wrong"), 401,
                         "unauthorized")
        resp = self.request("POST", "/api/session")
        cookie = {"Cookie": resp.header("Set-Cookie").split(";")[0]}
        self.assertEqual(self.request("GET", "/api/templates", token=None,
                                      headers=cookie).status, 200)
        for method in ("POST", "DELETE", "PUT"):
            resp = self.request(method, "/api/templates")
            self.assertError(resp, 405, "method_not_allowed", method)
            self.assertEqual(resp.header("Allow"), "GET")
        self.assertError(self.request("GET", "/api/templates/classic"), 404, "not_found")

    def test_template_not_found_lists_ids(self):
        resp = self.request("POST", "/api/certificates",
                            {"templateId": "fancy", "data": recipient_data()})
        body = self.assertError(resp, 400, "template_not_found")
        self.assertEqual(body["message"], "Template 'fancy' not found; available: classic, modern")

    def test_validate_only(self):
        """options.validateOnly: completed with pagesTotal, no result, no
        downloadUrl; the download is 409 not_ready."""
        pid = self.start(batch_data(3), template="modern", validateOnly=True)
        last = self.wait_finished(pid)
        self.assertEqual(last["status"], "completed", last)
        self.assertEqual(last["pagesTotal"], 3)
        self.assertEqual(last["templateId"], "modern")
        self.assertNotIn("result", last)
        self.assertNotIn("downloadUrl", last)
        self.assertError(self.request("GET", f"/api/certificates/{pid}/download"), 409,
                         "not_ready")
        self.assertEqual(os.listdir(self.cert_dir), [])

    def test_validate_only_refused(self):
        """A wrong type, or certgend's own spelling: 400, nothing started."""
        for options in ({"validateOnly": "yes"}, {"validate_only": True}):
            with self.subTest(options=options):
                resp = self.request("POST", "/api/certificates",
                                    {"data": recipient_data(), "options": options})
                self.assertError(resp, 400, "invalid_argument")
        self.assertEqual(self.root.call("ListGenerations"), [])


class PreviewRouteTests(HttpTestCase):
    """POST /api/preview {templateId, data, page} -> image/png (DESIGN.md,
    Wave 2): RenderPreview's PNG as it is; certgend's refusals as JSON."""

    def preview(self, body, token=ALICE, **kwargs):
        return self.request("POST", "/api/preview", body, token=token, **kwargs)

    def test_preview_png(self):
        data = batch_data(2)
        resp = self.preview({"templateId": "modern", "data": data, "page": 2})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "image/png")
        self.assertEqual(resp.header("Cache-Control"), "no-store")
        self.assertIsNone(resp.header("Content-Disposition"))
        self.assertTrue(resp.body.startswith(b"\x89PNG\r\n\x1a\n"), resp)
        self.assertEqual(resp.body, self.root.render_preview(json.dumps(data), "modern", 2))
        # defaults: classic, page 1
        resp = self.preview({"data": recipient_data()})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body, self.root.render_preview(json.dumps(recipient_data())))
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(os.listdir(self.cert_dir), [])

    def test_preview_refused(self):
        """Bad data: 400 invalid_data naming the field; other refusals their
        status; a wrong method 405; CSV 415."""
        resp = self.preview({"data": {"recipients": [recipient_data(), {"courseName": "x"}]}})
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(resp.json["error"], "invalid_data", resp)
        self.assertIn("recipients[1].recipientName: required", resp.json["message"])
        # every problem, split back out of certgend's joined message
        self.assertEqual(resp.json["errors"], [
            {"path": "recipients[1].recipientName", "message": "required"},
            {"path": "recipients[1].issueDate", "message": "required"}], resp.json)
        for body, status, code in (
                ({"data": recipient_data(), "page": 2}, 400, "invalid_argument"),
                ({"data": recipient_data(), "page": 0}, 400, "invalid_argument"),
                ({"data": recipient_data(), "page": 1.5}, 400, "invalid_argument"),
                ({"data": recipient_data(), "page": "1"}, 400, "invalid_argument"),
                ({"data": recipient_data(), "page": 2**32}, 400, "invalid_argument"),
                ({"data": recipient_data(), "options": {}}, 400, "invalid_argument"),
                ({"data": "x"}, 400, "invalid_argument"),
                ({"templateId": "fancy", "data": recipient_data()}, 400,
                 "template_not_found")):
            with self.subTest(body=body):
                self.assertError(self.preview(body), status, code)
        resp = self.preview({"data": recipient_data(), "page": 2})
        self.assertIn("page: 2 is out of range, the data has 1 page", resp.json["message"])
        for method in ("GET", "PUT", "DELETE"):
            resp = self.request(method, "/api/preview")
            self.assertError(resp, 405, "method_not_allowed", method)
            self.assertEqual(resp.header("Allow"), "POST")
        self.assertError(self.request("POST", "/api/preview", raw=b"recipientName\r\nA\r\n",
                                      headers={"Content-Type": "text/csv"}),
                         415, "unsupported_media_type")

    def test_preview_auth(self):
        """The Bearer token is needed (a session cookie is not enough for a POST)."""
        self.assertError(self.preview({"data": recipient_data()}, token=None), 401,
                         "unauthorized")
        self.assertError(self.preview({"data": recipient_data()}, token="wrong"), 401,
                         "unauthorized")
        resp = self.request("POST", "/api/session")
        cookie = {"Cookie": resp.header("Set-Cookie").split(";")[0]}
        self.assertError(self.preview({"data": recipient_data()}, token=None, headers=cookie),
                         401, "unauthorized")

    @bridge_args("--previews-per-minute", "2")
    def test_preview_rate_limited(self):
        """Per web user; refused previews do not count; starts are apart."""
        self.assertError(self.preview({"data": recipient_data(), "page": 9}), 400,
                         "invalid_argument")
        for _ in range(2):
            self.assertEqual(self.preview({"data": recipient_data()}).status, 200)
        resp = self.preview({"data": recipient_data()})
        self.assertError(resp, 429, "rate_limited")
        self.assertTrue(resp.header("Retry-After"), resp)
        self.assertEqual(self.preview({"data": recipient_data()}, token=BOB).status, 200)
        self.start(recipient_data())


class CsvTests(HttpTestCase):
    """POST /api/certificates with Content-Type: text/csv (DESIGN.md, Wave 2):
    the body is the recipients, the query the rest; errors name rows and
    columns, the header being row 1."""

    HEADER = "recipientName,courseName,issueDate\r\n"

    def post_csv(self, csv, query="", token=ALICE, content_type="text/csv"):
        if isinstance(csv, str):
            csv = csv.encode()
        return self.request("POST", "/api/certificates" + (f"?{query}" if query else ""),
                            raw=csv, token=token, headers={"Content-Type": content_type})

    def assert_invalid_data(self, resp, errors):
        """400 invalid_data whose "errors" are exactly @errors [(path, message)]."""
        self.assertEqual(resp.status, 400, resp)
        body = resp.json
        self.assertEqual(set(body), {"error", "message", "errors"}, body)
        self.assertEqual(body["error"], "invalid_data", body)
        self.assertEqual([(e["path"], e["message"]) for e in body["errors"]], errors, body)
        self.assertTrue(body["message"].startswith(f"{errors[0][0]}: {errors[0][1]}"), body)
        return body

    def test_csv_start_and_pdf(self):
        """201 {"progressId"}; the generation runs with the query's template and
        transaction and the set. fields; the PDF has a page per row, each name."""
        csv = ("\ufeffrecipientName,issuer\r\n"
               '"Ada, Countess of Lovelace",Analytical Society\r\n'
               '"Alan ""Prof"" Turing",\r\n'
               "Grace Hopper,Navy\r\n")
        resp = self.post_csv(csv, "templateId=classic&transactionId=tx-csv"
                             "&set.courseName=CSV+Imports+%26+More&set.issueDate=2024-05-17")
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(set(resp.json), {"progressId"})
        pid = resp.json["progressId"]
        last = self.wait_finished(pid)
        self.assertEqual(last["status"], "completed", last)
        self.assertEqual(last["transactionId"], "tx-csv")
        self.assertEqual(last["result"]["pages"], 3)
        pdf = self.request("GET", f"/api/certificates/{pid}/download")
        self.assertEqual(pdf.status, 200, pdf)
        text = pdf_text(pdf.body)
        for name in ("Ada, Countess of Lovelace", 'Alan "Prof" Turing', "Grace Hopper",
                     "CSV Imports & More"):
            self.assertIn(name, text)

    def test_csv_problems_named_by_row(self):
        """The CSV's own problems: 400 invalid_data listing every one by row and
        column; nothing is started, and the rate limit is not used up."""
        csv = (self.HEADER + "Ada,C,2024-05-17\r\n" + "Bob,C\r\n").encode() + \
            b"Caf\xe9,C,2024-05-17\r\n"
        self.assert_invalid_data(self.post_csv(csv), [
            ("row 3", "expected 3 columns, found 2"),
            ("row 4, column recipientName", "invalid UTF-8")])
        self.assert_invalid_data(self.post_csv("a,a\n1,2\n"), [
            ("row 1, column 2", "a named twice (also column 1)")])
        self.assert_invalid_data(self.post_csv(self.HEADER + '"Ada,C,2024-05-17\r\n'), [
            ("row 2, column recipientName",
             "a quoted field is not closed by the end of the text")])
        self.assert_invalid_data(self.post_csv(""), [
            ("row 1", "no header row (the CSV is empty; the first row names the fields)")])
        self.assert_invalid_data(self.post_csv("recipientName\nAda\n",
                                               "set.recipientName=Eve"), [
            ("set.recipientName", "also a column of the CSV (column 1)")])
        self.assertEqual(self.root.call("ListGenerations"), [])
        # refused before anything was created: none of the five counted in
        # the limit of 5 generation requests a minute
        resp = self.post_csv(self.HEADER + "Ada,C,2024-05-17\r\n")
        self.assertEqual(resp.status, 201, resp)

    @bridge_args("--generations-per-minute", "1000")
    def test_csv_service_errors_named_by_row(self):
        """certgend's InvalidData of a CSV generation comes back in the CSV's
        words on SSE and WebSocket: recipient 1 is row 3, a set. field by its
        parameter; another user cannot see the generation (404)."""
        csv = self.HEADER + "Ada,C,2024-05-17\r\n" + ",No Name,2024-05-17\r\n"
        resp = self.post_csv(csv)
        self.assertEqual(resp.status, 201, resp)
        pid = resp.json["progressId"]
        last = self.wait_finished(pid)
        self.assertEqual(last["status"], "failed", last)
        self.assertEqual(last["error"], "invalid_data")
        self.assertEqual(last["errorMessage"], "row 3, column recipientName: required")
        self.assertEqual(last["message"], "row 3, column recipientName: required")
        self.assertEqual(last["errors"], [{"path": "row 3, column recipientName",
                                           "message": "required"}])
        ws = self.websocket(pid)
        messages = ws.messages_until_close()
        ws.close()
        self.assertIn("row 3, column recipientName: required",
                      [m.get("errorMessage") for m in messages], messages)
        self.assertEqual(self.sse(pid, token=BOB).status, 404)

        resp = self.post_csv("recipientName\nAda\n",
                             "set.courseName=C&set.issueDate=2024-02-31")
        self.assertEqual(resp.status, 201, resp)
        last = self.wait_finished(resp.json["progressId"])
        self.assertTrue(last["errorMessage"].startswith("set.issueDate: not a real date"),
                        last)

        # the same data as JSON keeps certgend's paths
        pid = self.start({"recipients": [{"recipientName": "A"}, {}], "courseName": "C",
                          "issueDate": "2024-05-17"})
        self.assertEqual(self.wait_finished(pid)["errorMessage"],
                         "recipients[1].recipientName: required")

    def test_csv_service_every_error(self):
        """Every problem of a CSV generation, each named by row and column."""
        csv = (self.HEADER + "Ada,C,2024-02-30\r\n" + "Bob,C,2024-05-17\r\n" +
               ",C,2024-13-01\r\n")
        resp = self.post_csv(csv)
        self.assertEqual(resp.status, 201, resp)
        last = self.wait_finished(resp.json["progressId"])
        self.assertEqual(last["status"], "failed", last)
        self.assertEqual([e["path"] for e in last["errors"]], [
            "row 2, column issueDate", "row 4, column issueDate", "row 4, column recipientName"])
        self.assertEqual(last["errorMessage"],
                         "; ".join(f"{e['path']}: {e['message']}" for e in last["errors"]))

    @bridge_args("--generations-per-minute", "1000")
    def test_csv_query(self):
        """The query is strict: an unknown or repeated parameter is 400
        invalid_argument naming it, and so is a bad value; persist and
        outputFormat=pdf are taken."""
        csv = self.HEADER + "Ada,C,2024-05-17\r\n"
        cases = [
            ("data=x", "unknown query parameter 'data'"),
            ("templateid=classic", "unknown query parameter 'templateid'"),
            ("transactionId=a&transactionId=b", "query parameter 'transactionId' given twice"),
            ("set.issuer=a&set.issuer=b", "query parameter 'set.issuer' given twice"),
            ("set.bad%20name=x", "'set.bad name': not a shared field"),
            ("set.recipients=x", "'set.recipients': not a shared field"),
            ("set.=x", "'set.': not a shared field"),
            ("outputFormat=tiff", "outputFormat: expected pdf or zip"),
            ("persist=maybe", "persist: expected true or false"),
            ("set.issuer=%ff", "query: "),
            ("set.issuer=a%00b", "query: "),
            ("transactionId=", "transactionId: must be 1"),
            ("%1b%5b31m=1", "unknown query parameter '\\033[31m'"),
        ]
        for query, message in cases:
            with self.subTest(query=query):
                body = self.assertError(self.post_csv(csv, query), 400, "invalid_argument")
                self.assertIn(message, body["message"])
        self.assertEqual(self.root.call("ListGenerations"), [])
        resp = self.post_csv(csv, "persist=true&outputFormat=pdf&transactionId=tx-p")
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(self.wait_finished(resp.json["progressId"])["status"], "completed")

    @bridge_args("--max-body-bytes", "65536")
    def test_csv_too_large_and_content_types(self):
        """The body limit holds for CSV (413); a text/csv that is not UTF-8 and
        other types are 415."""
        big = self.HEADER + "".join(f"Person {i},C,2024-05-17\r\n" for i in range(4000))
        self.assertGreater(len(big), 65536)
        self.assertError(self.post_csv(big), 413, "payload_too_large")
        small = self.HEADER + "Ada,C,2024-05-17\r\n"
        body = self.assertError(self.post_csv(small, content_type="text/csv; charset=latin-1"),
                                415, "unsupported_media_type")
        self.assertIn("UTF-8", body["message"])
        body = self.assertError(self.post_csv(small, content_type="text/plain"), 415,
                                "unsupported_media_type")
        self.assertIn("text/csv", body["message"])
        self.assertEqual(self.root.call("ListGenerations"), [])
        resp = self.post_csv(small, content_type="Text/CSV; charset=UTF-8")
        self.assertEqual(resp.status, 201, resp)


if __name__ == "__main__":
    main()

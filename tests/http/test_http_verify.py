#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http verification and revocation (DESIGN.md, Wave 2):
GET /verify/{number}?c={code} (public, HTML or JSON, the same 404 for
unknown, wrong and malformed, a per-address rate limit) and POST
/api/certificates/{number}/revoke (the owning web user only), against
certgend on a private bus. Each case is its own meson test (suite 'http')."""

import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.bridge import ALICE, BOB, HttpTestCase, bridge_args  # noqa: E402
from certgen_test.testbus import main  # noqa: E402

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODE = "abcdefghijklmnopqrstuvwxyz"
JSON = {"Accept": "application/json"}


def certgend_has_verify():
    """Whether the certgend under test implements Verify (its contract)."""
    path = os.path.join(SOURCE_ROOT, "introspection", "org.certgen.Certificates1.xml")
    with open(path, encoding="utf-8") as f:
        return 'name="Verify"' in f.read()


class VerifyInputTests(HttpTestCase):

    def not_found_pair(self, path):
        html = self.request("GET", path, token=None)
        json_resp = self.request("GET", path, token=None, headers=JSON)
        return html, json_resp

    def test_hostile_inputs_get_the_same_404(self):
        """Path-like numbers, short, long, escaped or invalid UTF-8 codes: the same
        404 page (HTML and JSON), no token needed, nothing else said."""
        reference_html, reference_json = self.not_found_pair("/verify/NOPE1?c=short")
        self.assertEqual(reference_html.status, 404, reference_html)
        self.assertTrue(reference_html.header("Content-Type").startswith("text/html"))
        self.assertIn(b'id="status"', reference_html.body)
        self.assertError(reference_json, 404, "not_found")
        # libsoup answers these itself (400 for an encoded '/', "../" resolved
        # away from /verify/): never a record
        for path in ("/verify/..%2F..%2Fetc%2Fpasswd?c=" + CODE,
                     "/verify/../etc/passwd?c=" + CODE):
            with self.subTest(path=path):
                resp = self.request("GET", path, token=None, headers=JSON)
                self.assertIn(resp.status, (400, 404), resp)
        for path in ("/verify/CERT1/x?c=" + CODE,
                     "/verify/CERT1?c=" + "a" * 129,
                     "/verify/" + "1" * 65 + "?c=" + CODE,
                     "/verify/CERT1?c=%C3%28" + CODE,
                     "/verify/CERT%FF1?c=" + CODE,
                     "/verify/CERT1?c=" + CODE + "&c=" + CODE,
                     "/verify/CERT1?c=" + CODE + "%00",
                     "/verify/CERT1",
                     "/verify/?c=" + CODE,
                     "/verify/CERT1?x=" + CODE):
            with self.subTest(path=path):
                html, json_resp = self.not_found_pair(path)
                self.assertEqual(html.status, 404, html)
                self.assertEqual(html.body, reference_html.body, path)
                self.assertEqual(json_resp.status, 404, json_resp)
                self.assertEqual(json_resp.json, reference_json.json, path)

    def test_methods(self):
        """Only GET and HEAD."""
        resp = self.request("POST", "/verify/CERT1?c=" + CODE, token=None, raw=b"x")
        self.assertEqual(resp.status, 405, resp)

    @bridge_args("--verifications-per-minute", "3")
    def test_rate_limit_per_address(self):
        """Every attempt counts; beyond the limit 429 with Retry-After, HTML or JSON."""
        for _ in range(3):
            self.assertEqual(self.request("GET", "/verify/CERT1?c=x", token=None).status, 404)
        resp = self.request("GET", "/verify/CERT1?c=x", token=None)
        self.assertEqual(resp.status, 429, resp)
        self.assertGreaterEqual(int(resp.header("Retry-After")), 1)
        self.assertTrue(resp.header("Content-Type").startswith("text/html"))
        body = self.assertError(self.request("GET", "/verify/CERT1?c=x", token=None,
                                             headers=JSON), 429, "rate_limited")
        self.assertIn("per minute", body["message"])

    def test_revoke_checks(self):
        """Revoke: a token, POST, a valid number and {"reason"} only."""
        path = "/api/certificates/CERT2026000001/revoke"
        self.assertError(self.request("POST", path, {"reason": "x"}, token=None), 401,
                         "unauthorized")
        self.assertEqual(self.request("GET", path).status, 405)
        self.assertError(self.request("POST", path, raw=b"{", headers={
            "Content-Type": "application/json"}), 400, "bad_request")
        for body in ({}, {"reason": 3}, {"reason": ""}, {"reason": "x", "more": 1},
                     {"reason": "x" * 1025}):
            with self.subTest(body=body):
                self.assertError(self.request("POST", path, body), 400, "invalid_argument")
        for number in ("..", "CERT%2F1", "a" * 65):
            with self.subTest(number=number):
                self.assertError(self.request("POST", f"/api/certificates/{number}/revoke",
                                              {"reason": "x"}), 404, "not_found")
        # a number no generation of the web user issued
        self.assertError(self.request("POST", path, {"reason": "x"}), 404, "not_found")


class VerifyFlowTests(HttpTestCase):

    def setUp(self):
        if not certgend_has_verify():
            self.skipTest("certgend has no Verify yet (registry not merged)")
        super().setUp()

    def issued(self):
        pid = self.start()
        final = self.wait_finished(pid)
        url = final["result"]["verificationUrl"]
        parts = urllib.parse.urlsplit(url)
        number = parts.path.rsplit("/", 1)[1]
        code = urllib.parse.parse_qs(parts.query)["c"][0]
        return number, code

    def test_verify_revoke_flow(self):
        """Valid (JSON and HTML); wrong code like unknown; bob may not revoke;
        alice may; then the page shows revoked with the reason escaped."""
        number, code = self.issued()
        resp = self.request("GET", f"/verify/{number}?c={code}", token=None, headers=JSON)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(set(resp.json), {"certificateNumber", "status", "issuedAt",
                                          "revokedAt", "revocationReason", "templateId",
                                          "fields", "dataSha256", "fileSha256"})
        self.assertEqual(resp.json["status"], "valid")
        self.assertEqual(resp.json["certificateNumber"], number)
        self.assertIsNone(resp.json["revokedAt"])
        page = self.request("GET", f"/verify/{number}?c={code}", token=None)
        self.assertEqual(page.status, 200, page)
        self.assertIn(b"Valid certificate", page.body)
        wrong = self.request("GET", f"/verify/{number}?c={'b' * len(code)}", token=None)
        unknown = self.request("GET", f"/verify/CERT1999000001?c={code}", token=None)
        self.assertEqual(wrong.status, 404)
        self.assertEqual(wrong.body, unknown.body)
        malformed = self.request("GET", f"/verify/{number}?c=x", token=None)
        self.assertEqual(malformed.status, 404)
        self.assertEqual(malformed.body, unknown.body)
        wrong_json = self.request("GET", f"/verify/{number}?c={'b' * len(code)}", token=None,
                                  headers=JSON)
        self.assertEqual(wrong_json.json, self.request(
            "GET", f"/verify/{number}?c=x", token=None, headers=JSON).json)
        path = f"/api/certificates/{number}/revoke"
        self.assertError(self.request("POST", path, {"reason": "x"}, token=BOB), 404,
                         "not_found")
        resp = self.request("POST", path, {"reason": "<b>issued in error</b>"}, token=ALICE)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, {"success": True})
        self.assertError(self.request("POST", path, {"reason": "again"}), 409,
                         "already_revoked")
        page = self.request("GET", f"/verify/{number}?c={code}", token=None)
        self.assertIn(b"Revoked", page.body)
        self.assertIn(b"&lt;b&gt;issued in error&lt;/b&gt;", page.body)
        self.assertNotIn(b"<b>issued", page.body)
        resp = self.request("GET", f"/verify/{number}?c={code}", token=None, headers=JSON)
        self.assertEqual(resp.json["status"], "revoked")
        self.assertEqual(resp.json["revocationReason"], "<b>issued in error</b>")


if __name__ == "__main__":
    main()

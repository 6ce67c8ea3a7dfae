#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http GET /metrics: the Prometheus text format (parsed with
prometheus_client's own parser), the values moving with streams, events,
rate limits, reconnects and certgend's statistics, and who may scrape."""

import http.client
import socket
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover
    print("python3-prometheus-client is missing (tests/scripts/deps.sh)")
    sys.exit(77)

from certgen_test.bridge import HttpTestCase, bridge_args, no_bridge  # noqa: E402
from certgen_test.testbus import main, timeout, wait_until  # noqa: E402

METRICS_TOKEN = "metrics-secret-0123456789"


def non_loopback_address():
    """An IPv4 address of this machine that is not loopback, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return None
    for addr in out.split():
        if ":" not in addr and not addr.startswith("127."):
            try:
                with socket.socket() as s:
                    s.bind((addr, 0))
            except OSError:
                continue
            return addr
    return None


class MetricsTests(HttpTestCase):

    def scrape(self, host="127.0.0.1", headers=None):
        conn = http.client.HTTPConnection(host, self.port, timeout=timeout(30))
        try:
            conn.request("GET", "/metrics", headers=headers or {})
            resp = conn.getresponse()
            return resp, resp.read()
        finally:
            conn.close()

    def families(self, **kwargs):
        resp, body = self.scrape(**kwargs)
        self.assertEqual(resp.status, 200, body)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        return {f.name: f for f in text_string_to_metric_families(body.decode())}

    @staticmethod
    def value(family, name=None, **labels):
        for s in family.samples:
            if (name is None or s.name == name) and all(
                    s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        return None

    def test_metrics_after_sse(self):
        """A generation followed over SSE moves the streams, events, latency and
        finished counters; certgend's statistics come as a gauge and a summary."""
        before = self.families()
        self.assertEqual(self.value(before["certgen_http_streams_open"]), 0)
        self.assertEqual(self.value(before["certgen_http_events_delivered"]), 0)
        pid = self.start(transaction="tx-metrics")
        stream = self.sse(pid)
        events = stream.events_until_terminal()
        stream.close()
        self.assertTrue(events)
        fams = {}

        def settled():
            fams.update(self.families())
            return self.value(fams["certgen_http_streams_open"]) == 0
        wait_until(settled, 10, "the stream counted as closed")
        self.assertEqual(self.value(fams["certgen_http_streams_opened"]), 1)
        self.assertGreaterEqual(self.value(fams["certgen_http_events_delivered"]), len(events))
        latency = fams["certgen_http_event_delivery_latency_seconds"]
        self.assertEqual(latency.type, "histogram")
        self.assertGreaterEqual(
            self.value(latency, "certgen_http_event_delivery_latency_seconds_count"),
            len(events))
        self.assertEqual(self.value(latency, le="+Inf"), self.value(
            latency, "certgen_http_event_delivery_latency_seconds_count"))
        self.assertEqual(self.value(fams["certgen_http_generations_finished"],
                                    status="completed"), 1)
        self.assertEqual(self.value(fams["certgen_service_generations"], status="completed"), 1)
        stages = fams["certgen_service_stage_duration_seconds"]
        self.assertEqual(stages.type, "summary")
        quantiles = {(s.labels["template"], s.labels["quantile"]) for s in stages.samples}
        self.assertIn(("classic", "0.5"), quantiles)
        self.assertIn(("classic", "0.95"), quantiles)
        self.assertTrue(all("stage" in s.labels for s in stages.samples))

    @bridge_args("--generations-per-minute", "1")
    def test_metrics_rate_limit_counted(self):
        """A request refused by a rate limit counts under its route."""
        self.start(transaction="tx-rl-1")
        resp = self.request("POST", "/api/certificates",
                            {"transactionId": "tx-rl-2", "data": {}})
        self.assertEqual(resp.status, 429, resp)
        fams = self.families()
        samples = fams["certgen_http_rate_limited"].samples
        self.assertEqual(sum(s.value for s in samples), 1, samples)

    def test_metrics_reconnect_counted(self):
        """certgend restarting counts as a reconnect; while it is away the bridge still
        answers 200 with its own families and without certgend's."""
        fams = self.families()
        self.assertEqual(self.value(fams["certgen_http_dbus_reconnects"]), 0)
        self.stop_daemon()
        wait_until(lambda: "left the bus" in self.bridge_log_text(), 20, "certgend gone")
        fams = self.families()
        self.assertIn("certgen_http_streams_open", fams)
        self.assertNotIn("certgen_service_generations", fams)
        self.start_daemon()
        wait_until(lambda: self.bridge_log_text().count("certgend is :") >= 2, 20,
                   "certgend back")
        fams = self.families()
        self.assertEqual(self.value(fams["certgen_http_dbus_reconnects"]), 1)

    @bridge_args("--metrics-token", METRICS_TOKEN)
    def test_metrics_token_required(self):
        """With --metrics-token: 401 without or with a wrong token, even from loopback."""
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
                        {"Authorization": METRICS_TOKEN}):
            resp, body = self.scrape(headers=headers)
            self.assertEqual(resp.status, 401, (headers, body))
            self.assertIn(b'"unauthorized"', body)
        fams = self.families(headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        self.assertIn("certgen_http_streams_open", fams)
        self.assertNotIn(METRICS_TOKEN, self.bridge_log_text())

    @no_bridge
    def test_metrics_token_checked_at_start(self):
        """An empty or non-printable --metrics-token stops the bridge at start."""
        for token in ("", "with space", "tab\there"):
            with self.subTest(token=token):
                with self.assertRaises(AssertionError):
                    self.start_bridge(["--metrics-token", token])
                self.assertIn("--metrics-token", self.bridge_log_text())
                self.bridge = None

    @no_bridge
    def test_metrics_non_loopback_refused(self):
        """Without a token a peer that is not loopback gets 403."""
        addr = non_loopback_address()
        if addr is None:
            self.skipTest("this machine has no non-loopback IPv4 address to bind")
        self.start_bridge(host=addr)
        resp, body = self.scrape(host=addr)
        self.assertEqual(resp.status, 403, body)
        self.assertIn(b'"forbidden"', body)
        resp, body = self.scrape(host=addr,
                                 headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        self.assertEqual(resp.status, 403, body)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen-http over a certgend restart (issue 14 item 6): a web user's
persistent result is listed and downloadable after certgend restarted, for
that web user only; one not asked to persist is gone. Each case is its own
meson test (suite 'http')."""

import hashlib
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.bridge import ALICE, BOB, HttpTestCase, batch_data  # noqa: E402
from certgen_test.testbus import main, wait_until  # noqa: E402


class PersistenceOverRestartTests(HttpTestCase):

    def restart_certgend(self):
        before = self.bridge_log_text().count("certgend is :")
        self.stop_daemon()
        self.start_daemon()
        wait_until(lambda: self.bridge_log_text().count("certgend is :") > before, 20,
                   "the bridge to find certgend again")

    def listed(self, token=ALICE):
        resp = self.request("GET", "/api/certificates", token=token)
        self.assertEqual(resp.status, 200, resp)
        return {g["progressId"]: g for g in resp.json}

    def test_persistent_result_after_restart(self):
        kept = self.start(batch_data(2), transaction="tx-kept", enablePersistence=True)
        last = self.wait_finished(kept)
        self.assertEqual(last["status"], "completed", last)
        gone = self.start(transaction="tx-gone")
        self.assertEqual(self.wait_finished(gone)["status"], "completed")
        before = self.listed()[kept]
        download = self.request("GET", f"/api/certificates/{kept}/download")
        self.assertEqual(download.status, 200, download)

        self.restart_certgend()
        listed = self.listed()
        self.assertNotIn(gone, listed)
        self.assertEqual(listed[kept], before)
        again = self.request("GET", f"/api/certificates/{kept}/download")
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, download.body)
        self.assertEqual(hashlib.sha256(again.body).hexdigest(), last["result"]["checksum"])
        # its stream ends at once with the terminal event
        self.assertEqual(self.wait_finished(kept)["status"], "completed")
        # another web user: as unknown as an id that never existed
        self.assertNotIn(kept, self.listed(token=BOB))
        for path in (f"/api/certificates/{kept}/download",
                     f"/api/certificates/progress/{kept}/analytics"):
            resp = self.request("GET", path, token=BOB)
            self.assertError(resp, 404, "not_found", path)
        self.assertError(self.request("GET", f"/api/certificates/{gone}/download"), 404,
                         "not_found")


if __name__ == "__main__":
    main()

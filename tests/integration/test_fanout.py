#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests of ProgressChanged fan-out under backpressure
(service/cg-manager.c: one message per update, a copy per receiver, sends
paced by GetId round trips to the bus daemon): a subscriber that stops
reading holds nobody back, and still gets every update up to the terminal
one once it reads again; a connection of another uid gets nothing however
fast certgend sends."""

import os
import signal
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (TERMINAL, TEST_USERS, CertgenTestCase, batch_json,  # noqa: E402
                                  main, multi_uid)

READERS = 3
PAGES = 600


class FanoutTests(CertgenTestCase):

    def test_stalled_subscriber_holds_nobody_back(self):
        """A subscriber process stopped with SIGSTOP (its socket unread: the
        bus daemon queues for it) while updates go out as fast as pages
        render (update_interval_ms=0): the starter and three reading
        subscribers get the terminal update, last, with consecutive
        sequences from their first; once the stopped one reads again it
        has every update from its first to the terminal one, no gap."""
        pid = self.root.start(batch_json(PAGES), update_interval_ms=0)
        stalled = self.spawn_client()
        reply = stalled.call("Subscribe", pid)
        self.assertTrue(reply["ok"], reply)
        readers = [self.new_client() for _ in range(READERS)]
        for reader in readers:
            reader.call("Subscribe", pid)
        os.kill(stalled.proc.pid, signal.SIGSTOP)
        try:
            self.root.wait_terminal(pid, 120)
            for reader in readers:
                try:
                    reader.wait_terminal(pid, 30)
                except AssertionError as e:
                    got = [[u["sequence"] for u in r.updates.get(pid, [])[-3:]] for r in readers]
                    raise AssertionError(f"{e}; the starter's last sequence "
                                         f"{self.root.updates[pid][-1]['sequence']}, "
                                         f"the readers' last ones {got}") from None
        finally:
            os.kill(stalled.proc.pid, signal.SIGCONT)
        self.assertEqual(self.root.updates[pid][-1]["status"], "completed")
        for client in [self.root] + readers:
            self.assert_terminal_last(client, pid)
            self.assert_sequence_consecutive(client.updates[pid])
            self.assertEqual(client.updates[pid][-1], self.root.updates[pid][-1])
        # more than a handful went out while it was stopped: the stall was real
        self.assertGreater(len(readers[0].updates[pid]), 20)

        self.assertTrue(stalled.wait_signal(id=pid, status=list(TERMINAL), seconds=30),
                        "the stopped subscriber never got the terminal update")
        got = stalled.updates(pid)
        self.assertEqual(got[-1]["sequence"], self.root.updates[pid][-1]["sequence"])
        self.assertEqual(got[-1]["status"], "completed")
        self.assertEqual([u["sequence"] for u in got],
                         list(range(got[0]["sequence"], got[0]["sequence"] + len(got))),
                         "the stopped subscriber's updates have a gap")

    @multi_uid
    def test_other_uid_gets_no_copy(self):
        """Negative: while certgend sends copies as fast as the bus takes
        them to the owner's subscribers, a connection of another uid that
        asks to Subscribe gets NotFound and no ProgressChanged at all."""
        owner, other = (self.spawn_client(user) for user in TEST_USERS)
        started = owner.start(batch_json(PAGES), update_interval_ms=0)
        self.assertTrue(started["ok"], started)
        pid = started["value"]
        refused = other.call("Subscribe", pid)
        self.assertClientError(refused, "NotFound", "Subscribe to another uid's generation")
        reader = self.new_client()  # root: an administrator may follow it
        reader.call("Subscribe", pid)
        self.assertTrue(owner.wait_signal(id=pid, status=list(TERMINAL), seconds=120))
        reader.wait_terminal(pid, 30)
        self.assertGreater(len(owner.updates(pid)), 20)
        other.request("info")  # a round trip: anything sent to it has arrived
        self.assertEqual(other.signals(), [], "another uid got a ProgressChanged")


if __name__ == "__main__":
    main()

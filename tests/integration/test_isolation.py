#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgend integration tests with several Unix users: caller scoping
(another uid gets NotFound, overhears nothing), same-user subscribers, the
bus policy, and authorization with and without polkit (dbusmock polkitd).

Clients run as certgen-test1 / certgen-test2 through setpriv; these cases
are skipped (exit 77) when the suite does not run as root or setpriv is
missing."""

import pwd
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (ACTION_DELEGATE, ACTION_GENERATE, ACTION_MANAGE_ALL, BUS_NAME,
                        MANAGER_IFACE, OBJECT_PATH, TERMINAL, TEST_USERS, CertgenTestCase,
                        batch_json, daemon_config, main, multi_uid, random_id, single_json,
                        with_polkit)

U1, U2 = TEST_USERS
MATCH_RULE = "type='signal',interface='org.certgen.Certificates1.Manager'"
ID_METHODS = ("GetProgress", "GetAnalytics", "Cancel", "Subscribe", "Unsubscribe",
              "OpenCertificate")


class IsolationTests(CertgenTestCase):

    def connect_as(self, *users):
        out = []
        for user in users:
            c = self.spawn_client(user)
            self.assertEqual(c.uid, pwd.getpwnam(user).pw_uid, "setpriv did not switch uid")
            out.append(c)
        return out

    def assert_ok(self, reply, what=""):
        self.assertTrue(reply["ok"], f"{what}: {reply}")
        return reply.get("value")

    def assert_invisible(self, client, pid):
        """Every method answers NotFound for pid, exactly as for an unknown id,
        and ListGenerations does not show it."""
        unknown = random_id()
        for method in ID_METHODS:
            theirs = client.call(method, pid)
            self.assertClientError(theirs, "NotFound", f"{method} on another uid's generation")
            never = client.call(method, unknown)
            self.assertClientError(never, "NotFound", f"{method} on an unknown id")
            self.assertEqual(theirs["message"].replace(pid, "<id>"),
                             never["message"].replace(unknown, "<id>"),
                             f"{method}: the answer must not tell the two apart")
        listed = self.assert_ok(client.call("ListGenerations"))
        self.assertNotIn(pid, [s["progress_id"] for s in listed])

    @multi_uid
    def test_other_uid_sees_nothing(self):
        """A second uid gets NotFound on every method for the first uid's
        generation, cannot cancel it, and overhears no ProgressChanged even
        with match rules (plain and eavesdrop='true') while the owner does
        receive them."""
        u1, u2 = self.connect_as(U1, U2)
        self.assert_ok(u2.request("add_match", rule=MATCH_RULE), "AddMatch")
        eaves = u2.request("add_match", rule=MATCH_RULE + ",eavesdrop='true'")
        if not eaves["ok"]:
            self.assertEqual(eaves["error"], "org.freedesktop.DBus.Error.AccessDenied", eaves)
        pid = self.assert_ok(u1.start(batch_json(300), update_interval_ms=50), "start")
        self.assertTrue(u1.wait_signal(id=pid, stage="pdf_generation"))

        self.assert_invisible(u2, pid)                  # while it runs
        self.assertEqual(self.assert_ok(u2.call("Cleanup")), 0)
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL), seconds=60))
        self.assert_invisible(u2, pid)                  # and when finished
        self.assertEqual(self.assert_ok(u2.call("Cleanup")), 0)

        updates = u1.updates(pid)
        self.assertGreater(len(updates), 5)
        self.assertEqual(updates[-1]["status"], "completed", "another uid's Cancel had an effect")
        self.assertEqual([u["sequence"] for u in updates],
                         list(range(updates[0]["sequence"],
                                    updates[0]["sequence"] + len(updates))))
        senders = {s["sender"] for s in u1.signals()}
        self.assertEqual(senders, {self.daemon_name})
        self.assertTrue(all(s["destination"] == u1.unique_name for s in u1.signals()),
                        "ProgressChanged must be unicast to the starter")
        u2.request("info")  # round trip
        self.assertEqual(u2.signals(), [], "another uid overheard ProgressChanged")

        # the owner still has it all
        snap = self.assert_ok(u1.call("GetProgress", pid))
        self.assertEqual(snap["sequence"], updates[-1]["sequence"])
        fetched = self.assert_ok(u1.call("OpenCertificate", pid))
        self.assertEqual(fetched["head"], "%PDF-")
        self.assertEqual(fetched["sha256"], updates[-1]["result"]["checksum"])
        self.assertEqual(self.root.progress(pid)["status"], "completed")

    @multi_uid
    def test_same_user_subscriber(self):
        """Another connection of the same uid receives updates after Subscribe
        and none after Unsubscribe; another uid cannot subscribe."""
        u1a, u1b, u2 = self.connect_as(U1, U1, U2)
        pid = self.assert_ok(u1a.start(batch_json(2000), update_interval_ms=50), "start")
        self.assertTrue(u1a.wait_signal(id=pid, stage="pdf_generation"))
        self.assertClientError(u2.call("Subscribe", pid), "NotFound")
        self.assertEqual(u1b.signals(), [])
        self.assert_ok(u1b.call("Subscribe", pid), "Subscribe")
        self.assertTrue(u1b.wait_signal(id=pid, count=3), "no updates after Subscribe")
        reply = u1b.call("Unsubscribe", pid)
        self.assert_ok(reply, "Unsubscribe")
        count_at_unsubscribe = reply["signal_count"]
        self.assert_ok(u1a.call("Cancel", pid), "Cancel")
        self.assertTrue(u1a.wait_signal(id=pid, status=["cancelled"], seconds=15))
        self.assert_ok(u1b.call("GetProgress", pid))  # round trip after the end
        got = u1b.signals()
        self.assertEqual(len(got), count_at_unsubscribe, "updates after Unsubscribe")
        seqs = [s["args"][1]["sequence"] for s in got]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
        self.assertTrue(all(s["args"][0] == pid and s["sender"] == self.daemon_name for s in got))
        self.assertEqual(u2.signals(), [])

    @multi_uid
    def test_fallback_without_polkit(self):
        """No polkit on the bus: every uid may generate; only uid 0 manages all
        and may delegate (owner_label)."""
        u1, u2 = self.connect_as(U1, U2)
        pid = self.assert_ok(u1.start(single_json()), "user start")
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL)))
        self.assertEqual(u1.updates(pid)[-1]["status"], "completed")
        self.assertClientError(u1.start(single_json(), owner_label="web-mallory"),
                               "PermissionDenied", "owner_label without delegation")
        root_pid = self.root.start(single_json(), owner_label="web-alice")
        final = self.root.wait_terminal(root_pid)
        self.assertEqual(final["status"], "completed")
        self.assertEqual(self.root.progress(root_pid)["owner_label"], "web-alice")
        # root sees everybody's; users only their own
        self.assertEqual(self.root.progress(pid)["status"], "completed")
        self.assertEqual([s["progress_id"] for s in self.root.call("ListGenerations")],
                         [pid, root_pid])
        self.assertEqual([s["progress_id"] for s in
                          self.assert_ok(u1.call("ListGenerations"))], [pid])
        self.assertClientError(u1.call("GetProgress", root_pid), "NotFound")
        self.assert_invisible(u2, pid)
        self.assertEqual(self.assert_ok(u2.call("ListGenerations")), [])
        # Cleanup: users forget their own finished ones, uid 0 everybody's
        self.assertEqual(self.assert_ok(u2.call("Cleanup")), 0)
        self.assertEqual(self.assert_ok(u1.call("Cleanup")), 1)
        self.assertEqual([s["progress_id"] for s in self.root.call("ListGenerations")],
                         [root_pid])
        pid2 = self.assert_ok(u1.start(single_json()), "user start")
        self.assertTrue(u1.wait_signal(id=pid2, status=list(TERMINAL)))
        self.assertEqual(self.root.call("Cleanup"), 2)
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(self.cert_dir_entries(), [])

    @multi_uid
    @daemon_config(limits={"start_per_minute": 1, "max_active_per_owner": 100})
    def test_rate_limit_per_owner(self):
        """The rate limit is per owner: a uid, or a web user (owner_label) of a
        delegate. One owner being limited does not limit the others."""
        u1, u2 = self.connect_as(U1, U2)
        self.assert_ok(u1.start(single_json()), "u1 first")
        self.assertClientError(u1.start(single_json()), "RateLimited", "u1 second")
        self.assert_ok(u2.start(single_json()), "u2 first")
        self.assertClientError(u2.start(single_json()), "RateLimited", "u2 second")
        self.root.start(single_json())
        self.assertDBusError("RateLimited", self.root.start, single_json())
        self.root.start(single_json(), owner_label="web-a")
        self.assertDBusError("RateLimited", self.root.start, single_json(), owner_label="web-a")
        self.root.start(single_json(), owner_label="web-b")
        self.assertEqual(len(self.root.call("ListGenerations")), 5)

    @multi_uid
    def test_bus_policy(self):
        """The installed policy: users may call Manager, Properties,
        Introspectable, Peer on certgend, may not own its name, and the bus
        refuses other interfaces."""
        (u1,) = self.connect_as(U1)
        reply = u1.request("request_name", name=BUS_NAME)
        self.assertClientError(reply, "org.freedesktop.DBus.Error.AccessDenied", "RequestName")
        reply = u1.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                           interface="org.freedesktop.DBus.Properties", method="Get",
                           signature="(ss)", args=[MANAGER_IFACE, "Version"])
        self.assertTrue(reply["ok"], reply)
        reply = u1.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                           interface="org.freedesktop.DBus.Introspectable", method="Introspect")
        self.assertTrue(reply["ok"], reply)
        self.assertIn(MANAGER_IFACE, reply["value"][0])
        reply = u1.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                           interface="org.freedesktop.DBus.Peer", method="Ping")
        self.assertTrue(reply["ok"], reply)
        reply = u1.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                           interface="org.certgen.Certificates1.Debug", method="Anything")
        self.assertClientError(reply, "org.freedesktop.DBus.Error.AccessDenied", "other interface")
        self.assertTrue(re.search(r"org\.certgen\.Certificates1", reply["message"]), reply)

    @multi_uid
    @with_polkit()
    def test_polkit_generate(self):
        """With polkit: a user needs org.certgen.Certificates1.generate;
        uid 0 is always allowed."""
        (u1,) = self.connect_as(U1)
        self.assertClientError(u1.start(single_json()), "PermissionDenied", "generate denied")
        self.assertEqual(self.root.call("ListGenerations"), [])
        root_pid = self.root.start(single_json())
        self.assertEqual(self.root.wait_terminal(root_pid)["status"], "completed")
        self.set_polkit_allowed([ACTION_GENERATE])
        pid = self.assert_ok(u1.start(single_json()), "generate allowed")
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL)))
        self.assertEqual(u1.updates(pid)[-1]["status"], "completed")
        self.set_polkit_allowed([])
        self.assertClientError(u1.start(single_json()), "PermissionDenied", "generate revoked")

    @multi_uid
    @with_polkit(ACTION_GENERATE)
    def test_polkit_manage_all(self):
        """With polkit: another uid sees a generation only with manage-all."""
        u1, u2 = self.connect_as(U1, U2)
        pid = self.assert_ok(u1.start(batch_json(3)), "start")
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL)))
        self.assert_invisible(u2, pid)
        self.set_polkit_allowed([ACTION_GENERATE, ACTION_MANAGE_ALL])
        snap = self.assert_ok(u2.call("GetProgress", pid), "GetProgress with manage-all")
        self.assertEqual(snap["status"], "completed")
        self.assertEqual(self.assert_ok(u2.call("GetAnalytics", pid))["status"], "completed")
        self.assertIn(pid, [s["progress_id"] for s in self.assert_ok(u2.call("ListGenerations"))])
        self.assert_ok(u2.call("Subscribe", pid), "Subscribe with manage-all")
        fetched = self.assert_ok(u2.call("OpenCertificate", pid), "OpenCertificate")
        self.assertEqual(fetched["sha256"], snap["result"]["checksum"])
        self.assertClientError(u2.call("Cancel", pid), "AlreadyFinished")

    @multi_uid
    @with_polkit(ACTION_GENERATE)
    def test_polkit_delegate(self):
        """With polkit: owner_label needs org.certgen.Certificates1.delegate."""
        (u1,) = self.connect_as(U1)
        self.assertClientError(u1.start(single_json(), owner_label="web-carol"),
                               "PermissionDenied", "owner_label without delegate")
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.set_polkit_allowed([ACTION_GENERATE, ACTION_DELEGATE])
        pid = self.assert_ok(u1.start(single_json(), owner_label="web-carol"), "delegated start")
        self.assertTrue(u1.wait_signal(id=pid, status=list(TERMINAL)))
        updates = u1.updates(pid)
        self.assertEqual(updates[-1]["status"], "completed")
        self.assertTrue(all(u.get("owner_label") == "web-carol" for u in updates), updates[-1])
        self.assertEqual(self.root.progress(pid)["owner_label"], "web-carol")
        # uid 0 delegates without any polkit grant
        self.set_polkit_allowed([])
        root_pid = self.root.start(single_json(), owner_label="web-dave")
        self.assertEqual(self.root.wait_terminal(root_pid)["status"], "completed")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen system integration tests: install like a distribution package.

Each case works on a fresh `meson install --destdir` of the build tree (about
a second) or on a scratch configuration, never on the real system:

- InstallTreeTests: every file lands where a Debian package puts it, with
  sane modes, and nothing outside the prefix; a --prefix=/usr configuration
  gives the Debian paths (/usr/libexec, /usr/lib/systemd/system, /etc).
- UnitTests: certgend.service passes `systemd-analyze verify` and scores at
  most MAX_EXPOSURE in `systemd-analyze security --offline=true`; so do the
  HTTP bridge's certgen-http.socket and .service (at most
  MAX_BRIDGE_EXPOSURE), and the installed bridge runs as the units start it
  (passed socket, READY=1, private network namespace); certgen-relay.service
  (multi-host mode) verifies and scores at most MAX_RELAY_EXPOSURE; sysusers.d and
  tmpfiles.d applied to a scratch root create the users and directories.
- PolkitTests: the actions validate against polkit's DTD and have the
  intended defaults; the rules grant the bridge's user what it needs and
  nothing more (run in node with a polkit stand-in). polkit decisions as
  certgend sees them are tested with python3-dbusmock's polkitd template in
  tests/integration/test_isolation.py.
- BusPolicyTests: dbus-daemon loads the installed policy; only the named
  user may own org.certgen.Certificates1, everyone may call the Manager.
- ActivationTests: a call to org.certgen.Certificates1 makes a private bus
  start the installed certgend from the installed activation file; the
  generation then completes.
- NotifyTests: certgend's sd_notify messages (READY=1, STATUS=, WATCHDOG=1,
  STOPPING=1) on a NOTIFY_SOCKET the test binds.

Environment (set by tests/install/meson.build): CERTGEN_INSTALL_DIRS (JSON:
the configured install directories), CERTGEN_MAN_PAGES, MESON, plus the
integration harness's CERTGEN_SOURCE_ROOT and CERTGEN_BUILD_ROOT.
"""

import configparser
import fcntl
import json
import os
import pwd
import re
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

# pylint: disable-next=wrong-import-position
from certgen_test import testbus as cg_testbus  # noqa: E402
# pylint: disable-next=wrong-import-position
from certgen_test.testbus import (  # noqa: E402
    BUILD_ROOT, BUS_NAME, CERTGEND, MANAGER_IFACE, OBJECT_PATH, SOURCE_ROOT, SYSTEM_DEFAULT_POLICY,
    BusClient, CertgenTestCase, ClientProcess, Gio, GLib, multi_uid, no_daemon,
    read_text, single_json, spawn_socket_activated, spin, timeout, wait_until)

MAX_EXPOSURE = 1.0  # systemd-analyze security ceiling for certgend.service
MAX_BRIDGE_EXPOSURE = 2.0  # ... and for certgen-http.service
BRIDGE_UNITS = ("certgen-http.service", "certgen-http.socket")
ACTIONS = {
    # id: (allow_any, allow_inactive, allow_active)
    "org.certgen.Certificates1.generate": ("auth_admin", "auth_admin", "yes"),
    "org.certgen.Certificates1.manage-all": ("auth_admin_keep", "auth_admin_keep",
                                             "auth_admin_keep"),
    "org.certgen.Certificates1.delegate": ("no", "no", "no"),
}
SERVICE_USER = "certgen"
BRIDGE_USER = "certgen-http"
RELAY_USER = "certgen-relay"
MAX_RELAY_EXPOSURE = 2.0  # systemd-analyze security ceiling for certgen-relay.service
POLICY_NAME = "org.certgen.Certificates1.conf"
ACTIVATION_NAME = "org.certgen.Certificates1.service"
POLKIT_POLICY_NAME = "org.certgen.Certificates1.policy"
POLKIT_RULES_NAME = "org.certgen.Certificates1.rules"
POLKIT_DTD = "/usr/share/polkit-1/policyconfig-1.dtd"


def install_dirs():
    raw = os.environ.get("CERTGEN_INSTALL_DIRS")
    if not raw:
        raise unittest.SkipTest("CERTGEN_INSTALL_DIRS is not set (run through meson test)")
    return json.loads(raw)


def man_pages():
    return os.environ.get("CERTGEN_MAN_PAGES", "").split()


def meson_command():
    meson = os.environ.get("MESON") or shutil.which("meson")
    if not meson:
        raise unittest.SkipTest("meson not found")
    return [meson]


def need(program):
    path = shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path is None:
        raise unittest.SkipTest(f"{program} is not installed")
    return path


def run(cmd, check=True, **kwargs):
    """Run cmd, capture its output; on failure the output is in the message."""
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}\n"
                             f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def build_everything():
    """meson test builds only what the tests depend on; an install needs every
    installed target. ninja is a no-op after `meson compile`; the lock keeps
    parallel cases from running two ninjas in one build directory."""
    ninja = shutil.which("ninja") or shutil.which("ninja-build")
    if ninja is None or not os.path.exists(os.path.join(BUILD_ROOT, "build.ninja")):
        return
    with open(os.path.join(BUILD_ROOT, "meson-private", "certgen-install-test.lock"), "w",
              encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run([ninja, "-C", BUILD_ROOT])


def destdir_install(tmpdir):
    """meson install of the build tree into tmpdir/destdir -> destdir."""
    destdir = os.path.join(tmpdir, "destdir")
    build_everything()
    run(meson_command() + ["install", "-C", BUILD_ROOT, "--destdir", destdir,
                           "--no-rebuild", "--quiet"])
    return destdir


def in_destdir(destdir, path):
    return os.path.join(destdir, path.lstrip("/"))


def read_keyfile(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    return parser


def unit_directives(path):
    """[Section] -> {Key: [values]} of a unit file (repeated keys kept)."""
    sections = {}
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                current = sections.setdefault(line.strip("[]"), {})
                continue
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


class TmpdirTestCase(unittest.TestCase):
    """A temporary directory per test, kept with CERTGEN_TEST_KEEP."""

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix="certgen-install-")
        os.chmod(self.tmpdir, 0o755)
        if os.environ.get("CERTGEN_TEST_KEEP"):
            self.addCleanup(sys.stderr.write, f"kept {self.tmpdir}\n")
        else:
            self.addCleanup(shutil.rmtree, self.tmpdir, ignore_errors=True)


# ---------------------------------------------------------------------------


class InstallTreeTests(TmpdirTestCase):
    """meson install: every file where a distribution package puts it."""

    def expected_files(self, dirs):
        """Installed path -> (mode, source file to compare with or None)."""
        src = SOURCE_ROOT
        files = {
            f"{dirs['libexecdir']}/certgend": (0o755, None),
            f"{dirs['datadir']}/certgen/certgen.conf": (0o644, f"{src}/data/certgen.conf"),
            f"{dirs['dbus_interfaces_dir']}/org.certgen.Certificates1.xml":
                (0o644, f"{src}/introspection/org.certgen.Certificates1.xml"),
            f"{dirs['dbus_system_policy_dir']}/{POLICY_NAME}":
                (0o644, f"{src}/data/dbus-1/{POLICY_NAME}"),
            f"{dirs['dbus_system_bus_services_dir']}/{ACTIVATION_NAME}": (0o644, None),
            f"{dirs['polkit_actiondir']}/{POLKIT_POLICY_NAME}":
                (0o644, f"{src}/data/polkit-1/{POLKIT_POLICY_NAME}"),
            f"{dirs['polkit_rulesdir']}/{POLKIT_RULES_NAME}":
                (0o644, f"{src}/data/polkit-1/{POLKIT_RULES_NAME}"),
            f"{dirs['systemdsystemunitdir']}/certgend.service": (0o644, None),
            f"{dirs['systemdsystemunitdir']}/certgen-http.service": (0o644, None),
            f"{dirs['systemdsystemunitdir']}/certgen-http.socket": (0o644, None),
            f"{dirs['systemdsystemunitdir']}/certgen-relay.service": (0o644, None),
            f"{dirs['sysusersdir']}/certgen.conf": (0o644, f"{src}/data/systemd/certgen.sysusers"),
            f"{dirs['tmpfilesdir']}/certgen.conf": (0o644, f"{src}/data/systemd/certgen.tmpfiles"),
        }
        for design in ("classic", "modern"):
            for name in ("layout.json", "background.pdf"):
                files[f"{dirs['datadir']}/certgen/templates/{design}/{name}"] = (
                    0o644, f"{src}/data/templates/{design}/{name}")
        if os.path.exists(f"{src}/data/completion/certgenctl"):
            files[f"{dirs['bashcompletiondir']}/certgenctl"] = (
                0o644, f"{src}/data/completion/certgenctl")
        for page in man_pages():
            section = page.rsplit(".", 1)[1]
            files[f"{dirs['mandir']}/man{section}/{page}"] = (0o644, None)
        for program in ("certgenctl", "http/certgen-http", "relay/certgen-relay"):
            if os.access(os.path.join(BUILD_ROOT, "client", program), os.X_OK):
                files[f"{dirs['bindir']}/{os.path.basename(program)}"] = (0o755, None)
        return {k: v for k, v in files.items() if not k.startswith("no/")}

    def test_files(self):
        """Every file is installed, with its mode and content; nothing lands
        outside the prefix (and sysconfdir)."""
        dirs = install_dirs()
        destdir = destdir_install(self.tmpdir)
        for path, (mode, source) in self.expected_files(dirs).items():
            full = in_destdir(destdir, path)
            self.assertTrue(os.path.isfile(full), f"not installed: {path}")
            self.assertEqual(stat.S_IMODE(os.stat(full).st_mode), mode, f"mode of {path}")
            if source is not None:
                with open(full, "rb") as a, open(source, "rb") as b:
                    self.assertEqual(a.read(), b.read(), f"{path} differs from {source}")
        # Only the prefix, and sysconfdir (/etc when the prefix is /usr).
        allowed = tuple(in_destdir(destdir, dirs[d]) + "/" for d in ("prefix", "sysconfdir"))
        for root, _dirs, names in os.walk(destdir):
            for name in names:
                path = os.path.join(root, name)
                self.assertTrue(path.startswith(allowed),
                                f"installed outside the prefix {dirs['prefix']}: "
                                f"{os.path.relpath(path, destdir)}")

    def test_man_pages(self):
        """scdoc turned the pages into roff, installed in the right section."""
        pages = man_pages()
        if not pages:
            self.skipTest("man pages are not built (scdoc missing or -Dman=disabled)")
        self.assertIn("certgend.8", pages)
        self.assertIn("certgen.conf.5", pages)
        if os.path.exists(os.path.join(SOURCE_ROOT, "data", "man", "certgenctl.1.scd")):
            self.assertIn("certgenctl.1", pages)
        dirs = install_dirs()
        destdir = destdir_install(self.tmpdir)
        for page in pages:
            name, section = page.rsplit(".", 1)
            path = in_destdir(destdir, f"{dirs['mandir']}/man{section}/{page}")
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertRegex(text, rf'(?m)^\.TH "{re.escape(name)}" "{section}"', page)
            self.assertIn(".SH NAME", text)
            self.assertIn(".SH SEE ALSO", text)

    def test_activation_file(self):
        """The D-Bus activation file names the bus name, the installed binary,
        the service user and the systemd unit."""
        dirs = install_dirs()
        destdir = destdir_install(self.tmpdir)
        path = in_destdir(destdir, f"{dirs['dbus_system_bus_services_dir']}/{ACTIVATION_NAME}")
        service = read_keyfile(path)["D-BUS Service"]
        self.assertEqual(dict(service), {
            "Name": BUS_NAME,
            "Exec": f"{dirs['libexecdir']}/certgend",
            "User": SERVICE_USER,
            "SystemdService": "certgend.service",
        })

    def test_default_config_is_valid(self):
        """The installed certgen.conf (the documented defaults) is accepted by
        certgend and holds the defaults DESIGN.md fixes."""
        dirs = install_dirs()
        destdir = destdir_install(self.tmpdir)
        path = in_destdir(destdir, f"{dirs['datadir']}/certgen/certgen.conf")
        conf = read_keyfile(path)
        self.assertEqual(conf["limits"]["start_per_minute"], "5")
        self.assertEqual(conf["cleanup"]["finished_ttl_s"], "60")
        self.assertEqual(conf["cleanup"]["max_age_s"], "1800")
        # certgend parses the config before it connects: with no bus to
        # reach, a valid config fails on the bus, an invalid one before it.
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.tmpdir}/no-bus")
        r = run([in_destdir(destdir, f"{dirs['libexecdir']}/certgend"), "--config", path,
                 "--state-dir", os.path.join(self.tmpdir, "state")], check=False, env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Could not connect to the system bus", r.stderr)
        # ... and says how to point it at another bus
        self.assertIn("set DBUS_SYSTEM_BUS_ADDRESS", r.stderr)
        self.assertNotIn("Invalid configuration", r.stderr)

    def test_debian_layout(self):
        """A --prefix=/usr configuration (what a Debian package builds) puts
        every file at the Debian path and reads /etc/certgen/certgen.conf."""
        builddir = os.path.join(self.tmpdir, "build-usr")
        run(meson_command() + ["setup", builddir, SOURCE_ROOT, "--prefix=/usr", "-Dtests=false",
                               "-Dman=disabled"])
        installed = json.loads(run(meson_command() + ["introspect", builddir,
                                                      "--installed"]).stdout)
        targets = set(installed.values())
        expected = {
            "/usr/libexec/certgend",
            "/usr/share/certgen/certgen.conf",
            "/usr/share/certgen/templates/classic/layout.json",
            "/usr/share/certgen/templates/classic/background.pdf",
            "/usr/share/dbus-1/interfaces/org.certgen.Certificates1.xml",
            f"/usr/share/dbus-1/system.d/{POLICY_NAME}",
            f"/usr/share/dbus-1/system-services/{ACTIVATION_NAME}",
            f"/usr/share/polkit-1/actions/{POLKIT_POLICY_NAME}",
            f"/usr/share/polkit-1/rules.d/{POLKIT_RULES_NAME}",
            "/usr/lib/systemd/system/certgend.service",
            "/usr/lib/systemd/system/certgen-http.service",
            "/usr/lib/systemd/system/certgen-http.socket",
            "/usr/bin/certgen-http",
            "/usr/lib/systemd/system/certgen-relay.service",
            "/usr/share/certgen/web/index.html",
            "/usr/lib/sysusers.d/certgen.conf",
            "/usr/lib/tmpfiles.d/certgen.conf",
        }
        if os.path.exists(os.path.join(SOURCE_ROOT, "data", "completion", "certgenctl")):
            expected.add("/usr/share/bash-completion/completions/certgenctl")
        self.assertEqual(expected - targets, set(), "missing from a --prefix=/usr install")
        with open(os.path.join(builddir, "config.h"), encoding="utf-8") as f:
            config_h = f.read()
        self.assertIn('#define CG_CONFIG_FILE "/etc/certgen/certgen.conf"', config_h)
        self.assertIn('#define CG_STATE_DIR "/var/lib/certgen"', config_h)
        self.assertIn('#define CG_TEMPLATE_DIR "/usr/share/certgen/templates"', config_h)
        unit = unit_directives(os.path.join(builddir, "data", "certgend.service"))
        self.assertEqual(unit["Service"]["ExecStart"], ["/usr/libexec/certgend"])
        unit = unit_directives(os.path.join(builddir, "data", "certgen-http.service"))
        self.assertEqual(unit["Service"]["ExecStart"],
                         ["/usr/bin/certgen-http --tokens /etc/certgen/http-tokens "
                          "--web-root /usr/share/certgen/web"])
        activation = read_keyfile(os.path.join(builddir, "data", ACTIVATION_NAME))
        self.assertEqual(activation["D-BUS Service"]["Exec"], "/usr/libexec/certgend")


# ---------------------------------------------------------------------------


class UnitTests(TmpdirTestCase):
    """systemd: the unit, sysusers.d, tmpfiles.d."""

    def installed_unit(self, name="certgend.service"):
        dirs = install_dirs()
        if dirs["systemdsystemunitdir"] == "no":
            self.skipTest("units are not installed (-Dsystemdsystemunitdir=no)")
        if not hasattr(self, "destdir"):
            self.destdir = destdir_install(self.tmpdir)
        return in_destdir(self.destdir, f"{dirs['systemdsystemunitdir']}/{name}")

    def verify_units(self, names):
        """systemd-analyze verify on copies of the installed units (in one
        directory, so that a socket finds its service). verify insists that
        ExecStart= exists, so the copies point at the DESTDIR binaries."""
        analyze = need("systemd-analyze")
        copy_dir = os.path.join(self.tmpdir, "verify")
        os.makedirs(copy_dir)
        copies = []
        for name in names:
            with open(self.installed_unit(name), encoding="utf-8") as f:
                text = f.read()
            text, n = re.subn(r"(?m)^ExecStart=(/\S+)",
                              lambda m: "ExecStart=" + in_destdir(self.destdir, m.group(1)),
                              text)
            self.assertEqual(n, 0 if name.endswith(".socket") else 1, name)
            copies.append(os.path.join(copy_dir, name))
            with open(copies[-1], "w", encoding="utf-8") as f:
                f.write(text)
        r = run([analyze, "verify", "--man=false"] + copies, check=False)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""),
                         "systemd-analyze verify complained")

    def security_score(self, name, ceiling):
        """`systemd-analyze security --offline=true` on the installed unit
        name: its exposure (0 best, 10 worst), asserted to be at most
        ceiling."""
        analyze = need("systemd-analyze")
        unit = self.installed_unit(name)
        threshold = int(round(ceiling * 10))  # --threshold counts tenths
        r = run([analyze, "security", "--no-pager", "--offline=true",
                 f"--threshold={threshold}", unit], check=False)
        m = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+(?:\.\d+)?)",
                      r.stdout)
        self.assertIsNotNone(m, f"no score in:\n{r.stdout}\n{r.stderr}")
        score = float(m.group(1))
        sys.stderr.write(f"systemd-analyze security: {name} exposure {score}\n")
        failed = "\n".join(line for line in r.stdout.splitlines() if line.startswith("✗"))
        self.assertLessEqual(score, ceiling, f"exposure {score}; weak points:\n{failed}")
        self.assertEqual(r.returncode, 0, r.stderr)
        return score

    def assert_directives(self, section, expect):
        """Each directive of expect has exactly these values in the unit section."""
        for key, value in expect.items():
            self.assertEqual(section.get(key), value, key)

    def test_unit_directives(self):
        """Type=dbus on the right name, its own user, a state directory, the
        watchdog, and only the D-Bus socket's address family."""
        dirs = install_dirs()
        service = unit_directives(self.installed_unit())["Service"]
        expect = {
            "Type": ["dbus"],
            "BusName": [BUS_NAME],
            "ExecStart": [f"{dirs['libexecdir']}/certgend"],
            "User": [SERVICE_USER],
            "StateDirectory": ["certgen"],
            "NotifyAccess": ["main"],
            "ProtectSystem": ["strict"],
            "PrivateNetwork": ["yes"],
            "RestrictAddressFamilies": ["AF_UNIX"],
            "CapabilityBoundingSet": [""],
            "UMask": ["0027"],
        }
        self.assert_directives(service, expect)
        self.assertIn("WatchdogSec", service)
        self.assertIn("@system-service", service["SystemCallFilter"])

    def test_unit_verify(self):
        """systemd-analyze verify accepts the installed unit."""
        need("systemd-analyze")
        if not any(os.path.exists(f"{d}/dbus.socket")
                   for d in ("/usr/lib/systemd/system", "/lib/systemd/system")):
            self.skipTest("dbus.socket is not installed (Type=dbus needs it)")
        self.verify_units(["certgend.service"])

    def test_unit_security(self):
        """`systemd-analyze security --offline=true` scores the installed
        unit at most MAX_EXPOSURE (0 best, 10 worst)."""
        self.security_score("certgend.service", MAX_EXPOSURE)

    def test_bridge_unit_directives(self):
        """certgen-http.socket listens on 127.0.0.1:8080 and is what gets
        enabled; certgen-http.service runs the installed bridge (Type=notify:
        it sends READY=1) as certgen-http with the installed tokens file and
        web root, needs the socket, reloads with SIGHUP, and has no network
        of its own and only AF_UNIX sockets (the passed socket is exempt)."""
        dirs = install_dirs()
        socket_unit = unit_directives(self.installed_unit("certgen-http.socket"))
        self.assertEqual(socket_unit["Socket"].get("ListenStream"), ["127.0.0.1:8080"])
        self.assertNotIn("Accept", socket_unit["Socket"])  # one bridge, not one per connection
        self.assertEqual(socket_unit["Install"], {"WantedBy": ["sockets.target"]})
        # Network sandboxing on the socket unit would bind it in a namespace
        # nobody can reach.
        for key in ("PrivateNetwork", "NetworkNamespacePath", "JoinsNamespaceOf"):
            self.assertNotIn(key, socket_unit["Socket"], key)
            self.assertNotIn(key, socket_unit["Unit"], key)

        unit = unit_directives(self.installed_unit("certgen-http.service"))
        service = unit["Service"]
        execstart = (f"{dirs['bindir']}/certgen-http"
                     f" --tokens {dirs['sysconfdir']}/certgen/http-tokens"
                     f" --web-root {dirs['datadir']}/certgen/web")
        expect = {
            "Type": ["notify"],
            "NotifyAccess": ["main"],
            "ExecStart": [execstart],
            "ExecReload": ["/bin/kill -HUP $MAINPID"],
            "User": [BRIDGE_USER],
            "Group": [BRIDGE_USER],
            "ProtectSystem": ["strict"],
            "PrivateNetwork": ["yes"],
            "IPAddressDeny": ["any"],
            "RestrictAddressFamilies": ["AF_UNIX"],
            "CapabilityBoundingSet": [""],
            "NoNewPrivileges": ["yes"],
        }
        self.assert_directives(service, expect)
        self.assertIn("@system-service", service["SystemCallFilter"])
        self.assertGreaterEqual(int(service["LimitNOFILE"][0]), 5000 + 1024,
                                "room for --max-streams' 5000 streams")
        self.assertEqual(unit["Unit"].get("Requires"), ["certgen-http.socket"])
        self.assertEqual(unit["Unit"].get("After"), ["certgen-http.socket"])
        self.assertEqual(unit["Install"], {"Also": ["certgen-http.socket"]})
        # What ExecStart= names is what meson installs.
        self.assertTrue(os.access(in_destdir(self.destdir, f"{dirs['bindir']}/certgen-http"),
                                  os.X_OK))
        self.assertTrue(os.path.isfile(
            in_destdir(self.destdir, f"{dirs['datadir']}/certgen/web/index.html")))
        with open(os.path.join(SOURCE_ROOT, "client", "http", "cg-http-main.c"),
                  encoding="utf-8") as f:
            main_c = f.read()
        self.assertIn('sd_notify(0, "READY=1")', main_c, "Type=notify needs READY=1")
        self.assertIn("sd_listen_fds(", main_c, "socket activation needs sd_listen_fds()")

    def test_bridge_units_verify(self):
        """systemd-analyze verify accepts certgen-http.socket and
        certgen-http.service (the socket finds its service)."""
        need("systemd-analyze")
        self.verify_units(list(BRIDGE_UNITS))

    def test_bridge_unit_security(self):
        """`systemd-analyze security --offline=true` scores the installed
        certgen-http.service at most MAX_BRIDGE_EXPOSURE."""
        self.security_score("certgen-http.service", MAX_BRIDGE_EXPOSURE)

    def test_relay_unit(self):
        """certgen-relay.service runs the installed relay (Type=notify: it
        sends READY=1) as certgen-relay with --redis from CERTGEN_REDIS;
        systemd-analyze verifies it and scores it at most
        MAX_RELAY_EXPOSURE."""
        dirs = install_dirs()
        unit = unit_directives(self.installed_unit("certgen-relay.service"))
        service = unit["Service"]
        self.assertEqual(service["Type"], ["notify"])
        self.assertEqual(service["User"], [RELAY_USER])
        self.assertEqual(service["ExecStart"],
                         [f"{dirs['bindir']}/certgen-relay --redis ${{CERTGEN_REDIS}} "
                          "$CERTGEN_RELAY_OPTIONS"])
        self.assertTrue(os.access(in_destdir(self.destdir, f"{dirs['bindir']}/certgen-relay"),
                                  os.X_OK))
        with open(os.path.join(SOURCE_ROOT, "client", "relay", "cg-relay-main.c"),
                  encoding="utf-8") as f:
            self.assertIn('sd_notify(0, "READY=1")', f.read(), "Type=notify needs READY=1")
        need("systemd-analyze")
        self.verify_units(["certgen-relay.service"])
        self.security_score("certgen-relay.service", MAX_RELAY_EXPOSURE)

    def test_bridge_socket_activated(self):
        """The installed bridge, started the way the units start it: the
        ExecStart= arguments (tokens file and web root moved into the test's
        directories), a listening socket bound in our network namespace and
        passed as fd 3, NOTIFY_SOCKET. When unshare(1) can, the bridge runs in
        an empty network namespace of its own, like PrivateNetwork=yes: the
        passed socket still serves. READY=1 comes once it listens, SIGHUP
        reloads the tokens, SIGTERM sends STOPPING=1 and exits 0."""
        dirs = install_dirs()
        service = unit_directives(self.installed_unit("certgen-http.service"))["Service"]
        argv = service["ExecStart"][0].split()
        self.assertEqual(argv[0], f"{dirs['bindir']}/certgen-http")
        argv[0] = in_destdir(self.destdir, argv[0])
        tokens = os.path.join(self.tmpdir, "http-tokens")
        token = "install-test-token"
        hashed = run([argv[0], "hash-token"], input=token).stdout.strip()
        with open(tokens, "w", encoding="utf-8") as f:
            f.write(f"alice {hashed}\n")
        for option, value in (("--tokens", tokens),
                              ("--web-root", in_destdir(self.destdir, argv[argv.index(
                                  "--web-root") + 1]))):
            argv[argv.index(option) + 1] = value

        netns = []
        unshare = shutil.which("unshare")
        if unshare and run([unshare, "--net", "true"], check=False).returncode == 0:
            netns = [unshare, "--net"]  # execs: the bridge keeps its pid
        else:
            sys.stderr.write("unshare --net is not possible here; "
                             "the bridge shares our network namespace\n")

        notify_path = os.path.join(self.tmpdir, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        notify.bind(notify_path)
        self.addCleanup(notify.close)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "NOTIFY_SOCKET": notify_path, "G_DEBUG": "fatal-criticals",
               # no bus: the bridge serves its page and retries the bus
               "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={self.tmpdir}/no-bus"}
        log_path = os.path.join(self.tmpdir, "certgen-http.log")
        with open(log_path, "wb") as log:
            proc = spawn_socket_activated(netns + argv, listener, env, log)

        def log_text():
            return read_text(log_path)

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        listener.close()

        messages = []

        notify.setblocking(False)

        def received(key, value):
            while True:
                try:
                    messages.append(notify.recv(4096).decode())
                except BlockingIOError:
                    break
            if any(f"{key}={value}" in m.splitlines() for m in messages):
                return True
            if proc.poll() is not None:
                raise AssertionError(f"the bridge exited {proc.returncode} without "
                                     f"{key}={value}:\n{log_text()}")
            time.sleep(0.02)
            return False
        wait_until(lambda: received("READY", "1"), 20, "READY=1 from the bridge")
        if netns:
            self.assertNotEqual(os.readlink(f"/proc/{proc.pid}/ns/net"),
                                os.readlink("/proc/self/ns/net"))
        self.assertIn(f"Listening on http://127.0.0.1:{port}/", log_text())

        with socket.create_connection(("127.0.0.1", port), timeout=timeout(10)) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
        head, _sep, body = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0],
                        head)
        with open(in_destdir(self.destdir, f"{dirs['datadir']}/certgen/web/index.html"),
                  "rb") as f:
            self.assertEqual(body, f.read())

        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "Reloaded 1 tokens" in log_text(), 10, "the tokens reloaded")
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: received("STOPPING", "1"), 10, "STOPPING=1 from the bridge")
        self.assertEqual(proc.wait(timeout(15)), 0, log_text())

    def sysusers_root(self, sysusers, dirs):
        """A DESTDIR install and a scratch root with its sysusers.d applied
        -> (destdir, root)."""
        destdir = destdir_install(self.tmpdir)
        root = os.path.join(self.tmpdir, "root")
        os.makedirs(os.path.join(root, "etc"))
        run([sysusers, f"--root={root}",
             in_destdir(destdir, f"{dirs['sysusersdir']}/certgen.conf")])
        return destdir, root

    def test_sysusers(self):
        """sysusers.d creates the service user, the bridge's and the
        relay's as system users without a login shell."""
        sysusers = need("systemd-sysusers")
        dirs = install_dirs()
        if dirs["sysusersdir"] == "no":
            self.skipTest("sysusers.d is not installed")
        destdir, root = self.sysusers_root(sysusers, dirs)
        users = {}
        with open(os.path.join(root, "etc", "passwd"), encoding="utf-8") as f:
            for line in f:
                name, _x, uid, gid, _gecos, home, shell = line.rstrip("\n").split(":")
                users[name] = (int(uid), int(gid), home, shell)
        self.assertEqual(set(users), {SERVICE_USER, BRIDGE_USER, RELAY_USER})
        for name, (uid, _gid, _home, shell) in users.items():
            self.assertLess(uid, 1000, f"{name} is not a system user")
            self.assertIn(shell, ("/usr/sbin/nologin", "/sbin/nologin"), name)
        self.assertEqual(users[SERVICE_USER][2], "/var/lib/certgen")

    def test_tmpfiles(self):
        """tmpfiles.d creates the state and cache directories, owned by the
        service user, closed to others (applied to a scratch root)."""
        sysusers = need("systemd-sysusers")
        tmpfiles = need("systemd-tmpfiles")
        if os.geteuid() != 0:
            self.skipTest("needs root (chown)")
        dirs = install_dirs()
        if "no" in (dirs["sysusersdir"], dirs["tmpfilesdir"]):
            self.skipTest("sysusers.d or tmpfiles.d is not installed")
        destdir, root = self.sysusers_root(sysusers, dirs)
        run([tmpfiles, f"--root={root}", "--create",
             in_destdir(destdir, f"{dirs['tmpfilesdir']}/certgen.conf")])
        with open(os.path.join(root, "etc", "passwd"), encoding="utf-8") as f:
            uid = next(int(line.split(":")[2]) for line in f
                       if line.startswith(SERVICE_USER + ":"))
        for path in ("var/lib/certgen", "var/cache/certgen"):
            st = os.stat(os.path.join(root, path))
            self.assertTrue(stat.S_ISDIR(st.st_mode), path)
            self.assertEqual(st.st_uid, uid, path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o750, path)


# ---------------------------------------------------------------------------


RULES_DRIVER = r"""
// Loads a polkit rules file with a stand-in for polkit's JavaScript API and
// prints the result of every rule for each (action, user) in argv[3].
const fs = require("fs");
const vm = require("vm");
const rules = [];
const polkit = {
    Result: {NO: "no", YES: "yes", AUTH_SELF: "auth_self", AUTH_SELF_KEEP: "auth_self_keep",
             AUTH_ADMIN: "auth_admin", AUTH_ADMIN_KEEP: "auth_admin_keep",
             NOT_HANDLED: null},
    addRule: (f) => rules.push(f),
    addAdminRule: () => {},
    log: () => {},
    spawn: () => { throw new Error("spawn is not allowed in certgen's rules"); },
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), {polkit: polkit},
                   {filename: process.argv[2]});
const out = {};
for (const [id, user] of JSON.parse(process.argv[3])) {
    const action = {id: id, lookup: () => undefined};
    const subject = {user: user, pid: 4242, groups: [user], local: false, active: false,
                     session: "", seat: "", system_unit: "", isInGroup: (g) => g === user,
                     isInNetGroup: () => false};
    let result = null;
    for (const rule of rules) {
        const r = rule(action, subject);
        if (r !== undefined && r !== null) { result = r; break; }
    }
    out[id + " " + user] = result;
}
console.log(JSON.stringify(out));
"""


class PolkitTests(TmpdirTestCase):
    """polkit actions and rules as installed."""

    def installed(self, key, name):
        dirs = install_dirs()
        if dirs[key] == "no":
            self.skipTest(f"{name} is not installed")
        destdir = destdir_install(self.tmpdir)
        return in_destdir(destdir, f"{dirs[key]}/{name}")

    def test_actions(self):
        """The actions file is valid (polkit's DTD when present), declares the
        three actions with the intended defaults, and marks its messages for
        translation."""
        path = self.installed("polkit_actiondir", POLKIT_POLICY_NAME)
        if os.path.exists(POLKIT_DTD) and shutil.which("xmllint"):
            run(["xmllint", "--noout", "--nonet", "--dtdvalid", POLKIT_DTD, path])
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "policyconfig")
        found = {}
        for action in root.findall("action"):
            defaults = action.find("defaults")
            found[action.get("id")] = tuple(defaults.findtext(k).strip() for k in
                                            ("allow_any", "allow_inactive", "allow_active"))
            for tag in ("description", "message"):
                element = action.find(tag)
                self.assertTrue(element.text and element.text.strip(), f"{tag} of {action.get('id')}")
                self.assertEqual(element.get("gettext-domain"), "certgen",
                                 f"{tag} of {action.get('id')} is not translatable")
        self.assertEqual(found, ACTIONS)

    def test_actions_match_certgend(self):
        """certgend checks exactly the actions the file declares."""
        ids = set()
        service_dir = os.path.join(SOURCE_ROOT, "service")
        for name in sorted(os.listdir(service_dir)):
            if name.endswith((".c", ".h")):
                with open(os.path.join(service_dir, name), encoding="utf-8") as f:
                    ids.update(re.findall(r'"(org\.certgen\.Certificates1\.[a-z][a-z-]*)"',
                                          f.read()))
        self.assertEqual(ids, set(ACTIONS))

    def test_rules(self):
        """The rules let certgen-http and certgen-relay generate and
        delegate, and nothing else; other users fall through to the
        actions' defaults."""
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            self.skipTest("node is not installed (runs the rules with a polkit stand-in)")
        path = self.installed("polkit_rulesdir", POLKIT_RULES_NAME)
        driver = os.path.join(self.tmpdir, "rules-driver.js")
        with open(driver, "w", encoding="utf-8") as f:
            f.write(RULES_DRIVER)
        users = [BRIDGE_USER, RELAY_USER, SERVICE_USER, "root", "alice"]
        queries = [[a, u] for a in list(ACTIONS) + ["org.example.other"] for u in users]
        out = json.loads(run([node, driver, path, json.dumps(queries)]).stdout)
        expected = {f"{a} {u}": None for a, u in queries}
        expected[f"org.certgen.Certificates1.generate {BRIDGE_USER}"] = "yes"
        expected[f"org.certgen.Certificates1.delegate {BRIDGE_USER}"] = "yes"
        expected[f"org.certgen.Certificates1.generate {RELAY_USER}"] = "yes"
        expected[f"org.certgen.Certificates1.delegate {RELAY_USER}"] = "yes"
        self.assertEqual(out, expected)


# ---------------------------------------------------------------------------
# Private buses configured like the system bus


SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Like Debian's /usr/share/dbus-1/system.conf: deny by default, then the
     policy files. No fork, no pidfile, no syslog, no launch helper. -->
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  {servicedirs}
""" + SYSTEM_DEFAULT_POLICY + """  {includes}
  {extra}
</busconfig>
"""


class PrivateBus:
    """A dbus-daemon on tmpdir/name.socket with the given policy files."""

    def __init__(self, tmpdir, name, includes=(), servicedirs=(), extra="", env=None):
        self.socket = os.path.join(tmpdir, f"{name}.socket")
        self.address = f"unix:path={self.socket}"
        self.config = os.path.join(tmpdir, f"{name}.conf")
        self.log_path = os.path.join(tmpdir, f"{name}.log")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(SYSTEM_BUS_CONFIG.format(
                socket=self.socket,
                servicedirs="\n  ".join(f"<servicedir>{d}</servicedir>" for d in servicedirs),
                includes="\n  ".join(f"<include>{p}</include>" for p in includes),
                extra=extra))
        env = dict(env or os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["dbus-daemon", f"--config-file={self.config}", "--nofork", "--nopidfile",
             "--print-address=1"],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        self.started = self._wait_address()

    def _wait_address(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = b""
        deadline = time.monotonic() + timeout(10)
        try:
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return False
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return False
                line += chunk
        finally:
            sel.close()
        return True

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout(5))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class BusTestCase(CertgenTestCase):
    """The harness (its bus unused, no certgend) plus installed files."""

    def setUp(self):
        super().setUp()
        self.dirs = install_dirs()
        self.destdir = destdir_install(self.tmpdir)

    def installed(self, key, name):
        if self.dirs[key] == "no":
            self.skipTest(f"{name} is not installed")
        return in_destdir(self.destdir, f"{self.dirs[key]}/{name}")

    def start_bus(self, name, **kwargs):
        bus = PrivateBus(self.tmpdir, name, **kwargs)
        self.addCleanup(bus.stop)
        if not bus.started:
            self.fail(f"dbus-daemon did not start with {bus.config}:\n{bus.read_log()}")
        return bus

    def bus_client(self, bus):
        client = BusClient(bus.address)
        self.clients.append(client)
        return client


class BusPolicyTests(BusTestCase):
    """The installed bus policy, as dbus-daemon applies it."""

    @no_daemon
    def test_policy_content(self):
        """Only <policy user="certgen"> may own the name; the default context
        only allows calls to certgend; no eavesdropping or receive rules."""
        path = self.installed("dbus_system_policy_dir", POLICY_NAME)
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "busconfig")
        policies = root.findall("policy")
        self.assertEqual([p.attrib for p in policies],
                         [{"user": SERVICE_USER}, {"context": "default"}])
        for element in root.iter():
            self.assertNotIn("eavesdrop", element.attrib, ET.tostring(element))
            for attr in element.attrib:
                self.assertFalse(attr.startswith("receive_"), ET.tostring(element))
            self.assertNotEqual(element.tag, "deny", "a deny rule could override the system policy")
        own = policies[0].findall("allow")
        self.assertEqual([a.attrib for a in own], [{"own": BUS_NAME}])
        for allow in policies[1].findall("allow"):
            self.assertEqual(allow.get("send_destination"), BUS_NAME, allow.attrib)
            self.assertEqual(set(allow.attrib), {"send_destination", "send_interface"})
        interfaces = {a.get("send_interface") for a in policies[1].findall("allow")}
        self.assertIn(MANAGER_IFACE, interfaces)

    @no_daemon
    def test_bus_accepts_installed_policy(self):
        """A system-like dbus-daemon starts with the installed policy and
        nobody else may own the name; root's calls are not denied by policy
        (the name simply has no owner)."""
        bus = self.start_bus("system", includes=[self.installed("dbus_system_policy_dir",
                                                                 POLICY_NAME)])
        # Expected noise: no certgen user on a test machine, no privilege
        # to raise the fd limit. Anything else is a complaint about the file.
        complaints = [line for line in bus.read_log().splitlines()
                      if not re.search(r'Unknown username "certgen"|Failed to set fd limit', line)]
        self.assertEqual(complaints, [])
        client = self.bus_client(bus)
        err = self.assertDBusError("org.freedesktop.DBus.Error.AccessDenied", client.bus,
                                   "RequestName", GLib.Variant("(su)", (BUS_NAME, 4)), "(u)")
        self.assertIn(BUS_NAME, err.message)
        self.assertDBusError("org.freedesktop.DBus.Error.NameHasNoOwner", client.raw_call,
                             BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ListGenerations", None,
                             "(aa{sv})")

    @no_daemon
    @multi_uid
    def test_only_service_user_owns(self):
        """With the installed policy certgen-test1 cannot own the name; with
        the same file naming certgen-test1 as the service user, it can and
        certgen-test2 still cannot, but may call the Manager (only the
        Manager and the standard interfaces)."""
        installed = self.installed("dbus_system_policy_dir", POLICY_NAME)
        bus = self.start_bus("as-installed", includes=[installed])
        u1 = ClientProcess(self, bus.address, "certgen-test1")
        self.clients.append(u1)
        self.assertClientError(u1.request("request_name", name=BUS_NAME),
                               "org.freedesktop.DBus.Error.AccessDenied", "RequestName")

        with open(installed, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count(f'<policy user="{SERVICE_USER}">'), 1)
        renamed = os.path.join(self.tmpdir, "renamed-policy.conf")
        with open(renamed, "w", encoding="utf-8") as f:
            f.write(text.replace(f'<policy user="{SERVICE_USER}">',
                                 '<policy user="certgen-test1">'))
        bus = self.start_bus("renamed", includes=[renamed])
        owner = ClientProcess(self, bus.address, "certgen-test1")
        other = ClientProcess(self, bus.address, "certgen-test2")
        self.clients += [owner, other]
        reply = owner.request("request_name", name=BUS_NAME)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["value"], 1, "certgen-test1 is not the primary owner")
        self.assertClientError(other.request("request_name", name=BUS_NAME),
                               "org.freedesktop.DBus.Error.AccessDenied", "RequestName")
        self.assertDBusError("org.freedesktop.DBus.Error.AccessDenied",
                             self.bus_client(bus).bus, "RequestName",
                             GLib.Variant("(su)", (BUS_NAME, 4)), "(u)")
        # The call reaches the owner (which exports nothing, so the answer
        # comes from its GDBus, not from the bus policy).
        reply = other.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                              interface=MANAGER_IFACE, method="ListGenerations")
        self.assertFalse(reply["ok"], reply)
        self.assertNotEqual(reply["error"], "org.freedesktop.DBus.Error.AccessDenied", reply)
        reply = other.request("raw_call", destination=BUS_NAME, path=OBJECT_PATH,
                              interface="org.example.NotCertgen", method="Anything")
        self.assertClientError(reply, "org.freedesktop.DBus.Error.AccessDenied",
                               "a call outside the allowed interfaces")


class ActivationTests(BusTestCase):
    """D-Bus activation of the installed certgend."""

    def activation_dir(self):
        """The installed activation file with Exec= pointing into DESTDIR
        (and certgend's paths there), without User= (no launch helper runs
        here: the bus starts certgend as the test's user)."""
        path = self.installed("dbus_system_bus_services_dir", ACTIVATION_NAME)
        service = read_keyfile(path)["D-BUS Service"]
        exec_ = service["Exec"]
        self.assertEqual(exec_, f"{self.dirs['libexecdir']}/certgend")
        datadir = in_destdir(self.destdir, self.dirs["datadir"])
        argv = [in_destdir(self.destdir, exec_),
                "--config", f"{datadir}/certgen/certgen.conf",
                "--template-dir", f"{datadir}/certgen/templates",
                "--state-dir", self.state_dir]
        servicedir = os.path.join(self.tmpdir, "system-services")
        os.makedirs(servicedir)
        with open(os.path.join(servicedir, ACTIVATION_NAME), "w", encoding="utf-8") as f:
            f.write("[D-BUS Service]\n")
            f.write(f"Name={service['Name']}\n")
            f.write(f"Exec={' '.join(argv)}\n")
            f.write(f"SystemdService={service['SystemdService']}\n")
        return servicedir

    @staticmethod
    def ppid_of(pid):
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])

    def stop_activated(self, pid):
        """SIGTERM the bus-started certgend (once) and wait until it is gone."""
        if pid in self.stopped:
            return
        self.stopped.add(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return

        def gone():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                    return f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except FileNotFoundError:
                return True
        try:
            wait_until(gone, 15, "the activated certgend to exit")
        except AssertionError:
            os.kill(pid, signal.SIGKILL)
            raise

    @no_daemon
    def test_bus_activation(self):
        """The first call starts certgend through the bus (with the bus's
        activation environment), and a generation completes."""
        self.stopped = set()
        user = pwd.getpwuid(os.geteuid()).pw_name
        bus = self.start_bus(
            "activation", servicedirs=[self.activation_dir()],
            includes=[self.installed("dbus_system_policy_dir", POLICY_NAME)],
            extra=f'<policy user="{user}"><allow own="{BUS_NAME}"/></policy>')
        client = self.bus_client(bus)
        self.assertIsNone(client.name_owner(BUS_NAME))
        activatable = client.bus("ListActivatableNames", None, "(as)")[0]
        self.assertIn(BUS_NAME, activatable)

        # An auto-starting call (BusClient's own calls never auto-start).
        version = client.conn.call_sync(
            BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", (MANAGER_IFACE, "Version")), GLib.VariantType.new("(v)"),
            Gio.DBusCallFlags.NONE, int(timeout(30) * 1000), None).unpack()[0]
        self.assertRegex(version, r"^\d+\.\d+")
        owner = client.name_owner(BUS_NAME)
        self.assertIsNotNone(owner)
        pid = client.bus("GetConnectionUnixProcessID", GLib.Variant("(s)", (owner,)), "(u)")[0]
        self.addCleanup(self.stop_activated, pid)

        # dbus-daemon's babysitter lets go of the service, so its parent is
        # not the bus; what the bus does leave is the activation environment.
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        self.assertEqual(environ.get(b"DBUS_STARTER_BUS_TYPE"), b"system",
                         "certgend was not started by the bus")
        self.assertNotEqual(self.ppid_of(pid), os.getpid())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode()
        self.assertEqual(argv0, in_destdir(self.destdir, f"{self.dirs['libexecdir']}/certgend"))

        client.listen(owner)
        pid_ = client.start(single_json(recipientName="Activated"), transaction="tx-activation")
        terminal = client.wait_terminal(pid_, 60)
        self.assertEqual(terminal["status"], "completed", terminal)
        self.assertTrue(os.path.isfile(os.path.join(self.state_dir, "certificates",
                                                    f"{pid_}.pdf")))

        client.close()
        self.stop_activated(pid)
        log = bus.read_log()  # the activated certgend writes to the bus's stderr
        self.assertIn("Stopping", log)
        for pattern in cg_testbus.LOG_BAD_PATTERNS:
            self.assertIsNone(pattern.search(log), f"{pattern.pattern} in the log")


# ---------------------------------------------------------------------------


class NotifyTests(CertgenTestCase):
    """certgend's sd_notify messages, read from a NOTIFY_SOCKET we bind."""

    def setUp(self):
        super().setUp()
        self.notify_path = os.path.join(self.tmpdir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.notify.bind(self.notify_path)
        self.notify.setblocking(False)
        self.addCleanup(self.notify.close)
        self.messages = []

    def start_notified(self, env, wrapper=None):
        """start_daemon with env added to certgend's environment and, when
        given, a shell wrapper in front of it (same pid: it execs)."""
        saved_env = {k: os.environ.get(k) for k in env}
        saved_wrapper = cg_testbus.WRAPPER
        os.environ.update(env)
        if wrapper:
            cg_testbus.WRAPPER = ["sh", "-c", wrapper, "sh"] + saved_wrapper
        try:
            self.start_daemon()
        finally:
            cg_testbus.WRAPPER = saved_wrapper
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def receive(self):
        while True:
            try:
                data = self.notify.recv(4096)
            except BlockingIOError:
                return self.messages
            self.messages.append(dict(line.split("=", 1)
                                      for line in data.decode().splitlines() if "=" in line))

    def wait_message(self, key, value=None, seconds=10):
        def found():
            for m in self.receive():
                if key in m and (value is None or re.fullmatch(value, m[key])):
                    return m
            return None
        return wait_until(found, seconds, f"{key}={value or '*'} on NOTIFY_SOCKET")

    @no_daemon
    def test_ready_status_stopping(self):
        """READY=1 with a STATUS= once the name is owned; STATUS= follows the
        generations; STOPPING=1 on SIGTERM."""
        self.start_notified({"NOTIFY_SOCKET": self.notify_path})
        ready = self.wait_message("READY", "1")
        self.assertEqual(ready.get("STATUS"), "0 active, 0 tracked generations")
        pid, updates = self.run_to_end(single_json(), transaction="tx-notify")
        self.assertEqual(updates[-1]["status"], "completed")
        self.wait_message("STATUS", r"0 active, 1 tracked generations?")
        statuses = [m["STATUS"] for m in self.receive() if "STATUS" in m]
        self.assertTrue(any(s.startswith("1 active") for s in statuses), statuses)
        self.stop_daemon()
        self.wait_message("STOPPING", "1")
        self.assertTrue(pid)

    @no_daemon
    def test_watchdog(self):
        """With WATCHDOG_USEC (and WATCHDOG_PID = certgend's pid) certgend
        pings WATCHDOG=1 about every half interval from its main loop."""
        self.start_notified({"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "400000"},
                            wrapper='WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"')
        self.wait_message("READY", "1")
        start = time.monotonic()
        wait_until(lambda: sum("WATCHDOG" in m for m in self.receive()) >= 3, 5,
                   "three WATCHDOG=1 pings")
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, timeout(1.5), f"three pings took {elapsed:.2f}s (every 0.2s expected)")
        self.assertTrue(all(m["WATCHDOG"] == "1" for m in self.messages if "WATCHDOG" in m))

    @no_daemon
    def test_watchdog_for_another_pid(self):
        """WATCHDOG_PID naming another process: certgend does not ping."""
        self.start_notified({"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "200000",
                             "WATCHDOG_PID": "1"})
        self.wait_message("READY", "1")
        spin(0.6)
        self.assertEqual([m for m in self.receive() if "WATCHDOG" in m], [])

    def tearDown(self):
        super().tearDown()
        for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            self.assertNotIn(key, os.environ, "the test leaked an environment variable")


if __name__ == "__main__":
    if not os.access(CERTGEND, os.X_OK):
        sys.stderr.write(f"certgend is not built: {CERTGEND}\n")
        sys.exit(1)
    cg_testbus.main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen's Python test harness, one package the suites import (meson's
test environment puts tests/ on PYTHONPATH; by hand:
PYTHONPATH=tests /usr/bin/python3 tests/integration/test_manager.py ...).

- testbus: a private system bus, certgend from the build tree, the polkit
  mock, test users, bus clients (CertgenTestCase).
- bridge: certgen-http on top of it, with HTTP, SSE and WebSocket clients
  (HttpTestCase).
- privatebus: a private bus and certgend outside unittest (demo, benchmarks,
  the browser tests' stack).
- inspector: lists a test file's cases for meson (one meson test a case).
"""

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""List the test cases of integration test files as Class.test_name lines.

Used by meson at configure time to register every case as its own test.
Parses the source (ast) instead of importing it, so listing needs no D-Bus
modules and never runs test code.
"""

import ast
import sys


def cases(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                yield f"{node.name}.{item.name}"


def main():
    for path in sys.argv[1:]:
        for case in cases(path):
            print(case)


if __name__ == "__main__":
    main()

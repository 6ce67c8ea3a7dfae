#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The contract's names are written once for C (common/cg-contract.h) and
once for the Python harness (tests/certgen_test/testbus.py); both must say
what the introspection XML says: the bus name, the object path, the
interface, the error prefix and names, and the stages in order. Also every
error name the service maps (service/cg-error.c) must be one the XML lists.

    /usr/bin/python3 tests/check-contract.py [SOURCE_ROOT]
"""

import ast
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def xml_contract():
    text = read("introspection", "org.certgen.Certificates1.xml")
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.S))
    comments = " ".join(re.findall(r"<!--(.*?)-->", text, re.S))
    m = re.search(r"Bus name (\S+), object (\S+)\.", comments)
    stages = re.search(r"seven stages, in this order: (.*?)\. Each", comments, re.S)
    errors = re.search(r"Errors, all under (\S+):(.*?)-->", text, re.S)
    return {
        "bus_name": m.group(1),
        "object_path": root.get("name"),
        "object_path_comment": m.group(2),
        "interface": [i.get("name") for i in root.findall("interface")][0],
        "stages": re.findall(r'"([a-z_]+)"', stages.group(1)),
        "error_prefix": errors.group(1),
        "errors": set(re.findall(r"(?<![\w.])([A-Z][a-z]+(?:[A-Z][a-z]+)*)\s*(?=[(,.])",
                                 errors.group(2))),
    }


def header_contract():
    text = read("common", "cg-contract.h")
    defines = dict(re.findall(r'#define (CG_[A-Z_]+) "([^"]*)"', text))
    stages = re.search(r"#define CG_STAGE_NAMES(.*?)\n#define", text, re.S).group(1)
    n = int(re.search(r"#define CG_N_STAGE_NAMES (\d+)", text).group(1))
    return defines, re.findall(r'"([a-z_]+)"', stages), n


def python_contract():
    values = {}
    for name in ("cg_client.py", "testbus.py"):
        python_assignments(read("tests", "certgen_test", name), values)
    return values


def python_assignments(text, values):
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass


def main():
    xml = xml_contract()
    problems = []

    def same(what, got, want):
        if got != want:
            problems.append(f"{what}: {got!r}, the XML says {want!r}")

    same("the XML's comment: object", xml["object_path_comment"], xml["object_path"])
    defines, stages, n = header_contract()
    same("cg-contract.h CG_BUS_NAME", defines.get("CG_BUS_NAME"), xml["bus_name"])
    same("cg-contract.h CG_OBJECT_PATH", defines.get("CG_OBJECT_PATH"), xml["object_path"])
    same("cg-contract.h CG_MANAGER_INTERFACE", defines.get("CG_MANAGER_INTERFACE"),
         xml["interface"])
    same("cg-contract.h CG_ERROR_PREFIX", defines.get("CG_ERROR_PREFIX"), xml["error_prefix"])
    same("cg-contract.h CG_STAGE_NAMES", stages, xml["stages"])
    same("cg-contract.h CG_N_STAGE_NAMES", n, len(xml["stages"]))

    py = python_contract()
    same("cg_client.py BUS_NAME", py.get("BUS_NAME"), xml["bus_name"])
    same("cg_client.py OBJECT_PATH", py.get("OBJECT_PATH"), xml["object_path"])
    same("cg_client.py MANAGER_IFACE", py.get("MANAGER_IFACE"), xml["interface"])
    same("testbus.py ERROR_PREFIX", py.get("ERROR_PREFIX"), xml["error_prefix"])
    same("testbus.py STAGES", py.get("STAGES"), xml["stages"])

    # Cancelled and TimedOut are causes, never sent: a generation they end
    # has the status "cancelled" / "timed_out" and no error name.
    internal = {"Cancelled", "TimedOut"}
    mapped = set(re.findall(r'CG_ERROR_PREFIX "([A-Za-z]+)"', read("service", "cg-error.c")))
    mapped -= internal
    if not mapped:
        problems.append("service/cg-error.c maps no error names")
    for name in sorted(mapped - xml["errors"]):
        problems.append(f"service/cg-error.c maps {name}, which the XML does not list")

    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s); XML errors: {', '.join(sorted(xml['errors']))}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

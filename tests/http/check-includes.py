#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bridge's layering: lists every #include "cg-http-*.h" edge between the
# units of client/http (a unit is cg-http-X.c plus cg-http-X.h) and fails
# when the edges form a cycle, e.g. a stream module including the server
# that includes it.
#
#   /usr/bin/python3 tests/http/check-includes.py [client/http] [--verbose]

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"(cg-http-[A-Za-z0-9_-]+)\.h"', re.M)


def unit_of(name):
    return re.sub(r'\.(c|h)$', '', name)


def edges_of(folder):
    edges = {}
    for name in sorted(os.listdir(folder)):
        if not re.match(r'cg-http-.*\.(c|h)$', name):
            continue
        unit = unit_of(name)
        with open(os.path.join(folder, name), encoding='utf-8') as f:
            for target in INCLUDE.findall(f.read()):
                if target != unit:
                    edges.setdefault(unit, set()).add(target)
        edges.setdefault(unit, set())
    return edges


def find_cycle(edges):
    """A list of units forming a cycle, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {u: WHITE for u in edges}
    stack = []

    def visit(unit):
        colour[unit] = GREY
        stack.append(unit)
        for nxt in sorted(edges.get(unit, ())):
            if colour.get(nxt, WHITE) == GREY:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt, WHITE) == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[unit] = BLACK
        return None

    for unit in sorted(edges):
        if colour[unit] == WHITE:
            found = visit(unit)
            if found:
                return found
    return None


def main(argv):
    args = [a for a in argv[1:] if not a.startswith('--')]
    folder = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'client', 'http')
    edges = edges_of(folder)
    if '--verbose' in argv:
        for unit in sorted(edges):
            for target in sorted(edges[unit]):
                print(f'{unit} -> {target}')
    cycle = find_cycle(edges)
    if cycle:
        print('include cycle: ' + ' -> '.join(cycle))
        return 1
    print(f'{len(edges)} units, {sum(len(t) for t in edges.values())} edges, no cycle')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

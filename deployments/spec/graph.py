"""The dependency graph (format.md §6): levels, a stable order, and every cycle.

Pure and generic over node names so it can be property-tested alone. Level 0 has no
dependencies; level n is one more than the highest level of its dependencies. The order
is by (level, name): stable across runs and file orders, and a node never comes before
a dependency because every dependency has a strictly lower level.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Graph:
    deps: Mapping[str, frozenset[str]]  # node → the nodes it depends on
    levels: Mapping[str, int]  # nodes outside (or downstream of) a cycle have no level
    order: tuple[str, ...]
    cycles: tuple[tuple[str, ...], ...]  # each loop closed: ("a", "b", "a")

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(sorted(self.deps))

    def by_level(self) -> list[list[str]]:
        """Nodes grouped by level; nodes in one group have no edge between them."""
        groups: list[list[str]] = []
        for node in self.order:
            level = self.levels[node]
            while len(groups) <= level:
                groups.append([])
            groups[level].append(node)
        return groups

    def edges(self) -> list[tuple[str, str]]:
        """(dependency, dependent) pairs in a stable order."""
        return sorted((d, n) for n, ds in self.deps.items() for d in ds)


def build_graph(deps: Mapping[str, Iterable[str]]) -> Graph:
    """The graph of ``deps``; edges to names that are not nodes are ignored."""
    nodes = frozenset(deps)
    clean = {}
    for n, ds in deps.items():
        given = frozenset(ds)
        clean[n] = given if given <= nodes else given & nodes
    levels = _levels(clean)
    # By (level, name): sorted by name, then (stably) by level; two C-level sorts.
    order = tuple(sorted(sorted(levels), key=levels.__getitem__))
    cycles = _cycles(clean) if len(levels) < len(clean) else ()
    return Graph(clean, levels, order, cycles)


def _levels(deps: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """Kahn's algorithm, keeping the longest distance from a root as the level."""
    waiting = {n: len(ds) for n, ds in deps.items()}
    dependents: dict[str, list[str]] = {n: [] for n in deps}
    for n, ds in deps.items():
        for d in ds:
            dependents[d].append(n)
    levels: dict[str, int] = {}
    ready = deque(n for n, count in waiting.items() if count == 0)
    for n in ready:
        levels[n] = 0
    get = levels.get
    while ready:
        n = ready.popleft()
        level = levels[n] + 1  # final: every dependency of n came out of the queue before it
        for m in dependents[n]:
            if get(m, -1) < level:
                levels[m] = level
            left = waiting[m] - 1
            waiting[m] = left
            if not left:
                ready.append(m)
    # A node whose count never reached zero sits in or after a cycle: no level.
    return {n: levels[n] for n, count in waiting.items() if count == 0}


def _cycles(deps: Mapping[str, frozenset[str]]) -> tuple[tuple[str, ...], ...]:
    """One loop per strongly connected component, starting at its smallest name."""
    loops = []
    for component in _strongly_connected(deps):
        if len(component) == 1:
            (n,) = component
            if n in deps[n]:
                loops.append((n, n))
            continue
        start = min(component)
        loops.append(_shortest_loop(start, component, deps))
    return tuple(sorted(loops))


def _shortest_loop(
    start: str, members: set[str], deps: Mapping[str, frozenset[str]]
) -> tuple[str, ...]:
    """BFS from ``start`` along dependencies, inside the component, back to ``start``."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        n = queue.popleft()
        for d in sorted(deps[n]):
            if d == start:
                path = [start]
                while n != start:
                    path.append(n)
                    n = parent[n]
                path.append(start)
                # path is start ← … ← n; reverse to read "start depends on …".
                return (start, *reversed(path[1:-1]), start)
            if d in members and d not in parent:
                parent[d] = n
                queue.append(d)
    raise AssertionError("a strongly connected component always has a loop")


def _strongly_connected(deps: Mapping[str, frozenset[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so a long chain cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[set[str]] = []
    counter = 0
    for root in sorted(deps):
        if root in index:
            continue
        work = [(root, iter(sorted(deps[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(deps[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    members.add(m)
                    if m == node:
                        break
                result.append(members)
    return result

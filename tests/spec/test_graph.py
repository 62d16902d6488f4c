"""The dependency graph: levels, a stable order, cycles (property-tested)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deployments.spec.graph import build_graph


def test_levels_are_one_more_than_the_highest_dependency() -> None:
    graph = build_graph({"a": [], "b": ["a"], "c": ["a", "b"], "d": []})
    assert graph.levels == {"a": 0, "d": 0, "b": 1, "c": 2}
    assert graph.order == ("a", "d", "b", "c")
    assert graph.by_level() == [["a", "d"], ["b"], ["c"]]
    assert graph.edges() == [("a", "b"), ("a", "c"), ("b", "c")]


def test_the_order_does_not_depend_on_insertion_order() -> None:
    one = build_graph({"x": ["y"], "y": [], "z": ["y"]})
    two = build_graph({"z": ["y"], "y": [], "x": ["y"]})
    assert one.order == two.order == ("y", "x", "z")


def test_edges_to_unknown_nodes_are_ignored() -> None:
    assert build_graph({"a": ["ghost"]}).levels == {"a": 0}


def test_a_long_chain_does_not_hit_the_recursion_limit() -> None:
    n = 5000
    chain = {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(n)}
    chain["n0"] = [f"n{n - 1}"]  # close the loop: the cycle search walks all of it
    graph = build_graph(chain)
    assert len(graph.cycles) == 1 and len(graph.cycles[0]) == n + 1


def test_every_loop_is_reported_from_its_smallest_name() -> None:
    graph = build_graph({"b": ["c"], "c": ["b"], "x": ["y"], "y": ["z"], "z": ["x"], "s": ["s"]})
    assert graph.cycles == (("b", "c", "b"), ("s", "s"), ("x", "y", "z", "x"))
    assert graph.levels == {}


# -- properties ---------------------------------------------------------------------------


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    """Random DAGs: node i may only depend on nodes with a smaller index."""
    n = draw(st.integers(min_value=1, max_value=40))
    names = draw(st.permutations([f"c{i}" for i in range(n)]))  # names unrelated to order
    deps: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        deps[name] = draw(st.lists(st.sampled_from(names[:i]), max_size=5)) if i else []
    return deps


@settings(max_examples=200, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(dags())
def test_the_order_never_runs_a_component_before_its_dependencies(deps) -> None:
    graph = build_graph(deps)
    position = {name: i for i, name in enumerate(graph.order)}
    assert set(position) == set(deps)
    assert graph.cycles == ()
    for name, ds in deps.items():
        for d in ds:
            assert position[d] < position[name]
            assert graph.levels[d] < graph.levels[name]


@st.composite
def graphs_with_a_cycle(draw: st.DrawFn) -> dict[str, list[str]]:
    deps = draw(dags())
    names = list(deps)
    loop = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    for a, b in zip(loop, loop[1:] + loop[:1], strict=True):
        deps[a] = [*deps[a], b]
    return deps


@settings(max_examples=200, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(graphs_with_a_cycle())
def test_a_graph_with_a_cycle_reports_a_real_loop(deps) -> None:
    graph = build_graph(deps)
    assert graph.cycles
    for loop in graph.cycles:
        assert loop[0] == loop[-1]
        for a, b in zip(loop, loop[1:], strict=False):
            assert b in deps[a]  # each step is a real dependency edge
    in_a_loop = {n for loop in graph.cycles for n in loop}
    assert not in_a_loop & set(graph.levels)

"""Hostile uploads: each gives findings, never an exception, in well under 200 ms."""

from __future__ import annotations

import time

import pytest

from deployments.spec import validate


def _alias_bomb() -> str:
    """ "Billion laughs": 9 levels of 9 aliases each, 9**9 strings once expanded."""
    header = "# billion laughs: 9 levels x 9 aliases expand to 9**9 strings!!\n"
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return header + "\n".join(lines) + "\n"


HOSTILE: dict[str, tuple[str | bytes, str]] = {
    "alias bomb": (_alias_bomb(), "too-many-nodes"),
    "nesting depth 10,000": ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "too-deep"),
    "100,000-digit integer": ("n: 1" + "0" * 99_999 + "\n", "number-out-of-range"),
    "python object tag": ("a: !!python/object/apply:os.system ['echo pwned']\n", "unsafe-tag"),
    "duplicate keys": ("apiVersion: core.panka.io/v1\nkind: Stack\nkind: Stack\n", "duplicate-key"),
    "non-UTF-8 bytes": (b"kind: Stack\nname: \xff\xfe\n", "not-utf8"),
    "10 MiB file": (b"a: " + b"x" * (10 * 1024 * 1024), "too-large"),
}


def test_the_alias_bomb_is_the_classic_478_bytes() -> None:
    assert len(_alias_bomb().encode()) == 478


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_gives_a_finding_quickly_and_never_raises(name: str) -> None:
    text, code = HOSTILE[name]
    validate({"stack.yaml": "a: 1\n"})  # imports and caches warmed up
    best = float("inf")
    for _ in range(3):  # best of three: a stray GC pause is not the loader's cost
        start = time.perf_counter()
        result = validate({"stack.yaml": text})
        best = min(best, time.perf_counter() - start)
    assert code in {f.code for f in result.errors}, result.findings
    assert all(f.line >= 1 for f in result.findings if f.code == code)
    assert best < 0.2, f"{name} took {best * 1000:.0f} ms"


def _many_small_bombs() -> str:
    """Forty 300-byte documents, each just under the per-document cap of 100,000 nodes."""
    bomb = "spec:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    bomb += "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 5))
    bomb += "  big: [*a3, *a3]\n"
    return "---\n".join(
        f"apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n  name: q{i}\n"
        f"  service: web\n{bomb}"
        for i in range(40)
    )


SLOW_BUT_BOUNDED: dict[str, tuple[str, str]] = {
    # Aliases may only add 50,000 nodes to a whole stack: every node is walked again by
    # the schemas, so forty documents just under 100,000 nodes each would cost seconds.
    "forty alias-heavy documents": (_many_small_bombs(), "too-many-nodes"),
    "20,000 unresolved references in one string": (
        "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata: {name: q, service: web}\n"
        'spec:\n  type: "' + " ".join(f"${{V{i}}}" for i in range(20_000)) + '"\n',
        "unresolved-variable",
    ),
}


@pytest.mark.parametrize("name", SLOW_BUT_BOUNDED)
def test_inputs_that_multiply_work_stay_bounded(name: str) -> None:
    text, code = SLOW_BUT_BOUNDED[name]
    stack = (
        "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: s\n"
        "spec:\n  provider: {name: aws, region: us-east-1}\n---\n"
    )
    start = time.perf_counter()
    result = validate({"stack.yaml": stack + text})
    elapsed = time.perf_counter() - start
    assert code in {f.code for f in result.errors}
    assert elapsed < 1.0, f"{name} took {elapsed * 1000:.0f} ms"

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

"""Pydantic's ValidationError → SpecIssue: exact paths, stable codes, readable messages.

Every error pydantic collected is reported (it validates every field even after one
fails). Paths are pydantic's ``loc`` tuples, which already use the YAML spelling of each
key (aliases such as ``class``), minus pydantic's ``[key]`` marker for dict keys.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from .base import RULES_ERROR
from .codes import KIND_CODES
from .common import PATTERN_RULES, describe
from .results import Path, SpecIssue

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

_EXPECTED = {
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "iterable_type": "a list",
}


def dotted(path: Path) -> str:
    """``("environment", 1, "value")`` → ``environment[1].value``; root → ``spec``."""
    out: list[str] = []
    for part in path:
        if type(part) is int:
            out.append(f"[{part}]")
        elif _IDENT.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f'["{part}"]')
    return "".join(out) or "spec"


def shown(value: object) -> str:
    """A short rendering of a bad value for a message."""
    if isinstance(value, (dict, list)):
        return describe(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def issues_from(exc: ValidationError) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    _collect(exc.errors(include_url=False), (), issues)
    return issues


def _collect(errors: list, base: Path, issues: list[SpecIssue]) -> None:
    for error in errors:
        loc: Path = base + tuple(p for p in error["loc"] if p != "[key]")
        kind = error["type"]
        ctx = error.get("ctx") or {}
        if kind == RULES_ERROR:
            # A model's or list's own errors (re-located under it), then its rules.
            _collect(ctx.get("errors") or [], loc, issues)
            here = dotted(loc)
            prefix = here + "." if loc else ""
            for code, rel, template in ctx["issues"]:
                message = template.replace("{p}", prefix).replace("{here}", here)
                issues.append(SpecIssue("error", code, loc + rel, message))
            continue
        issues.append(_one(kind, loc, error, ctx, is_key="[key]" in error["loc"]))


def _one(kind: str, loc: Path, error: dict, ctx: dict, *, is_key: bool) -> SpecIssue:
    field = dotted(loc)
    value = error.get("input")
    if kind in KIND_CODES:  # raised by our own validators with a "reason"
        reason = ctx.get("reason", error["msg"])
        # A scalar is worth showing; "not a mapping (got a mapping)" is not.
        scalar = not isinstance(value, (dict, list))
        tail = (
            f" (got {shown(value)})" if kind in ("invalid-type", "invalid-value") and scalar else ""
        )
        return SpecIssue("error", kind, loc, f"`{field}` {reason}{tail}")
    if kind == "missing":
        return SpecIssue("error", "missing-field", loc[:-1], f"`{field}` is required")
    if is_key:
        return SpecIssue(
            "error", "invalid-type", loc, f"`{field}`: keys must be text (got {shown(value)})"
        )
    if kind in _EXPECTED:
        return SpecIssue(
            "error",
            "invalid-type",
            loc,
            f"`{field}` must be {_EXPECTED[kind]}, not {describe(value)}",
        )
    if kind == "string_pattern_mismatch":
        rule = PATTERN_RULES.get(ctx.get("pattern", ""), "has the wrong form")
        return SpecIssue("error", "invalid-value", loc, f"`{field}` {rule} (got {shown(value)})")
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return SpecIssue(
            "error",
            "invalid-value",
            loc,
            f"`{field}` must be at most {n} characters (has {len(value)})",
        )
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return SpecIssue("error", "invalid-value", loc, f"`{field}` must have at least {n} entries")
    if kind == "too_long":
        n = ctx.get("max_length")
        return SpecIssue("error", "invalid-value", loc, f"`{field}` must have at most {n} entries")
    # Anything else pydantic might raise: keep its own wording, still located and coded.
    return SpecIssue(
        "error", "invalid-value", loc, f"`{field}`: {error['msg']} (got {shown(value)})"
    )

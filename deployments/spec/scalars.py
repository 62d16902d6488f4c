"""Typing plain YAML scalars: the YAML 1.2 core schema, as the Go CLI's yaml.v3 reads them.

``yes``/``no``/``on``/``off`` stay strings (YAML 1.1 would make them booleans), and so
do timestamps: plain data must stay JSON-able. Numbers with leading zeros (``0123``)
stay strings too: Go would read them as octal, a zip code would lose a digit, and a
schema can still turn a digit string into an int. Integer literals longer than 64 bits
are refused before ``int()`` sees them (Python's own 4,300-digit guard raises).
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import limits
from .findings import Finding

YAML = "tag:yaml.org,2002:"
# Standard tags whose meaning is pure data. Collections keep their node structure
# (``!!set``/``!!omap``/``!!pairs`` are mappings/lists of mappings already).
SAFE_COLLECTION_TAGS = frozenset(YAML + t for t in ("map", "seq", "omap", "pairs", "set"))
SAFE_SCALAR_TAGS = frozenset(
    YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)

STR_TAG = YAML + "str"
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
WORDS: dict[str, Any] = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "null": None, "Null": None, "NULL": None, "~": None,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}  # fmt: skip
NUMBER_START = frozenset("0123456789+-.")
WORD_START = frozenset(w[0] for w in WORDS)
_INT64 = 2**63
_MAX_FLOAT_CHARS = 64


def number(raw: str, name: str, findings: list[Finding], mark: Any) -> Any:
    """A plain scalar that starts like a number: int, float, or (leading zeros) text."""
    if _INT.fullmatch(raw):
        digits = len(raw.lstrip("+-"))
        if digits > limits.MAX_INT_DIGITS:
            return _out_of_range(
                f"integer of {digits:,} digits is out of range", name, findings, mark
            )
        value = int(raw, 0) if raw[:2] in ("0o", "0x") else int(raw)
        if not -_INT64 <= value < _INT64:
            return _out_of_range(f"integer {raw} is out of the 64-bit range", name, findings, mark)
        return value
    if _FLOAT.fullmatch(raw):
        if len(raw) > _MAX_FLOAT_CHARS:
            return _out_of_range(
                f"number of {len(raw):,} characters is out of range", name, findings, mark
            )
        unsigned = raw.lstrip("+-")
        if len(unsigned) > 1 and unsigned[0] == "0" and unsigned[1].isdigit():
            return raw  # leading zeros ("007") stay text, as the module docstring explains
        return float(raw)
    return WORDS.get(raw, raw)


def _out_of_range(message: str, name: str, findings: list[Finding], mark: Any) -> None:
    # None rather than the text: a 100,000-digit string would only travel on to the
    # schema (and into its error message) to be refused again.
    findings.append(
        Finding("error", "number-out-of-range", message, name, mark.line + 1, mark.column + 1)
    )
    return None


def tagged(tag: str, raw: str, name: str, findings: list[Finding], mark: Any) -> Any:
    """A scalar with an explicit safe tag (``!!int "3"``)."""
    kind = tag[len(YAML) :]
    if kind in ("timestamp", "binary"):
        return raw  # kept as text: plain data must stay JSON-able
    if kind == "null":
        return None
    if kind == "bool" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if kind in ("int", "float"):
        before = len(findings)
        value = number(raw, name, findings, mark)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if kind == "float" else value
        if len(findings) > before:  # already reported as out of range
            return None
    findings.append(
        Finding(
            "error",
            "yaml-syntax",
            f"`{raw[:40]}` is not a valid !!{kind}",
            name,
            mark.line + 1,
            mark.column + 1,
        )
    )
    return None


def short_tag(tag: str) -> str:
    return "!!" + tag[len(YAML) :] if tag.startswith(YAML) else tag

"""Typing plain scalars: YAML 1.2 core, as Go's yaml.v3 reads untyped values."""

from __future__ import annotations

import math

import pytest
import yaml

from deployments.spec.loader import NodeBudget, load_text
from deployments.spec.scalars import number, tagged

MARK = yaml.Mark("f", 0, 0, 0, None, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("0", 0),
        ("0x1f", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("007", "007"),
        ("0123.5", "0123.5"),
        ("1_000", "1_000"),
        ("-", "-"),
        ("1.2.3", "1.2.3"),
        ("+.inf", math.inf),
    ],
)
def test_numbers_follow_the_core_schema(text: str, value: object) -> None:
    findings: list = []
    assert number(text, "f", findings, MARK) == value
    assert findings == []


def test_64_bit_limits_are_enforced_before_int() -> None:
    findings: list = []
    assert number("9" * 25, "f", findings, MARK) is None
    assert number("-9223372036854775809", "f", findings, MARK) is None
    assert [f.code for f in findings] == ["number-out-of-range"] * 2


def test_explicit_tags_convert_or_report() -> None:
    findings: list = []
    assert tagged("tag:yaml.org,2002:int", "12", "f", findings, MARK) == 12
    assert tagged("tag:yaml.org,2002:bool", "TRUE", "f", findings, MARK) is True
    assert tagged("tag:yaml.org,2002:timestamp", "2024-01-01", "f", findings, MARK) == "2024-01-01"
    assert tagged("tag:yaml.org,2002:int", "twelve", "f", findings, MARK) is None
    assert [f.code for f in findings] == ["yaml-syntax"]


def test_words_are_typed_only_in_their_core_spellings() -> None:
    (doc,) = load_text(
        "f", "a: [true, True, TRUE, tRUE, yes, null, Null, ~, '']\n", NodeBudget()
    ).documents
    assert doc.data["a"] == [True, True, True, "tRUE", "yes", None, None, None, ""]

"""Value types shared by every kind schema: int*, bool, text, enums, maps.

Core hands us data after variable substitution, where a value that was exactly one
``${VAR}`` is now a string. So numbers (``int*``) accept digit strings and booleans accept
``"true"``/``"false"``. Every validator here raises ``PydanticCustomError`` whose type is
one of our codes and whose ``reason`` completes the sentence "`<field>` …";
``errors.py`` adds the field's path, so a validator never needs to know where it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainValidator, Strict, StringConstraints
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


def fail(code: str, reason: str) -> PydanticCustomError:
    """The error a field validator raises; ``errors.py`` prefixes the field's name."""
    return PydanticCustomError(code, "{reason}", {"reason": reason})


def describe(value: object) -> str:
    """A value's YAML-ish type, for "got a list" style messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# For a validator that returns a value it accepts as it is, the native check that
# accepts exactly such values: kinds/fastpath.py tries that first, in Rust, and calls the
# validator only for the rest (text to convert, and whatever is refused).
NATIVE: dict[Callable[[Any], Any], CoreSchema] = {}


# --- int*, bool, text ---------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+")


def to_int(value: object) -> int:
    if type(value) is int:
        return value
    if type(value) is str:
        text = value.strip()
        if _INT_RE.fullmatch(text):
            return int(text)
        raise fail("invalid-type", "must be a whole number (an integer or a string of digits)")
    raise fail(
        "invalid-type",
        f"must be a whole number (an integer or a string of digits), not {describe(value)}",
    )


def range_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"must be between {lo} and {hi}"
    if lo is not None:
        return f"must be at least {lo}"
    return f"must be at most {hi}"


def IntStar(lo: int | None = None, hi: int | None = None) -> Any:  # noqa: N802 - a type
    """``int*`` of kinds.md, with its inclusive range checked in the same call."""
    if lo is None and hi is None:
        return Annotated[int, BeforeValidator(to_int)]
    reason = range_text(lo, hi)

    def check(value: object) -> int:
        number = to_int(value)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise fail("invalid-value", reason)
        return number

    NATIVE[check] = core_schema.int_schema(strict=True, ge=lo, le=hi)
    return Annotated[int, BeforeValidator(check)]


def to_bool(value: object) -> bool:
    if value is True or value is False:
        return value  # type: ignore[return-value]
    if type(value) is str:
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    raise fail("invalid-type", "must be true or false")


Bool = Annotated[bool, BeforeValidator(to_bool)]
NATIVE[to_int] = core_schema.int_schema(strict=True)
NATIVE[to_bool] = core_schema.bool_schema(strict=True)


def to_str(value: object) -> str:
    """Any scalar as its text: ``value: true`` is "true", as Go's YAML decoder gives a
    string field. Used where booleans are plausible (env values, tag and parameter maps);
    plain text fields take numbers natively (``coerce_numbers_to_str``) and refuse booleans."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise fail("invalid-type", f"must be text, not {describe(value)}")


# Plain text is validated natively (numbers become their text via the model config).
Str = str
Scalar = Annotated[str, BeforeValidator(to_str)]
NATIVE[to_str] = core_schema.str_schema(strict=True)
NOT_EMPTY = r"\S"
PATTERN_RULES: dict[str, str] = {NOT_EMPTY: "must not be empty"}  # read by errors.py
NonEmptyStr = Annotated[str, StringConstraints(pattern=NOT_EMPTY)]
# A component (or service) name in a reference: text only, so that the model and
# ValidatedSpec.references() (which reads the raw data) always agree on what is a name.
RefName = Annotated[str, Strict(), StringConstraints(pattern=NOT_EMPTY)]


def _non_empty(value: object) -> str:
    text = to_str(value) if type(value) is not str else value
    if not text.strip():
        raise fail("invalid-value", "must not be empty")
    return text


def Text(  # noqa: N802 - a type
    *,
    max_len: int | None = None,
    pattern: str | None = None,
    rule: str = "",
    non_empty: bool = True,
) -> Any:
    """Text with a length limit and/or a full-match regex; ``rule`` explains the regex."""
    if pattern is not None:
        pattern = f"^(?:{pattern})$"
        PATTERN_RULES[pattern] = rule or f"must match `{pattern}`"
    elif non_empty:
        pattern = NOT_EMPTY
    return Annotated[str, StringConstraints(max_length=max_len, pattern=pattern)]


def Checked(check: Callable[[str], str | None]) -> Any:  # noqa: N802 - a type
    """Text checked by ``check``, which returns a reason when the text is invalid."""

    def run(value: object) -> str:
        text = _non_empty(value)
        problem = check(text)
        if problem:
            raise fail("invalid-value", problem)
        return text

    return Annotated[str, BeforeValidator(run)]


def Enum(*values: str, any_case: bool = False) -> Any:  # noqa: N802 - a type
    """One of ``values``, returned in its canonical spelling."""
    table = {v.lower(): v for v in values} if any_case else {v: v for v in values}
    folded = {v.lower(): v for v in values}
    allowed = ", ".join(f"`{v}`" for v in values)
    reason = f"must be one of {allowed}" + (" (any case)" if any_case else "")

    def check(value: object) -> str:
        if type(value) is str:
            key = value.strip()
            found = table.get(key.lower() if any_case else key)
            if found is not None:
                return found
            near = folded.get(key.lower())
            if near is not None:  # exact-case enum written in another case
                raise fail("invalid-value", f"{reason}; did you mean `{near}`?")
        raise fail("invalid-value", reason)

    NATIVE[check] = core_schema.literal_schema(list(values))  # as written: canonical
    return Annotated[str, BeforeValidator(check)]


def _sorted_map(value: dict[str, str]) -> dict[str, str]:
    # Key order carries no meaning in a map; sorting makes config() independent of it.
    return dict(sorted(value.items()))


StrMap = Annotated[dict[str, Scalar], AfterValidator(_sorted_map)]


def _json_object(value: object) -> object:
    if isinstance(value, dict):
        return value
    raise fail("invalid-type", f"must be a mapping, not {describe(value)}")


AnyMapping = Annotated[Any, PlainValidator(_json_object)]  # an NA section: any mapping
AnyValue = Any  # `obj` of kinds.md: any YAML value, sent on as JSON

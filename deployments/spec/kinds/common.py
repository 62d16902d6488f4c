"""Value types and the base model shared by every kind schema.

Core hands us data after variable substitution, where a value that was exactly one
``${VAR}`` is now a string. So numbers (``int*``) accept digit strings and booleans accept
``"true"``/``"false"``. Every validator here raises ``PydanticCustomError`` whose type is
one of our codes and whose ``reason`` completes the sentence "`<field>` …";
``errors.py`` adds the field's path, so a validator never needs to know where it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .results import Path

RULES_ERROR = "kind-rules"  # error type carrying several located issues (see Rules)


def fail(code: str, reason: str) -> PydanticCustomError:
    """The error a field validator raises; ``errors.py`` prefixes the field's name."""
    return PydanticCustomError(code, "{reason}", {"reason": reason})


def describe(value: object) -> str:
    """A value's YAML-ish type, for "got a list" style messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


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
        "invalid-type", f"must be a whole number (an integer or a string of digits), not {describe(value)}"
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
NOT_EMPTY = r"\S"
PATTERN_RULES: dict[str, str] = {NOT_EMPTY: "must not be empty"}  # read by errors.py
NonEmptyStr = Annotated[str, StringConstraints(pattern=NOT_EMPTY)]


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


# --- field markers read by walk.py ----------------------------------------------------


def na(default: Any = None) -> Any:
    """An NA field: accepted, type-checked, stored, never applied and left out of config()."""
    return Field(default, exclude=True, json_schema_extra={"panka_na": True})


def section(model: type[BaseModel]) -> Any:
    """A nested mapping that may be omitted. It defaults to the model validated from ``{}``
    (defaults filled), so config() always has the same shape. That instance is built once
    and shared: validated models are never mutated, and a parent that must change a
    default section replaces it (``model_copy``) instead."""
    shared: list[BaseModel] = []

    def default() -> BaseModel:
        if not shared:
            shared.append(model.model_validate({}))
        return shared[0]

    return Field(default_factory=default)


# --- base models ----------------------------------------------------------------------


class SpecModel(BaseModel):
    """Base of every schema model. Unknown keys are reported by walk.py (with a "did you
    mean") and ignored here."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    # Keys whose explicit null is meaningful and must reach the model (walk.py drops
    # other nulls, so an empty ``key:`` means "not given").
    KEEP_NULL: ClassVar[frozenset[str]] = frozenset()
    # Walk hints for fields whose type is a custom validator wrapping a model:
    # key -> ("one" | "list" | "map", model class).
    WALK: ClassVar[dict[str, tuple[str, type]]] = {}


# --- rules spanning several fields ----------------------------------------------------


class Rules:
    """Collects cross-field problems and raises them together.

    Each issue is (code, path relative to the model, message template). In a template
    ``{p}`` stands for the model's dotted path plus a dot and ``{here}`` for the path itself,
    so a message names fields in full ("`{p}minReplicas`" → "`autoscaling.minReplicas`")
    without the validator knowing where its model sits. errors.py expands them.

    ``involves`` names the fields a rule read. When some fields failed validation, the
    rules still run on the rest (see RuledModel) and a rule that read a failed field,
    or declared nothing, is dropped rather than reported from a stand-in default.
    """

    __slots__ = ("items", "unknown")

    def __init__(self, unknown: frozenset[str] | None = None) -> None:
        self.items: list[tuple[str, Path, str]] = []
        self.unknown = unknown

    def _keep(self, involves: tuple[str, ...]) -> bool:
        return self.unknown is None or (bool(involves) and self.unknown.isdisjoint(involves))

    def add(self, code: str, path: Path, message: str, involves: tuple[str, ...] = ()) -> None:
        if self._keep(involves):
            self.items.append((code, path, message))

    def missing(self, parent: Path, message: str, involves: tuple[str, ...] = ()) -> None:
        if self._keep(involves):
            self.items.append(("missing-field", parent, message))

    def error(self, errors: list | None = None) -> PydanticCustomError:
        ctx = {"count": len(self.items), "issues": self.items, "errors": errors or []}
        return PydanticCustomError(RULES_ERROR, "{count} rule(s) broken", ctx)

    def raise_any(self) -> None:
        if self.items:
            raise self.error()


class RuledModel(SpecModel):
    """A model with cross-field rules in ``check``.

    Rules run after the fields validate, as usual; when some fields fail, they run again
    on a copy of the input without the failed (optional) fields, so a spec's unrelated
    problems are all reported in one pass. Only the error path pays for that.
    """

    def check(self, rules: Rules) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @model_validator(mode="wrap")
    @classmethod
    def _with_rules(cls, data: Any, handler: Any) -> Any:
        try:
            model = handler(data)
        except ValidationError as exc:
            raise _partial_rules(cls, data, exc, handler) from None
        rules = Rules()
        model.check(rules)
        rules.raise_any()
        return model


def _partial_rules(cls: type[RuledModel], data: Any, exc: ValidationError, handler: Any) -> Exception:
    errors = exc.errors(include_url=False)
    if not isinstance(data, dict):
        return exc
    names = _field_names(cls)
    failed: set[str] = set()
    subset = dict(data)
    for error in errors:
        loc = error["loc"]
        name = names.get(loc[0]) if loc else None
        if name is None or cls.model_fields[name].is_required():
            return exc  # no stand-in for a required field: the rules can't run
        failed.add(name)
        subset.pop(loc[0], None)
    try:
        model = handler(subset)
        rules = Rules(frozenset(failed))
        model.check(rules)
    except Exception:  # rules on a partial model are best effort; the field errors stand
        return exc
    if not rules.items:
        return exc
    return rules.error(errors)


_NAMES: dict[type, dict[str, str]] = {}


def _field_names(cls: type[BaseModel]) -> dict[str, str]:
    names = _NAMES.get(cls)
    if names is None:
        names = {(f.alias or n): n for n, f in cls.model_fields.items()}
        _NAMES[cls] = names
    return names


def ListRules(  # noqa: N802 - a validator factory used as a type annotation
    *,
    unique: str | None = None,
    unique_key: Callable[[Any], object] | None = None,
    key_label: str = "",
    min_n: int | None = None,
    max_n: int | None = None,
    what: str = "entries",
    each: Callable[[int, Any], None] | None = None,
) -> Any:
    """Rules on a list of models: its length, and an attribute that must not repeat.
    Uniqueness is checked among the entries that validated, so a duplicate is reported
    next to another entry's errors. ``each`` may fill defaults first (EventBridge ids)."""

    def run(value: Any, handler: Any) -> Any:
        rules = Rules()
        if isinstance(value, list):
            if max_n is not None and len(value) > max_n:
                rules.add("invalid-value", (), f"`{{here}}` must have at most {max_n} {what} (has {len(value)})")
            if min_n is not None and len(value) < min_n:
                rules.add("invalid-value", (), f"`{{here}}` must have at least {min_n} {what}")
        errors: list | None = None
        try:
            items = handler(value)
            pairs = list(enumerate(items))
        except ValidationError as exc:
            if not isinstance(value, list):
                raise
            errors = exc.errors(include_url=False)
            bad = {e["loc"][0] for e in errors if e["loc"] and type(e["loc"][0]) is int}
            keep = [i for i in range(len(value)) if i not in bad]
            try:
                pairs = list(zip(keep, handler([value[i] for i in keep]), strict=True))
            except ValidationError:
                pairs = []
        if each is not None:
            for i, item in pairs:
                each(i, item)
        if unique is not None:
            _check_unique(rules, pairs, unique)
        if unique_key is not None:
            _check_unique_key(rules, pairs, unique_key, key_label)
        if errors is not None:
            raise rules.error(errors)  # the entries' own errors travel inside, re-located
        rules.raise_any()
        return items

    return WrapValidator(run)


def _check_unique(rules: Rules, pairs: list[tuple[int, Any]], attr: str) -> None:
    seen: dict[object, int] = {}
    for i, item in pairs:
        key = getattr(item, attr)
        if key is None:
            continue
        if key in seen:
            rules.add(
                "duplicate-entry",
                (i, attr),
                f"`{{here}}[{i}].{attr}` repeats `{key}` (already used at [{seen[key]}]); "
                f"each {attr} must be unique",
            )
        else:
            seen[key] = i


def _check_unique_key(rules: Rules, pairs: list[tuple[int, Any]], key: Callable[[Any], object], label: str) -> None:
    seen: dict[object, int] = {}
    for i, item in pairs:
        value = key(item)
        if value in seen:
            rules.add("duplicate-entry", (i,), f"`{{here}}[{i}]` repeats [{seen[value]}] ({label})")
        else:
            seen[value] = i


def given(model: BaseModel, *names: str) -> bool:
    """Whether any of ``names`` was written in the input (defaults don't count)."""
    written = model.model_fields_set
    return any(n in written for n in names)


def joined(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


class ComponentSpec(RuledModel):
    """Fields every component kind accepts (kinds.md, Conventions)."""

    dependsOn: list[NonEmptyStr] = Field(default_factory=list, exclude=True)
    tags: StrMap = Field(default_factory=dict)

    def check(self, rules: Rules) -> None:
        """Kinds with cross-field rules override this."""

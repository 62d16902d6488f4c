"""The model machinery under every kind schema: the base models, field markers read by
walk.py, and cross-field rules that report every problem at its exact path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .common import RefName, StrMap
from .results import Path

RULES_ERROR = "kind-rules"  # error type carrying several located issues (see Rules)


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
        return checked(model) if has_rules(cls) else model  # most kinds have no such rule


def checked(model: RuledModel) -> RuledModel:
    """``model`` once its rules pass; a validation error listing what they found."""
    rules = Rules()
    model.check(rules)
    if rules.items:
        raise rules.error()
    return model


def has_rules(cls: type[RuledModel]) -> bool:
    return cls.check is not _NO_RULES


def _partial_rules(
    cls: type[RuledModel], data: Any, exc: ValidationError, handler: Any
) -> Exception:
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
    each: Callable[[Rules, int, Any], None] | None = None,
) -> Any:
    """Rules on a list of models: its length, and an attribute that must not repeat.
    Uniqueness is checked among the entries that validated, so a duplicate is reported
    next to another entry's errors. ``each(rules, index, entry)`` checks or fills one
    validated entry: one list-level call is cheaper than a validator on every entry."""

    def run(value: Any, handler: Any) -> Any:
        rules = Rules()
        if isinstance(value, list):
            if max_n is not None and len(value) > max_n:
                rules.add(
                    "invalid-value",
                    (),
                    f"`{{here}}` must have at most {max_n} {what} (has {len(value)})",
                )
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
                each(rules, i, item)
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


def _check_unique_key(
    rules: Rules, pairs: list[tuple[int, Any]], key: Callable[[Any], object], label: str
) -> None:
    seen: dict[object, int] = {}
    for i, item in pairs:
        value = key(item)
        if value in seen:
            rules.add("duplicate-entry", (i,), f"`{{here}}[{i}]` repeats [{seen[value]}] ({label})")
        else:
            seen[value] = i


class ComponentSpec(RuledModel):
    """Fields every component kind accepts (kinds.md, Conventions)."""

    dependsOn: list[RefName] = Field(default_factory=list, exclude=True)
    tags: StrMap = Field(default_factory=dict)

    def check(self, rules: Rules) -> None:
        """Kinds with cross-field rules override this."""


_NO_RULES = ComponentSpec.check

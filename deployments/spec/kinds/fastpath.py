"""A second validator per kind, for the common spec: one walk.py has nothing to say about.

walk.py reads every mapping of a spec before pydantic does, to warn about unknown and
not-applied keys and to drop nulls. On a spec with none of those (nearly every spec of a
stack that is being deployed) it reports nothing and hands the spec on unchanged, and
that pass costs about a sixth of validating the spec. This validator is the kind's own
core schema with every model refusing unknown keys (``extra="forbid"``) and every
not-applied field refusing any value (its default still applies when it is absent). So
when it accepts a spec that holds no null, walk.py would have found nothing, and the
model is the one the usual path builds from the same data. When it refuses, whatever
the reason, the spec takes the usual path, which reports everything; only specs with
something to report pay for both.

Since whatever it refuses goes to the usual path, it need not say why, so it also does
in Rust what the usual schema calls Python for, wherever the outcome is the same on
success: a field validator that returns a value of the right type unchanged is tried
after the native check that accepts exactly those values (``common.NATIVE``), and a
model's cross-field rules run after its fields validate rather than around them (their
wrapper exists to report rules next to field errors).

What the walk does beyond keys and nulls still runs after it, on its own
(walk.rest_of_walk): the raw checks (``raw_check``: warnings about values), and the
whole walk of the few models pydantic validates from Python, whose unknown keys this
validator cannot see (anything found there sends the spec down the usual path). tests/spec/kinds/test_fastpath.py checks both paths agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError, SchemaValidator, core_schema

from .base import RuledModel, checked, has_rules
from .common import NATIVE
from .walk import na_keys


def fast_validator(model: Any) -> SchemaValidator | None:
    """The forbidding validator of ``model`` (None should pydantic not build it so)."""
    classes: list[type] = []
    schema = _forbidding(model.__pydantic_core_schema__, classes)
    with _built_afresh(classes):
        validator = SchemaValidator(schema)
    return validator if _refuses_unknown_keys(validator) else None


@contextmanager
def _built_afresh(classes: list[type]) -> Iterator[None]:
    """pydantic-core builds a model schema by reusing the class's own validator when the
    class is complete (its "prebuilt" validators), which would bring back the class's
    ``extra="ignore"``. It looks at ``__pydantic_complete__`` in the class's own
    ``__dict__``, so that is off while the fast validator is built: at import of the
    kinds, before anything validates, and nothing validating reads it."""
    complete = [cls for cls in classes if cls.__dict__.get("__pydantic_complete__")]
    for cls in complete:
        cls.__pydantic_complete__ = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for cls in complete:
            cls.__pydantic_complete__ = True  # type: ignore[attr-defined]


def _refuses_unknown_keys(validator: SchemaValidator) -> bool:
    """Whether the validator was really built from the forbidding schema (should a later
    pydantic build it otherwise, the kind simply keeps the usual path)."""
    try:
        validator.validate_python({"\x00unknown": 1})
    except ValidationError as exc:
        return any(e["type"] == "extra_forbidden" for e in exc.errors())
    return False


def _refuse(value: object) -> object:
    raise PydanticCustomError("not-applied", "a not-applied key: the usual path warns")


_REFUSE = core_schema.no_info_plain_validator_function(_refuse)


def _forbidding(schema: Any, classes: list[type]) -> Any:
    """A copy of a core schema (containers copied, everything else shared) with each
    model's extra keys and not-applied fields refused; ``classes`` gets the models."""
    if isinstance(schema, list):
        return [_forbidding(item, classes) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _forbidding(value, classes) for key, value in schema.items()}
    kind = copy.get("type")
    # A validator's function is a {"type": "no-info", "function": ...} mapping (in a
    # serialization schema, of the same type names, it is the function itself).
    validator = isinstance(copy.get("function"), dict)
    if kind == "function-before" and validator:
        return _native_first(copy)
    if kind == "function-wrap" and validator:
        return _rules_after(copy)
    if kind == "model" and copy["schema"].get("type") == "model-fields":
        cls = copy["cls"]
        classes.append(cls)
        na = na_keys(cls)
        fields = dict(copy["schema"]["fields"])
        for name, info in cls.model_fields.items():
            if (info.alias or name) in na:
                field = dict(fields[name])
                inner = field["schema"]
                if inner.get("type") == "default":
                    field["schema"] = {**inner, "schema": _REFUSE}
                else:
                    field["schema"] = _REFUSE
                fields[name] = field
        copy["schema"] = {**copy["schema"], "fields": fields, "extra_behavior": "forbid"}
    return copy


def _native_first(schema: dict) -> dict:
    """A field validator with a native equivalent, tried after that equivalent."""
    native = NATIVE.get(schema["function"].get("function"))
    inner = schema["schema"]
    if native is None or set(inner) != {"type"}:  # constraints after it: leave it alone
        return schema
    return core_schema.union_schema([native, schema], mode="left_to_right")


_WITH_RULES = RuledModel._with_rules.__func__  # type: ignore[attr-defined]


def _rules_after(schema: dict) -> dict:
    """A model's rules run after its fields validate instead of around them: on success
    the same model, without a call into Python and back per model."""
    function = schema["function"].get("function")
    if getattr(function, "__func__", None) is not _WITH_RULES:
        return schema
    rest = {k: v for k, v in schema.items() if k not in ("type", "function", "schema")}
    if has_rules(function.__self__):
        return {
            "type": "function-after",
            "function": {"type": "no-info", "function": checked},
            "schema": schema["schema"],
            **rest,
        }
    return {**schema["schema"], **rest}  # no rules: the model alone, under the same ref

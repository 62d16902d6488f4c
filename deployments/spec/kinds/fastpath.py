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

Kinds whose walk does more (``raw_check``, or models pydantic validates from Python)
get no fast validator. tests/spec/test_fastpath.py checks both paths agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError, SchemaValidator, core_schema

from .walk import na_keys, runs_own_checks


def fast_validator(model: Any) -> SchemaValidator | None:
    """The forbidding validator of ``model``, or None when its walk must always run."""
    if runs_own_checks(model):
        return None
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
    if copy.get("type") == "model" and copy["schema"].get("type") == "model-fields":
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

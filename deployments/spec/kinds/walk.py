"""One pass over the input before pydantic: unknown keys, NA keys, empty values.

Unknown keys are warnings with a "did you mean" from the names valid at that level, and
pydantic then ignores them (models use ``extra="ignore"``). Doing it on the input rather
than on the validated model means typos are reported even when the spec has errors,
which is when a suggestion helps most. The per-model key table is derived once from the
model's fields, so the walk is a dict lookup per key.

It also drops keys whose value is null (``tag:`` with nothing after it): an empty value
means "not given", so defaults apply and required fields report ``missing-field``.
Dropping copies only the mappings that change; core's data is never mutated.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass

from pydantic import BaseModel

from .errors import dotted
from .results import Path, SpecIssue

ONE, LIST, MAP = "one", "list", "map"


@dataclass(frozen=True, slots=True)
class _Level:
    keys: frozenset[str]
    children: dict[str, tuple[str, type]]
    na: frozenset[str]
    keep_null: frozenset[str]
    folded: dict[str, str]  # lower-case name -> name, for suggestions
    raw_check: typing.Any  # classmethod (data, path, issues) or None
    # Nothing below to walk, no NA key, no raw check: a mapping of known keys without
    # a null is returned as it is, without a call (most sections: hashKey, image...).
    leaf: bool = False


_LEVELS: dict[type, _Level] = {}


def _shape(annotation: object) -> tuple[str, type] | None:
    """(ONE|LIST|MAP, model) when a field holds a model, a list of them or a map of them."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                found = _shape(arg)
                if found:
                    return found
        return None
    if origin is list:
        inner = _shape(typing.get_args(annotation)[0])
        return (LIST, inner[1]) if inner and inner[0] == ONE else None
    if origin is dict:
        inner = _shape(typing.get_args(annotation)[1])
        return (MAP, inner[1]) if inner and inner[0] == ONE else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return (ONE, annotation)
    return None


def _level(model: type) -> _Level:
    level = _LEVELS.get(model)
    if level is not None:
        return level
    keys: set[str] = set()
    children: dict[str, tuple[str, type]] = {}
    na: set[str] = set()
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        key = info.alias or name
        keys.add(key)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("panka_na"):
            na.add(key)
        shape = _shape(info.annotation)
        if shape:
            children[key] = shape
    children.update(getattr(model, "WALK", {}))
    level = _Level(
        keys=frozenset(keys),
        children=children,
        na=frozenset(na),
        keep_null=getattr(model, "KEEP_NULL", frozenset()),
        folded={k.lower(): k for k in sorted(keys)},
        raw_check=getattr(model, "raw_check", None),
        leaf=not children and not na and getattr(model, "raw_check", None) is None,
    )
    _LEVELS[model] = level
    return level


def walk(model: type, data: dict, path: Path, issues: list[SpecIssue]) -> dict:
    """Report unknown/NA keys under ``data`` (validated by ``model``); return the data with
    null values dropped (the same object when nothing was dropped)."""
    level = _LEVELS.get(model) or _level(model)
    # Usually every key is known and none is null: two C-level tests instead of two per key.
    clean = data.keys() <= level.keys and None not in data.values()
    na, children = level.na, level.children
    out: dict | None = None
    for key, value in data.items():  # input order, so issues come out in reading order
        if not clean:
            if key not in level.keys:
                issues.append(_unknown(level, key, path))
                continue
            if value is None:
                if key not in level.keep_null:
                    out = dict(data) if out is None else out
                    del out[key]
                continue
        if na and key in na and key != "description":  # documentation: nothing to apply
            issues.append(_not_applied(path + (key,)))
        child = children.get(key)
        if child is not None:
            new = _walk_child(child, value, path + (key,), issues)
            if new is not value:
                out = dict(data) if out is None else out
                out[key] = new
    if level.raw_check is not None:
        level.raw_check(data, path, issues)
    return data if out is None else out


def _walk_child(
    child: tuple[str, type], value: object, path: Path, issues: list[SpecIssue]
) -> object:
    shape, model = child
    level = _LEVELS.get(model) or _level(model)
    leaf, keys = level.leaf, level.keys
    if shape == ONE:
        if not isinstance(value, dict):
            return value
        if leaf and value.keys() <= keys and None not in value.values():
            return value  # what walk() would return, without the call
        return walk(model, value, path, issues)
    if shape == LIST and isinstance(value, list):
        new_list: list | None = None
        for i, item in enumerate(value):
            if isinstance(item, dict):
                if leaf and item.keys() <= keys and None not in item.values():
                    continue
                new = walk(model, item, path + (i,), issues)
                if new is not item:
                    if new_list is None:
                        new_list = list(value)
                    new_list[i] = new
        return value if new_list is None else new_list
    if shape == MAP and isinstance(value, dict):
        new_map: dict | None = None
        for k, item in value.items():
            if isinstance(item, dict):
                new = walk(model, item, path + (k,), issues)
                if new is not item:
                    if new_map is None:
                        new_map = dict(value)
                    new_map[k] = new
        return value if new_map is None else new_map
    return value


def _unknown(level: _Level, key: object, path: Path) -> SpecIssue:
    name = key if isinstance(key, str) else str(key)
    # The key as written (an int stays an int) so core finds its position in the document.
    here = path + ((key,) if isinstance(key, (str, int)) else (name,))
    where = dotted(path + (name,))
    close = difflib.get_close_matches(name.lower(), level.folded, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean `{level.folded[close[0]]}`?"
    else:
        valid = ", ".join(f"`{k}`" for k in sorted(level.keys)) or "none"
        hint = f"valid fields here: {valid}"
    return SpecIssue(
        "warning", "unknown-field", here, f"unknown field `{where}` is ignored; {hint}"
    )


def _not_applied(path: Path) -> SpecIssue:
    return SpecIssue(
        "warning",
        "not-applied",
        path,
        f"`{dotted(path)}` is accepted but not applied in this version",
    )


# model -> its children whose subtree has more for the walk than keys and nulls: a
# raw_check, or a model pydantic validates from Python (built on first use)
_REST_CHILDREN: dict[type, dict[str, tuple[str, type]]] = {}


def _rest_children(model: type) -> dict[str, tuple[str, type]]:
    found = _REST_CHILDREN.get(model)
    if found is None:
        _REST_CHILDREN[model] = {}  # models do not nest themselves; this ends any loop
        python = getattr(model, "WALK", {})
        found = {
            key: child
            for key, child in (_LEVELS.get(model) or _level(model)).children.items()
            if key in python or has_rest(child[1])
        }
        _REST_CHILDREN[model] = found
    return found


def has_rest(model: type) -> bool:
    """Whether walking ``model``'s tree does more than report unknown and not-applied
    keys and drop nulls: a ``raw_check`` runs, or a model is validated from Python."""
    level = _LEVELS.get(model) or _level(model)
    return level.raw_check is not None or bool(_rest_children(model))


def rest_of_walk(model: type, data: dict, path: Path, issues: list[SpecIssue]) -> bool:
    """For data that pydantic has shown to hold no unknown or not-applied key (and no
    null, as the caller knows), what :func:`walk` would still do, in its order: the raw
    checks, and the whole walk of the models pydantic validates from Python, which it
    could not check. False when those have something to report (the caller then walks
    everything); the raw checks' issues go to ``issues``."""
    children = _rest_children(model)
    if children:
        python = getattr(model, "WALK", {})
        for key, value in data.items():
            child = children.get(key)
            if child is None:
                continue
            here = path + (key,)
            if key in python:
                found: list[SpecIssue] = []
                if _walk_child(child, value, here, found) is not value or found:
                    return False
                continue
            shape, sub = child
            if shape == ONE and isinstance(value, dict):
                if not rest_of_walk(sub, value, here, issues):
                    return False
            elif shape == LIST and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and not rest_of_walk(sub, item, here + (i,), issues):
                        return False
            elif shape == MAP and isinstance(value, dict):
                for k, item in value.items():
                    if isinstance(item, dict) and not rest_of_walk(sub, item, here + (k,), issues):
                        return False
    raw_check = (_LEVELS.get(model) or _level(model)).raw_check
    if raw_check is not None:
        raw_check(data, path, issues)
    return True


def na_keys(model: type) -> frozenset[str]:
    """The keys of ``model`` that are accepted but not applied (a warning when written)."""
    return (_LEVELS.get(model) or _level(model)).na

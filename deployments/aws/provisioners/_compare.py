"""Generic helpers for comparing configs, AWS views and tags (no AWS calls here).

Provisioners compare a desired config with an older one (the state's ``config``) or with a
config-shaped view built from AWS (when adopting a resource or reading drift). Both sides
are plain JSON, so "what changed" is a question about dotted paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The system tags that say which component a resource belongs to (base.Context.tags).
OWNER_TAGS = ("panka:tenant", "panka:stack", "panka:env", "panka:component")


def get_path(data: Mapping[str, Any] | None, path: str, default: Any = None) -> Any:
    """The value at a dotted path (``"ttl.enabled"``) of nested mappings, or ``default``."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def changed(old: Mapping[str, Any] | None, new: Mapping[str, Any], *paths: str) -> bool:
    """Whether any of ``paths`` differs between two config-shaped dicts. An unknown old
    config (None: a state written without one) counts as changed, so it gets applied."""
    if old is None:
        return True
    return any(get_path(old, path) != get_path(new, path) for path in paths)


def pick(data: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """``{dotted path: value}`` for the paths present in ``data`` (for ``Observed.fields``)."""
    missing = object()
    picked = {}
    for path in paths:
        value = get_path(data, path, missing)
        if value is not missing:
            picked[path] = value
    return picked


def order_like(
    items: Sequence[Mapping[str, Any]], reference: Sequence[Mapping[str, Any]] | None, key: str
) -> list:
    """``items`` sorted in the order their ``key`` has in ``reference`` (unknown ones last,
    in their own order), so a list read from AWS compares equal to the config's list."""
    rank = {item.get(key): i for i, item in enumerate(reference or ())}
    return sorted(items, key=lambda item: rank.get(item.get(key), len(rank)))


def tag_changes(
    current: Mapping[str, str], desired: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """``(tags to set, keys to remove)`` that turn ``current`` into ``desired``."""
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_remove = sorted(k for k in current if k not in desired)
    return to_set, to_remove


def tags_from_list(
    items: Iterable[Mapping[str, str]] | None, *, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    """``[{Key, Value}]`` (the shape most AWS APIs use) as a dict."""
    return {item[key]: item[value] for item in items or ()}


def owner_conflict(tags: Mapping[str, str], expected: Mapping[str, str]) -> str | None:
    """Why a resource tagged ``tags`` is not ours to adopt (None when it is, or untagged).

    A name is only a claim: a resource carrying another component's ``panka:*`` tags must
    not be taken over just because the generated names collide.
    """
    clashes = [
        f"{key}={tags[key]}"
        for key in OWNER_TAGS
        if key in tags and key in expected and tags[key] != expected[key]
    ]
    return ", ".join(clashes) or None


def canonical_json(value: Any) -> str | None:
    """JSON text or an object as canonical text (sorted keys, no spaces); None stays None
    and "" (AWS's "not set") becomes None, so formatting never counts as a change."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def as_bool(value: Any) -> bool:
    """AWS attribute text (``"true"``/``"false"``) or a bool as a bool."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"

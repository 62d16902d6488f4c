"""State JSON (format.md §8) shaped for the history pages: grouping, masking, diffing.

States come from Panka Web, from the panka CLI or from a hand edit, so every field may
be missing or of another type; nothing here assumes our own extension fields.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .aws.timefmt import parse_rfc3339

# Output names that look like credentials: their values are never shown.
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|private|credential|api[_-]?key", re.IGNORECASE)
MASK = "••••••"


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def masked(name: str, value: Any) -> Any:
    return MASK if is_secret_name(name) and value not in (None, "") else value


def parse_time(value: Any) -> Any:
    """A state time as a datetime when it parses (Go's nanoseconds and offsets too), else as written."""
    if isinstance(value, str) and value:
        try:
            return parse_rfc3339(value)
        except ValueError:
            return value
    return value


def resources_by_service(state: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    resources = state.get("resources") if isinstance(state.get("resources"), dict) else {}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, entry in sorted(resources.items()):
        entry = entry if isinstance(entry, dict) else {}
        attributes = entry.get("attributes") if isinstance(entry.get("attributes"), dict) else {}
        groups[str(entry.get("service") or "—")].append(
            {
                "name": name,
                "type": entry.get("type") or "?",
                "status": entry.get("status") or "unknown",
                "id": entry.get("id") or "",
                "attributes": sorted((k, masked(k, v)) for k, v in attributes.items()),
                "updated_at": parse_time(entry.get("updated_at")),
            }
        )
    return sorted(groups.items())


def stack_outputs(state: dict[str, Any]) -> list[tuple[str, Any]]:
    outputs = state.get("outputs") if isinstance(state.get("outputs"), dict) else {}
    return sorted((k, masked(k, v)) for k, v in outputs.items())


def masked_json(state: dict[str, Any]) -> str:
    """The raw JSON, pretty-printed, with secret-looking outputs masked."""

    def scrub(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return masked(key, value)

    return json.dumps(scrub(state), indent=2, sort_keys=True, default=str)


@dataclass(slots=True)
class ResourceDiff:
    name: str
    service: str
    change: str  # "added", "removed" or "changed"
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # (path, old, new)


def diff_states(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[list[ResourceDiff], list[tuple[str, Any, Any]]]:
    """Resources added, removed and changed (attribute by attribute), and changed outputs."""
    old_res = old.get("resources") if isinstance(old.get("resources"), dict) else {}
    new_res = new.get("resources") if isinstance(new.get("resources"), dict) else {}
    diffs: list[ResourceDiff] = []
    for name in sorted(old_res.keys() | new_res.keys()):
        before, after = old_res.get(name), new_res.get(name)
        service = str(((after or before) or {}).get("service") or "—")
        if before is None:
            diffs.append(ResourceDiff(name, service, "added", _flat_changes({}, after or {})))
        elif after is None:
            diffs.append(ResourceDiff(name, service, "removed", _flat_changes(before, {})))
        else:
            changes = _flat_changes(before, after)
            if changes:
                diffs.append(ResourceDiff(name, service, "changed", changes))
    old_out = old.get("outputs") if isinstance(old.get("outputs"), dict) else {}
    new_out = new.get("outputs") if isinstance(new.get("outputs"), dict) else {}
    outputs = [
        (k, masked(k, old_out.get(k)), masked(k, new_out.get(k)))
        for k in sorted(old_out.keys() | new_out.keys())
        if old_out.get(k) != new_out.get(k)
    ]
    diffs.sort(key=lambda d: (d.service, d.name))
    return diffs, outputs


# Fields that change on every save and say nothing about the resource itself.
_NOISE = frozenset({"updated_at", "config", "config_hash"})


def _flat_changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [
        (
            path,
            masked(path.rsplit(".", 1)[-1], flat_before.get(path)),
            masked(path.rsplit(".", 1)[-1], flat_after.get(path)),
        )
        for path in sorted(flat_before.keys() | flat_after.keys())
        if flat_before.get(path) != flat_after.get(path) and path.split(".", 1)[0] not in _NOISE
    ]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value} if prefix else {}

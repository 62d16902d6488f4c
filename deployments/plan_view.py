"""A stored plan (``Plan.as_dict()``) shaped for the run page."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

# Kinds whose replacement or deletion loses data.
STATEFUL_KINDS = frozenset({"RDS", "DynamoDB", "S3", "ElastiCacheRedis"})


def plan_groups(plan: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Actions grouped by service, in execution order within each service."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for action in plan.get("actions", []):
        groups[action.get("service") or "—"].append(action)
    return sorted(groups.items())


def plan_warnings(plan: dict[str, Any]) -> list[str]:
    """What the run page puts above the plan: data that will be lost, then the plan's own
    warnings (e.g. components placed in the default VPC)."""
    return stateful_warnings(plan) + [
        f"{f['message']} ({f['file']}:{f['line']}:{f['column']})" if f.get("file") else f["message"]
        for f in plan.get("findings", [])
        if f.get("severity") == "warning"
    ]


def stateful_warnings(plan: dict[str, Any]) -> list[str]:
    warnings = []
    for action in plan.get("actions", []):
        if action.get("kind") in STATEFUL_KINDS and action.get("action") in ("delete", "replace"):
            why = f" ({action['replace_field']} changed)" if action.get("replace_field") else ""
            warnings.append(
                f"{action['component']} ({action['kind']}) will be {action['action']}d{why}: its data will be lost"
            )
    return warnings

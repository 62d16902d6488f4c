"""Drift: what AWS reports now against what the state recorded (read-only).

Each component's provisioner ``read``s the managed fields; they are compared with the
config the component was last applied with (the state entry's ``config``). A state
written by the panka CLI has no such config: its components can only be found present
or missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .clients import AwsSettings
from .errors import AwsError
from .provisioners import Context, provisioner_for
from .provisioners.base import Network


@dataclass(slots=True)
class ComponentDrift:
    component: str
    kind: str
    status: str  # "in-sync", "drifted", "missing" or "unknown"
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # (path, recorded, actual)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lookup(config: Mapping[str, Any], path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def check_state(
    *,
    aws: AwsSettings,
    tenant: str,
    stack: str,
    environment: str,
    state: Mapping[str, Any],
    ensure_lease: Callable[[], None] = lambda: None,
    network: Network | None = None,
) -> list[ComponentDrift]:
    resources = state.get("resources") if isinstance(state.get("resources"), Mapping) else {}
    results: list[ComponentDrift] = []
    for name, entry in sorted(resources.items()):
        if not isinstance(entry, Mapping):
            continue
        kind = str(entry.get("type", ""))
        config = entry.get("config") if isinstance(entry.get("config"), Mapping) else {}
        spec = config.get("spec") if isinstance(config.get("spec"), Mapping) else {}
        ctx = Context(
            aws=aws, tenant=tenant, stack=stack, environment=environment,
            service=str(entry.get("service") or ""), component=name, kind=kind,
            resources=resources, ensure_lease=ensure_lease, network=network,
        )  # fmt: skip
        try:
            observed = provisioner_for(kind).read(ctx, {**entry, "config": dict(spec)})
        except AwsError as exc:
            results.append(ComponentDrift(name, kind, "unknown", error=str(exc)))
            continue
        if observed is None:
            results.append(ComponentDrift(name, kind, "missing"))
            continue
        if not spec:
            results.append(
                ComponentDrift(name, kind, "unknown", error="the state has no recorded config")
            )
            continue
        changed = [
            (path, _lookup(spec, path), actual)
            for path, actual in sorted(observed.fields.items())
            if _lookup(spec, path) != actual
        ]
        results.append(ComponentDrift(name, kind, "drifted" if changed else "in-sync", changed))
    return results

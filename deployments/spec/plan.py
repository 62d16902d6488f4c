"""The plan (format.md §6): desired stack + current state → ordered actions.

A pure function: no AWS, no clock. Each component gets ``create``, ``update`` (with the
changed fields, old → new), ``replace`` (with the field that forces it), ``delete`` or
``no-op``. Creates, updates and replaces run by level; deletes run afterwards in reverse
level order of the *state's* graph, so a resource goes after everything that used it.

The state is the panka CLI's JSON (§8). To diff fields we need the previous config, so
each resource entry we write carries an extra ``config`` next to its ``config_hash``
(the CLI ignores extra fields). An entry without it (written by the CLI) is compared by
hash only: "update, fields unknown".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import gcpause, schema
from .findings import Finding
from .graph import build_graph
from .model import Component, Stack, ValidationResult
from .policy import TenantPolicy

ACTIONS = ("create", "update", "replace", "delete", "no-op")
_READY = "ready"


class NotPlannable(ValueError):
    """The stack has validation errors: it can be saved as a draft, not planned (§5)."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        super().__init__(f"the stack has {len(findings)} validation error(s)")
        self.findings = findings


@dataclass(frozen=True, slots=True)
class Change:
    path: str  # dotted, e.g. ``spec.environment[1].value``
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


# Not frozen, though nothing changes one after it is made: a plan makes one per
# component, and a frozen dataclass's __init__ (a object.__setattr__ call per field)
# costs 2.5 times as much, a hundredth of planning a large stack.
@dataclass(slots=True)
class Action:
    component: str
    kind: str
    service: str
    action: str  # one of ACTIONS
    level: int
    changes: tuple[Change, ...] = ()
    replace_field: str | None = None  # the field that forces a replace
    reason: str = ""
    depends_on: tuple[str, ...] = ()
    # What the apply stores in the state entry (None for deletes).
    config: dict[str, Any] | None = field(default=None, compare=False)
    config_hash: str | None = None

    def state_fields(self) -> dict[str, Any]:
        """What the apply writes into the component's state entry once this action has
        succeeded (next to id, attributes, status and times, which only AWS knows).
        ``config`` is our extra field: the next plan diffs against it."""
        return {
            "type": self.kind,
            "name": self.component,
            "service": self.service,
            "depends_on": list(self.depends_on),
            "config_hash": self.config_hash,
            "config": self.config,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "kind": self.kind,
            "service": self.service,
            "action": self.action,
            "level": self.level,
            "changes": [c.as_dict() for c in self.changes],
            "replace_field": self.replace_field,
            "reason": self.reason,
            "depends_on": list(self.depends_on),
            "config_hash": self.config_hash,
            "config": self.config,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    stack: str
    environment: str
    actions: tuple[Action, ...]  # in execution order
    findings: tuple[Finding, ...] = ()
    state_serial: int | None = None
    state_lineage: str | None = None
    # Where the plan puts VPC-attached components (TenantPolicy.placement), when it
    # creates, updates or replaces any.
    placement: str | None = None

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for action in self.actions:
            counts[action.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(a.action != "no-op" for a in self.actions)

    @property
    def hash(self) -> str:
        """A stable digest of what the plan would do, bound to the state it was made from,
        so an apply can refuse a plan made against an older state."""
        body: dict[str, Any] = {
            "stack": self.stack,
            "environment": self.environment,
            "serial": self.state_serial,
            "lineage": self.state_lineage,
            "actions": [
                [
                    a.component,
                    a.action,
                    a.kind,
                    a.service,
                    a.config_hash,
                    a.replace_field,
                    [c.path for c in a.changes],
                ]
                for a in self.actions
            ],
        }
        if self.placement is not None:  # absent otherwise: earlier plans' hashes stay
            body["placement"] = self.placement
        return "sha256:" + hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "ok": self.ok,
            "hash": self.hash,
            "summary": self.summary,
            "state": {"serial": self.state_serial, "lineage": self.state_lineage},
            "placement": self.placement,
            "findings": [f.as_dict() for f in self.findings],
            "actions": [a.as_dict() for a in self.actions],
        }


# One encoder for every call: json.dumps with options builds a new one each time, which
# costs more than encoding a small config. ASCII output (escaped) is the C encoder's
# fastest path, and the text is only ever hashed.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
# The same text, for the configs plan() builds itself: those are fresh trees from
# model_dump, which cannot contain a cycle, so the encoder's cycle bookkeeping (an id
# per container, in and out of a dict) is skipped.
_TREE_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=str, check_circular=False
)
# orjson writes the same bytes as _TREE_ENCODER for most configs, many times faster.
# Hashes must not change (a state entry written without ``config`` is compared by
# hash), so its text is used only where the two provably agree: only JSON types
# (passthrough options: anything else raises and goes to json), ASCII text (json escapes
# the rest, orjson writes UTF-8), no DEL (json escapes it), and no float under 1e-4 in
# magnitude, the only floats the two spell differently (json 1e-07 / 5.9e-05, orjson
# 1e-7 / 0.000059); orjson writes those with "0.0000" or a digit before "e-", so their
# absence proves there is none (the same characters in a string only cost the slow
# path). Non-finite floats cannot occur: configs are json-mode dumps (null there).
# tests/spec/test_plan_hashing.py checks the two texts are equal on random trees.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _tree_json(config: dict[str, Any]) -> bytes:
    """``canonical_json(config).encode()`` for a config plan() built (see above)."""
    try:
        text = orjson.dumps(config, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a big int, a non-str key, another type
        return _TREE_ENCODER.encode(config).encode()
    if not text.isascii() or b"\x7f" in text or b"0.0000" in text or _digit_e_minus(text):
        return _TREE_ENCODER.encode(config).encode()
    return text


def _digit_e_minus(text: bytes) -> bool:
    """Whether ``text`` has a digit followed by ``e-``. Not a regex: ``find`` skips to
    each "e-" at memchr speed (usually there is none), where a regex without a literal
    start tries every position (3.5 times slower on real configs)."""
    at = text.find(b"e-")
    while at > 0:
        if 48 <= text[at - 1] <= 57:  # 0-9
            return True
        at = text.find(b"e-", at + 2)
    return False


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal configs give equal text, hence equal hashes."""
    return _ENCODER.encode(value)


def config_hash(config: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(config).encode()).hexdigest()


def resource_config(stack: Stack, component: Component) -> dict[str, Any]:
    """What a component's state entry records as ``config`` and hashes as ``config_hash``.

    The kind's normalised config plus what else changes the AWS resource: its kind, its
    service (part of every generated name), the region and its tags.
    """
    return _resource_config(stack.region, component)


def _resource_config(region: str | None, component: Component) -> dict[str, Any]:
    labels = component.labels
    validated = component.validated  # = component.config(), a call and a property less
    return {
        "kind": component.kind,
        "service": component.service,
        "region": region,
        "labels": dict(sorted(labels.items())) if len(labels) > 1 else dict(labels),
        "spec": validated.config() if validated is not None else {},
    }


def plan(
    source: ValidationResult | Stack,
    state: Mapping[str, Any] | None,
    *,
    environment: str,
    policy: TenantPolicy | None = None,
) -> Plan:
    """The plan for deploying ``source`` into ``environment`` over ``state``."""
    with gcpause.paused():
        return _plan(source, state, environment, policy)


def _plan(
    source: ValidationResult | Stack,
    state: Mapping[str, Any] | None,
    environment: str,
    policy: TenantPolicy | None,
) -> Plan:
    stack = _plannable(source)
    findings: list[Finding] = []
    if policy is not None and (problem := policy.check_environment(environment)):
        findings.append(problem)
    resources, serial, lineage = _read_state(state, stack.name, environment, findings)
    kinds = schema.kinds()

    # The configs, one kind after the other: dumping one model class many times in a row
    # keeps its serializer in the CPU's caches (as validation does with the schemas).
    region = stack.region
    configs = {}
    for component in sorted(stack.components.values(), key=_kind_of):
        config = _resource_config(region, component)
        text = _tree_json(config)  # = canonical_json(config).encode()
        digest = "sha256:" + hashlib.sha256(text).hexdigest()
        # The text is only read again to compare with a state entry.
        configs[component.name] = (config, text if component.name in resources else b"", digest)

    desired = []
    components, levels = stack.components, stack.graph.levels
    for name in stack.graph.order:
        component = components[name]
        config, text, digest = configs[name]
        level = levels[name]
        deps = tuple(sorted(component.depends_on))
        entry = resources.get(name)
        if entry is None:  # the common case, without building keyword arguments
            desired.append(
                Action(
                    component=name,
                    kind=component.kind,
                    service=component.service,
                    action="create",
                    level=level,
                    reason="not in the state",
                    depends_on=deps,
                    config=config,
                    config_hash=digest,
                )
            )
            continue
        base = dict(
            component=name,
            kind=component.kind,
            service=component.service,
            level=level,
            depends_on=deps,
            config=config,
            config_hash=digest,
        )
        desired.append(_compare(kinds, component, entry, text, digest, base, findings))

    if policy is not None and policy.own_network is False:
        findings.extend(_default_vpc(kinds, stack, desired))
    placement = None
    if policy is not None and policy.placement is not None and _places(kinds, desired):
        placement = policy.placement
    deletes = _deletes(resources, stack)
    return Plan(
        stack.name, environment, (*desired, *deletes), tuple(findings), serial, lineage, placement
    )


_PLACING = frozenset({"create", "update", "replace"})


def _places(kinds: Any, actions: list[Action]) -> bool:
    """Whether any action creates, updates or replaces a VPC-attached component."""
    return any(
        action.action in _PLACING
        and kinds.in_network(action.kind, (action.config or {}).get("spec") or {})
        for action in actions
    )


def _default_vpc(kinds: Any, stack: Stack, actions: list[Action]) -> list[Finding]:
    """One warning per component the plan places in the account's default VPC, where
    its name is written (kinds.md: "the plan says so in a warning")."""
    findings = []
    for action in actions:
        if action.action not in _PLACING:
            continue
        if not kinds.in_network(action.kind, (action.config or {}).get("spec") or {}):
            continue
        component = stack.components[action.component]
        line, column = component.position
        findings.append(
            Finding(
                "warning",
                "default-vpc",
                f"{action.component} ({action.kind}) will run in the account's default VPC "
                "(its subnets and default security group, where the component names none of "
                "its own): the tenant has no network of its own",
                component.file,
                line,
                column,
                "metadata.name",
            )
        )
    return findings


def _kind_of(component: Component) -> str:
    return component.kind


def _plannable(source: ValidationResult | Stack) -> Stack:
    if isinstance(source, ValidationResult):
        if not source.ok:
            raise NotPlannable(source.errors)
        if source.stack is None:
            raise NotPlannable(())
        return source.stack
    invalid = [c for c in source.components.values() if not c.valid or not c.deployable]
    if invalid or source.graph.cycles:
        raise NotPlannable(())
    return source


def _compare(
    kinds: Any,
    component: Component,
    entry: Mapping[str, Any],
    text: bytes,
    digest: str,
    base: dict[str, Any],
    findings: list[Finding],
) -> Action:
    old_type = entry.get("type")
    if old_type != component.kind:
        return Action(
            action="replace",
            replace_field="kind",
            changes=(Change("kind", old_type, component.kind),),
            reason=f"kind changes from {old_type} to {component.kind}",
            **base,
        )
    old_service = entry.get("service")
    if old_service not in (None, "", component.service):
        return Action(
            action="replace",
            replace_field="service",
            changes=(Change("service", old_service, component.service),),
            reason="the service is part of every generated AWS name",
            **base,
        )
    status = entry.get("status", _READY)
    old = entry.get("config")
    if not isinstance(old, dict):
        if entry.get("config_hash") == digest:
            return _unchanged(status, base)
        return Action(
            action="update",
            reason="the configuration hash differs; the state has "
            "no previous config, so the changed fields are unknown",
            **base,
        )

    # Compare like with like: the old config went through JSON (tuples became lists).
    config = json.loads(text)
    changes = tuple(_diff(old, config))
    if not changes:
        return _unchanged(status, base)
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    downgrade = kinds.version_downgrade(component.kind, old_spec, config["spec"])
    if downgrade:
        line, col = component.line, component.column
        findings.append(
            Finding(
                "error",
                "version-downgrade",
                f"{component.name}: {downgrade}",
                component.file,
                line,
                col,
                "spec",
            )
        )
    if old.get("region") not in (None, config["region"]):
        return Action(
            action="replace",
            replace_field="region",
            changes=changes,
            reason="AWS resources cannot move between regions",
            **base,
        )
    reason = kinds.replace_reason(component.kind, old_spec, config["spec"])
    if reason:
        return Action(
            action="replace",
            replace_field=f"spec.{reason}",
            changes=changes,
            reason=f"a change to spec.{reason} forces a new resource",
            **base,
        )
    return Action(
        action="update", changes=changes, reason=", ".join(c.path for c in changes), **base
    )


def _unchanged(status: Any, base: dict[str, Any]) -> Action:
    if status != _READY:
        # A failed or interrupted apply left it half-done: apply the same config again.
        return Action(action="update", reason=f"the last apply left it `{status}`", **base)
    return Action(action="no-op", **base)


def _deletes(resources: Mapping[str, Mapping[str, Any]], stack: Stack) -> list[Action]:
    gone = {name: entry for name, entry in resources.items() if name not in stack.components}
    if not gone:
        return []
    graph = build_graph(
        {
            name: [d for d in entry.get("depends_on") or () if isinstance(d, str)]
            for name, entry in gone.items()
        }
    )
    levels = dict(graph.levels)
    for name in gone:  # a corrupt state with a loop still gets deleted, after the rest
        levels.setdefault(name, -1)
    order = sorted(gone, key=lambda n: (-levels[n], n))
    return [
        Action(
            component=name,
            kind=str(gone[name].get("type", "")),
            service=str(gone[name].get("service") or ""),
            action="delete",
            level=max(levels[name], 0),
            reason="in the state, not in the stack",
            depends_on=tuple(sorted(graph.deps[name])),
        )
        for name in order
    ]


def _read_state(
    state: Mapping[str, Any] | None, stack: str, environment: str, findings: list[Finding]
) -> tuple[dict[str, Mapping[str, Any]], int | None, str | None]:
    if state is None:
        return {}, None, None

    def bad(message: str) -> None:
        findings.append(Finding("error", "invalid-state", message, "state.json"))

    if not isinstance(state, Mapping):
        bad("the state must be a JSON object")
        return {}, None, None
    if state.get("version", "1.0") != "1.0":
        bad(f"state version `{state.get('version')}` is not supported (expected 1.0)")
    meta = state.get("metadata") if isinstance(state.get("metadata"), Mapping) else {}
    for key, expected in (("stack", stack), ("environment", environment)):
        value = meta.get(key)
        if value not in (None, "", expected):
            findings.append(
                Finding(
                    "error",
                    "state-mismatch",
                    f"the state is for {key} `{value}`, not `{expected}`",
                    "state.json",
                    0,
                    0,
                    f"metadata.{key}",
                )
            )
    serial = meta.get("serial") if isinstance(meta.get("serial"), int) else None
    lineage = meta.get("lineage") if isinstance(meta.get("lineage"), str) else None
    raw = state.get("resources") or {}
    if not isinstance(raw, Mapping):
        bad("`resources` must be an object keyed by component name")
        return {}, serial, lineage
    resources: dict[str, Mapping[str, Any]] = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
            bad(f"resource `{name}` must be an object with a string `type`")
            continue
        resources[name] = entry
    return resources, serial, lineage


def _diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """Field-level differences; lists of different lengths change as a whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                changes.append(Change(sub, None, new[key]))
            elif key not in new:
                changes.append(Change(sub, old[key], None))
            elif old[key] != new[key]:
                changes.extend(_diff(old[key], new[key], sub))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                changes.extend(_diff(a, b, f"{path}[{i}]"))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [Change(path, old, new)]

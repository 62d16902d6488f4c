"""A small stand-in for ``deployments.spec.kinds`` that follows spec_contract.md.

Core's unit tests run against it so they test core alone: the real schemas are written
in parallel and tested in tests/spec/kinds/. Integration tests use the real module.
Only what core relies on is modelled: a few required and integer fields, unknown-field
warnings, references, outputs (with switched-off ones), config, replace rules.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SpecIssue:
    severity: Literal["error", "warning"]
    code: str
    path: Path
    message: str


@dataclass(frozen=True, slots=True)
class Ref:
    path: Path
    component: str
    output: str | None
    target_kinds: frozenset[str] | None


KIND_NAMES = (
    "MicroService",
    "Worker",
    "CronJob",
    "Lambda",
    "RDS",
    "DynamoDB",
    "ElastiCacheRedis",
    "S3",
    "SQS",
    "SNS",
    "EventBridge",
    "DocumentDB",
)
DEPLOYABLE_KINDS = frozenset(KIND_NAMES) - {"DocumentDB"}
KIND_CODES = {
    "missing-field": "A required field is absent.",
    "invalid-type": "A value has the wrong type.",
    "invalid-value": "A value is out of range.",
    "unknown-field": "A field that is not in the schema.",
    "invalid-combination": "Fields that conflict.",
    "not-applied": "Accepted, not applied.",
}

_CONTAINER = (
    "image",
    "runtime",
    "replicas",
    "ports",
    "environment",
    "secrets",
    "command",
    "args",
    "taskRoleArn",
    "autoscaling",
    "healthCheck",
)
_FIELDS: dict[str, tuple[str, ...]] = {
    "MicroService": _CONTAINER,
    "Worker": _CONTAINER,
    "CronJob": (
        "schedule",
        "enabled",
        "description",
        "lambda",
        "image",
        "runtime",
        "environment",
        "secrets",
        "taskCount",
        "input",
    ),
    "Lambda": (
        "runtime",
        "handler",
        "code",
        "memory",
        "timeout",
        "environment",
        "triggers",
        "vpc",
        "reservedConcurrentExecutions",
        "roleArn",
        "layers",
    ),
    "RDS": ("engine", "instance", "database", "backup", "maintenance"),
    "DynamoDB": ("billingMode", "tableName", "hashKey", "rangeKey", "stream", "ttl"),
    "ElastiCacheRedis": ("engine", "cluster", "security"),
    "S3": ("bucket", "versioning", "encryption", "lifecycle", "cors"),
    "SQS": (
        "type",
        "visibilityTimeout",
        "messageRetentionPeriod",
        "deadLetterQueue",
        "receiveWaitTime",
        "delaySeconds",
        "maxMessageSize",
        "encryption",
    ),
    "SNS": ("displayName", "fifoTopic", "subscriptions", "encryption"),
    "EventBridge": ("eventBus", "schedule", "eventPattern", "description", "enabled", "targets"),
    "DocumentDB": ("cluster",),
    "Stack": ("provider", "variables", "description"),
    "Service": ("variables", "dependsOn", "description"),
}
_REQUIRED = {
    "MicroService": ("image",),
    "Worker": ("image",),
    "DynamoDB": ("hashKey",),
    "RDS": ("engine",),
    "Stack": ("provider",),
    "CronJob": ("schedule",),
}
_INTS = {
    "SQS": {"visibilityTimeout": (0, 43200), "messageRetentionPeriod": (60, 1209600)},
    "MicroService": {"replicas": (0, 10_000)},
    "Worker": {"replicas": (0, 10_000)},
    "Lambda": {"memory": (128, 10240), "timeout": (1, 900)},
}
_OUTPUTS = {
    "MicroService": ("service_name", "service_arn", "cluster_name"),
    "Worker": ("service_name", "service_arn", "cluster_name"),
    "CronJob": ("rule_name", "arn"),
    "Lambda": ("function_name", "arn", "role_arn"),
    "RDS": ("instance_id", "endpoint", "port", "arn"),
    "DynamoDB": ("table_name", "arn", "stream_arn"),
    "ElastiCacheRedis": ("cluster_id", "endpoint", "port"),
    "S3": ("bucket_name", "arn", "region"),
    "SQS": ("queue_name", "queue_url", "arn", "dlq_url", "dlq_arn"),
    "SNS": ("topic_name", "arn"),
    "EventBridge": ("rule_name", "arn"),
    "DocumentDB": (),
}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


@dataclass(frozen=True)
class ValidatedSpec:
    kind: str
    model: object | None
    issues: list[SpecIssue]
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def references(self) -> list[Ref]:
        refs: list[Ref] = []
        d = self.data
        for i, name in enumerate(d.get("dependsOn") or []):
            if isinstance(name, str):
                refs.append(Ref(("dependsOn", i), name, None, None))
        env = d.get("environment")
        if isinstance(env, list):
            for i, entry in enumerate(env):
                vf = entry.get("valueFrom") if isinstance(entry, dict) else None
                if isinstance(vf, dict) and isinstance(vf.get("component"), str):
                    refs.append(
                        Ref(
                            ("environment", i, "valueFrom", "component"),
                            vf["component"],
                            vf.get("output"),
                            None,
                        )
                    )
        for i, sub in enumerate(d.get("subscriptions") or []):
            if isinstance(sub, dict) and isinstance(sub.get("component"), str):
                refs.append(
                    Ref(
                        ("subscriptions", i, "component"),
                        sub["component"],
                        None,
                        frozenset({"SQS", "Lambda"}),
                    )
                )
        target = d.get("lambda")
        if isinstance(target, dict) and isinstance(target.get("component"), str):
            refs.append(
                Ref(("lambda", "component"), target["component"], None, frozenset({"Lambda"}))
            )
        return refs

    def outputs(self) -> frozenset[str]:
        names = set(_OUTPUTS.get(self.kind, ()))
        if self.kind == "SQS" and not (self.data.get("deadLetterQueue") or {}).get("enabled"):
            names -= {"dlq_url", "dlq_arn"}
        if self.kind == "DynamoDB" and not (self.data.get("stream") or {}).get("enabled"):
            names.discard("stream_arn")
        return frozenset(names)

    def config(self) -> dict[str, Any]:
        if self.model is None:
            return {}
        config = {k: v for k, v in copy.deepcopy(self.data).items() if k != "dependsOn"}
        if self.kind == "SQS":
            config.setdefault("type", "standard")
            config.setdefault("visibilityTimeout", 30)
        for name in _INTS.get(self.kind, {}):
            if isinstance(config.get(name), str):
                config[name] = int(config[name])
        return dict(sorted(config.items()))


def validate_spec(kind: str, spec: object, *, nulls: bool = True) -> ValidatedSpec:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return ValidatedSpec(
            kind, None, [SpecIssue("error", "invalid-type", (), "`spec` must be a mapping")]
        )
    issues: list[SpecIssue] = []
    known = _FIELDS.get(kind, ())
    for key in spec:
        if key not in known and key not in ("dependsOn", "tags"):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            issues.append(
                SpecIssue("warning", "unknown-field", (key,), f"unknown field `{key}`{hint}")
            )
    for key in _REQUIRED.get(kind, ()):
        if key not in spec:
            issues.append(SpecIssue("error", "missing-field", (), f"`{key}` is required"))
    if (
        kind == "MicroService"
        and isinstance(spec.get("image"), dict)
        and "tag" not in spec["image"]
    ):
        issues.append(SpecIssue("error", "missing-field", ("image",), "`image.tag` is required"))
    for name, (low, high) in _INTS.get(kind, {}).items():
        value = spec.get(name)
        if value is None:
            continue
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            issues.append(
                SpecIssue("error", "invalid-type", (name,), f"`{name}` must be a whole number")
            )
        elif not low <= value <= high:
            issues.append(
                SpecIssue("error", "invalid-value", (name,), f"`{name}` must be {low}-{high}")
            )
    if kind == "SQS" and spec.get("contentBasedDeduplication") and spec.get("type") != "fifo":
        issues.append(
            SpecIssue("error", "invalid-combination", ("contentBasedDeduplication",), "fifo only")
        )
    if (
        kind == "MicroService"
        and isinstance(spec.get("image"), dict)
        and "pullPolicy" in spec["image"]
    ):
        issues.append(
            SpecIssue(
                "warning",
                "not-applied",
                ("image", "pullPolicy"),
                "`image.pullPolicy` is not applied",
            )
        )
    errors = any(i.severity == "error" for i in issues)
    return ValidatedSpec(kind, None if errors else object(), issues, spec)


def canonical_output(kind: str, name: str) -> str | None:
    for output in _OUTPUTS.get(kind, ()):
        if name in (output, _camel(output)):
            return output
    if kind == "Lambda" and name in ("function_arn", "functionArn"):
        return "arn"
    return None


def all_outputs(kind: str) -> tuple[str, ...]:
    return _OUTPUTS.get(kind, ())


_REPLACE = {
    "SQS": ("type",),
    "DynamoDB": ("hashKey", "rangeKey", "tableName"),
    "SNS": ("fifoTopic",),
    "EventBridge": ("eventBus",),
}


def replace_reason(kind: str, old: dict, new: dict) -> str | None:
    for key in _REPLACE.get(kind, ()):
        if old.get(key) != new.get(key):
            return key
    if kind == "RDS" and (old.get("engine") or {}).get("type") != (new.get("engine") or {}).get(
        "type"
    ):
        return "engine.type"
    return None


def version_downgrade(kind: str, old: dict, new: dict) -> str | None:
    if kind not in ("RDS", "ElastiCacheRedis"):
        return None
    before = str((old.get("engine") or {}).get("version", "0"))
    after = str((new.get("engine") or {}).get("version", "0"))
    as_tuple = lambda v: tuple(int(p) for p in v.split(".") if p.isdigit())  # noqa: E731
    if as_tuple(after) < as_tuple(before):
        return f"engine version {before} → {after} is a downgrade"
    return None


def in_network(kind: str, config: dict) -> bool:
    return kind in ("MicroService", "Worker", "RDS", "ElastiCacheRedis")

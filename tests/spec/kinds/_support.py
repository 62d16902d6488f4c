"""Small builders shared by the kind-schema tests: a minimal valid spec per kind and
helpers to change one field and look at the issues that come back."""

from __future__ import annotations

import copy
from typing import Any

from deployments.spec.kinds import SpecIssue, ValidatedSpec, validate_spec

IMAGE = {"repository": "nginx", "tag": "1.25"}
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:utils:3"
ROLE = "arn:aws:iam::123456789012:role/app"

MINIMAL: dict[str, dict[str, Any]] = {
    "MicroService": {"image": IMAGE},
    "Worker": {"image": IMAGE},
    "CronJob": {"schedule": "rate(5 minutes)", "image": IMAGE},
    "Lambda": {
        "runtime": "python3.11",
        "handler": "app.handler",
        "code": {"zipFile": "def handler(e, c):\n    return 1\n"},
    },
    "RDS": {
        "engine": {"type": "postgres", "version": "15"},
        "instance": {"class": "db.t3.micro", "storage": {"allocatedGB": 20}},
        "database": {"name": "app", "username": "admin", "passwordSecret": {"ref": "db/password"}},
    },
    "DynamoDB": {"hashKey": {"name": "id", "type": "S"}},
    "ElastiCacheRedis": {},
    "S3": {},
    "SQS": {},
    "SNS": {},
    "EventBridge": {"schedule": "rate(1 hour)", "targets": [{"component": "jobs"}]},
    "Stack": {"provider": {"name": "aws", "region": "us-east-1"}},
    "Service": {},
}

DROP = object()  # a value for `spec()` that removes the key


def spec(kind: str, changes: dict[tuple, Any] | None = None) -> dict:
    """The minimal spec of ``kind`` with ``{path: value}`` changes applied (``DROP`` removes)."""
    data = copy.deepcopy(MINIMAL[kind])
    for path, value in (changes or {}).items():
        node: Any = data
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        if value is DROP:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return data


def check(kind: str, changes: dict[tuple, Any] | None = None) -> ValidatedSpec:
    return validate_spec(kind, spec(kind, changes))


def errors(result: ValidatedSpec) -> list[tuple[str, tuple]]:
    return [(i.code, i.path) for i in result.issues if i.severity == "error"]


def warnings(result: ValidatedSpec) -> list[tuple[str, tuple]]:
    return [(i.code, i.path) for i in result.issues if i.severity == "warning"]


def only_error(result: ValidatedSpec) -> SpecIssue:
    found = [i for i in result.issues if i.severity == "error"]
    assert len(found) == 1, found
    return found[0]


def valid(result: ValidatedSpec) -> ValidatedSpec:
    assert result.model is not None and not errors(result), result.issues
    return result

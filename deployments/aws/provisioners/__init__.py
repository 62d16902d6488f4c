"""One provisioner per deployable kind (kinds.md), looked up by kind name."""

from __future__ import annotations

import importlib

from .base import Context, Network, Observed, Outcome, Provisioner, ProvisionError

# kind -> module of this package that exposes PROVISIONERS: dict[str, Provisioner]
_MODULES = {
    "SQS": "sqs",
    "SNS": "sns",
    "DynamoDB": "dynamodb",
    "S3": "s3",
    "MicroService": "ecs",
    "Worker": "ecs",
    "CronJob": "cronjob",
    "Lambda": "lambda_function",
    "EventBridge": "eventbridge",
    "RDS": "rds",
    "ElastiCacheRedis": "elasticache",
}


def provisioner_for(kind: str) -> Provisioner:
    if kind not in _MODULES:
        raise ProvisionError(f"no provisioner for kind {kind!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES[kind]}")
    return module.PROVISIONERS[kind]


__all__ = [
    "Context",
    "Network",
    "Observed",
    "Outcome",
    "ProvisionError",
    "Provisioner",
    "provisioner_for",
]

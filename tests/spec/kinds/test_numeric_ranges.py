"""Every numeric range kinds.md gives: both boundaries accepted, one beyond refused."""

from __future__ import annotations

import pytest

from ._support import check, only_error, valid

# (kind, path to the number, low, high, other changes that make the boundary values valid)
RANGES = [
    ("MicroService", ("replicas",), 0, None, {}),
    ("MicroService", ("autoscaling", "minReplicas"), 1, None, {("autoscaling", "maxReplicas"): 10**7}),
    ("MicroService", ("autoscaling", "maxReplicas"), 1, None, {}),
    ("MicroService", ("autoscaling", "targetCPUPercent"), 1, 100, {}),
    ("MicroService", ("autoscaling", "targetCPUUtilization"), 1, 100, {}),
    ("MicroService", ("autoscaling", "targetMemoryPercent"), 1, 100, {}),
    ("MicroService", ("ports", 0, "port"), 1, 65535, {("ports",): [{"name": "p", "port": 1}]}),
    ("Worker", ("replicas",), 0, None, {}),
    ("CronJob", ("taskCount",), 1, 10, {}),
    ("Lambda", ("memory",), 128, 10240, {}),
    ("Lambda", ("timeout",), 1, 900, {}),
    ("Lambda", ("reservedConcurrentExecutions",), 0, None, {}),
    ("Lambda", ("triggers", 0, "batchSize"), 1, 10000,
     {("triggers",): [{"type": "sqs", "source": {"component": "q"}}]}),
    ("RDS", ("instance", "storage", "allocatedGB"), 20, 65536, {}),
    ("RDS", ("instance", "iops"), 1000, None, {("instance", "storage", "type"): "io1"}),
    ("RDS", ("database", "port"), 1150, 65535, {}),
    ("RDS", ("backup", "retentionDays"), 1, 35, {}),
    ("DynamoDB", ("readCapacity",), 1, None, {("billingMode",): "PROVISIONED", ("writeCapacity",): 1}),
    ("DynamoDB", ("writeCapacity",), 1, None, {("billingMode",): "PROVISIONED", ("readCapacity",): 1}),
    ("ElastiCacheRedis", ("cluster", "numNodes"), 1, 6, {}),
    ("S3", ("lifecycle", 0, "expiration", "days"), 1, None, {("lifecycle",): [{"id": "r", "expiration": {}}]}),
    ("S3", ("lifecycle", 0, "noncurrentVersionExpiration", "days"), 1, None,
     {("lifecycle",): [{"id": "r", "noncurrentVersionExpiration": {}}]}),
    ("S3", ("lifecycle", 0, "transitions", 0, "days"), 0, None,
     {("lifecycle",): [{"id": "r", "transitions": [{"storageClass": "GLACIER"}]}]}),
    ("S3", ("cors", "maxAgeSeconds"), 0, None, {("cors",): {"allowedOrigins": ["*"], "allowedMethods": ["GET"]}}),
    ("SQS", ("messageRetentionPeriod",), 60, 1209600, {}),
    ("SQS", ("visibilityTimeout",), 0, 43200, {}),
    ("SQS", ("maxMessageSize",), 1024, 262144, {}),
    ("SQS", ("receiveWaitTime",), 0, 20, {}),
    ("SQS", ("delaySeconds",), 0, 900, {}),
    ("SQS", ("deadLetterQueue", "maxReceiveCount"), 1, 1000, {}),
]  # fmt: skip


def _ids(case):
    return f"{case[0]}:{'.'.join(map(str, case[1]))}"


@pytest.mark.parametrize("kind, path, low, high, extra", RANGES, ids=[_ids(c) for c in RANGES])
def test_each_range_accepts_its_boundaries_and_refuses_one_beyond(kind, path, low, high, extra):
    accepted = [low] + ([high] if high is not None else [low + 10**6])
    for number in accepted:
        for written in (number, str(number)):
            valid(check(kind, {**extra, path: written}))
    refused = [low - 1] + ([high + 1] if high is not None else [])
    for number in refused:
        issue = only_error(check(kind, {**extra, path: number}))
        assert (issue.code, issue.path) == ("invalid-value", path)
        assert f"must be {'between' if high is not None else 'at least'} {low}" in issue.message

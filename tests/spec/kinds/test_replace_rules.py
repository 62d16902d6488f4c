"""replace_reason() per the "Replace" lines of kinds.md, and version_downgrade()."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import replace_reason, version_downgrade

from ._support import check, valid


def _configs(kind, before, after):
    return valid(check(kind, before)).config(), valid(check(kind, after)).config()


@pytest.mark.parametrize("kind, before, after, reason", [
    ("RDS", {("engine", "type"): "postgres"}, {("engine", "type"): "mysql"}, "engine.type"),
    ("RDS", {}, {("database", "name"): "other"}, "database.name"),
    ("RDS", {}, {("database", "username"): "other"}, "database.username"),
    ("RDS", {("instance", "storage", "allocatedGB"): 100}, {("instance", "storage", "allocatedGB"): 50},
     "instance.storage.allocatedGB"),
    ("DynamoDB", {}, {("hashKey", "name"): "pk"}, "hashKey"),
    ("DynamoDB", {}, {("rangeKey",): {"name": "sk", "type": "S"}}, "rangeKey"),
    ("DynamoDB", {}, {("tableName",): "explicit"}, "tableName"),
    ("ElastiCacheRedis", {}, {("security", "atRestEncryption"): True}, "security.atRestEncryption"),
    ("ElastiCacheRedis", {}, {("security", "transitEncryption"): True}, "security.transitEncryption"),
    ("S3", {}, {("bucket", "name"): "explicit-name"}, "bucket.name"),
    ("SQS", {}, {("type",): "fifo"}, "type"),
    ("SNS", {}, {("fifoTopic",): True}, "fifoTopic"),
    ("EventBridge", {("schedule",): None, ("eventPattern",): {"a": ["b"]}},
     {("schedule",): None, ("eventPattern",): {"a": ["b"]}, ("eventBus",): "orders"}, "eventBus"),
    ("Lambda", {}, {("code",): {"imageUri": "repo/fn:1"}, ("runtime",): None, ("handler",): None}, "code.imageUri"),
])  # fmt: skip
def test_a_change_of_a_replacing_field_names_that_field(kind, before, after, reason):
    old, new = _configs(kind, before, after)
    assert replace_reason(kind, old, new) == reason
    assert replace_reason(kind, old, old) is None


@pytest.mark.parametrize("kind, before, after", [
    ("MicroService", {}, {("image", "tag"): "2", ("replicas",): 5, ("runtime", "cpu"): 1024}),
    ("Worker", {}, {("image", "repository"): "other"}),
    ("CronJob", {}, {("schedule",): "rate(1 hour)"}),
    ("RDS", {("instance", "storage", "allocatedGB"): 50}, {("instance", "storage", "allocatedGB"): 100}),
    ("RDS", {}, {("engine", "version"): "16", ("instance", "class"): "db.t3.large"}),
    ("DynamoDB", {}, {("globalSecondaryIndexes",): [{"name": "ByX", "hashKey": {"name": "x", "type": "S"}, "projection": "ALL"}]}),
    ("SQS", {}, {("visibilityTimeout",): 60}),
    ("Lambda", {}, {("code",): {"s3Bucket": "b", "s3Key": "k"}, ("memory",): 256}),
    ("ElastiCacheRedis", {}, {("cluster", "numNodes"): 3}),
])  # fmt: skip
def test_other_changes_update_in_place(kind, before, after):
    old, new = _configs(kind, before, after)
    assert old != new and replace_reason(kind, old, new) is None


def test_kinds_without_replace_rules_and_unknown_kinds_never_replace():
    assert replace_reason("Nope", {"a": 1}, {"a": 2}) is None
    assert replace_reason("Stack", {}, {}) is None


@pytest.mark.parametrize("kind, before, after, down", [
    ("RDS", "15.4", "14.9", True), ("RDS", "15", "14.7", True), ("RDS", "8.0.35", "8.0.34", True),
    ("RDS", "14.7", "15", False), ("RDS", "15.4", "15", False), ("RDS", "15", "15.2", False),
    ("RDS", "8.0.mysql_aurora.3.04.0", "8.0.mysql_aurora.3.02.0", True),
    ("ElastiCacheRedis", "7.0", "6.2", True), ("ElastiCacheRedis", "6.2", "7.1", False),
])  # fmt: skip
def test_an_engine_version_going_down_is_reported(kind, before, after, down):
    old = valid(check(kind, {("engine", "version"): before})).config()
    new = valid(check(kind, {("engine", "version"): after})).config()
    message = version_downgrade(kind, old, new)
    assert (message is not None) is down
    if down:
        assert before in message and after in message


def test_a_version_change_across_engines_or_to_the_aws_default_is_not_a_downgrade():
    old = valid(check("RDS", {("engine",): {"type": "mysql", "version": "8.0"}})).config()
    new = valid(check("RDS", {("engine",): {"type": "postgres", "version": "5.7"}})).config()
    assert version_downgrade("RDS", old, new) is None
    old = valid(check("ElastiCacheRedis", {("engine", "version"): "7.0"})).config()
    assert (
        version_downgrade("ElastiCacheRedis", old, valid(check("ElastiCacheRedis")).config())
        is None
    )
    assert version_downgrade("SQS", {}, {}) is None

"""NA fields: accepted, type-checked loosely, stored, warned about, never in config()."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import validate_spec

from ._support import check, only_error, valid, warnings

NA_FIELDS = [
    ("MicroService", ("image", "pullPolicy"), "Always"),
    ("MicroService", ("runtime", "handler"), "index.handler"),
    ("MicroService", ("runtime", "runtime"), "nodejs18.x"),
    ("MicroService", ("runtime", "timeout"), "30"),
    ("MicroService", ("healthCheck",), {"path": "/", "port": 80, "initialDelaySeconds": 10}),
    ("MicroService", ("healthCheck",), {"readiness": {"http": {"path": "/", "port": 80}}}),
    ("MicroService", ("configs",), {"mountPath": "/etc/app", "files": ["a.yaml"]}),
    ("MicroService", ("serviceDiscovery",), {"enabled": True, "namespace": "ns"}),
    ("Worker", ("healthCheck",), {"path": "/"}),
    ("RDS", ("instance", "availabilityZones"), ["us-east-1a"]),
    ("RDS", ("database", "passwordSecret", "envVar"), "DB_PASSWORD"),
    ("RDS", ("monitoring",), {"enhancedMonitoring": True}),
    ("S3", ("website",), {"enabled": True}),
    ("S3", ("replication",), {"enabled": False}),
    ("S3", ("publicAccessBlock",), {"blockPublicAcls": True}),
    (
        "Lambda",
        ("triggers",),
        [
            {
                "type": "eventbridge",
                "schedule": "rate(1 day)",
                "description": "d",
                "http": {"method": "GET"},
            }
        ],
    ),
    ("Stack", ("provider", "profile"), "dev"),
    ("Stack", ("infrastructure",), {"vpc": {}}),
    ("Stack", ("networking",), {"securityGroup": {}}),
    ("Service", ("infrastructure",), {"x": 1}),
]


@pytest.mark.parametrize("kind, path, value", NA_FIELDS)
def test_na_fields_are_warned_about_and_kept_out_of_config(kind, path, value):
    result = valid(check(kind, {path: value}))
    where = path if path[0] != "triggers" else ("triggers", 0, "http")
    assert ("not-applied", where) in warnings(result)
    config = result.config()
    node = config
    for part in where[:-1]:
        node = node[part]
    assert where[-1] not in node
    # stored on the model all the same
    obj = result.model
    for part in where:
        obj = obj[part] if isinstance(part, int) else getattr(obj, part)
    assert obj is not None


def test_na_fields_are_type_checked_loosely():
    issue = only_error(check("MicroService", {("healthCheck",): "yes please"}))
    assert (issue.code, issue.path) == ("invalid-type", ("healthCheck",))
    issue = only_error(check("MicroService", {("image", "pullPolicy"): ["Always"]}))
    assert (issue.code, issue.path) == ("invalid-type", ("image", "pullPolicy"))


def test_a_description_is_documentation_and_is_not_warned_about():
    assert (
        validate_spec(
            "Stack", {"provider": {"name": "aws", "region": "us-east-1"}, "description": "x"}
        ).issues
        == []
    )
    assert validate_spec("Service", {"description": "x"}).issues == []


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_a_non_private_bucket_acl_is_accepted_with_a_not_applied_warning(acl):
    result = valid(check("S3", {("bucket", "acl"): acl}))
    assert warnings(result) == [("not-applied", ("bucket", "acl"))]
    assert "always private" in result.issues[0].message
    assert "acl" not in result.config()["bucket"]


def test_a_private_bucket_acl_is_silent_and_an_unknown_acl_is_an_error():
    assert check("S3", {("bucket", "acl"): "private"}).issues == []
    issue = only_error(check("S3", {("bucket", "acl"): "public"}))
    assert (issue.code, issue.path) == ("invalid-value", ("bucket", "acl"))


@pytest.mark.parametrize("trigger", ["s3", "apigateway", "kinesis"])
def test_lambda_triggers_of_na_types_are_accepted_with_a_warning(trigger):
    result = valid(check("Lambda", {("triggers",): [{"type": trigger}]}))
    assert warnings(result) == [("not-applied", ("triggers", 0, "type"))]


def test_container_settings_of_a_cronjob_with_a_lambda_target_are_not_applied():
    result = valid(
        check(
            "CronJob",
            {
                ("image",): None,
                ("lambda",): {"component": "fn"},
                ("environment",): [{"name": "A", "value": "b"}],
                ("taskRoleArn",): "arn:aws:iam::123456789012:role/x",
            },
        )
    )
    assert warnings(result) == [
        ("not-applied", ("environment",)),
        ("not-applied", ("taskRoleArn",)),
    ]
    config = result.config()
    assert (
        config["environment"] == [] and config["taskRoleArn"] is None and config["runtime"] is None
    )

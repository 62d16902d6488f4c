"""MicroService and Worker: Fargate ECS services."""

from __future__ import annotations

import pytest

from ._support import ROLE, check, errors, only_error, valid


def test_a_full_microservice_validates_and_normalises():
    result = valid(check("MicroService", {
        ("runtime",): {"platform": "fargate", "launchType": "FARGATE", "networkMode": "awsvpc",
                       "requiresGPU": "false", "cpu": "512m", "memory": "1Gi"},
        ("replicas",): "3",
        ("autoscaling",): {"enabled": True, "minReplicas": "2", "maxReplicas": 10, "targetCPUUtilization": 70},
        ("ports",): [{"name": "http", "port": "8080"}],
        ("environment",): [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"component": "db", "output": "endpoint"}}],
        ("secrets",): [{"name": "DB_PASSWORD", "secretRef": "prod/db"}],
        ("command",): ["python"], ("args",): ["-m", "app"], ("taskRoleArn",): ROLE,
        ("dependsOn",): ["db"], ("tags",): {"team": "web"},
    }))  # fmt: skip
    config = result.config()
    assert config["replicas"] == 3
    assert config["autoscaling"] == {
        "enabled": True,
        "minReplicas": 2,
        "maxReplicas": 10,
        "targetCPUPercent": 70,
        "targetMemoryPercent": None,
    }
    assert config["ports"] == [{"name": "http", "port": 8080, "protocol": "tcp"}]
    assert config["secrets"] == [
        {"name": "DB_PASSWORD", "secretRef": "prod/db", "envVar": "DB_PASSWORD"}
    ]
    assert config["command"] == ["python"] and config["args"] == ["-m", "app"]
    assert "dependsOn" not in config and config["tags"] == {"team": "web"}


@pytest.mark.parametrize("platform", ["ec2", "lambda", "EC2"])
def test_non_fargate_platforms_are_recognised_but_not_deployable(platform):
    issue = only_error(check("MicroService", {("runtime", "platform"): platform}))
    assert (issue.code, issue.path) == ("not-deployable", ("runtime", "platform"))


@pytest.mark.parametrize(
    "field, value", [("platform", "k8s"), ("launchType", "EC2"), ("networkMode", "bridge")]
)
def test_runtime_settings_allow_only_the_fargate_values(field, value):
    issue = only_error(check("MicroService", {("runtime", field): value}))
    assert (issue.code, issue.path) == ("invalid-value", ("runtime", field))


def test_a_gpu_cannot_be_requested():
    issue = only_error(check("MicroService", {("runtime", "requiresGPU"): True}))
    assert (issue.code, issue.path) == ("invalid-value", ("runtime", "requiresGPU"))


@pytest.mark.parametrize("missing", ["minReplicas", "maxReplicas"])
def test_enabled_autoscaling_needs_both_bounds(missing):
    scaling = {"enabled": "true", "minReplicas": 1, "maxReplicas": 3, "targetMemoryPercent": 80}
    del scaling[missing]
    issue = only_error(check("MicroService", {("autoscaling",): scaling}))
    assert (issue.code, issue.path) == ("missing-field", ("autoscaling",))
    assert f"`autoscaling.{missing}` is required" in issue.message


def test_enabled_autoscaling_needs_a_target():
    issue = only_error(
        check(
            "MicroService",
            {("autoscaling",): {"enabled": True, "minReplicas": 1, "maxReplicas": 2}},
        )
    )
    assert (issue.code, issue.path) == ("missing-field", ("autoscaling",))
    assert "targetCPUPercent" in issue.message


def test_disabled_autoscaling_needs_nothing():
    valid(check("MicroService", {("autoscaling",): {"enabled": False}}))


def test_min_replicas_above_max_is_an_invalid_combination():
    issue = only_error(
        check("MicroService", {("autoscaling",): {"minReplicas": 4, "maxReplicas": 3}})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("autoscaling", "minReplicas"))


def test_both_spellings_of_the_cpu_target_must_agree():
    issue = only_error(
        check(
            "MicroService", {("autoscaling",): {"targetCPUPercent": 60, "targetCPUUtilization": 70}}
        )
    )
    assert (issue.code, issue.path) == (
        "invalid-combination",
        ("autoscaling", "targetCPUUtilization"),
    )
    valid(
        check(
            "MicroService",
            {("autoscaling",): {"targetCPUPercent": 70, "targetCPUUtilization": "70"}},
        )
    )


def test_port_names_must_be_unique():
    result = check(
        "MicroService", {("ports",): [{"name": "http", "port": 80}, {"name": "http", "port": 81}]}
    )
    assert errors(result) == [("duplicate-entry", ("ports", 1, "name"))]


@pytest.mark.parametrize("protocol", ["tcp", "UDP", "Tcp"])
def test_port_protocols_are_tcp_or_udp_in_any_case(protocol):
    valid(check("MicroService", {("ports",): [{"name": "p", "port": 53, "protocol": protocol}]}))


def test_environment_names_must_be_unique():
    result = check(
        "MicroService",
        {("environment",): [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
    )
    assert errors(result) == [("duplicate-entry", ("environment", 1, "name"))]


def test_an_environment_entry_needs_exactly_one_of_value_and_value_from():
    both = {"name": "A", "value": "1", "valueFrom": {"component": "c", "output": "arn"}}
    issue = only_error(check("MicroService", {("environment",): [both]}))
    assert (issue.code, issue.path) == ("invalid-combination", ("environment", 0))
    issue = only_error(check("MicroService", {("environment",): [{"name": "A"}]}))
    assert (issue.code, issue.path) == ("missing-field", ("environment", 0))


def test_value_from_needs_a_component_and_an_output():
    result = check("MicroService", {("environment",): [{"name": "A", "valueFrom": {}}]})
    assert errors(result) == [("missing-field", ("environment", 0, "valueFrom"))] * 2


def test_secrets_need_a_name_and_a_secret_ref():
    result = check("MicroService", {("secrets",): [{"envVar": "X"}]})
    assert errors(result) == [("missing-field", ("secrets", 0))] * 2
    issue = only_error(check("MicroService", {("secrets",): [{"name": "A", "secretRef": ""}]}))
    assert (issue.code, issue.path) == ("invalid-value", ("secrets", 0, "secretRef"))


def test_the_task_role_must_be_an_iam_role_arn():
    issue = only_error(check("MicroService", {("taskRoleArn",): "app-role"}))
    assert (issue.code, issue.path) == ("invalid-value", ("taskRoleArn",))


def test_a_worker_has_the_microservice_fields_but_no_ports():
    valid(check("Worker", {("replicas",): 2, ("autoscaling",): {"enabled": False}}))
    issue = only_error(check("Worker", {("ports",): [{"name": "http", "port": 80}]}))
    assert (issue.code, issue.path) == ("field-not-allowed", ("ports",))
    assert "Worker" in issue.message

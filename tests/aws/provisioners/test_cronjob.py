"""CronJob provisioner (deployments/aws/provisioners/cronjob.py) on the emulator.

Scheduled rules never fire under moto (kinds.md), so the task target is proven by running
its task definition with ``run_task`` directly.
"""

from __future__ import annotations

import json

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import provisioner_for
from tests.aws.provisioners.conftest import config_of, state_entry

NAME = "shop-dev-svc-report"
CLUSTER = "shop-dev"


@pytest.fixture
def table():
    return {
        "events": {
            "type": "DynamoDB",
            "attributes": {
                "table_name": "shop-dev-ingest-events",
                "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/shop-dev-ingest-events",
            },
        }
    }


def container_spec(**overrides):
    spec = {
        "schedule": "rate(1 day)",
        "description": "nightly report",
        "image": {"repository": "shop/reports", "tag": "2025.1"},
        "runtime": {"cpu": 256, "memory": 512},
        "command": ["report"],
        "environment": [
            {"name": "EVENTS_TABLE", "valueFrom": {"component": "events", "output": "tableName"}}
        ],
        "taskCount": 2,
        "tags": {"owner": "reports"},
    }
    spec.update(overrides)
    return spec


def create(make_ctx, resources, config):
    return provisioner_for("CronJob").create(
        make_ctx("CronJob", "report", resources=resources), config
    )


@pytest.fixture
def function(aws, make_ctx):
    """A deployed Lambda component and its state entry."""
    config = config_of(
        "Lambda",
        {
            "runtime": "python3.12",
            "handler": "index.handler",
            "code": {"zipFile": "def handler(e, c):\n    return 1\n"},
        },
    )
    outcome = provisioner_for("Lambda").create(make_ctx("Lambda", "cleanup"), config)
    return {"cleanup": state_entry("Lambda", outcome, config)}


def test_a_container_cronjob_schedules_a_fargate_task(aws, make_ctx, table):
    outcome = create(make_ctx, table, config_of("CronJob", container_spec()))
    events, ecs, iam = client(aws, "events"), client(aws, "ecs"), client(aws, "iam")

    rule = events.describe_rule(Name=NAME)
    assert (rule["ScheduleExpression"], rule["State"], rule["Description"]) == (
        "rate(1 day)",
        "ENABLED",
        "nightly report",
    )
    assert outcome.id == rule["Arn"]
    tags = {
        t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    }
    assert tags["owner"] == "reports" and tags["panka:kind"] == "CronJob"
    [target] = events.list_targets_by_rule(Rule=NAME)["Targets"]
    task_arn = target["EcsParameters"]["TaskDefinitionArn"]
    assert outcome.attributes == {
        "rule_name": NAME,
        "arn": rule["Arn"],
        "task_definition_arn": task_arn,
    }
    assert target["Arn"] == ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["clusterArn"]
    assert target["RoleArn"] == iam.get_role(RoleName=f"{NAME}-events")["Role"]["Arn"]
    assert (target["EcsParameters"]["TaskCount"], target["EcsParameters"]["LaunchType"]) == (
        2,
        "FARGATE",
    )
    vpc = target["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]
    assert vpc["AssignPublicIp"] == "DISABLED" and vpc["Subnets"]

    run_task = iam.get_role_policy(RoleName=f"{NAME}-events", PolicyName="run-task")[
        "PolicyDocument"
    ]
    actions = {a for s in run_task["Statement"] for a in s["Action"]}
    assert {"ecs:RunTask", "iam:PassRole"} <= actions
    passed = next(s for s in run_task["Statement"] if s["Action"] == ["iam:PassRole"])["Resource"]
    assert passed == [iam.get_role(RoleName=f"{NAME}-role")["Role"]["Arn"]]

    definition = ecs.describe_task_definition(taskDefinition=task_arn)["taskDefinition"]
    [container] = definition["containerDefinitions"]
    assert container["environment"] == [{"name": "EVENTS_TABLE", "value": "shop-dev-ingest-events"}]
    assert (container["entryPoint"], container["memory"]) == (["report"], 512)
    # What the rule would do when it fires:
    started = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=task_arn,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": vpc["Subnets"],
                "securityGroups": vpc["SecurityGroups"],
            }
        },
    )
    assert len(started["tasks"]) == 1 and not started["failures"]


def test_a_lambda_cronjob_targets_the_function_with_a_permission(aws, make_ctx, function):
    config = config_of(
        "CronJob",
        {
            "schedule": "cron(0 3 * * ? *)",
            "lambda": {"component": "cleanup"},
            "input": {"dry": False},
        },
    )
    outcome = create(make_ctx, function, config)

    function_arn = function["cleanup"]["attributes"]["arn"]
    [target] = client(aws, "events").list_targets_by_rule(Rule=NAME)["Targets"]
    assert (target["Arn"], json.loads(target["Input"])) == (function_arn, {"dry": False})
    assert set(outcome.attributes) == {"rule_name", "arn"}
    policy = json.loads(client(aws, "lambda").get_policy(FunctionName=function_arn)["Policy"])
    [statement] = [s for s in policy["Statement"] if s["Sid"] == NAME]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == outcome.attributes["arn"]


def test_create_twice_adopts_and_an_unchanged_update_makes_no_mutating_call(aws, make_ctx, table):
    config = config_of("CronJob", container_spec())
    first = create(make_ctx, table, config)
    second = create(make_ctx, table, config)
    assert second == first
    assert [r["Name"] for r in client(aws, "events").list_rules()["Rules"]] == [NAME]
    assert client(aws, "ecs").list_task_definitions(familyPrefix=NAME, status="ACTIVE")[
        "taskDefinitionArns"
    ] == [first.attributes["task_definition_arn"]]

    ctx = make_ctx("CronJob", "report", resources=table)
    assert (
        provisioner_for("CronJob").update(ctx, config, state_entry("CronJob", first, config))
        == first
    )
    assert ctx.mutating_calls == 0


def test_a_new_schedule_and_image_update_the_rule_and_the_task(aws, make_ctx, table):
    config = config_of("CronJob", container_spec())
    outcome = create(make_ctx, table, config)
    changed = config_of(
        "CronJob",
        container_spec(
            schedule="rate(2 hours)", image={"repository": "shop/reports", "tag": "2025.2"}
        ),
    )

    after = provisioner_for("CronJob").update(
        make_ctx("CronJob", "report", resources=table),
        changed,
        state_entry("CronJob", outcome, config),
    )

    events, ecs = client(aws, "events"), client(aws, "ecs")
    assert events.describe_rule(Name=NAME)["ScheduleExpression"] == "rate(2 hours)"
    [target] = events.list_targets_by_rule(Rule=NAME)["Targets"]
    assert target["EcsParameters"]["TaskDefinitionArn"] == after.attributes["task_definition_arn"]
    assert after.attributes["task_definition_arn"].endswith(":2")
    assert ecs.list_task_definitions(familyPrefix=NAME, status="ACTIVE")["taskDefinitionArns"] == [
        after.attributes["task_definition_arn"]
    ]
    observed = provisioner_for("CronJob").read(
        make_ctx("CronJob", "report"), state_entry("CronJob", after, changed)
    )
    assert observed.fields == {
        "schedule": "rate(2 hours)",
        "enabled": True,
        "image.repository": "shop/reports",
        "image.tag": "2025.2",
        "runtime.cpu": 256,
        "runtime.memory": 512,
    }


def test_switching_to_a_lambda_target_removes_the_task_resources(aws, make_ctx, table, function):
    resources = {**table, **function}
    config = config_of("CronJob", container_spec())
    outcome = create(make_ctx, resources, config)
    changed = config_of("CronJob", {"schedule": "rate(1 day)", "lambda": {"component": "cleanup"}})

    after = provisioner_for("CronJob").update(
        make_ctx("CronJob", "report", resources=resources),
        changed,
        state_entry("CronJob", outcome, config),
    )

    assert after.id == outcome.id  # the rule stays; only the target changed
    [target] = client(aws, "events").list_targets_by_rule(Rule=NAME)["Targets"]
    assert target["Arn"] == function["cleanup"]["attributes"]["arn"]
    assert (
        client(aws, "ecs").list_task_definitions(familyPrefix=NAME, status="ACTIVE")[
            "taskDefinitionArns"
        ]
        == []
    )
    roles = {r["RoleName"] for r in client(aws, "iam").list_roles()["Roles"]}
    assert roles == {"shop-dev-svc-cleanup-role"}  # the Lambda's own role only
    assert [
        c
        for c in client(aws, "ecs").describe_clusters(clusters=[CLUSTER])["clusters"]
        if c["status"] == "ACTIVE"
    ] == []


def test_delete_removes_rule_roles_task_definition_and_cluster(aws, make_ctx, table):
    config = config_of("CronJob", container_spec())
    outcome = create(make_ctx, table, config)
    entry = state_entry("CronJob", outcome, config)
    client(aws, "events").disable_rule(Name=NAME)
    assert (
        provisioner_for("CronJob").read(make_ctx("CronJob", "report"), entry).fields["enabled"]
        is False
    )

    provisioner_for("CronJob").delete(make_ctx("CronJob", "report"), entry)

    ecs = client(aws, "ecs")
    assert client(aws, "events").list_rules()["Rules"] == []
    assert client(aws, "iam").list_roles()["Roles"] == []
    assert ecs.list_task_definitions(familyPrefix=NAME, status="ACTIVE")["taskDefinitionArns"] == []
    assert [
        c for c in ecs.describe_clusters(clusters=[CLUSTER])["clusters"] if c["status"] == "ACTIVE"
    ] == []
    assert client(aws, "logs").describe_log_groups(logGroupNamePrefix="/panka/")["logGroups"] == []
    assert provisioner_for("CronJob").read(make_ctx("CronJob", "report"), entry) is None
    provisioner_for("CronJob").delete(make_ctx("CronJob", "report"), entry)  # again: fine


def test_the_cluster_outlives_a_deleted_service_while_a_cronjob_runs_tasks_in_it(
    aws, make_ctx, table
):
    worker_config = config_of("Worker", {"image": {"repository": "shop/worker", "tag": "1"}})
    worker = provisioner_for("Worker").create(make_ctx("Worker", "jobs"), worker_config)
    create(make_ctx, table, config_of("CronJob", container_spec()))

    provisioner_for("Worker").delete(
        make_ctx("Worker", "jobs"), state_entry("Worker", worker, worker_config)
    )

    clusters = client(aws, "ecs").describe_clusters(clusters=[CLUSTER])["clusters"]
    assert [c["status"] for c in clusters] == ["ACTIVE"]

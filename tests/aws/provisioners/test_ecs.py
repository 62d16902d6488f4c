"""MicroService and Worker provisioners (deployments/aws/provisioners/ecs.py) on the emulator."""

from __future__ import annotations

import json

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for
from tests.aws.provisioners.conftest import config_of, state_entry

CLUSTER = "shop-dev"
WEB = "shop-dev-svc-web"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@pytest.fixture
def queue(aws):
    sqs = client(aws, "sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {
        "q": {"type": "SQS", "attributes": {"queue_url": url, "arn": arn, "queue_name": "orders"}}
    }


@pytest.fixture
def secret_arn(aws):
    return client(aws, "secretsmanager").create_secret(
        Name="db-pass", SecretString="hunter2-very-secret"
    )["ARN"]


def web_spec(**overrides):
    spec = {
        "image": {"repository": "registry.example.com:5000/shop/web", "tag": "1.4.2"},
        "runtime": {"cpu": 512, "memory": "1Gi"},
        "replicas": 2,
        "ports": [{"name": "http", "port": 8080}],
        "command": ["python", "-m", "web"],
        "args": ["--port", "8080"],
        "environment": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "ORDER_QUEUE_URL", "valueFrom": {"component": "q", "output": "queueUrl"}},
        ],
        "secrets": [{"name": "db", "secretRef": "db-pass", "envVar": "DB_PASSWORD"}],
        "tags": {"owner": "storefront"},
    }
    spec.update(overrides)
    return spec


def describe(aws, name=WEB):
    ecs = client(aws, "ecs")
    service = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
    found = ecs.describe_task_definition(taskDefinition=service["taskDefinition"], include=["TAGS"])
    return service, found["taskDefinition"], {t["key"]: t["value"] for t in found.get("tags", [])}


def active_revisions(aws, family=WEB):
    arns = client(aws, "ecs").list_task_definitions(familyPrefix=family, status="ACTIVE")[
        "taskDefinitionArns"
    ]
    return [a for a in arns if a.rsplit("/", 1)[-1].rpartition(":")[0] == family]


def test_microservice_create_runs_the_configured_fargate_service_with_secrets_as_arns(
    aws, make_ctx, queue, secret_arn
):
    ctx = make_ctx("MicroService", "web", resources=queue)
    config = config_of("MicroService", web_spec())

    outcome = provisioner_for("MicroService").create(ctx, config)

    service, task, task_tags = describe(aws)
    assert outcome.id == service["serviceArn"]
    assert outcome.attributes == {
        "service_name": WEB,
        "service_arn": service["serviceArn"],
        "cluster_name": CLUSTER,
        "cluster_arn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}",
        "task_definition_arn": task["taskDefinitionArn"],
    }
    assert service["desiredCount"] == 2
    assert service["launchType"] == "FARGATE"
    vpc = service["networkConfiguration"]["awsvpcConfiguration"]
    default_subnets = client(aws, "ec2").describe_subnets()["Subnets"]
    assert sorted(vpc["subnets"]) == sorted(s["SubnetId"] for s in default_subnets)
    assert vpc["assignPublicIp"] == "DISABLED" and len(vpc["securityGroups"]) == 1
    service_tags = {
        t["key"]: t["value"]
        for t in client(aws, "ecs").list_tags_for_resource(resourceArn=service["serviceArn"])[
            "tags"
        ]
    }
    for tags in (service_tags, task_tags):
        assert tags["owner"] == "storefront" and tags["team"] == "platform"
        assert tags["panka:component"] == "web" and tags["panka:kind"] == "MicroService"

    assert (task["cpu"], task["memory"], task["networkMode"]) == ("512", "1024", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    [container] = task["containerDefinitions"]
    assert container["image"] == "registry.example.com:5000/shop/web:1.4.2"
    assert container["memory"] == 1024  # = the task's memory (moto's RunTask needs it)
    assert container["entryPoint"] == ["python", "-m", "web"]
    assert container["command"] == ["--port", "8080"]
    assert [(p["containerPort"], p["protocol"]) for p in container["portMappings"]] == [
        (8080, "tcp")
    ]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env == {"LOG_LEVEL": "info", "ORDER_QUEUE_URL": queue["q"]["attributes"]["queue_url"]}
    assert container["logConfiguration"]["options"]["awslogs-group"] == f"/panka/{WEB}"

    role = client(aws, "iam").get_role(RoleName=f"{WEB}-role")["Role"]
    assert task["executionRoleArn"] == role["Arn"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    secrets_policy = client(aws, "iam").get_role_policy(
        RoleName=f"{WEB}-role", PolicyName="secrets"
    )
    statement = secrets_policy["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"] and statement["Resource"] == [
        secret_arn
    ]
    groups = client(aws, "logs").describe_log_groups(logGroupNamePrefix="/panka/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [f"/panka/{WEB}"]

    # The secret reaches the task as its ARN, never as a value.
    assert container["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": secret_arn}]
    assert "DB_PASSWORD" not in env
    assert "hunter2" not in json.dumps(task, default=str)


def test_a_missing_secret_fails_the_component_with_its_name(aws, make_ctx, queue):
    ctx = make_ctx("MicroService", "web", resources=queue)
    with pytest.raises(ProvisionError, match="secret 'db' \\(db-pass\\)"):
        provisioner_for("MicroService").create(ctx, config_of("MicroService", web_spec()))
    assert client(aws, "ecs").list_clusters()["clusterArns"] == []  # it failed before creating


def test_create_twice_adopts_and_an_unchanged_update_makes_no_mutating_call(
    aws, make_ctx, queue, secret_arn
):
    config = config_of("MicroService", web_spec())
    first = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), config
    )
    second = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), config
    )

    assert second.attributes == first.attributes
    assert client(aws, "ecs").list_services(cluster=CLUSTER)["serviceArns"] == [first.id]
    assert active_revisions(aws) == [first.attributes["task_definition_arn"]]

    ctx = make_ctx("MicroService", "web", resources=queue)
    again = provisioner_for("MicroService").update(
        ctx, config, state_entry("MicroService", first, config)
    )
    assert ctx.mutating_calls == 0
    assert again == first


def test_changing_replicas_updates_the_service_without_a_new_revision(
    aws, make_ctx, queue, secret_arn
):
    config = config_of("MicroService", web_spec())
    outcome = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), config
    )

    ctx = make_ctx("MicroService", "web", resources=queue)
    changed = config_of("MicroService", web_spec(replicas=5))
    after = provisioner_for("MicroService").update(
        ctx, changed, state_entry("MicroService", outcome, config)
    )

    service, _, _ = describe(aws)
    assert service["desiredCount"] == 5
    assert after.attributes["task_definition_arn"] == outcome.attributes["task_definition_arn"]
    assert ctx.mutating_calls == 1  # update_service alone


def test_a_new_image_registers_a_revision_and_deregisters_the_old_one(
    aws, make_ctx, queue, secret_arn
):
    config = config_of("MicroService", web_spec())
    outcome = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), config
    )

    changed = config_of("MicroService", web_spec(image={"repository": "shop/web", "tag": "1.5.0"}))
    after = provisioner_for("MicroService").update(
        make_ctx("MicroService", "web", resources=queue),
        changed,
        state_entry("MicroService", outcome, config),
    )

    service, task, _ = describe(aws)
    assert (
        after.attributes["task_definition_arn"]
        == service["taskDefinition"]
        == task["taskDefinitionArn"]
    )
    assert task["revision"] == 2 and task["containerDefinitions"][0]["image"] == "shop/web:1.5.0"
    assert active_revisions(aws) == [task["taskDefinitionArn"]]


def test_a_changed_dependency_output_is_a_new_revision(aws, make_ctx, queue, secret_arn):
    config = config_of("MicroService", web_spec())
    outcome = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), config
    )
    moved = {
        "q": {
            "type": "SQS",
            "attributes": {**queue["q"]["attributes"], "queue_url": "http://moved/q"},
        }
    }

    provisioner_for("MicroService").update(
        make_ctx("MicroService", "web", resources=moved),
        config,
        state_entry("MicroService", outcome, config),
    )

    _, task, _ = describe(aws)
    env = {e["name"]: e["value"] for e in task["containerDefinitions"][0]["environment"]}
    assert env["ORDER_QUEUE_URL"] == "http://moved/q"


def test_autoscaling_registers_a_target_and_policies_and_is_removed_when_off(aws, make_ctx):
    spec = {
        "image": {"repository": "shop/worker", "tag": "3"},
        "replicas": 1,
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 6,
            "targetCPUPercent": 60,
        },
    }
    config = config_of("Worker", spec)
    outcome = provisioner_for("Worker").create(make_ctx("Worker", "jobs"), config)
    scaling = client(aws, "application-autoscaling")
    resource = f"service/{CLUSTER}/shop-dev-svc-jobs"

    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    [cpu] = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)[
        "ScalingPolicies"
    ]
    assert cpu["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0
    service = client(aws, "ecs").describe_services(cluster=CLUSTER, services=["shop-dev-svc-jobs"])[
        "services"
    ][0]
    assert service["desiredCount"] == 2  # replicas clamped into [min, max]

    ctx = make_ctx("Worker", "jobs")
    provisioner_for("Worker").update(ctx, config, state_entry("Worker", outcome, config))
    assert ctx.mutating_calls == 0

    off = config_of("Worker", {**spec, "autoscaling": {"enabled": False}})
    provisioner_for("Worker").update(
        make_ctx("Worker", "jobs"), off, state_entry("Worker", outcome, config)
    )
    assert (
        scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])[
            "ScalableTargets"
        ]
        == []
    )
    assert (
        scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)[
            "ScalingPolicies"
        ]
        == []
    )


def test_read_reports_drift_and_delete_removes_everything_with_the_last_cluster_user(
    aws, make_ctx, queue, secret_arn
):
    web_config = config_of("MicroService", web_spec())
    web = provisioner_for("MicroService").create(
        make_ctx("MicroService", "web", resources=queue), web_config
    )
    worker_config = config_of("Worker", {"image": {"repository": "shop/worker", "tag": "3"}})
    worker = provisioner_for("Worker").create(make_ctx("Worker", "jobs"), worker_config)
    ecs, iam = client(aws, "ecs"), client(aws, "iam")
    web_entry = state_entry("MicroService", web, web_config)
    ecs.update_service(cluster=CLUSTER, service=WEB, desiredCount=7)

    observed = provisioner_for("MicroService").read(make_ctx("MicroService", "web"), web_entry)
    assert observed.fields == {
        "replicas": 7,
        "image.repository": "registry.example.com:5000/shop/web",
        "image.tag": "1.4.2",
        "runtime.cpu": 512,
        "runtime.memory": 1024,
    }

    provisioner_for("MicroService").delete(make_ctx("MicroService", "web"), web_entry)

    assert (
        ecs.describe_services(cluster=CLUSTER, services=[WEB])["services"][0]["status"]
        == "INACTIVE"
    )
    assert active_revisions(aws) == []
    # The Worker still runs in the cluster.
    assert ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["status"] == "ACTIVE"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=f"{WEB}-role")
    groups = client(aws, "logs").describe_log_groups(logGroupNamePrefix="/panka/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/panka/shop-dev-svc-jobs"]

    provisioner_for("Worker").delete(
        make_ctx("Worker", "jobs"), state_entry("Worker", worker, worker_config)
    )
    clusters = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == []
    assert iam.list_roles()["Roles"] == []
    assert provisioner_for("MicroService").read(make_ctx("MicroService", "web"), web_entry) is None

    # Deleting again (a retried destroy) is not an error.
    provisioner_for("Worker").delete(
        make_ctx("Worker", "jobs"), state_entry("Worker", worker, worker_config)
    )

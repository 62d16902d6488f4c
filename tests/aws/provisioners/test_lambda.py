"""Lambda provisioner (deployments/aws/provisioners/lambda_function.py) on the emulator."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from deployments.aws.clients import AwsSettings, client
from deployments.aws.provisioners import Context, ProvisionError, provisioner_for
from deployments.aws.provisioners.iam import retry_while_role_propagates
from deployments.aws.provisioners.lambda_function import build_zip, code_sha256
from tests.aws.provisioners.conftest import config_of, state_entry

NAME = "shop-dev-svc-notifier"
SOURCE = "def handler(event, context):\n    return {'ok': True}\n"


@pytest.fixture
def sources(aws):
    """A real queue, a table with a stream and a topic, as state entries of their components."""
    sqs, dynamodb, sns = client(aws, "sqs"), client(aws, "dynamodb"), client(aws, "sns")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    table = dynamodb.create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    return {
        "q": {
            "type": "SQS",
            "attributes": {"queue_url": url, "arn": queue_arn, "queue_name": "orders"},
        },
        "events": {
            "type": "DynamoDB",
            "attributes": {
                "table_name": "events",
                "arn": table["TableArn"],
                "stream_arn": table["LatestStreamArn"],
            },
        },
        "topic": {"type": "SNS", "attributes": {"topic_name": "order-events", "arn": topic}},
    }


def spec(**overrides):
    base = {
        "runtime": "python3.12",
        "handler": "index.handler",
        "code": {"zipFile": SOURCE},
        "memory": 256,
        "timeout": 20,
        "environment": {
            "LOG_LEVEL": "info",
            "RETRIES": 3,
            "QUEUE_URL": {"valueFrom": {"component": "q", "output": "queueUrl"}},
        },
        "triggers": [{"type": "sqs", "source": {"component": "q"}, "batchSize": 20}],
        "reservedConcurrentExecutions": 3,
        "tags": {"owner": "notifications"},
    }
    base.update(overrides)
    return base


ALL_TRIGGERS = [
    {"type": "sqs", "source": {"component": "q"}, "batchSize": 20},
    {"type": "eventbridge", "schedule": "rate(5 minutes)", "description": "poll"},
    {"type": "dynamodb", "source": {"component": "events"}, "batchSize": 50},
    {"type": "sns", "source": {"component": "topic"}},
]


def create(make_ctx, sources, config):
    return provisioner_for("Lambda").create(
        make_ctx("Lambda", "notifier", resources=sources), config
    )


def test_create_deploys_the_function_with_resolved_environment_and_sqs_trigger(
    aws, make_ctx, sources
):
    config = config_of("Lambda", spec())
    outcome = create(make_ctx, sources, config)

    found = client(aws, "lambda").get_function(FunctionName=NAME)
    configuration = found["Configuration"]
    role_arn = client(aws, "iam").get_role(RoleName=f"{NAME}-role")["Role"]["Arn"]
    assert outcome.attributes == {
        "function_name": NAME,
        "arn": configuration["FunctionArn"],
        "role_arn": role_arn,
    }
    assert outcome.id == configuration["FunctionArn"]
    assert (configuration["Runtime"], configuration["Handler"]) == ("python3.12", "index.handler")
    assert (configuration["MemorySize"], configuration["Timeout"], configuration["Role"]) == (
        256,
        20,
        role_arn,
    )
    assert configuration["Environment"]["Variables"] == {
        "LOG_LEVEL": "info",
        "RETRIES": "3",
        "QUEUE_URL": sources["q"]["attributes"]["queue_url"],
    }
    assert configuration["CodeSha256"] == code_sha256(
        build_zip(SOURCE, runtime="python3.12", handler="index.handler")
    )
    assert found["Tags"]["owner"] == "notifications" and found["Tags"]["panka:kind"] == "Lambda"
    assert (
        client(aws, "lambda").get_function_concurrency(FunctionName=NAME)[
            "ReservedConcurrentExecutions"
        ]
        == 3
    )

    [mapping] = client(aws, "lambda").list_event_source_mappings(FunctionName=NAME)[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == sources["q"]["attributes"]["arn"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (20, 1)

    iam = client(aws, "iam")
    trust = iam.get_role(RoleName=f"{NAME}-role")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    # The emulator has no AWS-managed policies: the same grants are copied inline there.
    assert sorted(iam.list_role_policies(RoleName=f"{NAME}-role")["PolicyNames"]) == [
        "aws-managed-AWSLambdaBasicExecutionRole",
        "aws-managed-AWSLambdaSQSQueueExecutionRole",
    ]


def test_inline_source_is_zipped_under_the_handler_module_name():
    for runtime, expected in (("python3.12", "app.py"), ("nodejs20.x", "app.js")):
        data = build_zip("x", runtime=runtime, handler="app.main")
        assert zipfile.ZipFile(io.BytesIO(data)).namelist() == [expected]
        assert data == build_zip(
            "x", runtime=runtime, handler="app.main"
        )  # stable: same CodeSha256


def test_every_trigger_type_is_wired(aws, make_ctx, sources):
    outcome = create(make_ctx, sources, config_of("Lambda", spec(triggers=ALL_TRIGGERS)))
    arn = outcome.attributes["arn"]
    lam, events = client(aws, "lambda"), client(aws, "events")

    mappings = lam.list_event_source_mappings(FunctionName=NAME)["EventSourceMappings"]
    assert {m["EventSourceArn"]: m["BatchSize"] for m in mappings} == {
        sources["q"]["attributes"]["arn"]: 20,
        sources["events"]["attributes"]["stream_arn"]: 50,
    }
    rule = events.describe_rule(Name=f"{NAME}-t1")
    assert (rule["ScheduleExpression"], rule["Description"], rule["State"]) == (
        "rate(5 minutes)",
        "poll",
        "ENABLED",
    )
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=f"{NAME}-t1")["Targets"]] == [arn]
    statements = {
        s["Sid"]: s for s in json.loads(lam.get_policy(FunctionName=NAME)["Policy"])["Statement"]
    }
    assert statements[f"{NAME}-t1"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert statements[f"{NAME}-t1"]["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    sns_statement = next(
        s for s in statements.values() if s["Principal"] == {"Service": "sns.amazonaws.com"}
    )
    assert (
        sns_statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        == sources["topic"]["attributes"]["arn"]
    )
    subscriptions = client(aws, "sns").list_subscriptions_by_topic(
        TopicArn=sources["topic"]["attributes"]["arn"]
    )
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]] == [
        ("lambda", arn)
    ]


def test_create_twice_adopts_and_an_unchanged_update_makes_no_mutating_call(aws, make_ctx, sources):
    config = config_of("Lambda", spec(triggers=ALL_TRIGGERS))
    first = create(make_ctx, sources, config)
    second = create(make_ctx, sources, config)

    lam = client(aws, "lambda")
    assert second == first
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == [NAME]
    assert len(lam.list_event_source_mappings(FunctionName=NAME)["EventSourceMappings"]) == 2
    assert len(json.loads(lam.get_policy(FunctionName=NAME)["Policy"])["Statement"]) == 2
    topic = sources["topic"]["attributes"]["arn"]
    assert len(client(aws, "sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1

    ctx = make_ctx("Lambda", "notifier", resources=sources)
    again = provisioner_for("Lambda").update(ctx, config, state_entry("Lambda", first, config))
    assert ctx.mutating_calls == 0
    assert again == first


def test_changes_update_memory_code_concurrency_and_triggers(aws, make_ctx, sources):
    config = config_of("Lambda", spec(triggers=ALL_TRIGGERS))
    outcome = create(make_ctx, sources, config)
    lam = client(aws, "lambda")
    old_sha = lam.get_function(FunctionName=NAME)["Configuration"]["CodeSha256"]
    changed = config_of(
        "Lambda",
        spec(
            memory=512,
            code={"zipFile": SOURCE.replace("True", "False")},
            reservedConcurrentExecutions=None,
            triggers=[{"type": "sqs", "source": {"component": "q"}, "batchSize": 5}],
        ),
    )

    ctx = make_ctx("Lambda", "notifier", resources=sources)
    provisioner_for("Lambda").update(ctx, changed, state_entry("Lambda", outcome, config))

    configuration = lam.get_function(FunctionName=NAME)["Configuration"]
    assert configuration["MemorySize"] == 512
    assert configuration["CodeSha256"] != old_sha
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=NAME)
    [mapping] = lam.list_event_source_mappings(FunctionName=NAME)["EventSourceMappings"]
    assert (mapping["BatchSize"], mapping.get("MaximumBatchingWindowInSeconds", 0)) == (5, 0)
    assert client(aws, "events").list_rules()["Rules"] == []
    topic = sources["topic"]["attributes"]["arn"]
    assert client(aws, "sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    # The role loses the DynamoDB grant with the trigger.
    assert sorted(
        client(aws, "iam").list_role_policies(RoleName=f"{NAME}-role")["PolicyNames"]
    ) == [
        "aws-managed-AWSLambdaBasicExecutionRole",
        "aws-managed-AWSLambdaSQSQueueExecutionRole",
    ]


def test_read_reports_drift_and_delete_removes_everything(aws, make_ctx, sources):
    config = config_of("Lambda", spec(triggers=ALL_TRIGGERS))
    outcome = create(make_ctx, sources, config)
    entry = state_entry("Lambda", outcome, config)
    lam = client(aws, "lambda")
    lam.update_function_configuration(FunctionName=NAME, MemorySize=1024, Timeout=60)

    observed = provisioner_for("Lambda").read(
        make_ctx("Lambda", "notifier", resources=sources), entry
    )
    assert observed.fields == {
        "memory": 1024,
        "timeout": 60,
        "runtime": "python3.12",
        "handler": "index.handler",
        "reservedConcurrentExecutions": 3,
    }

    provisioner_for("Lambda").delete(make_ctx("Lambda", "notifier", resources=sources), entry)

    assert lam.list_functions()["Functions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert client(aws, "events").list_rules()["Rules"] == []
    topic = sources["topic"]["attributes"]["arn"]
    assert client(aws, "sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert client(aws, "iam").list_roles()["Roles"] == []
    assert provisioner_for("Lambda").read(make_ctx("Lambda", "notifier"), entry) is None
    provisioner_for("Lambda").delete(
        make_ctx("Lambda", "notifier", resources=sources), entry
    )  # again: fine


def test_a_given_role_is_used_and_never_deleted(aws, make_ctx, sources):
    iam = client(aws, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role_arn = iam.create_role(RoleName="team-lambda", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    config = config_of("Lambda", spec(roleArn=role_arn, triggers=[]))

    outcome = create(make_ctx, sources, config)
    assert outcome.attributes["role_arn"] == role_arn
    assert (
        client(aws, "lambda").get_function(FunctionName=NAME)["Configuration"]["Role"] == role_arn
    )
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["team-lambda"]

    provisioner_for("Lambda").delete(
        make_ctx("Lambda", "notifier"), state_entry("Lambda", outcome, config)
    )
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["team-lambda"]


def test_a_new_role_that_cannot_be_assumed_yet_is_retried_and_other_errors_are_not():
    ctx = Context(
        aws=AwsSettings(
            region="us-east-1", state_bucket="b", lock_table="t", endpoint_url="http://127.0.0.1:9"
        ),
        tenant="acme",
        stack="shop",
        environment="dev",
        service="svc",
        component="notifier",
        kind="Lambda",
    )
    attempts: list[int] = []

    def create_function():
        attempts.append(1)
        if len(attempts) < 3:
            raise ProvisionError(
                "lambda.create_function: InvalidParameterValueException: The role defined for "
                "the function cannot be assumed by Lambda.",
                code="InvalidParameterValueException",
            )
        return {"FunctionArn": "arn"}

    assert retry_while_role_propagates(ctx, create_function, what="create") == {
        "FunctionArn": "arn"
    }
    assert len(attempts) == 3

    def broken():
        attempts.append(1)
        raise ProvisionError("lambda.create_function: InvalidParameterValueException: bad runtime")

    with pytest.raises(ProvisionError, match="bad runtime"):
        retry_while_role_propagates(ctx, broken, what="create")
    assert len(attempts) == 4

"""EventBridge provisioner (deployments/aws/provisioners/eventbridge.py) on the emulator."""

from __future__ import annotations

import json

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import provisioner_for
from tests.aws.provisioners.conftest import config_of, state_entry

NAME = "shop-dev-svc-orders-rule"
PATTERN = {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}


@pytest.fixture
def queue(aws):
    """A queue, as the state entry of its component."""
    sqs = client(aws, "sqs")
    url = sqs.create_queue(QueueName="audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {
        "audit": {
            "type": "SQS",
            "attributes": {"queue_url": url, "arn": queue_arn, "queue_name": "audit"},
        }
    }


@pytest.fixture
def targets(aws, make_ctx, queue):
    """A queue, a topic and a Lambda function, as state entries of their components."""
    topic = client(aws, "sns").create_topic(Name="alerts")["TopicArn"]
    config = config_of(
        "Lambda",
        {
            "runtime": "python3.12",
            "handler": "index.handler",
            "code": {"zipFile": "def handler(e, c):\n    return 1\n"},
        },
    )
    function = provisioner_for("Lambda").create(make_ctx("Lambda", "notify"), config)
    return {
        **queue,
        "alerts": {"type": "SNS", "attributes": {"topic_name": "alerts", "arn": topic}},
        "notify": state_entry("Lambda", function, config),
    }


def spec(**overrides):
    base = {
        "eventPattern": PATTERN,
        "description": "order events",
        "targets": [
            {"component": "audit", "input": {"kind": "audit"}},
            {"component": "alerts"},
            {"component": "notify", "id": "notifier", "inputPath": "$.detail"},
        ],
        "tags": {"owner": "orders"},
    }
    base.update(overrides)
    return base


def create(make_ctx, resources, config):
    return provisioner_for("EventBridge").create(
        make_ctx("EventBridge", "orders-rule", resources=resources), config
    )


def statements(policy_text):
    return {s["Sid"]: s for s in json.loads(policy_text)["Statement"]} if policy_text else {}


def queue_policy(aws, resources):
    url = resources["audit"]["attributes"]["queue_url"]
    attributes = client(aws, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    return statements(attributes.get("Attributes", {}).get("Policy"))


def topic_policy(aws, resources):
    arn = resources["alerts"]["attributes"]["arn"]
    return statements(
        client(aws, "sns").get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy")
    )


def function_policy(aws, resources):
    try:
        return statements(
            client(aws, "lambda").get_policy(FunctionName=resources["notify"]["attributes"]["arn"])[
                "Policy"
            ]
        )
    except client(aws, "lambda").exceptions.ResourceNotFoundException:
        return {}


def test_a_rule_delivers_to_queue_topic_and_function_with_a_permission_each(aws, make_ctx, targets):
    outcome = create(make_ctx, targets, config_of("EventBridge", spec()))
    events = client(aws, "events")

    rule = events.describe_rule(Name=NAME)
    assert outcome.id == rule["Arn"]
    assert outcome.attributes == {
        "rule_name": NAME,
        "arn": rule["Arn"],
        "event_bus_name": "default",
    }
    assert json.loads(rule["EventPattern"]) == PATTERN and rule["Description"] == "order events"
    tags = {
        t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    }
    assert tags["owner"] == "orders" and tags["panka:component"] == "orders-rule"
    listed = {t["Id"]: t for t in events.list_targets_by_rule(Rule=NAME)["Targets"]}
    assert set(listed) == {"audit", "alerts", "notifier"}
    assert json.loads(listed["audit"]["Input"]) == {"kind": "audit"}
    assert listed["notifier"]["InputPath"] == "$.detail"
    assert listed["notifier"]["Arn"] == targets["notify"]["attributes"]["arn"]

    sqs_statement = queue_policy(aws, targets)[NAME]
    assert sqs_statement["Action"] == "sqs:SendMessage"
    assert sqs_statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]
    assert topic_policy(aws, targets)[NAME]["Action"] == "sns:Publish"
    assert function_policy(aws, targets)[NAME]["Principal"] == {"Service": "events.amazonaws.com"}


def test_a_matching_event_reaches_a_queue_target(aws, make_ctx, queue):
    # moto delivers to SQS targets only (an SNS or Lambda target makes put_events fail with
    # a 500), and it sends the whole event whatever the target's Input says.
    create(make_ctx, queue, config_of("EventBridge", spec(targets=[{"component": "audit"}])))

    client(aws, "events").put_events(
        Entries=[
            {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"id": 7})}
        ]
    )

    url = queue["audit"]["attributes"]["queue_url"]
    [message] = client(aws, "sqs").receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"id": 7}


def test_a_scheduled_rule_reaches_a_fifo_queue_given_by_arn(aws, make_ctx):
    sqs = client(aws, "sqs")
    url = sqs.create_queue(QueueName="ticks.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    config = config_of(
        "EventBridge",
        {"schedule": "rate(1 hour)", "targets": [{"arn": arn, "messageGroupId": "ticks"}]},
    )

    create(make_ctx, {}, config)

    rule = client(aws, "events").describe_rule(Name=NAME)
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    [target] = client(aws, "events").list_targets_by_rule(Rule=NAME)["Targets"]
    assert (target["Id"], target["SqsParameters"]) == ("target-0", {"MessageGroupId": "ticks"})
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"][
        "Policy"
    ]
    assert NAME in statements(policy)


def test_create_twice_adopts_and_an_unchanged_update_makes_no_mutating_call(aws, make_ctx, targets):
    config = config_of("EventBridge", spec())
    first = create(make_ctx, targets, config)
    assert create(make_ctx, targets, config) == first
    assert [r["Name"] for r in client(aws, "events").list_rules()["Rules"]] == [NAME]
    assert len(client(aws, "events").list_targets_by_rule(Rule=NAME)["Targets"]) == 3
    assert list(queue_policy(aws, targets)) == [NAME]

    ctx = make_ctx("EventBridge", "orders-rule", resources=targets)
    assert (
        provisioner_for("EventBridge").update(
            ctx, config, state_entry("EventBridge", first, config)
        )
        == first
    )
    assert ctx.mutating_calls == 0


def test_an_update_changes_the_rule_and_revokes_a_removed_target(aws, make_ctx, targets):
    config = config_of("EventBridge", spec())
    outcome = create(make_ctx, targets, config)
    changed = config_of(
        "EventBridge",
        spec(
            eventPattern={"source": ["shop.refunds"]},
            targets=[{"component": "audit", "input": {"kind": "refund"}}],
        ),
    )

    provisioner_for("EventBridge").update(
        make_ctx("EventBridge", "orders-rule", resources=targets),
        changed,
        state_entry("EventBridge", outcome, config),
    )

    events = client(aws, "events")
    assert json.loads(events.describe_rule(Name=NAME)["EventPattern"]) == {
        "source": ["shop.refunds"]
    }
    [target] = events.list_targets_by_rule(Rule=NAME)["Targets"]
    assert (target["Id"], json.loads(target["Input"])) == ("audit", {"kind": "refund"})
    assert NAME in queue_policy(aws, targets)
    assert NAME not in topic_policy(aws, targets)
    assert NAME not in function_policy(aws, targets)


def test_read_reports_drift_and_delete_revokes_every_statement(aws, make_ctx, targets):
    config = config_of("EventBridge", spec())
    outcome = create(make_ctx, targets, config)
    entry = state_entry("EventBridge", outcome, config)
    client(aws, "events").disable_rule(Name=NAME)

    observed = provisioner_for("EventBridge").read(make_ctx("EventBridge", "orders-rule"), entry)
    assert observed.fields == {"enabled": False, "eventPattern": PATTERN}

    provisioner_for("EventBridge").delete(
        make_ctx("EventBridge", "orders-rule", resources=targets), entry
    )

    assert client(aws, "events").list_rules()["Rules"] == []
    assert queue_policy(aws, targets) == {}
    assert NAME not in topic_policy(aws, targets)
    assert function_policy(aws, targets) == {}
    assert (
        provisioner_for("EventBridge").read(make_ctx("EventBridge", "orders-rule"), entry) is None
    )
    provisioner_for("EventBridge").delete(
        make_ctx("EventBridge", "orders-rule"), entry
    )  # again: fine


def test_a_rule_on_a_custom_bus(aws, make_ctx, queue):
    bus_arn = client(aws, "events").create_event_bus(Name="orders")["EventBusArn"]
    config = config_of("EventBridge", spec(eventBus=bus_arn, targets=[{"component": "audit"}]))

    outcome = create(make_ctx, queue, config)

    assert outcome.attributes["event_bus_name"] == "orders"
    assert [
        r["Name"] for r in client(aws, "events").list_rules(EventBusName="orders")["Rules"]
    ] == [NAME]
    provisioner_for("EventBridge").delete(
        make_ctx("EventBridge", "orders-rule"), state_entry("EventBridge", outcome, config)
    )
    assert client(aws, "events").list_rules(EventBusName="orders")["Rules"] == []

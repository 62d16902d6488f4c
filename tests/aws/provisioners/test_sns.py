"""The SNS provisioner against the emulator: topic, subscriptions, delivery permissions."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for

from .conftest import aws_error, config_of, failing, state_entry

SNS = provisioner_for("SNS")
SQS = provisioner_for("SQS")
NAME = "shop-dev-svc-alerts"


@pytest.fixture
def queue(aws, make_ctx):
    """An applied SQS component ``orders``: its state entry, as ``ctx.resources`` holds it."""
    config = config_of("SQS", {})
    return state_entry("SQS", SQS.create(make_ctx("SQS", "orders"), config), config)


def topic_config(**spec):
    return config_of(
        "SNS",
        {
            "displayName": "Alerts",
            "subscriptions": [
                {"protocol": "sqs", "component": "orders", "filterPolicy": {"type": ["order"]}},
                {"protocol": "email", "endpoint": "ops@example.com"},
            ],
            **spec,
        },
    )


def subscriptions(aws, arn: str) -> dict[tuple[str, str], str]:
    subs = client(aws, "sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    return {(s["Protocol"], s["Endpoint"]): s["SubscriptionArn"] for s in subs}


def queue_policy(aws, queue) -> list[dict]:
    attrs = (
        client(aws, "sqs")
        .get_queue_attributes(QueueUrl=queue["id"], AttributeNames=["Policy"])
        .get("Attributes", {})
    )
    return json.loads(attrs["Policy"])["Statement"] if attrs.get("Policy") else []


def topics(aws) -> list[str]:
    return [t["TopicArn"] for t in client(aws, "sns").list_topics()["Topics"]]


def test_create_makes_the_topic_its_subscriptions_and_the_queue_permission(aws, make_ctx, queue):
    ctx = make_ctx("SNS", "alerts", resources={"orders": queue})

    outcome = SNS.create(ctx, topic_config(tags={"owner": "ops"}))

    arn = outcome.id
    assert outcome.attributes == {"topic_name": NAME, "arn": arn, "topic_arn": arn}
    assert (
        client(aws, "sns").get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"]
        == "Alerts"
    )
    tags = {
        t["Key"]: t["Value"]
        for t in client(aws, "sns").list_tags_for_resource(ResourceArn=arn)["Tags"]
    }
    assert (tags["owner"], tags["team"], tags["panka:kind"]) == ("ops", "platform", "SNS")
    subs = subscriptions(aws, arn)
    assert set(subs) == {("sqs", queue["attributes"]["arn"]), ("email", "ops@example.com")}
    sub_attrs = client(aws, "sns").get_subscription_attributes(
        SubscriptionArn=subs[("sqs", queue["attributes"]["arn"])]
    )
    assert json.loads(sub_attrs["Attributes"]["FilterPolicy"]) == {"type": ["order"]}
    [statement] = queue_policy(aws, queue)
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": arn}}


def test_a_second_create_after_a_crash_adopts_the_same_topic(aws, make_ctx, queue):
    first = SNS.create(make_ctx("SNS", "alerts", resources={"orders": queue}), topic_config())
    ctx = make_ctx("SNS", "alerts", resources={"orders": queue})

    second = SNS.create(ctx, topic_config())

    assert second == first
    assert topics(aws) == [first.id]
    assert len(subscriptions(aws, first.id)) == 2
    assert len(queue_policy(aws, queue)) == 1
    assert ctx.mutating_calls == 0  # everything was already as configured


def test_an_update_without_changes_makes_no_mutating_calls(aws, make_ctx, queue):
    config = topic_config()
    outcome = SNS.create(make_ctx("SNS", "alerts", resources={"orders": queue}), config)
    ctx = make_ctx("SNS", "alerts", resources={"orders": queue})

    assert SNS.update(ctx, config, state_entry("SNS", outcome, config)) == outcome
    assert ctx.mutating_calls == 0


def test_an_update_changes_attributes_filters_and_removes_only_its_own_subscriptions(
    aws, make_ctx, queue
):
    config = topic_config()
    outcome = SNS.create(make_ctx("SNS", "alerts", resources={"orders": queue}), config)
    # Someone else's subscription (a Lambda's own sns trigger does this) must survive.
    client(aws, "sns").subscribe(
        TopicArn=outcome.id, Protocol="email", Endpoint="other@example.com"
    )
    changed = config_of(
        "SNS",
        {
            "displayName": "Alerts!",
            "subscriptions": [
                {"protocol": "sqs", "component": "orders", "filterPolicy": {"type": ["refund"]}}
            ],
        },
    )

    SNS.update(
        make_ctx("SNS", "alerts", resources={"orders": queue}),
        changed,
        state_entry("SNS", outcome, config),
    )

    assert (
        client(aws, "sns").get_topic_attributes(TopicArn=outcome.id)["Attributes"]["DisplayName"]
        == "Alerts!"
    )
    subs = subscriptions(aws, outcome.id)
    assert set(subs) == {("sqs", queue["attributes"]["arn"]), ("email", "other@example.com")}
    sub_attrs = client(aws, "sns").get_subscription_attributes(
        SubscriptionArn=subs[("sqs", queue["attributes"]["arn"])]
    )
    assert json.loads(sub_attrs["Attributes"]["FilterPolicy"]) == {"type": ["refund"]}

    dropped = config_of("SNS", {"displayName": "Alerts!"})
    SNS.update(
        make_ctx("SNS", "alerts", resources={"orders": queue}),
        dropped,
        state_entry("SNS", outcome, changed),
    )

    assert set(subscriptions(aws, outcome.id)) == {("email", "other@example.com")}
    assert queue_policy(aws, queue) == []  # the permission went with the subscription


def test_a_lambda_subscription_gets_an_invoke_permission(aws, make_ctx):
    role = client(aws, "iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    function = client(aws, "lambda").create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    fn = {"id": "fn", "type": "Lambda", "attributes": {"function_name": "fn", "arn": function}}
    config = config_of("SNS", {"subscriptions": [{"protocol": "lambda", "component": "fn"}]})

    outcome = SNS.create(make_ctx("SNS", "alerts", resources={"fn": fn}), config)

    assert set(subscriptions(aws, outcome.id)) == {("lambda", function)}
    [statement] = json.loads(client(aws, "lambda").get_policy(FunctionName=function)["Policy"])[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert outcome.id in json.dumps(statement["Condition"])


def test_delete_removes_the_topic_and_the_queue_permission(aws, make_ctx, queue):
    config = topic_config()
    outcome = SNS.create(make_ctx("SNS", "alerts", resources={"orders": queue}), config)
    entry = state_entry("SNS", outcome, config)

    SNS.delete(make_ctx("SNS", "alerts", resources={"orders": queue}), entry)
    SNS.delete(make_ctx("SNS", "alerts", resources={"orders": queue}), entry)

    assert topics(aws) == []
    assert queue_policy(aws, queue) == []


def test_read_matches_the_config_then_reports_drift_then_none(aws, make_ctx, queue):
    config = topic_config()
    outcome = SNS.create(make_ctx("SNS", "alerts", resources={"orders": queue}), config)
    entry = state_entry("SNS", outcome, config)

    observed = SNS.read(make_ctx("SNS", "alerts"), entry)
    assert observed.fields == {
        "displayName": "Alerts",
        "deliveryPolicy": None,
        "fifoTopic": False,
        "encryption.enabled": False,
        "encryption.kmsKey": None,
    }

    client(aws, "sns").set_topic_attributes(
        TopicArn=outcome.id, AttributeName="DisplayName", AttributeValue="Changed"
    )
    assert SNS.read(make_ctx("SNS", "alerts"), entry).fields["displayName"] == "Changed"

    SNS.delete(make_ctx("SNS", "alerts"), entry)
    assert SNS.read(make_ctx("SNS", "alerts"), entry) is None


def test_throttling_is_retried_but_access_denied_fails_at_once(aws, make_ctx, hook):
    errors = [
        aws_error("AuthorizationError", "User is not authorized to perform SNS:CreateTopic", 403)
    ]
    attempts = failing(hook, "sns", "CreateTopic", errors)

    with pytest.raises(
        ProvisionError, match="User is not authorized to perform SNS:CreateTopic"
    ) as failure:
        SNS.create(make_ctx("SNS", "alerts"), config_of("SNS", {}))

    assert failure.value.code == "AuthorizationError"
    assert len(attempts) == 1
    assert topics(aws) == []

    errors.append(aws_error("Throttling", "Rate exceeded", 400))
    SNS.create(make_ctx("SNS", "alerts"), config_of("SNS", {}))

    assert len(attempts) == 3
    assert len(topics(aws)) == 1

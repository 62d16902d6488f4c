"""The SQS provisioner against the emulator: queue, dead-letter queue, tags, drift."""

from __future__ import annotations

import json

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for

from .conftest import aws_error, config_of, failing, state_entry

SQS = provisioner_for("SQS")
NAME = "shop-dev-svc-comp"


def attrs(aws, url: str) -> dict[str, str]:
    return client(aws, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]


def queue_names(aws) -> list[str]:
    urls = client(aws, "sqs").list_queues().get("QueueUrls", [])
    return sorted(url.rsplit("/", 1)[-1] for url in urls)


def with_dlq(**spec):
    return config_of(
        "SQS",
        {
            "visibilityTimeout": 45,
            "deadLetterQueue": {"enabled": True, "maxReceiveCount": 3},
            **spec,
        },
    )


def test_create_makes_the_queue_and_its_dlq_with_attributes_and_tags(aws, make_ctx):
    ctx = make_ctx("SQS")
    config = with_dlq(tags={"owner": "orders"})

    outcome = SQS.create(ctx, config)

    assert outcome.id == outcome.attributes["queue_url"]
    assert outcome.attributes["queue_name"] == NAME
    assert set(outcome.attributes) == {"queue_name", "queue_url", "arn", "dlq_url", "dlq_arn"}
    main = attrs(aws, outcome.id)
    assert main["VisibilityTimeout"] == "45"
    assert main["MaximumMessageSize"] == "262144"
    assert main["SqsManagedSseEnabled"] == "true"
    assert json.loads(main["RedrivePolicy"]) == {
        "deadLetterTargetArn": outcome.attributes["dlq_arn"],
        "maxReceiveCount": 3,
    }
    assert attrs(aws, outcome.attributes["dlq_url"])["MessageRetentionPeriod"] == "1209600"
    tags = client(aws, "sqs").list_queue_tags(QueueUrl=outcome.id)["Tags"]
    assert tags["owner"] == "orders"
    assert tags["team"] == "platform"
    assert tags["panka:component"] == "comp"
    assert tags["panka:managed"] == "true"
    assert queue_names(aws) == [NAME, f"{NAME}-dlq"]
    assert f"created queue {NAME}" in ctx.logs


def test_a_fifo_queue_gets_the_fifo_suffix_and_settings(aws, make_ctx):
    config = config_of(
        "SQS",
        {
            "type": "fifo",
            "contentBasedDeduplication": True,
            "deduplicationScope": "messageGroup",
            "fifoThroughputLimit": "perMessageGroupId",
            "deadLetterQueue": {"enabled": True, "maxReceiveCount": 5},
        },
    )

    outcome = SQS.create(make_ctx("SQS"), config)

    assert outcome.attributes["queue_name"] == f"{NAME}.fifo"
    assert queue_names(aws) == [f"{NAME}-dlq.fifo", f"{NAME}.fifo"]
    main = attrs(aws, outcome.id)
    assert (main["FifoQueue"], main["ContentBasedDeduplication"], main["FifoThroughputLimit"]) == (
        "true",
        "true",
        "perMessageGroupId",
    )


def test_a_second_create_after_a_crash_adopts_the_same_queues(aws, make_ctx):
    first = SQS.create(make_ctx("SQS"), with_dlq())
    client(aws, "sqs").set_queue_attributes(
        QueueUrl=first.id, Attributes={"VisibilityTimeout": "5"}
    )
    ctx = make_ctx("SQS")

    second = SQS.create(ctx, with_dlq())

    assert second == first
    assert queue_names(aws) == [NAME, f"{NAME}-dlq"]
    assert attrs(aws, first.id)["VisibilityTimeout"] == "45"  # brought to the config
    assert f"adopted existing queue {NAME}" in ctx.logs


def test_create_refuses_a_queue_of_another_component(aws, make_ctx):
    client(aws, "sqs").create_queue(QueueName=NAME, tags={"panka:component": "other"})

    with pytest.raises(ProvisionError, match="belongs to another component"):
        SQS.create(make_ctx("SQS"), with_dlq())


def test_an_update_without_changes_makes_no_mutating_calls(aws, make_ctx):
    config = with_dlq(tags={"owner": "orders"})
    outcome = SQS.create(make_ctx("SQS"), config)
    ctx = make_ctx("SQS")

    updated = SQS.update(ctx, config, state_entry("SQS", outcome, config))

    assert ctx.mutating_calls == 0
    assert updated == outcome


def test_an_update_changes_only_what_changed(aws, make_ctx):
    config = with_dlq()
    outcome = SQS.create(make_ctx("SQS"), config)
    ctx = make_ctx("SQS")

    SQS.update(
        ctx, with_dlq(delaySeconds=7, tags={"cost": "low"}), state_entry("SQS", outcome, config)
    )

    assert attrs(aws, outcome.id)["DelaySeconds"] == "7"
    assert client(aws, "sqs").list_queue_tags(QueueUrl=outcome.id)["Tags"]["cost"] == "low"
    assert ctx.mutating_calls == 3  # set_queue_attributes + tag_queue on the queue and its DLQ


def test_an_update_over_a_state_without_config_converges_on_aws(aws, make_ctx):
    """The panka CLI writes no ``config``; the executor then hands over ``{}``."""
    outcome = SQS.create(make_ctx("SQS"), with_dlq())
    entry = {"id": outcome.id, "type": "SQS", "attributes": outcome.attributes, "config": {}}

    updated = SQS.update(make_ctx("SQS"), with_dlq(delaySeconds=9), entry)

    assert updated == outcome
    assert attrs(aws, outcome.id)["DelaySeconds"] == "9"


def test_switching_the_dlq_off_and_on_deletes_and_creates_it(aws, make_ctx):
    config = with_dlq()
    outcome = SQS.create(make_ctx("SQS"), config)
    plain = config_of("SQS", {"visibilityTimeout": 45})

    off = SQS.update(make_ctx("SQS"), plain, state_entry("SQS", outcome, config))

    assert queue_names(aws) == [NAME]
    assert "RedrivePolicy" not in attrs(aws, outcome.id)
    assert "dlq_url" not in off.attributes

    on = SQS.update(make_ctx("SQS"), config, state_entry("SQS", off, plain))

    assert queue_names(aws) == [NAME, f"{NAME}-dlq"]
    assert (
        json.loads(attrs(aws, outcome.id)["RedrivePolicy"])["deadLetterTargetArn"]
        == on.attributes["dlq_arn"]
    )


def test_delete_removes_both_queues_and_a_replacement_waits_out_the_name_block(aws, make_ctx, hook):
    config = with_dlq()
    outcome = SQS.create(make_ctx("SQS"), config)
    entry = state_entry("SQS", outcome, config)

    SQS.delete(make_ctx("SQS"), entry)
    SQS.delete(make_ctx("SQS"), entry)

    assert queue_names(aws) == []

    # Real AWS refuses a deleted name for 60 s; the emulator does not, so inject it.
    blocked = "You must wait 60 seconds after deleting a queue before you can create another"
    errors = [aws_error("AWS.SimpleQueueService.QueueDeletedRecently", blocked, 400)]
    attempts = failing(hook, "sqs", "CreateQueue", errors)

    SQS.create(make_ctx("SQS"), config_of("SQS", {}))

    assert len(attempts) == 2
    assert queue_names(aws) == [NAME]


def test_read_matches_the_config_then_reports_drift_then_none(aws, make_ctx):
    config = with_dlq()
    outcome = SQS.create(make_ctx("SQS"), config)
    entry = state_entry("SQS", outcome, config)

    observed = SQS.read(make_ctx("SQS"), entry)
    assert observed is not None
    assert observed.fields["deadLetterQueue.enabled"] is True
    for path, value in observed.fields.items():
        node = config
        for part in path.split("."):
            node = node[part]
        assert node == value, path

    client(aws, "sqs").set_queue_attributes(
        QueueUrl=outcome.id, Attributes={"VisibilityTimeout": "99"}
    )
    assert SQS.read(make_ctx("SQS"), entry).fields["visibilityTimeout"] == 99

    SQS.delete(make_ctx("SQS"), entry)
    assert SQS.read(make_ctx("SQS"), entry) is None


def test_throttling_is_retried_but_access_denied_fails_at_once(aws, make_ctx, hook):
    errors = [aws_error("AccessDenied", "User is not authorized to perform sqs:CreateQueue", 403)]
    attempts = failing(hook, "sqs", "CreateQueue", errors)

    with pytest.raises(
        ProvisionError, match="User is not authorized to perform sqs:CreateQueue"
    ) as failure:
        SQS.create(make_ctx("SQS"), config_of("SQS", {}))

    assert failure.value.code == "AccessDenied"
    assert len(attempts) == 1
    assert queue_names(aws) == []

    errors.append(aws_error("ThrottlingException", "Rate exceeded", 400))
    SQS.create(make_ctx("SQS"), config_of("SQS", {}))

    assert len(attempts) == 3
    assert queue_names(aws) == [NAME]

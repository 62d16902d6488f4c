"""SQS: queue settings, dead-letter queue, fifo-only settings."""

from __future__ import annotations

import pytest

from ._support import check, only_error, valid


def test_defaults_are_filled_as_kinds_md_gives_them():
    assert valid(check("SQS")).config() == {
        "type": "standard", "messageRetentionPeriod": 345600, "visibilityTimeout": 30,
        "maxMessageSize": 262144, "receiveWaitTime": 0, "delaySeconds": 0,
        "deadLetterQueue": {"enabled": False, "maxReceiveCount": None},
        "contentBasedDeduplication": False, "deduplicationScope": "queue",
        "fifoThroughputLimit": "perQueue", "encryption": {"enabled": True}, "tags": {},
    }  # fmt: skip


def test_a_fifo_queue_takes_the_fifo_settings():
    config = valid(
        check(
            "SQS",
            {
                ("type",): "fifo",
                ("contentBasedDeduplication",): True,
                ("deduplicationScope",): "messageGroup",
                ("fifoThroughputLimit",): "perMessageGroupId",
            },
        )
    ).config()
    assert config["fifoThroughputLimit"] == "perMessageGroupId"


@pytest.mark.parametrize("field, value", [("contentBasedDeduplication", True),
                                          ("deduplicationScope", "messageGroup"),
                                          ("fifoThroughputLimit", "perMessageGroupId")])  # fmt: skip
def test_fifo_only_settings_are_refused_on_a_standard_queue(field, value):
    issue = only_error(check("SQS", {(field,): value}))
    assert (issue.code, issue.path) == ("invalid-combination", (field,))


def test_a_standard_queue_may_restate_the_fifo_defaults():
    valid(check("SQS", {("contentBasedDeduplication",): False, ("deduplicationScope",): "queue"}))


def test_per_message_group_throughput_needs_message_group_deduplication():
    issue = only_error(
        check("SQS", {("type",): "fifo", ("fifoThroughputLimit",): "perMessageGroupId"})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("fifoThroughputLimit",))


def test_an_enabled_dead_letter_queue_needs_a_receive_count():
    issue = only_error(check("SQS", {("deadLetterQueue",): {"enabled": True}}))
    assert (issue.code, issue.path) == ("missing-field", ("deadLetterQueue",))
    valid(check("SQS", {("deadLetterQueue",): {"enabled": True, "maxReceiveCount": "5"}}))


def test_the_queue_type_is_standard_or_fifo_and_encryption_is_a_bool():
    assert only_error(check("SQS", {("type",): "FIFO"})).path == ("type",)
    assert only_error(check("SQS", {("encryption", "enabled"): "on"})).path == (
        "encryption",
        "enabled",
    )

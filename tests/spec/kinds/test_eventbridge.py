"""EventBridge: a rule with a schedule or an event pattern, and 1-5 targets."""

from __future__ import annotations

import pytest

from ._support import DROP, check, errors, only_error, valid

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def test_a_scheduled_rule_validates_with_defaults():
    config = valid(check("EventBridge")).config()
    assert config["eventBus"] == "default" and config["enabled"] is True
    assert config["targets"] == [{"component": "jobs", "arn": None, "id": "jobs", "input": None,
                                  "inputPath": None, "messageGroupId": None}]  # fmt: skip


def test_an_event_pattern_rule_on_a_custom_bus_validates():
    config = valid(
        check(
            "EventBridge",
            {
                ("schedule",): DROP,
                ("eventBus",): "orders",
                ("eventPattern",): '{"source": ["shop"]}',
                ("targets",): [{"arn": QUEUE_ARN, "inputPath": "$.detail"}],
            },
        )
    ).config()
    assert config["eventPattern"] == {"source": ["shop"]}
    assert config["targets"][0]["id"] == "target-0"


def test_a_rule_needs_exactly_one_of_schedule_and_event_pattern():
    issue = only_error(check("EventBridge", {("schedule",): DROP}))
    assert (issue.code, issue.path) == ("missing-field", ())
    issue = only_error(check("EventBridge", {("eventPattern",): {"source": ["x"]}}))
    assert (issue.code, issue.path) == ("invalid-combination", ())


def test_a_schedule_works_only_on_the_default_bus():
    issue = only_error(check("EventBridge", {("eventBus",): "orders"}))
    assert (issue.code, issue.path) == ("invalid-combination", ("schedule",))
    valid(
        check(
            "EventBridge",
            {("eventBus",): "arn:aws:events:us-east-1:123456789012:event-bus/default"},
        )
    )


def test_a_rule_has_one_to_five_targets():
    issue = only_error(check("EventBridge", {("targets",): []}))
    assert (issue.code, issue.path) == ("invalid-value", ("targets",))
    many = [{"component": f"c{i}"} for i in range(6)]
    issue = only_error(check("EventBridge", {("targets",): many}))
    assert (issue.code, issue.path) == ("invalid-value", ("targets",))
    valid(check("EventBridge", {("targets",): many[:5]}))
    issue = only_error(check("EventBridge", {("targets",): DROP}))
    assert (issue.code, issue.path) == ("missing-field", ())


def test_a_target_is_a_component_or_an_arn():
    issue = only_error(check("EventBridge", {("targets",): [{}]}))
    assert (issue.code, issue.path) == ("missing-field", ("targets", 0))
    issue = only_error(check("EventBridge", {("targets",): [{"component": "q", "arn": QUEUE_ARN}]}))
    assert (issue.code, issue.path) == ("invalid-combination", ("targets", 0))


def test_target_ids_are_unique_and_at_most_64_safe_characters():
    result = check(
        "EventBridge", {("targets",): [{"component": "q"}, {"arn": QUEUE_ARN, "id": "q"}]}
    )
    assert errors(result) == [("duplicate-entry", ("targets", 1, "id"))]
    valid(check("EventBridge", {("targets",): [{"component": "q", "id": "x" * 64}]}))
    issue = only_error(check("EventBridge", {("targets",): [{"component": "q", "id": "x" * 65}]}))
    assert (issue.code, issue.path) == ("invalid-value", ("targets", 0, "id"))
    issue = only_error(check("EventBridge", {("targets",): [{"component": "q", "id": "a b"}]}))
    assert (issue.code, issue.path) == ("invalid-value", ("targets", 0, "id"))


def test_input_and_input_path_exclude_each_other():
    issue = only_error(
        check(
            "EventBridge", {("targets",): [{"component": "q", "input": {"a": 1}, "inputPath": "$"}]}
        )
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("targets", 0, "inputPath"))


def test_a_fifo_queue_target_given_by_arn_needs_a_message_group_id():
    fifo = QUEUE_ARN + ".fifo"
    issue = only_error(check("EventBridge", {("targets",): [{"arn": fifo}]}))
    assert (issue.code, issue.path) == ("missing-field", ("targets", 0))
    valid(check("EventBridge", {("targets",): [{"arn": fifo, "messageGroupId": "g"}]}))


@pytest.mark.parametrize("description, ok", [("x" * 512, True), ("x" * 513, False)])
def test_the_description_is_at_most_512_characters(description, ok):
    assert (check("EventBridge", {("description",): description}).model is not None) is ok

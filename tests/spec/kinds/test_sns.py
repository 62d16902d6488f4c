"""SNS: topic settings and subscriptions."""

from __future__ import annotations

import pytest

from ._support import check, errors, only_error, valid


def test_a_full_topic_validates_and_normalises():
    config = valid(check("SNS", {
        ("displayName",): "Alerts", ("fifoTopic",): "true", ("contentBasedDeduplication",): True,
        ("deliveryPolicy",): '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 3}}}',
        ("encryption",): {"enabled": True, "kmsKey": "alias/k"},
        ("subscriptions",): [
            {"protocol": "sqs", "component": "queue", "filterPolicy": '{"kind": ["a"]}'},
            {"protocol": "lambda", "component": "fn", "filterPolicy": {"kind": ["b"]}},
            {"protocol": "email", "endpoint": "ops@example.com"},
        ],
    })).config()  # fmt: skip
    assert config["deliveryPolicy"] == '{"http":{"defaultHealthyRetryPolicy":{"numRetries":3}}}'
    assert config["subscriptions"][0]["filterPolicy"] == {"kind": ["a"]}
    assert config["subscriptions"][1]["filterPolicy"] == {"kind": ["b"]}


def test_the_display_name_is_at_most_100_characters():
    valid(check("SNS", {("displayName",): "x" * 100}))
    issue = only_error(check("SNS", {("displayName",): "x" * 101}))
    assert (issue.code, issue.path) == ("invalid-value", ("displayName",))


@pytest.mark.parametrize("policy", ["{not json", "[1, 2]", 3])
def test_the_delivery_policy_is_a_json_object(policy):
    issue = only_error(check("SNS", {("deliveryPolicy",): policy}))
    assert (issue.code, issue.path) == ("invalid-value", ("deliveryPolicy",))


def test_content_based_deduplication_needs_a_fifo_topic():
    issue = only_error(check("SNS", {("contentBasedDeduplication",): True}))
    assert (issue.code, issue.path) == ("invalid-combination", ("contentBasedDeduplication",))


def test_a_kms_key_needs_encryption_enabled():
    issue = only_error(check("SNS", {("encryption",): {"kmsKey": "alias/k"}}))
    assert (issue.code, issue.path) == ("invalid-combination", ("encryption", "kmsKey"))


def test_a_subscription_needs_a_known_protocol():
    issue = only_error(check("SNS", {("subscriptions",): [{"protocol": "ftp", "endpoint": "x"}]}))
    assert (issue.code, issue.path) == ("invalid-value", ("subscriptions", 0, "protocol"))
    issue = only_error(check("SNS", {("subscriptions",): [{"endpoint": "x"}]}))
    assert (issue.code, issue.path) == ("missing-field", ("subscriptions", 0))


def test_a_subscription_has_exactly_one_of_endpoint_and_component():
    issue = only_error(
        check(
            "SNS", {("subscriptions",): [{"protocol": "sqs", "endpoint": "arn", "component": "q"}]}
        )
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("subscriptions", 0))
    issue = only_error(check("SNS", {("subscriptions",): [{"protocol": "sqs"}]}))
    assert (issue.code, issue.path) == ("missing-field", ("subscriptions", 0))


def test_a_component_subscription_must_use_the_sqs_or_lambda_protocol():
    issue = only_error(
        check("SNS", {("subscriptions",): [{"protocol": "https", "component": "q"}]})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("subscriptions", 0, "component"))


def test_the_same_subscription_twice_is_a_duplicate():
    sub = {"protocol": "email", "endpoint": "a@example.com"}
    assert errors(check("SNS", {("subscriptions",): [sub, sub]})) == [
        ("duplicate-entry", ("subscriptions", 1))
    ]


def test_a_filter_policy_is_a_json_object():
    issue = only_error(
        check(
            "SNS",
            {("subscriptions",): [{"protocol": "sqs", "component": "q", "filterPolicy": "x"}]},
        )
    )
    assert (issue.code, issue.path) == ("invalid-value", ("subscriptions", 0, "filterPolicy"))

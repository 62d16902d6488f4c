"""references(): every edge-making field, with its exact path and the kinds it may point at."""

from __future__ import annotations

from deployments.spec.kinds import Ref, validate_spec

from ._support import DROP, check

VF = {"component": "db", "output": "endpoint"}


def test_depends_on_entries_are_references_without_an_output():
    refs = check("SQS", {("dependsOn",): ["a", "b"]}).references()
    assert refs == [Ref(("dependsOn", 0), "a", None, None), Ref(("dependsOn", 1), "b", None, None)]


def test_environment_value_from_is_a_reference_with_the_output_as_written():
    for kind in ("MicroService", "Worker", "CronJob"):
        refs = check(
            kind,
            {
                ("environment",): [
                    {"name": "A", "value": "1"},
                    {"name": "B", "valueFrom": {"component": "q", "output": "queueUrl"}},
                ]
            },
        ).references()
        assert refs == [Ref(("environment", 1, "valueFrom", "component"), "q", "queueUrl", None)]


def test_depends_on_comes_first_then_the_other_edges():
    refs = check(
        "MicroService", {("dependsOn",): ["db"], ("environment",): [{"name": "A", "valueFrom": VF}]}
    ).references()
    assert [r.path for r in refs] == [
        ("dependsOn", 0),
        ("environment", 0, "valueFrom", "component"),
    ]


def test_lambda_environment_value_from_is_a_reference_at_its_key():
    refs = check("Lambda", {("environment",): {"PLAIN": "x", "DB": {"valueFrom": VF}}}).references()
    assert refs == [Ref(("environment", "DB", "valueFrom", "component"), "db", "endpoint", None)]


def test_a_cronjob_lambda_target_must_be_a_lambda():
    refs = check("CronJob", {("image",): DROP, ("lambda",): {"component": "fn"}}).references()
    assert refs == [Ref(("lambda", "component"), "fn", None, frozenset({"Lambda"}))]


def test_lambda_trigger_sources_point_at_the_kind_of_their_trigger():
    triggers = [
        {"type": "sqs", "source": {"component": "q"}},
        {"type": "dynamodb", "source": {"component": "t"}},
        {"type": "sns", "source": {"component": "s"}},
        {"type": "sqs", "source": {"arn": "arn:aws:sqs:us-east-1:123456789012:q"}},
        {"type": "eventbridge", "schedule": "rate(1 day)", "description": "d"},
        {"type": "s3", "source": {"component": "bucket"}},
    ]
    refs = check("Lambda", {("triggers",): triggers}).references()
    assert refs == [
        Ref(("triggers", 0, "source", "component"), "q", None, frozenset({"SQS"})),
        # a DynamoDB trigger needs the table's stream: core checks `stream_arn` is on
        Ref(("triggers", 1, "source", "component"), "t", "stream_arn", frozenset({"DynamoDB"})),
        Ref(("triggers", 2, "source", "component"), "s", None, frozenset({"SNS"})),
    ]


def test_sns_component_subscriptions_point_at_an_sqs_queue_or_a_lambda():
    subs = [
        {"protocol": "sqs", "component": "q"},
        {"protocol": "lambda", "component": "fn"},
        {"protocol": "email", "endpoint": "a@example.com"},
    ]
    refs = check("SNS", {("subscriptions",): subs}).references()
    assert refs == [
        Ref(("subscriptions", 0, "component"), "q", None, frozenset({"SQS"})),
        Ref(("subscriptions", 1, "component"), "fn", None, frozenset({"Lambda"})),
    ]


def test_eventbridge_targets_point_at_sqs_sns_or_lambda():
    refs = check(
        "EventBridge",
        {("targets",): [{"component": "q"}, {"arn": "arn:aws:sns:us-east-1:123456789012:t"}]},
    ).references()
    assert refs == [
        Ref(("targets", 0, "component"), "q", None, frozenset({"SQS", "SNS", "Lambda"}))
    ]


def test_service_depends_on_names_services():
    refs = check("Service", {("dependsOn",): ["api"]}).references()
    assert refs == [Ref(("dependsOn", 0), "api", None, frozenset({"Service"}))]


def test_references_are_listed_even_when_the_spec_has_errors():
    result = validate_spec(
        "MicroService",
        {
            "replicas": "x",
            "dependsOn": ["db"],
            "environment": [{"name": "A", "valueFrom": {"component": "q"}}],
        },
    )
    assert result.model is None
    assert [(r.path, r.component, r.output) for r in result.references()] == [
        (("dependsOn", 0), "db", None),
        (("environment", 0, "valueFrom", "component"), "q", None),
    ]


def test_malformed_reference_entries_are_skipped():
    result = validate_spec(
        "SNS", {"dependsOn": ["", 3, None, "ok"], "subscriptions": ["x", {"component": ""}]}
    )
    assert [r.component for r in result.references()] == ["ok"]

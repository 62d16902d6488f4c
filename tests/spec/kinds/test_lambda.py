"""Lambda: code, runtime, environment, triggers, VPC, concurrency, role and layers."""

from __future__ import annotations

import pytest

from ._support import DROP, LAYER, ROLE, check, errors, only_error, valid, warnings


def test_a_full_lambda_validates_and_normalises():
    config = valid(check("Lambda", {
        ("code",): {"s3Bucket": "deploys", "s3Key": "fn.zip"},
        ("memory",): "512", ("timeout",): "60",
        ("environment",): {"B": 2, "A": "x", "FLAG": True, "Q": {"valueFrom": {"component": "q", "output": "queueUrl"}}},
        ("triggers",): [
            {"type": "sqs", "source": {"component": "q"}, "batchSize": "10"},
            {"type": "eventbridge", "schedule": "cron(0 3 * * ? *)", "description": "nightly"},
            {"type": "sns", "source": {"arn": "arn:aws:sns:us-east-1:123456789012:t"}},
            {"type": "dynamodb", "source": {"component": "table"}},
        ],
        ("vpc",): {"enabled": True, "subnetIds": ["subnet-1"]},
        ("reservedConcurrentExecutions",): 0, ("roleArn",): ROLE, ("layers",): [LAYER],
    })).config()  # fmt: skip
    assert (config["memory"], config["timeout"]) == (512, 60)
    assert list(config["environment"]) == ["A", "B", "FLAG", "Q"]  # sorted: order is not config
    assert config["environment"]["FLAG"] == "true" and config["environment"]["B"] == "2"
    assert config["environment"]["Q"] == {"valueFrom": {"component": "q", "output": "queueUrl"}}
    assert config["triggers"][0]["batchSize"] == 10
    assert config["vpc"] == {"enabled": True, "subnetIds": ["subnet-1"], "securityGroupIds": []}


def test_defaults_are_128_mb_and_30_seconds():
    config = valid(check("Lambda")).config()
    assert (config["memory"], config["timeout"], config["vpc"]["enabled"]) == (128, 30, False)


def test_runtime_and_handler_are_required_unless_an_image_is_used():
    result = check("Lambda", {("runtime",): DROP, ("handler",): DROP})
    assert errors(result) == [("missing-field", ()), ("missing-field", ())]
    valid(
        check(
            "Lambda",
            {
                ("runtime",): DROP,
                ("handler",): DROP,
                ("code",): {"imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:1"},
            },
        )
    )


def test_code_is_required():
    issue = only_error(check("Lambda", {("code",): DROP}))
    assert (issue.code, issue.path, issue.message) == ("missing-field", (), "`code` is required")
    issue = only_error(check("Lambda", {("code",): {}}))
    assert (issue.code, issue.path) == ("missing-field", ("code",))


def test_code_takes_exactly_one_form():
    issue = only_error(check("Lambda", {("code",): {"zipFile": "x", "imageUri": "img"}}))
    assert (issue.code, issue.path) == ("invalid-combination", ("code",))
    assert "`zipFile` and `imageUri`" in issue.message


@pytest.mark.parametrize("given, missing", [("s3Bucket", "s3Key"), ("s3Key", "s3Bucket")])
def test_s3_code_needs_both_bucket_and_key(given, missing):
    issue = only_error(check("Lambda", {("code",): {given: "x"}}))
    assert (issue.code, issue.path) == ("missing-field", ("code",))
    assert f"`code.{missing}` is required" in issue.message


def test_inline_code_is_at_most_4096_characters():
    valid(check("Lambda", {("code",): {"zipFile": "x" * 4096}}))
    issue = only_error(check("Lambda", {("code",): {"zipFile": "x" * 4097}}))
    assert (issue.code, issue.path) == ("invalid-value", ("code", "zipFile"))


def test_inline_code_needs_a_node_or_python_runtime():
    valid(check("Lambda", {("runtime",): "nodejs18.x"}))
    issue = only_error(check("Lambda", {("runtime",): "java17"}))
    assert (issue.code, issue.path) == ("invalid-combination", ("code", "zipFile"))


def test_environment_values_must_be_scalars_or_value_from():
    issue = only_error(check("Lambda", {("environment",): {"LIST": [1, 2]}}))
    assert (issue.code, issue.path) == ("invalid-type", ("environment", "LIST"))
    issue = only_error(check("Lambda", {("environment",): {"REF": {"component": "q"}}}))
    assert (issue.code, issue.path) == ("missing-field", ("environment", "REF"))


def test_environment_is_at_most_4_kb():
    valid(check("Lambda", {("environment",): {"A": "x" * 4000}}))
    issue = only_error(check("Lambda", {("environment",): {"A": "x" * 4100}}))
    assert (issue.code, issue.path) == ("invalid-value", ("environment",))


def test_an_empty_environment_value_is_sent_as_empty_text():
    assert valid(check("Lambda", {("environment",): {"EMPTY": None}})).config()["environment"] == {
        "EMPTY": ""
    }


@pytest.mark.parametrize("trigger", ["sqs", "dynamodb", "sns"])
def test_source_triggers_need_a_source(trigger):
    issue = only_error(check("Lambda", {("triggers",): [{"type": trigger}]}))
    assert (issue.code, issue.path) == ("missing-field", ("triggers", 0))
    assert "`triggers[0].source` is required" in issue.message


def test_a_trigger_source_is_a_component_or_an_arn_not_both():
    both = {"component": "q", "arn": "arn:aws:sqs:us-east-1:123456789012:q"}
    issue = only_error(check("Lambda", {("triggers",): [{"type": "sqs", "source": both}]}))
    assert (issue.code, issue.path) == ("invalid-combination", ("triggers", 0, "source"))
    issue = only_error(check("Lambda", {("triggers",): [{"type": "sqs", "source": {}}]}))
    assert (issue.code, issue.path) == ("missing-field", ("triggers", 0, "source"))
    issue = only_error(
        check("Lambda", {("triggers",): [{"type": "sqs", "source": {"arn": "queue"}}]})
    )
    assert (issue.code, issue.path) == ("invalid-value", ("triggers", 0, "source", "arn"))


def test_eventbridge_triggers_need_a_schedule_and_a_description():
    result = check("Lambda", {("triggers",): [{"type": "eventbridge"}]})
    assert errors(result) == [("missing-field", ("triggers", 0))] * 2
    assert "schedule" in result.issues[0].message and "description" in result.issues[1].message
    issue = only_error(
        check(
            "Lambda",
            {
                ("triggers",): [
                    {"type": "eventbridge", "schedule": "rate(1 minutes)", "description": "d"}
                ]
            },
        )
    )
    assert (issue.code, issue.path) == ("invalid-value", ("triggers", 0, "schedule"))


def test_a_trigger_type_must_be_known():
    issue = only_error(check("Lambda", {("triggers",): [{"type": "kafka"}]}))
    assert (issue.code, issue.path) == ("invalid-value", ("triggers", 0, "type"))
    issue = only_error(check("Lambda", {("triggers",): [{}]}))
    assert (issue.code, issue.path) == ("missing-field", ("triggers", 0))


def test_a_fifo_queue_given_by_arn_takes_batches_of_at_most_10():
    fifo = {"arn": "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"}
    valid(check("Lambda", {("triggers",): [{"type": "sqs", "source": fifo, "batchSize": 10}]}))
    issue = only_error(
        check("Lambda", {("triggers",): [{"type": "sqs", "source": fifo, "batchSize": 11}]})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("triggers", 0, "batchSize"))


def test_the_role_must_be_an_iam_role_arn():
    issue = only_error(check("Lambda", {("roleArn",): "arn:aws:iam::123:role/x"}))
    assert (issue.code, issue.path) == ("invalid-value", ("roleArn",))


def test_at_most_five_layers_each_a_layer_version_arn():
    valid(check("Lambda", {("layers",): [LAYER] * 5}))
    issue = only_error(check("Lambda", {("layers",): [LAYER] * 6}))
    assert (issue.code, issue.path) == ("invalid-value", ("layers",))
    issue = only_error(
        check("Lambda", {("layers",): ["arn:aws:lambda:us-east-1:123456789012:function:f"]})
    )
    assert (issue.code, issue.path) == ("invalid-value", ("layers", 0))


def test_na_trigger_fields_warn():
    result = valid(check("Lambda", {("triggers",): [{"type": "s3", "s3": {"bucket": "b"}}]}))
    assert warnings(result) == [
        ("not-applied", ("triggers", 0, "s3")),
        ("not-applied", ("triggers", 0, "type")),
    ]

"""Outputs: canonical names and their aliases, and which are available for a config."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import all_outputs, canonical_output

from ._support import DROP, check

ALL = {
    "MicroService": ("service_name", "service_arn", "cluster_name", "cluster_arn", "task_definition_arn"),
    "Worker": ("service_name", "service_arn", "cluster_name", "cluster_arn", "task_definition_arn"),
    "CronJob": ("rule_name", "arn", "task_definition_arn"),
    "Lambda": ("function_name", "arn", "role_arn"),
    "RDS": ("instance_id", "endpoint", "port", "arn", "database_name", "cluster_id", "reader_endpoint"),
    "DynamoDB": ("table_name", "arn", "stream_arn"),
    "ElastiCacheRedis": ("cluster_id", "endpoint", "reader_endpoint", "port", "arn"),
    "S3": ("bucket_name", "arn", "region", "domain_name"),
    "SQS": ("queue_name", "queue_url", "arn", "dlq_url", "dlq_arn"),
    "SNS": ("topic_name", "arn"),
    "EventBridge": ("rule_name", "arn", "event_bus_name"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(ALL))
def test_all_outputs_lists_the_canonical_names(kind):
    assert all_outputs(kind) == ALL[kind]


@pytest.mark.parametrize("kind, written, canonical", [
    ("SQS", "queue_url", "queue_url"), ("SQS", "queueUrl", "queue_url"), ("SQS", "dlqArn", "dlq_arn"),
    ("SQS", "arn", "arn"), ("Lambda", "function_arn", "arn"), ("Lambda", "functionArn", "arn"),
    ("Lambda", "roleArn", "role_arn"), ("SNS", "topic_arn", "arn"), ("SNS", "topicArn", "arn"),
    ("RDS", "readerEndpoint", "reader_endpoint"), ("S3", "domainName", "domain_name"),
    ("MicroService", "taskDefinitionArn", "task_definition_arn"), ("EventBridge", "eventBusName", "event_bus_name"),
])  # fmt: skip
def test_camel_case_and_go_aliases_map_to_the_canonical_name(kind, written, canonical):
    assert canonical_output(kind, written) == canonical


@pytest.mark.parametrize("kind, written", [("SQS", "QueueUrl"), ("SQS", "url"), ("SNS", "function_arn"),
                                           ("Nope", "arn"), ("DocumentDB", "endpoint")])  # fmt: skip
def test_unknown_outputs_have_no_canonical_name(kind, written):
    assert canonical_output(kind, written) is None


def test_dlq_outputs_exist_only_with_a_dead_letter_queue():
    assert check("SQS").outputs() == {"queue_name", "queue_url", "arn"}
    with_dlq = check("SQS", {("deadLetterQueue",): {"enabled": True, "maxReceiveCount": 3}})
    assert with_dlq.outputs() == set(ALL["SQS"])


def test_the_stream_arn_exists_only_with_a_stream():
    assert check("DynamoDB").outputs() == {"table_name", "arn"}
    assert "stream_arn" in check("DynamoDB", {("stream",): {"enabled": True}}).outputs()


@pytest.mark.parametrize("engine, extras", [("postgres", False), ("mysql", False),
                                            ("aurora-postgresql", True), ("aurora-mysql", True)])  # fmt: skip
def test_aurora_adds_the_cluster_outputs(engine, extras):
    outputs = check("RDS", {("engine", "type"): engine}).outputs()
    assert ({"cluster_id", "reader_endpoint"} <= outputs) is extras
    assert {"instance_id", "endpoint", "port", "arn", "database_name"} <= outputs


def test_a_container_cronjob_has_a_task_definition_and_a_lambda_one_has_not():
    assert check("CronJob").outputs() == {"rule_name", "arn", "task_definition_arn"}
    lambda_job = check("CronJob", {("image",): DROP, ("lambda",): {"component": "fn"}})
    assert lambda_job.outputs() == {"rule_name", "arn"}


def test_a_spec_with_errors_claims_every_output_of_its_kind():
    assert check("SQS", {("visibilityTimeout",): "x"}).outputs() == set(ALL["SQS"])


def test_structural_kinds_have_no_outputs():
    assert check("Stack").outputs() == frozenset() and all_outputs("Stack") == ()

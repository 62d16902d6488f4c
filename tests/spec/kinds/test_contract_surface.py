"""The package's public surface is exactly what spec_contract.md fixes."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deployments.spec.kinds as kinds
from deployments.spec.kinds import (
    DEPLOYABLE_KINDS,
    KIND_CODES,
    KIND_NAMES,
    SpecIssue,
    ValidatedSpec,
    validate_spec,
)

from ._support import MINIMAL, errors

CONTRACT = {
    "DEPLOYABLE_KINDS", "KIND_CODES", "KIND_NAMES", "Path", "Ref", "SpecIssue", "ValidatedSpec",
    "all_outputs", "canonical_output", "in_network", "replace_reason", "validate_spec",
    "version_downgrade",
}  # fmt: skip
DEPLOYABLE = {"MicroService", "Worker", "CronJob", "Lambda", "RDS", "DynamoDB", "ElastiCacheRedis",
              "S3", "SQS", "SNS", "EventBridge"}  # fmt: skip


def test_package_exports_exactly_the_contract_names():
    assert set(kinds.__all__) == CONTRACT
    for name in CONTRACT:
        assert hasattr(kinds, name)


def test_kind_names_hold_every_deployable_kind_and_documentdb():
    assert set(KIND_NAMES) >= DEPLOYABLE
    assert "DocumentDB" in KIND_NAMES
    assert "Stack" not in KIND_NAMES and "Service" not in KIND_NAMES


def test_kinds_recognised_but_not_deployable_are_kind_names_but_not_deployable():
    for kind in (
        "DocumentDB",
        "MSK",
        "Kafka",
        "EFS",
        "ALB",
        "APIGateway",
        "MemoryDB",
        "Observability",
    ):
        assert kind in KIND_NAMES
        assert kind not in DEPLOYABLE_KINDS
    assert DEPLOYABLE_KINDS == DEPLOYABLE


def test_kind_codes_are_kebab_case_with_one_line_meanings():
    for code, meaning in KIND_CODES.items():
        assert code == code.lower() and " " not in code
        assert meaning and "\n" not in meaning
    assert {"missing-field", "invalid-type", "invalid-value", "unknown-field",
            "invalid-combination", "not-applied"} <= set(KIND_CODES)  # fmt: skip


def test_issues_and_results_are_frozen_dataclasses():
    result = validate_spec("SQS", {"visibilityTimeout": "x"})
    assert isinstance(result, ValidatedSpec)
    issue = result.issues[0]
    assert isinstance(issue, SpecIssue)
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.code = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.model = None  # type: ignore[misc]


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_the_minimal_spec_of_each_kind_is_valid(kind):
    result = validate_spec(kind, copy.deepcopy(MINIMAL[kind]))
    assert result.issues == []
    assert result.model is not None


def test_a_spec_with_errors_has_no_model_and_an_empty_config():
    result = validate_spec("SQS", {"visibilityTimeout": -1})
    assert result.model is None
    assert result.config() == {}


def test_an_empty_spec_is_validated_as_an_empty_mapping():
    assert validate_spec("SQS", None).model is not None
    assert errors(validate_spec("DynamoDB", None)) == [("missing-field", ())]


@pytest.mark.parametrize("spec", ["text", 3, ["a"], True])
def test_a_spec_that_is_not_a_mapping_is_an_invalid_type_at_the_root(spec):
    result = validate_spec("SQS", spec)
    assert errors(result) == [("invalid-type", ())]
    assert result.references() == [] and result.config() == {}


def test_a_kind_without_a_schema_is_reported_not_raised():
    result = validate_spec("Nope", {})
    assert result.model is None and result.issues[0].severity == "error"


def test_validation_never_mutates_the_callers_data():
    spec = {
        "image": {"repository": "r", "tag": None, "x": 1},
        "replicas": None,
        "environment": [
            {"name": "A", "value": None},
            {"name": "B", "valueFrom": {"component": "c", "output": "o"}},
        ],
    }
    before = copy.deepcopy(spec)
    validate_spec("MicroService", spec)
    assert spec == before


def test_a_failure_inside_the_schema_check_becomes_an_issue(monkeypatch):
    from deployments.spec.kinds import registry

    def broken(definition, spec, nulls):
        raise RuntimeError("boom")

    monkeypatch.setattr(registry, "_validate", broken)
    result = validate_spec("SQS", {})
    assert [(i.code, i.path) for i in result.issues] == [("spec-check-failed", ())]
    assert "boom" in result.issues[0].message and result.model is None


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                     st.sampled_from(["", "x", "3", "true", "256m", "2Gi", "rate(1 minute)", "fifo",
                                      "PROVISIONED", "aws", "db.t3.micro", "arn:aws:sqs:us-east-1:123456789012:q"]))  # fmt: skip
_keys = st.sampled_from([
    "image", "tag", "repository", "runtime", "cpu", "memory", "ports", "port", "name", "environment",
    "value", "valueFrom", "component", "output", "code", "zipFile", "imageUri", "triggers", "type",
    "source", "engine", "instance", "class", "storage", "database", "hashKey", "globalSecondaryIndexes",
    "bucket", "lifecycle", "transitions", "cors", "deadLetterQueue", "subscriptions", "targets",
    "schedule", "eventPattern", "provider", "variables", "dependsOn", "tags", "lambda", "x"])  # fmt: skip
_data = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=6)),
    max_leaves=30,
)


@pytest.mark.parametrize("kind", [*sorted(MINIMAL), "DocumentDB"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_keys, _data, max_size=8))
def test_validation_never_raises_on_arbitrary_data(kind, data):
    result = validate_spec(kind, data)
    assert all(i.code in KIND_CODES and i.code != "spec-check-failed" for i in result.issues)
    assert (result.model is None) == any(i.severity == "error" for i in result.issues)
    result.references()
    result.outputs()
    import json

    json.dumps(result.config())

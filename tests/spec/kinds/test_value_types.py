"""int*, bool and text fields as they arrive after variable substitution (strings)."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import validate_spec

from ._support import check, errors, only_error, valid


@pytest.mark.parametrize("written, value", [(3, 3), ("3", 3), (" 3 ", 3), ("+3", 3), ("007", 7)])
def test_int_star_fields_take_integers_and_digit_strings(written, value):
    assert valid(check("SQS", {("delaySeconds",): written})).config()["delaySeconds"] == value


@pytest.mark.parametrize("written", ["abc", "3.5", 3.5, 3.0, True, False, [], {}, "1_000", ""])
def test_int_star_fields_refuse_anything_else_as_invalid_type(written):
    issue = only_error(check("SQS", {("delaySeconds",): written}))
    assert (issue.code, issue.path) == ("invalid-type", ("delaySeconds",))
    assert "`delaySeconds` must be a whole number" in issue.message


def test_a_negative_digit_string_is_a_range_error_not_a_type_error():
    issue = only_error(check("MicroService", {("replicas",): "-1"}))
    assert (issue.code, issue.path) == ("invalid-value", ("replicas",))


@pytest.mark.parametrize(
    "written, value",
    [(True, True), ("true", True), ("TRUE", True), ("False", False), (" false ", False)],
)
def test_bool_fields_take_booleans_and_true_false_strings_in_any_case(written, value):
    assert (
        valid(check("SQS", {("encryption", "enabled"): written})).config()["encryption"]["enabled"]
        is value
    )


@pytest.mark.parametrize("written", ["yes", "no", 1, 0, "on", "", []])
def test_bool_fields_refuse_other_values(written):
    issue = only_error(check("SQS", {("encryption", "enabled"): written}))
    assert (issue.code, issue.path) == ("invalid-type", ("encryption", "enabled"))
    assert "must be true or false" in issue.message


def test_numbers_are_accepted_as_text_in_text_fields():
    config = valid(check("RDS", {("engine", "version"): 15})).config()
    assert config["engine"]["version"] == "15"
    assert valid(check("MicroService", {("image", "tag"): 1.25})).config()["image"]["tag"] == "1.25"


def test_a_boolean_in_a_plain_text_field_is_an_invalid_type():
    issue = only_error(check("MicroService", {("image", "tag"): True}))
    assert (issue.code, issue.path) == ("invalid-type", ("image", "tag"))
    assert "`image.tag` must be text" in issue.message


def test_booleans_and_numbers_become_text_in_environment_values_and_maps():
    result = valid(check("MicroService", {
        ("environment",): [{"name": "DEBUG", "value": True}, {"name": "N", "value": 3}],
        ("tags",): {"public": False},
    }))  # fmt: skip
    config = result.config()
    assert [e["value"] for e in config["environment"]] == ["true", "3"]
    assert config["tags"] == {"public": "false"}


def test_a_mapping_where_text_is_expected_is_an_invalid_type():
    issue = only_error(check("MicroService", {("image", "repository"): {"a": 1}}))
    assert (issue.code, issue.path) == ("invalid-type", ("image", "repository"))


@pytest.mark.parametrize("written", ["", "   "])
def test_required_text_must_not_be_empty(written):
    issue = only_error(check("MicroService", {("image", "tag"): written}))
    assert (issue.code, issue.path) == ("invalid-value", ("image", "tag"))
    assert "must not be empty" in issue.message


def test_any_case_enums_are_canonicalised():
    config = valid(check("MicroService", {
        ("runtime",): {"platform": "Fargate", "launchType": "fargate", "networkMode": "AWSVPC"},
        ("ports",): [{"name": "http", "port": 80, "protocol": "TCP"}],
    })).config()  # fmt: skip
    assert config["runtime"]["platform"] == "fargate"
    assert config["runtime"]["launchType"] == "FARGATE"
    assert config["runtime"]["networkMode"] == "awsvpc"
    assert config["ports"][0]["protocol"] == "tcp"


def test_exact_case_enums_refuse_other_cases_and_suggest_the_right_one():
    issue = only_error(check("DynamoDB", {("billingMode",): "pay_per_request"}))
    assert (issue.code, issue.path) == ("invalid-value", ("billingMode",))
    assert "did you mean `PAY_PER_REQUEST`?" in issue.message
    assert "`PAY_PER_REQUEST`, `PROVISIONED`" in issue.message


def test_an_empty_value_means_not_given_so_the_default_applies():
    config = valid(
        validate_spec("SQS", {"visibilityTimeout": None, "deadLetterQueue": None})
    ).config()
    assert config["visibilityTimeout"] == 30
    assert config["deadLetterQueue"] == {"enabled": False, "maxReceiveCount": None}


def test_an_empty_required_value_is_a_missing_field_at_its_parent():
    result = check("MicroService", {("image", "tag"): None})
    assert errors(result) == [("missing-field", ("image",))]


def test_an_empty_environment_value_is_the_empty_string():
    result = valid(check("MicroService", {("environment",): [{"name": "EMPTY", "value": None}]}))
    assert result.config()["environment"][0]["value"] == ""

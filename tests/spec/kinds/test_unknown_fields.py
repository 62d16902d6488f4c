"""Unknown keys are warnings with a "did you mean", at every level, and are dropped."""

from __future__ import annotations

from deployments.spec.kinds import validate_spec

from ._support import check, errors, spec, valid, warnings


def _unknown(result):
    return [i for i in result.issues if i.code == "unknown-field"]


def test_an_unknown_top_level_field_is_a_warning_with_a_suggestion_and_is_dropped():
    result = valid(validate_spec("SQS", {"visiblityTimeout": 60}))
    [issue] = _unknown(result)
    assert (issue.severity, issue.path) == ("warning", ("visiblityTimeout",))
    assert "did you mean `visibilityTimeout`?" in issue.message
    assert "visiblityTimeout" not in result.config()
    assert result.config()["visibilityTimeout"] == 30


def test_suggestions_ignore_case():
    [issue] = _unknown(validate_spec("SQS", {"VisibilityTimeout": 60}))
    assert "did you mean `visibilityTimeout`?" in issue.message


def test_unknown_fields_are_found_in_nested_mappings_lists_and_maps():
    result = validate_spec("MicroService", spec("MicroService", {
        ("runtime",): {"platfrom": "fargate"},
        ("ports",): [{"name": "http", "port": 80, "protocl": "tcp"}],
        ("environment",): [{"name": "A", "valueFrom": {"component": "q", "output": "arn", "outptu": 1}}],
    }))  # fmt: skip
    assert [i.path for i in _unknown(result)] == [
        ("runtime", "platfrom"),
        ("ports", 0, "protocl"),
        ("environment", 0, "valueFrom", "outptu"),
    ]
    assert "did you mean `platform`?" in _unknown(result)[0].message
    assert "`ports[0].protocl`" in _unknown(result)[1].message


def test_unknown_fields_in_lambda_environment_references_are_reported_by_key():
    result = check(
        "Lambda",
        {("environment",): {"Q": {"valueFrom": {"component": "q", "output": "arn"}, "valeu": 1}}},
    )
    assert warnings(result) == [("unknown-field", ("environment", "Q", "valeu"))]


def test_a_field_with_no_close_name_lists_the_valid_ones():
    [issue] = _unknown(validate_spec("SNS", {"zzz": 1}))
    assert "valid fields here:" in issue.message and "`displayName`" in issue.message


def test_unknown_fields_are_reported_even_when_the_spec_has_errors():
    result = validate_spec("SQS", {"deadLetterQueue": {"enabled": True, "maxRecieveCount": 3}})
    assert warnings(result) == [("unknown-field", ("deadLetterQueue", "maxRecieveCount"))]
    assert "did you mean `maxReceiveCount`?" in result.issues[0].message
    assert errors(result) == [("missing-field", ("deadLetterQueue",))]


def test_a_non_text_key_is_an_unknown_field():
    assert warnings(validate_spec("SQS", {5: "x"})) == [("unknown-field", (5,))]


def test_free_form_maps_and_objects_never_warn():
    assert warnings(check("RDS", {("engine", "parameters"): {"anything_goes": "1"}})) == []
    assert warnings(check("CronJob", {("input",): {"any": {"thing": [1]}}})) == []
    assert (
        warnings(
            check("EventBridge", {("schedule",): None, ("eventPattern",): {"detail-type": ["x"]}})
        )
        == []
    )
    assert warnings(check("SQS", {("tags",): {"whatever": "x"}})) == []


def test_serviceDiscovery_is_unknown_on_a_worker():  # noqa: N802 - field name
    assert warnings(check("Worker", {("serviceDiscovery",): {"enabled": True}})) == [
        ("unknown-field", ("serviceDiscovery",))
    ]


def test_recognised_only_kinds_accept_any_field_silently():
    assert validate_spec("DocumentDB", {"cluster": {"instances": 3}, "whatever": 1}).issues == []

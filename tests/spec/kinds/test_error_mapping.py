"""pydantic errors become SpecIssues with exact paths, stable codes and readable messages."""

from __future__ import annotations

from deployments.spec.kinds import validate_spec

from ._support import check, errors, only_error, spec


def test_a_missing_field_points_at_its_parent_mapping_and_names_the_field():
    issue = only_error(check("MicroService", {("image",): {"repository": "nginx"}}))
    assert (issue.code, issue.path) == ("missing-field", ("image",))
    assert issue.message == "`image.tag` is required"


def test_a_missing_top_level_field_points_at_the_spec_itself():
    issue = only_error(validate_spec("MicroService", {}))
    assert (issue.code, issue.path, issue.message) == ("missing-field", (), "`image` is required")


def test_a_wrong_type_deep_in_a_list_has_its_exact_path():
    issue = only_error(
        check(
            "MicroService",
            {("ports",): [{"name": "a", "port": 80}, {"name": "b", "port": "eighty"}]},
        )
    )
    assert (issue.code, issue.path) == ("invalid-type", ("ports", 1, "port"))
    assert issue.message.startswith("`ports[1].port` must be a whole number")
    assert "(got 'eighty')" in issue.message


def test_a_list_where_a_mapping_is_expected_is_an_invalid_type():
    issue = only_error(check("MicroService", {("runtime",): ["fargate"]}))
    assert (issue.code, issue.path) == ("invalid-type", ("runtime",))
    assert issue.message == "`runtime` must be a mapping, not a list"


def test_a_mapping_where_a_list_is_expected_is_an_invalid_type():
    issue = only_error(check("MicroService", {("ports",): {"name": "http"}}))
    assert (issue.code, issue.path, issue.message) == (
        "invalid-type",
        ("ports",),
        "`ports` must be a list, not a mapping",
    )


def test_range_messages_give_the_whole_range_and_the_value():
    issue = only_error(check("SQS", {("receiveWaitTime",): 21}))
    assert issue.message == "`receiveWaitTime` must be between 0 and 20 (got 21)"


def test_enum_messages_list_the_allowed_values():
    issue = only_error(check("SQS", {("type",): "priority"}))
    assert issue.message == "`type` must be one of `standard`, `fifo` (got 'priority')"


def test_aliased_keys_keep_their_yaml_spelling_in_paths():
    issue = only_error(check("RDS", {("instance", "class"): "t3.micro"}))
    assert issue.path == ("instance", "class")
    assert issue.message.startswith("`instance.class` must be `db.<family>.<size>`")
    issue = only_error(check("CronJob", {("image",): None, ("lambda",): {}}))
    assert (issue.code, issue.path) == ("missing-field", ("lambda",))
    assert issue.message == "`lambda.component` is required"


def test_paths_through_mapping_keys_name_the_key():
    issue = only_error(
        check("Lambda", {("environment",): {"QUEUE": {"valueFrom": {"component": "q"}}}})
    )
    assert (issue.code, issue.path) == ("missing-field", ("environment", "QUEUE", "valueFrom"))
    assert issue.message == "`environment.QUEUE.valueFrom.output` is required"


def test_every_error_is_reported_not_just_the_first():
    result = validate_spec("MicroService", spec("MicroService", {
        ("image",): {"repository": ""},
        ("replicas",): "many",
        ("runtime", "cpu"): 300,
        ("ports",): [{"name": "a", "port": 0}],
        ("environment",): [{"name": "A"}],
    }))  # fmt: skip
    assert sorted(errors(result), key=str) == sorted([
        ("invalid-value", ("image", "repository")),
        ("missing-field", ("image",)),
        ("invalid-value", ("runtime", "cpu")),
        ("invalid-type", ("replicas",)),
        ("missing-field", ("environment", 0)),
        ("invalid-value", ("ports", 0, "port")),
    ], key=str)  # fmt: skip


def test_cross_field_rules_still_run_when_an_unrelated_field_fails():
    result = validate_spec("SQS", {"visibilityTimeout": -1, "contentBasedDeduplication": True})
    assert errors(result) == [
        ("invalid-value", ("visibilityTimeout",)),
        ("invalid-combination", ("contentBasedDeduplication",)),
    ]


def test_a_rule_is_not_reported_from_a_default_standing_in_for_a_failed_field():
    # `enabled` failed, so "minReplicas is required when enabled" would be a guess.
    result = check(
        "MicroService", {("autoscaling",): {"enabled": "maybe", "minReplicas": 5, "maxReplicas": 2}}
    )
    assert errors(result) == [
        ("invalid-type", ("autoscaling", "enabled")),
        ("invalid-combination", ("autoscaling", "minReplicas")),
    ]


def test_duplicates_are_found_among_the_entries_that_validated():
    result = check(
        "MicroService",
        {
            ("ports",): [
                {"name": "http", "port": 80},
                {"name": "bad", "port": -1},
                {"name": "http", "port": 81},
            ]
        },
    )
    assert errors(result) == [
        ("invalid-value", ("ports", 1, "port")),
        ("duplicate-entry", ("ports", 2, "name")),
    ]
    assert "`ports[2].name` repeats `http` (already used at [0])" in result.issues[-1].message


def test_rule_messages_name_fields_by_their_full_path():
    issue = only_error(check("SQS", {("deadLetterQueue",): {"enabled": True}}))
    assert (issue.code, issue.path) == ("missing-field", ("deadLetterQueue",))
    assert issue.message == (
        "`deadLetterQueue.maxReceiveCount` is required when `deadLetterQueue.enabled` is true"
    )


def test_mapping_keys_must_be_text_though_numbers_become_their_text():
    issue = only_error(check("SQS", {("tags",): {True: "x"}}))
    assert (issue.code, issue.path) == ("invalid-type", ("tags", True))
    assert check("SQS", {("tags",): {1: "x"}}).config()["tags"] == {"1": "x"}

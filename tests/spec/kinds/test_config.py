"""config(): the normalised desired configuration the plan diffs and hashes."""

from __future__ import annotations

import json

import pytest

from deployments.spec.kinds import validate_spec

from ._support import MINIMAL, check, spec, valid


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_config_is_json_serialisable_and_stable(kind):
    first = valid(check(kind)).config()
    second = valid(check(kind)).config()
    assert json.dumps(first) == json.dumps(second)
    assert json.loads(json.dumps(first)) == first


def test_spelling_and_order_differences_give_the_same_config():
    a = spec(
        "MicroService",
        {
            ("replicas",): "2",
            ("runtime",): {"cpu": "512m", "memory": "1Gi", "launchType": "fargate"},
            ("tags",): {"b": "2", "a": "1"},
        },
    )
    b = spec(
        "MicroService",
        {
            ("tags",): {"a": "1", "b": 2},
            ("runtime",): {"memory": 1024, "cpu": 512},
            ("replicas",): 2,
        },
    )
    assert json.dumps(validate_spec("MicroService", a).config()) == json.dumps(
        validate_spec("MicroService", b).config()
    )


def test_a_change_of_value_changes_the_config():
    assert check("SQS", {("visibilityTimeout",): 31}).config() != check("SQS").config()


def test_depends_on_and_na_fields_are_left_out():
    config = valid(
        check(
            "MicroService",
            {
                ("dependsOn",): ["db"],
                ("healthCheck",): {"path": "/"},
                ("image", "pullPolicy"): "Always",
            },
        )
    ).config()
    assert (
        "dependsOn" not in config
        and "healthCheck" not in config
        and "pullPolicy" not in config["image"]
    )


def test_alias_fields_are_merged_into_their_canonical_place():
    config = valid(check("MicroService", {("autoscaling", "targetCPUUtilization"): 70})).config()
    assert (
        config["autoscaling"]["targetCPUPercent"] == 70
        and "targetCPUUtilization" not in config["autoscaling"]
    )


def test_tags_come_last_after_the_kinds_own_fields():
    assert list(valid(check("SQS", {("tags",): {"a": "b"}})).config())[-1] == "tags"


def test_defaults_shared_between_specs_are_never_changed_by_one_of_them():
    before = json.dumps(check("RDS").config())
    valid(check("RDS", {("maintenance",): {"preferredWindow": "mon:04:00-mon:05:00"}}))
    valid(check("RDS", {("instance", "storage"): {"allocatedGB": 30, "iops": 3000}}))
    assert json.dumps(check("RDS").config()) == before

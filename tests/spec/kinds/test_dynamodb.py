"""DynamoDB: keys, billing, indexes, TTL, encryption, PITR and stream."""

from __future__ import annotations

import pytest

from ._support import check, errors, only_error, valid

INDEX = {"name": "ByStatus", "hashKey": {"name": "status", "type": "S"}, "projection": "ALL"}


def test_a_full_table_validates_and_normalises():
    config = valid(check("DynamoDB", {
        ("billingMode",): "PROVISIONED", ("readCapacity",): "5", ("writeCapacity",): 5,
        ("tableName",): "my.table_1-x", ("rangeKey",): {"name": "ts", "type": "N"},
        ("globalSecondaryIndexes",): [{**INDEX, "rangeKey": "ts", "readCapacity": 1, "writeCapacity": "1",
                                       "projection": "INCLUDE", "nonKeyAttributes": ["a"]}],
        ("ttl",): {"enabled": True, "attributeName": "expiresAt"},
        ("encryption",): {"enabled": True, "kmsKey": "alias/mine"},
        ("pointInTimeRecovery",): "true", ("stream",): {"enabled": True, "viewType": "KEYS_ONLY"},
    })).config()  # fmt: skip
    assert config["readCapacity"] == 5 and config["tableName"] == "my.table_1-x"
    assert config["globalSecondaryIndexes"][0]["rangeKey"] == {"name": "ts", "type": "N"}
    assert config["stream"] == {"enabled": True, "viewType": "KEYS_ONLY"}


def test_defaults_are_on_demand_with_a_generated_name_and_everything_off():
    config = valid(check("DynamoDB", {("tableName",): ""})).config()
    assert config["billingMode"] == "PAY_PER_REQUEST" and config["tableName"] is None
    assert config["ttl"]["enabled"] is False and config["encryption"]["enabled"] is False
    assert config["pointInTimeRecovery"] is False and config["stream"]["enabled"] is False


def test_the_hash_key_is_required_with_a_name_and_a_type():
    issue = only_error(check("DynamoDB", {("hashKey",): {"name": "id"}}))
    assert (issue.code, issue.path) == ("missing-field", ("hashKey",))
    issue = only_error(check("DynamoDB", {("hashKey", "type"): "STRING"}))
    assert (issue.code, issue.path) == ("invalid-value", ("hashKey", "type"))


@pytest.mark.parametrize("name", ["ab", "has space", "x" * 256, "ünï"])
def test_an_explicit_table_name_must_already_be_valid(name):
    issue = only_error(check("DynamoDB", {("tableName",): name}))
    assert (issue.code, issue.path) == ("invalid-value", ("tableName",))


def test_provisioned_billing_needs_capacities_for_the_table_and_each_index():
    result = check(
        "DynamoDB", {("billingMode",): "PROVISIONED", ("globalSecondaryIndexes",): [INDEX]}
    )
    assert (
        errors(result)
        == [("missing-field", ())] * 2 + [("missing-field", ("globalSecondaryIndexes", 0))] * 2
    )


def test_capacities_are_rejected_with_on_demand_billing():
    result = check(
        "DynamoDB",
        {("readCapacity",): 5, ("globalSecondaryIndexes",): [{**INDEX, "writeCapacity": 1}]},
    )
    assert errors(result) == [
        ("invalid-combination", ("readCapacity",)),
        ("invalid-combination", ("globalSecondaryIndexes", 0, "writeCapacity")),
    ]


def test_index_names_are_unique_and_there_are_at_most_20_indexes():
    result = check("DynamoDB", {("globalSecondaryIndexes",): [INDEX, INDEX]})
    assert errors(result) == [("duplicate-entry", ("globalSecondaryIndexes", 1, "name"))]
    many = [{**INDEX, "name": f"Index{i}"} for i in range(21)]
    issue = only_error(check("DynamoDB", {("globalSecondaryIndexes",): many}))
    assert (issue.code, issue.path) == ("invalid-value", ("globalSecondaryIndexes",))
    valid(check("DynamoDB", {("globalSecondaryIndexes",): many[:20]}))


def test_an_index_needs_a_name_a_hash_key_and_a_projection():
    result = check("DynamoDB", {("globalSecondaryIndexes",): [{}]})
    assert errors(result) == [("missing-field", ("globalSecondaryIndexes", 0))] * 3


def test_include_projection_needs_non_key_attributes_and_others_refuse_them():
    issue = only_error(
        check("DynamoDB", {("globalSecondaryIndexes",): [{**INDEX, "projection": "INCLUDE"}]})
    )
    assert (issue.code, issue.path) == ("missing-field", ("globalSecondaryIndexes", 0))
    issue = only_error(
        check("DynamoDB", {("globalSecondaryIndexes",): [{**INDEX, "nonKeyAttributes": ["a"]}]})
    )
    assert (issue.code, issue.path) == (
        "invalid-combination",
        ("globalSecondaryIndexes", 0, "nonKeyAttributes"),
    )


def test_an_index_key_may_be_a_bare_name_typed_elsewhere_in_the_table():
    config = valid(
        check("DynamoDB", {("globalSecondaryIndexes",): [{**INDEX, "hashKey": "id"}]})
    ).config()
    assert config["globalSecondaryIndexes"][0]["hashKey"] == {"name": "id", "type": "S"}
    issue = only_error(
        check("DynamoDB", {("globalSecondaryIndexes",): [{**INDEX, "hashKey": "other"}]})
    )
    assert (issue.code, issue.path) == ("missing-field", ("globalSecondaryIndexes", 0, "hashKey"))


def test_an_attribute_keeps_one_type_across_the_table_and_its_indexes():
    clash = {**INDEX, "hashKey": {"name": "id", "type": "N"}}
    issue = only_error(check("DynamoDB", {("globalSecondaryIndexes",): [clash]}))
    assert (issue.code, issue.path) == (
        "invalid-combination",
        ("globalSecondaryIndexes", 0, "hashKey", "type"),
    )


def test_an_enabled_ttl_needs_an_attribute_name():
    issue = only_error(check("DynamoDB", {("ttl",): {"enabled": True}}))
    assert (issue.code, issue.path) == ("missing-field", ("ttl",))


def test_a_kms_key_needs_encryption_enabled():
    issue = only_error(check("DynamoDB", {("encryption",): {"kmsKey": "alias/x"}}))
    assert (issue.code, issue.path) == ("invalid-combination", ("encryption", "kmsKey"))


def test_a_stream_view_type_is_one_of_four_and_defaults_when_enabled():
    issue = only_error(check("DynamoDB", {("stream",): {"enabled": True, "viewType": "ALL"}}))
    assert (issue.code, issue.path) == ("invalid-value", ("stream", "viewType"))
    config = valid(check("DynamoDB", {("stream",): {"enabled": True}})).config()
    assert config["stream"]["viewType"] == "NEW_AND_OLD_IMAGES"

"""The DynamoDB provisioner against the emulator: table, indexes, TTL, PITR, stream."""

from __future__ import annotations

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for

from .conftest import aws_error, config_of, failing, state_entry

DYNAMODB = provisioner_for("DynamoDB")
NAME = "shop-dev-svc-comp"


def table_config(**spec):
    return config_of(
        "DynamoDB",
        {
            "billingMode": "PROVISIONED",
            "readCapacity": 2,
            "writeCapacity": 3,
            "hashKey": {"name": "pk", "type": "S"},
            "rangeKey": {"name": "sk", "type": "N"},
            "globalSecondaryIndexes": [
                {
                    "name": "by-owner",
                    "hashKey": {"name": "owner", "type": "S"},
                    "rangeKey": "sk",
                    "projection": "KEYS_ONLY",
                    "readCapacity": 1,
                    "writeCapacity": 1,
                },
            ],
            "ttl": {"enabled": True, "attributeName": "expiresAt"},
            "pointInTimeRecovery": True,
            "stream": {"enabled": True, "viewType": "NEW_IMAGE"},
            **spec,
        },
    )


def describe(aws, name: str = NAME) -> dict:
    return client(aws, "dynamodb").describe_table(TableName=name)["Table"]


def tags_of(aws, arn: str) -> dict[str, str]:
    pages = client(aws, "dynamodb").get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
    return {t["Key"]: t["Value"] for page in pages for t in page["Tags"]}


def pitr(aws, name: str = NAME) -> str:
    backups = client(aws, "dynamodb").describe_continuous_backups(TableName=name)[
        "ContinuousBackupsDescription"
    ]
    return backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def test_create_makes_the_table_with_indexes_ttl_pitr_stream_and_tags(aws, make_ctx):
    ctx = make_ctx("DynamoDB")

    outcome = DYNAMODB.create(ctx, table_config(tags={"owner": "orders"}))

    table = describe(aws)
    assert outcome.id == NAME
    assert outcome.attributes == {
        "table_name": NAME,
        "arn": table["TableArn"],
        "stream_arn": table["LatestStreamArn"],
    }
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    [index] = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["Projection"]["ProjectionType"]) == ("by-owner", "KEYS_ONLY")
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ttl = client(aws, "dynamodb").describe_time_to_live(TableName=NAME)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    assert pitr(aws) == "ENABLED"
    tags = tags_of(aws, table["TableArn"])
    assert (tags["owner"], tags["team"], tags["panka:resource"]) == ("orders", "platform", "comp")
    assert f"created table {NAME}" in ctx.logs


def test_an_explicit_table_name_is_used_as_written(aws, make_ctx):
    outcome = DYNAMODB.create(
        make_ctx("DynamoDB"),
        config_of("DynamoDB", {"tableName": "Orders.v2", "hashKey": {"name": "pk", "type": "S"}}),
    )

    assert outcome.id == "Orders.v2"
    assert "stream_arn" not in outcome.attributes
    assert describe(aws, "Orders.v2")["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_second_create_after_a_crash_adopts_the_table_and_finishes_it(aws, make_ctx):
    first = DYNAMODB.create(make_ctx("DynamoDB"), table_config())
    # As if the crash came before PITR was switched on.
    client(aws, "dynamodb").update_continuous_backups(
        TableName=NAME, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    ctx = make_ctx("DynamoDB")

    second = DYNAMODB.create(ctx, table_config())

    assert second == first
    assert client(aws, "dynamodb").list_tables()["TableNames"].count(NAME) == 1
    assert pitr(aws) == "ENABLED"
    assert ctx.mutating_calls == 1  # only the missing step


def test_an_update_without_changes_makes_no_mutating_calls(aws, make_ctx):
    config = table_config()
    outcome = DYNAMODB.create(make_ctx("DynamoDB"), config)
    ctx = make_ctx("DynamoDB")

    assert DYNAMODB.update(ctx, config, state_entry("DynamoDB", outcome, config)) == outcome
    assert ctx.mutating_calls == 0


def test_an_update_changes_billing_indexes_ttl_pitr_and_tags(aws, make_ctx, hook):
    config = table_config()
    outcome = DYNAMODB.create(make_ctx("DynamoDB"), config)
    changed = config_of(
        "DynamoDB",
        {
            "hashKey": {"name": "pk", "type": "S"},
            "rangeKey": {"name": "sk", "type": "N"},
            "globalSecondaryIndexes": [
                {
                    "name": "by-status",
                    "hashKey": {"name": "status", "type": "S"},
                    "projection": "ALL",
                }
            ],
            "ttl": {"enabled": True, "attributeName": "expiry"},
            "stream": {"enabled": True, "viewType": "NEW_IMAGE"},
            "tags": {"cost": "low"},
        },
    )
    calls = []
    hook(
        "dynamodb",
        "before-call.dynamodb.UpdateTable",
        lambda params, **kwargs: calls.append(params),
    )

    updated = DYNAMODB.update(
        make_ctx("DynamoDB"), changed, state_entry("DynamoDB", outcome, config)
    )

    table = describe(aws)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-status"]
    assert len(calls) == 3  # delete index, billing, create index: one index change per call
    assert {"AttributeName": "pk", "AttributeType": "S"} in table["AttributeDefinitions"]
    ttl = client(aws, "dynamodb").describe_time_to_live(TableName=NAME)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiry")
    assert pitr(aws) == "DISABLED"
    tags = tags_of(aws, table["TableArn"])
    assert tags["cost"] == "low"
    assert updated.attributes["stream_arn"] == outcome.attributes["stream_arn"]


def test_delete_removes_the_table_and_tolerates_a_second_time(aws, make_ctx):
    config = table_config()
    entry = state_entry("DynamoDB", DYNAMODB.create(make_ctx("DynamoDB"), config), config)

    DYNAMODB.delete(make_ctx("DynamoDB"), entry)
    DYNAMODB.delete(make_ctx("DynamoDB"), entry)

    assert NAME not in client(aws, "dynamodb").list_tables()["TableNames"]


def test_read_matches_the_config_then_reports_drift_then_none(aws, make_ctx):
    config = table_config()
    entry = state_entry("DynamoDB", DYNAMODB.create(make_ctx("DynamoDB"), config), config)

    observed = DYNAMODB.read(make_ctx("DynamoDB"), entry)
    assert observed.fields["pointInTimeRecovery"] is True
    for path, value in observed.fields.items():
        node = config
        for part in path.split("."):
            node = node[part]
        assert node == value, path

    client(aws, "dynamodb").update_continuous_backups(
        TableName=NAME, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    assert DYNAMODB.read(make_ctx("DynamoDB"), entry).fields["pointInTimeRecovery"] is False

    DYNAMODB.delete(make_ctx("DynamoDB"), entry)
    assert DYNAMODB.read(make_ctx("DynamoDB"), entry) is None


def test_throttling_is_retried_but_access_denied_fails_at_once(aws, make_ctx, hook):
    errors = [
        aws_error(
            "AccessDeniedException", "User is not authorized to perform dynamodb:CreateTable", 400
        )
    ]
    attempts = failing(hook, "dynamodb", "CreateTable", errors)

    with pytest.raises(
        ProvisionError, match="User is not authorized to perform dynamodb:CreateTable"
    ) as failure:
        DYNAMODB.create(
            make_ctx("DynamoDB"), config_of("DynamoDB", {"hashKey": {"name": "pk", "type": "S"}})
        )

    assert failure.value.code == "AccessDeniedException"
    assert len(attempts) == 1
    assert NAME not in client(aws, "dynamodb").list_tables()["TableNames"]

    errors.append(aws_error("ThrottlingException", "Rate exceeded", 400))
    DYNAMODB.create(
        make_ctx("DynamoDB"), config_of("DynamoDB", {"hashKey": {"name": "pk", "type": "S"}})
    )

    assert len(attempts) == 3
    assert NAME in client(aws, "dynamodb").list_tables()["TableNames"]

"""DynamoDB: a table, plus TTL, point-in-time recovery and a stream (kinds.md, DynamoDB).

Create and update share one routine, :func:`converge`, that takes the table from one
config-shaped description to another: on update the older side is the state's config; when
adopting a table left by a crash it is the table as AWS describes it (:func:`observe`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import WaiterError

from ._compare import (
    changed,
    get_path,
    order_like,
    owner_conflict,
    pick,
    tag_changes,
    tags_from_list,
)
from .base import Context, Observed, Outcome, ProvisionError

NAME_LIMIT = 255
PROVISIONED = "PROVISIONED"
GONE = frozenset({"ResourceNotFoundException", "ResourceNotFound"})
_DRIFT_FIELDS = (
    "billingMode",
    "readCapacity",
    "writeCapacity",
    "globalSecondaryIndexes",
    "ttl.enabled",
    "ttl.attributeName",
    "encryption.enabled",
    "pointInTimeRecovery",
    "stream.enabled",
    "stream.viewType",
)


def table_name(ctx: Context, config: Mapping[str, Any]) -> str:
    return config.get("tableName") or ctx.name(limit=NAME_LIMIT, charset=r"A-Za-z0-9_.-")


# --- request shapes ---------------------------------------------------------------------


def _keys(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    keys = [config["hashKey"], config.get("rangeKey")]
    for index in config.get("globalSecondaryIndexes") or []:
        keys += [index["hashKey"], index.get("rangeKey")]
    return [key for key in keys if key]


def _definitions(keys: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One definition per key attribute (the validator has made sure every name has one
    type). AWS rejects definitions that no key schema uses: pass only keys that exist."""
    types: dict[str, str] = {}
    for key in keys:
        types.setdefault(key["name"], key["type"])
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _index_keys(index: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [key for key in (index["hashKey"], index.get("rangeKey")) if key]


def _key_schema(
    hash_key: Mapping[str, Any], range_key: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key["name"], "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key["name"], "KeyType": "RANGE"})
    return schema


def _throughput(owner: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(owner["readCapacity"]),
        "WriteCapacityUnits": int(owner["writeCapacity"]),
    }


def _index_spec(index: Mapping[str, Any], billing: str) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index["projection"]}
    if index["projection"] == "INCLUDE":
        projection["NonKeyAttributes"] = list(index["nonKeyAttributes"])
    spec = {
        "IndexName": index["name"],
        "KeySchema": _key_schema(index["hashKey"], index.get("rangeKey")),
        "Projection": projection,
    }
    if billing == PROVISIONED:
        spec["ProvisionedThroughput"] = _throughput(index)
    return spec


def _sse(config: Mapping[str, Any]) -> dict[str, Any]:
    encryption = config.get("encryption") or {}
    if not encryption.get("enabled"):
        return {"Enabled": False}
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if encryption.get("kmsKey"):
        spec["KMSMasterKeyId"] = encryption["kmsKey"]
    return spec


def _sse_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    was, now = old.get("encryption") or {}, new.get("encryption") or {}
    if bool(was.get("enabled")) != bool(now.get("enabled")):
        return True
    if not now.get("enabled"):
        return False
    # AWS reports the key's ARN where the config may name the key by id.
    before, after = was.get("kmsKey") or "", now.get("kmsKey") or ""
    return before != after and not (before.endswith("/" + after) or after.endswith("/" + before))


def _index_shape(index: Mapping[str, Any]) -> tuple:
    """What cannot change in place: a difference here re-creates the index."""
    return (
        index["hashKey"],
        index.get("rangeKey"),
        index["projection"],
        sorted(index.get("nonKeyAttributes") or []),
    )


# --- waiting ------------------------------------------------------------------------------


def _timing(ctx: Context) -> tuple[float, float]:
    """(poll interval, give-up time) in seconds: the emulator is ready at once."""
    return (0.2, 30.0) if ctx.aws.emulated else (5.0, 1800.0)


def _wait(ctx: Context, waiter: str, name: str) -> None:
    delay, limit = _timing(ctx)
    ctx.ensure_lease()
    try:
        ctx.client("dynamodb").get_waiter(waiter).wait(
            TableName=name,
            WaiterConfig={
                "Delay": max(1, int(delay)),
                "MaxAttempts": max(2, int(limit / max(delay, 1))),
            },
        )
    except WaiterError as exc:
        raise ProvisionError(f"table {name}: gave up waiting ({waiter}): {exc}") from exc


def _wait_ready(ctx: Context, name: str) -> dict[str, Any]:
    """Poll until the table and every index are ACTIVE (no waiter covers indexes)."""
    delay, limit = _timing(ctx)
    deadline = time.monotonic() + limit
    while True:
        table = ctx.call("dynamodb", "describe_table", TableName=name)["Table"]
        statuses = [table["TableStatus"]] + [
            i.get("IndexStatus", "ACTIVE") for i in table.get("GlobalSecondaryIndexes") or []
        ]
        if all(status == "ACTIVE" for status in statuses):
            return table
        if time.monotonic() >= deadline:
            raise ProvisionError(
                f"table {name} is still {', '.join(sorted(set(statuses)))} after {int(limit)} s"
            )
        time.sleep(delay)


def _update_table(ctx: Context, name: str, **kwargs: Any) -> None:
    ctx.call("dynamodb", "update_table", TableName=name, **kwargs)
    _wait_ready(ctx, name)


# --- reading --------------------------------------------------------------------------------


def _describe(ctx: Context, name: str) -> dict[str, Any] | None:
    try:
        return ctx.call("dynamodb", "describe_table", TableName=name)["Table"]
    except ProvisionError as exc:
        if exc.code in GONE:
            return None
        raise


def observe(
    ctx: Context, name: str, table: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The table as a config-shaped dict (None when it does not exist)."""
    table = table or _describe(ctx, name)
    if table is None:
        return None
    types = {d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])}
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", PROVISIONED)
    provisioned = billing == PROVISIONED

    def keys(schema: list[Mapping[str, str]]) -> tuple[dict | None, dict | None]:
        found = {
            k["KeyType"]: {"name": k["AttributeName"], "type": types.get(k["AttributeName"])}
            for k in schema
        }
        return found.get("HASH"), found.get("RANGE")

    def capacity(owner: Mapping[str, Any], unit: str) -> int | None:
        # After a switch to on-demand AWS keeps reporting the old provisioned numbers.
        return int(owner.get("ProvisionedThroughput", {}).get(unit, 0)) if provisioned else None

    indexes = []
    for index in table.get("GlobalSecondaryIndexes") or []:
        hash_key, range_key = keys(index["KeySchema"])
        projection = index.get("Projection", {})
        indexes.append(
            {
                "name": index["IndexName"],
                "hashKey": hash_key,
                "rangeKey": range_key,
                "projection": projection.get("ProjectionType", "ALL"),
                "nonKeyAttributes": projection.get("NonKeyAttributes")
                if projection.get("ProjectionType") == "INCLUDE"
                else None,
                "readCapacity": capacity(index, "ReadCapacityUnits"),
                "writeCapacity": capacity(index, "WriteCapacityUnits"),
            }
        )
    hash_key, range_key = keys(table["KeySchema"])
    ttl = ctx.call("dynamodb", "describe_time_to_live", TableName=name)["TimeToLiveDescription"]
    ttl_on = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    backups = ctx.call("dynamodb", "describe_continuous_backups", TableName=name)[
        "ContinuousBackupsDescription"
    ]
    pitr = (
        backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        == "ENABLED"
    )
    stream = table.get("StreamSpecification") or {}
    sse = table.get("SSEDescription") or {}
    sse_on = (
        sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING") and sse.get("SSEType") == "KMS"
    )
    return {
        "tableName": table["TableName"],
        "billingMode": billing,
        "hashKey": hash_key,
        "rangeKey": range_key,
        "readCapacity": capacity(table, "ReadCapacityUnits"),
        "writeCapacity": capacity(table, "WriteCapacityUnits"),
        "globalSecondaryIndexes": indexes,
        "ttl": {"enabled": ttl_on, "attributeName": ttl.get("AttributeName") if ttl_on else None},
        "encryption": {"enabled": sse_on, "kmsKey": sse.get("KMSMasterKeyArn") if sse_on else None},
        "pointInTimeRecovery": pitr,
        "stream": {
            "enabled": bool(stream.get("StreamEnabled")),
            "viewType": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        },
    }


# --- changing -----------------------------------------------------------------------------


def converge(ctx: Context, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Apply what differs between ``old`` and ``new``, one table update at a time."""
    billing = new["billingMode"]
    old_indexes = {i["name"]: i for i in old.get("globalSecondaryIndexes") or []}
    new_indexes = {i["name"]: i for i in new.get("globalSecondaryIndexes") or []}
    rebuilt = {
        n
        for n, i in new_indexes.items()
        if n in old_indexes and _index_shape(i) != _index_shape(old_indexes[n])
    }
    kept = [i for n, i in new_indexes.items() if n in old_indexes and n not in rebuilt]

    # One index creation or deletion per UpdateTable call (an AWS rule).
    for index_name in sorted((old_indexes.keys() - new_indexes.keys()) | rebuilt):
        _update_table(
            ctx, name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}]
        )
        ctx.log(f"table {name}: deleted index {index_name}")
    if changed(old, new, "billingMode", "readCapacity", "writeCapacity"):
        kwargs: dict[str, Any] = {"BillingMode": billing}
        if billing == PROVISIONED:
            kwargs["ProvisionedThroughput"] = _throughput(new)
            if old.get("billingMode") != PROVISIONED and kept:
                # AWS wants every index's capacity when a table leaves on-demand.
                kwargs["GlobalSecondaryIndexUpdates"] = [
                    {"Update": {"IndexName": i["name"], "ProvisionedThroughput": _throughput(i)}}
                    for i in kept
                ]
        _update_table(ctx, name, **kwargs)
        ctx.log(f"table {name}: billing {billing}")

    present = list(kept)  # the indexes that exist at each step
    for index_name in [n for n in new_indexes if n not in old_indexes or n in rebuilt]:
        index = new_indexes[index_name]
        present.append(index)
        # Every key in use after this call: all are valid, and the emulator replaces the
        # table's definitions with what is sent (AWS merges them).
        keys = [new["hashKey"], new.get("rangeKey")] + [k for i in present for k in _index_keys(i)]
        _update_table(
            ctx,
            name,
            AttributeDefinitions=_definitions([k for k in keys if k]),
            GlobalSecondaryIndexUpdates=[{"Create": _index_spec(index, billing)}],
        )
        ctx.log(f"table {name}: created index {index_name}")
    if billing == PROVISIONED and old.get("billingMode") == PROVISIONED:
        for index in kept:
            if changed(old_indexes[index["name"]], index, "readCapacity", "writeCapacity"):
                update = {"IndexName": index["name"], "ProvisionedThroughput": _throughput(index)}
                _update_table(ctx, name, GlobalSecondaryIndexUpdates=[{"Update": update}])

    if _sse_changed(old, new):
        _update_table(ctx, name, SSESpecification=_sse(new))
        ctx.log(f"table {name}: encryption {'on' if new['encryption']['enabled'] else 'off'}")

    if changed(old, new, "stream.enabled", "stream.viewType"):
        # A stream's view type cannot change while it is on: switch it off first.
        if get_path(old, "stream.enabled"):
            _update_table(ctx, name, StreamSpecification={"StreamEnabled": False})
        if get_path(new, "stream.enabled"):
            spec = {"StreamEnabled": True, "StreamViewType": new["stream"]["viewType"]}
            _update_table(ctx, name, StreamSpecification=spec)
        ctx.log(f"table {name}: stream {'on' if new['stream']['enabled'] else 'off'}")

    if changed(old, new, "ttl.enabled", "ttl.attributeName"):
        if get_path(old, "ttl.enabled") and get_path(old, "ttl.attributeName"):
            spec = {"Enabled": False, "AttributeName": old["ttl"]["attributeName"]}
            ctx.call(
                "dynamodb", "update_time_to_live", TableName=name, TimeToLiveSpecification=spec
            )
        if get_path(new, "ttl.enabled"):
            spec = {"Enabled": True, "AttributeName": new["ttl"]["attributeName"]}
            ctx.call(
                "dynamodb", "update_time_to_live", TableName=name, TimeToLiveSpecification=spec
            )

    if changed(old, new, "pointInTimeRecovery"):
        spec = {"PointInTimeRecoveryEnabled": bool(new["pointInTimeRecovery"])}
        ctx.call(
            "dynamodb",
            "update_continuous_backups",
            TableName=name,
            PointInTimeRecoverySpecification=spec,
        )


def _live_tags(ctx: Context, arn: str) -> dict[str, str]:
    """Every tag: ListTagsOfResource pages (the emulator after 10 tags, and we set 11+)."""
    tags: dict[str, str] = {}
    kwargs = {"ResourceArn": arn}
    while True:
        page = ctx.call("dynamodb", "list_tags_of_resource", **kwargs)
        tags.update(tags_from_list(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def _sync_tags(ctx: Context, arn: str, desired: dict[str, str]) -> None:
    current = _live_tags(ctx, arn)
    to_set, to_remove = tag_changes(current, desired)
    if to_set:
        tags = [{"Key": k, "Value": v} for k, v in sorted(to_set.items())]
        ctx.call("dynamodb", "tag_resource", ResourceArn=arn, Tags=tags)
    if to_remove:
        ctx.call("dynamodb", "untag_resource", ResourceArn=arn, TagKeys=to_remove)


def _outcome(ctx: Context, name: str, config: Mapping[str, Any]) -> Outcome:
    table = ctx.call("dynamodb", "describe_table", TableName=name)["Table"]
    attributes = {"table_name": name, "arn": table["TableArn"]}
    if get_path(config, "stream.enabled"):
        attributes["stream_arn"] = table.get("LatestStreamArn")
    return Outcome(id=name, attributes=attributes)


# --- the provisioner --------------------------------------------------------------------


class DynamoDbProvisioner:
    kind = "DynamoDB"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name = table_name(ctx, config)
        tags = ctx.tags(config.get("tags"))
        table = _describe(ctx, name)
        if table is None:
            billing = config["billingMode"]
            kwargs: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": _definitions(_keys(config)),
                "KeySchema": _key_schema(config["hashKey"], config.get("rangeKey")),
                "BillingMode": billing,
                "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            }
            if billing == PROVISIONED:
                kwargs["ProvisionedThroughput"] = _throughput(config)
            if config.get("globalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = [
                    _index_spec(i, billing) for i in config["globalSecondaryIndexes"]
                ]
            if get_path(config, "encryption.enabled"):
                kwargs["SSESpecification"] = _sse(config)
            if get_path(config, "stream.enabled"):
                kwargs["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": config["stream"]["viewType"],
                }
            ctx.call("dynamodb", "create_table", **kwargs)
            ctx.log(f"created table {name}")
            _wait(ctx, "table_exists", name)
            if get_path(config, "ttl.enabled"):
                spec = {"Enabled": True, "AttributeName": config["ttl"]["attributeName"]}
                ctx.call(
                    "dynamodb", "update_time_to_live", TableName=name, TimeToLiveSpecification=spec
                )
            if config.get("pointInTimeRecovery"):
                spec = {"PointInTimeRecoveryEnabled": True}
                ctx.call(
                    "dynamodb",
                    "update_continuous_backups",
                    TableName=name,
                    PointInTimeRecoverySpecification=spec,
                )
            return _outcome(ctx, name, config)

        current = _live_tags(ctx, table["TableArn"])
        clash = owner_conflict(current, tags)
        if clash:
            raise ProvisionError(
                f"table {name} already exists and belongs to another component ({clash})"
            )
        live = observe(ctx, name, _wait_ready(ctx, name))
        if live is None:
            raise ProvisionError(f"table {name} disappeared while it was being adopted")
        if changed(live, config, "hashKey", "rangeKey"):
            raise ProvisionError(
                f"table {name} already exists with other keys; it cannot be adopted"
            )
        converge(ctx, name, live, config)
        _sync_tags(ctx, table["TableArn"], tags)
        ctx.log(f"adopted existing table {name}")
        return _outcome(ctx, name, config)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        old = previous.get("config") or None  # {}: a state written without it (the CLI)
        name = previous.get("id") or table_name(ctx, config)
        if old is None:
            return self.create(ctx, config)
        if changed(old, config, "hashKey", "rangeKey", "tableName"):
            raise ProvisionError(
                "changing hashKey, rangeKey or tableName replaces the table; it cannot be updated in place"
            )
        converge(ctx, name, old, config)
        arn = (previous.get("attributes") or {}).get("arn")
        if not arn:
            arn = ctx.call("dynamodb", "describe_table", TableName=name)["Table"]["TableArn"]
        _sync_tags(ctx, arn, ctx.tags(config.get("tags")))
        return _outcome(ctx, name, config)  # read afresh: a new stream has a new ARN

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        name = previous.get("id") or table_name(ctx, previous.get("config") or {})
        for attempt in (1, 2):
            try:
                ctx.call("dynamodb", "delete_table", TableName=name)
                break
            except ProvisionError as exc:
                if exc.code in GONE:
                    return
                if exc.code != "ResourceInUseException" or attempt == 2:
                    raise
                _wait_ready(ctx, name)  # still creating or updating: wait, then once more
        _wait(ctx, "table_not_exists", name)
        ctx.log(f"deleted table {name}")

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        name = previous.get("id") or table_name(ctx, previous.get("config") or {})
        live = observe(ctx, name)
        if live is None:
            return None
        reference = get_path(previous, "config.globalSecondaryIndexes")
        live["globalSecondaryIndexes"] = order_like(
            live["globalSecondaryIndexes"], reference, "name"
        )
        return Observed(fields=pick(live, _DRIFT_FIELDS))


PROVISIONERS = {"DynamoDB": DynamoDbProvisioner()}

"""S3: a bucket plus its tagging, versioning, encryption, lifecycle and CORS (kinds.md, S3).

Create and update share :func:`converge`, which applies what differs between two
config-shaped descriptions: the state's config on update, the bucket as AWS describes it
(:func:`observe`) when adopting one left by a crash, or a brand-new bucket's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import WaiterError

from ._compare import (
    changed,
    get_path,
    order_like,
    owner_conflict,
    pick,
    tags_from_list,
)
from .base import Context, Observed, Outcome, ProvisionError

NAME_LIMIT = 63
GONE = frozenset({"NoSuchBucket", "404"})
DELETE_BATCH = 1000  # the most delete_objects takes
_DRIFT_FIELDS = (
    "versioning.enabled",
    "encryption.enabled",
    "encryption.algorithm",
    "encryption.kmsKeyId",
    "lifecycle",
    "cors",
)
# A bucket create_bucket has just made: nothing configured yet. Encryption counts as off so
# a wanted configuration is always written, although AWS now encrypts every bucket.
_FRESH: dict[str, Any] = {
    "versioning": {"enabled": False},
    "encryption": {"enabled": False, "algorithm": None, "kmsKeyId": None},
    "lifecycle": [],
    "cors": None,
}


def bucket_name(ctx: Context, config: Mapping[str, Any]) -> str:
    return get_path(config, "bucket.name") or ctx.name(limit=NAME_LIMIT, charset="a-z0-9-")


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _outcome(ctx: Context, name: str) -> Outcome:
    region = ctx.aws.region
    return Outcome(
        id=name,
        attributes={
            "bucket_name": name,
            "arn": f"arn:{_partition(region)}:s3:::{name}",
            "region": region,
            "domain_name": f"{name}.s3.{region}.amazonaws.com",
        },
    )


# --- request shapes ---------------------------------------------------------------------


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ID": rule["id"],
        "Status": "Enabled" if rule.get("enabled", True) else "Disabled",
        "Filter": {"Prefix": rule.get("prefix") or ""},
    }
    if rule.get("expiration"):
        spec["Expiration"] = {"Days": int(rule["expiration"]["days"])}
    if rule.get("noncurrentVersionExpiration"):
        spec["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["noncurrentVersionExpiration"]["days"])
        }
    if rule.get("transitions"):
        spec["Transitions"] = [
            {"Days": int(t["days"]), "StorageClass": t["storageClass"]} for t in rule["transitions"]
        ]
    return spec


def _cors_rule(cors: Mapping[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "AllowedOrigins": list(cors["allowedOrigins"]),
        "AllowedMethods": list(cors["allowedMethods"]),
    }
    if cors.get("allowedHeaders"):
        rule["AllowedHeaders"] = list(cors["allowedHeaders"])
    if cors.get("exposeHeaders"):
        rule["ExposeHeaders"] = list(cors["exposeHeaders"])
    if cors.get("maxAgeSeconds") is not None:
        rule["MaxAgeSeconds"] = int(cors["maxAgeSeconds"])
    return rule


def _encryption_rule(encryption: Mapping[str, Any]) -> dict[str, Any]:
    default = {"SSEAlgorithm": encryption["algorithm"]}
    if encryption.get("kmsKeyId"):
        default["KMSMasterKeyID"] = encryption["kmsKeyId"]
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}


# --- reading --------------------------------------------------------------------------------


def _optional(ctx: Context, operation: str, name: str, missing: str) -> dict[str, Any] | None:
    """A ``get_bucket_*`` whose "not configured" error means None."""
    try:
        return ctx.call("s3", operation, Bucket=name)
    except ProvisionError as exc:
        if exc.code == missing:
            return None
        raise


def exists(ctx: Context, name: str) -> bool:
    try:
        ctx.call("s3", "head_bucket", Bucket=name)
        return True
    except ProvisionError as exc:
        if exc.code in GONE:
            return False
        if exc.code in ("403", "AccessDenied"):
            raise ProvisionError(
                f"bucket {name} exists but is not ours (bucket names are global); choose another bucket.name",
                code=exc.code,
                operation="head_bucket",
            ) from exc
        raise


def _live_tags(ctx: Context, name: str) -> dict[str, str]:
    tagging = _optional(ctx, "get_bucket_tagging", name, "NoSuchTagSet") or {}
    return tags_from_list(tagging.get("TagSet"))


def _observed_lifecycle(rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    observed = []
    for rule in rules:
        filter_ = rule.get("Filter") or {}
        prefix = filter_.get("Prefix", rule.get("Prefix", ""))
        if set(filter_) - {"Prefix"}:
            prefix = None  # a tag or size filter Panka does not write: never equal to ours
        observed.append(
            {
                "id": rule.get("ID"),
                "enabled": rule.get("Status") == "Enabled",
                "prefix": prefix,
                "expiration": {"days": rule["Expiration"]["Days"]}
                if "Days" in rule.get("Expiration", {})
                else None,
                "noncurrentVersionExpiration": (
                    {"days": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
                    if "NoncurrentDays" in rule.get("NoncurrentVersionExpiration", {})
                    else None
                ),
                "transitions": [
                    {"days": t.get("Days"), "storageClass": t.get("StorageClass")}
                    for t in rule.get("Transitions", [])
                ],
            }
        )
    return observed


def _observed_cors(rules: list[Mapping[str, Any]]) -> Any:
    def one(rule: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "allowedOrigins": list(rule.get("AllowedOrigins", [])),
            "allowedMethods": list(rule.get("AllowedMethods", [])),
            "allowedHeaders": list(rule.get("AllowedHeaders", [])),
            "exposeHeaders": list(rule.get("ExposeHeaders", [])),
            "maxAgeSeconds": rule.get("MaxAgeSeconds"),
        }

    if not rules:
        return None
    # Panka writes one rule; several (made elsewhere) stay a list, which never equals ours.
    return one(rules[0]) if len(rules) == 1 else [one(r) for r in rules]


def observe(ctx: Context, name: str) -> dict[str, Any] | None:
    """The bucket as a config-shaped dict (None when it does not exist)."""
    if not exists(ctx, name):
        return None
    versioning = ctx.call("s3", "get_bucket_versioning", Bucket=name)
    encryption = _optional(
        ctx, "get_bucket_encryption", name, "ServerSideEncryptionConfigurationNotFoundError"
    )
    rules = get_path(encryption, "ServerSideEncryptionConfiguration.Rules") or []
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    lifecycle = (
        _optional(ctx, "get_bucket_lifecycle_configuration", name, "NoSuchLifecycleConfiguration")
        or {}
    )
    cors = _optional(ctx, "get_bucket_cors", name, "NoSuchCORSConfiguration") or {}
    observed_encryption: dict[str, Any] = {"enabled": bool(default)}
    if default:  # only meaningful when there is a configuration
        observed_encryption.update(
            algorithm=default.get("SSEAlgorithm"), kmsKeyId=default.get("KMSMasterKeyID")
        )
    return {
        "bucket": {"name": name},
        "versioning": {"enabled": versioning.get("Status") == "Enabled"},
        "encryption": observed_encryption,
        "lifecycle": _observed_lifecycle(lifecycle.get("Rules", [])),
        "cors": _observed_cors(cors.get("CORSRules", [])),
    }


# --- changing -----------------------------------------------------------------------------


def _encryption_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if changed(old, new, "encryption.enabled"):
        return True
    return bool(get_path(new, "encryption.enabled")) and changed(
        old, new, "encryption.algorithm", "encryption.kmsKeyId"
    )


def converge(ctx: Context, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Apply what differs between ``old`` and ``new``."""
    if changed(old, new, "versioning.enabled"):
        # Versioning can only be suspended once it has been on, never switched off.
        status = "Enabled" if get_path(new, "versioning.enabled") else "Suspended"
        ctx.call(
            "s3", "put_bucket_versioning", Bucket=name, VersioningConfiguration={"Status": status}
        )
        ctx.log(f"bucket {name}: versioning {status.lower()}")
    if _encryption_changed(old, new):
        if get_path(new, "encryption.enabled"):
            config = _encryption_rule(new["encryption"])
            ctx.call(
                "s3", "put_bucket_encryption", Bucket=name, ServerSideEncryptionConfiguration=config
            )
        else:
            ctx.call("s3", "delete_bucket_encryption", Bucket=name)
    if (old.get("lifecycle") or []) != (new.get("lifecycle") or []):
        if new.get("lifecycle"):
            rules = [_lifecycle_rule(rule) for rule in new["lifecycle"]]
            ctx.call(
                "s3",
                "put_bucket_lifecycle_configuration",
                Bucket=name,
                LifecycleConfiguration={"Rules": rules},
            )
        else:
            ctx.call("s3", "delete_bucket_lifecycle", Bucket=name)
        ctx.log(f"bucket {name}: lifecycle updated")
    if old.get("cors") != new.get("cors"):
        if new.get("cors"):
            rules = {"CORSRules": [_cors_rule(new["cors"])]}
            ctx.call("s3", "put_bucket_cors", Bucket=name, CORSConfiguration=rules)
        else:
            ctx.call("s3", "delete_bucket_cors", Bucket=name)
        ctx.log(f"bucket {name}: CORS updated")


def _sync_tags(
    ctx: Context, name: str, desired: dict[str, str], current: dict[str, str] | None = None
) -> None:
    current = _live_tags(ctx, name) if current is None else current
    if current != desired:  # the tag set is replaced as a whole
        tagging = {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(desired.items())]}
        ctx.call("s3", "put_bucket_tagging", Bucket=name, Tagging=tagging)


def _wait_exists(ctx: Context, name: str) -> None:
    delay, attempts = (1, 30) if ctx.aws.emulated else (5, 60)
    ctx.ensure_lease()
    try:
        ctx.client("s3").get_waiter("bucket_exists").wait(
            Bucket=name, WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
        )
    except WaiterError as exc:
        raise ProvisionError(f"bucket {name}: gave up waiting for it to exist: {exc}") from exc


def _empty(ctx: Context, name: str) -> int:
    """Delete every object version and delete marker; returns how many went."""
    deleted = 0
    while True:
        try:
            page = ctx.call("s3", "list_object_versions", Bucket=name, MaxKeys=DELETE_BATCH)
        except ProvisionError as exc:
            if exc.code in GONE:
                return deleted
            raise
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not objects:
            return deleted
        result = ctx.call(
            "s3", "delete_objects", Bucket=name, Delete={"Objects": objects, "Quiet": True}
        )
        if result.get("Errors"):
            first = result["Errors"][0]
            raise ProvisionError(
                f"bucket {name}: could not delete {len(result['Errors'])} object versions "
                f"({first.get('Code')}: {first.get('Message')} on {first.get('Key')})",
                code=str(first.get("Code", "")),
                operation="delete_objects",
            )
        deleted += len(objects)


# --- the provisioner --------------------------------------------------------------------


class S3Provisioner:
    kind = "S3"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name = bucket_name(ctx, config)
        tags = ctx.tags({**(config.get("tags") or {}), **(get_path(config, "bucket.tags") or {})})
        adopt = exists(ctx, name)
        if not adopt:
            kwargs: dict[str, Any] = {"Bucket": name}
            if ctx.aws.region != "us-east-1":  # us-east-1 refuses its own LocationConstraint
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": ctx.aws.region}
            try:
                ctx.call("s3", "create_bucket", **kwargs)
                ctx.log(f"created bucket {name}")
            except ProvisionError as exc:
                if exc.code != "BucketAlreadyOwnedByYou":  # made between head and create
                    raise
                adopt = True
            _wait_exists(ctx, name)
        if adopt:
            current_tags = _live_tags(ctx, name)
            clash = owner_conflict(current_tags, tags)
            if clash:
                raise ProvisionError(
                    f"bucket {name} already exists and belongs to another component ({clash})"
                )
            converge(ctx, name, observe(ctx, name) or _FRESH, config)
            _sync_tags(ctx, name, tags, current_tags)
            ctx.log(f"adopted existing bucket {name}")
        else:
            _sync_tags(ctx, name, tags, {})
            converge(ctx, name, _FRESH, config)
        return _outcome(ctx, name)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        old = previous.get("config") or None  # {}: a state written without it (the CLI)
        name = previous.get("id") or bucket_name(ctx, config)
        if old is None:
            return self.create(ctx, config)
        converge(ctx, name, old, config)
        _sync_tags(
            ctx,
            name,
            ctx.tags({**(config.get("tags") or {}), **(get_path(config, "bucket.tags") or {})}),
        )
        return _outcome(ctx, name)

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        config = previous.get("config") or {}
        name = previous.get("id") or bucket_name(ctx, config)
        if get_path(config, "bucket.forceDestroy"):
            count = _empty(ctx, name)
            if count:
                ctx.log(f"bucket {name}: deleted {count} object versions")
        try:
            ctx.call("s3", "delete_bucket", Bucket=name)
        except ProvisionError as exc:
            if exc.code in GONE:
                return
            if exc.code == "BucketNotEmpty":
                raise ProvisionError(
                    f"bucket {name} is not empty (BucketNotEmpty); empty it, or set "
                    "bucket.forceDestroy: true to delete every object version with it",
                    code=exc.code,
                    operation="delete_bucket",
                ) from exc
            raise
        ctx.log(f"deleted bucket {name}")

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        name = previous.get("id") or bucket_name(ctx, previous.get("config") or {})
        live = observe(ctx, name)
        if live is None:
            return None
        live["lifecycle"] = order_like(
            live["lifecycle"], get_path(previous, "config.lifecycle"), "id"
        )
        return Observed(fields=pick(live, _DRIFT_FIELDS))


PROVISIONERS = {"S3": S3Provisioner()}

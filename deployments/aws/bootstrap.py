"""Create and check the state bucket and lock table (format.md §8–9)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .clients import AwsSettings, client
from .errors import PreflightError


def ensure_state_bucket(settings: AwsSettings) -> None:
    """Create the state bucket with versioning on, if it does not exist yet."""
    s3 = client(settings, "s3")
    try:
        s3.head_bucket(Bucket=settings.state_bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise PreflightError(
                f"cannot reach state bucket {settings.state_bucket}: {exc}"
            ) from exc
        kwargs: dict[str, object] = {"Bucket": settings.state_bucket}
        if settings.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
        s3.create_bucket(**kwargs)
        s3.put_bucket_versioning(
            Bucket=settings.state_bucket, VersioningConfiguration={"Status": "Enabled"}
        )


def ensure_lock_table(settings: AwsSettings) -> None:
    """Create the lock table (key ``lockKey``, TTL on ``expiresAt``), if missing."""
    ddb = client(settings, "dynamodb")
    try:
        ddb.describe_table(TableName=settings.lock_table)
        return
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(
        TableName=settings.lock_table,
        AttributeDefinitions=[{"AttributeName": "lockKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "lockKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(
        TableName=settings.lock_table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    ddb.update_time_to_live(
        TableName=settings.lock_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
    )


def check_state_bucket(settings: AwsSettings, s3: Any = None) -> None:
    """Refuse a state bucket without versioning ``Enabled``.

    Without versioning every save would overwrite the only copy of a stack's state, so
    this is checked on real AWS too. ``s3``: a client of the caller's (the health check
    passes one with short timeouts).
    """
    s3 = s3 or client(settings, "s3")
    try:
        status = s3.get_bucket_versioning(Bucket=settings.state_bucket)
    except (ClientError, BotoCoreError) as exc:
        raise PreflightError(
            f"cannot read the versioning of state bucket {settings.state_bucket!r}: {exc}"
        ) from exc
    if status.get("Status") != "Enabled":
        raise PreflightError(
            f"state bucket {settings.state_bucket!r} has versioning "
            f"{status.get('Status', 'never enabled')!r}; it must be 'Enabled' so that "
            "every state save is kept as a version. Enable it with: aws s3api "
            f"put-bucket-versioning --bucket {settings.state_bucket} "
            "--versioning-configuration Status=Enabled"
        )


def check_lock_table(settings: AwsSettings, ddb: Any = None) -> None:
    """Refuse a missing lock table, or one without the ``lockKey`` partition key."""
    ddb = ddb or client(settings, "dynamodb")
    try:
        table = ddb.describe_table(TableName=settings.lock_table)["Table"]
    except (ClientError, BotoCoreError) as exc:
        raise PreflightError(f"cannot describe lock table {settings.lock_table!r}: {exc}") from exc
    keys = {k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH"}
    if keys != {"lockKey"}:
        raise PreflightError(
            f"lock table {settings.lock_table!r} must have partition key 'lockKey'"
        )


def check(settings: AwsSettings) -> None:
    """Refuse to deploy unless the state bucket is versioned and the lock table exists."""
    check_state_bucket(settings)
    check_lock_table(settings)

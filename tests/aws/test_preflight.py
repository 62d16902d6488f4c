"""A deployment-capable app refuses to run on a state bucket without versioning."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from deployments.aws import bootstrap
from deployments.aws.clients import client
from deployments.aws.errors import PreflightError


def test_a_fresh_bucket_and_table_pass_the_check(aws):
    bootstrap.check(aws)
    versioning = client(aws, "s3").get_bucket_versioning(Bucket=aws.state_bucket)
    assert versioning["Status"] == "Enabled"
    ttl = client(aws, "dynamodb").describe_time_to_live(TableName=aws.lock_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"


def test_ensure_is_idempotent(aws):
    bootstrap.ensure_state_bucket(aws)
    bootstrap.ensure_lock_table(aws)
    bootstrap.check(aws)


def _suspend_versioning(aws) -> None:
    client(aws, "s3").put_bucket_versioning(
        Bucket=aws.state_bucket, VersioningConfiguration={"Status": "Suspended"}
    )


def test_suspended_versioning_is_refused_with_a_clear_message(aws):
    _suspend_versioning(aws)
    with pytest.raises(PreflightError, match="versioning 'Suspended'.*must be 'Enabled'"):
        bootstrap.check(aws)


def test_a_bucket_that_never_had_versioning_is_refused(aws):
    client(aws, "s3").create_bucket(Bucket="plain-bucket")
    plain = type(aws)(
        region=aws.region,
        state_bucket="plain-bucket",
        lock_table=aws.lock_table,
        endpoint_url=aws.endpoint_url,
    )
    with pytest.raises(PreflightError, match="never enabled"):
        bootstrap.check(plain)


def test_a_missing_lock_table_is_refused(aws):
    client(aws, "dynamodb").delete_table(TableName=aws.lock_table)
    with pytest.raises(PreflightError):
        bootstrap.check(aws)


def test_the_bootstrap_command_fails_loudly_and_the_worker_does_not_start(aws, db):
    _suspend_versioning(aws)
    with pytest.raises(CommandError, match="must be 'Enabled'"):
        call_command("aws_bootstrap", "--check-only")
    with pytest.raises(CommandError, match="not starting the worker"):
        call_command("worker")


def test_healthz_says_why_with_503(aws, client, db):
    assert client.get("/healthz").status_code == 200
    _suspend_versioning(aws)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["state_bucket"]
    assert "must be 'Enabled'" in response.json()["checks"]["state_bucket"]
    assert response.json()["checks"]["database"] == "ok"

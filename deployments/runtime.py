"""The Django edge of the AWS layer: AWS settings built from Django settings."""

from __future__ import annotations

from django.conf import settings

from .aws.clients import AwsSettings


def aws_settings() -> AwsSettings:
    return AwsSettings(
        region=settings.PANKA_AWS_REGION,
        state_bucket=settings.PANKA_STATE_BUCKET,
        lock_table=settings.PANKA_LOCK_TABLE,
        endpoint_url=settings.PANKA_AWS_ENDPOINT_URL,
    )


def stack_aws_settings(region: str | None) -> AwsSettings:
    """Where a stack's own resources live: the stack's region, Panka's endpoint."""
    base = aws_settings()
    return AwsSettings(
        region=region or base.region,
        state_bucket=base.state_bucket,
        lock_table=base.lock_table,
        endpoint_url=base.endpoint_url,
    )

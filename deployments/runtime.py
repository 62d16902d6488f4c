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

"""The AWS region names botocore knows, for validating a tenant's allowed regions."""

from __future__ import annotations

from functools import cache

import boto3


@cache
def known_regions() -> frozenset[str]:
    """Every region in botocore's bundled endpoint data, in every partition (read from
    the installed package: no network call)."""
    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )

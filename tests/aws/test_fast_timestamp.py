"""The clients' timestamp parser gives what botocore's own gives, for every shape AWS sends."""

from __future__ import annotations

import pytest
from botocore.utils import parse_timestamp

from deployments.aws.clients import fast_timestamp

SHAPES = [
    "2026-11-26T23:15:17.000Z",  # S3 listings
    "2026-11-26T23:15:17Z",
    "2026-11-26T23:15:17.123456+00:00",
    "2026-11-26T23:15:17+02:00",
    "Thu, 26 Nov 2026 23:15:17 GMT",  # HTTP headers (HeadObject's LastModified)
    1764198917,  # epoch seconds (DynamoDB, CloudWatch)
    1764198917.25,
    "1764198917.5",
    "2026-11-26T23:15:17",  # no zone: left to botocore
]


@pytest.mark.parametrize("value", SHAPES, ids=str)
def test_fast_timestamp_matches_botocore(value) -> None:
    ours, theirs = fast_timestamp(value), parse_timestamp(value)
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()


def test_clients_use_it(aws) -> None:
    from datetime import UTC

    from deployments.aws.clients import client

    s3 = client(aws, "s3")
    s3.put_object(Bucket=aws.state_bucket, Key="t/ts-check", Body=b"{}")
    listed = s3.list_object_versions(Bucket=aws.state_bucket, Prefix="t/ts-check")
    # dateutil would have given its own tzutc(); ours gives the standard library's UTC.
    assert listed["Versions"][0]["LastModified"].tzinfo is UTC

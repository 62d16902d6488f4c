"""The S3 provisioner against the emulator: bucket, tags, versioning, encryption, lifecycle, CORS."""

from __future__ import annotations

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for

from .conftest import aws_error, config_of, failing, state_entry

S3 = provisioner_for("S3")
NAME = "shop-dev-svc-comp"


def bucket_config(**spec):
    return config_of(
        "S3",
        {
            "bucket": {"tags": {"data": "orders"}},
            "versioning": {"enabled": True},
            "encryption": {"algorithm": "aws:kms", "kmsKeyId": "alias/orders"},
            "lifecycle": [
                {"id": "expire-tmp", "prefix": "tmp/", "expiration": {"days": 7}},
                {
                    "id": "archive",
                    "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}],
                    "noncurrentVersionExpiration": {"days": 90},
                },
            ],
            "cors": {
                "allowedOrigins": ["https://shop.example"],
                "allowedMethods": ["GET", "HEAD"],
                "maxAgeSeconds": 600,
            },
            **spec,
        },
    )


def buckets(aws) -> list[str]:
    return sorted(
        b["Name"]
        for b in client(aws, "s3").list_buckets()["Buckets"]
        if b["Name"] != aws.state_bucket
    )


def test_create_makes_the_bucket_with_its_configuration_and_tags(aws, make_ctx):
    ctx = make_ctx("S3")

    outcome = S3.create(ctx, bucket_config(tags={"owner": "shop"}))

    s3 = client(aws, "s3")
    assert outcome.id == NAME
    assert outcome.attributes == {
        "bucket_name": NAME,
        "arn": f"arn:aws:s3:::{NAME}",
        "region": "us-east-1",
        "domain_name": f"{NAME}.s3.us-east-1.amazonaws.com",
    }
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=NAME)["TagSet"]}
    assert (tags["owner"], tags["data"], tags["team"], tags["panka:stack"]) == (
        "shop",
        "orders",
        "platform",
        "shop",
    )
    assert s3.get_bucket_versioning(Bucket=NAME)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=NAME)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/orders",
    }
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=NAME)["Rules"]}
    assert rules["expire-tmp"]["Filter"] == {"Prefix": "tmp/"}
    assert rules["archive"]["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    [cors] = s3.get_bucket_cors(Bucket=NAME)["CORSRules"]
    assert (cors["AllowedMethods"], cors["MaxAgeSeconds"]) == (["GET", "HEAD"], 600)
    assert f"created bucket {NAME}" in ctx.logs


def test_a_second_create_after_a_crash_adopts_the_bucket_and_finishes_it(aws, make_ctx):
    first = S3.create(make_ctx("S3"), bucket_config())
    client(aws, "s3").delete_bucket_cors(Bucket=NAME)  # as if the crash came before the CORS step
    ctx = make_ctx("S3")

    second = S3.create(ctx, bucket_config())

    assert second == first
    assert buckets(aws) == [NAME]
    assert client(aws, "s3").get_bucket_cors(Bucket=NAME)["CORSRules"][0]["AllowedOrigins"] == [
        "https://shop.example"
    ]
    assert ctx.mutating_calls == 1  # only the missing step


def test_an_update_without_changes_makes_no_mutating_calls(aws, make_ctx):
    config = bucket_config()
    outcome = S3.create(make_ctx("S3"), config)
    ctx = make_ctx("S3")

    assert S3.update(ctx, config, state_entry("S3", outcome, config)) == outcome
    assert ctx.mutating_calls == 0


def test_an_update_applies_changes_and_removes_dropped_sections(aws, make_ctx):
    config = bucket_config()
    outcome = S3.create(make_ctx("S3"), config)
    changed = config_of(
        "S3", {"bucket": {"tags": {"data": "archive"}}, "versioning": {"enabled": True}}
    )

    S3.update(make_ctx("S3"), changed, state_entry("S3", outcome, config))

    s3 = client(aws, "s3")
    [rule] = s3.get_bucket_encryption(Bucket=NAME)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=NAME)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=NAME)
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=NAME)["TagSet"]}
    assert tags["data"] == "archive"


def test_delete_refuses_a_non_empty_bucket_without_force_destroy(aws, make_ctx):
    config = config_of("S3", {})
    entry = state_entry("S3", S3.create(make_ctx("S3"), config), config)
    client(aws, "s3").put_object(Bucket=NAME, Key="keep.txt", Body=b"data")

    with pytest.raises(ProvisionError, match="BucketNotEmpty") as failure:
        S3.delete(make_ctx("S3"), entry)

    assert NAME in str(failure.value)
    assert buckets(aws) == [NAME]


def test_delete_with_force_destroy_empties_every_version_first(aws, make_ctx):
    config = bucket_config(bucket={"forceDestroy": True})
    entry = state_entry("S3", S3.create(make_ctx("S3"), config), config)
    s3 = client(aws, "s3")
    for body in (b"1", b"2"):
        s3.put_object(Bucket=NAME, Key="a.txt", Body=body)
    s3.delete_object(Bucket=NAME, Key="a.txt")  # leaves a delete marker

    S3.delete(make_ctx("S3"), entry)
    S3.delete(make_ctx("S3"), entry)

    assert buckets(aws) == []


def test_read_matches_the_config_then_reports_drift_then_none(aws, make_ctx):
    config = bucket_config(versioning={"enabled": False})
    entry = state_entry("S3", S3.create(make_ctx("S3"), config), config)

    observed = S3.read(make_ctx("S3"), entry)
    assert set(observed.fields) >= {
        "versioning.enabled",
        "encryption.algorithm",
        "lifecycle",
        "cors",
    }
    for path, value in observed.fields.items():
        node = config
        for part in path.split("."):
            node = node[part]
        assert node == value, path

    client(aws, "s3").put_bucket_versioning(
        Bucket=NAME, VersioningConfiguration={"Status": "Enabled"}
    )
    assert S3.read(make_ctx("S3"), entry).fields["versioning.enabled"] is True

    S3.delete(make_ctx("S3"), entry)
    assert S3.read(make_ctx("S3"), entry) is None


def test_throttling_is_retried_but_access_denied_fails_at_once(aws, make_ctx, hook):
    errors = [aws_error("AccessDenied", "User is not authorized to perform s3:CreateBucket", 403)]
    attempts = failing(hook, "s3", "CreateBucket", errors)

    with pytest.raises(
        ProvisionError, match="User is not authorized to perform s3:CreateBucket"
    ) as failure:
        S3.create(make_ctx("S3"), config_of("S3", {}))

    assert failure.value.code == "AccessDenied"
    assert len(attempts) == 1
    assert buckets(aws) == []

    errors.append(aws_error("SlowDown", "Please reduce your request rate.", 503))
    S3.create(make_ctx("S3"), config_of("S3", {}))

    assert len(attempts) == 3
    assert buckets(aws) == [NAME]

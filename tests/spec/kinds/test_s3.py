"""S3: bucket, versioning, encryption, lifecycle and CORS."""

from __future__ import annotations

import pytest

from ._support import check, errors, only_error, valid

RULE = {"id": "expire", "expiration": {"days": 30}}


def test_defaults_are_a_private_encrypted_unversioned_generated_bucket():
    config = valid(check("S3", {("bucket",): {"name": ""}})).config()
    assert config["bucket"] == {"name": None, "forceDestroy": False, "tags": {}}
    assert config["versioning"] == {"enabled": False}
    assert config["encryption"] == {"enabled": True, "algorithm": "AES256", "kmsKeyId": None}
    assert config["lifecycle"] == [] and config["cors"] is None


def test_a_full_bucket_validates_and_normalises():
    config = valid(check("S3", {
        ("bucket",): {"name": "my.bucket-1", "forceDestroy": "true", "tags": {"b": "2", "a": 1}},
        ("versioning",): {"enabled": True},
        ("encryption",): {"algorithm": "aws:kms", "kmsKeyId": "alias/k"},
        ("lifecycle",): [{"id": "r", "enabled": False, "prefix": "logs/",
                          "transitions": [{"days": "30", "storageClass": "ONEZONE_IA"}, {"days": 0, "storageClass": "GLACIER"}],
                          "noncurrentVersionExpiration": {"days": 1}}],
        ("cors",): {"allowedOrigins": ["*"], "allowedMethods": ["GET", "HEAD"], "exposeHeaders": ["ETag"], "maxAgeSeconds": "0"},
    })).config()  # fmt: skip
    assert config["bucket"] == {
        "name": "my.bucket-1",
        "forceDestroy": True,
        "tags": {"a": "1", "b": "2"},
    }
    assert config["lifecycle"][0]["transitions"][0] == {"days": 30, "storageClass": "ONEZONE_IA"}
    assert config["cors"]["maxAgeSeconds"] == 0


@pytest.mark.parametrize("name", ["ab", "My-Bucket", "bucket_1", "-bucket", "bucket.", "a..b", "a.-b",
                                  "192.168.1.1", "xn--bucket", "bucket-s3alias", "b" * 64])  # fmt: skip
def test_an_explicit_bucket_name_must_already_follow_the_s3_rules(name):
    issue = only_error(check("S3", {("bucket", "name"): name}))
    assert (issue.code, issue.path) == ("invalid-value", ("bucket", "name"))


def test_the_encryption_algorithm_is_aes256_or_kms_and_a_key_needs_kms():
    issue = only_error(check("S3", {("encryption", "algorithm"): "DES"}))
    assert (issue.code, issue.path) == ("invalid-value", ("encryption", "algorithm"))
    issue = only_error(check("S3", {("encryption", "kmsKeyId"): "alias/k"}))
    assert (issue.code, issue.path) == ("invalid-combination", ("encryption", "kmsKeyId"))


def test_lifecycle_rules_need_a_unique_id_and_an_action():
    result = check("S3", {("lifecycle",): [RULE, RULE]})
    assert errors(result) == [("duplicate-entry", ("lifecycle", 1, "id"))]
    issue = only_error(check("S3", {("lifecycle",): [{"id": "nothing"}]}))
    assert (issue.code, issue.path) == ("missing-field", ("lifecycle", 0))
    issue = only_error(check("S3", {("lifecycle",): [{"expiration": {"days": 1}}]}))
    assert (issue.code, issue.path) == ("missing-field", ("lifecycle", 0))


def test_transitions_need_days_and_a_storage_class():
    result = check("S3", {("lifecycle",): [{"id": "t", "transitions": [{}]}]})
    assert errors(result) == [("missing-field", ("lifecycle", 0, "transitions", 0))] * 2
    issue = only_error(
        check(
            "S3",
            {("lifecycle",): [{"id": "t", "transitions": [{"days": 1, "storageClass": "COLD"}]}]},
        )
    )
    assert (issue.code, issue.path) == (
        "invalid-value",
        ("lifecycle", 0, "transitions", 0, "storageClass"),
    )


@pytest.mark.parametrize("storage_class", ["STANDARD_IA", "ONEZONE_IA"])
def test_infrequent_access_transitions_need_at_least_30_days(storage_class):
    def rule(days):
        return [{"id": "t", "transitions": [{"days": days, "storageClass": storage_class}]}]

    valid(check("S3", {("lifecycle",): rule(30)}))
    issue = only_error(check("S3", {("lifecycle",): rule(29)}))
    assert (issue.code, issue.path) == ("invalid-value", ("lifecycle", 0, "transitions", 0, "days"))


def test_cors_needs_origins_and_methods():
    result = check("S3", {("cors",): {}})
    assert errors(result) == [("missing-field", ("cors",))] * 2
    result = check("S3", {("cors",): {"allowedOrigins": [], "allowedMethods": []}})
    assert errors(result) == [
        ("invalid-value", ("cors", "allowedOrigins")),
        ("invalid-value", ("cors", "allowedMethods")),
    ]
    issue = only_error(
        check("S3", {("cors",): {"allowedOrigins": ["*"], "allowedMethods": ["PATCH"]}})
    )
    assert (issue.code, issue.path) == ("invalid-value", ("cors", "allowedMethods", 0))

"""Explicit AWS names are used as written, so they must already be valid."""

from __future__ import annotations

import pytest

from ._support import check, only_error, valid


@pytest.mark.parametrize("name", ["abc", "my-bucket.logs", "a" * 63, "1bucket2"])
def test_valid_explicit_bucket_names_are_kept_as_written(name):
    assert valid(check("S3", {("bucket", "name"): name})).config()["bucket"]["name"] == name


@pytest.mark.parametrize("name", ["abc", "A.b_c-1", "t" * 255])
def test_valid_explicit_table_names_are_kept_as_written(name):
    assert valid(check("DynamoDB", {("tableName",): name})).config()["tableName"] == name


@pytest.mark.parametrize("kind, path", [("S3", ("bucket", "name")), ("DynamoDB", ("tableName",))])
def test_an_empty_explicit_name_means_generated(kind, path):
    config = valid(check(kind, {path: ""})).config()
    node = config
    for part in path:
        node = node[part]
    assert node is None


def test_name_messages_say_what_is_wrong():
    assert "3-63 characters" in only_error(check("S3", {("bucket", "name"): "ab"})).message
    assert "begin and end" in only_error(check("S3", {("bucket", "name"): "bucket-"})).message
    assert "IP address" in only_error(check("S3", {("bucket", "name"): "10.0.0.1"})).message
    assert "3-255 characters" in only_error(check("DynamoDB", {("tableName",): "t" * 256})).message

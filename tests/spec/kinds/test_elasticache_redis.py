"""ElastiCacheRedis: a replication group."""

from __future__ import annotations

import pytest

from ._support import check, only_error, valid


def test_defaults_are_one_micro_node_without_encryption():
    assert valid(check("ElastiCacheRedis")).config() == {
        "engine": {"version": None},
        "cluster": {"mode": "replication-group", "nodeType": "cache.t3.micro", "numNodes": 1},
        "security": {"atRestEncryption": False, "transitEncryption": False},
        "tags": {},
    }


def test_a_full_cache_validates():
    config = valid(check("ElastiCacheRedis", {
        ("engine",): {"version": 7.0}, ("cluster",): {"nodeType": "cache.r6g.large", "numNodes": "3"},
        ("security",): {"atRestEncryption": "true", "transitEncryption": True}})).config()  # fmt: skip
    assert config["engine"]["version"] == "7.0" and config["cluster"]["numNodes"] == 3


def test_the_cluster_mode_is_only_replication_group():
    issue = only_error(check("ElastiCacheRedis", {("cluster", "mode"): "cluster"}))
    assert (issue.code, issue.path) == ("invalid-value", ("cluster", "mode"))


@pytest.mark.parametrize("node", ["t3.micro", "db.t3.micro", "cache.t3"])
def test_the_node_type_is_cache_family_size(node):
    issue = only_error(check("ElastiCacheRedis", {("cluster", "nodeType"): node}))
    assert (issue.code, issue.path) == ("invalid-value", ("cluster", "nodeType"))


def test_the_engine_version_is_a_version_number():
    issue = only_error(check("ElastiCacheRedis", {("engine", "version"): "latest"}))
    assert (issue.code, issue.path) == ("invalid-value", ("engine", "version"))

"""ElastiCacheRedis: a Redis replication group (even for one node)."""

from __future__ import annotations

from .base import ComponentSpec, SpecModel, section
from .common import Bool, Enum, IntStar, Text
from .rds import is_downgrade


class RedisEngine(SpecModel):
    version: (
        Text(
            pattern=r"[0-9]+(\.[0-9A-Za-z]+)*",
            rule="must be a version such as `7.0` or `6.2`",
        )
        | None
    ) = None  # None: AWS's default


class Cluster(SpecModel):
    mode: Enum("replication-group") = "replication-group"
    nodeType: Text(
        pattern=r"cache\.[a-z0-9]+\.[a-z0-9]+",
        rule="must be `cache.<family>.<size>`, e.g. `cache.t3.micro`",
    ) = "cache.t3.micro"
    numNodes: IntStar(1, 6) = 1


class Security(SpecModel):
    atRestEncryption: Bool = False
    transitEncryption: Bool = False


class ElastiCacheRedisSpec(ComponentSpec):
    engine: RedisEngine = section(RedisEngine)
    cluster: Cluster = section(Cluster)
    security: Security = section(Security)


REDIS_OUTPUTS = ("cluster_id", "endpoint", "reader_endpoint", "port", "arn")


def redis_replace(old: dict, new: dict) -> str | None:
    for name in ("atRestEncryption", "transitEncryption"):
        if (old.get("security") or {}).get(name) != (new.get("security") or {}).get(name):
            return f"security.{name}"
    return None


def redis_downgrade(old: dict, new: dict) -> str | None:
    before = (old.get("engine") or {}).get("version")
    after = (new.get("engine") or {}).get("version")
    if is_downgrade(before, after):
        return f"`engine.version` would go down from {before} to {after}; ElastiCache cannot downgrade Redis"
    return None

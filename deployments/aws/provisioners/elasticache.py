"""ElastiCacheRedis (kinds.md "ElastiCacheRedis"): a Redis replication group, even for
one node (a lone cache cluster has no endpoint under moto), in a generated cache subnet
group behind the network's security group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.parsers import ResponseParserError

from .base import Context, Observed, Outcome, ProvisionError
from .network import network_for
from .rds import check_ownership, emulator_gap, sync_tags, tag_dict, wait_for

NAME_LIMIT = 40
NAME_CHARSET = "A-Za-z0-9-"
REDIS_PORT = 6379


def group_id(ctx: Context, previous: Mapping[str, Any] | None = None) -> str:
    recorded = ((previous or {}).get("attributes") or {}).get("cluster_id") or (previous or {}).get(
        "id"
    )
    return recorded or ctx.name(limit=NAME_LIMIT, charset=NAME_CHARSET).lower()


def _describe(ctx: Context, ident: str) -> dict[str, Any] | None:
    try:
        return ctx.call("elasticache", "describe_replication_groups", ReplicationGroupId=ident)[
            "ReplicationGroups"
        ][0]
    except ProvisionError as exc:
        if exc.code == "ReplicationGroupNotFoundFault":
            return None
        raise


def _failover(num_nodes: int) -> bool:
    # Automatic failover and Multi-AZ need a replica to fail over to.
    return num_nodes >= 2


def _enabled(status: str | None) -> bool:
    return status in ("enabled", "enabling")


class RedisProvisioner:
    """kinds.md "ElastiCacheRedis". ``security.*`` changes are replacements (decided by
    the format engine), so update never touches encryption."""

    kind = "ElastiCacheRedis"

    # --- create --------------------------------------------------------------------------

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        ident = group_id(ctx)
        network = network_for(ctx)
        tags = ctx.tag_list(config.get("tags") or {})
        self._ensure_subnet_group(ctx, ident, network.subnet_ids, tags)
        existing = _describe(ctx, ident)
        if existing is not None and existing.get("Status") == "deleting":
            # A replacement reuses the name: wait for the old group to go.
            self._wait_deleted(ctx, ident)
            existing = _describe(ctx, ident)
            if existing is not None:
                raise ProvisionError(
                    f"replication group {ident} is still being deleted; apply again once it is gone"
                )
        if existing is not None:
            arn = existing["ARN"]
            listed = ctx.call("elasticache", "list_tags_for_resource", ResourceName=arn)
            check_ownership(ctx, tag_dict(listed.get("TagList")), f"replication group {ident}")
            ctx.log(f"replication group {ident} already exists; adopting it")
            # It may still be "creating" after a crash: AWS refuses changes until then.
            wait_for(ctx, "elasticache", "replication_group_available", ReplicationGroupId=ident)
            self._converge(ctx, config, None, ident, _describe(ctx, ident) or existing)
        else:
            cluster, security = config["cluster"], config["security"]
            num_nodes = int(cluster["numNodes"])
            kwargs: dict[str, Any] = {
                "ReplicationGroupId": ident,
                "ReplicationGroupDescription": (
                    f"Panka {ctx.stack}/{ctx.environment}/{ctx.service}/{ctx.component}"
                ),
                "Engine": "redis",
                "CacheNodeType": cluster["nodeType"],
                "NumCacheClusters": num_nodes,
                "AutomaticFailoverEnabled": _failover(num_nodes),
                "MultiAZEnabled": _failover(num_nodes),
                "AtRestEncryptionEnabled": bool(security["atRestEncryption"]),
                "TransitEncryptionEnabled": bool(security["transitEncryption"]),
                "CacheSubnetGroupName": ident,
                "Port": REDIS_PORT,
                "Tags": tags,
            }
            if config["engine"].get("version"):
                kwargs["EngineVersion"] = str(config["engine"]["version"])
            if network.security_group_ids:
                kwargs["SecurityGroupIds"] = list(network.security_group_ids)
            ctx.call("elasticache", "create_replication_group", **kwargs)
            ctx.log(f"creating replication group {ident} ({num_nodes} x {cluster['nodeType']})")
        wait_for(ctx, "elasticache", "replication_group_available", ReplicationGroupId=ident)
        return self._outcome(ctx, ident)

    def _ensure_subnet_group(
        self, ctx: Context, name: str, subnet_ids: tuple[str, ...], tags: list[dict[str, str]]
    ) -> None:
        try:
            ctx.call(
                "elasticache",
                "create_cache_subnet_group",
                CacheSubnetGroupName=name,
                CacheSubnetGroupDescription=(
                    f"Panka {ctx.stack}/{ctx.environment}/{ctx.service}/{ctx.component}"
                ),
                SubnetIds=list(subnet_ids),
                Tags=tags,
            )
        except ProvisionError as exc:
            if exc.code != "CacheSubnetGroupAlreadyExists":
                raise  # else: ours, from an earlier interrupted create or a replacement

    def _outcome(self, ctx: Context, ident: str) -> Outcome:
        found = _describe(ctx, ident)
        if found is None:
            raise ProvisionError(f"replication group {ident} vanished while it was being created")
        node_group = (found.get("NodeGroups") or [{}])[0]
        primary = node_group.get("PrimaryEndpoint") or {}
        # AWS gives a reader endpoint for cluster-mode-disabled groups; moto does not.
        # With no replica the reader endpoint leads to the primary anyway.
        reader = node_group.get("ReaderEndpoint") or primary
        return Outcome(
            id=ident,
            attributes={
                "cluster_id": ident,
                "endpoint": primary.get("Address", ""),
                "reader_endpoint": reader.get("Address", ""),
                "port": primary.get("Port", REDIS_PORT),
                "arn": found["ARN"],
            },
        )

    # --- update --------------------------------------------------------------------------

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        ident = group_id(ctx, previous)
        found = _describe(ctx, ident)
        if found is None or found.get("Status") == "deleting":
            raise ProvisionError(
                f"replication group {ident} does not exist; it must be created again"
            )
        self._converge(ctx, config, previous.get("config") or {}, ident, found)
        return self._outcome(ctx, ident)

    def _converge(
        self,
        ctx: Context,
        config: dict[str, Any],
        previous_config: Mapping[str, Any] | None,
        ident: str,
        found: dict[str, Any],
    ) -> None:
        """Replica count, then one modify_replication_group with what differs; no calls
        when nothing does.

        The node count is compared with the previous config, not with AWS: moto keeps
        one member whatever was asked for, so AWS's count would show a change forever.
        """
        cluster = config["cluster"]
        num_nodes = int(cluster["numNodes"])
        before = int(((previous_config or {}).get("cluster") or {}).get("numNodes") or num_nodes)
        changes: dict[str, Any] = {}
        if found.get("CacheNodeType") != cluster["nodeType"]:
            changes["CacheNodeType"] = cluster["nodeType"]
        # Replication groups do not report their engine version: compare with the config
        # it was last applied with (the format engine refuses downgrades).
        version = config["engine"].get("version")
        if (
            previous_config
            and version
            and version != (previous_config.get("engine") or {}).get("version")
        ):
            changes["EngineVersion"] = str(version)
        failover = _failover(num_nodes)
        if failover != _enabled(found.get("AutomaticFailover")):
            changes["AutomaticFailoverEnabled"] = failover
        if failover != _enabled(found.get("MultiAZ")):
            changes["MultiAZEnabled"] = failover
        security_groups = set(network_for(ctx).security_group_ids)
        observed_groups = {
            g["SecurityGroupId"]
            for member in self._members(ctx, found)
            for g in member.get("SecurityGroups") or []
        }
        if security_groups and observed_groups and security_groups != observed_groups:
            changes["SecurityGroupIds"] = sorted(security_groups)

        # AWS refuses failover without a replica, so add replicas before switching it on
        # and switch it off before removing them.
        if num_nodes > before:
            self._replicas(ctx, ident, "increase_replica_count", before, num_nodes)
        self._modify(ctx, ident, changes)
        if num_nodes < before:
            self._replicas(ctx, ident, "decrease_replica_count", before, num_nodes)
        sync_tags(ctx, "elasticache", found["ARN"], config, previous_config)

    def _members(self, ctx: Context, found: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The member cache clusters (for their security groups); moto lists none."""
        members: list[dict[str, Any]] = []
        for member in (found.get("MemberClusters") or [])[:1]:
            try:
                members += ctx.call(
                    "elasticache", "describe_cache_clusters", CacheClusterId=member
                )["CacheClusters"]
            except ProvisionError as exc:
                if exc.code != "CacheClusterNotFound":
                    raise
        return members

    def _modify(self, ctx: Context, ident: str, changes: dict[str, Any]) -> None:
        if not changes:
            return
        ctx.call(
            "elasticache",
            "modify_replication_group",
            ReplicationGroupId=ident,
            ApplyImmediately=True,
            **changes,
        )
        ctx.log(f"modified replication group {ident}: {', '.join(sorted(changes))}")
        wait_for(ctx, "elasticache", "replication_group_available", ReplicationGroupId=ident)

    def _replicas(self, ctx: Context, ident: str, operation: str, before: int, after: int) -> None:
        try:
            ctx.call(
                "elasticache",
                operation,
                ReplicationGroupId=ident,
                NewReplicaCount=after - 1,
                ApplyImmediately=True,
            )
        except (ProvisionError, ResponseParserError) as exc:
            if not emulator_gap(ctx, exc):
                raise
            ctx.log(
                f"replication group {ident}: numNodes {before} -> {after} is not applied on the "
                f"emulator (it has no {operation})"
            )
            return
        ctx.log(f"replication group {ident}: numNodes {before} -> {after}")
        wait_for(ctx, "elasticache", "replication_group_available", ReplicationGroupId=ident)

    # --- delete --------------------------------------------------------------------------

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        ident = group_id(ctx, previous)
        found = _describe(ctx, ident)
        if found is not None:
            if found.get("Status") != "deleting":
                try:
                    ctx.call("elasticache", "delete_replication_group", ReplicationGroupId=ident)
                    ctx.log(f"deleting replication group {ident}")
                except ProvisionError as exc:
                    if exc.code != "ReplicationGroupNotFoundFault":
                        raise
            self._wait_deleted(ctx, ident)
        try:
            ctx.call("elasticache", "delete_cache_subnet_group", CacheSubnetGroupName=ident)
        except (ProvisionError, ResponseParserError) as exc:
            if isinstance(exc, ProvisionError) and exc.code == "CacheSubnetGroupNotFoundFault":
                return
            if not emulator_gap(ctx, exc):
                raise
            ctx.log(f"cache subnet group {ident} left in place: the emulator cannot delete it")

    def _wait_deleted(self, ctx: Context, ident: str) -> None:
        if ctx.aws.emulated:
            # moto marks a deleted group "deleting" and keeps it for ever.
            ctx.log(f"replication group {ident}: the emulator never finishes deleting; not waiting")
            return
        wait_for(ctx, "elasticache", "replication_group_deleted", ReplicationGroupId=ident)

    # --- read ----------------------------------------------------------------------------

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        found = _describe(ctx, group_id(ctx, previous))
        if found is None or found.get("Status") == "deleting":
            return None
        return Observed(
            fields={
                "cluster.nodeType": found.get("CacheNodeType"),
                "security.atRestEncryption": bool(found.get("AtRestEncryptionEnabled")),
                "security.transitEncryption": bool(found.get("TransitEncryptionEnabled")),
            }
        )


PROVISIONERS = {"ElastiCacheRedis": RedisProvisioner()}

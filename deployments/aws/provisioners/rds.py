"""RDS (kinds.md "RDS"): a DB instance, or an Aurora cluster plus its writer instance.

Both live in a generated DB subnet group (the network's subnets) behind the network's
security group, encrypted and private. ``engine.parameters`` become a generated parameter
group (a cluster parameter group for Aurora) named ``<name>-<family>``, so a major
upgrade can move to a group of the new family without a name clash.

The master password is read from Secrets Manager when it is needed (create, or a new
``passwordSecret.ref``) and goes to AWS only: never to a log, an output or the state.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import WaiterError
from botocore.parsers import ResponseParserError

from deployments.spec.kinds.rds import is_aurora, version_key

from .base import Context, Observed, Outcome, ProvisionError
from .network import network_for

NAME_LIMIT = 63
NAME_CHARSET = "A-Za-z0-9-"
WRITER_SUFFIX = "-writer"

# Waits poll every WAIT_DELAY seconds, at most WAIT_ATTEMPTS times (40 min: a Multi-AZ
# instance or an Aurora writer can take half an hour). The emulator is ready at the
# first poll, so tests never sleep.
WAIT_DELAY = 15
WAIT_ATTEMPTS = 160
_LEASE_CHUNK = 4  # waiter attempts between two lease checks

# modify_db_(cluster_)parameter_group takes at most 20 parameters per call.
_PARAMETER_BATCH = 20

# A major version alone (`"8"`) names no family for these engines; take the usual minor.
_DEFAULT_MINOR = {
    "mysql": {5: 7, 8: 0},
    "aurora-mysql": {5: 7, 8: 0},
    "mariadb": {10: 11, 11: 4},
}


# --- shared helpers (elasticache.py uses wait_for and the ownership check too) -----------


def wait_for(
    ctx: Context,
    service: str,
    waiter: str,
    *,
    delay: int = WAIT_DELAY,
    attempts: int = WAIT_ATTEMPTS,
    **kwargs: Any,
) -> None:
    """A boto3 waiter, bounded, with a lease check every few polls."""
    api = ctx.client(service).get_waiter(waiter)
    left = attempts
    while left > 0:
        ctx.ensure_lease()
        chunk = min(_LEASE_CHUNK, left)
        try:
            api.wait(WaiterConfig={"Delay": delay, "MaxAttempts": chunk}, **kwargs)
            return
        except WaiterError as exc:
            if "Max attempts exceeded" not in str(exc):
                raise ProvisionError(f"{service}: waiting for {waiter} failed: {exc}") from exc
        left -= chunk
        time.sleep(delay)  # the waiter does not sleep after its last attempt
    raise ProvisionError(f"{service}: {waiter} was not reached after {attempts * delay} s")


def check_ownership(ctx: Context, tags: Mapping[str, str], what: str) -> None:
    """Refuse to adopt a resource that Panka did not create for this very component.

    A crash between AWS creating a resource and the state being saved leaves it tagged
    by the create call, so our own orphans always pass; anything else would later be
    deleted by us, which for a database is not a risk worth taking.
    """
    expected = ctx.tags()
    keys = ("panka:tenant", "panka:stack", "panka:env", "panka:service", "panka:resource")
    if any(tags.get(key) != expected[key] for key in keys):
        raise ProvisionError(
            f"{what} already exists but was not created by Panka for component "
            f"{ctx.component!r} of {ctx.stack}/{ctx.environment}; delete or rename it"
        )


def tag_dict(tag_list: list[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


def sync_tags(
    ctx: Context,
    service: str,
    arn: str,
    config: Mapping[str, Any],
    previous_config: Mapping[str, Any] | None,
) -> None:
    """Bring a resource's tags to ``ctx.tags(config['tags'])``; zero calls when equal.

    Only keys Panka set (``panka:*`` and the previous config's tags) are removed, so
    tags added by other tools survive.
    """
    desired = ctx.tags(config.get("tags") or {})
    current = tag_dict(ctx.call(service, "list_tags_for_resource", ResourceName=arn).get("TagList"))
    ours = set((previous_config or {}).get("tags") or {})
    stale = sorted(k for k in current if k not in desired and (k.startswith("panka:") or k in ours))
    changed = {k: v for k, v in desired.items() if current.get(k) != v}
    if changed:
        ctx.call(
            service,
            "add_tags_to_resource",
            ResourceName=arn,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(changed.items())],
        )
    if stale:
        ctx.call(service, "remove_tags_from_resource", ResourceName=arn, TagKeys=stale)


def emulator_gap(ctx: Context, exc: Exception) -> bool:
    """Whether ``exc`` is the emulator lacking an operation (moto answers 500 with HTML,
    which botocore cannot parse), as opposed to a real error."""
    if not ctx.aws.emulated:
        return False
    if isinstance(exc, ResponseParserError):
        return True
    return isinstance(exc, ProvisionError) and exc.code in ("", "InternalFailure", "InternalError")


# --- names, families, secrets ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Names:
    """Physical names of one RDS component."""

    base: str  # the instance (plain) or the cluster (Aurora); also the subnet group
    writer: str  # Aurora's writer instance ("" for plain engines)
    aurora: bool

    @property
    def instance(self) -> str:
        return self.writer if self.aurora else self.base

    def parameter_group(self, family: str) -> str:
        # Group names allow letters, digits and single hyphens: `mysql8.0` -> `mysql8-0`.
        return f"{self.base}-{family.replace('.', '-')}"


def names_for(ctx: Context, *, aurora: bool, previous: Mapping[str, Any] | None = None) -> Names:
    """The generated names, or those recorded in the state when there is one."""
    attributes = (previous or {}).get("attributes") or {}
    base = ctx.name(limit=NAME_LIMIT, charset=NAME_CHARSET).lower()
    writer = ctx.name(limit=NAME_LIMIT, suffix=WRITER_SUFFIX, charset=NAME_CHARSET).lower()
    if aurora:
        base = attributes.get("cluster_id") or base
        writer = attributes.get("instance_id") or writer
        return Names(base=base, writer=writer, aurora=True)
    return Names(base=attributes.get("instance_id") or base, writer="", aurora=False)


def parameter_family(engine_type: str, version: str) -> str:
    """The parameter-group family of an engine version (`postgres15`, `mysql8.0`).

    moto has no ``describe_db_engine_versions``, so this is a local rule: PostgreSQL
    families are named by major version (10+), MySQL-like ones by major.minor.
    """
    numbers = version_key(version)
    if not numbers:
        raise ProvisionError(f"cannot tell the parameter group family of {engine_type} {version!r}")
    major = numbers[0]
    if engine_type in ("postgres", "aurora-postgresql") and major >= 10:
        return f"{engine_type}{major}"
    minor = numbers[1] if len(numbers) > 1 else _DEFAULT_MINOR.get(engine_type, {}).get(major)
    if minor is None:
        raise ProvisionError(
            f"cannot tell the parameter group family of {engine_type} {version!r}; "
            "give `engine.version` as major.minor"
        )
    return f"{engine_type}{major}.{minor}"


def master_password(ctx: Context, ref: str) -> str:
    """The password in secret ``ref``: a JSON object's ``password`` key, or the whole text."""
    secret = ctx.call("secretsmanager", "get_secret_value", SecretId=ref)
    text = secret.get("SecretString")
    if not text:
        raise ProvisionError(
            f"secret {ref} has no text value; store the password as text or as JSON with a `password` key"
        )
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        password = data.get("password")
        if not isinstance(password, str) or not password:
            raise ProvisionError(
                f"secret {ref} is a JSON object without a non-empty `password` key"
            )
        return password
    return text


def _needs_upgrade(observed: str | None, desired: str | None) -> bool:
    """Whether ``desired`` is newer than what AWS runs, on the common prefix (AWS reports
    ``15.4`` for a config's ``15``, and minor upgrades may run ahead of the config)."""
    if not observed or not desired:
        return False
    a, b = version_key(observed), version_key(desired)
    n = min(len(a), len(b))
    return b[:n] > a[:n]


def _retention(config: Mapping[str, Any]) -> int:
    backup = config["backup"]
    return int(backup["retentionDays"]) if backup["enabled"] else 0


def _final_snapshot(ident: str) -> str:
    return f"{ident}-final-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}"


# --- parameter groups --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ParameterApi:
    """The DB and DB-cluster flavours of the parameter-group calls."""

    create: str
    describe_groups: str
    modify: str
    reset: str
    describe_parameters: str
    delete: str
    name_key: str
    list_key: str
    label: str


_INSTANCE_GROUPS = _ParameterApi(
    "create_db_parameter_group",
    "describe_db_parameter_groups",
    "modify_db_parameter_group",
    "reset_db_parameter_group",
    "describe_db_parameters",
    "delete_db_parameter_group",
    "DBParameterGroupName",
    "DBParameterGroups",
    "DB parameter group",
)
_CLUSTER_GROUPS = _ParameterApi(
    "create_db_cluster_parameter_group",
    "describe_db_cluster_parameter_groups",
    "modify_db_cluster_parameter_group",
    "reset_db_cluster_parameter_group",
    "describe_db_cluster_parameters",
    "delete_db_cluster_parameter_group",
    "DBClusterParameterGroupName",
    "DBClusterParameterGroups",
    "DB cluster parameter group",
)


def _parameters(
    ctx: Context, api: _ParameterApi, group: str, **filters: Any
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        page = ctx.call(
            "rds",
            api.describe_parameters,
            **{api.name_key: group},
            **filters,
            **({"Marker": marker} if marker else {}),
        )
        found.extend(page.get("Parameters") or [])
        marker = page.get("Marker")
        if not marker:
            return found


def _parameter_group_exists(ctx: Context, api: _ParameterApi, group: str) -> bool:
    try:
        found = ctx.call("rds", api.describe_groups, **{api.name_key: group})
    except ProvisionError as exc:
        if exc.code == "DBParameterGroupNotFound":
            return False
        raise
    # AWS answers NotFound; moto answers with an empty list.
    listed = found.get(api.list_key) or []
    return any(g.get(api.name_key) == group for g in listed)


def _ensure_parameter_group(
    ctx: Context,
    api: _ParameterApi,
    group: str,
    family: str,
    parameters: Mapping[str, str],
    tags: list[dict[str, str]],
) -> None:
    """Create (or adopt) ``group`` and give it exactly ``parameters``."""
    if _parameter_group_exists(ctx, api, group):
        fresh = False
    else:
        ctx.call(
            "rds",
            api.create,
            **{api.name_key: group},
            DBParameterGroupFamily=family,
            Description=f"Panka {ctx.stack}/{ctx.environment}/{ctx.service}/{ctx.component}",
            Tags=tags,
        )
        ctx.log(f"created {api.label} {group} ({family})")
        fresh = True
    _sync_parameters(ctx, api, group, parameters, fresh=fresh)


def _sync_parameters(
    ctx: Context, api: _ParameterApi, group: str, desired: Mapping[str, str], *, fresh: bool
) -> None:
    """Set what differs and reset what is no longer wanted; no calls when in sync.

    A fresh group is attached to nothing yet, so how a value applies does not matter.
    """
    current: dict[str, Any] = {}
    if not fresh:
        current = {
            p["ParameterName"]: p.get("ParameterValue")
            for p in _parameters(ctx, api, group, Source="user")
        }
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_reset = sorted(k for k in current if k not in desired)
    if to_set:
        # "immediate" is refused for static parameters; "pending-reboot" works for all.
        apply_types: dict[str, Any] = {}
        if not fresh:
            apply_types = {
                p["ParameterName"]: p.get("ApplyType") for p in _parameters(ctx, api, group)
            }
        batch = [
            {
                "ParameterName": k,
                "ParameterValue": v,
                "ApplyMethod": "immediate" if apply_types.get(k) == "dynamic" else "pending-reboot",
            }
            for k, v in sorted(to_set.items())
        ]
        for start in range(0, len(batch), _PARAMETER_BATCH):
            ctx.call(
                "rds",
                api.modify,
                **{api.name_key: group},
                Parameters=batch[start : start + _PARAMETER_BATCH],
            )
        pending = [p["ParameterName"] for p in batch if p["ApplyMethod"] == "pending-reboot"]
        ctx.log(f"{api.label} {group}: set {', '.join(sorted(to_set))}")
        if pending and not fresh:
            ctx.log(
                f"{api.label} {group}: {', '.join(pending)} take effect at the next reboot "
                "(Panka does not reboot databases)"
            )
    if to_reset:
        batch = [{"ParameterName": k, "ApplyMethod": "pending-reboot"} for k in to_reset]
        try:
            for start in range(0, len(batch), _PARAMETER_BATCH):
                ctx.call(
                    "rds",
                    api.reset,
                    **{api.name_key: group},
                    Parameters=batch[start : start + _PARAMETER_BATCH],
                )
            ctx.log(f"{api.label} {group}: reset {', '.join(to_reset)} to the engine default")
        except (ProvisionError, ResponseParserError) as exc:
            if not emulator_gap(ctx, exc):
                raise
            ctx.log(
                f"{api.label} {group}: the emulator cannot reset parameters; "
                f"{', '.join(to_reset)} keep their values there"
            )


def _delete_parameter_group(ctx: Context, api: _ParameterApi, group: str) -> None:
    try:
        ctx.call("rds", api.delete, **{api.name_key: group})
        ctx.log(f"deleted {api.label} {group}")
    except ProvisionError as exc:
        if exc.code == "DBParameterGroupNotFound":
            return
        if exc.code == "InvalidDBParameterGroupState":
            # An instance keeps its old group until it reboots; the component's delete
            # removes the group later.
            ctx.log(f"{api.label} {group} is still in use (until the next reboot); left in place")
            return
        raise


def _generated_groups(ctx: Context, api: _ParameterApi, names: Names) -> list[str]:
    found: list[str] = []
    marker: str | None = None
    while True:
        page = ctx.call("rds", api.describe_groups, **({"Marker": marker} if marker else {}))
        for group in page.get(api.list_key) or []:
            if _is_generated_group(names, group[api.name_key]):
                found.append(group[api.name_key])
        marker = page.get("Marker")
        if not marker:
            return sorted(found)


def _desired_group(names: Names, config: Mapping[str, Any]) -> tuple[str | None, str]:
    """(group to attach or None for the engine default, family) for ``config``."""
    engine = config["engine"]
    family = parameter_family(engine["type"], str(engine["version"]))
    if engine.get("parameterGroup"):
        return engine["parameterGroup"], family
    if engine.get("parameters"):
        return names.parameter_group(family), family
    return None, family


_FAMILY_SUFFIX = re.compile(
    r"(postgres|mysql|mariadb|aurora-postgresql|aurora-mysql)[0-9]+(-[0-9]+)?"
)


def _is_generated_group(names: Names, group: str | None) -> bool:
    """Whether ``group`` is one of ours (``<base>-<family>``), never another component's
    whose name merely starts with ours."""
    prefix = f"{names.base}-"
    return bool(
        group and group.startswith(prefix) and _FAMILY_SUFFIX.fullmatch(group[len(prefix) :])
    )


# --- describe ----------------------------------------------------------------------------


def _describe_instance(ctx: Context, ident: str) -> dict[str, Any] | None:
    try:
        return ctx.call("rds", "describe_db_instances", DBInstanceIdentifier=ident)["DBInstances"][
            0
        ]
    except ProvisionError as exc:
        if exc.code == "DBInstanceNotFound":
            return None
        raise


def _describe_cluster(ctx: Context, ident: str) -> dict[str, Any] | None:
    try:
        return ctx.call("rds", "describe_db_clusters", DBClusterIdentifier=ident)["DBClusters"][0]
    except ProvisionError as exc:
        if exc.code == "DBClusterNotFoundFault":
            return None
        raise


def _live(resource: dict[str, Any] | None, status_key: str) -> dict[str, Any] | None:
    """None for a missing resource or one on its way out."""
    if resource is None or resource.get(status_key) == "deleting":
        return None
    return resource


def _instance_group(instance: Mapping[str, Any]) -> str | None:
    groups = instance.get("DBParameterGroups") or []
    return groups[0]["DBParameterGroupName"] if groups else None


def _security_groups(resource: Mapping[str, Any]) -> set[str]:
    return {g["VpcSecurityGroupId"] for g in resource.get("VpcSecurityGroups") or []}


# --- the provisioner ---------------------------------------------------------------------


class RdsProvisioner:
    """kinds.md "RDS". Updates compare the config with what AWS reports, so drift is
    corrected too, and nothing is called when both agree."""

    kind = "RDS"

    # --- create --------------------------------------------------------------------------

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        engine = config["engine"]
        names = names_for(ctx, aurora=is_aurora(engine["type"]))
        network = network_for(ctx)
        tags = ctx.tag_list(config.get("tags") or {})
        self._ensure_subnet_group(ctx, names.base, network.subnet_ids, tags)
        group, family = _desired_group(names, config)
        if engine.get("parameters"):
            api = _CLUSTER_GROUPS if names.aurora else _INSTANCE_GROUPS
            _ensure_parameter_group(ctx, api, group, family, engine["parameters"], tags)
        if names.aurora:
            return self._create_aurora(ctx, config, names, group, network.security_group_ids, tags)
        return self._create_instance(ctx, config, names, group, network.security_group_ids, tags)

    def _ensure_subnet_group(
        self, ctx: Context, name: str, subnet_ids: tuple[str, ...], tags: list[dict[str, str]]
    ) -> None:
        try:
            ctx.call("rds", "describe_db_subnet_groups", DBSubnetGroupName=name)
            return  # ours from an earlier, interrupted create
        except ProvisionError as exc:
            if exc.code != "DBSubnetGroupNotFoundFault":
                raise
        ctx.call(
            "rds",
            "create_db_subnet_group",
            DBSubnetGroupName=name,
            DBSubnetGroupDescription=f"Panka {ctx.stack}/{ctx.environment}/{ctx.service}/{ctx.component}",
            SubnetIds=list(subnet_ids),
            Tags=tags,
        )

    def _create_instance(
        self,
        ctx: Context,
        config: dict[str, Any],
        names: Names,
        group: str | None,
        security_groups: tuple[str, ...],
        tags: list[dict[str, str]],
    ) -> Outcome:
        ident = names.instance
        existing = _describe_instance(ctx, ident)
        if existing is not None and existing.get("DBInstanceStatus") == "deleting":
            # A replacement reuses the name: let the old instance go first.
            wait_for(ctx, "rds", "db_instance_deleted", DBInstanceIdentifier=ident)
            existing = None
        if existing is not None:
            check_ownership(ctx, tag_dict(existing.get("TagList")), f"RDS instance {ident}")
            ctx.log(f"RDS instance {ident} already exists; adopting it")
            # It may still be "creating" after a crash: AWS refuses changes until then.
            wait_for(ctx, "rds", "db_instance_available", DBInstanceIdentifier=ident)
            existing = _describe_instance(ctx, ident) or existing
            self._converge_instance(ctx, config, None, names, existing)
        else:
            engine, instance, database, backup = (
                config[k] for k in ("engine", "instance", "database", "backup")
            )
            storage = instance["storage"]
            kwargs: dict[str, Any] = {
                "DBInstanceIdentifier": ident,
                "DBInstanceClass": instance["class"],
                "Engine": engine["type"],
                "EngineVersion": str(engine["version"]),
                "DBName": database["name"],
                "MasterUsername": database["username"],
                "Port": int(database["port"]),
                "DBSubnetGroupName": names.base,
                "StorageEncrypted": True,
                "PubliclyAccessible": False,
                "MultiAZ": bool(instance["multiAZ"]),
                "BackupRetentionPeriod": _retention(config),
                "AutoMinorVersionUpgrade": bool(config["maintenance"]["autoMinorVersionUpgrade"]),
                "StorageType": storage["type"],
                "AllocatedStorage": int(storage["allocatedGB"]),
                "CopyTagsToSnapshot": True,
                "Tags": tags,
            }
            if security_groups:
                kwargs["VpcSecurityGroupIds"] = list(security_groups)
            if storage.get("maxAllocatedGB") is not None:
                kwargs["MaxAllocatedStorage"] = int(storage["maxAllocatedGB"])
            if instance.get("iops") is not None:
                kwargs["Iops"] = int(instance["iops"])
            if group:
                kwargs["DBParameterGroupName"] = group
            if backup.get("preferredWindow") and backup["enabled"]:
                kwargs["PreferredBackupWindow"] = backup["preferredWindow"]
            if backup.get("maintenanceWindow"):
                kwargs["PreferredMaintenanceWindow"] = backup["maintenanceWindow"]
            kwargs["MasterUserPassword"] = master_password(ctx, database["passwordSecret"]["ref"])
            ctx.call("rds", "create_db_instance", **kwargs)
            ctx.log(
                f"creating RDS instance {ident} ({engine['type']} {engine['version']}, {instance['class']})"
            )
        wait_for(ctx, "rds", "db_instance_available", DBInstanceIdentifier=ident)
        return self._instance_outcome(ctx, config, ident)

    def _create_aurora(
        self,
        ctx: Context,
        config: dict[str, Any],
        names: Names,
        group: str | None,
        security_groups: tuple[str, ...],
        tags: list[dict[str, str]],
    ) -> Outcome:
        engine, instance, database, backup = (
            config[k] for k in ("engine", "instance", "database", "backup")
        )
        cluster = _describe_cluster(ctx, names.base)
        if cluster is not None and cluster.get("Status") == "deleting":
            wait_for(ctx, "rds", "db_cluster_deleted", DBClusterIdentifier=names.base)
            cluster = None
        if cluster is not None:
            check_ownership(ctx, tag_dict(cluster.get("TagList")), f"Aurora cluster {names.base}")
            ctx.log(f"Aurora cluster {names.base} already exists; adopting it")
        else:
            if instance["storage"].get("allocatedGB") is not None or instance["multiAZ"]:
                ctx.log(
                    "Aurora manages its own storage and replicas: `instance.storage` and "
                    "`instance.multiAZ` are not applied"
                )
            kwargs: dict[str, Any] = {
                "DBClusterIdentifier": names.base,
                "Engine": engine["type"],
                "EngineVersion": str(engine["version"]),
                "DatabaseName": database["name"],
                "MasterUsername": database["username"],
                "Port": int(database["port"]),
                "DBSubnetGroupName": names.base,
                "StorageEncrypted": True,
                # Aurora keeps at least one day of backups; backup.enabled=false only skips
                # the final snapshot.
                "BackupRetentionPeriod": max(1, _retention(config)),
                "CopyTagsToSnapshot": True,
                "Tags": tags,
            }
            if security_groups:
                kwargs["VpcSecurityGroupIds"] = list(security_groups)
            if group:
                kwargs["DBClusterParameterGroupName"] = group
            if backup.get("preferredWindow"):
                kwargs["PreferredBackupWindow"] = backup["preferredWindow"]
            if backup.get("maintenanceWindow"):
                kwargs["PreferredMaintenanceWindow"] = backup["maintenanceWindow"]
            kwargs["MasterUserPassword"] = master_password(ctx, database["passwordSecret"]["ref"])
            ctx.call("rds", "create_db_cluster", **kwargs)
            ctx.log(f"creating Aurora cluster {names.base} ({engine['type']} {engine['version']})")
        writer = _describe_instance(ctx, names.writer)
        if writer is None:
            writer_kwargs: dict[str, Any] = {
                "DBInstanceIdentifier": names.writer,
                "DBClusterIdentifier": names.base,
                "DBInstanceClass": instance["class"],
                "Engine": engine["type"],
                "PubliclyAccessible": False,
                "AutoMinorVersionUpgrade": bool(config["maintenance"]["autoMinorVersionUpgrade"]),
                "CopyTagsToSnapshot": True,
                "Tags": tags,
            }
            if backup.get("maintenanceWindow"):
                writer_kwargs["PreferredMaintenanceWindow"] = backup["maintenanceWindow"]
            ctx.call("rds", "create_db_instance", **writer_kwargs)
            ctx.log(f"creating Aurora writer {names.writer} ({instance['class']})")
        else:
            check_ownership(ctx, tag_dict(writer.get("TagList")), f"RDS instance {names.writer}")
        wait_for(ctx, "rds", "db_cluster_available", DBClusterIdentifier=names.base)
        wait_for(ctx, "rds", "db_instance_available", DBInstanceIdentifier=names.writer)
        if cluster is not None or writer is not None:
            self._converge_aurora(ctx, config, None, names)  # adopted: bring it in line
        return self._aurora_outcome(ctx, config, names)

    # --- outcomes ------------------------------------------------------------------------

    def _instance_outcome(self, ctx: Context, config: Mapping[str, Any], ident: str) -> Outcome:
        found = _describe_instance(ctx, ident)
        if found is None:
            raise ProvisionError(f"RDS instance {ident} vanished while it was being created")
        endpoint = found.get("Endpoint") or {}
        return Outcome(
            id=ident,
            attributes={
                "instance_id": ident,
                "endpoint": endpoint.get("Address", ""),
                "port": endpoint.get("Port", int(config["database"]["port"])),
                "arn": found["DBInstanceArn"],
                "database_name": found.get("DBName") or config["database"]["name"],
            },
        )

    def _aurora_outcome(self, ctx: Context, config: Mapping[str, Any], names: Names) -> Outcome:
        cluster = _describe_cluster(ctx, names.base)
        if cluster is None:
            raise ProvisionError(f"Aurora cluster {names.base} vanished while it was being created")
        return Outcome(
            id=names.base,
            attributes={
                "instance_id": names.writer,
                "endpoint": cluster.get("Endpoint", ""),
                "port": cluster.get("Port", int(config["database"]["port"])),
                "arn": cluster["DBClusterArn"],
                "database_name": cluster.get("DatabaseName") or config["database"]["name"],
                "cluster_id": names.base,
                "reader_endpoint": cluster.get("ReaderEndpoint", ""),
            },
        )

    # --- update --------------------------------------------------------------------------

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        previous_config = previous.get("config") or {}
        names = names_for(ctx, aurora=is_aurora(config["engine"]["type"]), previous=previous)
        if names.aurora:
            if _live(_describe_cluster(ctx, names.base), "Status") is None:
                raise ProvisionError(
                    f"Aurora cluster {names.base} does not exist; it must be created again"
                )
            self._converge_aurora(ctx, config, previous_config, names)
            return self._aurora_outcome(ctx, config, names)
        found = _live(_describe_instance(ctx, names.instance), "DBInstanceStatus")
        if found is None:
            raise ProvisionError(
                f"RDS instance {names.instance} does not exist; it must be created again"
            )
        self._converge_instance(ctx, config, previous_config, names, found)
        return self._instance_outcome(ctx, config, names.instance)

    def _converge_groups(
        self,
        ctx: Context,
        config: Mapping[str, Any],
        previous_config: Mapping[str, Any] | None,
        names: Names,
        attached: str | None,
        changes: dict[str, Any],
        key: str,
    ) -> list[str]:
        """Bring the parameter group in line; returns generated groups to delete after
        the modify call has moved the instance or cluster off them."""
        api = _CLUSTER_GROUPS if names.aurora else _INSTANCE_GROUPS
        engine = config["engine"]
        group, family = _desired_group(names, config)
        if engine.get("parameters"):
            _ensure_parameter_group(
                ctx,
                api,
                group,
                family,
                engine["parameters"],
                ctx.tag_list(config.get("tags") or {}),
            )
        if group is None and attached:
            previous_explicit = ((previous_config or {}).get("engine") or {}).get("parameterGroup")
            if attached == names.parameter_group(family):
                # `parameters` removed: a generated group without overrides is the engine
                # default, and keeping it avoids a group switch (and a reboot).
                _sync_parameters(ctx, api, attached, {}, fresh=False)
                group = attached
            elif _is_generated_group(names, attached) or attached == previous_explicit:
                group = f"default.{family}"
        if group is not None and group != attached:
            changes[key] = group
            if attached and _is_generated_group(names, attached):
                return [attached]
        return []

    def _password_change(
        self,
        ctx: Context,
        config: Mapping[str, Any],
        previous_config: Mapping[str, Any] | None,
        changes: dict[str, Any],
    ) -> None:
        ref = config["database"]["passwordSecret"]["ref"]
        before = (((previous_config or {}).get("database") or {}).get("passwordSecret") or {}).get(
            "ref"
        )
        if previous_config and before != ref:
            changes["MasterUserPassword"] = master_password(ctx, ref)

    def _converge_instance(
        self,
        ctx: Context,
        config: dict[str, Any],
        previous_config: Mapping[str, Any] | None,
        names: Names,
        found: dict[str, Any],
    ) -> None:
        """One modify_db_instance with what differs from AWS, or no call at all."""
        ident = names.instance
        engine, instance, database, backup = (
            config[k] for k in ("engine", "instance", "database", "backup")
        )
        storage = instance["storage"]
        previous_storage = ((previous_config or {}).get("instance") or {}).get("storage") or {}
        changes: dict[str, Any] = {}
        if found.get("DBInstanceClass") != instance["class"]:
            changes["DBInstanceClass"] = instance["class"]
        if _needs_upgrade(found.get("EngineVersion"), str(engine["version"])):
            changes["EngineVersion"] = str(engine["version"])
            if parameter_family(engine["type"], found["EngineVersion"]) != parameter_family(
                engine["type"], str(engine["version"])
            ):
                changes["AllowMajorVersionUpgrade"] = True
        # Storage only grows; with autoscaling AWS may already be above the config.
        if int(storage["allocatedGB"]) > int(found.get("AllocatedStorage") or 0):
            changes["AllocatedStorage"] = int(storage["allocatedGB"])
        if storage["type"] != found.get("StorageType"):
            changes["StorageType"] = storage["type"]
        if storage.get("maxAllocatedGB") is not None:
            if int(storage["maxAllocatedGB"]) != found.get("MaxAllocatedStorage"):
                changes["MaxAllocatedStorage"] = int(storage["maxAllocatedGB"])
        elif previous_storage.get("maxAllocatedGB") is not None and found.get(
            "MaxAllocatedStorage"
        ):
            # Autoscaling switched off: a maximum equal to the current size stops it.
            changes["MaxAllocatedStorage"] = max(
                int(storage["allocatedGB"]), int(found.get("AllocatedStorage") or 0)
            )
        if instance.get("iops") is not None and int(instance["iops"]) != found.get("Iops"):
            changes["Iops"] = int(instance["iops"])
        if bool(instance["multiAZ"]) != bool(found.get("MultiAZ")):
            changes["MultiAZ"] = bool(instance["multiAZ"])
        if _retention(config) != found.get("BackupRetentionPeriod"):
            changes["BackupRetentionPeriod"] = _retention(config)
        if (
            backup.get("preferredWindow")
            and backup["enabled"]
            and backup["preferredWindow"] != found.get("PreferredBackupWindow")
        ):
            changes["PreferredBackupWindow"] = backup["preferredWindow"]
        if backup.get("maintenanceWindow") and backup["maintenanceWindow"] != found.get(
            "PreferredMaintenanceWindow"
        ):
            changes["PreferredMaintenanceWindow"] = backup["maintenanceWindow"]
        auto_minor = bool(config["maintenance"]["autoMinorVersionUpgrade"])
        if auto_minor != bool(found.get("AutoMinorVersionUpgrade")):
            changes["AutoMinorVersionUpgrade"] = auto_minor
        port = int(database["port"])
        if port != (found.get("Endpoint") or {}).get("Port", found.get("DbInstancePort")):
            changes["DBPortNumber"] = port
        security_groups = set(network_for(ctx).security_group_ids)
        if security_groups and security_groups != _security_groups(found):
            changes["VpcSecurityGroupIds"] = sorted(security_groups)
        stale_groups = self._converge_groups(
            ctx,
            config,
            previous_config,
            names,
            _instance_group(found),
            changes,
            "DBParameterGroupName",
        )
        self._password_change(ctx, config, previous_config, changes)
        if changes:
            ctx.call(
                "rds",
                "modify_db_instance",
                DBInstanceIdentifier=ident,
                ApplyImmediately=True,
                **changes,
            )
            ctx.log(f"modified RDS instance {ident}: {', '.join(sorted(changes))}")
            wait_for(ctx, "rds", "db_instance_available", DBInstanceIdentifier=ident)
        for group in stale_groups:
            _delete_parameter_group(ctx, _INSTANCE_GROUPS, group)
        sync_tags(ctx, "rds", found["DBInstanceArn"], config, previous_config)

    def _converge_aurora(
        self,
        ctx: Context,
        config: dict[str, Any],
        previous_config: Mapping[str, Any] | None,
        names: Names,
    ) -> None:
        """modify_db_cluster for cluster settings, modify_db_instance for the writer; each
        only when something differs from AWS."""
        cluster = _describe_cluster(ctx, names.base)
        writer = _describe_instance(ctx, names.writer)
        if cluster is None or writer is None:
            raise ProvisionError(
                f"Aurora cluster {names.base} or its writer {names.writer} is missing"
            )
        engine, database, backup = config["engine"], config["database"], config["backup"]
        changes: dict[str, Any] = {}
        retention = max(1, _retention(config))
        if retention != cluster.get("BackupRetentionPeriod"):
            changes["BackupRetentionPeriod"] = retention
        if backup.get("preferredWindow") and backup["preferredWindow"] != cluster.get(
            "PreferredBackupWindow"
        ):
            changes["PreferredBackupWindow"] = backup["preferredWindow"]
        if backup.get("maintenanceWindow") and backup["maintenanceWindow"] != cluster.get(
            "PreferredMaintenanceWindow"
        ):
            changes["PreferredMaintenanceWindow"] = backup["maintenanceWindow"]
        if int(database["port"]) != cluster.get("Port"):
            changes["Port"] = int(database["port"])
        if _needs_upgrade(cluster.get("EngineVersion"), str(engine["version"])):
            changes["EngineVersion"] = str(engine["version"])
            if parameter_family(engine["type"], cluster["EngineVersion"]) != parameter_family(
                engine["type"], str(engine["version"])
            ):
                changes["AllowMajorVersionUpgrade"] = True
        security_groups = set(network_for(ctx).security_group_ids)
        if security_groups and security_groups != _security_groups(cluster):
            changes["VpcSecurityGroupIds"] = sorted(security_groups)
        stale_groups = self._converge_groups(
            ctx,
            config,
            previous_config,
            names,
            cluster.get("DBClusterParameterGroup"),
            changes,
            "DBClusterParameterGroupName",
        )
        self._password_change(ctx, config, previous_config, changes)
        if changes:
            ctx.call(
                "rds",
                "modify_db_cluster",
                DBClusterIdentifier=names.base,
                ApplyImmediately=True,
                **changes,
            )
            ctx.log(f"modified Aurora cluster {names.base}: {', '.join(sorted(changes))}")
            wait_for(ctx, "rds", "db_cluster_available", DBClusterIdentifier=names.base)
        for group in stale_groups:
            _delete_parameter_group(ctx, _CLUSTER_GROUPS, group)

        writer_changes: dict[str, Any] = {}
        if writer.get("DBInstanceClass") != config["instance"]["class"]:
            writer_changes["DBInstanceClass"] = config["instance"]["class"]
        auto_minor = bool(config["maintenance"]["autoMinorVersionUpgrade"])
        if auto_minor != bool(writer.get("AutoMinorVersionUpgrade")):
            writer_changes["AutoMinorVersionUpgrade"] = auto_minor
        if writer_changes:
            ctx.call(
                "rds",
                "modify_db_instance",
                DBInstanceIdentifier=names.writer,
                ApplyImmediately=True,
                **writer_changes,
            )
            ctx.log(f"modified Aurora writer {names.writer}: {', '.join(sorted(writer_changes))}")
            wait_for(ctx, "rds", "db_instance_available", DBInstanceIdentifier=names.writer)
        sync_tags(ctx, "rds", cluster["DBClusterArn"], config, previous_config)
        sync_tags(ctx, "rds", writer["DBInstanceArn"], config, previous_config)

    # --- delete --------------------------------------------------------------------------

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        config = previous.get("config") or {}
        engine_type = (config.get("engine") or {}).get("type") or ""
        attributes = previous.get("attributes") or {}
        aurora = is_aurora(engine_type) if engine_type else bool(attributes.get("cluster_id"))
        names = names_for(ctx, aurora=aurora, previous=previous)
        backups = (config.get("backup") or {}).get("enabled")

        if aurora:
            writer = _describe_instance(ctx, names.writer)
            if writer is not None:
                self._delete_instance(
                    ctx, names.writer, snapshot=False, status=writer.get("DBInstanceStatus")
                )
            cluster = _describe_cluster(ctx, names.base)
            if cluster is not None:
                take = backups if backups is not None else True
                self._delete_cluster(ctx, names.base, snapshot=take, status=cluster.get("Status"))
        else:
            found = _describe_instance(ctx, names.instance)
            if found is not None:
                take = backups if backups is not None else bool(found.get("BackupRetentionPeriod"))
                self._delete_instance(
                    ctx, names.instance, snapshot=take, status=found.get("DBInstanceStatus")
                )

        try:
            ctx.call("rds", "delete_db_subnet_group", DBSubnetGroupName=names.base)
        except ProvisionError as exc:
            if exc.code != "DBSubnetGroupNotFoundFault":
                raise
        api = _CLUSTER_GROUPS if aurora else _INSTANCE_GROUPS
        # Every family this component used: a major upgrade leaves the old group behind
        # while the instance still held it.
        for group in _generated_groups(ctx, api, names):
            _delete_parameter_group(ctx, api, group)

    def _delete_instance(
        self, ctx: Context, ident: str, *, snapshot: bool, status: str | None
    ) -> None:
        self._delete(
            ctx, ident, snapshot=snapshot, status=status, what="RDS instance", unit="instance"
        )

    def _delete_cluster(
        self, ctx: Context, ident: str, *, snapshot: bool, status: str | None
    ) -> None:
        self._delete(
            ctx, ident, snapshot=snapshot, status=status, what="Aurora cluster", unit="cluster"
        )

    def _delete(
        self, ctx: Context, ident: str, *, snapshot: bool, status: str | None, what: str, unit: str
    ) -> None:
        """Delete a DB instance or cluster (``unit``), with a final snapshot when asked,
        and wait until it is gone; one that is already gone is fine."""
        operation, id_param, missing, waiter = {
            "instance": (
                "delete_db_instance",
                "DBInstanceIdentifier",
                "DBInstanceNotFound",
                "db_instance_deleted",
            ),
            "cluster": (
                "delete_db_cluster",
                "DBClusterIdentifier",
                "DBClusterNotFoundFault",
                "db_cluster_deleted",
            ),
        }[unit]
        if status != "deleting":
            kwargs: dict[str, Any] = {"SkipFinalSnapshot": True}
            note = ""
            if snapshot:
                kwargs = {
                    "SkipFinalSnapshot": False,
                    "FinalDBSnapshotIdentifier": _final_snapshot(ident),
                }
                note = f" (final snapshot {kwargs['FinalDBSnapshotIdentifier']})"
            try:
                ctx.call("rds", operation, **{id_param: ident}, **kwargs)
                ctx.log(f"deleting {what} {ident}{note}")
            except ProvisionError as exc:
                if exc.code == missing:
                    return
                raise
        wait_for(ctx, "rds", waiter, **{id_param: ident})

    # --- read ----------------------------------------------------------------------------

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        config = previous.get("config") or {}
        engine_type = (config.get("engine") or {}).get("type") or ""
        attributes = previous.get("attributes") or {}
        aurora = is_aurora(engine_type) if engine_type else bool(attributes.get("cluster_id"))
        names = names_for(ctx, aurora=aurora, previous=previous)
        backup_enabled = (config.get("backup") or {}).get("enabled", True)
        if aurora:
            cluster = _live(_describe_cluster(ctx, names.base), "Status")
            writer = _live(_describe_instance(ctx, names.writer), "DBInstanceStatus")
            if cluster is None or writer is None:
                return None
            fields: dict[str, Any] = {"instance.class": writer.get("DBInstanceClass")}
            if backup_enabled:  # Aurora always keeps >= 1 day, so "off" cannot be observed
                fields["backup.retentionDays"] = cluster.get("BackupRetentionPeriod")
            return Observed(fields=fields)
        found = _live(_describe_instance(ctx, names.instance), "DBInstanceStatus")
        if found is None:
            return None
        retention = int(found.get("BackupRetentionPeriod") or 0)
        fields = {
            "instance.class": found.get("DBInstanceClass"),
            "instance.multiAZ": bool(found.get("MultiAZ")),
            "backup.enabled": retention > 0,
        }
        if retention > 0:
            fields["backup.retentionDays"] = retention
        # With storage autoscaling AWS owns the size, so a bigger disk is not drift.
        if ((config.get("instance") or {}).get("storage") or {}).get("maxAllocatedGB") is None:
            fields["instance.storage.allocatedGB"] = found.get("AllocatedStorage")
        return Observed(fields=fields)


PROVISIONERS = {"RDS": RdsProvisioner()}

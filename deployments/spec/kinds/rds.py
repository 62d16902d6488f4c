"""RDS: a DB instance, or an Aurora cluster plus its writer instance."""

from __future__ import annotations

import re

from pydantic import Field

from .base import ComponentSpec, RuledModel, Rules, SpecModel, na, section
from .common import AnyMapping, Bool, Checked, Enum, IntStar, NonEmptyStr, Str, StrMap, Text
from .syntax import daily_window_problem, weekly_window_problem

ENGINES = ("postgres", "mysql", "mariadb", "aurora-postgresql", "aurora-mysql")
MYSQL_FAMILY = frozenset({"mysql", "mariadb", "aurora-mysql"})
DEFAULT_PORT = {
    "postgres": 5432,
    "aurora-postgresql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "aurora-mysql": 3306,
}
GP3_IOPS_MIN_GB = 400
GP3_BASELINE_IOPS = 3000
MYSQL_USERNAME_MAX = 16
_IDENT = r"[A-Za-z][A-Za-z0-9_]*"
_IDENT_RULE = "must start with a letter and contain only letters, digits and `_`"


def is_aurora(engine_type: str) -> bool:
    return engine_type.startswith("aurora-")


class Engine(RuledModel):
    type: Enum(*ENGINES)
    version: Text(
        pattern=r"[0-9]+(\.[A-Za-z0-9_-]+)*",
        rule="must be a version such as `15`, `14.7` or `8.0.35`",
    )
    parameters: StrMap = Field(default_factory=dict)  # a generated parameter group
    parameterGroup: NonEmptyStr | None = None  # an existing one

    def check(self, rules: Rules) -> None:
        if self.parameterGroup is not None and self.parameters:
            rules.add(
                "invalid-combination",
                ("parameterGroup",),
                "`{p}parameterGroup` (an existing group) and `{p}parameters` (a generated one) "
                "exclude each other",
                ("parameterGroup", "parameters"),
            )


class Storage(RuledModel):
    type: Enum("gp2", "gp3", "io1", "io2") = "gp3"
    allocatedGB: IntStar(20, 65536) | None = None  # required unless Aurora: checked at the root
    maxAllocatedGB: IntStar() | None = None
    iops: IntStar(1000) | None = Field(None, exclude=True)  # the same as instance.iops

    def check(self, rules: Rules) -> None:
        top, allocated = self.maxAllocatedGB, self.allocatedGB
        if top is not None and allocated is not None and top <= allocated:
            rules.add(
                "invalid-value",
                ("maxAllocatedGB",),
                f"`{{p}}maxAllocatedGB` ({self.maxAllocatedGB}) must be greater than "
                f"`{{p}}allocatedGB` ({self.allocatedGB})",
                ("allocatedGB", "maxAllocatedGB"),
            )


class Instance(RuledModel):
    class_: Text(
        pattern=r"db\.[a-z0-9]+\.[a-z0-9]+",
        rule="must be `db.<family>.<size>`, e.g. `db.t3.medium`",
    ) = Field(alias="class")
    storage: Storage = section(Storage)
    iops: IntStar(1000) | None = None
    multiAZ: Bool = False
    availabilityZones: list[Str] | None = na()

    def check(self, rules: Rules) -> None:
        storage = self.storage
        both = ("iops", "storage")
        if storage.iops is not None:  # `storage.iops` is the Go spelling; keep one place
            if self.iops is not None and self.iops != storage.iops:
                rules.add(
                    "invalid-combination",
                    ("storage", "iops"),
                    "`{p}storage.iops` and `{p}iops` are the same setting; give one value",
                    both,
                )
            self.iops = self.iops if self.iops is not None else storage.iops
            storage.iops = None
        if storage.type in ("io1", "io2") and self.iops is None:
            rules.missing((), f"`{{p}}iops` is required with storage type `{storage.type}`", both)
        elif storage.type == "gp2" and self.iops is not None:
            rules.add(
                "invalid-combination",
                ("iops",),
                "`{p}iops` cannot be set with storage type `gp2`",
                both,
            )
        elif storage.type == "gp3" and self.iops is not None and _small_gp3(storage.allocatedGB):
            if self.iops == GP3_BASELINE_IOPS:
                self.iops = None  # the gp3 baseline: accepted, not sent
            else:
                rules.add(
                    "invalid-combination",
                    ("iops",),
                    f"`{{p}}iops` on gp3 needs `{{p}}storage.allocatedGB` of at least "
                    f"{GP3_IOPS_MIN_GB} (below that only the baseline {GP3_BASELINE_IOPS} is accepted)",
                    both,
                )


def _small_gp3(allocated_gb: int | None) -> bool:
    """gp3 volumes under 400 GB have a fixed baseline and take no provisioned IOPS."""
    return allocated_gb is not None and allocated_gb < GP3_IOPS_MIN_GB


class PasswordSecret(SpecModel):
    ref: NonEmptyStr  # a Secrets Manager name or ARN; its form is checked by core
    envVar: Str | None = na()


class Database(SpecModel):
    name: Text(max_len=63, pattern=_IDENT, rule=_IDENT_RULE)
    username: Text(pattern=_IDENT, rule=_IDENT_RULE)
    passwordSecret: PasswordSecret
    port: IntStar(1150, 65535) | None = None  # default by engine, filled at the root


class Backup(RuledModel):
    enabled: Bool = True
    retentionDays: IntStar(1, 35) = 7
    preferredWindow: Checked(daily_window_problem) | None = None
    maintenanceWindow: Checked(weekly_window_problem) | None = None

    def check(self, rules: Rules) -> None:
        if self.maintenanceWindow is not None:
            self.maintenanceWindow = self.maintenanceWindow.lower()  # AWS's own spelling


class Maintenance(SpecModel):
    autoMinorVersionUpgrade: Bool = True
    # Another spelling of backup.maintenanceWindow, merged there by the root.
    preferredWindow: Checked(weekly_window_problem) | None = Field(None, exclude=True)


class RDSSpec(ComponentSpec):
    engine: Engine
    instance: Instance
    database: Database
    backup: Backup = section(Backup)
    maintenance: Maintenance = section(Maintenance)
    monitoring: AnyMapping | None = na()

    def check(self, rules: Rules) -> None:
        engine = self.engine.type
        if not is_aurora(engine) and self.instance.storage.allocatedGB is None:
            parent = (
                ("instance", "storage")
                if "storage" in self.instance.model_fields_set
                else ("instance",)
            )
            rules.missing(
                parent,
                f"`instance.storage.allocatedGB` is required for engine `{engine}`",
                ("engine", "instance"),
            )
        if engine in MYSQL_FAMILY and len(self.database.username) > MYSQL_USERNAME_MAX:
            rules.add(
                "invalid-value",
                ("database", "username"),
                f"`database.username` must be at most {MYSQL_USERNAME_MAX} characters on {engine} "
                f"(has {len(self.database.username)})",
                ("engine", "database"),
            )
        if self.database.port is None:
            self.database.port = DEFAULT_PORT[engine]
        window = self.maintenance.preferredWindow
        if window is not None:
            window = window.lower()
            if self.backup.maintenanceWindow not in (None, window):
                rules.add(
                    "invalid-combination",
                    ("maintenance", "preferredWindow"),
                    "`maintenance.preferredWindow` and `backup.maintenanceWindow` are the same "
                    "setting; give one value",
                    ("maintenance", "backup"),
                )
            # `backup` may be the shared default section: replace it, never mutate it.
            self.backup = self.backup.model_copy(update={"maintenanceWindow": window})
            self.maintenance.preferredWindow = None  # written by the user: a fresh instance


RDS_OUTPUTS = (
    "instance_id",
    "endpoint",
    "port",
    "arn",
    "database_name",
    "cluster_id",
    "reader_endpoint",
)
_PLAIN = frozenset(RDS_OUTPUTS[:5])
_AURORA = frozenset(RDS_OUTPUTS)


def rds_available(model: RDSSpec) -> frozenset[str]:
    return _AURORA if is_aurora(model.engine.type) else _PLAIN


def rds_replace(old: dict, new: dict) -> str | None:
    for section_name, field_name in (
        ("engine", "type"),
        ("database", "name"),
        ("database", "username"),
    ):
        if (old.get(section_name) or {}).get(field_name) != (new.get(section_name) or {}).get(
            field_name
        ):
            return f"{section_name}.{field_name}"
    old_gb = ((old.get("instance") or {}).get("storage") or {}).get("allocatedGB")
    new_gb = ((new.get("instance") or {}).get("storage") or {}).get("allocatedGB")
    if old_gb is not None and new_gb is not None and new_gb < old_gb:
        return "instance.storage.allocatedGB"  # storage can grow in place, never shrink
    return None


_NUMBERS = re.compile(r"[0-9]+")


def version_key(version: str) -> tuple[int, ...]:
    """``"8.0.mysql_aurora.3.04.0"`` → (8, 0, 3, 4, 0): its numbers, in order."""
    return tuple(int(n) for n in _NUMBERS.findall(version))


def is_downgrade(old: str | None, new: str | None) -> bool:
    """Compared on the common prefix: ``15`` after ``15.4`` names the same major, no downgrade."""
    if not old or not new:
        return False
    a, b = version_key(old), version_key(new)
    n = min(len(a), len(b))
    return b[:n] < a[:n]


def rds_downgrade(old: dict, new: dict) -> str | None:
    old_engine, new_engine = old.get("engine") or {}, new.get("engine") or {}
    if old_engine.get("type") != new_engine.get("type"):
        return None  # another engine is a replacement, not a downgrade
    if is_downgrade(old_engine.get("version"), new_engine.get("version")):
        return (
            f"`engine.version` would go down from {old_engine.get('version')} to "
            f"{new_engine.get('version')}; RDS cannot downgrade an engine"
        )
    return None

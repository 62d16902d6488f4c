"""ECS Fargate kinds: MicroService, Worker, and CronJob (whose target may be a container)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from .base import ComponentSpec, ListRules, RuledModel, Rules, SpecModel, na, section
from .common import (
    AnyMapping,
    AnyValue,
    Bool,
    Checked,
    Enum,
    IntStar,
    NonEmptyStr,
    RefName,
    Scalar,
    Str,
    Text,
    fail,
    to_bool,
    to_int,
)
from .results import Ref, SpecIssue
from .syntax import role_arn_problem, schedule_problem

# --- Fargate task sizes -----------------------------------------------------------------

_GIB = 1024
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1 * _GIB, 4 * _GIB + 1, _GIB)),
    1024: tuple(range(2 * _GIB, 8 * _GIB + 1, _GIB)),
    2048: tuple(range(4 * _GIB, 16 * _GIB + 1, _GIB)),
    4096: tuple(range(8 * _GIB, 30 * _GIB + 1, _GIB)),
}
_MEMORY_TEXT = {
    256: "512, 1024 or 2048 MiB",
    512: "1-4 GiB in 1 GiB steps (1024-4096 MiB)",
    1024: "2-8 GiB in 1 GiB steps (2048-8192 MiB)",
    2048: "4-16 GiB in 1 GiB steps (4096-16384 MiB)",
    4096: "8-30 GiB in 1 GiB steps (8192-30720 MiB)",
}
_CPU_REASON = "must be one of 256, 512, 1024, 2048, 4096 (CPU units; a trailing `m` is tolerated)"
_MEMORY = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([MmGg]i)?")


def _fargate_cpu(value: object) -> int:
    if type(value) is str and value.strip().endswith("m"):
        value = value.strip()[:-1]  # "256m": millicore-style spelling of the same units
    cpu = to_int(value)
    if cpu not in FARGATE_MEMORY:
        raise fail("invalid-value", _CPU_REASON)
    return cpu


def _fargate_memory(value: object) -> int:
    """MiB from an int, a digit string, or ``512Mi`` / ``2Gi`` / ``0.5Gi``."""
    if type(value) is str:
        match = _MEMORY.fullmatch(value.strip())
        if match:
            amount, unit = float(match.group(1)), (match.group(2) or "mi").lower()
            mib = amount * _GIB if unit == "gi" else amount
            if mib == int(mib) and mib > 0:
                return int(mib)
        raise fail(
            "invalid-value", "must be MiB as a whole number, or use a `Mi`/`Gi` suffix (`2Gi`)"
        )
    mib = to_int(value)
    if mib <= 0:
        raise fail("invalid-value", "must be a positive number of MiB")
    return mib


FargateCpu = Annotated[int, BeforeValidator(_fargate_cpu)]
FargateMemory = Annotated[int, BeforeValidator(_fargate_memory)]


def _platform(value: object) -> str:
    if type(value) is str:
        text = value.strip().lower()
        if text == "fargate":
            return "fargate"
        if text in ("ec2", "lambda"):
            raise fail(
                "not-deployable", f"`{text}` is not deployable in this version; use `fargate`"
            )
    raise fail("invalid-value", "must be `fargate`")


def _no_gpu(value: object) -> bool:
    if to_bool(value):
        raise fail("invalid-value", "must be false: Fargate has no GPUs")
    return False


RoleArn = Checked(role_arn_problem)
Schedule = Checked(schedule_problem)


class TaskSize(RuledModel):
    """``runtime.cpu`` / ``runtime.memory``; memory defaults to the smallest valid size."""

    cpu: FargateCpu = 256
    memory: FargateMemory | None = None

    def check(self, rules: Rules) -> None:
        valid = FARGATE_MEMORY[self.cpu]
        if self.memory is None:
            self.memory = valid[0]
        elif self.memory not in valid:
            rules.add(
                "invalid-combination",
                ("memory",),
                f"`{{p}}memory` {self.memory} MiB is not a Fargate size for `{{p}}cpu` {self.cpu}; "
                f"allowed: {_MEMORY_TEXT[self.cpu]}",
                involves=("cpu", "memory"),
            )


class Runtime(TaskSize):
    platform: Annotated[str, BeforeValidator(_platform)] = "fargate"
    launchType: Enum("FARGATE", any_case=True) = "FARGATE"
    networkMode: Enum("awsvpc", any_case=True) = "awsvpc"
    requiresGPU: Annotated[bool, BeforeValidator(_no_gpu)] = False
    handler: Str | None = na()
    runtime: Str | None = na()
    timeout: IntStar() | None = na()


class Image(SpecModel):
    repository: NonEmptyStr
    tag: NonEmptyStr
    pullPolicy: Str | None = na()


class Autoscaling(RuledModel):
    enabled: Bool = False
    minReplicas: IntStar(1) | None = None
    maxReplicas: IntStar(1) | None = None
    targetCPUPercent: IntStar(1, 100) | None = None
    targetMemoryPercent: IntStar(1, 100) | None = None
    # Go's docs spell it targetCPUUtilization; merged into targetCPUPercent below.
    targetCPUUtilization: IntStar(1, 100) | None = Field(None, exclude=True)

    def check(self, rules: Rules) -> None:
        cpu = ("targetCPUPercent", "targetCPUUtilization")
        alias = self.targetCPUUtilization
        if alias is not None:
            if self.targetCPUPercent is not None and self.targetCPUPercent != alias:
                rules.add(
                    "invalid-combination",
                    ("targetCPUUtilization",),
                    "`{p}targetCPUUtilization` is another name for `{p}targetCPUPercent`; "
                    "give one value",
                    involves=cpu,
                )
            self.targetCPUPercent = (
                alias if self.targetCPUPercent is None else self.targetCPUPercent
            )
            self.targetCPUUtilization = None
        if self.enabled:
            for name in ("minReplicas", "maxReplicas"):
                if getattr(self, name) is None:
                    rules.missing(
                        (),
                        f"`{{p}}{name}` is required when `{{p}}enabled` is true",
                        involves=("enabled", name),
                    )
            if self.targetCPUPercent is None and self.targetMemoryPercent is None:
                rules.missing(
                    (),
                    "`{p}targetCPUPercent` (or `{p}targetMemoryPercent`) is required "
                    "when `{p}enabled` is true",
                    involves=("enabled", *cpu, "targetMemoryPercent"),
                )
        if (
            self.minReplicas is not None
            and self.maxReplicas is not None
            and self.minReplicas > self.maxReplicas
        ):
            rules.add(
                "invalid-combination",
                ("minReplicas",),
                f"`{{p}}minReplicas` ({self.minReplicas}) must not exceed "
                f"`{{p}}maxReplicas` ({self.maxReplicas})",
                involves=("minReplicas", "maxReplicas"),
            )


class Port(SpecModel):
    name: NonEmptyStr
    port: IntStar(1, 65535)
    protocol: Enum("tcp", "udp", any_case=True) = "tcp"


class ValueFrom(SpecModel):
    component: RefName
    output: NonEmptyStr


class EnvVar(SpecModel):
    KEEP_NULL: ClassVar[frozenset[str]] = frozenset({"value"})  # `value:` = empty string

    name: NonEmptyStr
    value: Scalar | None = None
    valueFrom: ValueFrom | None = None


def _env_entry(rules: Rules, i: int, entry: EnvVar) -> None:
    """Exactly one of value / valueFrom (checked per list, see ListRules)."""
    has_value = "value" in entry.model_fields_set
    if has_value and entry.value is None:
        entry.value = ""
    if has_value and entry.valueFrom is not None:
        rules.add(
            "invalid-combination",
            (i,),
            f"`{{here}}[{i}].value` and `{{here}}[{i}].valueFrom` exclude each other; give one",
        )
    elif not has_value and entry.valueFrom is None:
        rules.missing((i,), f"`{{here}}[{i}].value` or `{{here}}[{i}].valueFrom` is required")


class Secret(SpecModel):
    name: NonEmptyStr
    secretRef: NonEmptyStr  # name or ARN; its form is checked by core (invalid-secret-ref)
    envVar: NonEmptyStr | None = None  # default: `name`


def _secret_entry(rules: Rules, i: int, secret: Secret) -> None:
    if secret.envVar is None:
        secret.envVar = secret.name


EnvList = Annotated[list[EnvVar], ListRules(unique="name", each=_env_entry)]
SecretList = Annotated[list[Secret], ListRules(each=_secret_entry)]


class _ContainerFields(ComponentSpec):
    """What a container needs, shared by the ECS services and CronJob's task target."""

    environment: EnvList = Field(default_factory=list)
    secrets: SecretList = Field(default_factory=list)
    command: list[Str] = Field(default_factory=list)
    args: list[Str] = Field(default_factory=list)
    taskRoleArn: RoleArn | None = None


class _EcsServiceSpec(_ContainerFields):
    image: Image
    runtime: Runtime = section(Runtime)
    replicas: IntStar(0) = 1
    autoscaling: Autoscaling = section(Autoscaling)
    healthCheck: AnyMapping | None = na()  # nested (readiness/liveness) or the flat form
    configs: AnyMapping | None = na()


class MicroServiceSpec(_EcsServiceSpec):
    ports: Annotated[list[Port], ListRules(unique="name")] = Field(default_factory=list)
    serviceDiscovery: AnyMapping | None = na()


class WorkerSpec(_EcsServiceSpec):
    # Known (so no unknown-field warning) but refused: a Worker has no ports.
    ports: Any = Field(None, exclude=True)

    @field_validator("ports", mode="before")
    @classmethod
    def _no_ports(cls, value: object) -> None:
        raise fail(
            "field-not-allowed", "is not allowed on a Worker (it has no ports); use a MicroService"
        )


ECS_OUTPUTS = ("service_name", "service_arn", "cluster_name", "cluster_arn", "task_definition_arn")


def container_refs(data: dict) -> list[Ref]:
    """valueFrom in environment entries."""
    refs: list[Ref] = []
    env = data.get("environment")
    if isinstance(env, list):
        for i, entry in enumerate(env):
            if isinstance(entry, dict):
                ref = value_from_ref(entry.get("valueFrom"), ("environment", i, "valueFrom"))
                if ref:
                    refs.append(ref)
    return refs


def value_from_ref(value_from: object, path: tuple) -> Ref | None:
    if not isinstance(value_from, dict):
        return None
    component = value_from.get("component")
    if not isinstance(component, str) or not component:
        return None
    output = value_from.get("output")
    return Ref(path + ("component",), component, output if isinstance(output, str) else None, None)


# --- CronJob ------------------------------------------------------------------------------

_CONTAINER_ONLY = ("runtime", "environment", "secrets", "command", "args", "taskRoleArn")


class LambdaTarget(SpecModel):
    component: RefName


class CronJobSpec(_ContainerFields):
    schedule: Schedule
    enabled: Bool = True
    description: Text(max_len=512, non_empty=False) | None = None
    lambda_: LambdaTarget | None = Field(None, alias="lambda")
    image: Image | None = None
    runtime: TaskSize | None = None
    taskCount: IntStar(1, 10) = 1
    input: AnyValue = None

    def check(self, rules: Rules) -> None:
        both = ("lambda_", "image")
        if self.lambda_ is not None and self.image is not None:
            rules.add(
                "invalid-combination",
                (),
                "`lambda` and `image` exclude each other: a CronJob has one target",
                both,
            )
        elif self.lambda_ is None and self.image is None:
            rules.missing(
                (), "a target is required: `image` (a Fargate task) or `lambda.component`", both
            )
        if self.image is not None:
            if self.runtime is None:
                self.runtime = TaskSize.model_validate({})
        else:
            # Container settings do nothing for a Lambda target (walk.py warned); keeping
            # them out of config() means editing them is not a change.
            self.runtime, self.environment, self.secrets = None, [], []
            self.command, self.args, self.taskRoleArn = [], [], None

    @classmethod
    def raw_check(cls, data: dict, path: tuple, issues: list) -> None:
        if data.get("lambda") is not None and data.get("image") is None:
            for key in _CONTAINER_ONLY:
                if data.get(key) not in (None, [], {}):
                    issues.append(
                        SpecIssue(
                            "warning",
                            "not-applied",
                            path + (key,),
                            f"`{key}` applies only to a container target (`image`); "
                            "it is ignored with `lambda`",
                        )
                    )


def cron_available(model: CronJobSpec) -> frozenset[str]:
    if model.image is not None:
        return frozenset(("rule_name", "arn", "task_definition_arn"))
    return frozenset(("rule_name", "arn"))


def cron_runs_container(config: Mapping[str, Any]) -> bool:
    """Whether a CronJob config (json dump) runs a container, as an ECS task in the
    network, rather than call a Lambda, which places nothing there itself. The
    provisioner branches on the same function."""
    return config.get("image") is not None


def cron_refs(data: dict) -> list[Ref]:
    refs = container_refs(data)
    target = data.get("lambda")
    if isinstance(target, dict):
        component = target.get("component")
        if isinstance(component, str) and component:
            refs.append(Ref(("lambda", "component"), component, None, frozenset({"Lambda"})))
    return refs

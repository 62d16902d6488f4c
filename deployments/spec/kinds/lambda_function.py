"""Lambda: a function, its code, environment and triggers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, PlainValidator

from .base import ComponentSpec, ListRules, RuledModel, Rules, SpecModel, na, section
from .common import (
    AnyMapping,
    Bool,
    Checked,
    Enum,
    IntStar,
    NonEmptyStr,
    RefName,
    Text,
    fail,
    to_str,
)
from .containers import Schedule, ValueFrom, value_from_ref
from .results import Ref, SpecIssue
from .syntax import arn_problem, layer_arn_problem, role_arn_problem

ZIP_FILE_MAX = 4096
ENV_MAX_BYTES = 4096
MAX_LAYERS = 5
DEPLOYED_TRIGGERS = ("sqs", "dynamodb", "eventbridge", "sns")
NA_TRIGGERS = ("s3", "apigateway", "kinesis")
SOURCE_KINDS = {"sqs": "SQS", "dynamodb": "DynamoDB", "sns": "SNS"}
_CODE_FIELDS = ("s3Bucket", "s3Key", "zipFile", "imageUri")


class Code(RuledModel):
    s3Bucket: NonEmptyStr | None = None
    s3Key: NonEmptyStr | None = None
    zipFile: Text(max_len=ZIP_FILE_MAX) | None = None
    imageUri: NonEmptyStr | None = None

    def check(self, rules: Rules) -> None:
        s3 = self.s3Bucket is not None or self.s3Key is not None
        forms = [
            name
            for name, on in (
                ("`s3Bucket`+`s3Key`", s3),
                ("`zipFile`", self.zipFile is not None),
                ("`imageUri`", self.imageUri is not None),
            )
            if on
        ]
        if len(forms) > 1:
            rules.add(
                "invalid-combination",
                (),
                f"`{{here}}` gives {' and '.join(forms)}; exactly one of `s3Bucket`+`s3Key`, "
                "`zipFile` or `imageUri` is allowed",
                _CODE_FIELDS,
            )
        elif not forms:
            rules.missing(
                (),
                "`{p}s3Bucket`+`{p}s3Key`, `{p}zipFile` or `{p}imageUri` is required",
                _CODE_FIELDS,
            )
        if s3 and self.s3Bucket is None:
            rules.missing((), "`{p}s3Bucket` is required with `{p}s3Key`", ("s3Bucket", "s3Key"))
        if s3 and self.s3Key is None:
            rules.missing((), "`{p}s3Key` is required with `{p}s3Bucket`", ("s3Bucket", "s3Key"))


class EnvRef(SpecModel):
    valueFrom: ValueFrom


def _env_value(value: object) -> object:
    """A scalar (sent as text) or ``{valueFrom: {component, output}}``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return EnvRef.model_validate(value)
    if isinstance(value, list):
        raise fail(
            "invalid-type", "must be a scalar or `{valueFrom: {component, output}}`, not a list"
        )
    return to_str(value)


def _env_size(env: dict[str, object]) -> dict[str, object]:
    # Lambda limits the variables to 4 KB (names plus values, in bytes); valueFrom values
    # are unknown until apply, so only their names count here.
    size = sum(
        len(k.encode()) + (len(v.encode()) if isinstance(v, str) else 0) for k, v in env.items()
    )
    if size > ENV_MAX_BYTES:
        raise fail(
            "invalid-value",
            f"must total at most {ENV_MAX_BYTES} bytes of names and values (has {size})",
        )
    return dict(sorted(env.items()))


LambdaEnv = Annotated[
    dict[str, Annotated[Any, PlainValidator(_env_value)]], AfterValidator(_env_size)
]


class TriggerSource(RuledModel):
    component: RefName | None = None
    arn: Checked(arn_problem) | None = None

    def check(self, rules: Rules) -> None:
        both = ("component", "arn")
        if self.component is not None and self.arn is not None:
            rules.add(
                "invalid-combination",
                (),
                "`{p}component` and `{p}arn` exclude each other; give one",
                both,
            )
        elif self.component is None and self.arn is None:
            rules.missing((), "`{p}component` or `{p}arn` is required", both)


class Trigger(RuledModel):
    type: Enum(*DEPLOYED_TRIGGERS, *NA_TRIGGERS)
    source: TriggerSource | None = None
    batchSize: IntStar(1, 10000) | None = None
    schedule: Schedule | None = None
    description: Text(max_len=512) | None = None
    http: AnyMapping | None = na()
    s3: AnyMapping | None = na()

    def check(self, rules: Rules) -> None:
        if self.type in SOURCE_KINDS and self.source is None:
            rules.missing(
                (), f"`{{p}}source` is required for a `{self.type}` trigger", ("type", "source")
            )
        if self.type == "eventbridge":
            for name in ("schedule", "description"):
                if getattr(self, name) is None:
                    rules.missing(
                        (),
                        f"`{{p}}{name}` is required for an `eventbridge` trigger",
                        ("type", name),
                    )
        source_arn = self.source.arn if self.source is not None else None
        if (
            self.type == "sqs"
            and (self.batchSize or 0) > 10
            and (source_arn or "").endswith(".fifo")
        ):
            rules.add(
                "invalid-combination",
                ("batchSize",),
                f"`{{p}}batchSize` {self.batchSize} is too large for a FIFO queue (1-10)",
                ("type", "batchSize", "source"),
            )

    @classmethod
    def raw_check(cls, data: dict, path: tuple, issues: list) -> None:
        if data.get("type") in NA_TRIGGERS:
            issues.append(
                SpecIssue(
                    "warning",
                    "not-applied",
                    path + ("type",),
                    f"a `{data['type']}` trigger is accepted but not applied in this version",
                )
            )


class Vpc(SpecModel):
    enabled: Bool = False
    subnetIds: list[NonEmptyStr] = Field(default_factory=list)  # empty: the tenant's
    securityGroupIds: list[NonEmptyStr] = Field(default_factory=list)


def lambda_in_network(config: Mapping[str, Any]) -> bool:
    """``vpc.enabled`` without both subnets and security groups of its own: the tenant's
    network (or the default VPC) supplies what is missing. The provisioner
    (deployments.aws.provisioners.lambda_function) decides with this same function."""
    vpc = config.get("vpc") or {}
    return bool(vpc.get("enabled")) and not (vpc.get("subnetIds") and vpc.get("securityGroupIds"))


class LambdaSpec(ComponentSpec):
    WALK: ClassVar[dict[str, tuple[str, type]]] = {"environment": ("map", EnvRef)}

    runtime: NonEmptyStr | None = None
    handler: NonEmptyStr | None = None
    code: Code
    memory: IntStar(128, 10240) = 128
    timeout: IntStar(1, 900) = 30
    environment: LambdaEnv = Field(default_factory=dict)
    triggers: list[Trigger] = Field(default_factory=list)
    vpc: Vpc = section(Vpc)
    reservedConcurrentExecutions: IntStar(0) | None = None
    roleArn: Checked(role_arn_problem) | None = None
    layers: Annotated[
        list[Checked(layer_arn_problem)], ListRules(max_n=MAX_LAYERS, what="layers")
    ] = Field(default_factory=list)

    def check(self, rules: Rules) -> None:
        if self.code.imageUri is None:
            for name in ("runtime", "handler"):
                if getattr(self, name) is None:
                    rules.missing(
                        (), f"`{name}` is required unless `code.imageUri` is given", ("code", name)
                    )
        runtime = self.runtime
        # Inline source is zipped as <module>.js or <module>.py: only those runtimes.
        if (
            self.code.zipFile is not None
            and runtime is not None
            and not runtime.startswith(("nodejs", "python"))
        ):
            rules.add(
                "invalid-combination",
                ("code", "zipFile"),
                f"`code.zipFile` needs a `nodejs*` or `python*` runtime, not `{self.runtime}`",
                ("code", "runtime"),
            )


LAMBDA_OUTPUTS = ("function_name", "arn", "role_arn")
LAMBDA_ALIASES = {"function_arn": "arn", "functionArn": "arn"}


def lambda_refs(data: dict) -> list[Ref]:
    refs: list[Ref] = []
    env = data.get("environment")
    if isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, dict):
                ref = value_from_ref(value.get("valueFrom"), ("environment", key, "valueFrom"))
                if ref:
                    refs.append(ref)
    triggers = data.get("triggers")
    if isinstance(triggers, list):
        for i, trigger in enumerate(triggers):
            if not isinstance(trigger, dict):
                continue
            written = trigger.get("type")  # any YAML value: a list is not a dict key
            kind = SOURCE_KINDS.get(written) if isinstance(written, str) else None
            source = trigger.get("source")
            if kind is None or not isinstance(source, dict):
                continue
            component = source.get("component")
            if isinstance(component, str) and component:
                # A DynamoDB trigger reads the table's stream: asking for `stream_arn`
                # makes core reject a table whose stream is off (unknown-output).
                output = "stream_arn" if kind == "DynamoDB" else None
                refs.append(
                    Ref(
                        ("triggers", i, "source", "component"), component, output, frozenset({kind})
                    )
                )
    return refs


def lambda_replace(old: dict, new: dict) -> str | None:
    # The package type (Image vs Zip) cannot change in place.
    old_image = (old.get("code") or {}).get("imageUri") is not None
    new_image = (new.get("code") or {}).get("imageUri") is not None
    return "code.imageUri" if old_image != new_image else None

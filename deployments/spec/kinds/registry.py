"""The table of kinds and the functions of the contract that dispatch on it."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from . import (
    containers,
    dynamodb,
    elasticache,
    eventbridge,
    lambda_function,
    messaging,
    rds,
    s3,
    structural,
)
from .common import describe
from .errors import issues_from
from .fastpath import fast_validator
from .loose import NOT_DEPLOYABLE, LooseSpec
from .results import KindDef, SpecIssue, ValidatedSpec
from .walk import has_rest, rest_of_walk, walk


def _always(config: dict) -> bool:
    return True


_DEFS: tuple[KindDef, ...] = (
    KindDef(
        "MicroService",
        containers.MicroServiceSpec,
        containers.ECS_OUTPUTS,
        refs=containers.container_refs,
        in_network=_always,
    ),
    KindDef(
        "Worker",
        containers.WorkerSpec,
        containers.ECS_OUTPUTS,
        refs=containers.container_refs,
        in_network=_always,
    ),
    KindDef(
        "CronJob",
        containers.CronJobSpec,
        ("rule_name", "arn", "task_definition_arn"),
        available=containers.cron_available,
        refs=containers.cron_refs,
        in_network=containers.cron_runs_container,
    ),
    KindDef(
        "Lambda",
        lambda_function.LambdaSpec,
        lambda_function.LAMBDA_OUTPUTS,
        extra_aliases=lambda_function.LAMBDA_ALIASES,
        refs=lambda_function.lambda_refs,
        replace=lambda_function.lambda_replace,
        in_network=lambda_function.lambda_in_network,
    ),
    KindDef(
        "RDS",
        rds.RDSSpec,
        rds.RDS_OUTPUTS,
        available=rds.rds_available,
        replace=rds.rds_replace,
        downgrade=rds.rds_downgrade,
        in_network=_always,
    ),
    KindDef(
        "DynamoDB",
        dynamodb.DynamoDBSpec,
        dynamodb.DYNAMODB_OUTPUTS,
        available=dynamodb.dynamodb_available,
        replace=dynamodb.dynamodb_replace,
    ),
    KindDef(
        "ElastiCacheRedis",
        elasticache.ElastiCacheRedisSpec,
        elasticache.REDIS_OUTPUTS,
        replace=elasticache.redis_replace,
        downgrade=elasticache.redis_downgrade,
        in_network=_always,
    ),
    KindDef("S3", s3.S3Spec, s3.S3_OUTPUTS, replace=s3.s3_replace),
    KindDef(
        "SQS",
        messaging.SQSSpec,
        messaging.SQS_OUTPUTS,
        available=messaging.sqs_available,
        replace=messaging.sqs_replace,
    ),
    KindDef(
        "SNS",
        messaging.SNSSpec,
        messaging.SNS_OUTPUTS,
        extra_aliases=messaging.SNS_ALIASES,
        refs=messaging.sns_refs,
        replace=messaging.sns_replace,
    ),
    KindDef(
        "EventBridge",
        eventbridge.EventBridgeSpec,
        eventbridge.EVENTBRIDGE_OUTPUTS,
        refs=eventbridge.eventbridge_refs,
        replace=eventbridge.eventbridge_replace,
    ),
    *(KindDef(name, LooseSpec, deployable=False, loose=True) for name in NOT_DEPLOYABLE),
)
_STRUCTURAL = (
    KindDef("Stack", structural.StackSpec, component=False),
    KindDef("Service", structural.ServiceSpec, component=False),
)

KINDS: dict[str, KindDef] = {d.name: d for d in (*_DEFS, *_STRUCTURAL)}
KIND_NAMES: tuple[str, ...] = tuple(d.name for d in _DEFS)
DEPLOYABLE_KINDS: frozenset[str] = frozenset(d.name for d in _DEFS if d.deployable)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _output_names(definition: KindDef) -> dict[str, str]:
    """Every accepted spelling of each output -> its canonical snake_case name."""
    names: dict[str, str] = {}
    for output in definition.outputs:
        names[output] = output
        names[_camel(output)] = output  # a one-word name is its own camelCase
    names.update(definition.extra_aliases)
    return names


_OUTPUT_NAMES: dict[str, dict[str, str]] = {d.name: _output_names(d) for d in _DEFS}

# Each kind's validator for specs walk.py has nothing to say about (fastpath.py), where it
# has one. Built here, at import, because building one briefly changes the models.
_FAST: dict[str, SchemaValidator] = {
    d.name: fast
    for d in KINDS.values()
    if not d.loose and (fast := fast_validator(d.model)) is not None
}
# Kinds whose walk does more than keys and nulls (walk.rest_of_walk).
_REST = frozenset(name for name in _FAST if has_rest(KINDS[name].model))


def validate_spec(kind: str, spec: object, *, nulls: bool = True) -> ValidatedSpec:
    """Validate one document's ``spec:``. Never raises on bad input. ``nulls=False`` is
    the caller's word that no value in ``spec`` is null (the loader knows it), which
    lets a spec with nothing to report skip walk.py (fastpath.py)."""
    definition = KINDS.get(kind)
    if definition is None:
        issue = SpecIssue("error", "invalid-value", (), f"there is no schema for kind `{kind}`")
        return ValidatedSpec(kind, None, [issue])
    try:
        return _validate(definition, spec, nulls)
    except Exception as exc:  # a bug here must not take a whole upload down with it
        issue = SpecIssue(
            "error",
            "spec-check-failed",
            (),
            f"the {kind} schema check failed: {type(exc).__name__}: {exc}",
        )
        return ValidatedSpec(kind, None, [issue], None, definition)


def _validate(definition: KindDef, spec: object, nulls: bool) -> ValidatedSpec:
    issues: list[SpecIssue] = []
    if spec is None:
        spec = {}  # `spec:` left empty: as if written `{}`
    if not isinstance(spec, dict):
        issues.append(
            SpecIssue(
                "error", "invalid-type", (), f"`spec` must be a mapping, not {describe(spec)}"
            )
        )
        return ValidatedSpec(definition.name, None, issues, None, definition)
    if not nulls:
        fast = _FAST.get(definition.name)
        if fast is not None:
            try:
                model = fast.validate_python(spec)
            except ValidationError:
                pass  # something to report, or a plain error: the usual path says what
            else:
                if definition.name not in _REST or rest_of_walk(definition.model, spec, (), issues):
                    return ValidatedSpec(definition.name, model, issues, spec, definition)
                issues = []
    data = spec if definition.loose else walk(definition.model, spec, (), issues)
    try:
        # = model_validate(data), without its Python wrapper and its keyword arguments
        model = definition.model.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        issues.extend(issues_from(exc))
        model = None
    return ValidatedSpec(definition.name, model, issues, data, definition)


def canonical_output(kind: str, name: str) -> str | None:
    return _OUTPUT_NAMES.get(kind, {}).get(name)


def all_outputs(kind: str) -> tuple[str, ...]:
    definition = KINDS.get(kind)
    return definition.outputs if definition else ()


def replace_reason(kind: str, old: dict, new: dict) -> str | None:
    definition = KINDS.get(kind)
    if definition is None or definition.replace is None:
        return None
    return definition.replace(old or {}, new or {})


def in_network(kind: str, config: dict) -> bool:
    """Whether a component of ``kind`` with this config (json dump of its spec) runs
    inside the tenant's network, or the account's default VPC when it has none."""
    definition = KINDS.get(kind)
    if definition is None or definition.in_network is None:
        return False
    return definition.in_network(config or {})


def version_downgrade(kind: str, old: dict, new: dict) -> str | None:
    definition = KINDS.get(kind)
    if definition is None or definition.downgrade is None:
        return None
    return definition.downgrade(old or {}, new or {})

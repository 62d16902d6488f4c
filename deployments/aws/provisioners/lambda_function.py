"""Lambda: a function, its generated role, and its triggers (kinds.md).

Triggers: SQS and DynamoDB streams become event source mappings; an ``eventbridge``
trigger becomes rule ``<name>-t<i>`` (``i`` = the trigger's index in ``triggers``); an
``sns`` trigger becomes a subscription plus an invoke permission. ``create`` and
``update`` both converge, so an unchanged function costs read calls only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from deployments.spec.kinds.lambda_function import lambda_in_network

from .base import Context, Observed, Outcome, ProvisionError
from .eventbridge import converge_rule, converge_targets, remove_rule, rule_name
from .iam import (
    LAMBDA_BASIC_POLICY,
    LAMBDA_DYNAMODB_POLICY,
    LAMBDA_SQS_POLICY,
    LAMBDA_VPC_POLICY,
    delete_role,
    ensure_invoke_permission,
    ensure_role,
    remove_invoke_permission,
    retry_while_role_propagates,
    role_name,
    tag_delta,
)
from .network import network_for

NAME_LIMIT = 64
LAMBDA = "lambda.amazonaws.com"
_DEFAULT_BATCH = {"sqs": 10, "dynamodb": 100}
_GONE = "ResourceNotFoundException"


def function_name(ctx: Context) -> str:
    return ctx.name(limit=NAME_LIMIT)


def trigger_rule_name(ctx: Context, index: int) -> str:
    return rule_name(ctx, suffix=f"-t{index}")


def build_zip(source: str, *, runtime: str, handler: str) -> bytes:
    """Inline source as a one-file zip, ``<module>.py`` or ``<module>.js`` after the handler
    (``index.handler`` -> ``index.py``). Stored with a fixed timestamp, so the same source
    always gives the same CodeSha256 and an unchanged function is never re-uploaded."""
    module = handler.rsplit(".", 1)[0]
    extension = ".py" if runtime.startswith("python") else ".js"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(module + extension, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class LambdaProvisioner:
    kind = "Lambda"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        return self._apply(ctx, config, None)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        return self._apply(ctx, config, previous.get("config") or {})

    # --- create / update ---------------------------------------------------------------

    def _apply(
        self, ctx: Context, config: dict[str, Any], before: Mapping[str, Any] | None
    ) -> Outcome:
        name = function_name(ctx)
        tags = ctx.tags(config.get("tags"))
        role_arn = config.get("roleArn") or ensure_role(
            ctx,
            role_name(ctx),
            service=LAMBDA,
            managed=_role_policies(config),
            tags=tags,
            description=f"Panka: Lambda {ctx.service}/{ctx.component}",
        )
        settings = _settings(ctx, config, role_arn)
        code = config["code"]
        current = _get_function(ctx, name)
        if current is None:
            package = "Image" if code.get("imageUri") else "Zip"
            kwargs = {
                "FunctionName": name,
                "Code": _code(config),
                "PackageType": package,
                "Tags": tags,
                **settings,
            }
            if not kwargs["VpcConfig"]["SubnetIds"]:
                del kwargs["VpcConfig"]
            created = retry_while_role_propagates(
                ctx,
                lambda: ctx.call("lambda", "create_function", **kwargs),
                what=f"create function {name}",
            )
            arn = created["FunctionArn"]
            ctx.log(f"created Lambda function {name}")
            _wait(ctx, "function_active_v2", name)
        else:
            configuration = current["Configuration"]
            arn = configuration["FunctionArn"]
            if _code_changed(config, current, before):
                ctx.call("lambda", "update_function_code", FunctionName=name, **_code(config))
                ctx.log(f"updated the code of Lambda function {name}")
                _wait(ctx, "function_updated_v2", name)
            changes = {
                k: v
                for k, v in settings.items()
                if _setting_view(k, configuration) != _setting_view(k, settings)
            }
            if changes:
                retry_while_role_propagates(
                    ctx,
                    lambda: ctx.call(
                        "lambda", "update_function_configuration", FunctionName=name, **changes
                    ),
                    what=f"update function {name}",
                )
                ctx.log(f"updated Lambda function {name}: {', '.join(sorted(changes))}")
                _wait(ctx, "function_updated_v2", name)
            to_set, to_remove = tag_delta(current.get("Tags") or {}, tags)
            if to_set:
                ctx.call("lambda", "tag_resource", Resource=arn, Tags=to_set)
            if to_remove:
                ctx.call("lambda", "untag_resource", Resource=arn, TagKeys=to_remove)
        if config.get("roleArn") and before is not None and not before.get("roleArn"):
            delete_role(ctx, role_name(ctx))  # the function now runs with the given role
        self._converge_concurrency(ctx, name, config.get("reservedConcurrentExecutions"))
        self._converge_triggers(ctx, config, before, name, arn, tags)
        return Outcome(id=arn, attributes={"function_name": name, "arn": arn, "role_arn": role_arn})

    @staticmethod
    def _converge_concurrency(ctx: Context, name: str, want: int | None) -> None:
        have = ctx.call("lambda", "get_function_concurrency", FunctionName=name).get(
            "ReservedConcurrentExecutions"
        )
        if want is None and have is not None:
            ctx.call("lambda", "delete_function_concurrency", FunctionName=name)
        elif want is not None and have != int(want):
            ctx.call(
                "lambda",
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=int(want),
            )

    def _converge_triggers(
        self,
        ctx: Context,
        config: Mapping[str, Any],
        before: Mapping[str, Any] | None,
        name: str,
        arn: str,
        tags: Mapping[str, str],
    ) -> None:
        mappings: dict[str, dict[str, Any]] = {}
        rules: dict[str, Mapping[str, Any]] = {}
        topics: set[str] = set()
        for index, trigger in enumerate(config.get("triggers") or []):
            kind = trigger["type"]
            if kind in ("sqs", "dynamodb"):
                source = _source_arn(ctx, trigger)
                batch = int(trigger.get("batchSize") or _DEFAULT_BATCH[kind])
                mapping: dict[str, Any] = {"BatchSize": batch}
                if kind == "sqs":
                    # Batches above 10 need a batching window; 1 s keeps latency low.
                    mapping["MaximumBatchingWindowInSeconds"] = 1 if batch > 10 else 0
                else:
                    mapping["StartingPosition"] = "LATEST"
                mappings[source] = mapping
            elif kind == "eventbridge":
                rules[trigger_rule_name(ctx, index)] = trigger
            elif kind == "sns":
                topics.add(_source_arn(ctx, trigger))
            # s3, apigateway, kinesis: accepted, not applied (the format engine warned).
        self._converge_mappings(ctx, name, mappings)
        for rule, trigger in rules.items():
            rule_arn = converge_rule(
                ctx,
                rule,
                schedule=trigger["schedule"],
                description=trigger.get("description"),
                tags=tags,
            )
            ensure_invoke_permission(
                ctx, arn, rule, principal="events.amazonaws.com", source_arn=rule_arn
            )
            converge_targets(ctx, rule, [{"Id": "lambda", "Arn": arn}])
        for stale in _trigger_rules(ctx, arn, before) - set(rules):
            remove_rule(ctx, stale)
            remove_invoke_permission(ctx, arn, stale)
        for topic in sorted(topics):
            ensure_invoke_permission(
                ctx, arn, _sns_sid(topic), principal="sns.amazonaws.com", source_arn=topic
            )
            if not _subscriptions(ctx, topic, arn):
                ctx.call(
                    "sns",
                    "subscribe",
                    TopicArn=topic,
                    Protocol="lambda",
                    Endpoint=arn,
                    ReturnSubscriptionArn=True,
                )
        for topic in sorted(_sns_topics(ctx, before) - topics):
            _unsubscribe(ctx, topic, arn)

    @staticmethod
    def _converge_mappings(ctx: Context, name: str, desired: dict[str, dict[str, Any]]) -> None:
        current = {
            m["EventSourceArn"]: m for m in _mappings(ctx, name) if m.get("State") != "Deleting"
        }
        for source, want in desired.items():
            have = current.pop(source, None)
            if have is None:
                ctx.call(
                    "lambda",
                    "create_event_source_mapping",
                    FunctionName=name,
                    EventSourceArn=source,
                    Enabled=True,
                    **want,
                )
                ctx.log(f"Lambda {name}: added trigger {source}")
                continue
            changed = {
                k: v
                for k, v in want.items()
                if k != "StartingPosition" and have.get(k, 0 if "Window" in k else None) != v
            }
            if changed:
                ctx.call("lambda", "update_event_source_mapping", UUID=have["UUID"], **changed)
        for stale in current.values():
            _delete_mapping(ctx, stale["UUID"])

    # --- delete / read -------------------------------------------------------------------

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        attributes = previous.get("attributes") or {}
        config = previous.get("config") or {}
        name = attributes.get("function_name") or function_name(ctx)
        current = _get_function(ctx, name)
        arn = attributes.get("arn") or (
            current["Configuration"]["FunctionArn"] if current else None
        )
        for mapping in _mappings(ctx, name):
            _delete_mapping(ctx, mapping["UUID"])
        if arn:
            for rule in _trigger_rules(ctx, arn, config):
                remove_rule(ctx, rule)
            for topic in _sns_topics(ctx, config):
                _unsubscribe(ctx, topic, arn)
        try:
            ctx.call("lambda", "delete_function", FunctionName=name)
            ctx.log(f"deleted Lambda function {name}")
        except ProvisionError as exc:
            if exc.code != _GONE:
                raise
        if not config.get("roleArn"):
            delete_role(ctx, role_name(ctx))

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        name = (previous.get("attributes") or {}).get("function_name") or function_name(ctx)
        current = _get_function(ctx, name)
        if current is None:
            return None
        configuration = current["Configuration"]
        concurrency = ctx.call("lambda", "get_function_concurrency", FunctionName=name)
        return Observed(
            fields={
                "memory": configuration.get("MemorySize"),
                "timeout": configuration.get("Timeout"),
                "runtime": configuration.get("Runtime"),
                "handler": configuration.get("Handler"),
                "reservedConcurrentExecutions": concurrency.get("ReservedConcurrentExecutions"),
            }
        )


# --- helpers ---------------------------------------------------------------------------------


def _role_policies(config: Mapping[str, Any]) -> tuple[str, ...]:
    kinds = {t["type"] for t in config.get("triggers") or []}
    policies = [LAMBDA_BASIC_POLICY]
    if (config.get("vpc") or {}).get("enabled"):
        policies.append(LAMBDA_VPC_POLICY)
    if "sqs" in kinds:
        policies.append(LAMBDA_SQS_POLICY)
    if "dynamodb" in kinds:
        policies.append(LAMBDA_DYNAMODB_POLICY)
    return tuple(policies)


def _code(config: Mapping[str, Any]) -> dict[str, Any]:
    """``Code`` for create_function; update_function_code takes the same keys flat."""
    code = config["code"]
    if code.get("imageUri"):
        return {"ImageUri": code["imageUri"]}
    if code.get("zipFile") is not None:
        return {
            "ZipFile": build_zip(
                code["zipFile"], runtime=config["runtime"], handler=config["handler"]
            )
        }
    return {"S3Bucket": code["s3Bucket"], "S3Key": code["s3Key"]}


def _code_changed(
    config: Mapping[str, Any], current: Mapping[str, Any], before: Mapping[str, Any] | None
) -> bool:
    code = config["code"]
    if code.get("imageUri"):
        return (current.get("Code") or {}).get("ImageUri") != code["imageUri"]
    if code.get("zipFile") is not None:
        return current["Configuration"].get("CodeSha256") != code_sha256(_code(config)["ZipFile"])
    # An S3 object's content is not visible in the function; a new bucket or key is the
    # signal. A function adopted in create (no previous config) gets the code again.
    old = (before or {}).get("code") or {}
    return before is None or (old.get("s3Bucket"), old.get("s3Key")) != (
        code["s3Bucket"],
        code["s3Key"],
    )


def _settings(ctx: Context, config: Mapping[str, Any], role_arn: str) -> dict[str, Any]:
    """Configuration shared by create_function and update_function_configuration."""
    settings: dict[str, Any] = {
        "Role": role_arn,
        "MemorySize": int(config["memory"]),
        "Timeout": int(config["timeout"]),
        "Environment": {"Variables": _environment(ctx, config.get("environment") or {})},
        "Layers": list(config.get("layers") or []),
    }
    if not config["code"].get("imageUri"):
        settings["Runtime"] = config["runtime"]
        settings["Handler"] = config["handler"]
    vpc = config.get("vpc") or {}
    if vpc.get("enabled"):
        network = network_for(ctx) if lambda_in_network(config) else None
        settings["VpcConfig"] = {
            "SubnetIds": list(vpc.get("subnetIds") or network.subnet_ids),  # type: ignore[union-attr]
            "SecurityGroupIds": list(vpc.get("securityGroupIds") or network.security_group_ids),  # type: ignore[union-attr]
        }
    else:
        settings["VpcConfig"] = {"SubnetIds": [], "SecurityGroupIds": []}
    return settings


def _setting_view(key: str, source: Mapping[str, Any]) -> Any:
    """One setting as comparable data, from our request or from get_function's Configuration."""
    value = source.get(key)
    if key == "Environment":
        return dict((value or {}).get("Variables") or {})
    if key == "Layers":
        return [layer if isinstance(layer, str) else layer.get("Arn") for layer in value or []]
    if key == "VpcConfig":
        return (
            sorted((value or {}).get("SubnetIds") or []),
            sorted((value or {}).get("SecurityGroupIds") or []),
        )
    return value


def _environment(ctx: Context, environment: Mapping[str, Any]) -> dict[str, str]:
    resolved = {}
    for key, value in environment.items():
        if isinstance(value, Mapping):
            ref = value["valueFrom"]
            value = ctx.output_of(ref["component"], ref["output"])
        resolved[key] = _text(value)
    return resolved


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _source_arn(ctx: Context, trigger: Mapping[str, Any]) -> str:
    source = trigger.get("source") or {}
    if source.get("arn"):
        return source["arn"]
    # A DynamoDB trigger reads the table's stream, not the table.
    return ctx.output_of(
        source["component"], "stream_arn" if trigger["type"] == "dynamodb" else "arn"
    )


def _get_function(ctx: Context, name: str) -> dict[str, Any] | None:
    try:
        return ctx.call("lambda", "get_function", FunctionName=name)
    except ProvisionError as exc:
        if exc.code == _GONE:
            return None
        raise


def _wait(ctx: Context, waiter: str, name: str) -> None:
    ctx.ensure_lease()
    delay, attempts = (0.2, 25) if ctx.aws.emulated else (2, 60)
    try:
        ctx.client("lambda").get_waiter(waiter).wait(
            FunctionName=name, WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
        )
    except Exception as exc:  # botocore's WaiterError
        raise ProvisionError(
            f"Lambda function {name} did not become ready: {exc}", operation=waiter
        ) from exc


def _mappings(ctx: Context, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"FunctionName": name}
    while True:
        page = ctx.call("lambda", "list_event_source_mappings", **kwargs)
        found.extend(page.get("EventSourceMappings", []))
        if not page.get("NextMarker"):
            return found
        kwargs["Marker"] = page["NextMarker"]


def _delete_mapping(ctx: Context, uuid: str) -> None:
    try:
        ctx.call("lambda", "delete_event_source_mapping", UUID=uuid)
    except ProvisionError as exc:
        if exc.code != _GONE:
            raise


def _trigger_rules(ctx: Context, arn: str, config: Mapping[str, Any] | None) -> set[str]:
    """Rules made for this function's eventbridge triggers: from the previous config, and
    any rule named ``<name>-t<digits>`` that targets the function (found after a crash)."""
    names = {
        trigger_rule_name(ctx, i)
        for i, t in enumerate((config or {}).get("triggers") or [])
        if t.get("type") == "eventbridge"
    }
    pattern = re.compile(re.escape(function_name(ctx)) + r"-t[0-9]+")
    found = ctx.call("events", "list_rule_names_by_target", TargetArn=arn).get("RuleNames", [])
    return names | {n for n in found if pattern.fullmatch(n)}


def _sns_topics(ctx: Context, config: Mapping[str, Any] | None) -> set[str]:
    topics = set()
    for trigger in (config or {}).get("triggers") or []:
        if trigger.get("type") == "sns":
            try:
                topics.add(_source_arn(ctx, trigger))
            except ProvisionError:
                continue  # the topic's component is gone from the state: nothing to find
    return topics


def _sns_sid(topic: str) -> str:
    return "sns-" + hashlib.sha256(topic.encode()).hexdigest()[:16]


def _subscriptions(ctx: Context, topic: str, endpoint: str) -> list[str]:
    found: list[str] = []
    kwargs: dict[str, Any] = {"TopicArn": topic}
    while True:
        page = ctx.call("sns", "list_subscriptions_by_topic", **kwargs)
        found.extend(
            s["SubscriptionArn"]
            for s in page.get("Subscriptions", [])
            if s.get("Protocol") == "lambda" and s.get("Endpoint") == endpoint
        )
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _unsubscribe(ctx: Context, topic: str, endpoint: str) -> None:
    try:
        for subscription in _subscriptions(ctx, topic, endpoint):
            if subscription.startswith("arn:"):  # "PendingConfirmation" has no ARN yet
                ctx.call("sns", "unsubscribe", SubscriptionArn=subscription)
    except ProvisionError as exc:
        if exc.code not in ("NotFound", "NotFoundException"):
            raise
    remove_invoke_permission(ctx, endpoint, _sns_sid(topic))


PROVISIONERS = {"Lambda": LambdaProvisioner()}

"""EventBridge: a rule on an event bus whose 1-5 targets are SQS, SNS or Lambda components
or ARNs (kinds.md). Also the rule plumbing that CronJob and Lambda triggers share.

Each target gets a permission statement whose Sid is the rule name: a Lambda permission,
or a statement in the queue's or topic's resource policy. ``create`` and ``update`` both
converge (``put_rule``/``put_targets`` upsert), and only what differs is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .base import Context, Observed, Outcome, ProvisionError
from .iam import ensure_invoke_permission, remove_invoke_permission, tag_delta

RULE_LIMIT = 64
RULE_CHARSET = r"A-Za-z0-9._-"
EVENTS = "events.amazonaws.com"
_QUEUE_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue")
_TOPIC_GONE = ("NotFound", "NotFoundException")


def rule_name(ctx: Context, suffix: str = "") -> str:
    return ctx.name(limit=RULE_LIMIT, suffix=suffix, charset=RULE_CHARSET)


def bus_name(bus: str) -> str:
    """``default`` or a bus name, also when given as an ARN."""
    return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus


# --- rules and targets (shared with CronJob and Lambda triggers) -----------------------------


def describe_rule(ctx: Context, name: str, bus: str = "default") -> dict[str, Any] | None:
    try:
        return ctx.call("events", "describe_rule", Name=name, EventBusName=bus)
    except ProvisionError as exc:
        if exc.code == "ResourceNotFoundException":
            return None
        raise


def converge_rule(
    ctx: Context,
    name: str,
    *,
    bus: str = "default",
    schedule: str | None = None,
    pattern: Mapping[str, Any] | None = None,
    description: str | None = None,
    enabled: bool = True,
    tags: Mapping[str, str],
) -> str:
    """Create or update rule ``name`` (``put_rule`` upserts) only when it differs. Returns its ARN."""
    have = describe_rule(ctx, name, bus)
    state = "ENABLED" if enabled else "DISABLED"
    same = have is not None and (
        have.get("ScheduleExpression") == schedule
        and _json(have.get("EventPattern")) == (dict(pattern) if pattern is not None else None)
        and (have.get("Description") or "") == (description or "")
        and have.get("State") == state
    )
    if same:
        arn = have["Arn"]
    else:
        kwargs: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": state,
            "Description": description or "",
        }
        if schedule is not None:
            kwargs["ScheduleExpression"] = schedule
        if pattern is not None:
            kwargs["EventPattern"] = json.dumps(pattern, sort_keys=True)
        if have is None:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        arn = ctx.call("events", "put_rule", **kwargs)["RuleArn"]
        ctx.log(f"{'updated' if have else 'created'} EventBridge rule {name}")
    if have is not None:
        # put_rule leaves an existing rule's tags alone.
        current = ctx.call("events", "list_tags_for_resource", ResourceARN=arn).get("Tags", [])
        to_set, to_remove = tag_delta({t["Key"]: t["Value"] for t in current}, tags)
        if to_set:
            ctx.call(
                "events",
                "tag_resource",
                ResourceARN=arn,
                Tags=[{"Key": k, "Value": v} for k, v in to_set.items()],
            )
        if to_remove:
            ctx.call("events", "untag_resource", ResourceARN=arn, TagKeys=to_remove)
    return arn


def list_targets(ctx: Context, name: str, bus: str = "default") -> list[dict[str, Any]]:
    """The rule's targets ([] when the rule is gone)."""
    targets: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"Rule": name, "EventBusName": bus}
    try:
        while True:
            page = ctx.call("events", "list_targets_by_rule", **kwargs)
            targets.extend(page.get("Targets", []))
            if not page.get("NextToken"):
                return targets
            kwargs["NextToken"] = page["NextToken"]
    except ProvisionError as exc:
        if exc.code == "ResourceNotFoundException":
            return []
        raise


def converge_targets(
    ctx: Context, name: str, desired: list[dict[str, Any]], bus: str = "default"
) -> list[dict[str, Any]]:
    """Make the rule's targets exactly ``desired`` (put_targets for new or changed ones,
    remove_targets for the rest). Returns the targets as they were before."""
    current = list_targets(ctx, name, bus)
    by_id = {t["Id"]: t for t in current}
    changed = [
        t for t in desired if t["Id"] not in by_id or target_view(by_id[t["Id"]]) != target_view(t)
    ]
    if changed:
        result = ctx.call("events", "put_targets", Rule=name, EventBusName=bus, Targets=changed)
        _check_entries(result, "put_targets", name)
    wanted = {t["Id"] for t in desired}
    extra = [t["Id"] for t in current if t["Id"] not in wanted]
    if extra:
        result = ctx.call("events", "remove_targets", Rule=name, EventBusName=bus, Ids=extra)
        _check_entries(result, "remove_targets", name)
    return current


def remove_rule(ctx: Context, name: str, bus: str = "default") -> list[dict[str, Any]]:
    """``remove_targets`` then ``delete_rule`` (AWS refuses a rule with targets). Returns
    the targets it had; a missing rule is fine."""
    targets = list_targets(ctx, name, bus)
    try:
        if targets:
            ctx.call(
                "events",
                "remove_targets",
                Rule=name,
                EventBusName=bus,
                Ids=[t["Id"] for t in targets],
            )
        ctx.call("events", "delete_rule", Name=name, EventBusName=bus)
        ctx.log(f"deleted EventBridge rule {name}")
    except ProvisionError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
    return targets


def target_view(target: Mapping[str, Any]) -> dict[str, Any]:
    """The target fields we manage, normalised, so AWS's echo compares equal to our request."""
    ecs = target.get("EcsParameters")
    if ecs:
        vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration") or {}
        ecs = {
            "TaskDefinitionArn": ecs.get("TaskDefinitionArn"),
            "TaskCount": ecs.get("TaskCount", 1),
            "LaunchType": ecs.get("LaunchType"),
            "PlatformVersion": ecs.get("PlatformVersion"),
            "PropagateTags": ecs.get("PropagateTags"),
            "Subnets": sorted(vpc.get("Subnets") or []),
            "SecurityGroups": sorted(vpc.get("SecurityGroups") or []),
            "AssignPublicIp": vpc.get("AssignPublicIp"),
        }
    return {
        "Id": target.get("Id"),
        "Arn": target.get("Arn"),
        "RoleArn": target.get("RoleArn"),
        "Input": _json(target.get("Input")),
        "InputPath": target.get("InputPath"),
        "MessageGroupId": (target.get("SqsParameters") or {}).get("MessageGroupId"),
        "Ecs": ecs or None,
    }


def _check_entries(result: Mapping[str, Any], operation: str, name: str) -> None:
    failed = result.get("FailedEntries") or []
    if result.get("FailedEntryCount") or failed:
        detail = "; ".join(f"{e.get('TargetId')}: {e.get('ErrorMessage')}" for e in failed)
        raise ProvisionError(
            f"events.{operation} on rule {name}: {detail}",
            code="FailedEntries",
            operation=operation,
        )


def _json(value: Any) -> Any:
    if value is None or value == "":
        return None
    return json.loads(value) if isinstance(value, str) else value


# --- target permissions (Sid = the rule name) -----------------------------------------------


def _service_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 else ""


def grant(
    ctx: Context, sid: str, rule_arn: str, target_arn: str, *, queue_url: str | None = None
) -> None:
    """Let the rule deliver to its target: a Lambda permission, or a statement in the
    queue's or topic's policy. Other ARN types need no resource policy here."""
    service = _service_of(target_arn)
    if service == "lambda":
        ensure_invoke_permission(ctx, target_arn, sid, principal=EVENTS, source_arn=rule_arn)
    elif service == "sqs":
        url = queue_url or _queue_url(ctx, target_arn)
        _put_statement(ctx, "sqs", url, _statement(sid, "sqs:SendMessage", target_arn, rule_arn))
    elif service == "sns":
        _put_statement(ctx, "sns", target_arn, _statement(sid, "sns:Publish", target_arn, rule_arn))
    else:
        ctx.log(
            f"target {target_arn}: no resource policy is added for a {service or 'non-ARN'} target"
        )


def revoke(ctx: Context, sid: str, target_arn: str) -> None:
    """Remove statement ``sid`` from the target's policy; a gone target is fine."""
    service = _service_of(target_arn)
    try:
        if service == "lambda":
            remove_invoke_permission(ctx, target_arn, sid)
        elif service == "sqs":
            _drop_statement(ctx, "sqs", _queue_url(ctx, target_arn), sid)
        elif service == "sns":
            _drop_statement(ctx, "sns", target_arn, sid)
    except ProvisionError as exc:
        if exc.code not in _QUEUE_GONE + _TOPIC_GONE:
            raise


def _statement(sid: str, action: str, resource: str, rule_arn: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": EVENTS},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


def _queue_url(ctx: Context, arn: str) -> str:
    parts = arn.split(":")
    return ctx.call("sqs", "get_queue_url", QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])[
        "QueueUrl"
    ]


def _get_policy(ctx: Context, service: str, resource: str) -> dict[str, Any]:
    if service == "sqs":
        attributes = ctx.call(
            "sqs", "get_queue_attributes", QueueUrl=resource, AttributeNames=["Policy"]
        )
    else:
        attributes = ctx.call("sns", "get_topic_attributes", TopicArn=resource)
    policy = _json((attributes.get("Attributes") or {}).get("Policy"))
    return policy or {"Version": "2012-10-17", "Statement": []}


def _set_policy(ctx: Context, service: str, resource: str, policy: dict[str, Any]) -> None:
    # An SQS queue with no statements left gets no policy at all.
    text = json.dumps(policy) if policy.get("Statement") else ""
    if service == "sqs":
        ctx.call("sqs", "set_queue_attributes", QueueUrl=resource, Attributes={"Policy": text})
    else:
        ctx.call(
            "sns",
            "set_topic_attributes",
            TopicArn=resource,
            AttributeName="Policy",
            AttributeValue=text,
        )


def _statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _put_statement(ctx: Context, service: str, resource: str, statement: dict[str, Any]) -> None:
    policy = _get_policy(ctx, service, resource)
    statements = _statements(policy)
    if any(s == statement for s in statements):
        return
    policy["Statement"] = [s for s in statements if s.get("Sid") != statement["Sid"]] + [statement]
    _set_policy(ctx, service, resource, policy)


def _drop_statement(ctx: Context, service: str, resource: str, sid: str) -> None:
    policy = _get_policy(ctx, service, resource)
    statements = _statements(policy)
    kept = [s for s in statements if s.get("Sid") != sid]
    if len(kept) != len(statements):
        policy["Statement"] = kept
        _set_policy(ctx, service, resource, policy)


# --- the EventBridge kind --------------------------------------------------------------------


class EventBridgeProvisioner:
    kind = "EventBridge"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def _apply(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name, bus = rule_name(ctx), config.get("eventBus") or "default"
        arn = converge_rule(
            ctx,
            name,
            bus=bus,
            schedule=config.get("schedule"),
            pattern=config.get("eventPattern"),
            description=config.get("description"),
            enabled=bool(config.get("enabled", True)),
            tags=ctx.tags(config.get("tags")),
        )
        desired = []
        for target in config["targets"]:
            request, queue_url = self._target(ctx, target)
            grant(ctx, name, arn, request["Arn"], queue_url=queue_url)
            desired.append(request)
        before = converge_targets(ctx, name, desired, bus)
        for stale in {t["Arn"] for t in before} - {t["Arn"] for t in desired}:
            revoke(ctx, name, stale)
        return Outcome(
            id=arn, attributes={"rule_name": name, "arn": arn, "event_bus_name": bus_name(bus)}
        )

    @staticmethod
    def _target(ctx: Context, target: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        queue_url = None
        if target.get("component"):
            component = target["component"]
            arn = ctx.output_of(component, "arn")
            if (ctx.resources.get(component) or {}).get("type") == "SQS":
                queue_url = ctx.output_of(component, "queue_url")
        else:
            arn = target["arn"]
        request: dict[str, Any] = {"Id": target.get("id") or target.get("component"), "Arn": arn}
        if target.get("input") is not None:
            request["Input"] = json.dumps(target["input"], sort_keys=True)
        if target.get("inputPath"):
            request["InputPath"] = target["inputPath"]
        if target.get("messageGroupId"):
            request["SqsParameters"] = {"MessageGroupId": target["messageGroupId"]}
        return request, queue_url

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        attributes = previous.get("attributes") or {}
        config = previous.get("config") or {}
        name = attributes.get("rule_name") or rule_name(ctx)
        bus = config.get("eventBus") or "default"
        removed = remove_rule(ctx, name, bus)
        for arn in {t["Arn"] for t in removed}:
            revoke(ctx, name, arn)

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        attributes = previous.get("attributes") or {}
        config = previous.get("config") or {}
        found = describe_rule(
            ctx, attributes.get("rule_name") or rule_name(ctx), config.get("eventBus") or "default"
        )
        if found is None:
            return None
        fields: dict[str, Any] = {"enabled": found.get("State") == "ENABLED"}
        if found.get("ScheduleExpression"):
            fields["schedule"] = found["ScheduleExpression"]
        if found.get("EventPattern"):
            fields["eventPattern"] = _json(found["EventPattern"])
        return Observed(fields=fields)


PROVISIONERS = {"EventBridge": EventBridgeProvisioner()}

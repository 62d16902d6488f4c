"""SNS: a topic and its subscriptions (kinds.md, SNS).

Subscriptions are keyed by (protocol, endpoint). One naming a ``component`` resolves the
endpoint from the state (the SQS queue's or the Lambda's ``arn``) and gets the permission
it needs to be delivered to: a statement in the queue's policy, or a Lambda permission.
Only subscriptions this component declared are ever removed: a Lambda's own ``sns``
trigger subscribes to the same topic, and must survive our updates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ._compare import as_bool, canonical_json, changed, owner_conflict, tag_changes, tags_from_list
from .base import Context, Observed, Outcome, ProvisionError

NAME_LIMIT = 256  # including ".fifo"
DEFAULT_KMS_KEY = "alias/aws/sns"
GONE = frozenset({"NotFound", "NotFoundException"})
PENDING = "PendingConfirmation"
_QUEUE_GONE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_LAMBDA_GONE = frozenset({"ResourceNotFoundException"})

Key = tuple[str, str]  # (protocol, endpoint)


def topic_name(ctx: Context, config: Mapping[str, Any]) -> str:
    if config.get("fifoTopic"):
        # ".fifo" is outside the name charset; the generated base never contains a dot.
        return ctx.name(limit=NAME_LIMIT, suffix=".fifo", charset=r"A-Za-z0-9_.-")
    return ctx.name(limit=NAME_LIMIT)


def topic_attributes(config: Mapping[str, Any]) -> dict[str, str]:
    """The attributes ``set_topic_attributes`` manages; "" means unset."""
    encryption = config.get("encryption") or {}
    attrs = {
        "DisplayName": config.get("displayName") or "",
        "DeliveryPolicy": config.get("deliveryPolicy") or "",
        "KmsMasterKeyId": (encryption.get("kmsKey") or DEFAULT_KMS_KEY)
        if encryption.get("enabled")
        else "",
    }
    if config.get("fifoTopic"):
        attrs["ContentBasedDeduplication"] = (
            "true" if config.get("contentBasedDeduplication") else "false"
        )
    return attrs


def _normal(name: str, value: Any) -> Any:
    if name == "DeliveryPolicy":
        return canonical_json(value)
    if name == "ContentBasedDeduplication":
        return as_bool(value)
    return value or ""


def _differences(current: Mapping[str, Any], desired: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in desired.items() if _normal(k, current.get(k, "")) != _normal(k, v)}


def _statement_id(topic_arn: str) -> str:
    # Alphanumeric (IAM's Sid rule), unique per topic, stable across applies.
    return "PankaSns" + hashlib.sha256(topic_arn.encode()).hexdigest()[:16]


# --- AWS helpers --------------------------------------------------------------------------


def find_topic(ctx: Context, name: str) -> str | None:
    """The ARN of the topic called ``name`` in this account and region, if any."""
    token = None
    while True:
        page = ctx.call("sns", "list_topics", **({"NextToken": token} if token else {}))
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
        token = page.get("NextToken")
        if not token:
            return None


def _live_attributes(ctx: Context, arn: str) -> dict[str, str] | None:
    try:
        return ctx.call("sns", "get_topic_attributes", TopicArn=arn)["Attributes"]
    except ProvisionError as exc:
        if exc.code in GONE:
            return None
        raise


def _set_attributes(ctx: Context, arn: str, changes: Mapping[str, str]) -> None:
    for name, value in sorted(changes.items()):
        ctx.call(
            "sns", "set_topic_attributes", TopicArn=arn, AttributeName=name, AttributeValue=value
        )


def _sync_tags(ctx: Context, arn: str, desired: dict[str, str]) -> None:
    current = tags_from_list(ctx.call("sns", "list_tags_for_resource", ResourceArn=arn).get("Tags"))
    to_set, to_remove = tag_changes(current, desired)
    if to_set:
        ctx.call(
            "sns",
            "tag_resource",
            ResourceArn=arn,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(to_set.items())],
        )
    if to_remove:
        ctx.call("sns", "untag_resource", ResourceArn=arn, TagKeys=to_remove)


def _live_subscriptions(ctx: Context, arn: str) -> dict[Key, str]:
    subs: dict[Key, str] = {}
    token = None
    while True:
        kwargs: dict[str, Any] = {"TopicArn": arn}
        if token:
            kwargs["NextToken"] = token
        page = ctx.call("sns", "list_subscriptions_by_topic", **kwargs)
        for sub in page.get("Subscriptions", []):
            subs[(sub["Protocol"], sub["Endpoint"])] = sub["SubscriptionArn"]
        token = page.get("NextToken")
        if not token:
            return subs


def _endpoint(ctx: Context, sub: Mapping[str, Any]) -> str:
    if sub.get("component"):
        return str(ctx.output_of(sub["component"], "arn"))
    return str(sub["endpoint"])


def _resolvable(ctx: Context, subs: list[Mapping[str, Any]]) -> dict[Key, Mapping[str, Any]]:
    """Subscriptions by key, skipping components no longer in the state (old configs only)."""
    keyed: dict[Key, Mapping[str, Any]] = {}
    for sub in subs:
        try:
            keyed[(sub["protocol"], _endpoint(ctx, sub))] = sub
        except ProvisionError:
            ctx.log(
                f"cannot resolve {sub.get('component')!r} any more; its subscription is left as it is"
            )
    return keyed


# --- delivery permissions -----------------------------------------------------------------


def _queue_policy(ctx: Context, queue_url: str) -> dict[str, Any]:
    attrs = ctx.call("sqs", "get_queue_attributes", QueueUrl=queue_url, AttributeNames=["Policy"])
    text = (attrs.get("Attributes") or {}).get("Policy")
    return json.loads(text) if text else {"Version": "2012-10-17", "Statement": []}


def _allows(statement: Mapping[str, Any], sid: str, topic_arn: str) -> bool:
    """Whether a policy statement is our grant to this topic. Loose on purpose: AWS may
    rewrite a stored policy's layout, and an exact match would then re-send it every apply."""
    return (
        statement.get("Sid") == sid
        and statement.get("Effect") == "Allow"
        and topic_arn in json.dumps(statement.get("Condition"))
    )


def _grant(ctx: Context, topic_arn: str, sub: Mapping[str, Any]) -> None:
    """Let the topic deliver to the subscribed component; no call when already allowed."""
    component, sid = sub["component"], _statement_id(topic_arn)
    target_arn = str(ctx.output_of(component, "arn"))
    if sub["protocol"] == "sqs":
        queue_url = str(ctx.output_of(component, "queue_url"))
        policy = _queue_policy(ctx, queue_url)
        statement = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": target_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        }
        statements = policy.get("Statement", [])
        if any(_allows(s, sid, topic_arn) for s in statements):
            return
        policy["Statement"] = [*(s for s in statements if s.get("Sid") != sid), statement]
        ctx.call(
            "sqs",
            "set_queue_attributes",
            QueueUrl=queue_url,
            Attributes={"Policy": json.dumps(policy)},
        )
        ctx.log(f"allowed the topic to send to {component}")
        return
    try:
        policy = json.loads(ctx.call("lambda", "get_policy", FunctionName=target_arn)["Policy"])
        if any(_allows(s, sid, topic_arn) for s in policy.get("Statement", [])):
            return
    except ProvisionError as exc:
        if exc.code not in _LAMBDA_GONE:  # no policy yet
            raise
    try:
        ctx.call(
            "lambda",
            "add_permission",
            FunctionName=target_arn,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic_arn,
        )
        ctx.log(f"allowed the topic to invoke {component}")
    except ProvisionError as exc:
        if exc.code != "ResourceConflictException":  # added meanwhile: fine
            raise


def _revoke(ctx: Context, topic_arn: str, sub: Mapping[str, Any]) -> None:
    """Best effort: the component may already be gone, taking its policy with it."""
    component, sid = sub["component"], _statement_id(topic_arn)
    try:
        if sub["protocol"] == "sqs":
            queue_url = str(ctx.output_of(component, "queue_url"))
            policy = _queue_policy(ctx, queue_url)
            statements = [s for s in policy.get("Statement", []) if s.get("Sid") != sid]
            if len(statements) == len(policy.get("Statement", [])):
                return
            text = json.dumps({**policy, "Statement": statements}) if statements else ""
            ctx.call("sqs", "set_queue_attributes", QueueUrl=queue_url, Attributes={"Policy": text})
        else:
            function = str(ctx.output_of(component, "arn"))
            ctx.call("lambda", "remove_permission", FunctionName=function, StatementId=sid)
    except ProvisionError as exc:
        if exc.code and exc.code not in _QUEUE_GONE | _LAMBDA_GONE:
            raise


# --- subscriptions ------------------------------------------------------------------------


def _filter_text(sub: Mapping[str, Any]) -> str:
    return canonical_json(sub.get("filterPolicy")) or ""


def _sync_subscriptions(
    ctx: Context,
    topic_arn: str,
    subs: list[Mapping[str, Any]],
    old_subs: list[Mapping[str, Any]] | None,
) -> None:
    """Subscribe what is missing, fix filter policies, unsubscribe what ``old_subs``
    declared and ``subs`` no longer does (None: nothing is known to be ours)."""
    desired = {(sub["protocol"], _endpoint(ctx, sub)): sub for sub in subs}
    live = _live_subscriptions(ctx, topic_arn)
    for key, sub in desired.items():
        if sub.get("component"):
            _grant(ctx, topic_arn, sub)
        wanted = _filter_text(sub)
        sub_arn = live.get(key)
        if sub_arn is None:
            ctx.call(
                "sns",
                "subscribe",
                TopicArn=topic_arn,
                Protocol=key[0],
                Endpoint=key[1],
                Attributes={"FilterPolicy": wanted} if wanted else {},
                ReturnSubscriptionArn=True,
            )
            ctx.log(f"subscribed {sub.get('component') or key[0]} to the topic")
        elif sub_arn != PENDING:  # an unconfirmed subscription cannot be changed yet
            attrs = ctx.call("sns", "get_subscription_attributes", SubscriptionArn=sub_arn)[
                "Attributes"
            ]
            if (canonical_json(attrs.get("FilterPolicy")) or "") != wanted:
                ctx.call(
                    "sns",
                    "set_subscription_attributes",
                    SubscriptionArn=sub_arn,
                    AttributeName="FilterPolicy",
                    AttributeValue=wanted,
                )
    for key, sub in _resolvable(ctx, old_subs or []).items():
        if key in desired:
            continue
        sub_arn = live.get(key)
        if sub_arn and sub_arn != PENDING:
            ctx.call("sns", "unsubscribe", SubscriptionArn=sub_arn)
            ctx.log(f"unsubscribed {sub.get('component') or key[0]} from the topic")
        if sub.get("component"):
            _revoke(ctx, topic_arn, sub)


def _outcome(arn: str) -> Outcome:
    return Outcome(
        id=arn, attributes={"topic_name": arn.rsplit(":", 1)[-1], "arn": arn, "topic_arn": arn}
    )


# --- the provisioner --------------------------------------------------------------------


class SnsProvisioner:
    kind = "SNS"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name = topic_name(ctx, config)
        tags = ctx.tags(config.get("tags"))
        arn = find_topic(ctx, name)
        if arn is None:
            attributes = {k: v for k, v in topic_attributes(config).items() if v != ""}
            if config.get("fifoTopic"):
                attributes["FifoTopic"] = "true"
            arn = ctx.call(
                "sns",
                "create_topic",
                Name=name,
                Attributes=attributes,
                Tags=ctx.tag_list(config.get("tags")),
            )["TopicArn"]
            ctx.log(f"created topic {name}")
        else:
            current = tags_from_list(
                ctx.call("sns", "list_tags_for_resource", ResourceArn=arn).get("Tags")
            )
            clash = owner_conflict(current, tags)
            if clash:
                raise ProvisionError(
                    f"topic {name} already exists and belongs to another component ({clash})"
                )
            live = _live_attributes(ctx, arn) or {}
            _set_attributes(ctx, arn, _differences(live, topic_attributes(config)))
            _sync_tags(ctx, arn, tags)
            ctx.log(f"adopted existing topic {name}")
        _sync_subscriptions(ctx, arn, config.get("subscriptions") or [], None)
        return _outcome(arn)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        old = previous.get("config") or None  # {}: a state written without it (the CLI)
        arn = previous.get("id") or (previous.get("attributes") or {}).get("arn")
        if old is None or not arn:
            return self.create(ctx, config)
        if changed(old, config, "fifoTopic"):
            raise ProvisionError(
                "changing fifoTopic replaces the topic; it cannot be updated in place"
            )
        changes = _differences(topic_attributes(old), topic_attributes(config))
        _set_attributes(ctx, arn, changes)
        if changes:
            ctx.log(f"updated topic {arn.rsplit(':', 1)[-1]}: {', '.join(sorted(changes))}")
        _sync_tags(ctx, arn, ctx.tags(config.get("tags")))
        _sync_subscriptions(
            ctx, arn, config.get("subscriptions") or [], old.get("subscriptions") or []
        )
        return _outcome(arn)

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        config = previous.get("config") or {}
        arn = previous.get("id") or (previous.get("attributes") or {}).get("arn")
        if not arn and config:
            arn = find_topic(ctx, topic_name(ctx, config))
        if not arn:
            return
        for sub in _resolvable(ctx, config.get("subscriptions") or []).values():
            if sub.get("component"):
                _revoke(ctx, arn, sub)
        try:
            ctx.call("sns", "delete_topic", TopicArn=arn)  # its subscriptions go with it
            ctx.log(f"deleted topic {arn.rsplit(':', 1)[-1]}")
        except ProvisionError as exc:
            if exc.code not in GONE:
                raise

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        arn = previous.get("id") or (previous.get("attributes") or {}).get("arn")
        live = _live_attributes(ctx, arn) if arn else None
        if live is None:
            return None
        fifo = as_bool(live.get("FifoTopic", False))
        key = live.get("KmsMasterKeyId") or ""
        fields: dict[str, Any] = {
            "displayName": live.get("DisplayName") or None,
            "deliveryPolicy": canonical_json(live.get("DeliveryPolicy")),
            "fifoTopic": fifo,
            "encryption.enabled": bool(key),
            "encryption.kmsKey": None if key in ("", DEFAULT_KMS_KEY) else key,
        }
        if fifo:
            fields["contentBasedDeduplication"] = as_bool(
                live.get("ContentBasedDeduplication", False)
            )
        return Observed(fields=fields)


PROVISIONERS = {"SNS": SnsProvisioner()}

"""SQS: a queue, plus ``<name>-dlq`` and a RedrivePolicy when the DLQ is on (kinds.md, SQS)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ._compare import as_bool, owner_conflict, tag_changes
from .base import Context, Observed, Outcome, ProvisionError

NAME_LIMIT = 80  # including ".fifo"
DLQ_RETENTION = 1209600  # 14 days, the maximum
# The same error under the JSON protocol's code and the query protocol's code.
GONE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
DELETED_RECENTLY = frozenset(
    {"AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"}
)
# AWS refuses a deleted queue's name for 60 s; a replacement (delete, then create) waits.
NAME_REUSE_WAIT = 90.0

# Config field -> queue attribute, for the settable numbers.
_NUMBERS = {
    "delaySeconds": "DelaySeconds",
    "maxMessageSize": "MaximumMessageSize",
    "messageRetentionPeriod": "MessageRetentionPeriod",
    "receiveWaitTime": "ReceiveMessageWaitTimeSeconds",
    "visibilityTimeout": "VisibilityTimeout",
}


def _fifo(config: Mapping[str, Any]) -> bool:
    return config.get("type") == "fifo"


def queue_names(ctx: Context, config: Mapping[str, Any]) -> tuple[str, str]:
    """(queue, dead-letter queue) names. ``.fifo`` is outside the name charset, so the
    charset is widened for FIFO queues; the generated base never contains a dot."""
    if _fifo(config):
        charset = r"A-Za-z0-9_.-"
        return (
            ctx.name(limit=NAME_LIMIT, suffix=".fifo", charset=charset),
            ctx.name(limit=NAME_LIMIT, suffix="-dlq.fifo", charset=charset),
        )
    return ctx.name(limit=NAME_LIMIT), ctx.name(limit=NAME_LIMIT, suffix="-dlq")


def queue_attributes(config: Mapping[str, Any], dlq_arn: str | None) -> dict[str, str]:
    """The main queue's settable attributes; ``RedrivePolicy`` is "" when there is no DLQ
    (which is also how AWS removes one)."""
    attrs = {name: str(config[field]) for field, name in _NUMBERS.items()}
    attrs["SqsManagedSseEnabled"] = _text(config["encryption"]["enabled"])
    if _fifo(config):
        attrs["ContentBasedDeduplication"] = _text(config["contentBasedDeduplication"])
        attrs["DeduplicationScope"] = config["deduplicationScope"]
        attrs["FifoThroughputLimit"] = config["fifoThroughputLimit"]
    dlq = config["deadLetterQueue"]
    attrs["RedrivePolicy"] = (
        json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(dlq["maxReceiveCount"])})
        if dlq["enabled"] and dlq_arn
        else ""
    )
    return attrs


def dlq_attributes(config: Mapping[str, Any]) -> dict[str, str]:
    return {
        "MessageRetentionPeriod": str(DLQ_RETENTION),
        "SqsManagedSseEnabled": _text(config["encryption"]["enabled"]),
    }


def _text(value: bool) -> str:
    return "true" if value else "false"


def _normal(name: str, value: Any) -> Any:
    """An attribute value in comparable form: AWS may reformat the redrive JSON."""
    if name == "RedrivePolicy":
        if not value:
            return None
        policy = json.loads(value) if isinstance(value, str) else value
        return (policy.get("deadLetterTargetArn"), int(policy.get("maxReceiveCount", 0)))
    if name in ("SqsManagedSseEnabled", "ContentBasedDeduplication"):
        return as_bool(value)
    return str(value)


def _differences(current: Mapping[str, Any], desired: Mapping[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in desired.items()
        if _normal(name, current.get(name, "")) != _normal(name, value)
    }


# --- AWS helpers --------------------------------------------------------------------------


def find_queue(ctx: Context, name: str) -> str | None:
    try:
        return ctx.call("sqs", "get_queue_url", QueueName=name)["QueueUrl"]
    except ProvisionError as exc:
        if exc.code in GONE:
            return None
        raise


def _live_attributes(ctx: Context, url: str) -> dict[str, str] | None:
    try:
        return ctx.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
    except ProvisionError as exc:
        if exc.code in GONE:
            return None
        raise


def _arn(ctx: Context, url: str) -> str:
    attrs = ctx.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["QueueArn"])
    return attrs["Attributes"]["QueueArn"]


def _create_queue(ctx: Context, name: str, attributes: dict[str, str], tags: dict[str, str]) -> str:
    """``create_queue``, waiting out AWS's 60 s block on a just-deleted name."""
    deadline = time.monotonic() + NAME_REUSE_WAIT
    while True:
        try:
            return ctx.call(
                "sqs", "create_queue", QueueName=name, Attributes=attributes, tags=tags
            )["QueueUrl"]
        except ProvisionError as exc:
            if exc.code not in DELETED_RECENTLY or time.monotonic() >= deadline:
                raise
            ctx.log(f"queue name {name} was deleted less than 60 s ago; waiting to reuse it")
            time.sleep(ctx.backoff * 10)


def _sync_tags(ctx: Context, url: str, desired: dict[str, str]) -> None:
    current = ctx.call("sqs", "list_queue_tags", QueueUrl=url).get("Tags") or {}
    to_set, to_remove = tag_changes(current, desired)
    if to_set:
        ctx.call("sqs", "tag_queue", QueueUrl=url, Tags=to_set)
    if to_remove:
        ctx.call("sqs", "untag_queue", QueueUrl=url, TagKeys=to_remove)


def _ensure_queue(
    ctx: Context, name: str, attributes: dict[str, str], tags: dict[str, str], fifo: bool
) -> str:
    """The queue's URL: created, or adopted (a crash after create) and brought to
    ``attributes`` and ``tags``."""
    url = find_queue(ctx, name)
    if url is None:
        create_attrs = {k: v for k, v in attributes.items() if v != ""}
        if fifo:
            create_attrs["FifoQueue"] = "true"
        url = _create_queue(ctx, name, create_attrs, tags)
        ctx.log(f"created queue {name}")
        return url
    current_tags = ctx.call("sqs", "list_queue_tags", QueueUrl=url).get("Tags") or {}
    clash = owner_conflict(current_tags, tags)
    if clash:
        raise ProvisionError(
            f"queue {name} already exists and belongs to another component ({clash})"
        )
    live = _live_attributes(ctx, url) or {}
    if as_bool(live.get("FifoQueue", False)) != fifo:
        raise ProvisionError(f"queue {name} already exists with another type")
    changes = _differences(live, attributes)
    if changes:
        ctx.call("sqs", "set_queue_attributes", QueueUrl=url, Attributes=changes)
    _sync_tags(ctx, url, tags)
    ctx.log(f"adopted existing queue {name}")
    return url


def _delete_queue(ctx: Context, url: str | None, name: str) -> None:
    if not url:
        return
    try:
        ctx.call("sqs", "delete_queue", QueueUrl=url)
        ctx.log(f"deleted queue {name}")
    except ProvisionError as exc:
        if exc.code not in GONE:
            raise


def _outcome(name: str, url: str, arn: str, dlq_url: str | None, dlq_arn: str | None) -> Outcome:
    attributes = {"queue_name": name, "queue_url": url, "arn": arn}
    if dlq_url:
        attributes.update(dlq_url=dlq_url, dlq_arn=dlq_arn)
    return Outcome(id=url, attributes=attributes)


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


# --- the provisioner --------------------------------------------------------------------


class SqsProvisioner:
    kind = "SQS"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name, dlq_name = queue_names(ctx, config)
        tags = ctx.tags(config.get("tags"))
        fifo = _fifo(config)
        dlq_url = dlq_arn = None
        if config["deadLetterQueue"]["enabled"]:  # first, so the redrive policy can name it
            dlq_url = _ensure_queue(ctx, dlq_name, dlq_attributes(config), tags, fifo)
            dlq_arn = _arn(ctx, dlq_url)
        url = _ensure_queue(ctx, name, queue_attributes(config, dlq_arn), tags, fifo)
        return _outcome(name, url, _arn(ctx, url), dlq_url, dlq_arn)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        old = previous.get("config") or None  # {}: a state written without it (the CLI)
        attributes = previous.get("attributes") or {}
        url = previous.get("id") or attributes.get("queue_url")
        if old is None or not url:
            # Without the applied config there is nothing to diff: converge on AWS instead.
            return self.create(ctx, config)
        if _fifo(old) != _fifo(config):
            raise ProvisionError(
                "changing the queue type replaces the queue; it cannot be updated in place"
            )
        name = attributes.get("queue_name") or _queue_name(url)
        _, dlq_name = queue_names(ctx, config)
        tags = ctx.tags(config.get("tags"))
        was_on, is_on = old["deadLetterQueue"]["enabled"], config["deadLetterQueue"]["enabled"]
        dlq_url = attributes.get("dlq_url") if was_on else None
        dlq_arn = attributes.get("dlq_arn") if was_on else None

        if is_on and not dlq_url:  # switched on (or lost from the state): make it first
            dlq_url = _ensure_queue(ctx, dlq_name, dlq_attributes(config), tags, _fifo(config))
            dlq_arn = _arn(ctx, dlq_url)
        elif is_on:
            changes = _differences(dlq_attributes(old), dlq_attributes(config))
            if changes:
                ctx.call("sqs", "set_queue_attributes", QueueUrl=dlq_url, Attributes=changes)
            _sync_tags(ctx, dlq_url, tags)

        old_attrs = queue_attributes(old, attributes.get("dlq_arn") if was_on else None)
        changes = _differences(old_attrs, queue_attributes(config, dlq_arn))
        if changes:
            ctx.call("sqs", "set_queue_attributes", QueueUrl=url, Attributes=changes)
            ctx.log(f"updated queue {name}: {', '.join(sorted(changes))}")
        _sync_tags(ctx, url, tags)

        if was_on and not is_on:  # after the redrive policy no longer points at it
            _delete_queue(ctx, attributes.get("dlq_url") or find_queue(ctx, dlq_name), dlq_name)
            dlq_url = dlq_arn = None
        arn = attributes.get("arn") or _arn(ctx, url)
        return _outcome(name, url, arn, dlq_url, dlq_arn)

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        attributes = previous.get("attributes") or {}
        config = previous.get("config") or {}
        name, dlq_name = (
            queue_names(ctx, config) if config else (attributes.get("queue_name", ""), "")
        )
        url = (
            previous.get("id")
            or attributes.get("queue_url")
            or (find_queue(ctx, name) if name else None)
        )
        _delete_queue(ctx, url, attributes.get("queue_name") or name)
        dlq_url = attributes.get("dlq_url")
        if not dlq_url and dlq_name and config.get("deadLetterQueue", {}).get("enabled"):
            dlq_url = find_queue(ctx, dlq_name)  # made before a crash that lost the state
        _delete_queue(ctx, dlq_url, dlq_name or "dead-letter queue")

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        url = previous.get("id") or (previous.get("attributes") or {}).get("queue_url")
        live = _live_attributes(ctx, url) if url else None
        if live is None:
            return None
        fifo = as_bool(live.get("FifoQueue", False))
        redrive = _normal("RedrivePolicy", live.get("RedrivePolicy", ""))
        fields: dict[str, Any] = {
            "type": "fifo" if fifo else "standard",
            "visibilityTimeout": int(live["VisibilityTimeout"]),
            "messageRetentionPeriod": int(live["MessageRetentionPeriod"]),
            "delaySeconds": int(live["DelaySeconds"]),
            "receiveWaitTime": int(live["ReceiveMessageWaitTimeSeconds"]),
            "maxMessageSize": int(live["MaximumMessageSize"]),
            "deadLetterQueue.enabled": redrive is not None,
            "deadLetterQueue.maxReceiveCount": redrive[1] if redrive else None,
            "encryption.enabled": as_bool(live.get("SqsManagedSseEnabled", False)),
        }
        if fifo:  # on a standard queue these are not AWS attributes at all
            fields["contentBasedDeduplication"] = as_bool(
                live.get("ContentBasedDeduplication", False)
            )
            fields["deduplicationScope"] = live.get("DeduplicationScope", "queue")
            fields["fifoThroughputLimit"] = live.get("FifoThroughputLimit", "perQueue")
        return Observed(fields=fields)


PROVISIONERS = {"SQS": SqsProvisioner()}

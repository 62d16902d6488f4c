"""SQS queues and SNS topics."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, PlainValidator

from .base import ComponentSpec, ListRules, RuledModel, Rules, SpecModel, section
from .common import Bool, Enum, IntStar, NonEmptyStr, RefName, Text, fail
from .results import Ref

# --- SQS --------------------------------------------------------------------------------


class DeadLetterQueue(RuledModel):
    enabled: Bool = False
    maxReceiveCount: IntStar(1, 1000) | None = None

    def check(self, rules: Rules) -> None:
        if self.enabled and self.maxReceiveCount is None:
            rules.missing(
                (),
                "`{p}maxReceiveCount` is required when `{p}enabled` is true",
                ("enabled", "maxReceiveCount"),
            )


class SqsEncryption(SpecModel):
    enabled: Bool = True  # SqsManagedSseEnabled


# Fifo-only settings and their defaults: a standard queue may restate a default.
_FIFO_ONLY = {
    "contentBasedDeduplication": False,
    "deduplicationScope": "queue",
    "fifoThroughputLimit": "perQueue",
}


class SQSSpec(ComponentSpec):
    type: Enum("standard", "fifo") = "standard"
    messageRetentionPeriod: IntStar(60, 1209600) = 345600
    visibilityTimeout: IntStar(0, 43200) = 30
    maxMessageSize: IntStar(1024, 262144) = 262144
    receiveWaitTime: IntStar(0, 20) = 0
    delaySeconds: IntStar(0, 900) = 0
    deadLetterQueue: DeadLetterQueue = section(DeadLetterQueue)
    contentBasedDeduplication: Bool = False
    deduplicationScope: Enum("messageGroup", "queue") = "queue"
    fifoThroughputLimit: Enum("perQueue", "perMessageGroupId") = "perQueue"
    encryption: SqsEncryption = section(SqsEncryption)

    def check(self, rules: Rules) -> None:
        if self.type != "fifo":
            for name, default in _FIFO_ONLY.items():
                if getattr(self, name) != default:
                    rules.add(
                        "invalid-combination",
                        (name,),
                        f"`{name}` is only allowed on a FIFO queue (`type: fifo`)",
                        ("type", name),
                    )
        elif (
            self.fifoThroughputLimit == "perMessageGroupId"
            and self.deduplicationScope != "messageGroup"
        ):
            rules.add(
                "invalid-combination",
                ("fifoThroughputLimit",),
                "`fifoThroughputLimit: perMessageGroupId` needs `deduplicationScope: messageGroup`",
                ("fifoThroughputLimit", "deduplicationScope"),
            )


SQS_OUTPUTS = ("queue_name", "queue_url", "arn", "dlq_url", "dlq_arn")
_NO_DLQ = frozenset(SQS_OUTPUTS[:3])
_WITH_DLQ = frozenset(SQS_OUTPUTS)


def sqs_available(model: SQSSpec) -> frozenset[str]:
    return _WITH_DLQ if model.deadLetterQueue.enabled else _NO_DLQ


def sqs_replace(old: dict, new: dict) -> str | None:
    return "type" if old.get("type") != new.get("type") else None


# --- SNS --------------------------------------------------------------------------------

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "lambda", "application")
COMPONENT_PROTOCOLS = {"sqs": "SQS", "lambda": "Lambda"}


def _parse_object(value: object, what: str) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise fail("invalid-value", f"must be {what} (JSON text or a mapping)") from None
    if not isinstance(value, dict):
        raise fail("invalid-value", f"must be {what} (JSON text or a mapping)")
    return value


def _json_text(value: object) -> str:
    """A JSON object written as text or as YAML, kept as canonical JSON text so that
    formatting changes are not config changes."""
    parsed = _parse_object(value, "a JSON object")
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), default=str)


def _json_object(value: object) -> dict:
    """A JSON object written as text or as YAML, kept as the object."""
    return _parse_object(value, "a JSON object")


JsonText = Annotated[str, PlainValidator(_json_text)]
JsonObject = Annotated[dict, PlainValidator(_json_object)]


class Subscription(RuledModel):
    protocol: Enum(*PROTOCOLS)
    endpoint: NonEmptyStr | None = None
    component: RefName | None = None
    filterPolicy: JsonObject | None = None

    def check(self, rules: Rules) -> None:
        both = ("endpoint", "component")
        if self.endpoint is not None and self.component is not None:
            rules.add(
                "invalid-combination",
                (),
                "`{p}endpoint` and `{p}component` exclude each other; give one",
                both,
            )
        elif self.endpoint is None and self.component is None:
            rules.missing((), "`{p}endpoint` or `{p}component` is required", both)
        elif self.component is not None and self.protocol not in COMPONENT_PROTOCOLS:
            rules.add(
                "invalid-combination",
                ("component",),
                f"`{{p}}component` needs protocol `sqs` or `lambda`, not `{self.protocol}`",
                ("component", "protocol"),
            )


class SnsEncryption(RuledModel):
    enabled: Bool = False
    kmsKey: NonEmptyStr | None = None  # default: alias/aws/sns

    def check(self, rules: Rules) -> None:
        if self.kmsKey is not None and not self.enabled:
            rules.add(
                "invalid-combination",
                ("kmsKey",),
                "`{p}kmsKey` needs `{p}enabled: true`",
                ("enabled", "kmsKey"),
            )


class SNSSpec(ComponentSpec):
    displayName: Text(max_len=100, non_empty=False) | None = None
    deliveryPolicy: JsonText | None = None
    fifoTopic: Bool = False
    contentBasedDeduplication: Bool = False
    encryption: SnsEncryption = section(SnsEncryption)
    # Subscriptions are keyed by (protocol, target) on update: no two may share one.
    subscriptions: Annotated[
        list[Subscription],
        ListRules(
            unique_key=lambda s: (s.protocol, s.endpoint, s.component),
            key_label="same protocol and target",
        ),
    ] = Field(default_factory=list)

    def check(self, rules: Rules) -> None:
        if self.contentBasedDeduplication and not self.fifoTopic:
            rules.add(
                "invalid-combination",
                ("contentBasedDeduplication",),
                "`contentBasedDeduplication` is only allowed on a FIFO topic (`fifoTopic: true`)",
                ("contentBasedDeduplication", "fifoTopic"),
            )


SNS_OUTPUTS = ("topic_name", "arn")
SNS_ALIASES = {"topic_arn": "arn", "topicArn": "arn"}


def sns_replace(old: dict, new: dict) -> str | None:
    return "fifoTopic" if old.get("fifoTopic") != new.get("fifoTopic") else None


def sns_refs(data: dict) -> list[Ref]:
    refs: list[Ref] = []
    subs = data.get("subscriptions")
    if isinstance(subs, list):
        for i, sub in enumerate(subs):
            if not isinstance(sub, dict):
                continue
            component = sub.get("component")
            if isinstance(component, str) and component:
                protocol = sub.get("protocol")  # any YAML value: a list is not a dict key
                kind = COMPONENT_PROTOCOLS.get(protocol) if isinstance(protocol, str) else None
                targets = frozenset({kind}) if kind else frozenset(COMPONENT_PROTOCOLS.values())
                refs.append(Ref(("subscriptions", i, "component"), component, None, targets))
    return refs

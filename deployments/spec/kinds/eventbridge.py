"""EventBridge: a rule on an event bus with 1-5 component or ARN targets (our design)."""

from __future__ import annotations

from typing import Annotated, Any

from .base import ComponentSpec, ListRules, RuledModel, Rules
from .common import AnyValue, Bool, Checked, NonEmptyStr, RefName, Text
from .containers import Schedule
from .messaging import JsonObject
from .results import Ref
from .syntax import arn_problem

TARGET_KINDS = frozenset({"SQS", "SNS", "Lambda"})
MAX_TARGETS = 5
TargetId = Text(
    max_len=64,
    pattern=r"[A-Za-z0-9._-]+",
    rule="may contain only letters, digits, `.`, `_` and `-`",
)


class Target(RuledModel):
    component: RefName | None = None
    arn: Checked(arn_problem) | None = None
    id: TargetId | None = None  # default: the component's name
    input: AnyValue = None
    inputPath: NonEmptyStr | None = None
    messageGroupId: NonEmptyStr | None = None

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
        if self.input is not None and self.inputPath is not None:
            rules.add(
                "invalid-combination",
                ("inputPath",),
                "`{p}input` and `{p}inputPath` exclude each other",
                ("input", "inputPath"),
            )
        # A FIFO queue given by ARN shows here; one given as a component is core's to check,
        # as only core knows the target's type.
        if self.arn is not None and self.arn.endswith(".fifo") and self.messageGroupId is None:
            rules.missing(
                (),
                "`{p}messageGroupId` is required for a FIFO SQS target",
                ("arn", "messageGroupId"),
            )


def _default_id(rules: Rules, i: int, target: Any) -> None:
    if target.id is None:
        # An ARN target has no component name to borrow; its position is stable enough.
        target.id = target.component or f"target-{i}"


TargetList = Annotated[
    list[Target],
    ListRules(unique="id", min_n=1, max_n=MAX_TARGETS, what="targets", each=_default_id),
]


def _is_default_bus(bus: str) -> bool:
    return bus == "default" or bus.endswith(":event-bus/default")


class EventBridgeSpec(ComponentSpec):
    eventBus: NonEmptyStr = "default"
    schedule: Schedule | None = None
    eventPattern: JsonObject | None = None
    description: Text(max_len=512, non_empty=False) | None = None
    enabled: Bool = True
    targets: TargetList

    def check(self, rules: Rules) -> None:
        both = ("schedule", "eventPattern")
        if self.schedule is not None and self.eventPattern is not None:
            rules.add(
                "invalid-combination",
                (),
                "`schedule` and `eventPattern` exclude each other; give one",
                both,
            )
        elif self.schedule is None and self.eventPattern is None:
            rules.missing((), "`schedule` or `eventPattern` is required", both)
        if self.schedule is not None and not _is_default_bus(self.eventBus):
            rules.add(
                "invalid-combination",
                ("schedule",),
                f"`schedule` works only on the default bus, not `{self.eventBus}`",
                ("schedule", "eventBus"),
            )


EVENTBRIDGE_OUTPUTS = ("rule_name", "arn", "event_bus_name")


def eventbridge_refs(data: dict) -> list[Ref]:
    refs: list[Ref] = []
    targets = data.get("targets")
    if isinstance(targets, list):
        for i, target in enumerate(targets):
            if isinstance(target, dict):
                component = target.get("component")
                if isinstance(component, str) and component:
                    refs.append(Ref(("targets", i, "component"), component, None, TARGET_KINDS))
    return refs


def eventbridge_replace(old: dict, new: dict) -> str | None:
    return "eventBus" if old.get("eventBus") != new.get("eventBus") else None

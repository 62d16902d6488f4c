"""The plan of a destroy run: every resource in the state, deleted in reverse level order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .findings import Finding
from .graph import build_graph
from .model import Stack
from .plan import Plan, _deletes, _read_state


def plan_destroy(state: Mapping[str, Any] | None, *, stack: str, environment: str) -> Plan:
    findings: list[Finding] = []
    resources, serial, lineage = _read_state(state, stack, environment, findings)
    nothing = Stack(
        name=stack, tenant=None, description="", labels={}, provider={}, variables={},
        services={}, components={}, graph=build_graph({}), layout="", files=(),
    )  # fmt: skip
    return Plan(
        stack, environment, tuple(_deletes(resources, nothing)), tuple(findings), serial, lineage
    )

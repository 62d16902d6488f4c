"""Tenant guardrails (format.md §5 layer 4): limits and allow-lists per tenant.

A frozen dataclass of plain values so Django code builds it from the Tenant model (and
its current stacks) and this package never imports Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .findings import Finding

if TYPE_CHECKING:
    from .model import Stack

DEFAULT_ENVIRONMENTS = frozenset({"development", "staging", "production"})


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """What one tenant may deploy. ``None`` means "no limit" / "anything"."""

    allowed_kinds: frozenset[str] | None = None
    max_stacks: int | None = None
    existing_stacks: frozenset[str] = frozenset()  # the tenant's stack names today
    max_services_per_stack: int | None = None
    max_components_per_service: int | None = None
    allowed_regions: frozenset[str] | None = None
    allowed_environments: frozenset[str] = DEFAULT_ENVIRONMENTS
    # Whether the tenant has a network of its own; False makes the plan warn about each
    # component it places in the account's default VPC instead. None: not known (CLI).
    own_network: bool | None = None
    # Where VPC-attached components go, in words (e.g. "the account's default VPC"): a
    # plan that places any records it, and its hash covers it, so an apply can refuse a
    # plan made for another placement. None: not known (CLI).
    placement: str | None = None

    def check_environment(self, environment: str) -> Finding | None:
        if environment in self.allowed_environments:
            return None
        return Finding(
            "error",
            "tenant-policy",
            f"environment `{environment}` is not allowed "
            f"for this tenant (allowed: {', '.join(sorted(self.allowed_environments))})",
        )

    def check(self, stack: Stack) -> list[Finding]:
        """Every guardrail the stack breaks, positioned where it can be fixed."""
        findings: list[Finding] = []

        def at(file: str, line: int, col: int, path: str, message: str) -> None:
            findings.append(Finding("error", "tenant-policy", message, file, line, col, path))

        def on_stack(path: tuple[str, ...], message: str) -> None:
            doc = stack.doc
            line, col = doc.position(path) if doc is not None else (0, 0)
            at(doc.file if doc is not None else "", line, col, ".".join(path), message)

        if (
            self.max_stacks is not None
            and stack.name not in self.existing_stacks
            and len(self.existing_stacks) >= self.max_stacks
        ):
            on_stack(
                ("metadata", "name"),
                f"the tenant already has {len(self.existing_stacks)} "
                f"stacks, its limit is {self.max_stacks}",
            )
        if (
            self.allowed_regions is not None
            and stack.region is not None
            and stack.region not in self.allowed_regions
        ):
            on_stack(
                ("spec", "provider", "region"),
                f"region `{stack.region}` is not allowed for "
                f"this tenant (allowed: {', '.join(sorted(self.allowed_regions))})",
            )
        if (
            self.max_services_per_stack is not None
            and len(stack.services) > self.max_services_per_stack
        ):
            on_stack(
                ("metadata", "name"),
                f"the stack has {len(stack.services)} services, the tenant's limit "
                f"is {self.max_services_per_stack} per stack",
            )
        for service in stack.services.values():
            if (
                self.max_components_per_service is not None
                and len(service.components) > self.max_components_per_service
            ):
                first = stack.components[sorted(service.components)[0]]
                at(
                    first.file,
                    first.line,
                    first.column,
                    "metadata.service",
                    f"service '{service.name}' has {len(service.components)} components, the "
                    f"tenant's limit is {self.max_components_per_service} per service",
                )
        if self.allowed_kinds is not None:
            for component in stack.components.values():
                if component.kind not in self.allowed_kinds:
                    line, col = (
                        component.doc.position(("kind",))
                        if component.doc
                        else (component.line, component.column)
                    )
                    at(
                        component.file,
                        line,
                        col,
                        "kind",
                        f"kind {component.kind} is not allowed for this tenant (allowed: "
                        f"{', '.join(sorted(self.allowed_kinds)) or 'none'})",
                    )
        return findings

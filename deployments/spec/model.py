"""The resolved stack: what validation hands to the plan, the pages and the deployer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, sort_key
from .graph import Graph
from .loader import Document


@dataclass(slots=True)
class Component:
    """One deployable resource, variables substituted and schema-checked."""

    name: str
    kind: str
    service: str
    file: str
    spec: Any  # plain data after substitution
    labels: dict[str, str]
    annotations: dict[str, str]
    description: str
    deployable: bool
    validated: Any = None  # kinds.ValidatedSpec, None for kinds without a schema
    depends_on: frozenset[str] = frozenset()  # direct dependencies, every source merged
    doc: Document | None = field(default=None, repr=False)

    @property
    def line(self) -> int:
        """Where ``metadata.name`` is written (1-based)."""
        return self.position[0]

    @property
    def column(self) -> int:
        return self.position[1]

    @property
    def position(self) -> tuple[int, int]:
        # Looked up when asked for, not stored when validating: positions are only for
        # findings, and the first lookup in a file builds its index (loader.Document).
        return self.doc.position(("metadata", "name")) if self.doc is not None else (1, 1)

    @property
    def valid(self) -> bool:
        return self.validated is not None and self.validated.model is not None

    def config(self) -> dict[str, Any]:
        """The kind's normalised desired config (what the plan diffs)."""
        return self.validated.config() if self.valid else {}

    def outputs(self) -> frozenset[str]:
        return self.validated.outputs() if self.valid else frozenset()


@dataclass(slots=True)
class Service:
    name: str
    file: str  # the Service document's file, or the folder for an implied service
    explicit: bool  # False when implied by a folder or by components naming it
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    components: list[str] = field(default_factory=list)
    doc: Document | None = field(default=None, repr=False)  # the Service document, if any


@dataclass(slots=True)
class Stack:
    name: str
    tenant: str | None
    description: str
    labels: dict[str, str]
    provider: dict[str, Any]  # the Stack's spec.provider after substitution
    variables: dict[str, str]
    services: dict[str, Service]
    components: dict[str, Component]  # in a stable order: by name
    graph: Graph
    layout: str
    files: tuple[str, ...]  # every file name of the upload, parsed or stored
    doc: Document | None = field(default=None, repr=False)  # the Stack document

    @property
    def region(self) -> str | None:
        region = self.provider.get("region")
        return region if isinstance(region, str) else None

    @property
    def account_id(self) -> str | None:
        account = self.provider.get("accountId")
        return str(account) if account is not None else None


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Everything validation found. ``stack`` is set whenever a Stack document was read,
    even with errors, so editors can still show the graph of what parsed."""

    findings: tuple[Finding, ...]
    stack: Stack | None

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_error)

    def as_dict(self) -> dict[str, Any]:
        stack = self.stack
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.as_dict() for f in self.findings],
            "stack": None
            if stack is None
            else {
                "name": stack.name,
                "layout": stack.layout,
                "region": stack.region,
                "services": {s.name: sorted(s.components) for s in stack.services.values()},
                "components": {
                    c.name: {
                        "kind": c.kind,
                        "service": c.service,
                        "level": stack.graph.levels.get(c.name),
                        "depends_on": sorted(c.depends_on),
                    }
                    for c in stack.components.values()
                },
                "order": list(stack.graph.order),
            },
        }


def sorted_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Errors first, then file/line/column; exact duplicates once."""
    return tuple(sorted(set(findings), key=lambda f: (*sort_key(f), f.message, f.path)))

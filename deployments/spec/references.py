"""References between components (format.md §4): resolved, checked, turned into edges.

Edges come from component ``dependsOn``, every reference the kind reports (valueFrom,
subscriptions, triggers, targets...), and service-level ``dependsOn``. Each edge keeps
the place it is written, so a cycle can be reported where it can be broken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import schema
from .findings import Finding
from .loader import Document, Path
from .model import Component, Service
from .suggest import did_you_mean
from .variables import render_path

# Secrets Manager: a name of 1-512 of these characters, or a secret's ARN.
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}"
)


@dataclass(frozen=True, slots=True)
class _CoreRef:
    """A ``dependsOn`` entry read by core itself, so the graph survives schema errors."""

    path: Path
    component: str
    output: str | None = None
    target_kinds: frozenset[str] | None = None


@dataclass(slots=True)
class Edges:
    deps: dict[str, set[str]] = field(default_factory=dict)  # component → its dependencies
    # The components, to find where an edge is written when a cycle needs it: looked up
    # again then rather than recorded for each of thousands of edges on every run.
    components: Mapping[str, Component] = field(default_factory=dict)
    # Service-level dependsOn: (service, service) → where it is written. One entry
    # stands for the edges between every component of the two services: a pair of
    # services of 20 components each makes 400 edges, and only a cycle needs a site.
    service_sites: dict[tuple[str, str], tuple[Document, Path]] = field(default_factory=dict)
    service_of: dict[str, str] = field(default_factory=dict)  # component → its service

    def site(self, a: str, b: str) -> tuple[Document, Path]:
        """Where the edge a → b is written: a component's own reference first, else the
        service-level dependsOn that made it."""
        component = self.components[a]
        for ref in _references(component):
            if ref.component == b:
                assert component.doc is not None
                return component.doc, ("spec", *ref.path)
        return self.service_sites[(self.service_of[a], self.service_of[b])]


def resolve(
    components: Mapping[str, Component],
    services: Mapping[str, Service],
    service_deps: Mapping[str, list[tuple[str, Document, Path]]],
    findings: list[Finding],
    *,
    partial: bool,
    unplaced: frozenset[str] = frozenset(),
) -> Edges:
    """Check every reference and return the edges.

    ``partial`` means some file could not be parsed: a missing name may live there, so
    unknown references are not reported (the syntax error is). ``unplaced`` names
    documents that exist but were already reported (e.g. an unknown kind).
    """
    edges = Edges({name: set() for name in components}, components)
    kinds = schema.kinds()
    for component in components.values():
        doc = component.doc
        assert doc is not None
        deps = edges.deps[component.name]
        for ref in _references(component):
            target = components.get(ref.component)
            if target is not None and target is not component:  # the common case first
                deps.add(target.name)
                if not target.deployable:
                    continue  # kind-not-deployable is reported on the target: no 2nd error
                if ref.target_kinds is not None and target.kind not in ref.target_kinds:
                    _report(
                        findings,
                        doc,
                        ("spec", *ref.path),
                        "wrong-reference-kind",
                        f"`{target.name}` is a {target.kind}; this reference needs a "
                        f"{' or '.join(sorted(ref.target_kinds))}",
                    )
                    continue
                if ref.output is not None:
                    _check_output(kinds, ref, target, doc, ("spec", *ref.path), findings)
                continue
            if target is not None:  # the component itself
                _report(
                    findings,
                    doc,
                    ("spec", *ref.path),
                    "self-dependency",
                    f"component `{component.name}` depends on itself",
                )
            elif not partial and ref.component not in unplaced:
                _report(
                    findings,
                    doc,
                    ("spec", *ref.path),
                    "unknown-reference",
                    _unknown_component(ref.component, components, services),
                )
        _check_secrets(component, findings)

    for service_name, entries in service_deps.items():
        for other, doc, path in entries:
            if other == service_name:
                _report(
                    findings,
                    doc,
                    path,
                    "self-dependency",
                    f"service '{service_name}' depends on itself",
                )
            elif other not in services:
                if not partial:
                    _report(
                        findings,
                        doc,
                        path,
                        "unknown-reference",
                        f"service `{other}` is not in the stack{did_you_mean(other, services)}",
                    )
            else:
                if (service_name, other) in edges.service_sites:
                    continue  # written twice: the first place stands, the edges exist
                edges.service_sites[(service_name, other)] = (doc, path)
                targets = services[other].components
                for a in services[service_name].components:
                    edges.service_of[a] = service_name
                    deps = edges.deps[a]
                    deps.update(targets)
                    if a in targets:  # never in a validated stack: a is in one service
                        deps.discard(a)
                for b in targets:
                    edges.service_of[b] = other
    return edges


def _references(component: Component) -> list[Any]:
    depends = component.spec.get("dependsOn") if isinstance(component.spec, dict) else None
    validated = component.validated
    if validated is not None:
        refs: list[Any] = validated.references()
        data = validated.data
        if not isinstance(depends, list) or (
            isinstance(data, dict) and data.get("dependsOn") is depends and "" not in depends
        ):
            return refs  # the kind listed every name of this very list: nothing to add
    else:
        refs = []
    seen = {(tuple(ref.path), ref.component) for ref in refs}
    if isinstance(depends, list):
        for i, name in enumerate(depends):
            if isinstance(name, str) and (("dependsOn", i), name) not in seen:
                refs.append(_CoreRef(("dependsOn", i), name))
    return refs


def _unknown_component(
    name: str, components: Mapping[str, Component], services: Mapping[str, Service]
) -> str:
    if name in services:
        return (
            f"`{name}` is a service, not a component; list it in the Service's "
            "spec.dependsOn to depend on all its components"
        )
    return f"component `{name}` is not in the stack{did_you_mean(name, components)}"


def _check_output(
    kinds: Any, ref: Any, target: Component, doc: Document, where: Path, findings: list[Finding]
) -> None:
    canonical = kinds.canonical_output(target.kind, ref.output)
    if canonical is None:
        names = kinds.all_outputs(target.kind)
        spellings = [*names, *(_camel(n) for n in names)]
        _report(
            findings,
            doc,
            _output_path(doc, where),
            "unknown-output",
            f"{target.kind} has no output `{ref.output}`"
            f"{did_you_mean(ref.output, spellings)}; outputs: {', '.join(names)}",
        )
    elif target.valid and canonical not in target.outputs():
        _report(
            findings,
            doc,
            _output_path(doc, where),
            "unknown-output",
            f"output `{ref.output}` of {target.kind} `{target.name}` is not available with "
            "its configuration (`dlq_*` needs a dead-letter queue, `stream_arn` a stream)",
        )


def _check_secrets(component: Component, findings: list[Finding]) -> None:
    """Secret references must be a Secrets Manager name or ARN (never a value)."""
    spec = component.spec
    if not isinstance(spec, dict):
        return
    sites: list[tuple[Path, Any]] = []
    secrets = spec.get("secrets")
    if isinstance(secrets, list):
        sites += [
            (("secrets", i, "secretRef"), s["secretRef"])
            for i, s in enumerate(secrets)
            if isinstance(s, dict) and "secretRef" in s
        ]
    database = spec.get("database")
    if (
        isinstance(database, dict)
        and isinstance(database.get("passwordSecret"), dict)
        and "ref" in database["passwordSecret"]
    ):
        sites.append((("database", "passwordSecret", "ref"), database["passwordSecret"]["ref"]))
    if not sites:
        return
    reported = schema.issue_paths(component.validated)
    for path, value in sites:
        if path in reported:
            continue  # the schema already said what is wrong here
        if not isinstance(value, str) or not value.strip():
            problem = "must be a non-empty Secrets Manager secret name or ARN"
        elif not (_SECRET_NAME.fullmatch(value) or _SECRET_ARN.fullmatch(value)):
            problem = (
                f"`{value[:80]}` is not a Secrets Manager secret name (letters, digits "
                "and /_+=.@-, at most 512) or ARN"
            )
        else:
            continue
        assert component.doc is not None
        _report(
            findings,
            component.doc,
            ("spec", *path),
            "invalid-secret-ref",
            f"{render_path(path)} {problem}",
        )


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


def _output_path(doc: Document, where: Path) -> Path:
    """Point at the ``output`` key next to the reference when it is written there."""
    base = where[:-1] if where and where[-1] == "component" else where
    return base + ("output",) if base + ("output",) in doc.values else where


def _report(findings: list[Finding], doc: Document, path: Path, code: str, message: str) -> None:
    line, col = doc.position(path)
    findings.append(Finding("error", code, message, doc.file, line, col, render_path(path)))

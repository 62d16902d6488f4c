"""Validation end to end: files → findings and a resolved stack (format.md §5).

The layers run in order and each reports everything it finds: YAML and limits, the
envelope, the stack structure, variables, the kinds' schemas, references and the graph,
then the tenant's guardrails. Nothing here raises on bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import gcpause, limits, schema, suggest
from .envelope import NOT_DEPLOYABLE_KINDS, STRUCTURAL_KINDS, Envelope, check_envelope, name_problem
from .findings import Finding
from .graph import build_graph
from .layout import Layout, normalise, plan_layout
from .loader import Document, LoadedFile, NodeBudget, load_file
from .model import Component, Service, Stack, ValidationResult, sorted_findings
from .policy import TenantPolicy
from .references import resolve
from .variables import Declaration, Variables, declarations, render_path


def validate(
    files: Mapping[str, str | bytes],
    *,
    overrides: Mapping[str, str] | None = None,
    policy: TenantPolicy | None = None,
    tenant: str | None = None,
) -> ValidationResult:
    """Validate a stack given as ``{path: text}`` (folder layout, single file, or both).

    ``overrides`` are deploy-time variables (``NAME`` or ``service.NAME``); ``tenant`` is
    the tenant the stack is uploaded to (checked against the Stack's metadata.tenant).
    """
    with suggest.limited(), gcpause.paused():
        return _Validation(files, overrides or {}, policy, tenant).run()


@dataclass(slots=True)
class _Placed:
    """A component document with its envelope and the folder it came from."""

    env: Envelope
    folder: str | None


@dataclass
class _Validation:
    raw_files: Mapping[str, str | bytes]
    overrides: Mapping[str, str]
    policy: TenantPolicy | None
    tenant: str | None
    findings: list[Finding] = field(default_factory=list)
    partial: bool = False  # a file could not be fully parsed

    def run(self) -> ValidationResult:
        files = {normalise(name): raw for name, raw in self.raw_files.items()}
        if not self._within_stack_limits(files):
            return ValidationResult(sorted_findings(self.findings), None)
        layout = plan_layout(files)
        for name in layout.ignored:
            self.findings.append(
                Finding(
                    "warning",
                    "ignored-file",
                    "this YAML file is outside "
                    "the stack layout (stack.yaml, services/<service>/"
                    "*.yaml) and is not read",
                    name,
                    1,
                    1,
                )
            )
        loaded = self._load(files, layout)
        stack = self._assemble(loaded, layout, tuple(sorted(files)))
        if stack is not None and self.policy is not None:
            self.findings.extend(self.policy.check(stack))
        return ValidationResult(sorted_findings(_without_cascades(self.findings)), stack)

    # -- layer 1: limits and YAML -----------------------------------------------------

    def _within_stack_limits(self, files: Mapping[str, str | bytes]) -> bool:
        """The whole-upload limits; over them nothing is parsed (format.md §7)."""
        if len(files) > limits.MAX_FILES:
            self.findings.append(
                Finding(
                    "error",
                    "too-large",
                    f"the stack has {len(files)} files; the limit is {limits.MAX_FILES}",
                )
            )
            return False
        sizes = {name: len(raw) for name, raw in files.items()}
        if sum(sizes.values()) * 4 > limits.MAX_STACK_BYTES:  # exact UTF-8 size only if close
            sizes = {
                name: len(raw)
                if isinstance(raw, bytes)
                else len(raw.encode("utf-8", "surrogatepass"))
                for name, raw in files.items()
            }
        total = sum(sizes.values())
        if total <= limits.MAX_STACK_BYTES:
            return True
        # Name the files that break the per-file limit too: usually one is the culprit.
        for name, size in sorted(sizes.items()):
            if size > limits.MAX_FILE_BYTES:
                self.findings.append(
                    Finding(
                        "error",
                        "too-large",
                        f"the file is {size:,} bytes; "
                        f"the limit is {limits.MAX_FILE_BYTES:,} per file",
                        name,
                        1,
                        1,
                    )
                )
        biggest = max(sizes, key=lambda n: (sizes[n], n))
        self.findings.append(
            Finding(
                "error",
                "too-large",
                f"the stack is {total:,} bytes; the limit is {limits.MAX_STACK_BYTES:,} per stack",
                biggest,
                1,
                1,
            )
        )
        return False

    def _load(
        self, files: Mapping[str, str | bytes], layout: Layout
    ) -> list[tuple[LoadedFile, str | None]]:
        budget = NodeBudget()
        loaded = []
        for source in layout.parsed:
            result = load_file(source.name, files[source.name], budget)
            self.findings.extend(result.findings)
            self.partial |= result.incomplete
            loaded.append((result, source.service))
        return loaded

    # -- layers 2 and 3: envelope, structure, variables, schema, references -----------

    def _assemble(
        self, loaded: list[tuple[LoadedFile, str | None]], layout: Layout, names: tuple[str, ...]
    ) -> Stack | None:
        kinds = schema.kinds()
        known = frozenset(kinds.KIND_NAMES) | NOT_DEPLOYABLE_KINDS | frozenset(STRUCTURAL_KINDS)
        stacks: list[Envelope] = []
        service_envs: list[tuple[Envelope, str | None]] = []
        placed: list[_Placed] = []
        unplaced: set[str] = set()  # names of documents that could not be placed
        for file, folder in loaded:
            for doc in file.documents:
                env = check_envelope(doc, known, self.findings)
                if env is None:
                    unplaced.add(_written_name(doc))
                    continue
                if env.kind == "Stack":
                    stacks.append(env)
                elif env.kind == "Service":
                    service_envs.append((env, folder))
                else:
                    placed.append(_Placed(env, folder))

        stack_env = self._the_stack(stacks, loaded)
        stack_name = stack_env.name if stack_env else None
        for env in [*stacks[:1], *(e for e, _ in service_envs), *(p.env for p in placed)]:
            self._check_membership(env, stack_name)

        services = self._services(service_envs, placed, layout, loaded)
        components = self._components(placed, services)

        # Variables: declared by the Stack and the Services, resolved per scope.
        stack_vars = declarations(stack_env.doc, stack_env.spec) if stack_env else {}
        service_vars: dict[str, dict[str, Declaration]] = {name: {} for name in services}
        for env, _ in service_envs:
            if env.name in services and services[env.name].doc is env.doc:
                service_vars[env.name] = declarations(env.doc, env.spec)
        variables = Variables(stack_vars, service_vars, self.overrides)

        provider: dict[str, Any] = {}
        if stack_env is not None:
            spec = variables.substitute(
                stack_env.doc,
                ("spec",),
                None,
                self.findings,
                skip=("spec", "variables"),
                missing=stack_env.spec,
            )
            schema.validate_spec("Stack", spec, stack_env.doc, self.findings)
            provider = spec.get("provider") if isinstance(spec.get("provider"), dict) else {}
        service_deps = {}
        for env, _ in service_envs:
            if services.get(env.name) is None or services[env.name].doc is not env.doc:
                continue  # a duplicate or a misplaced Service, already reported
            spec = variables.substitute(
                env.doc,
                ("spec",),
                env.name,
                self.findings,
                skip=("spec", "variables"),
                missing=env.spec,
            )
            schema.validate_spec("Service", spec, env.doc, self.findings)
            service_deps[env.name] = _service_depends(env.doc, spec)
            services[env.name].depends_on = tuple(n for n, _, _ in service_deps[env.name])

        deployable = frozenset(kinds.DEPLOYABLE_KINDS)
        schema_kinds = frozenset(kinds.KIND_NAMES)
        for component in components.values():
            self._resolve_component(component, variables, deployable)
        # The kinds' schemas, one kind after the other (by name within a kind): running
        # one schema many times in a row keeps its validators in the CPU's caches, which
        # makes pydantic a quarter faster than alternating kinds in name order.
        for component in sorted(components.values(), key=_kind_of):
            if component.kind in schema_kinds:
                assert component.doc is not None
                component.validated = schema.validate_spec(
                    component.kind, component.spec, component.doc, self.findings
                )

        # A reference to a document that is already an error (unknown kind, broken
        # envelope) would only repeat that error.
        edges = resolve(
            components,
            services,
            service_deps,
            self.findings,
            partial=self.partial,
            unplaced=frozenset(unplaced),
        )
        graph = build_graph(edges.deps)
        for loop in graph.cycles:
            doc, path = edges.site(loop[0], loop[1])
            line, col = doc.position(path)
            self.findings.append(
                Finding(
                    "error",
                    "dependency-cycle",
                    "dependency cycle: " + " → ".join(loop),
                    doc.file,
                    line,
                    col,
                    render_path(path),
                )
            )
        for name, component in components.items():
            component.depends_on = frozenset(graph.deps[name])

        if not self.partial:  # a use may sit in the part that did not parse
            self.findings.extend(variables.unused())
        if stack_env is None:
            return None
        return Stack(
            name=stack_env.name,
            tenant=stack_env.tenant,
            description=stack_env.description,
            labels=stack_env.labels,
            provider=provider,
            variables={k: d.value for k, d in stack_vars.items()},
            services=services,
            components=components,
            graph=graph,
            layout=layout.kind,
            files=names,
            doc=stack_env.doc,
        )

    def _the_stack(
        self, stacks: list[Envelope], loaded: list[tuple[LoadedFile, str | None]]
    ) -> Envelope | None:
        if not stacks:
            if not self.partial:  # it may be in the part that did not parse
                first = loaded[0][0].name if loaded else ""
                self.findings.append(
                    Finding(
                        "error",
                        "missing-stack",
                        "no Stack document: a stack needs exactly one (kind: Stack)",
                        first,
                        1 if first else 0,
                        1 if first else 0,
                    )
                )
            return None
        for extra in stacks[1:]:
            self._at(
                extra.doc,
                ("kind",),
                "multiple-stacks",
                f"a second Stack document "
                f"(`{extra.name}`); the stack is `{stacks[0].name}` from "
                f"{stacks[0].doc.file}",
            )
        first = stacks[0]
        if self.tenant is not None and first.tenant is not None and first.tenant != self.tenant:
            self._at(
                first.doc,
                ("metadata", "tenant"),
                "tenant-mismatch",
                f"the Stack names tenant `{first.tenant}` but is uploaded to `{self.tenant}`",
            )
        return first

    def _check_membership(self, env: Envelope, stack_name: str | None) -> None:
        if (
            env.stack is not None
            and stack_name is not None
            and env.stack != stack_name
            and env.kind != "Stack"
        ):
            self._at(
                env.doc,
                ("metadata", "stack"),
                "stack-mismatch",
                f"metadata.stack is `{env.stack}` but the stack is `{stack_name}`",
            )

    def _services(
        self,
        service_envs: list[tuple[Envelope, str | None]],
        placed: list[_Placed],
        layout: Layout,
        loaded: list[tuple[LoadedFile, str | None]],
    ) -> dict[str, Service]:
        services: dict[str, Service] = {}
        for env, folder in service_envs:
            if folder is not None and env.name != folder:
                self._at(
                    env.doc,
                    ("metadata", "name"),
                    "service-mismatch",
                    f"Service `{env.name}` is in the folder of service `{folder}`",
                )
                continue
            if env.name in services:
                first = services[env.name]
                self._at(
                    env.doc,
                    ("metadata", "name"),
                    "duplicate-name",
                    f"service `{env.name}` is already defined in {first.file}:"
                    f"{first.doc.position(('metadata', 'name'))[0] if first.doc else 1}",
                )
                continue
            services[env.name] = Service(
                env.name, env.doc.file, True, env.description, env.labels, doc=env.doc
            )
        # Implied services: a folder without service.yaml, or a service named by components.
        for folder in sorted(layout.service_folders):
            if folder not in services:
                self._implied_service_name(folder, loaded)
                services[folder] = Service(folder, f"{layout.root}services/{folder}/", False)
        for p in placed:
            name = p.env.service or p.folder
            if name is not None and name not in services:
                services[name] = Service(name, p.env.doc.file, False)
        return dict(sorted(services.items()))

    def _implied_service_name(
        self, folder: str, loaded: list[tuple[LoadedFile, str | None]]
    ) -> None:
        problem = name_problem(folder)
        if problem is None:
            return
        for file, service in loaded:
            if service == folder:
                self.findings.append(
                    Finding(
                        "error",
                        "invalid-name",
                        f"service folder `{folder}` {problem}",
                        file.name,
                        1,
                        1,
                    )
                )
                return

    def _components(
        self, placed: list[_Placed], services: dict[str, Service]
    ) -> dict[str, Component]:
        components: dict[str, Component] = {}
        for p in placed:
            env = p.env
            service = env.service
            if p.folder is not None and service is not None and service != p.folder:
                self._at(
                    env.doc,
                    ("metadata", "service"),
                    "service-mismatch",
                    f"metadata.service is `{service}` but the file is in services/{p.folder}/",
                )
                service = p.folder
            service = service or p.folder
            if service is None:
                self._at(
                    env.doc,
                    ("metadata",),
                    "missing-service",
                    f"component `{env.name}` "
                    "names no service: set metadata.service (or put the file in "
                    "services/<service>/)",
                    key=True,
                )
                continue
            if env.name in components:
                first = components[env.name]
                self._at(
                    env.doc,
                    ("metadata", "name"),
                    "duplicate-name",
                    f"component `{env.name}` is already defined in {first.file}:{first.line}",
                )
                continue
            components[env.name] = Component(
                name=env.name,
                kind=env.kind,
                service=service,
                file=env.doc.file,
                spec=env.spec,
                labels=env.labels,
                annotations=env.annotations,
                description=env.description,
                deployable=False,
                doc=env.doc,
            )
            services[service].components.append(env.name)
        for service in services.values():
            service.components.sort()
            if not service.components:
                self._empty_service(service)
        return dict(sorted(components.items()))

    def _empty_service(self, service: Service) -> None:
        line, col = service.doc.position(("metadata", "name")) if service.doc else (1, 1)
        self.findings.append(
            Finding(
                "warning",
                "empty-service",
                f"service '{service.name}' has no components",
                service.file,
                line,
                col,
                "metadata.name" if service.doc else "",
            )
        )

    def _resolve_component(
        self,
        component: Component,
        variables: Variables,
        deployable: frozenset[str],
    ) -> None:
        doc = component.doc
        assert doc is not None
        component.spec = variables.substitute(
            doc, ("spec",), component.service, self.findings, missing=component.spec
        )
        for attr in ("labels", "annotations"):
            values: dict[str, str] = getattr(component, attr)
            for key, text in values.items():
                if "${" in text:
                    values[key] = variables.expand(
                        text, doc, ("metadata", attr, key), component.service, self.findings
                    )
        if "${" in component.description:
            component.description = variables.expand(
                component.description,
                doc,
                ("metadata", "description"),
                component.service,
                self.findings,
            )
        component.deployable = component.kind in deployable
        if not component.deployable:
            self._at(
                doc,
                ("kind",),
                "kind-not-deployable",
                f"kind {component.kind} is "
                "recognised but cannot be deployed by this version of Panka Web",
            )

    def _at(
        self, doc: Document, path: tuple[str, ...], code: str, message: str, *, key: bool = False
    ) -> None:
        line, col = doc.position(path, key=key)
        self.findings.append(Finding("error", code, message, doc.file, line, col, ".".join(path)))


def _kind_of(component: Component) -> str:
    return component.kind


def _written_name(doc: Document) -> str:
    meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def _service_depends(doc: Document, spec: Any) -> list[tuple[str, Document, tuple[Any, ...]]]:
    """A Service's ``spec.dependsOn`` names with where each is written."""
    names = spec.get("dependsOn") if isinstance(spec, dict) else None
    if not isinstance(names, list):
        return []
    return [(n, doc, ("spec", "dependsOn", i)) for i, n in enumerate(names) if isinstance(n, str)]


# Schema codes that only restate an unresolved variable: `replicas: ${NOPE}` is first of
# all an undefined variable, and "must be a whole number (got '${NOPE}')" on the same
# field would send the reader after the wrong problem.
_CASCADE_CODES = frozenset({"invalid-type", "invalid-value"})


def _without_cascades(findings: list[Finding]) -> list[Finding]:
    unresolved = {(f.file, f.path) for f in findings if f.code == "unresolved-variable"}
    if not unresolved:
        return findings
    return [
        f for f in findings if not (f.code in _CASCADE_CODES and (f.file, f.path) in unresolved)
    ]

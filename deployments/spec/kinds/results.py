"""What validating one ``spec:`` gives core: issues, references, outputs and a config.

These shapes are fixed by ``spec_contract.md``; core converts a :class:`SpecIssue` into a
``Finding`` by prefixing ``("spec",)`` to its path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SpecIssue:
    severity: Literal["error", "warning"]
    code: str
    path: Path  # relative to ``spec:``; for a missing field, the parent mapping's path
    message: str


@dataclass(frozen=True, slots=True)
class Ref:
    path: Path  # where the component name is written, relative to ``spec:``
    component: str
    output: str | None  # the output as written (valueFrom), or one the edge needs
    target_kinds: frozenset[str] | None  # kinds the target must be; None = any


@dataclass(frozen=True)
class KindDef:
    """Everything the package knows about one kind, beyond its pydantic model."""

    name: str
    model: type
    outputs: tuple[str, ...] = ()  # canonical snake_case names, in kinds.md order
    extra_aliases: dict[str, str] = field(default_factory=dict)  # e.g. function_arn -> arn
    available: Callable[[Any], frozenset[str]] | None = None  # None: every output, always
    refs: Callable[[dict], list[Ref]] | None = None  # edges beyond dependsOn (raw data)
    replace: Callable[[dict, dict], str | None] | None = None
    downgrade: Callable[[dict, dict], str | None] | None = None
    # Whether a config (json dump of the spec) places the resource in the tenant's
    # network, or the default VPC without one (kinds.md, Shared plumbing: Network).
    in_network: Callable[[dict], bool] | None = None
    deployable: bool = True
    loose: bool = False  # recognised-only kinds: no unknown-field warnings
    component: bool = True  # False for Stack and Service


@dataclass(frozen=True, slots=True)
class ValidatedSpec:
    """One validated ``spec:``. Treat ``model`` as read-only: sections left out of a spec
    share one default instance across validations (common.section)."""

    kind: str
    model: object | None  # the pydantic model; None when there were errors
    issues: list[SpecIssue]
    # Not part of the contract's constructor: the (cleaned) input and the kind's record,
    # so references can still be listed for a spec with errors.
    data: object = field(default=None, repr=False, compare=False)
    definition: KindDef | None = field(default=None, repr=False, compare=False)

    def references(self) -> list[Ref]:
        """dependsOn entries (output None), then every other edge-making field."""
        data = self.data
        if not isinstance(data, dict) or self.definition is None:
            return []
        refs: list[Ref] = []
        depends = data.get("dependsOn")
        if isinstance(depends, list):
            # Service.dependsOn names services, not components; the target kind says so.
            targets = None if self.definition.component else frozenset({"Service"})
            for i, name in enumerate(depends):
                if isinstance(name, str) and name:
                    refs.append(Ref(("dependsOn", i), name, None, targets))
        if self.definition.refs is not None:
            refs.extend(self.definition.refs(data))
        return refs

    def outputs(self) -> frozenset[str]:
        """Canonical outputs this configuration has. A spec with errors claims all of its
        kind's outputs, so one broken component does not cause a second error at every
        reader of it."""
        d = self.definition
        if d is None:
            return frozenset()
        if self.model is None or d.available is None:
            return frozenset(d.outputs)
        return d.available(self.model)

    def config(self) -> dict:
        """Normalised desired configuration (JSON-able, defaults filled, NA fields and
        dependsOn excluded). ``{}`` for a spec with errors, which can never be planned."""
        if self.model is None or self.definition is None or self.definition.loose:
            return {}
        # model_dump(mode="json", by_alias=True), minus its Python wrapper: that passes
        # all fifteen options on every call, which costs a fifth of dumping a small spec.
        model: Any = self.model
        config = model.__pydantic_serializer__.to_python(model, mode="json", by_alias=True)
        if "tags" in config:  # inherited, so dumped first; read better after the kind's own fields
            config["tags"] = config.pop("tags")
        return config

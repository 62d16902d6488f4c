"""The envelope every document shares (format.md §1): apiVersion, kind, metadata, spec.

Checked before any schema: the kind decides which schema runs, and metadata decides
where the document belongs in the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding
from .loader import Document
from .suggest import did_you_mean

API_VERSIONS = frozenset({
    "core.panka.io/v1", "components.panka.io/v1", "infra.panka.io/v1", "panka.io/v1",
    "panka.dev/v1",
})  # fmt: skip

STRUCTURAL_KINDS = ("Stack", "Service")

# kinds.md "Kinds recognised but not deployable in this version": their envelope is
# checked, then `kind-not-deployable`. The kinds package only has schemas for the ones
# it can validate (DocumentDB); these have none.
NOT_DEPLOYABLE_KINDS = frozenset({
    "DocumentDB", "MSK", "Kafka", "EFS", "EBS", "ALB", "NLB", "CloudFront", "APIGateway",
    "ElastiCacheMemcached", "MemoryDB", "ComponentInfra", "InfraDefaults", "Networking",
    "Security", "Observability",
})  # fmt: skip

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,62}")
_TOP_KEYS = ("apiVersion", "kind", "metadata", "spec")
_METADATA_KEYS = ("name", "service", "stack", "tenant", "description", "labels", "annotations")
# The same as sets: one C-level subset test instead of a lookup per key, when all is known.
_TOP_SET = frozenset(_TOP_KEYS)
_METADATA_SET = frozenset(_METADATA_KEYS)


@dataclass(slots=True)
class Envelope:
    """A document whose envelope is usable: it can be placed in the stack."""

    doc: Document
    kind: str
    name: str
    service: str | None
    stack: str | None
    tenant: str | None
    description: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    spec: Any = None


def name_problem(name: str) -> str | None:
    """Why ``name`` breaks the name rule, or None."""
    if not NAME_RE.fullmatch(name):
        return (
            "must be 1-63 characters of lowercase letters, digits and '-', starting with a letter"
        )
    if name.endswith("-"):
        return "must not end with '-'"
    return None


def check_envelope(
    doc: Document, known_kinds: frozenset[str], findings: list[Finding]
) -> Envelope | None:
    """The document's envelope, or None when it cannot be placed in the stack.

    An unknown kind still returns None after its finding: we cannot know its schema, its
    outputs or whether it is a component at all.
    """

    def report(
        code: str,
        message: str,
        path: tuple[str, ...],
        *,
        key: bool = False,
        severity: str = "error",
    ) -> None:
        line, col = doc.position(path, key=key)
        findings.append(
            Finding(
                severity,
                code,
                message,
                doc.file,
                line,
                col,  # type: ignore[arg-type]
                ".".join(path),
            )
        )

    data = doc.data
    if not isinstance(data, dict):
        report(
            "invalid-envelope",
            "a document must be a mapping with apiVersion, kind, metadata and spec",
            (),
        )
        return None
    for key in () if data.keys() <= _TOP_SET else data:
        if key not in _TOP_KEYS:
            report(
                "unknown-field",
                f"unknown field `{key}`{did_you_mean(key, _TOP_KEYS)}",
                (key,),
                key=True,
                severity="warning",
            )

    api = data.get("apiVersion")
    if api is None:
        report("invalid-envelope", "missing `apiVersion`", ())
    elif api not in API_VERSIONS:
        report(
            "invalid-api-version",
            f"apiVersion `{api}` is not supported"
            f"{did_you_mean(str(api), API_VERSIONS)}; use one of "
            f"{', '.join(sorted(API_VERSIONS))}",
            ("apiVersion",),
        )

    kind = data.get("kind")
    usable = True
    if not isinstance(kind, str) or not kind:
        report(
            "invalid-envelope",
            "missing `kind`" if kind is None else "`kind` must be a string",
            ("kind",) if "kind" in data else (),
        )
        usable = False
    elif kind not in known_kinds:
        deployable = sorted(known_kinds - NOT_DEPLOYABLE_KINDS)
        report(
            "unknown-kind",
            f"unknown kind `{kind}`{did_you_mean(kind, known_kinds)}; "
            f"supported kinds: {', '.join(deployable)}",
            ("kind",),
        )
        usable = False

    meta = data.get("metadata")
    if not isinstance(meta, dict):
        report(
            "invalid-envelope",
            "missing `metadata`" if meta is None else "`metadata` must be a mapping",
            ("metadata",) if "metadata" in data else (),
        )
        return None
    for key in () if meta.keys() <= _METADATA_SET else meta:
        if key not in _METADATA_KEYS:
            report(
                "unknown-field",
                f"unknown field `metadata.{key}`{did_you_mean(key, _METADATA_KEYS)}",
                ("metadata", key),
                key=True,
                severity="warning",
            )

    name = meta.get("name")
    if name is None:
        report("invalid-envelope", "missing `metadata.name`", ("metadata",), key=True)
        usable = False
    elif not isinstance(name, str):
        report("invalid-name", f"name `{name}` must be a string", ("metadata", "name"))
        usable = False
    elif problem := name_problem(name):
        report("invalid-name", f"name `{name}` {problem}", ("metadata", "name"))
        # Still usable: references to it resolve, which avoids a cascade of errors.

    texts: dict[str, str | None] = {}
    for key in ("service", "stack", "tenant", "description"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            report("invalid-envelope", f"`metadata.{key}` must be a string", ("metadata", key))
            value = None
        texts[key] = value

    # Most documents have neither: the call is only made for a map that is there.
    labels = _string_map(doc, meta, "labels", report) if "labels" in meta else {}
    annotations = _string_map(doc, meta, "annotations", report) if "annotations" in meta else {}

    spec = data.get("spec")
    if spec is None:
        spec = {}
    elif not isinstance(spec, dict):
        report("invalid-envelope", "`spec` must be a mapping", ("spec",))
        usable = False

    if not usable:
        return None
    return Envelope(
        doc,
        kind,
        name,
        texts["service"],
        texts["stack"],
        texts["tenant"],  # type: ignore[arg-type]
        texts["description"] or "",
        labels,
        annotations,
        spec,
    )


def _string_map(doc: Document, meta: dict[str, Any], key: str, report: Any) -> dict[str, str]:
    """labels/annotations: string → string; YAML numbers and booleans become their text."""
    value = meta.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        report(
            "invalid-envelope",
            f"`metadata.{key}` must be a map of string to string",
            ("metadata", key),
        )
        return {}
    result: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, str):
            result[k] = v
        elif v is None:
            result[k] = ""
        elif isinstance(v, (bool, int, float)):
            result[k] = doc.texts.get(("metadata", key, k), str(v))
        else:
            report(
                "invalid-envelope", f"`metadata.{key}.{k}` must be a string", ("metadata", key, k)
            )
    return result

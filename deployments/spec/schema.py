"""The seam to the per-kind schemas in ``deployments.spec.kinds`` (spec_contract.md).

Core only talks to kinds through this module: it maps a SpecIssue's path (relative to
``spec:``) to a file/line/column, and it lets tests swap in a small fake kinds module.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from .findings import Finding
from .loader import Document
from .variables import render_path

log = logging.getLogger(__name__)

_override: ModuleType | None = None
_loaded: ModuleType | None = None

# Codes about a field rather than its value point at the key: an unknown or forbidden
# field is the key itself, and a missing field is reported on its parent mapping, whose
# key is what readers scan for.
_KEY_CODES = frozenset({"unknown-field", "missing-field", "field-not-allowed"})


def kinds() -> ModuleType:
    """The kinds module in use (imported lazily: it is written in parallel)."""
    global _loaded
    if _override is not None:
        return _override
    if _loaded is None:
        _loaded = importlib.import_module("deployments.spec.kinds")
    return _loaded


@contextmanager
def using_kinds(module: ModuleType) -> Iterator[None]:
    """Run validation against another kinds module (tests)."""
    global _override
    previous, _override = _override, module
    try:
        yield
    finally:
        _override = previous


def validate_spec(kind: str, spec: Any, doc: Document, findings: list[Finding]) -> Any:
    """Run the kind's schema on a substituted spec; its issues become positioned findings."""
    try:
        validated = kinds().validate_spec(kind, spec, nulls=doc.nulls)
    except Exception:  # a schema bug must not turn a validation into a 500
        log.exception("kinds.validate_spec(%r) raised", kind)
        line, col = doc.position(("spec",), key=True)
        findings.append(
            Finding(
                "error",
                "internal-error",
                f"the {kind} schema check failed unexpectedly; this is a bug in Panka Web",
                doc.file,
                line,
                col,
                "spec",
            )
        )
        return None
    for issue in validated.issues:
        findings.append(issue_finding(issue, doc))
    return validated


def issue_finding(issue: Any, doc: Document) -> Finding:
    path = ("spec", *issue.path)
    line, col = doc.position(path, key=issue.code in _KEY_CODES)
    return Finding(
        issue.severity, issue.code, issue.message, doc.file, line, col, render_path(path)
    )


def issue_paths(validated: Any) -> set[tuple[Any, ...]]:
    """Paths (relative to spec) where the schema already reported something."""
    return {tuple(i.path) for i in validated.issues} if validated is not None else set()

"""Checks of a validated stack against what the caller already knows about it."""

from __future__ import annotations

from dataclasses import replace

from .findings import Finding
from .model import ValidationResult, sorted_findings


def expect_stack_name(result: ValidationResult, name: str) -> ValidationResult:
    """``result`` with a ``stack-name-mismatch`` error when the Stack document is not named
    ``name`` (a stack's name is part of every AWS name and of its state's S3 key, so a
    revision cannot rename it)."""
    stack = result.stack
    if stack is None or stack.name == name or stack.doc is None:
        return result
    line, column = stack.doc.position(("metadata", "name"))
    mismatch = Finding(
        "error",
        "stack-name-mismatch",
        f"metadata.name is `{stack.name}` but this stack is `{name}`",
        stack.doc.file,
        line,
        column,
        "metadata.name",
    )
    return replace(result, findings=sorted_findings([*result.findings, mismatch]))

"""Helpers for the format engine's tests: a fake kinds module and small stack builders."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from deployments.spec import schema
from deployments.spec.findings import Finding
from deployments.spec.model import ValidationResult

from . import fakekinds

STACK = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: shop
spec:
  provider:
    name: aws
    region: us-east-1
"""


@pytest.fixture
def fake_kinds() -> Iterator[None]:
    """Run core against the contract-shaped fake instead of the real schemas."""
    with schema.using_kinds(fakekinds):
        yield


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def component(
    name: str, kind: str = "SQS", *, service: str | None = "web", spec: str = "{}", meta: str = ""
) -> str:
    """One component document; ``spec`` is YAML indented under ``spec:``."""
    service_line = f"  service: {service}\n" if service else ""
    body = textwrap.indent(dedent(spec), "  ") if spec != "{}" else "  {}\n"
    if spec == "{}":
        return (
            f"apiVersion: components.panka.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
            f"{service_line}{meta}spec: {{}}\n"
        )
    return (
        f"apiVersion: components.panka.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
        f"{service_line}{meta}spec:\n{body}"
    )


def single(*docs: str, stack: str = STACK) -> dict[str, str]:
    """A single-file stack: the Stack document then ``docs``."""
    return {"stack.yaml": "---\n".join([stack, *docs])}


def only(result: ValidationResult, code: str) -> Finding:
    """The one finding with ``code`` (fails listing everything otherwise)."""
    matches = [f for f in result.findings if f.code == code]
    assert len(matches) == 1, f"expected one {code}, got: {result.findings}"
    return matches[0]


def codes(result: ValidationResult) -> set[str]:
    return {f.code for f in result.findings}


def at(finding: Finding) -> tuple[str, int, int]:
    return finding.file, finding.line, finding.column

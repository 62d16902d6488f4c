"""Validation findings: the one shape every layer of the format engine reports in.

A finding points at a file, a 1-based line and column, and a dotted path inside the
document (``spec.environment[1].value``). ``code`` is a stable identifier; every code
is listed in ``CODES`` with a one-line meaning, and ``docs/finding-codes.md`` is
generated from that table, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    code: str
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    path: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_text(self) -> str:
        """``file:line:col: severity code: message`` — the CLI's text format."""
        return f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def sort_key(f: Finding) -> tuple[int, str, int, int, str]:
    """Errors first, then by position: the order every page and the CLI show."""
    return (0 if f.is_error else 1, f.file, f.line, f.column, f.code)

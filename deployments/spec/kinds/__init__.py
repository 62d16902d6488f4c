"""Kind schemas of the Panka stack format: the ``spec:`` of every kind in kinds.md.

Plain Python + pydantic v2 (no Django, no boto3). The interface is fixed by
``spec_contract.md``; core calls :func:`validate_spec` once per document.
"""

from .codes import KIND_CODES
from .registry import (
    DEPLOYABLE_KINDS,
    KIND_NAMES,
    all_outputs,
    canonical_output,
    in_network,
    replace_reason,
    validate_spec,
    version_downgrade,
)
from .results import Path, Ref, SpecIssue, ValidatedSpec

__all__ = [
    "DEPLOYABLE_KINDS",
    "KIND_CODES",
    "KIND_NAMES",
    "Path",
    "Ref",
    "SpecIssue",
    "ValidatedSpec",
    "all_outputs",
    "canonical_output",
    "in_network",
    "replace_reason",
    "validate_spec",
    "version_downgrade",
]

"""Every finding code the kind schemas emit, with its one-line meaning.

Core merges this table into the project's code registry; a code is never renamed.
"""

from __future__ import annotations

KIND_CODES: dict[str, str] = {
    "missing-field": "A required field is absent; the finding points at its parent mapping.",
    "invalid-type": "A value has the wrong type (text where a number, list or mapping is needed).",
    "invalid-value": "A value is outside its allowed values, range or syntax.",
    "invalid-combination": (
        "Fields that conflict or need each other: Fargate cpu/memory, exactly-one-of, "
        "fifo-only fields, a key only valid with another setting."
    ),
    "duplicate-entry": "A list repeats a name or id that must be unique within it.",
    "field-not-allowed": "A field this kind forbids, e.g. `ports` on a Worker.",
    "not-deployable": (
        "A recognised value this version cannot deploy (provider azure/gcp, "
        "runtime.platform ec2/lambda)."
    ),
    "unknown-field": "A field that is not in the schema; it is ignored (warning).",
    "not-applied": "A field or value that is accepted and stored but not applied (warning).",
    "spec-check-failed": "The schema check itself failed on this input (a bug; please report).",
}

"""Every finding code the format engine can emit: the one registry the docs come from.

Codes are stable identifiers: pages, the CLI's JSON and saved revisions store them, so a
code is never renamed or reused for another meaning. ``docs/finding-codes.md`` is
generated from :data:`CODES` (``python -m deployments.spec codes > docs/finding-codes.md``)
and a test fails when the file is out of date.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    severity: str  # "error" or "warning": what the engine reports it as
    layer: str  # which validation layer emits it (format.md §5), for the docs
    meaning: str


def _c(severity: str, layer: str, meaning: str) -> Code:
    return Code(severity, layer, meaning)


E, W = "error", "warning"

CORE_CODES: dict[str, Code] = {
    # Layer 1: YAML and limits (format.md §7).
    "yaml-syntax": _c(E, "yaml", "The YAML could not be parsed; the rest of that file is skipped."),
    "duplicate-key": _c(E, "yaml", "A mapping has the same key twice."),
    "unsafe-tag": _c(
        E, "yaml", "A tag outside the safe set (e.g. `!!python/...` or a local `!tag`)."
    ),
    "invalid-key": _c(E, "yaml", "A mapping key is a mapping or a list; keys must be scalars."),
    "number-out-of-range": _c(E, "yaml", "An integer literal too long to be a 64-bit number."),
    "too-large": _c(E, "yaml", "A file over 256 KiB, a stack over 2 MiB or more than 200 files."),
    "too-deep": _c(E, "yaml", "A document nested deeper than 64 levels (aliases expanded)."),
    "too-many-nodes": _c(
        E,
        "yaml",
        "A document over 100,000 nodes (aliases expanded), a stack over 1,000,000, or aliases "
        "adding over 50,000 nodes to a stack.",
    ),
    "not-utf8": _c(E, "yaml", "A file that is not valid UTF-8 text."),
    "ignored-file": _c(W, "layout", "A YAML file outside the folder layout; it is not read."),
    # Layer 2: envelope (format.md §1).
    "invalid-envelope": _c(
        E, "envelope", "A document that is not a mapping, or a missing or mistyped envelope field."
    ),
    "invalid-api-version": _c(E, "envelope", "`apiVersion` is not one of the accepted values."),
    "unknown-kind": _c(
        E, "envelope", "`kind` is not a kind Panka Web knows; the message lists them."
    ),
    "kind-not-deployable": _c(
        E, "envelope", "The kind is recognised but cannot be deployed by this version."
    ),
    "unknown-field": _c(W, "envelope/schema", "A field that is not in the schema; it is ignored."),
    "invalid-name": _c(E, "envelope", "A stack, service or component name breaks the name rule."),
    # Layer 3: stack level (format.md §2-§4).
    "duplicate-name": _c(E, "stack", "Two components (or two services) share a name."),
    "missing-service": _c(E, "stack", "A component outside `services/<name>/` names no service."),
    "service-mismatch": _c(E, "stack", "`metadata.service` differs from the service folder."),
    "stack-mismatch": _c(E, "stack", "`metadata.stack` differs from the Stack's name."),
    "stack-name-mismatch": _c(
        E, "stack", "The Stack's `metadata.name` differs from the name of the stack in Panka Web."
    ),
    "tenant-mismatch": _c(E, "stack", "The Stack's `metadata.tenant` is another tenant."),
    "missing-stack": _c(E, "stack", "No Stack document."),
    "multiple-stacks": _c(E, "stack", "More than one Stack document."),
    "empty-service": _c(W, "stack", "A service with no components."),
    "unresolved-variable": _c(E, "stack", "`${NAME}` has no value in any scope and no default."),
    "invalid-variable": _c(E, "stack", "A malformed `${...}`; write `$${` for a literal `${`."),
    "unused-variable": _c(W, "stack", "A declared variable (or an override) that nothing uses."),
    "unknown-reference": _c(E, "stack", "A reference to a component or service not in the stack."),
    "unknown-output": _c(
        E, "stack", "`valueFrom.output` is not an output of that kind, or is switched off."
    ),
    "wrong-reference-kind": _c(
        E, "stack", "The referenced component has a kind not allowed there."
    ),
    "self-dependency": _c(E, "stack", "A component or service that depends on itself."),
    "dependency-cycle": _c(E, "stack", "Components that depend on each other in a loop."),
    "invalid-secret-ref": _c(
        E, "stack", "A `secretRef` that is not a Secrets Manager name or ARN."
    ),
    # Layer 4: tenant guardrails.
    "tenant-policy": _c(E, "policy", "The stack breaks a limit or allow-list of its tenant."),
    # Transport (sources.py): zip uploads.
    "invalid-archive": _c(E, "upload", "An upload that is not a readable zip archive."),
    "unsafe-path": _c(E, "upload", "A zip member with an absolute path, `..`, or a link."),
    "internal-error": _c(E, "schema", "A check failed unexpectedly (a bug); reported, not raised."),
    # Plan (format.md §6, §8).
    "invalid-state": _c(E, "plan", "The state JSON does not have the shape of format.md §8."),
    "state-mismatch": _c(E, "plan", "The state belongs to another stack or environment."),
    "version-downgrade": _c(E, "plan", "An engine version would go down, which AWS refuses."),
    "default-vpc": _c(
        W,
        "plan",
        "A component the plan creates or changes will run in the account's default VPC: "
        "its tenant has no network of its own (kinds.md, Shared plumbing).",
    ),
}


def _kind_codes() -> dict[str, str]:
    # The kinds package is written in parallel; without it the registry is core-only
    # rather than an import error in every caller.
    try:
        from .kinds import KIND_CODES
    except ImportError:
        return {}
    return dict(KIND_CODES)


# The contract names the kinds' warning codes; every other kinds code is an error.
_KIND_WARNINGS = frozenset({"unknown-field", "not-applied"})


def _merge() -> dict[str, Code]:
    merged = dict(CORE_CODES)
    for code, meaning in _kind_codes().items():
        # A code both sides emit (``unknown-field``) keeps core's entry: same meaning.
        severity = "warning" if code in _KIND_WARNINGS else "error"
        merged.setdefault(code, Code(severity, "schema", meaning))
    return dict(sorted(merged.items()))


REGISTRY: dict[str, Code] = _merge()
CODES: dict[str, str] = {code: info.meaning for code, info in REGISTRY.items()}


def render_markdown() -> str:
    """The text of ``docs/finding-codes.md``."""
    lines = [
        "# Finding codes",
        "",
        "<!-- Generated by `python -m deployments.spec codes`; do not edit by hand. -->",
        "",
        "Every problem the stack validator reports carries one of these stable codes",
        "(format.md §5), with a file, a 1-based line and column, and a path such as",
        "`spec.environment[1].value`. Errors block planning; warnings do not.",
        "",
        "Layers, in the order validation runs: `upload` (zip archives), `yaml` (parsing",
        "and limits), `layout`, `envelope`, `schema` (per-kind pydantic models), `stack`",
        "(names, variables, references, graph), `policy` (tenant guardrails), `plan`.",
        "",
        "| Code | Severity | Layer | Meaning |",
        "|---|---|---|---|",
    ]
    for code, info in REGISTRY.items():
        meaning = info.meaning.replace("|", "\\|")
        lines.append(f"| `{code}` | {info.severity} | {info.layer} | {meaning} |")
    return "\n".join(lines) + "\n"

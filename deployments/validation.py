"""The Django edge of the format engine: tenant settings in, findings out."""

from __future__ import annotations

from collections.abc import Mapping

from tenants.models import Tenant

from . import spec
from .spec.expected import expect_stack_name


def tenant_policy(tenant: Tenant) -> spec.TenantPolicy:
    """The tenant's guardrails (format.md §5, layer 4) in the engine's own terms."""
    from .networking import network_placement
    from .spec.policy import DEFAULT_ENVIRONMENTS

    return spec.TenantPolicy(
        allowed_kinds=frozenset(tenant.allowed_kinds) if tenant.allowed_kinds else None,
        allowed_regions=frozenset(tenant.allowed_regions) if tenant.allowed_regions else None,
        allowed_environments=frozenset(tenant.environments or DEFAULT_ENVIRONMENTS),
        max_stacks=tenant.max_stacks,
        existing_stacks=frozenset(tenant.stacks.values_list("name", flat=True)),
        max_services_per_stack=tenant.max_services_per_stack,
        max_components_per_service=tenant.max_components_per_service,
        own_network=bool(tenant.network),
        placement=network_placement(tenant),
    )


def validate_files(
    files: Mapping[str, str | bytes],
    *,
    tenant: Tenant,
    overrides: Mapping[str, str] | None = None,
    stack_name: str | None = None,
) -> spec.ValidationResult:
    """Validate a stack's files for ``tenant``; with ``stack_name``, the Stack document must
    carry that name (it is part of every AWS name and of the state's S3 key)."""
    result = spec.validate(
        files, overrides=overrides, policy=tenant_policy(tenant), tenant=tenant.slug
    )
    return result if stack_name is None else expect_stack_name(result, stack_name)


def summary_counts(result: spec.ValidationResult) -> tuple[int, int]:
    """(errors, warnings) of a validation, as stored on a revision."""
    errors = sum(1 for f in result.findings if f.is_error)
    return errors, len(result.findings) - errors


def findings_by_file(findings: list[spec.Finding]) -> dict[str, dict[str, int]]:
    """``{path: {"errors": n, "warnings": m}}``, for the editor's file tree badges."""
    counts: dict[str, dict[str, int]] = {}
    for finding in findings:
        entry = counts.setdefault(finding.file, {"errors": 0, "warnings": 0})
        entry["errors" if finding.is_error else "warnings"] += 1
    return counts

"""Tenant guardrails (format.md §5 layer 4)."""

from __future__ import annotations

import pytest

from deployments.spec import TenantPolicy, validate

from .conftest import component, single

pytestmark = pytest.mark.usefixtures("fake_kinds")


def policy_findings(policy: TenantPolicy, *docs: str) -> list[str]:
    result = validate(single(*docs), policy=policy)
    return [f.message for f in result.findings if f.code == "tenant-policy"]


def test_no_policy_limits_nothing() -> None:
    assert policy_findings(TenantPolicy(), component("a"), component("b")) == []


def test_kinds_outside_the_allow_list_are_refused() -> None:
    messages = policy_findings(TenantPolicy(allowed_kinds=frozenset({"SNS"})), component("a"))
    assert messages == ["kind SQS is not allowed for this tenant (allowed: SNS)"]


def test_the_stack_count_limit_applies_to_new_stacks_only() -> None:
    full = TenantPolicy(max_stacks=1, existing_stacks=frozenset({"other"}))
    assert policy_findings(full, component("a")) == [
        "the tenant already has 1 stacks, its limit is 1"
    ]
    again = TenantPolicy(max_stacks=1, existing_stacks=frozenset({"shop"}))
    assert policy_findings(again, component("a")) == []


def test_services_and_components_per_service_are_limited() -> None:
    policy = TenantPolicy(max_services_per_stack=1, max_components_per_service=1)
    messages = policy_findings(
        policy, component("a"), component("b"), component("c", service="other")
    )
    assert messages == [
        "the stack has 2 services, the tenant's limit is 1 per stack",
        "service 'web' has 2 components, the tenant's limit is 1 per service",
    ]


def test_the_region_must_be_allowed() -> None:
    result = validate(
        single(component("a")), policy=TenantPolicy(allowed_regions=frozenset({"eu-west-1"}))
    )
    (finding,) = [f for f in result.findings if f.code == "tenant-policy"]
    assert (finding.line, finding.column, finding.path) == (8, 13, "spec.provider.region")


def test_environments_default_to_the_three_standard_ones() -> None:
    policy = TenantPolicy()
    assert policy.check_environment("production") is None
    assert policy.check_environment("qa").code == "tenant-policy"

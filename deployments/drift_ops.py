"""Drift checks of a stack+environment: on demand, on a schedule, and before each plan."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .aws.drift import ComponentDrift, check_state
from .aws.errors import AwsError
from .aws.state import StateStore
from .models import Deployment, DriftCheck, Stack
from .runtime import aws_settings, stack_aws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def applying(stack: Stack, environment: str) -> bool:
    return Deployment.objects.filter(
        stack=stack, environment=environment, status=Deployment.Status.APPLYING
    ).exists()


def state_region(state: dict[str, Any]) -> str | None:
    for entry in (state.get("resources") or {}).values():
        region = (
            ((entry or {}).get("config") or {}).get("region") if isinstance(entry, dict) else None
        )
        if region:
            return str(region)
    return None


def check(
    state: dict[str, Any], *, stack: Stack, environment: str, ensure_lease=lambda: None
) -> list[ComponentDrift]:
    from .networking import NetworkUnavailable, stack_network

    region = state_region(state)
    try:
        network = stack_network(stack.tenant, region)
    except NetworkUnavailable:
        network = None  # being built or removed: compare with the default VPC meanwhile
    return check_state(
        aws=stack_aws_settings(region),
        tenant=stack.tenant.slug,
        stack=stack.name,
        environment=environment,
        state=state,
        ensure_lease=ensure_lease,
        network=network,
    )


def run_drift_check(
    *, stack: Stack, environment: str, actor: AbstractBaseUser | None = None
) -> DriftCheck | None:
    """Compare AWS with the state, read-only and without the lock; None when an apply of
    the same stack+environment is running (its half-done changes are not drift)."""
    if applying(stack, environment):
        return None
    try:
        loaded = StateStore(aws_settings()).load(stack.tenant.slug, stack.name, environment)
        results = check(loaded.state, stack=stack, environment=environment) if loaded else []
    except AwsError as exc:
        return DriftCheck.objects.create(
            stack=stack,
            environment=environment,
            status=DriftCheck.Status.ERROR,
            requested_by=actor,
            error=str(exc)[:2000],
        )
    drifted = any(r.status in ("drifted", "missing") for r in results)
    return DriftCheck.objects.create(
        stack=stack,
        environment=environment,
        status=DriftCheck.Status.DRIFTED if drifted else DriftCheck.Status.IN_SYNC,
        results=[r.as_dict() for r in results],
        requested_by=actor,
    )


def due_checks() -> list[tuple[Stack, str]]:
    """Stack+environments whose tenant's drift schedule says a check is due."""
    due = []
    now = timezone.now()
    for stack in Stack.objects.select_related("tenant").filter(
        tenant__status="active", tenant__drift_interval_hours__gt=0
    ):
        deployed = set(
            stack.deployments.filter(status=Deployment.Status.SUCCEEDED).values_list(
                "environment", flat=True
            )
        )
        for environment in sorted(deployed):
            last = stack.drift_checks.filter(environment=environment).first()
            if last is None or last.checked_at < now - timedelta(
                hours=stack.tenant.drift_interval_hours
            ):
                due.append((stack, environment))
    return due

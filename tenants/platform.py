"""What platform admins do to tenants: create, change settings, suspend, reactivate.

Each change runs in one transaction with its audit event, on the tenant's locked row,
so two admins (or an admin and a deployer queueing a run) cannot interleave.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from . import audit
from .models import Membership, Role, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

# The settings a platform admin edits (the engine's guardrails read most of them).
SETTINGS = (
    "display_name",
    "max_stacks",
    "max_services_per_stack",
    "max_components_per_service",
    "allowed_kinds",
    "allowed_regions",
    "environments",
    "protected_environments",
)


class PlatformError(Exception):
    """Shown to the platform admin as is; nothing changed."""


def tenants_with_counts() -> QuerySet[Tenant]:
    """Every tenant with its member and stack counts, in one query (subqueries, not joins:
    two joined counts would multiply each other)."""
    from deployments.models import Stack

    def count(model, **filters) -> Subquery:
        rows = (
            model.objects.filter(tenant=OuterRef("pk"), **filters)
            .order_by()
            .values("tenant")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return Tenant.objects.annotate(
        member_count=count(Membership), stack_count=count(Stack)
    ).order_by("slug")


def _target(tenant: Tenant) -> str:
    return f"tenant:{tenant.slug}"


def create_tenant(
    *,
    slug: str,
    display_name: str,
    first_admin: AbstractBaseUser | None,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> Tenant:
    try:
        with transaction.atomic():
            tenant = Tenant(slug=slug, display_name=display_name)
            tenant.full_clean()
            tenant.save()
            audit.record(
                action="tenant.created", actor=actor, tenant=tenant, target=_target(tenant),
                details={name: getattr(tenant, name) for name in ("slug", *SETTINGS)}, request=request,
            )  # fmt: skip
            if first_admin is not None:
                Membership.objects.create(tenant=tenant, user=first_admin, role=Role.ADMIN)
                audit.record(
                    action="member.add", actor=actor, tenant=tenant,
                    target=f"user:{first_admin.get_username()}", details={"role": Role.ADMIN.value},
                    request=request,
                )  # fmt: skip
    except IntegrityError:
        raise PlatformError(f"a tenant named {slug!r} already exists") from None
    return tenant


def environments_in_use(tenant: Tenant, environments: list[str]) -> dict[str, str]:
    """Of ``environments``, those a stack of the tenant still uses, with why: a run that
    has not finished, or a state in S3 (resources that would be orphaned)."""
    from deployments.aws.errors import AwsError
    from deployments.aws.state import StateStore
    from deployments.models import Deployment
    from deployments.runtime import aws_settings

    if not environments:
        return {}
    used: dict[str, str] = {}
    unfinished = (
        Deployment.objects.filter(stack__tenant=tenant, environment__in=environments)
        .exclude(status__in=Deployment.TERMINAL)
        .exclude(status=Deployment.Status.PLANNED, kind=Deployment.Kind.PLAN)
        .select_related("stack")
        .order_by("id")
    )
    for run in unfinished:
        used.setdefault(
            run.environment,
            f"run #{run.number} of {run.stack.name} is {run.get_status_display().lower()}",
        )
    store = StateStore(aws_settings())
    for stack in tenant.stacks.order_by("name"):
        for environment in environments:
            if environment in used:
                continue
            try:
                loaded = store.load(tenant.slug, stack.name, environment)
            except (AwsError, ValueError) as exc:
                used[environment] = f"its state could not be checked ({exc})"
                continue
            if loaded is not None:
                used[environment] = f"{stack.name} has deployed state there; destroy it first"
    return used


def update_tenant(
    *,
    tenant: Tenant,
    values: dict[str, Any],
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> list[str]:
    """Apply new settings; returns the names of the fields that changed (none: no event)."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        changes = {
            name: {"from": getattr(tenant, name), "to": values[name]}
            for name in SETTINGS
            if name in values and getattr(tenant, name) != values[name]
        }
        if not changes:
            return []
        if "environments" in changes:
            removed = [e for e in tenant.environments if e not in values["environments"]]
            in_use = environments_in_use(tenant, removed)
            if in_use:
                raise PlatformError(
                    "cannot remove "
                    + "; ".join(f"{env}: {why}" for env, why in sorted(in_use.items()))
                )
        for name, change in changes.items():
            setattr(tenant, name, change["to"])
        tenant.save(update_fields=list(changes))
        audit.record(
            action="tenant.updated", actor=actor, tenant=tenant, target=_target(tenant),
            details={"changes": changes}, request=request,
        )  # fmt: skip
    return list(changes)


def _cancellable(tenant: Tenant):
    """Runs that would start or continue only by someone's or the queue's next step:
    waiting in the queue, awaiting approval, planned and waiting for their apply, or
    handed to a worker for the apply but not started. Planning and applying runs finish;
    a plan-and-apply run that finishes its plan then waits, and cannot be applied until
    the tenant is reactivated. (Cancelling one hands no queued run to a worker:
    ``kick_next`` skips suspended tenants.)"""
    from deployments.models import Deployment

    Status = Deployment.Status
    return (
        Deployment.objects.filter(stack__tenant=tenant)
        .filter(
            Q(status__in=[Status.QUEUED, Status.AWAITING_APPROVAL, Status.APPLY_QUEUED])
            | (Q(status=Status.PLANNED) & ~Q(kind=Deployment.Kind.PLAN))
        )
        .order_by("id")
    )


def suspend(
    *, tenant: Tenant, reason: str, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> list[str]:
    """Suspend ``tenant`` and cancel its waiting runs with ``reason``; returns the runs
    cancelled (as audit targets)."""
    from deployments import runs

    reason = reason.strip()
    if not reason:
        raise PlatformError("say why the tenant is suspended; its members will see it")
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if not tenant.is_active:
            raise PlatformError(f"{tenant.slug} is already suspended")
        tenant.status = Tenant.Status.SUSPENDED
        tenant.save(update_fields=["status"])
        waiting = list(_cancellable(tenant).select_related("stack"))
        audit.record(
            action="tenant.suspended", actor=actor, tenant=tenant, target=_target(tenant),
            details={"reason": reason, "cancelled_runs": [str(r.uid) for r in waiting]},
            request=request,
        )  # fmt: skip
        cancelled = []
        for run in waiting:
            runs.cancel(run=run, actor=actor, request=request, reason=f"tenant suspended: {reason}")
            cancelled.append(f"{run.stack.name}/{run.environment}#{run.number}")
    return cancelled


def reactivate(
    *, tenant: Tenant, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.is_active:
            raise PlatformError(f"{tenant.slug} is not suspended")
        reason = tenant.suspension_reason
        tenant.status = Tenant.Status.ACTIVE
        tenant.save(update_fields=["status"])
        audit.record(
            action="tenant.reactivated", actor=actor, tenant=tenant, target=_target(tenant),
            details={"suspended_for": reason}, request=request,
        )  # fmt: skip

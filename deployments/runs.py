"""Deployment workflows that people start: queue, approve, apply, cancel.

Each takes the acting user, runs in one transaction with its audit event, and hands
work to the worker through :func:`deployments.queue.enqueue` after the commit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from tenants import audit
from tenants.models import Tenant

from .models import Approval, Deployment, Stack, StackRevision
from .queue import enqueue
from .validation import validate_files

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

APPROVAL_LIFETIME = timedelta(hours=24)
Status = Deployment.Status


class RunRefused(Exception):
    """A run action that is not allowed now; the message is shown to the user."""


def active_runs(stack: Stack, environment: str) -> QuerySet[Deployment]:
    """Runs that hold the stack+environment: at most one at a time (FIFO after it)."""
    return Deployment.objects.filter(stack=stack, environment=environment).filter(
        Q(
            status__in=[
                Status.PLANNING,
                Status.AWAITING_APPROVAL,
                Status.APPLY_QUEUED,
                Status.APPLYING,
            ]
        )
        | (Q(status=Status.PLANNED) & ~Q(kind=Deployment.Kind.PLAN))
    )


def queued_runs(stack: Stack, environment: str) -> QuerySet[Deployment]:
    return Deployment.objects.filter(
        stack=stack, environment=environment, status=Status.QUEUED
    ).order_by("created_at", "id")


def is_protected(tenant: Tenant, environment: str) -> bool:
    return environment in (tenant.protected_environments or [])


def queue_run(
    *,
    stack: Stack,
    revision: StackRevision,
    environment: str,
    kind: str,
    actor: AbstractBaseUser,
    variables: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> Deployment:
    tenant = stack.tenant
    if not tenant.is_active:
        raise RunRefused("the tenant is suspended: no new runs")
    if environment not in (tenant.environments or []):
        raise RunRefused(
            f"environment {environment!r} is not one of this tenant's: {', '.join(tenant.environments)}"
        )
    if kind not in Deployment.Kind.values:
        raise RunRefused(f"unknown run kind {kind!r}")
    variables = {str(k): str(v) for k, v in (variables or {}).items()}
    if kind != Deployment.Kind.DESTROY:
        result = validate_files(
            revision.files, tenant=tenant, overrides=variables, stack_name=stack.name
        )
        if not result.ok:
            first = result.errors[0]
            raise RunRefused(
                f"revision {revision.number} has {len(result.errors)} validation error(s), "
                f"e.g. {first.file}:{first.line}: {first.message}"
            )
    with transaction.atomic():
        # Stack row first, then the tenant row: the order every audited change takes
        # (audit.record locks the tenant last), so two transactions never deadlock.
        # Suspending locks the tenant row too: a run queued while a suspension commits
        # either is cancelled by it or sees the tenant suspended here.
        Stack.objects.select_for_update().filter(pk=stack.pk).first()
        locked = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if locked is None or not locked.is_active:
            raise RunRefused("the tenant is suspended: no new runs")
        number = (stack.deployments.aggregate(n=Max("number"))["n"] or 0) + 1
        run = Deployment.objects.create(
            stack=stack,
            number=number,
            revision=revision,
            environment=environment,
            kind=kind,
            requested_by=actor,
            variables=variables,
            sent_at=timezone.now(),
        )
        audit.record(
            action=f"run.queue_{kind}",
            actor=actor,
            tenant=tenant,
            target=f"stack:{stack.name}/{environment}#{number}",
            details={
                "run": str(run.uid),
                "revision": revision.number,
                "variables": sorted(variables),
            },
            request=request,
        )
        enqueue("deployments.tasks.plan_run", run.pk)
    return run


def queue_position(run: Deployment) -> tuple[int, str]:
    """(position among waiting runs, 1-based; why it waits) for a queued run."""
    ahead = queued_runs(run.stack, run.environment).filter(
        Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, id__lt=run.id)
    )
    position = ahead.count() + 1
    active = active_runs(run.stack, run.environment).exclude(pk=run.pk).first()
    if run.waiting_reason:
        return position, run.waiting_reason
    if active is not None:
        who = active.requested_by.get_username() if active.requested_by else "someone"
        return (
            position,
            f"waiting: run #{active.number} ({who}) is {active.get_status_display().lower()}",
        )
    if position > 1:
        return position, f"waiting: {position - 1} run(s) ahead"
    return position, "waiting for a worker"


def approve(
    *, run: Deployment, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> Approval:
    with transaction.atomic():
        run = Deployment.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.AWAITING_APPROVAL:
            raise RunRefused(
                f"run #{run.number} is {run.get_status_display().lower()}, not awaiting approval"
            )
        if run.requested_by_id == actor.pk:
            raise RunRefused("the requester of a run cannot approve it; ask another tenant admin")
        approval = Approval.objects.create(
            deployment=run,
            approver=actor,
            plan_hash=run.plan_hash,
            expires_at=timezone.now() + APPROVAL_LIFETIME,
        )
        run.status = Status.PLANNED
        run.save(update_fields=["status"])
        audit.record(
            action="run.approve",
            actor=actor,
            tenant=run.stack.tenant,
            target=_target(run),
            details={"plan_hash": run.plan_hash, "expires_at": approval.expires_at.isoformat()},
            request=request,
        )
    return approval


def valid_approval(run: Deployment) -> Approval | None:
    """An unexpired approval of exactly this run's current plan."""
    return (
        run.approvals.filter(plan_hash=run.plan_hash, expires_at__gt=timezone.now())
        .exclude(approver_id=run.requested_by_id)
        .first()
    )


def confirm_apply(
    *, run: Deployment, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> Deployment:
    with transaction.atomic():
        run = Deployment.objects.select_for_update().get(pk=run.pk)
        if run.kind == Deployment.Kind.PLAN:
            raise RunRefused("a plan-only run cannot be applied; queue a plan-and-apply run")
        if run.status != Status.PLANNED:
            raise RunRefused(
                f"run #{run.number} is {run.get_status_display().lower()}; only a planned run can be applied"
            )
        if not run.stack.tenant.is_active:
            raise RunRefused("the tenant is suspended: no applies")
        if is_protected(run.stack.tenant, run.environment) and valid_approval(run) is None:
            raise RunRefused(
                f"{run.environment} is protected: the plan {run.plan_hash[:19]} needs an unexpired "
                "approval by a tenant admin other than the requester"
            )
        run.status = Status.APPLY_QUEUED
        run.sent_at = timezone.now()  # the reaper re-sends it if this task is lost
        run.save(update_fields=["status", "sent_at"])
        audit.record(
            action="run.apply" if run.kind == Deployment.Kind.APPLY else "run.destroy",
            actor=actor,
            tenant=run.stack.tenant,
            target=_target(run),
            details={"plan_hash": run.plan_hash},
            request=request,
        )
        enqueue("deployments.tasks.apply_run", run.pk)
    return run


def cancel(
    *,
    run: Deployment,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
    reason: str = "",
) -> Deployment:
    """Cancel at once when nothing is running; a planning/applying run stops between levels.
    ``reason`` (e.g. the tenant's suspension) is shown on the run and audited."""
    with transaction.atomic():
        run = Deployment.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise RunRefused(f"run #{run.number} has already finished")
        if run.status in Deployment.WORKING:
            run.cancel_requested = True
            run.save(update_fields=["cancel_requested"])
        else:
            error = f"cancelled by {actor.get_username()}" + (f": {reason}" if reason else "")
            finish(run, Status.CANCELLED, error=error)
        audit.record(
            action="run.cancel",
            actor=actor,
            tenant=run.stack.tenant,
            target=_target(run),
            details={"reason": reason} if reason else None,
            request=request,
        )
    return run


def finish(run: Deployment, status: str, **fields: Any) -> None:
    """Record a run's end and start the next queued run of its stack+environment.

    A run another process has already ended keeps that verdict: a worker that was paused
    or cut off past its lease, and was marked interrupted by the reaper meanwhile, must
    not turn that into its own "failed" (or "succeeded") when it resumes.
    """
    values = {"status": status, "finished_at": timezone.now(), "waiting_reason": "", **fields}
    changed = (
        Deployment.objects.filter(pk=run.pk)
        .exclude(status__in=Deployment.TERMINAL)
        .update(**values)
    )
    if not changed:
        run.refresh_from_db(fields=["status", "finished_at", "error"])
        return
    for name, value in values.items():
        setattr(run, name, value)
    kick_next(run.stack, run.environment)


def kick_next(stack: Stack, environment: str) -> None:
    """Hand the oldest queued run to a worker, unless a run is still active."""
    if not stack.tenant.is_active:
        return  # a suspended tenant starts nothing; suspending cancelled its queue
    if active_runs(stack, environment).exists():
        return
    head = queued_runs(stack, environment).first()
    if head is not None:
        Deployment.objects.filter(pk=head.pk).update(sent_at=timezone.now())
        enqueue("deployments.tasks.plan_run", head.pk)


def _target(run: Deployment) -> str:
    return f"stack:{run.stack.name}/{run.environment}#{run.number}"

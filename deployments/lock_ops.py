"""Locks people take and remove: manual maintenance locks and an admin's force-unlock.

Runs take and release their own locks in :mod:`deployments.tasks`; these are the
human-initiated ones, each audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from tenants import audit

from . import listing_cache
from .aws.errors import AwsError, LockHeld
from .aws.locks import LockInfo, LockManager, lock_key
from .models import Deployment, RunLog, Stack
from .runs import finish
from .runtime import aws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

MANUAL = "manual: "
MAX_MANUAL_HOURS = 72


class LockRefused(Exception):
    """Shown to the user as is; no lock was changed."""


@dataclass(frozen=True, slots=True)
class LockKey:
    tenant: str
    stack: str
    environment: str


def parse_key(key: str) -> LockKey | None:
    """``tenant:<t>:stack:<s>:env:<e>`` → its parts; None for other shapes."""
    parts = key.split(":")
    if len(parts) == 6 and parts[0] == "tenant" and parts[2] == "stack" and parts[4] == "env":
        return LockKey(parts[1], parts[3], parts[5])
    return None


def is_manual(info: LockInfo) -> bool:
    return info.reason.startswith(MANUAL)


def is_stale(info: LockInfo) -> bool:
    """Expired, or a run's lock whose heartbeats stopped (manual and CLI locks have none)."""
    return info.expired or (not is_manual(info) and info.stale)


def owner_name(actor: AbstractBaseUser) -> str:
    return f"panka-web:{actor.get_username()}"


def take_manual_lock(
    *,
    stack: Stack,
    environment: str,
    actor: AbstractBaseUser,
    reason: str,
    hours: int,
    request: HttpRequest | None = None,
) -> LockInfo:
    """Block runs of ``stack`` in ``environment`` until released (or ``hours`` pass)."""
    if not stack.tenant.is_active:
        raise LockRefused("the tenant is suspended: no new locks")
    if not reason.strip():
        raise LockRefused("say why you lock it (for example: maintenance until 14:00)")
    if not 1 <= hours <= MAX_MANUAL_HOURS:
        raise LockRefused(f"a manual lock lasts 1 to {MAX_MANUAL_HOURS} hours")
    manager = LockManager(aws_settings())
    key = lock_key(stack.tenant.slug, stack.name, environment)
    try:
        manager.acquire(
            key, owner=owner_name(actor), reason=MANUAL + reason.strip()[:200], lease=hours * 3600
        )
    except LockHeld as exc:
        raise LockRefused(
            f"already locked by {exc.holder.holder if exc.holder else 'another tool'}"
        ) from None
    listing_cache.forget_locks(manager.settings.lock_table, stack.tenant.slug)
    audit.record(
        action="lock.manual",
        actor=actor,
        tenant=stack.tenant,
        target=f"stack:{stack.name}/{environment}",
        details={"reason": reason.strip()[:200], "hours": hours},
        request=request,
    )
    info = manager.get(key)
    assert info is not None
    return info


def release_manual_lock(
    *,
    stack: Stack,
    environment: str,
    lock_id: str,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> None:
    """The taker of a manual lock removes it (admins use force-unlock for anyone's)."""
    manager = LockManager(aws_settings())
    key = lock_key(stack.tenant.slug, stack.name, environment)
    info = manager.get(key)
    if info is None or info.lock_id != lock_id:
        raise LockRefused("that lock is gone or has changed holder")
    if not is_manual(info) or info.owner != owner_name(actor):
        raise LockRefused(
            "only the person who took a manual lock can release it; an admin can force-unlock"
        )
    _delete(manager, key, lock_id)
    audit.record(
        action="lock.release",
        actor=actor,
        tenant=stack.tenant,
        target=f"stack:{stack.name}/{environment}",
        details={"lock_id": lock_id},
        request=request,
    )


def force_unlock(
    *,
    stack: Stack,
    environment: str,
    lock_id: str,
    actor: AbstractBaseUser,
    reason: str,
    request: HttpRequest | None = None,
) -> LockInfo:
    """Remove the lock the admin saw; a newer holder's lock is never removed. A run of ours
    that held it is marked interrupted."""
    if not reason.strip():
        raise LockRefused("type a reason for the force-unlock; it goes into the audit log")
    manager = LockManager(aws_settings())
    key = lock_key(stack.tenant.slug, stack.name, environment)
    previous = manager.get(key)
    if previous is None or previous.lock_id != lock_id:
        raise LockRefused(
            "the lock changed holder (or was released) since you looked; nothing was removed"
        )
    _delete(manager, key, lock_id)
    with transaction.atomic():
        run = (
            Deployment.objects.filter(
                stack=stack, environment=environment, lock_id=lock_id, status__in=Deployment.WORKING
            )
            .select_for_update()
            .first()
        )
        if run is not None:
            RunLog.objects.create(
                deployment=run,
                message=f"interrupted: lock force-unlocked by {actor.get_username()}",
            )
            finish(
                run,
                Deployment.Status.INTERRUPTED,
                error=f"lock force-unlocked by {actor.get_username()}: {reason.strip()[:200]}",
            )
        audit.record(
            action="lock.force_unlock",
            actor=actor,
            tenant=stack.tenant,
            target=f"stack:{stack.name}/{environment}",
            details={
                "lock_id": lock_id,
                "previous_holder": previous.owner,
                "previous_reason": previous.reason,
                "interrupted_run": run.number if run else None,
                "reason": reason.strip()[:500],
            },
            request=request,
        )
    return previous


def _delete(manager: LockManager, key: str, lock_id: str) -> None:
    try:
        manager.force_release(key, lock_id)
    except LockHeld:
        raise LockRefused("the lock changed holder since you looked; nothing was removed") from None
    except AwsError as exc:
        raise LockRefused(f"the lock could not be removed: {exc}") from exc
    parsed = parse_key(key)
    if parsed is not None:
        listing_cache.forget_locks(manager.settings.lock_table, parsed.tenant)

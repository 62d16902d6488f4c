"""A state that an apply could not save, kept with its run until it is written.

When the S3 write of the state fails after AWS has changed (S3 down, access denied, the
lease lost), the resources exist but the state does not record them: a plan made from
S3 would create them a second time. The apply therefore keeps the state it meant to write
in ``Deployment.pending_state`` together with the version it was based on, and the run
fails saying so. The state is written later, by a deployer's "Save state again" or by the
next run of the stack+environment before it plans (or, once a person has reconciled S3
with AWS by hand, set aside by a tenant admin's "Discard kept state"), always

- under the stack+environment lock, and
- as the next serial of the version it was based on, fenced by S3 ``If-Match`` on that
  version's ETag: if anyone else wrote the state meanwhile, nothing is written and a
  person decides (merging two histories of the same resources is not a machine's call).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tenants import audit

from . import listing_cache
from .aws.errors import AwsError, LockHeld
from .aws.locks import Lease, LockManager, lock_key
from .aws.state import SavedState, StateStore
from .models import Deployment, RunLog, Stack
from .runtime import aws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from .aws.executor import ApplyResult


class PendingStateRefused(Exception):
    """The kept state was not written; the message says why and what to do."""


class StateMovedOn(PendingStateRefused):
    """Someone wrote the state after the version the kept state was based on."""


def keep(run: Deployment, result: ApplyResult) -> dict[str, Any]:
    """What ``Deployment.pending_state`` holds for an apply whose last state write failed."""
    base = result.saved
    return {
        "state": result.unsaved_state,
        "base_etag": base.etag if base else "",
        "base_version": (base.version_id or "") if base else "",
        "base_serial": base.serial if base else 0,
        "error": result.save_error[:2000],
    }


def pending_runs(stack: Stack, environment: str) -> QuerySet[Deployment]:
    """Runs of a stack+environment holding a state that is not in S3 yet, oldest first."""
    return Deployment.objects.filter(
        stack=stack, environment=environment, pending_state__isnull=False
    ).order_by("number")


def save_pending(
    run: Deployment,
    *,
    store: StateStore,
    lease: Lease,
    by: str,
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> SavedState:
    """Write ``run``'s kept state as the next serial; the caller holds the lock (``lease``).

    Re-reads the run first: a save that another path already did is not done twice. With
    an ``actor`` (a person's "Save state again") the audit event commits with the record.
    """
    run = Deployment.objects.select_related("stack__tenant", "revision", "requested_by").get(
        pk=run.pk
    )
    pending = run.pending_state
    if pending is None:
        raise PendingStateRefused(f"run #{run.number} has no unsaved state")
    tenant, stack, environment = run.stack.tenant.slug, run.stack.name, run.environment
    current = store.load(tenant, stack, environment)
    state = copy.deepcopy(pending["state"])
    if (current.etag if current else "") != pending["base_etag"]:
        if current is not None and _is_this(current.state, run, state):
            # Our write landed, but recording it did not (a crash in between): record it.
            _record(run, current, by=by, actor=actor, request=request, already=True)
            return current
        serial = current.serial if current else 0
        raise StateMovedOn(
            f"the state of {stack}/{environment} changed since run #{run.number} "
            f"failed to save (it was based on serial {pending['base_serial']}, S3 now "
            f"holds serial {serial}); nothing was written. Compare the kept state below "
            "with the current one and restore or re-apply by hand"
        )
    meta = state["metadata"]
    meta["serial"] = (current.serial if current else 0) + 1
    if current is not None:
        meta["lineage"] = current.lineage
    lease.ensure_held()
    saved = store.save(
        current,
        state,
        deployment_id=str(run.uid),
        deployed_by=run.requested_by.get_username() if run.requested_by else by,
        revision=str(run.revision.number),
    )
    listing_cache.forget_state(
        store.settings.state_bucket, run.stack.tenant.slug, run.stack.name, run.environment
    )
    _record(run, saved, by=by, actor=actor, request=request)
    return saved


def _is_this(stored: dict[str, Any], run: Deployment, pending: dict[str, Any]) -> bool:
    meta = stored.get("metadata") or {}
    return meta.get("deployment_id") == str(run.uid) and stored.get("resources") == pending.get(
        "resources"
    )


def _record(
    run: Deployment,
    saved: SavedState,
    *,
    by: str,
    actor: AbstractBaseUser | None,
    request: HttpRequest | None,
    already: bool = False,
) -> None:
    with transaction.atomic():
        Deployment.objects.filter(pk=run.pk).update(
            pending_state=None, state_version=saved.version_id or "", state_serial=saved.serial
        )
        what = "was already saved" if already else "saved again"
        RunLog.objects.create(
            deployment=run,
            message=f"the kept state {what} as serial {saved.serial} (by {by})",
        )
        if actor is not None:
            audit.record(
                action="run.save_state",
                actor=actor,
                tenant=run.stack.tenant,
                target=f"stack:{run.stack.name}/{run.environment}#{run.number}",
                details={"serial": saved.serial, "version": saved.version_id or ""},
                request=request,
            )


def save_again(
    *, run: Deployment, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> SavedState:
    """The run page's "Save state again": takes the lock, writes, audits."""
    if run.pending_state is None:
        raise PendingStateRefused(f"run #{run.number} has no unsaved state")
    settings = aws_settings()
    with _stack_lock(run, actor, f"saving the kept state of run #{run.number}") as lease:
        try:
            return save_pending(
                run,
                store=StateStore(settings),
                lease=lease,
                by=actor.get_username(),
                actor=actor,
                request=request,
            )
        except AwsError as exc:
            raise PendingStateRefused(
                f"the state could not be saved (it is still kept): {exc}"
            ) from exc


def discard(
    *, run: Deployment, actor: AbstractBaseUser, reason: str, request: HttpRequest | None = None
) -> str:
    """A tenant admin's "Discard kept state", for a kept state that can no longer be
    written (its base was replaced, and a person has reconciled S3 with AWS by hand): the
    next runs stop trying and warning. Nothing is deleted: the state moves to
    ``discarded_state`` with who, when and why, and the run page still shows it.

    Only such a state: S3 is read first, under the stack+environment lock (so a save in
    progress either finishes first, leaving nothing to discard, or starts after and finds
    nothing). While S3 still holds the version it was based on, the state can be written
    and discarding it would make the next plan create its resources again: refused, with
    "Save state again" named instead. If it was written but not recorded (a crash in
    between), it is recorded as saved, as a save would.
    """
    reason = reason.strip()
    if not reason:
        raise PendingStateRefused("say why the kept state can be discarded")
    if run.pending_state is None:
        raise PendingStateRefused(f"run #{run.number} has no unsaved state")
    store = StateStore(aws_settings())
    lock_reason = f"discarding the kept state of run #{run.number}"
    with _stack_lock(run, actor, lock_reason):
        try:
            current = store.load(run.stack.tenant.slug, run.stack.name, run.environment)
        except AwsError as exc:
            raise PendingStateRefused(f"S3 could not be read, nothing discarded: {exc}") from exc
        with transaction.atomic():
            return _discard(run, actor, reason, current, request)


def _discard(
    run: Deployment,
    actor: AbstractBaseUser,
    reason: str,
    current: SavedState | None,
    request: HttpRequest | None,
) -> str:
    """What happened, for the page; raises when nothing may change."""
    locked = Deployment.objects.select_for_update().get(pk=run.pk)
    pending = locked.pending_state
    if pending is None:
        raise PendingStateRefused(f"run #{run.number} has no unsaved state any more")
    if current is not None and _is_this(current.state, locked, pending["state"]):
        _record(
            locked, current, by=actor.get_username(), actor=actor, request=request, already=True
        )
        return (
            f"The kept state was already in S3 (serial {current.serial}): it is now recorded "
            "as saved, and nothing was discarded."
        )
    if (current.etag if current else "") == pending["base_etag"]:
        raise PendingStateRefused(
            f"S3 still holds the state run #{run.number} was based on, so the kept state can "
            "still be written: use Save state again (discarding it would make the next plan "
            "create its resources a second time)"
        )
    who = actor.get_username()
    locked.discarded_state = {
        **pending,
        "discarded_by": who,
        "discarded_at": timezone.now().isoformat(),
        "reason": reason[:500],
    }
    locked.pending_state = None
    locked.save(update_fields=["pending_state", "discarded_state"])
    RunLog.objects.create(
        deployment=locked,
        message=f"the kept state was discarded by {who}: {reason[:500]}",
    )
    audit.record(
        action="run.discard_state",
        actor=actor,
        tenant=run.stack.tenant,
        target=f"stack:{run.stack.name}/{run.environment}#{run.number}",
        details={
            "reason": reason[:500],
            "base_serial": pending.get("base_serial", 0),
        },
        request=request,
    )
    return (
        "The kept state is discarded: later runs no longer try to write it. "
        "It stays readable on this page."
    )


@contextlib.contextmanager
def _stack_lock(run: Deployment, actor: AbstractBaseUser, reason: str) -> Iterator[Lease]:
    """The stack+environment lock for a person's action on a kept state."""
    manager = LockManager(aws_settings())
    key = lock_key(run.stack.tenant.slug, run.stack.name, run.environment)
    try:
        lease = manager.acquire(
            key,
            owner=f"panka-web:{actor.get_username()}",
            reason=reason,
            deployment_id=str(run.uid),
        )
    except LockHeld as exc:
        holder = exc.holder.holder if exc.holder else "another tool"
        raise PendingStateRefused(
            f"the stack is locked by {holder}; try again when it is free"
        ) from None
    except AwsError as exc:
        raise PendingStateRefused(f"the lock could not be taken: {exc}") from exc
    try:
        yield lease
    finally:
        with contextlib.suppress(AwsError):
            manager.release(lease)

"""Restoring an old state version: written forward as the next serial, under the lock."""

from __future__ import annotations

import contextlib
import copy
from typing import TYPE_CHECKING

from django.db import transaction

from tenants import audit

from .aws.errors import AwsError, LockHeld
from .aws.locks import LockManager, lock_key
from .aws.state import StateStore, successor
from .models import Stack
from .runtime import aws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


class RestoreRefused(Exception):
    """Shown to the admin as is; nothing was written."""


def restore_state_version(
    *,
    stack: Stack,
    environment: str,
    version_id: str,
    actor: AbstractBaseUser,
    reason: str,
    request: HttpRequest | None = None,
) -> int:
    """Write ``version_id``'s content as the newest state (serial + 1); returns the serial."""
    if not reason.strip():
        raise RestoreRefused("type a reason for the restore; it goes into the audit log")
    tenant = stack.tenant.slug
    settings = aws_settings()
    store = StateStore(settings)
    source = store.get_version(tenant, stack.name, environment, version_id)
    if source is None:
        raise RestoreRefused("that state version does not exist")
    manager = LockManager(settings)
    try:
        lease = manager.acquire(
            lock_key(tenant, stack.name, environment),
            owner=f"panka-web:{actor.get_username()}",
            reason=f"restore of state version {version_id}",
        )
    except LockHeld as exc:
        holder = exc.holder.holder if exc.holder else "another tool"
        raise RestoreRefused(
            f"the stack is locked by {holder}; try again when it is free"
        ) from None
    try:
        current = store.load(tenant, stack.name, environment)
        restored = copy.deepcopy(source.state)
        meta = restored.setdefault("metadata", {})
        if current is not None:
            base = successor(current.state)["metadata"]
            meta["serial"] = base["serial"]
            meta["lineage"] = current.lineage
        else:
            meta["serial"] = 1
        meta["restored_from"] = version_id
        lease.ensure_held()
        saved = store.save(
            current,
            restored,
            deployment_id=f"restore:{version_id}",
            deployed_by=actor.get_username(),
            revision=str(meta.get("revision", "")),
        )
    except AwsError as exc:
        raise RestoreRefused(f"the restore failed and nothing was written: {exc}") from exc
    finally:
        # A lease lost meanwhile is no reason to hide the outcome of the save.
        with contextlib.suppress(AwsError):
            manager.release(lease)
    with transaction.atomic():
        audit.record(
            action="state.restore",
            actor=actor,
            tenant=stack.tenant,
            target=f"stack:{stack.name}/{environment}",
            details={
                "from_version": version_id,
                "new_version": saved.version_id,
                "serial": saved.serial,
                "reason": reason.strip()[:500],
            },
            request=request,
        )
    return saved.serial

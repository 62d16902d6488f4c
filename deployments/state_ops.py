"""Restoring an old state version: written forward as the next serial, under the lock."""

from __future__ import annotations

import contextlib
import copy
from typing import TYPE_CHECKING

from django.db import transaction

from tenants import audit

from . import listing_cache
from .aws.errors import AwsError, LockHeld, StateCorrupt
from .aws.locks import LockManager, lock_key
from .aws.state import StateStore, StoredState, state_key
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
        current, lineage = _current(store, tenant, stack.name, environment)
        restored = copy.deepcopy(source.state)
        meta = restored.setdefault("metadata", {})
        meta["serial"] = (current.serial if current else 0) + 1
        # The restored content's own history: restoring is how an admin undoes a state of
        # another lineage written on top of this one.
        meta["lineage"] = source.lineage or lineage
        meta["restored_from"] = version_id
        lease.ensure_held()
        saved = store.save(
            current,
            restored,
            deployment_id=f"restore:{version_id}",
            deployed_by=actor.get_username(),
            revision=str(meta.get("revision", "")),
        )
        listing_cache.forget_state(settings.state_bucket, tenant, stack.name, environment)
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


def _current(
    store: StateStore, tenant: str, stack: str, environment: str
) -> tuple[StoredState | None, str]:
    """The version a restore writes on top of (for its ETag and serial), and its lineage.

    Its lineage is left out of the returned base, so the save does not refuse the
    restored content's own lineage. A current version that cannot be parsed is exactly
    what a restore must be able to replace: its ETag comes from the version list, and its
    serial from the highest serial recorded in the recent versions' S3 metadata.
    """
    key = state_key(tenant, stack, environment)
    try:
        current = store.load(tenant, stack, environment)
    except StateCorrupt:
        page = store.list_versions(tenant, stack, environment, page_size=20)
        latest = next((v for v in page.versions if v.is_latest), page.versions[0])
        serials = [
            (store.version_metadata(tenant, stack, environment, v.version_id) or {}).get(
                "serial", ""
            )
            for v in page.versions
            if not v.deleted
        ]
        serial = max((int(s) for s in serials if s.isdigit()), default=0)
        fence = {"metadata": {"serial": serial, "lineage": ""}}
        return StoredState(
            key=key, state=fence, etag=latest.etag or "", version_id=latest.version_id
        ), ""
    if current is None:
        return None, ""
    fence = {"metadata": {"serial": current.serial, "lineage": ""}}
    return (
        StoredState(key=key, state=fence, etag=current.etag, version_id=current.version_id),
        current.lineage,
    )

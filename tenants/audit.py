"""Appending to the audit trail (architecture.md, "Audit")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from panka_web.client_ip import client_ip as browser_ip

from .models import AuditEvent, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the TLS proxy, the address the proxy saw (PANKA_PROXY_COUNT), not the proxy's.
    return browser_ip(request) or None


def record(
    *,
    action: str,
    actor: AbstractBaseUser | None,
    tenant: Tenant | None,
    target: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event, chained to the previous event of the same tenant.

    Runs in the caller's transaction (or its own), so the event commits with the change
    it describes. The tenant row is locked to keep the chain linear under concurrency.
    """
    with transaction.atomic():
        if tenant is not None:
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        previous = (
            AuditEvent.objects.filter(tenant=tenant)
            .order_by("-id")
            .values_list("hash", flat=True)
            .first()
        )
        event = AuditEvent(
            tenant=tenant,
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_name=(
                actor.get_username() if actor is not None and actor.is_authenticated else "system"
            ),
            action=action,
            target=target,
            details=details or {},
            source_ip=client_ip(request),
            created_at=timezone.now(),
            prev_hash=previous or "",
        )
        event.hash = event.content_hash()
        event.save()
        return event

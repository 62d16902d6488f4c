"""Checking the audit trail's hash chain (architecture.md, "Audit")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .models import AuditEvent, Tenant


@dataclass(frozen=True, slots=True)
class BrokenLink:
    event_id: int
    reason: str


def verify_chain(tenant: Tenant | None) -> tuple[int, BrokenLink | None]:
    """(events checked, the first broken link or None) for one tenant's chain.

    Each event must hash to its stored ``hash`` and name the previous event's hash as
    ``prev_hash``; an edited row fails the first check, a removed or reordered one the
    second.
    """
    previous = ""
    checked = 0
    for event in _events(tenant):
        checked += 1
        if event.prev_hash != previous:
            return checked, BrokenLink(
                event.id,
                "its prev_hash does not match the event before it (an event was removed or inserted)",
            )
        if event.content_hash() != event.hash:
            return checked, BrokenLink(
                event.id, "its content does not match its hash (the row was edited)"
            )
        previous = event.hash
    return checked, None


def _events(tenant: Tenant | None) -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.filter(tenant=tenant)
        .select_related("tenant")
        .order_by("id")
        .iterator(chunk_size=2000)
    )

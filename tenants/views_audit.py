"""The audit log of a tenant: filter, page, export (CSV and JSON Lines, with the hashes)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest
from panka_web.keyset import keyset_page

from .access import Right, get_tenant_for_user
from .models import AuditEvent, Tenant
from .rows import AUDIT_COLUMNS, audit_rows

FIELDS = (
    "id",
    "created_at",
    "actor_name",
    "action",
    "target",
    "source_ip",
    "details",
    "prev_hash",
    "hash",
)
EVENTS_PER_PAGE = 100


def _day(value: str, *, end: bool) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def filtered(tenant: Tenant, params) -> QuerySet[AuditEvent]:
    """Events of ``tenant`` narrowed by actor, action, stack and date range."""
    events = AuditEvent.objects.filter(tenant=tenant)
    if actor := params.get("actor", "").strip():
        events = events.filter(actor_name=actor)
    if action := params.get("action", "").strip():
        events = events.filter(action__startswith=action)
    if target := params.get("target", "").strip():
        events = events.filter(target=target)
    if stack := params.get("stack", "").strip():
        events = events.filter(target__startswith=f"stack:{stack}")
    if (start := _day(params.get("from", ""), end=False)) is not None:
        events = events.filter(created_at__gte=start)
    if (until := _day(params.get("to", ""), end=True)) is not None:
        events = events.filter(created_at__lte=until)
    return events.order_by("-id")


@login_required
@require_GET
def audit_log(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug, need=Right.AUDIT)
    events = filtered(access.tenant, request.GET)
    # Keyset pages: a tenant's log grows without end, and counting or skipping its rows
    # (Paginator) costs more the longer it is.
    page = keyset_page(events.values(*AUDIT_COLUMNS), request.GET, size=EVENTS_PER_PAGE)
    query = request.GET.copy()
    for name in ("page", "before", "after"):
        query.pop(name, None)
    return render(
        request,
        "tenants/audit_log.html",
        {
            "access": access,
            "tenant": access.tenant,
            "page": page,
            "rows": audit_rows(page.items),
            "filters": request.GET,
            "query": query.urlencode(),
            "actions": distinct_actions(access.tenant),
        },
    )


def distinct_actions(tenant: Tenant) -> list[str]:
    """The actions that occur in ``tenant``'s log, for the filter, in one query.

    ``SELECT DISTINCT`` reads every event of the tenant; this recursive query instead
    jumps from one action to the next in the ``(tenant, action)`` index (a "loose index
    scan"), so its cost follows the number of distinct actions, not of events. Plain SQL
    that SQLite and PostgreSQL both run.
    """
    # The only thing formatted into the SQL is our own table name, quoted.
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"""
        WITH RECURSIVE found(action) AS (
            SELECT MIN(action) FROM {table} WHERE tenant_id = %s
            UNION ALL
            SELECT (SELECT MIN(action) FROM {table} WHERE tenant_id = %s AND action > found.action)
            FROM found WHERE found.action IS NOT NULL
        )
        SELECT action FROM found WHERE action IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk, tenant.pk])
        return [row[0] for row in cursor.fetchall()]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, object]]:
    for event in events.order_by("id").iterator(chunk_size=2000):
        yield {
            "id": event.id,
            "created_at": event.created_at.isoformat(),
            "actor_name": event.actor_name,
            "action": event.action,
            "target": event.target,
            "source_ip": event.source_ip or "",
            "details": event.details,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


@login_required
@require_GET
def audit_export(request: AuthenticatedHttpRequest, slug: str, fmt: str) -> HttpResponse:
    """Every matching event, oldest first, streamed (the chain reads in order)."""
    access = get_tenant_for_user(request.user, slug, need=Right.AUDIT)
    if fmt not in ("csv", "jsonl"):
        raise Http404
    events = filtered(access.tenant, request.GET)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        writer = csv.DictWriter(_Echo(), fieldnames=FIELDS)
        lines = (
            writer.writerow({**row, "details": json.dumps(row["details"], sort_keys=True)})
            for row in _rows(events)
        )
        body: Iterator[str] = _prepend(",".join(FIELDS) + "\r\n", lines)
        content_type, suffix = "text/csv", "csv"
    else:
        body = (json.dumps(row, sort_keys=True) + "\n" for row in _rows(events))
        content_type, suffix = "application/x-ndjson", "jsonl"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{access.tenant.slug}-{stamp}.{suffix}"'
    )
    return response


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest

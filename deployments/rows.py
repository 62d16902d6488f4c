"""The table rows of the stack, run, revision, lock and state lists, as escaped HTML.

A list page shows 50 rows. Rendered cell by cell in the template language, each row cost
hundreds of function calls (a ``{% url %}`` is a full ``reverse()``, ``|date`` a formatter,
every ``{{ }}`` a lookup, a localisation and an escape), which was most of a page's time on
our 2-core machines (``make bench-pages``). Here each row is one ``html_row`` (what
``format_html`` does, without its overhead), which escapes every value; links come from one
reversed pattern and times are formatted once (``panka_web/listing.py``). The templates
keep the table around the rows.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable

from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from panka_web.listing import Links, csrf_input, html_row, span, stamp
from tenants.models import NAME_RULE, Tenant

from . import lock_ops
from .aws.locks import LockInfo
from .models import Deployment

STACK_ROW = (
    '<tr><td><a href="{url}">{name}</a></td><td>{description}</td><td>{drift}</td>'
    "<td>{created}</td></tr>"
)


STACK_COLUMNS = ("name", "description", "drift_status", "created_at")


def stack_rows(tenant: Tenant, rows: Iterable[tuple]) -> SafeString:
    """Rows of ``STACK_COLUMNS`` (``drift_status``: an annotation, the latest check's)."""
    link = Links("stack_detail", tenant.slug)
    return mark_safe(
        "".join(
            html_row(
                STACK_ROW, url=link(name), name=name, description=description,
                drift=_drift_badge(drift), created=stamp(created, "%Y-%m-%d %H:%M"),
            )
            for name, description, drift, created in rows
        )
    )  # fmt: skip


def _drift_badge(status: str | None) -> str:
    if not status:
        return ""
    tone = "ok" if status == "in-sync" else "danger"
    return format_html('<span class="badge {}">{}</span>', tone, status)


RUN_ROW = (
    '<tr><td><a href="{url}">{number}</a></td><td>{kind}</td><td>{environment}</td>'
    '<td><span class="badge status-{status}">{status_label}</span></td><td>{revision}</td>'
    "<td>{requested_by}</td><td>{queued}</td></tr>"
)
RUN_COLUMNS = (
    "uid", "number", "kind", "environment", "status", "created_at", "revision__number",
    "requested_by__username",
)  # fmt: skip


def run_rows(tenant: Tenant, rows: Iterable[tuple]) -> SafeString:
    """Rows of ``RUN_COLUMNS``."""
    link = Links("run_detail", tenant.slug)
    kinds, statuses = dict(Deployment.Kind.choices), dict(Deployment.Status.choices)
    return mark_safe(
        "".join(
            html_row(
                RUN_ROW, url=link(uid), number=number, kind=kinds.get(kind, kind),
                environment=environment, status=status,
                status_label=statuses.get(status, status), queued=stamp(created),
                revision=revision, requested_by=who or "system",
            )
            for uid, number, kind, environment, status, created, revision, who in rows
        )
    )  # fmt: skip


REVISION_ROW = (
    '<tr id="revision-{number}"><td>'
    '<input type="radio" name="a" value="{number}" aria-label="from {number}"{from_checked}> '
    '<input type="radio" name="b" value="{number}" aria-label="to {number}"{to_checked}></td>'
    '<td><a href="{url}">{number}</a></td><td>{message}</td><td>{author}</td><td>{saved}</td>'
    "<td>{validation}</td><td><code>{hash}</code></td><td>{restore}</td></tr>"
)
REVISION_COLUMNS = (
    "number", "message", "author__username", "created_at", "error_count", "warning_count",
    "content_hash",
)  # fmt: skip
RESTORE_BUTTON = '<button type="submit" form="restore-{number}" class="secondary">Restore</button>'
RESTORE_FORM = '<form id="restore-{number}" method="post" action="{url}">{csrf}</form>'
CHECKED = mark_safe(" checked")


def _picked(i: int) -> dict[str, str]:
    """The compare radios of a page's row ``i``: its first row is "to", its second "from"."""
    return {"from_checked": CHECKED if i == 1 else "", "to_checked": CHECKED if i == 0 else ""}


def revision_rows(
    tenant: Tenant,
    stack_name: str,
    rows: list[tuple],
    *,
    first_page: bool,
    restorable: bool,
    csrf: str,
) -> tuple[SafeString, SafeString]:
    """The rows of ``REVISION_COLUMNS``, newest first, and their restore forms (outside the
    table's compare form, as HTML wants: forms do not nest). The page's first row is
    preselected as "to", its second as "from"; the newest of all (first on the first page)
    is the current revision, which has nothing to restore."""
    detail = Links("revision_detail", tenant.slug, stack_name)
    restore = Links("revision_restore", tenant.slug, stack_name)
    html, forms = [], []
    token = csrf_input(csrf)
    for i, (number, message, author, created, errors, warnings, digest) in enumerate(rows):
        button = ""
        if restorable and not (first_page and i == 0):
            button = html_row(RESTORE_BUTTON, number=number)
            forms.append(html_row(RESTORE_FORM, number=number, url=restore(number), csrf=token))
        html.append(
            html_row(
                REVISION_ROW, number=number, url=detail(number), message=message or "—",
                author=author or "system", saved=stamp(created), hash=digest[7:19],
                validation=_validation_badges(errors, warnings), restore=button, **_picked(i),
            )
        )  # fmt: skip
    return mark_safe("".join(html)), mark_safe("".join(forms))


def _validation_badges(errors: int, warnings: int) -> SafeString:
    if errors:
        badge = format_html(
            '<span class="badge danger">draft · {} error{}</span>', errors, _s(errors)
        )
    else:
        badge = mark_safe('<span class="badge ok">valid</span>')
    if warnings:
        badge += format_html(
            ' <span class="badge warn">{} warning{}</span>', warnings, _s(warnings)
        )
    return badge


def _s(count: int) -> str:
    return "" if count == 1 else "s"


LINK = '<a href="{url}">{text}</a>'
CELL = "<td>{text}</td>"
HELD = ' <span class="meta">(held {held})</span>'
STALE_CLASS = mark_safe(' class="stale"')
STALE_BADGE = mark_safe('<span class="badge danger">stale</span>')
MANUAL_BADGE = mark_safe(' <span class="badge">manual</span>')
LOCK_ROW = (
    "<tr{stale_class}>{tenant_cell}<td>{stack}</td><td>{environment}</td><td>{owner}</td>"
    "<td>{run}</td><td>{reason}{manual}</td><td>{acquired}{held}</td><td>{heartbeat}</td>"
    "<td>{expires}</td><td>{stale}</td></tr>"
)


def held_for(info: LockInfo) -> str:
    """How long the lock had been held when read, e.g. ``2h 05m`` ("" when unknown)."""
    return span(info.age)


def lock_rows(infos: list[LockInfo], tenant: Tenant | None, runs: LockRuns) -> SafeString:
    """Lock rows with links to their runs (``runs``: :func:`lock_runs` of ``infos``). On a
    tenant's page (``tenant``) stacks link to their pages; the platform page (no tenant)
    adds a tenant column."""
    run_links: dict[str, Links] = {}
    stack_link = Links("stack_detail", tenant.slug) if tenant is not None else None
    html = []
    for info in infos:
        key = lock_ops.parse_key(info.key)
        stack: str = key.stack if key else info.key
        # A lock key is written by whoever holds the lock (the panka CLI too): only a
        # valid stack name becomes a link.
        if key and stack_link and NAME_RULE.regex.fullmatch(key.stack):
            stack = html_row(LINK, url=stack_link(key.stack), text=key.stack)
        run = ""
        if (found := runs.get(info.deployment_id or "")) is not None:
            number, slug = found
            if slug not in run_links:
                run_links[slug] = Links("run_detail", slug)
            run = html_row(LINK, url=run_links[slug](info.deployment_id), text=f"#{number}")
        tenant_cell = "" if tenant is not None else html_row(CELL, text=key.tenant if key else "—")
        held = held_for(info)
        stale = lock_ops.is_stale(info)
        html.append(
            html_row(
                LOCK_ROW, stale_class=STALE_CLASS if stale else "", tenant_cell=tenant_cell,
                stack=stack, environment=key.environment if key else "—",
                owner=info.owner or "?", run=run, reason=info.reason,
                manual=MANUAL_BADGE if lock_ops.is_manual(info) else "",
                acquired=stamp(info.acquired_at) or "—",
                held=html_row(HELD, held=held) if held else "",
                heartbeat=stamp(info.heartbeat_at, "%H:%M:%S") or "—",
                expires=stamp(info.expires_at) or "—", stale=STALE_BADGE if stale else "",
            )
        )  # fmt: skip
    return mark_safe("".join(html))


LockRuns = dict[str, tuple[int, str]]


def lock_runs(infos: list[LockInfo], tenant: Tenant | None) -> LockRuns:
    """run id -> (number, tenant slug) of the runs the locks name: of ``tenant`` only,
    when given (a lock record names its run by id, and a CLI can write any id there)."""
    ids = []
    for info in infos:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            ids.append(uuid.UUID(info.deployment_id))
    if not ids:
        return {}
    found = Deployment.objects.filter(uid__in=ids)
    if tenant is not None:
        found = found.filter(stack__tenant=tenant)
    rows = found.values_list("uid", "number", "stack__tenant__slug")
    return {str(uid): (number, slug) for uid, number, slug in rows}


STATE_ROW = (
    '<tr id="v-{version_id}"><td>{compare}</td><td>{version}{current}{unusable}</td>'
    "<td>{serial}</td><td>{saved}</td><td>{who}</td><td>{written_by}</td><td>{resources}</td>"
    "<td>{size}</td></tr>"
)
COMPARE = (
    '<input type="radio" name="a" value="{id}" aria-label="from"{from_checked}> '
    '<input type="radio" name="b" value="{id}" aria-label="to"{to_checked}>'
)
VERSION_LINK = '<a href="{url}"><code>{short}</code></a>'
DELETED = mark_safe('<span class="badge danger">deleted</span>')
CURRENT = mark_safe(' <span class="badge ok">current</span>')
UNUSABLE = ' <span class="badge danger" title="{problem}">unusable</span>'
FOREIGN = mark_safe(
    '<span class="badge warn" title="no Panka Web run wrote this version (the panka CLI or a '
    'hand edit)">not written by Panka Web</span>'
)


def state_rows(tenant: Tenant, stack_name: str, environment: str, rows: list[dict]) -> SafeString:
    """The state history's rows (``views/state.py`` gathers them: version, S3 metadata,
    run, problem). The page's first version is preselected as "to", its second as "from"."""
    version_link = Links("state_version", tenant.slug, stack_name, environment)
    run_link = Links("run_detail", tenant.slug)
    html = []
    for i, row in enumerate(rows):
        v = row["version"]
        if v.deleted:
            compare, version = "", DELETED
        else:
            compare = html_row(COMPARE, id=v.version_id, **_picked(i))
            version = html_row(
                VERSION_LINK, url=version_link(v.version_id), short=v.version_id[:16]
            )
        if row["run"] is not None:
            run = row["run"]
            written_by = html_row(LINK, url=run_link(run.uid), text=f"run #{run.number}")
        else:
            written_by = "restore" if row["restore"] else FOREIGN if row["foreign"] else ""
        unusable = html_row(UNUSABLE, problem=row["problem"]) if row["problem"] else ""
        html.append(
            html_row(
                STATE_ROW, version_id=v.version_id, compare=compare, version=version,
                current=CURRENT if v.is_latest else "", unusable=unusable,
                serial=row["serial"], saved=stamp(v.last_modified), who=row["who"] or "—",
                written_by=written_by, resources=row["resources"] or "—",
                size=filesizeformat(v.size),
            )
        )  # fmt: skip
    return mark_safe("".join(html))

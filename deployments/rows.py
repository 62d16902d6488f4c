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

from panka_web.listing import Links, html_row, stamp
from tenants.models import Tenant

from . import lock_ops
from .aws.locks import LockInfo
from .models import Deployment

STACK_ROW = (
    '<tr><td><a href="{url}">{name}</a></td><td>{description}</td><td>{drift}</td>'
    "<td>{created}</td></tr>"
)


def stack_rows(tenant: Tenant, rows: Iterable[tuple]) -> SafeString:
    """Rows of (name, description, drift status, created)."""
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
RESTORE_FORM = (
    '<form id="restore-{number}" method="post" action="{url}">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}"></form>'
)
CHECKED = mark_safe(" checked")


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
    for i, (number, message, author, created, errors, warnings, digest) in enumerate(rows):
        can_restore = restorable and not (first_page and i == 0)
        html.append(
            html_row(
                REVISION_ROW, number=number, url=detail(number), message=message or "—",
                author=author or "system", saved=stamp(created), hash=digest[7:19],
                from_checked=CHECKED if i == 1 else "", to_checked=CHECKED if i == 0 else "",
                validation=_validation_badges(errors, warnings),
                restore=format_html(
                    '<button type="submit" form="restore-{}" class="secondary">Restore</button>',
                    number,
                ) if can_restore else "",
            )
        )  # fmt: skip
        if can_restore:
            forms.append(html_row(RESTORE_FORM, number=number, url=restore(number), csrf=csrf))
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


LOCK_ROW = (
    "<tr{stale_class}>{tenant_cell}<td>{stack}</td><td>{environment}</td><td>{owner}</td>"
    "<td>{run}</td><td>{reason}{manual}</td><td>{acquired}{held}</td><td>{heartbeat}</td>"
    "<td>{expires}</td><td>{stale}</td></tr>"
)


def held_for(info: LockInfo) -> str:
    """How long the lock had been held when read, e.g. ``2h 05m`` ("" when unknown)."""
    if info.acquired_at is None:
        return ""
    seconds = max(0, int((info.observed_at - info.acquired_at).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def lock_rows(infos: list[LockInfo], tenant: Tenant | None = None) -> SafeString:
    """Lock rows with links to their runs. On a tenant's page (``tenant``) stacks link to
    their pages and only that tenant's runs are linked (a lock record names its run by
    id, and a CLI can write any id there); the platform page (no tenant) adds a tenant
    column."""
    ids = []
    for info in infos:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            ids.append(uuid.UUID(info.deployment_id))
    runs: dict[str, tuple[int, str]] = {}
    if ids:
        found = Deployment.objects.filter(uid__in=ids)
        if tenant is not None:
            found = found.filter(stack__tenant=tenant)
        for uid, number, slug in found.values_list("uid", "number", "stack__tenant__slug"):
            runs[str(uid)] = (number, slug)
    run_links: dict[str, Links] = {}
    stack_link = Links("stack_detail", tenant.slug) if tenant is not None else None
    html = []
    for info in infos:
        key = lock_ops.parse_key(info.key)
        stack = key.stack if key else info.key
        if key and stack_link:
            stack = html_row(
                '<a href="{url}">{name}</a>', url=stack_link(key.stack), name=key.stack
            )
        run = ""
        if (found_run := runs.get(info.deployment_id or "")) is not None:
            number, slug = found_run
            if slug not in run_links:
                run_links[slug] = Links("run_detail", slug)
            run = html_row(
                '<a href="{url}">#{number}</a>',
                url=run_links[slug](info.deployment_id),
                number=number,
            )
        stale = lock_ops.is_stale(info)
        held = held_for(info)
        html.append(
            html_row(
                LOCK_ROW,
                stale_class=mark_safe(' class="stale"') if stale else "",
                tenant_cell=format_html("<td>{}</td>", key.tenant if key else "—")
                if tenant is None else "",
                stack=stack, environment=key.environment if key else "—",
                owner=info.owner or "?", run=run, reason=info.reason,
                manual=mark_safe(' <span class="badge">manual</span>')
                if lock_ops.is_manual(info) else "",
                acquired=stamp(info.acquired_at) or "—",
                held=format_html(' <span class="meta">(held {})</span>', held) if held else "",
                heartbeat=stamp(info.heartbeat_at, "%H:%M:%S") or "—",
                expires=stamp(info.expires_at) or "—",
                stale=mark_safe('<span class="badge danger">stale</span>') if stale else "",
            )
        )  # fmt: skip
    return mark_safe("".join(html))


STATE_ROW = (
    '<tr id="v-{version_id}"><td>{compare}</td><td>{version}{current}{unusable}</td>'
    "<td>{serial}</td><td>{saved}</td><td>{who}</td><td>{written_by}</td><td>{resources}</td>"
    "<td>{size}</td></tr>"
)
COMPARE = (
    '<input type="radio" name="a" value="{id}" aria-label="from"{from_checked}> '
    '<input type="radio" name="b" value="{id}" aria-label="to"{to_checked}>'
)
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
            compare, version = "", mark_safe('<span class="badge danger">deleted</span>')
        else:
            compare = html_row(
                COMPARE, id=v.version_id, from_checked=CHECKED if i == 1 else "",
                to_checked=CHECKED if i == 0 else "",
            )  # fmt: skip
            version = html_row(
                '<a href="{url}"><code>{short}</code></a>',
                url=version_link(v.version_id), short=v.version_id[:16],
            )  # fmt: skip
        if row["run"] is not None:
            written_by = html_row(
                '<a href="{url}">run #{number}</a>', url=run_link(row["run"].uid),
                number=row["run"].number,
            )  # fmt: skip
        else:
            written_by = "restore" if row["restore"] else FOREIGN if row["foreign"] else ""
        html.append(
            html_row(
                STATE_ROW, version_id=v.version_id, compare=compare, version=version,
                current=mark_safe(' <span class="badge ok">current</span>') if v.is_latest else "",
                unusable=html_row(
                    ' <span class="badge danger" title="{problem}">unusable</span>',
                    problem=row["problem"],
                ) if row["problem"] else "",
                serial=row["serial"], saved=stamp(v.last_modified), who=row["who"] or "—",
                written_by=written_by, resources=row["resources"] or "—",
                size=filesizeformat(v.size),
            )
        )  # fmt: skip
    return mark_safe("".join(html))

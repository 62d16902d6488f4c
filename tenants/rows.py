"""The table rows of the audit log and the member list, as escaped HTML.

Why in Python and not cell by cell in the template: see ``deployments/rows.py`` (a page of
100 audit events cost some 40,000 function calls in the template language).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from panka_web.listing import Links, csrf_input, html_row, stamp

from .models import Role, Tenant

AUDIT_ROW = (
    "<tr><td>{id}</td><td>{time}</td><td>{actor}</td><td><code>{action}</code></td>"
    '<td>{target}</td><td><code class="details">{details}</code></td><td>{source}</td>'
    '<td><code title="{hash}">{short_hash}</code></td></tr>'
)
AUDIT_COLUMNS = (
    "id", "created_at", "actor_name", "action", "target", "details", "source_ip", "hash",
)  # fmt: skip


def audit_rows(events: Iterable[dict]) -> SafeString:
    """Rows of ``values(*AUDIT_COLUMNS)``."""
    return mark_safe(
        "".join(
            html_row(
                AUDIT_ROW, id=e["id"], time=stamp(e["created_at"]), actor=e["actor_name"],
                action=e["action"], target=e["target"], details=_details(e["details"]),
                source=e["source_ip"] or "", hash=e["hash"], short_hash=e["hash"][:10],
            )
            for e in events
        )
    )  # fmt: skip


def _details(details: object) -> str:
    if isinstance(details, dict):
        return " ".join(f"{key}={value}" for key, value in details.items())
    return str(details)


MEMBER_ROW = (
    '<tr id="member-{username}"><td>{username}</td><td>{email}</td><td>{role}</td>'
    "<td>{since}</td>{remove}</tr>"
)
MEMBER_COLUMNS = ("user__username", "user__email", "role", "created_at")
ROLE_FORM = (
    '<form method="post" action="{url}" class="inline">{csrf}'
    '<select name="role" aria-label="role of {username}">{options}</select> '
    '<button type="submit" class="secondary">Change</button></form>'
)
REMOVE_FORM = (
    '<td><form method="post" action="{url}" class="inline">{csrf}'
    '<button type="submit" class="link">Remove</button></form></td>'
)


def member_rows(tenant: Tenant, rows: Iterable[tuple], *, admin: bool, csrf: str) -> SafeString:
    """Rows of ``MEMBER_COLUMNS``; an admin's rows carry a role picker and a remove button."""
    labels = dict(Role.choices)
    change, remove = Links("member_role", tenant.slug), Links("member_remove", tenant.slug)
    token = csrf_input(csrf)
    # The pickers differ only in the option selected: one per role, built once.
    options = {
        role: format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((value, " selected" if value == role else "", label) for value, label in Role.choices),
        )
        for role in labels
    }  # fmt: skip
    html = []
    for username, email, role, created in rows:
        if admin:
            role_cell = html_row(
                ROLE_FORM, url=change(username), csrf=token, username=username,
                options=options.get(role, ""),
            )  # fmt: skip
            remove_cell = html_row(REMOVE_FORM, url=remove(username), csrf=csrf_input)
        else:
            role_cell, remove_cell = labels.get(role, role), ""
        html.append(
            html_row(
                MEMBER_ROW, username=username, email=email, role=role_cell,
                since=stamp(created, "%Y-%m-%d"), remove=remove_cell,
            )
        )  # fmt: skip
    return mark_safe("".join(html))

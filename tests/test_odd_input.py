"""Odd input never gets a 500: every URL of the role matrix, as the roles that may use it,
with hostile query strings and form values (format.md §7 spirit: bad input gets a clear
answer and changes nothing it should not)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from deployments.aws.locks import LockManager, lock_key
from tenants.models import AuditEvent

from . import test_role_matrix
from .test_role_matrix import ROWS, _url

world = test_role_matrix.world  # the role matrix's fixture: the same tenant, stack, run, state

ODD_VALUES = [
    "",
    " ",
    "\x00",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "abc",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "ü" * 300,
    "x" * 20_000,
    "%00",
    "' OR 1=1 --",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]
# What the views read from the query string (request.GET and the audit filters) ...
ODD_QUERY_KEYS = [
    "page", "after", "before", "a", "b", "file", "line", "col", "mode", "download",
    "key_marker", "version_marker", "cidr", "actor", "action", "target", "stack", "from", "to",
]  # fmt: skip
# ... and from forms, besides each row's own fields.
ODD_FORM_KEYS = [
    "path", "new_path", "text", "reason", "role", "who", "name", "message", "hours", "lock_id",
    "confirm", "variables", "force", "against", "current", "environment", "kind", "cidr",
]  # fmt: skip


def _who(row) -> str:
    """The most able persona the row lets in (so the view's real work runs)."""
    for persona in ("platform_admin", "admin", "deployer", "auditor", "viewer"):
        if row.expect.get(persona) == "ok":
            return persona
    return "platform_admin"


@pytest.mark.production  # PostgreSQL refuses what SQLite takes (a NUL in text or jsonb)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method}-{r.name}")
def test_odd_input_never_gets_a_500(
    row, client, personas, world, inline_tasks, django_capture_on_commit_callbacks
):
    url = _url(row.name, world)
    client.force_login(getattr(personas, _who(row)))
    sep = "&" if "?" in url else "?"
    failures = []
    for value in ODD_VALUES:
        with django_capture_on_commit_callbacks(execute=True):
            if row.method == "GET":
                query = "&".join(f"{k}={quote(value)}" for k in ODD_QUERY_KEYS)
                response = client.get(url + sep + query)
            else:
                form = {k: value for k, _ in row.data} or {"x": value}
                for key in ODD_FORM_KEYS:
                    form.setdefault(key, value)
                response = client.post(url, form)
        if response.status_code >= 500:
            failures.append((value[:40], response.status_code))
        elif "\x00" in value:
            # Refused at the door (panka_web.nul_input), before any view could change AWS.
            assert response.status_code == 400, (row.name, response.status_code)
            assert "NUL character" in response.content.decode()
    assert not failures, f"{row.method} {url}: {failures}"


@pytest.mark.production
def test_a_nul_refused_at_the_door_leaves_no_lock_behind(client, personas, world, inline_tasks):
    """The case that motivated it: on PostgreSQL a lock reason with a NUL took the
    DynamoDB lock, then failed writing its audit event."""
    client.force_login(personas.admin)
    url = _url("lock_environment", world)
    response = client.post(url, {"reason": "maintenance\x00", "hours": "1"})
    assert response.status_code == 400
    assert LockManager(inline_tasks).get(lock_key("acme", "shop", "development")) is None
    assert not AuditEvent.objects.filter(action="lock.manual").exists()

"""Odd input never gets a 500: every URL of the role matrix, as the roles that may use it,
with hostile query strings and form values (format.md §7 spirit: bad input gets a clear
answer and changes nothing it should not)."""

from __future__ import annotations

import pytest

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
ODD_QUERY_KEYS = [
    "page", "before", "after", "a", "b", "file", "target", "action", "actor", "since",
    "until", "key_marker", "version_marker", "q", "environment", "kind",
]  # fmt: skip


def _who(row) -> str:
    """The most able persona the row lets in (so the view's real work runs)."""
    for persona in ("platform_admin", "admin", "deployer", "auditor", "viewer"):
        if row.expect.get(persona) == "ok":
            return persona
    return "platform_admin"


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
                query = "&".join(f"{k}={value}" for k in ODD_QUERY_KEYS)
                response = client.get(url + sep + query)
            else:
                form = {k: value for k, _ in row.data} or {"x": value}
                for key in ("path", "reason", "role", "who", "name", "message", "text"):
                    form.setdefault(key, value)
                response = client.post(url, form)
        if response.status_code >= 500:
            failures.append((value[:40], response.status_code))
    assert not failures, f"{row.method} {url}: {failures}"

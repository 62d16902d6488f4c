"""The list pages' rows (deployments/rows.py, tenants/rows.py): escaped, linked, and with
the per-role parts only for the roles that have them."""

from __future__ import annotations

import re

import pytest

from deployments.models import Stack, StackRevision
from tenants import audit
from tests.conftest import make_stack

HOSTILE = '<script>alert("x")</script> & "quotes"'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;"


def test_stack_rows_escape_and_link(client, personas):
    Stack.objects.create(tenant=personas.tenant, name="web", description=HOSTILE)
    client.force_login(personas.viewer)
    page = client.get("/t/acme/").content.decode()
    assert "<script>alert" not in page and ESCAPED in page
    assert '<a href="/t/acme/stacks/web/">web</a>' in page


def test_revision_rows_restore_only_for_deployers_and_never_the_current(client, personas):
    stack = make_stack(personas.tenant)
    StackRevision.objects.create(
        stack=stack, number=2, files=stack.revisions.get().files, message=HOSTILE,
        author=personas.deployer,
    )  # fmt: skip
    client.force_login(personas.deployer)
    page = client.get("/t/acme/stacks/shop/revisions/").content.decode()
    assert ESCAPED in page and "<script>alert" not in page
    assert 'form="restore-1"' in page and 'form="restore-2"' not in page, "2 is current"
    assert 'action="/t/acme/stacks/shop/revisions/1/restore/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    client.force_login(personas.viewer)
    page = client.get("/t/acme/stacks/shop/revisions/").content.decode()
    assert "restore-1" not in page and 'href="/t/acme/stacks/shop/revisions/1/"' in page


def test_audit_rows_escape_details(client, personas):
    audit.record(
        action="stack.created", tenant=personas.tenant, actor=personas.admin,
        target="stack:<b>x</b>", details={"note": HOSTILE},
    )  # fmt: skip
    client.force_login(personas.auditor)
    page = client.get("/t/acme/audit/").content.decode()
    assert "stack:&lt;b&gt;x&lt;/b&gt;" in page and f"note={ESCAPED}" in page
    assert "<script>alert" not in page


def test_member_rows_role_picker_for_admins_only(client, personas):
    client.force_login(personas.admin)
    page = client.get("/t/acme/members/").content.decode()
    assert 'action="/t/acme/members/deployer/role/"' in page
    assert '<option value="deployer" selected>' in page
    assert 'action="/t/acme/members/viewer/remove/"' in page
    client.force_login(personas.viewer)
    page = client.get("/t/acme/members/").content.decode()
    assert "/role/" not in page and "/remove/" not in page
    assert '<tr id="member-deployer"><td>deployer</td>' in page


def test_lock_rows_say_how_long_a_lock_has_been_held(client, personas, inline_tasks):
    from deployments.aws.locks import LockManager, lock_key

    make_stack(personas.tenant)
    LockManager(inline_tasks).acquire(
        lock_key("acme", "shop", "development"), owner="bob@laptop", reason="<b>apply</b>"
    )
    client.force_login(personas.viewer)
    page = client.get("/t/acme/locks/").content.decode()
    assert re.search(r"\(held \d+s\)", page), "held for some seconds"
    assert '<a href="/t/acme/stacks/shop/">shop</a>' in page
    assert "&lt;b&gt;apply&lt;/b&gt;" in page and "<b>apply</b>" not in page


@pytest.mark.parametrize("seconds, shown", [
    (0, "0s"), (59, "59s"), (61, "1m 01s"), (3900, "1h 05m"), (2 * 86400 + 3 * 3600, "2d 03h"),
])  # fmt: skip
def test_held_for(seconds, shown) -> None:
    from datetime import UTC, datetime, timedelta

    from deployments.aws.locks import LockInfo
    from deployments.rows import held_for

    now = datetime(2026, 11, 27, tzinfo=UTC)
    info = LockInfo(
        key="k", lock_id="i", owner="o", acquired_at=now - timedelta(seconds=seconds),
        expires_at=None, lease_seconds=None, reason="", deployment_id=None,
        heartbeat_at=None, rvn=None, observed_at=now,
    )  # fmt: skip
    assert held_for(info) == shown


def test_platform_lock_rows_have_a_tenant_column_and_no_stack_links(client, personas, inline_tasks):
    from deployments.aws.locks import LockManager, lock_key

    manager = LockManager(inline_tasks)
    manager.acquire(lock_key("globex", "secret", "production"), owner="mallory", reason="x")
    client.force_login(personas.platform_admin)
    page = client.get("/locks/").content.decode()
    assert "<td>globex</td><td>secret</td><td>production</td>" in page
    assert "/stacks/secret/" not in page


def test_a_lock_key_that_is_not_a_stack_name_is_not_linked(client, personas, inline_tasks):
    from deployments.aws.locks import LockManager

    make_stack(personas.tenant)
    # Written by whoever holds the lock, e.g. a CLI: a path, not a stack name.
    LockManager(inline_tasks).acquire(
        "tenant:acme:stack:../../locks:env:development", owner="cli", reason="x"
    )
    client.force_login(personas.viewer)
    page = client.get("/t/acme/locks/").content.decode()
    assert "<td>../../locks</td>" in page and 'href="/t/acme/stacks/../' not in page


def test_revision_rows_on_a_later_page_can_all_be_restored(client, personas):
    from bench import seed

    stack = make_stack(personas.tenant)
    seed.revisions(stack, 59, author=None)
    client.force_login(personas.deployer)
    first = client.get("/t/acme/stacks/shop/revisions/").content.decode()
    assert 'form="restore-60"' not in first and 'form="restore-59"' in first
    later = client.get("/t/acme/stacks/shop/revisions/?page=2").content.decode()
    assert 'form="restore-10"' in later and 'form="restore-1"' in later
    assert "<td>system</td>" in later, "no author"
    assert 'value="10" aria-label="to 10" checked' in later, "the page's first is 'to'"


def test_run_rows_link_and_say_system_for_no_requester(client, personas):
    from bench import seed

    stack = make_stack(personas.tenant)
    seed.runs(stack, stack.revisions.get(), 2, user=None)
    run = stack.deployments.get(number=2)
    client.force_login(personas.viewer)
    page = client.get("/t/acme/stacks/shop/runs/").content.decode()
    assert f'<a href="/t/acme/runs/{run.uid}/">2</a>' in page
    assert page.count("<td>system</td>") == 2


def test_numbered_pages_read_by_number_and_survive_a_gap(personas):
    """page_of_numbered: page k holds numbers N-50k+1..N-50(k-1); a missing number only
    makes its page one row shorter."""
    from bench import seed
    from panka_web.listing import page_of_numbered

    stack = make_stack(personas.tenant)
    assert page_of_numbered(stack.deployments.all(), ("number",), 1, 50).object_list == []
    seed.runs(stack, stack.revisions.get(), 120, user=personas.deployer)
    runs = stack.deployments.all()

    def numbers(page):
        return [n for (n,) in page_of_numbered(runs, ("number",), page, 50).object_list]

    assert numbers(1) == list(range(120, 70, -1))
    assert numbers(3) == list(range(20, 0, -1))
    assert numbers(99) == numbers(3) and numbers("x") == numbers(1), "as Paginator.get_page"
    stack.deployments.filter(number=100).delete()
    assert numbers(1) == [n for n in range(120, 70, -1) if n != 100]
    assert numbers(2) == list(range(70, 20, -1))
    assert page_of_numbered(runs, ("number",), 1, 50).paginator.num_pages == 3

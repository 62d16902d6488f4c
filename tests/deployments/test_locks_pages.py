"""Locks: the tenant page, manual locks, force-unlock (never a newer holder's)."""

from __future__ import annotations

from deployments import runs
from deployments.aws.locks import LockManager, lock_key
from deployments.models import Deployment
from tenants.models import AuditEvent

from .run_fixtures import deployable_stack

KEY = lock_key("acme", "shop", "development")
STACK = "/t/acme/stacks/shop/"


def test_the_locks_page_lists_this_tenants_locks_only_including_cli_ones(
    client, personas, inline_tasks
):
    deployable_stack(personas)
    manager = LockManager(inline_tasks)
    manager.acquire(KEY, owner="bob@laptop", reason="panka apply")  # as the CLI would
    manager.acquire(
        lock_key("globex", "secret", "production"), owner="mallory@globex", reason="theirs"
    )
    client.force_login(personas.viewer)
    page = client.get("/t/acme/locks/").content.decode()
    assert "bob@laptop" in page and "shop" in page and "mallory@globex" not in page


def test_platform_admins_see_every_tenants_locks(client, personas, inline_tasks):
    manager = LockManager(inline_tasks)
    manager.acquire(KEY, owner="bob", reason="x")
    manager.acquire(
        lock_key("globex", "secret", "production"), owner="mallory@globex", reason="theirs"
    )
    client.force_login(personas.platform_admin)
    page = client.get("/locks/").content.decode()
    assert "bob" in page and "mallory@globex" in page
    client.force_login(personas.admin)
    assert client.get("/locks/").status_code in (302, 404)


def test_the_locks_page_pages_beyond_one_page(client, personas, inline_tasks, monkeypatch):
    from deployments.views import locks

    monkeypatch.setattr(locks, "PAGE_SIZE", 3)
    manager = LockManager(inline_tasks)
    for i in range(5):
        manager.acquire(lock_key("acme", f"s{i}", "development"), owner="bob", reason="x")
    client.force_login(personas.viewer)
    first = client.get("/t/acme/locks/").content.decode()
    assert first.count("<tr") == 4 and "more →" in first
    import re

    after = re.search(r'href="\?after=([^"]+)"', first).group(1)
    second = client.get(f"/t/acme/locks/?after={after}").content.decode()
    assert second.count("<tr") == 3 and "more →" not in second


def test_a_deployer_locks_an_environment_and_queued_runs_say_why(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    client.force_login(personas.deployer)
    client.post(
        STACK + "locks/development/lock/", {"reason": "maintenance until 14:00", "hours": "2"}
    )
    info = LockManager(inline_tasks).get(KEY)
    assert info.owner == "panka-web:deployer" and "maintenance until 14:00" in info.reason
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind="plan",
            actor=personas.deployer,
        )
    run.refresh_from_db()
    assert run.status == Deployment.Status.QUEUED
    assert (
        "locked by panka-web:deployer: manual: maintenance until 14:00"
        in runs.queue_position(run)[1]
    )
    overview = client.get(STACK).content.decode()
    assert "Release my lock" in overview
    client.post(STACK + "locks/development/unlock/", {"lock_id": info.lock_id})
    assert LockManager(inline_tasks).get(KEY) is None
    assert {"lock.manual", "lock.release"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_another_deployer_cannot_release_a_manual_lock(client, personas, inline_tasks):
    deployable_stack(personas)
    lease = LockManager(inline_tasks).acquire(KEY, owner="panka-web:admin", reason="manual: mine")
    client.force_login(personas.deployer)
    client.post(STACK + "locks/development/unlock/", {"lock_id": lease.lock_id})
    assert LockManager(inline_tasks).get(KEY).lock_id == lease.lock_id


def test_admin_force_unlocks_the_lock_they_saw_and_interrupts_its_run(
    client, personas, inline_tasks
):
    stack = deployable_stack(personas)
    lease = LockManager(inline_tasks).acquire(
        KEY, owner="panka-web:deployer", reason="apply of run #1"
    )
    run = Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="development",
        status=Deployment.Status.APPLYING, lock_id=lease.lock_id, requested_by=personas.deployer,
    )  # fmt: skip
    client.force_login(personas.admin)
    refused = client.post(
        STACK + "locks/development/force-unlock/",
        {"lock_id": lease.lock_id, "reason": ""},
        follow=True,
    )
    assert (
        "type a reason" in refused.content.decode()
        and LockManager(inline_tasks).get(KEY) is not None
    )
    client.post(
        STACK + "locks/development/force-unlock/",
        {"lock_id": lease.lock_id, "reason": "worker is gone"},
    )
    assert LockManager(inline_tasks).get(KEY) is None
    run.refresh_from_db()
    assert run.status == Deployment.Status.INTERRUPTED
    event = AuditEvent.objects.get(action="lock.force_unlock")
    assert (
        event.details["previous_holder"] == "panka-web:deployer"
        and event.details["interrupted_run"] == 1
    )


def test_force_unlock_never_removes_a_newer_holder(client, personas, inline_tasks):
    deployable_stack(personas)
    manager = LockManager(inline_tasks)
    old = manager.acquire(KEY, owner="old", reason="x")
    manager.force_release(KEY, old.lock_id)
    newer = manager.acquire(KEY, owner="newer", reason="y")
    client.force_login(personas.admin)
    page = client.post(
        STACK + "locks/development/force-unlock/",
        {"lock_id": old.lock_id, "reason": "stale"},
        follow=True,
    ).content.decode()
    assert "changed holder" in page
    assert manager.get(KEY).lock_id == newer.lock_id


def test_roles_and_outsiders(client, personas, inline_tasks):
    deployable_stack(personas)
    lease = LockManager(inline_tasks).acquire(KEY, owner="bob", reason="x")
    for persona in (personas.viewer, personas.auditor):
        client.force_login(persona)
        assert client.get("/t/acme/locks/").status_code == 200
        assert client.post(STACK + "locks/development/lock/", {"reason": "x"}).status_code == 403
        assert (
            client.post(STACK + "locks/development/unlock/", {"lock_id": lease.lock_id}).status_code
            == 403
        )
    client.force_login(personas.deployer)
    assert (
        client.post(
            STACK + "locks/development/force-unlock/", {"lock_id": lease.lock_id, "reason": "x"}
        ).status_code
        == 403
    )
    client.force_login(personas.outsider)
    assert client.get("/t/acme/locks/").status_code == 404
    for action in ("lock", "unlock", "force-unlock"):
        assert (
            client.post(
                STACK + f"locks/development/{action}/", {"lock_id": lease.lock_id, "reason": "x"}
            ).status_code
            == 404
        )
    client.force_login(personas.admin)
    assert client.get(STACK + "locks/development/lock/").status_code == 405
    assert LockManager(inline_tasks).get(KEY).lock_id == lease.lock_id, (
        "no refused request changed the lock"
    )

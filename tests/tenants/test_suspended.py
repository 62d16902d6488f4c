"""A suspended tenant: members read everything; every change is refused, in one place."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, StackDraft
from tenants import platform
from tenants.models import Tenant
from tests import test_role_matrix as matrix
from tests.test_role_matrix import ROWS, _snapshot, _url

world = matrix.world  # the matrix's two-tenant world, as a fixture here too

# Changes that stay possible: cancelling only stops work; live validation saves nothing.
STILL_ALLOWED = {"run_cancel", "stack_validate"}
# Every row of the matrix that needs a changing right (tenant pages; the platform pages
# are how a tenant gets suspended and reactivated).
CHANGES = [
    row
    for row in ROWS
    if row.expect["viewer"] == 403
    and row.expect["auditor"] == 403
    and row.name not in STILL_ALLOWED
    and not row.name.startswith("platform_")
]


def test_the_change_list_covers_every_kind_of_mutation():
    names = {row.name for row in CHANGES}
    for expected in (
        "stack_new", "stack_save", "stack_discard", "stack_file_add", "stack_file_rename",
        "stack_file_delete", "stack_upload", "run_queue", "run_apply", "run_approve",
        "state_restore", "lock_environment", "unlock_environment", "force_unlock",
        "check_drift", "drift_schedule", "revision_restore", "member_add", "member_invite",
        "member_role", "member_remove",
    ):  # fmt: skip
        assert expected in names, expected


@pytest.fixture
def suspended(world, personas):
    platform.suspend(tenant=personas.tenant, reason="audit pending", actor=personas.platform_admin)
    personas.tenant.refresh_from_db()
    return world


@pytest.mark.parametrize("row", CHANGES, ids=lambda r: f"{r.method}-{r.name}")
def test_a_suspended_tenant_refuses_the_change_and_nothing_changes(
    row, client, personas, suspended, inline_tasks, django_capture_on_commit_callbacks
):
    url = _url(row.name, suspended)
    for persona in ("deployer", "admin", "platform_admin"):
        client.force_login(getattr(personas, persona))
        before = _snapshot(inline_tasks)
        with django_capture_on_commit_callbacks(execute=True):
            post = row.method == "POST"
            response = client.post(url, dict(row.data)) if post else client.get(url)
        if row.expect[persona] == 403:
            assert response.status_code == 403  # too low a role says so first
            continue
        assert response.status_code == 403, f"{persona} {row.method} {url}"
        body = response.content.decode()
        assert "Acme is suspended: audit pending" in body, body
        assert "nothing can be changed" in body
        assert _snapshot(inline_tasks) == before, f"{persona} {url} changed something"


def test_members_keep_read_access(client, personas, suspended):
    for persona in ("viewer", "auditor", "deployer"):
        client.force_login(getattr(personas, persona))
        for name in ("tenant_home", "stack_detail", "stack_editor", "run_detail", "state_history"):
            assert client.get(_url(name, suspended)).status_code == 200, (persona, name)
    client.force_login(personas.auditor)
    assert client.get(_url("audit_log", suspended)).status_code == 200


def test_the_editor_is_read_only_and_validation_still_answers_without_saving(
    client, personas, suspended
):
    client.force_login(personas.deployer)
    page = client.get("/t/acme/stacks/shop/edit/").content.decode()
    assert "read-only" in page
    assert 'hx-post="/t/acme/stacks/shop/edit/validate/"' not in page
    response = client.post(
        "/t/acme/stacks/shop/edit/validate/",
        {
            "path": "stack.yaml",
            "text": "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: Shop\n",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "stack.yaml:4:" in body and "lowercase" in body, body
    assert not StackDraft.objects.exists(), "validation of a suspended tenant saved a draft"


def test_a_waiting_run_is_cancelled_and_a_member_may_still_cancel_a_running_one(
    client, personas, world, inline_tasks
):
    waiting = Deployment.objects.get(uid=world["uid"])  # awaiting approval
    running = Deployment.objects.create(
        stack=waiting.stack, number=2, revision=waiting.revision, environment="development",
        status=Deployment.Status.APPLYING, requested_by=personas.deployer,
    )  # fmt: skip
    platform.suspend(tenant=personas.tenant, reason="audit pending", actor=personas.platform_admin)
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and "audit pending" in waiting.error
    client.force_login(personas.deployer)
    response = client.post(f"/t/acme/runs/{running.uid}/cancel/")
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.cancel_requested


def test_a_run_cannot_be_queued_even_by_code_that_skips_the_views(personas, world):
    from deployments import runs

    stack = Deployment.objects.get(uid=world["uid"]).stack
    Tenant.objects.filter(pk=personas.tenant.pk).update(status="suspended")
    with pytest.raises(runs.RunRefused, match="suspended"):
        runs.queue_run(
            stack=stack, revision=stack.latest_revision(), environment="development",
            kind="plan", actor=personas.deployer,
        )  # fmt: skip

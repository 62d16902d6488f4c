"""Run pages and actions: who may see and do what."""

from __future__ import annotations

import re

import pytest

from deployments.models import Deployment

from .run_fixtures import deployable_stack

Status = Deployment.Status
QUEUE = "/t/acme/stacks/shop/runs/new/"


def queue_as(client, persona, capture, **data):
    client.force_login(persona)
    with capture(execute=True):
        return client.post(QUEUE, {"environment": "development", "kind": "plan", **data})


def test_deployer_queues_a_plan_and_sees_it_on_the_run_page(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    response = queue_as(client, personas.deployer, django_capture_on_commit_callbacks)
    run = Deployment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/t/acme/runs/{run.uid}/"
    page = client.get(response["Location"]).content.decode()
    assert "Run #1" in page and "2 create" in page and "lock released" in page
    assert re.search(r"<dt>Duration</dt><dd>\d+s</dd>", page), "seconds, not a raw timedelta"
    client.force_login(personas.admin)
    audit_link = "/t/acme/audit/?target=stack:shop/development%231"
    assert audit_link in client.get(response["Location"]).content.decode()
    assert "run.queue_plan" in client.get(audit_link).content.decode()
    client.force_login(personas.deployer)
    # htmx polls the live region; a finished run answers 286 so the polling stops.
    poll = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert poll.status_code == 286 and poll.content.decode().lstrip().startswith(
        '<section id="run-live"'
    )


def test_variables_are_parsed_and_stored(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    queue_as(
        client,
        personas.deployer,
        django_capture_on_commit_callbacks,
        variables="TIMEOUT=90\n# note\n",
    )
    run = Deployment.objects.get()
    assert run.variables == {"TIMEOUT": "90"}
    changes = [c for a in run.plan["actions"] for c in a["changes"]]
    assert run.plan["summary"]["create"] == 2 and changes == []


def test_destroy_needs_the_stack_name_typed(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    response = queue_as(
        client,
        personas.deployer,
        django_capture_on_commit_callbacks,
        kind="destroy",
        confirm="nope",
    )
    assert response.status_code == 302 and not Deployment.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_cannot_queue_apply_or_cancel(
    client, personas, inline_tasks, django_capture_on_commit_callbacks, role
):
    deployable_stack(personas)
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks, kind="apply")
    run = Deployment.objects.get()
    client.force_login(getattr(personas, role))
    assert client.get(f"/t/acme/runs/{run.uid}/").status_code == 200
    assert client.post(QUEUE, {"environment": "development", "kind": "plan"}).status_code == 403
    for action in ("apply", "cancel", "approve"):
        assert client.post(f"/t/acme/runs/{run.uid}/{action}/").status_code == 403
    run.refresh_from_db()
    assert run.status == Status.PLANNED and Deployment.objects.count() == 1


def test_a_deployer_cannot_approve(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    queue_as(
        client,
        personas.deployer,
        django_capture_on_commit_callbacks,
        kind="apply",
        environment="production",
    )
    run = Deployment.objects.get()
    assert run.status == Status.AWAITING_APPROVAL
    assert client.post(f"/t/acme/runs/{run.uid}/approve/").status_code == 403


def test_outsider_gets_404_everywhere(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks)
    run = Deployment.objects.get()
    client.force_login(personas.outsider)
    assert client.get(f"/t/acme/runs/{run.uid}/").status_code == 404
    assert client.get(f"/t/globex/runs/{run.uid}/").status_code == 404
    assert client.get("/t/acme/stacks/shop/runs/").status_code == 404
    assert client.post(QUEUE, {"environment": "development"}).status_code == 404
    for action in ("apply", "cancel", "approve"):
        assert client.post(f"/t/acme/runs/{run.uid}/{action}/").status_code == 404
    assert client.get("/t/acme/runs/not-a-uuid/").status_code == 404


def test_wrong_methods(client, personas, inline_tasks, django_capture_on_commit_callbacks):
    deployable_stack(personas)
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks)
    run = Deployment.objects.get()
    assert client.get(QUEUE).status_code == 405
    assert client.get(f"/t/acme/runs/{run.uid}/apply/").status_code == 405
    assert client.post(f"/t/acme/runs/{run.uid}/").status_code == 405


def test_cancel_of_a_planned_run_discards_it_and_starts_the_next(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks, kind="apply")
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks, kind="apply")
    first, second = Deployment.objects.order_by("number")
    assert (first.status, second.status) == (Status.PLANNED, Status.QUEUED)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/t/acme/runs/{first.uid}/cancel/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.CANCELLED and second.status == Status.PLANNED


def test_run_list_and_stack_overview_show_runs(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployable_stack(personas)
    queue_as(client, personas.deployer, django_capture_on_commit_callbacks)
    client.force_login(personas.viewer)
    assert "Plan only" in client.get("/t/acme/stacks/shop/runs/").content.decode()
    overview = client.get("/t/acme/stacks/shop/").content.decode()
    assert 'id="env-development"' in overview and "#1" in overview
    assert "Deploy revision" not in overview, "viewers get no deploy buttons"

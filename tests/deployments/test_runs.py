"""Runs end to end on the emulator: plan → (approve) → apply, FIFO, locks, failures."""

from __future__ import annotations

import json
import re

import pytest

from deployments import runs
from deployments.aws.clients import client
from deployments.aws.locks import LockManager, lock_key
from deployments.aws.state import StateStore
from deployments.models import Deployment
from deployments.services import save_revision
from tenants.models import AuditEvent

from .run_fixtures import FILES, JOBS, deployable_stack

Status = Deployment.Status


def queue(stack, actor, env="development", kind="apply", capture=None, **kw):
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment=env,
            kind=kind,
            actor=actor,
            **kw,
        )
    run.refresh_from_db()
    return run


def apply(run, actor, capture):
    with capture(execute=True):
        runs.confirm_apply(run=run, actor=actor)
    run.refresh_from_db()
    return run


def queue_names(aws):
    return sorted(
        u.rsplit("/", 1)[-1] for u in client(aws, "sqs").list_queues().get("QueueUrls", [])
    )


def test_plan_then_apply_creates_the_queues_and_records_them_in_the_state(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    run = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    assert run.status == Status.PLANNED, run.error
    assert run.plan["summary"]["create"] == 2
    assert [a["component"] for a in run.plan["actions"]] == ["jobs", "results"]

    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.SUCCEEDED, run.error
    assert queue_names(inline_tasks) == [
        "shop-development-work-jobs",
        "shop-development-work-jobs-dlq",
        "shop-development-work-results",
    ]
    attrs = client(inline_tasks, "sqs").get_queue_attributes(
        QueueUrl=client(inline_tasks, "sqs").get_queue_url(QueueName="shop-development-work-jobs")[
            "QueueUrl"
        ],
        AttributeNames=["VisibilityTimeout"],
    )["Attributes"]
    assert attrs["VisibilityTimeout"] == "60"

    state = StateStore(inline_tasks).load("acme", "shop", "development")
    assert set(state.state["resources"]) == {"jobs", "results"}
    assert state.serial == 2, "one state save per component"
    assert run.state_serial == 2 and run.state_version == state.version_id
    assert state.state["outputs"]["jobs.queue_url"].endswith("shop-development-work-jobs")
    messages = list(run.logs.values_list("message", flat=True))
    assert any("lock" in m and "acquired" in m for m in messages) and "lock released" in messages
    assert LockManager(inline_tasks).get(lock_key("acme", "shop", "development")) is None
    assert AuditEvent.objects.filter(action="run.apply").count() == 1


def test_the_run_page_tells_the_plan_the_wait_and_the_apply_apart(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    stack = deployable_stack(personas)
    run = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    assert run.started_at <= run.planned_at and run.apply_started_at is None
    assert [name for name, _ in run.phases()] == ["plan", "waiting"]
    # Someone confirms the apply 3 minutes later.
    Deployment.objects.filter(pk=run.pk).update(
        started_at=run.started_at - timedelta(minutes=3),
        planned_at=run.started_at - timedelta(minutes=3) + timedelta(seconds=4),
    )
    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.planned_at <= run.apply_started_at <= run.finished_at
    phases = dict(run.phases())
    assert phases["plan"] == timedelta(seconds=4)
    assert timedelta(minutes=2, seconds=50) < phases["waiting"] < timedelta(minutes=3)
    assert sum(phases.values(), timedelta()) == run.duration
    client.force_login(personas.viewer)
    page = client.get(f"/t/acme/runs/{run.uid}/").content.decode()
    assert re.search(r"\(plan 4s · waiting 2m 5\ds · apply \d+s\)", page), page


def test_a_run_cancelled_while_waiting_shows_the_wait_and_a_plan_only_run_no_phases():
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    cancelled = Deployment(
        kind="apply", status=Status.CANCELLED, started_at=start,
        planned_at=start + timedelta(seconds=5), finished_at=start + timedelta(minutes=1),
    )  # fmt: skip
    assert cancelled.phases() == [
        ("plan", timedelta(seconds=5)),
        ("waiting", timedelta(seconds=55)),
    ]
    failed_planning = Deployment(
        kind="apply",
        status=Status.FAILED,
        started_at=start,
        finished_at=start + timedelta(seconds=2),
    )
    assert failed_planning.phases() == [], "only the total, as before these were recorded"
    planned = Deployment(kind="plan", status=Status.PLANNED, started_at=start,
                         planned_at=start + timedelta(seconds=5),
                         finished_at=start + timedelta(seconds=5))  # fmt: skip
    assert planned.phases() == [("plan", timedelta(seconds=5))]


def test_redeploy_without_changes_makes_no_aws_changes(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    apply(
        queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks),
        personas.deployer,
        django_capture_on_commit_callbacks,
    )
    again = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    assert again.status == Status.SUCCEEDED
    assert set(again.plan["summary"].items()) >= {("no-op", 2), ("create", 0), ("update", 0)}


def test_a_changed_field_updates_only_that_queue_and_a_removed_one_is_deleted(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    apply(
        queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks),
        personas.deployer,
        django_capture_on_commit_callbacks,
    )
    changed = JOBS.replace("maxReceiveCount: 3", "maxReceiveCount: 5").split("---")[0]
    save_revision(
        stack=stack, files={**FILES, "services/work/queues.yaml": changed}, actor=personas.deployer
    )
    run = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    actions = {a["component"]: a["action"] for a in run.plan["actions"]}
    assert actions == {"jobs": "update", "results": "delete"}
    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.SUCCEEDED, run.error
    assert "shop-development-work-results" not in queue_names(inline_tasks)
    state = StateStore(inline_tasks).load("acme", "shop", "development").state
    assert set(state["resources"]) == {"jobs"}


def test_destroy_removes_everything_and_leaves_an_empty_state(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    apply(
        queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks),
        personas.deployer,
        django_capture_on_commit_callbacks,
    )
    run = queue(
        stack, personas.deployer, kind="destroy", capture=django_capture_on_commit_callbacks
    )
    assert run.plan["summary"]["delete"] == 2
    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.SUCCEEDED, run.error
    assert queue_names(inline_tasks) == []
    assert StateStore(inline_tasks).load("acme", "shop", "development").state["resources"] == {}


def test_a_protected_environment_needs_an_approval_by_another_admin(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    run = queue(stack, personas.admin, env="production", capture=django_capture_on_commit_callbacks)
    assert run.status == Status.AWAITING_APPROVAL
    with pytest.raises(runs.RunRefused, match="needs an approval|only a planned run"):
        runs.confirm_apply(run=run, actor=personas.admin)
    with pytest.raises(runs.RunRefused, match="cannot approve"):
        runs.approve(run=run, actor=personas.admin)
    runs.approve(run=run, actor=personas.platform_admin)
    run.refresh_from_db()
    assert run.status == Status.PLANNED
    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.SUCCEEDED, run.error


def test_an_approval_of_an_older_plan_does_not_allow_a_newer_plan(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    run = queue(
        stack, personas.deployer, env="production", capture=django_capture_on_commit_callbacks
    )
    runs.approve(run=run, actor=personas.admin)
    # The plan changes under the approval (as a re-plan would): the approval no longer fits.
    Deployment.objects.filter(pk=run.pk).update(plan_hash="sha256:" + "0" * 64)
    run.refresh_from_db()
    with pytest.raises(runs.RunRefused, match="needs an unexpired approval"):
        runs.confirm_apply(run=run, actor=personas.deployer)


def test_runs_of_one_stack_and_environment_wait_in_fifo_order(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    first = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    second = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    assert first.status == Status.PLANNED and second.status == Status.QUEUED
    position, reason = runs.queue_position(second)
    assert position == 1 and f"run #{first.number}" in reason
    apply(first, personas.deployer, django_capture_on_commit_callbacks)
    second.refresh_from_db()
    assert second.status in (Status.PLANNED, Status.SUCCEEDED), "started when the first ended"


def test_a_lock_held_by_another_tool_keeps_the_run_waiting_with_the_reason(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    LockManager(inline_tasks).acquire(
        lock_key("acme", "shop", "development"), owner="bob", reason="maintenance until 14:00"
    )
    run = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    assert run.status == Status.QUEUED
    assert "locked by bob: maintenance until 14:00" in runs.queue_position(run)[1]


def test_a_failing_component_fails_the_run_names_it_and_releases_the_lock(
    personas, inline_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    from botocore.exceptions import ClientError

    from deployments.aws.provisioners import sqs

    stack = deployable_stack(personas)
    run = queue(stack, personas.deployer, capture=django_capture_on_commit_callbacks)
    original = sqs.PROVISIONERS["SQS"].create

    def deny_results(ctx, config):
        if ctx.component == "results":
            raise sqs.ProvisionError(
                "sqs.create_queue: AccessDenied: not allowed", code="AccessDenied"
            )
        return original(ctx, config)

    monkeypatch.setattr(sqs.PROVISIONERS["SQS"], "create", deny_results)
    run = apply(run, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Status.FAILED
    assert run.failed_component == "results" and "AccessDenied" in run.error
    assert any("AccessDenied" in m for m in run.logs.values_list("message", flat=True))
    state = StateStore(inline_tasks).load("acme", "shop", "development").state
    assert set(state["resources"]) == {"jobs"}, "the state lists exactly what exists"
    assert LockManager(inline_tasks).get(lock_key("acme", "shop", "development")) is None
    del ClientError


def test_a_draft_revision_cannot_be_queued(personas, inline_tasks):
    stack = deployable_stack(
        personas, files={**FILES, "stack.yaml": FILES["stack.yaml"].replace('"60"', "${NOPE}")}
    )
    with pytest.raises(runs.RunRefused, match="validation error"):
        runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind="apply",
            actor=personas.deployer,
        )
    assert json.dumps([]) == "[]"

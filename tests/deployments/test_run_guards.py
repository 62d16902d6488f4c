"""The guards around a run: duplicate delivery, stale plans, expired approvals, cancel."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from deployments import runs, tasks
from deployments.aws.clients import client
from deployments.aws.state import StateStore, successor
from deployments.models import Deployment, RunLog

from .run_fixtures import deployable_stack

Status = Deployment.Status


def planned(personas, capture, env="development"):
    stack = deployable_stack(personas)
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment=env,
            kind="apply",
            actor=personas.deployer,
        )
    run.refresh_from_db()
    return run


def test_a_task_delivered_twice_does_the_work_once(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    run = planned(personas, django_capture_on_commit_callbacks)
    logs = RunLog.objects.filter(deployment=run).count()
    tasks.plan_run(run.pk)  # the same message again
    run.refresh_from_db()
    assert run.status == Status.PLANNED and RunLog.objects.filter(deployment=run).count() == logs
    with django_capture_on_commit_callbacks(execute=True):
        runs.confirm_apply(run=run, actor=personas.deployer)
    tasks.apply_run(run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.state_serial == 2


def test_apply_refuses_when_the_state_changed_since_the_plan(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    run = planned(personas, django_capture_on_commit_callbacks)
    store = StateStore(inline_tasks)
    # Someone else (the panka CLI, another instance) saved a state in the meantime.
    from deployments.aws.state import empty_state

    store.save(
        None,
        successor(empty_state("acme", "shop", "development")),
        deployment_id="cli",
        deployed_by="cli",
        revision="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        runs.confirm_apply(run=run, actor=personas.deployer)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "state changed since this plan" in run.error
    assert client(inline_tasks, "sqs").list_queues().get("QueueUrls") is None, "nothing was created"


def test_an_approval_expires_after_a_day(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    run = planned(personas, django_capture_on_commit_callbacks, env="production")
    runs.approve(run=run, actor=personas.admin)
    run.refresh_from_db()
    with (
        time_machine.travel(timezone.now() + timezone.timedelta(hours=25)),
        pytest.raises(runs.RunRefused, match="unexpired approval"),
    ):
        runs.confirm_apply(run=run, actor=personas.deployer)


def test_cancel_requested_during_an_apply_stops_before_the_next_level(
    personas, inline_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    from deployments.aws.executor import Applier

    run = planned(personas, django_capture_on_commit_callbacks)
    original = Applier._run_batch

    def batch_then_cancel(self, pool, batch):
        result = original(self, pool, batch)
        # The user clicks Cancel while the first level runs (the page sets this flag).
        Deployment.objects.filter(pk=run.pk).update(cancel_requested=True)
        return result

    monkeypatch.setattr(Applier, "_run_batch", batch_then_cancel)
    with django_capture_on_commit_callbacks(execute=True):
        runs.confirm_apply(run=run, actor=personas.deployer)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED, run.error
    state = StateStore(inline_tasks).load("acme", "shop", "development").state
    assert set(state["resources"]) == {"jobs"}, (
        "level 0 finished and was saved; level 1 never started"
    )

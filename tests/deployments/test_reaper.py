"""The reaper: a run whose worker died is interrupted after its lease; the queue moves on."""

from __future__ import annotations

import time_machine
from django.utils import timezone

from deployments import runs, tasks
from deployments.aws.locks import LockManager, lock_key
from deployments.management.commands.worker import ensure_schedules
from deployments.models import Deployment

from .run_fixtures import deployable_stack

Status = Deployment.Status


def _stuck_applying(personas, aws, *, lease: int = 300):
    """A run whose worker took the lock and then vanished (no heartbeat, no release)."""
    stack = deployable_stack(personas)
    run = runs.queue_run(
        stack=stack,
        revision=stack.latest_revision(),
        environment="development",
        kind="apply",
        actor=personas.deployer,
    )
    lease_ = LockManager(aws).acquire(
        lock_key("acme", "shop", "development"),
        owner="panka-web:deployer",
        reason="apply",
        lease=lease,
    )
    Deployment.objects.filter(pk=run.pk).update(
        status=Status.APPLYING,
        lock_id=lease_.lock_id,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    return stack, run


def test_a_run_with_a_live_lease_is_left_alone(personas, inline_tasks):
    _, run = _stuck_applying(personas, inline_tasks)
    assert tasks.reap() == 0
    run.refresh_from_db()
    assert run.status == Status.APPLYING


def test_a_lapsed_lease_interrupts_the_run_and_starts_the_next(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack, run = _stuck_applying(personas, inline_tasks, lease=60)
    waiting = Deployment.objects.create(
        stack=stack, number=2, revision=run.revision, environment="development", kind="plan",
        requested_by=personas.deployer,
    )  # fmt: skip
    later = timezone.now() + timezone.timedelta(minutes=10)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert tasks.reap() == 1
    run.refresh_from_db()
    waiting.refresh_from_db()
    assert run.status == Status.INTERRUPTED and "lease lapsed" in run.error
    assert run.logs.filter(message__startswith="interrupted").exists()
    # The stale lock is not the reaper's to release; the next run takes it over once expired.
    assert waiting.status == Status.PLANNED, waiting.error


def test_the_worker_command_installs_the_reaper_schedule_once(db):
    from django_q.models import Schedule

    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name="panka-reaper")
    assert schedule.func == "deployments.tasks.reap" and schedule.minutes == 1
    assert Schedule.objects.get(name="panka-drift-sweep").func == "deployments.tasks.drift_sweep"
    network = Schedule.objects.get(name="panka-network-reaper")
    assert network.func == "deployments.network_tasks.reap_network_runs" and network.minutes == 1
    assert Schedule.objects.count() == 3


def test_a_phase_that_just_began_is_not_reaped_for_its_previous_phases_lock(personas, inline_tasks):
    """An apply claimed a moment ago still carries no lock; the plan's old lock id and old
    start time must not make it look dead."""
    stack = deployable_stack(personas)
    run = Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="development", kind="apply",
        status=Status.APPLY_QUEUED, requested_by=personas.deployer, lock_id="plan-phase-lock",
        started_at=timezone.now() - timezone.timedelta(hours=2),
    )  # fmt: skip
    claimed = tasks._claim(run.pk, expect=Status.APPLY_QUEUED, to=Status.APPLYING)
    assert claimed is not None and claimed.lock_id == ""
    assert tasks.reap() == 0
    run.refresh_from_db()
    assert run.status == Status.APPLYING

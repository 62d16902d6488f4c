"""At-least-once delivery: duplicates are no-ops, lost tasks are sent again, attempts
are finite, and a phase past django-q2's timeout ends its run (README "Queue and
delivery"). On whichever broker the pass uses: the ORM broker here, Redis in the
production pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.exceptions import TimeoutException
from django_q.signing import PickleSerializer, SignedPackage, signing

from deployments import delivery, runs, tasks
from deployments.aws.locks import LockManager, lock_key
from deployments.models import Deployment

from .run_fixtures import deployable_stack

Status = Deployment.Status
PLAN = "deployments.tasks.plan_run"


@pytest.fixture
def broker():
    """The pass's broker, emptied before and after (Redis is not rolled back)."""
    found = get_broker()
    found.purge_queue()
    yield found
    found.purge_queue()


def _queued(personas, *, age: timedelta = timedelta(0), **fields) -> Deployment:
    """A run as queue_run leaves it, without running its task; sent ``age`` ago."""
    stack = Deployment.objects.first().stack if Deployment.objects.exists() else None
    stack = stack or deployable_stack(personas)
    number = Deployment.objects.filter(stack=stack).count() + 1
    return Deployment.objects.create(
        stack=stack,
        number=number,
        revision=stack.latest_revision(),
        environment="development",
        kind="apply",
        requested_by=personas.deployer,
        sent_at=timezone.now() - age,
        **fields,
    )


def _put(broker, pk: int, *, key: str | None = None) -> None:
    """A plan_run task for run ``pk`` in the broker, signed with ``key`` (default ours)."""
    task = {"id": f"t{pk}", "name": f"plan_run:{pk}", "func": PLAN, "args": (pk,), "kwargs": {}}
    if key is None:
        payload = SignedPackage.dumps(task)
    else:
        payload = signing.dumps(task, key=key, salt=Conf.PREFIX, serializer=PickleSerializer)
    broker.enqueue(payload)


def test_a_duplicate_delivery_is_a_no_op(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    stack = deployable_stack(personas)
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.queue_run(
            stack=stack, revision=stack.latest_revision(), environment="development",
            kind="apply", actor=personas.deployer,
        )  # fmt: skip
    run.refresh_from_db()
    assert run.status == Status.PLANNED and run.attempts == 1
    tasks.plan_run(run.pk)  # the same task again: the claim lets it through no more
    run.refresh_from_db()
    assert run.status == Status.PLANNED and run.attempts == 1
    assert run.logs.filter(message__startswith="planning ").count() == 1


def test_a_run_taken_too_often_fails_with_a_message(personas, inline_tasks, settings):
    run = _queued(personas, attempts=settings.PANKA_MAX_ATTEMPTS)
    tasks.plan_run(run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert f"a worker took this run {settings.PANKA_MAX_ATTEMPTS} times" in run.error
    assert run.logs.filter(message__startswith="gave up").exists()


def test_waiting_for_someone_elses_lock_is_not_an_attempt(personas, inline_tasks):
    run = _queued(personas)
    LockManager(inline_tasks).acquire(
        lock_key("acme", "shop", "development"), owner="terraform:ops", reason="manual", lease=300
    )
    for _ in range(3):
        tasks.plan_run(run.pk)
        run.refresh_from_db()
        assert run.status == Status.QUEUED and run.waiting_reason.startswith("waiting: locked")
    assert run.attempts == 0
    assert run.sent_at > timezone.now()  # the retry is scheduled: not lost


def test_a_phase_past_the_task_timeout_fails_the_run(personas, inline_tasks, monkeypatch):
    def too_long(run, write):
        raise TimeoutException("Task exceeded maximum timeout value (3600 seconds)")

    monkeypatch.setattr(tasks, "_plan", too_long)
    run = _queued(personas)
    with pytest.raises(TimeoutException):  # django-q2 still records its own failure
        tasks.plan_run(run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "ran longer than the worker's task timeout" in run.error


def test_a_run_with_nothing_in_the_broker_is_sent_again_and_says_so(
    personas, inline_tasks, broker, settings, django_capture_on_commit_callbacks
):
    run = _queued(personas, age=timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS + 5))
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.resend_lost() == 1
    run.refresh_from_db()
    assert run.status == Status.PLANNED, run.error  # the re-sent task ran (inline)
    assert run.logs.first().message.startswith("re-sent to the workers: not taken")


def test_a_run_whose_task_waits_in_the_broker_is_not_sent_again(
    personas, inline_tasks, broker, settings
):
    run = _queued(personas, age=timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS + 5))
    _put(broker, run.pk)
    assert delivery.waiting_in_broker() == {(PLAN, run.pk)}
    assert delivery.resend_lost() == 0
    assert not run.logs.exists()


def test_a_task_signed_with_an_old_secret_key_counts_as_lost(
    personas, inline_tasks, broker, settings, django_capture_on_commit_callbacks
):
    run = _queued(personas, age=timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS + 5))
    _put(broker, run.pk, key="the-secret-key-before-it-was-changed")
    assert delivery.waiting_in_broker() == set()
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.resend_lost() == 1
    run.refresh_from_db()
    assert run.status == Status.PLANNED, run.error


def test_only_runs_a_worker_could_take_are_sent_again(personas, inline_tasks, broker, settings):
    old = timezone.now() - timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS + 5)
    first = _queued(personas)  # sent a moment ago: its task may be on its way
    assert delivery.resend_lost() == 0
    Deployment.objects.filter(pk=first.pk).update(status=Status.APPLYING)
    behind = _queued(personas, age=timedelta(hours=1))  # the applying run starts it
    assert delivery.resend_lost() == 0
    # An apply confirmed long ago that no worker took: sent again; the run behind waits.
    Deployment.objects.filter(pk=first.pk).update(status=Status.APPLY_QUEUED, sent_at=old)
    assert delivery.resend_lost() == 1
    assert first.logs.filter(message__startswith="re-sent").exists()
    assert not behind.logs.exists()
    # Once it has ended, the run behind it is the head of the queue, with nothing sent.
    Deployment.objects.filter(pk=first.pk).update(status=Status.SUCCEEDED)
    assert delivery.resend_lost() == 1
    assert behind.logs.filter(message__startswith="re-sent").exists()
    assert delivery.resend_lost() == 0  # just sent: not again until the threshold passes

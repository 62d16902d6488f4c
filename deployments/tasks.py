"""What the django-q2 workers run. Each task takes an id, claims the row, does the work.

A task delivered twice is a no-op: the claim moves the run from the status the task
expects, under a row lock, so only one delivery gets past it.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.exceptions import TimeoutException

from tenants.models import Tenant

from . import spec
from .aws.errors import AwsError, StateCorrupt
from .aws.executor import Applier, ApplyResult, StepAction
from .aws.locks import Lease, LockManager, lock_key
from .aws.state import StateStore
from .delivery import resend_lost
from .held_lock import Waiting, hold_lock
from .models import Deployment, RunLog, Stack
from .queue import enqueue_later
from .runs import active_runs, finish, is_protected
from .runtime import aws_settings, stack_aws_settings
from .spec.destroy import plan_destroy
from .validation import tenant_policy, validate_files

log = logging.getLogger(__name__)
Status = Deployment.Status
LOCK_RETRY_SECONDS = 15


def _fresh_connections() -> None:
    """Drop connections the database closed meanwhile (a worker lives for days). Not with
    inline tasks (tests): their one connection holds the test's open transaction, which
    close_old_connections() would throw away on PostgreSQL."""
    if not settings.PANKA_RUN_TASKS_INLINE:
        close_old_connections()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(pk: int, *, expect: str, to: str) -> Deployment | None:
    """Move run ``pk`` from ``expect`` to ``to``; None when another delivery got there first
    or another run of the same stack+environment is active."""
    with transaction.atomic():
        run = (
            Deployment.objects.select_for_update()
            .select_related("stack__tenant", "revision")
            .filter(pk=pk)
            .first()
        )
        if run is None or run.status != expect:
            return None
        if expect == Status.QUEUED:
            if active_runs(run.stack, run.environment).exclude(pk=run.pk).exists():
                return None  # kick_next() starts it when the active run ends
            earlier = Deployment.objects.filter(
                stack=run.stack,
                environment=run.environment,
                status=Status.QUEUED,
                created_at__lt=run.created_at,
            )
            if earlier.exists():
                return None  # FIFO: the oldest queued run goes first
        if run.attempts >= settings.PANKA_MAX_ATTEMPTS:
            # django-q2 cannot count deliveries whose worker died; we do, so that a task
            # that kills its worker every time ends instead of being sent for ever.
            message = (
                f"gave up: a worker took this run {run.attempts} times without finishing it "
                f"(PANKA_MAX_ATTEMPTS={settings.PANKA_MAX_ATTEMPTS}); see the worker logs"
            )
            RunLog.objects.create(deployment=run, message=message)
            finish(run, Status.FAILED, error=message)
            return None
        run.attempts += 1
        run.status = to
        run.worker = _worker_name()
        run.waiting_reason = ""
        run.started_at = run.started_at or timezone.now()
        if to == Status.APPLYING:
            run.apply_started_at = run.apply_started_at or timezone.now()
        # A new phase: the reaper gives it a full lease to take its lock before judging it,
        # and must not mistake the previous phase's (released) lock for this one's.
        run.heartbeat_at = timezone.now()
        run.lock_id = ""
        run.save(
            update_fields=[
                "status",
                "attempts",
                "worker",
                "waiting_reason",
                "started_at",
                "apply_started_at",
                "heartbeat_at",
                "lock_id",
            ]
        )
        return run


class RunLogWriter:
    """Stores log lines from any thread through one writer thread (one DB connection), so
    the page shows them as they happen.

    With ``PANKA_RUN_TASKS_INLINE`` (tests, whose database is one transaction that other
    connections cannot write into) lines are buffered and stored by :meth:`close`.
    """

    def __init__(self, run: Deployment) -> None:
        self.run_id = run.pk
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        if not settings.PANKA_RUN_TASKS_INLINE:
            self._thread = threading.Thread(
                target=self._drain, name=f"runlog-{run.pk}", daemon=True
            )
            self._thread.start()

    def __call__(self, component: str, message: str) -> None:
        self._queue.put((component, message))

    def _store(self, batch: list[tuple[str, str]]) -> None:
        RunLog.objects.bulk_create(
            [RunLog(deployment_id=self.run_id, component=c, message=m[:4000]) for c, m in batch]
        )

    def _take(self) -> tuple[list[tuple[str, str]], bool]:
        """Everything queued now (blocking for the first line); True once closed."""
        item = self._queue.get()
        batch: list[tuple[str, str]] = []
        while item is not None:
            batch.append(item)
            if self._queue.empty():
                return batch, False
            item = self._queue.get()
        return batch, True

    def _drain(self) -> None:
        try:
            closed = False
            while not closed:
                batch, closed = self._take()
                if batch:
                    self._store(batch)
        finally:
            connection.close()

    def close(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)
            return
        batch, _ = self._take()
        if batch:
            self._store(batch)


@contextmanager
def _stack_lock(run: Deployment, write: RunLogWriter, *, purpose: str) -> Iterator[Lease | None]:
    """Hold the stack+environment lock for the block, heartbeating; None if someone holds it."""
    with hold_lock(
        lock_key(run.stack.tenant.slug, run.stack.name, run.environment),
        who=run.requested_by.get_username() if run.requested_by else "system",
        reason=f"{purpose} of run #{run.number}",
        run_uid=str(run.uid),
        say=lambda message: write("", message),
        on_acquired=lambda lease: Deployment.objects.filter(pk=run.pk).update(
            lock_id=lease.lock_id
        ),
    ) as held:
        if isinstance(held, Waiting):
            run.waiting_reason = f"waiting: locked by {held.holder}"
            yield None
        else:
            yield held


def _requeue(run: Deployment, *, back_to: str) -> None:
    """The lock is held by someone else: wait, and try again shortly."""
    # Waiting for a lock someone else holds is not a failed attempt: this delivery ended.
    Deployment.objects.filter(pk=run.pk).update(
        status=back_to,
        waiting_reason=run.waiting_reason[:300],
        attempts=F("attempts") - 1,
        sent_at=timezone.now() + timezone.timedelta(seconds=LOCK_RETRY_SECONDS),
    )
    task = (
        "deployments.tasks.plan_run" if back_to == Status.QUEUED else "deployments.tasks.apply_run"
    )
    enqueue_later(task, run.pk, seconds=LOCK_RETRY_SECONDS)


# --- plan ----------------------------------------------------------------------------


def plan_run(pk: int) -> None:
    _phase(pk, expect=Status.QUEUED, to=Status.PLANNING, work=_plan, label="planning")


def _phase(
    pk: int, *, expect: str, to: str, work: Callable[[Deployment, RunLogWriter], None], label: str
) -> None:
    """Claim run ``pk`` and do one phase of it; any failure ends the run as failed.

    Failures we expect (AWS, a stale or unplannable state) are recorded and end there; any
    other exception is recorded and re-raised, so django-q2 keeps the traceback too.
    """
    _fresh_connections()
    run = _claim(pk, expect=expect, to=to)
    if run is None:
        return
    write = RunLogWriter(run)
    try:
        work(run, write)
    except TimeoutException:
        # django-q2 stops a task past its timeout with this SystemExit; the run must not
        # stay "applying" until the reaper notices (the lock is released on the way out).
        message = (
            f"{label} stopped: it ran longer than the worker's task timeout "
            f"(PANKA_TASK_TIMEOUT={settings.PANKA_TASK_TIMEOUT}s)"
        )
        write("", message)
        finish(run, Status.FAILED, error=message)
        raise
    except Exception as exc:
        log.exception("%s run %s failed", label, pk)
        write("", f"{label} failed: {exc}")
        finish(run, Status.FAILED, error=str(exc)[:4000])
        if not isinstance(exc, AwsError | RunError | spec.NotPlannable):
            raise
    finally:
        write.close()


def _plan(run: Deployment, write: RunLogWriter) -> None:
    write(
        "",
        f"planning {run.get_kind_display().lower()} of revision {run.revision.number} into {run.environment}",
    )
    tenant = run.stack.tenant
    with _stack_lock(run, write, purpose="plan") as lease:
        if lease is None:
            write("", run.waiting_reason)
            _requeue(run, back_to=Status.QUEUED)
            return
        store = StateStore(aws_settings())
        _save_kept_states(run, store, lease, write)
        try:
            loaded = store.load(tenant.slug, run.stack.name, run.environment)
            if loaded is not None:
                store.check_lineage(loaded)
        except StateCorrupt as exc:
            raise RunError(
                f"the current state cannot be used: {exc}. Nothing was planned; an admin can "
                "restore a good version from the state history"
            ) from exc
        state = loaded.state if loaded else None
        if state is not None and run.kind != Deployment.Kind.DESTROY:
            state = _refreshed(run, state, write, lease)
        if run.kind == Deployment.Kind.DESTROY:
            the_plan = plan_destroy(state, stack=run.stack.name, environment=run.environment)
        else:
            result = validate_files(run.revision.files, tenant=tenant, overrides=run.variables)
            the_plan = spec.plan(
                result, state, environment=run.environment, policy=tenant_policy(tenant)
            )
        if not the_plan.ok:
            raise RunError("; ".join(f.message for f in the_plan.findings if f.is_error))
    summary = the_plan.summary
    write(
        "",
        "plan: " + ", ".join(f"{n} to {a}" for a, n in summary.items() if n and a != "no-op")
        or "plan: no changes",
    )
    run.plan = {**the_plan.as_dict(), "refresh": getattr(run, "refresh", {})}
    run.plan_hash = the_plan.hash
    run.planned_state_etag = loaded.etag if loaded else ""
    run.planned_state_version = (loaded.version_id or "") if loaded else ""
    run.planned_at = timezone.now()
    fields = ["plan", "plan_hash", "planned_state_etag", "planned_state_version", "planned_at"]
    if run.kind == Deployment.Kind.PLAN:
        finish(run, Status.PLANNED, **{f: getattr(run, f) for f in fields})
    elif not the_plan.has_changes:
        write("", "nothing to apply")
        finish(run, Status.SUCCEEDED, **{f: getattr(run, f) for f in fields})
    else:
        run.status = (
            Status.AWAITING_APPROVAL if is_protected(tenant, run.environment) else Status.PLANNED
        )
        run.save(update_fields=["status", *fields])


def _save_kept_states(
    run: Deployment, store: StateStore, lease: Lease, write: RunLogWriter
) -> None:
    """Write the states that earlier applies of this stack+environment could not save,
    before planning from S3: a plan without them would act as if their changes had not
    been made. One that S3 cannot take now stops the plan; one whose base was replaced
    by a newer state (a person's call: see deployments.pending_state) is left on its
    run's page, and the plan goes on from S3, adopting existing resources by name."""
    from .pending_state import PendingStateRefused, StateMovedOn, pending_runs, save_pending

    for earlier in pending_runs(run.stack, run.environment):
        try:
            saved = save_pending(earlier, store=store, lease=lease, by=f"run #{run.number}")
        except StateMovedOn as exc:
            write("", f"warning: the state kept by run #{earlier.number} was not written: {exc}")
            continue
        except PendingStateRefused:
            continue  # saved meanwhile by "Save state again"
        except AwsError as exc:
            raise RunError(
                f"run #{earlier.number} changed AWS but its state is not saved yet, and saving "
                f"it now failed: {exc}. Planning from S3 would act as if its changes had not "
                "been made, so nothing was planned"
            ) from exc
        write("", f"saved the state kept by run #{earlier.number} as serial {saved.serial}")


def _refreshed(
    run: Deployment, state: dict[str, Any], write: RunLogWriter, lease: Lease
) -> dict[str, Any]:
    """The state as the plan should see it after reading AWS (like ``terraform plan``'s
    refresh): a drifted component is planned as an update, a missing one as a create.
    The stored state is not changed by planning."""
    from .drift_ops import check

    results = check(
        state, stack=run.stack, environment=run.environment, ensure_lease=lease.ensure_held
    )
    view = {**state, "resources": dict(state.get("resources") or {})}
    run.refresh = {r.component: r.status for r in results if r.status in ("drifted", "missing")}
    for result in results:
        if result.status == "missing":
            write(result.component, "refresh: missing in AWS; it will be created again")
            view["resources"].pop(result.component, None)
        elif result.status == "drifted":
            fields = ", ".join(f"{p}: {old!r} → {new!r}" for p, old, new in result.fields)
            write(result.component, f"refresh: drifted ({fields}); it will be updated")
            view["resources"][result.component] = {
                **view["resources"][result.component],
                "status": "drifted",
            }
    return view


class RunError(Exception):
    """A run cannot go on; the message is what the run page shows."""


# --- apply ---------------------------------------------------------------------------


def apply_run(pk: int) -> None:
    _phase(pk, expect=Status.APPLY_QUEUED, to=Status.APPLYING, work=_apply, label="apply")


def _steps(plan: dict[str, Any]) -> list[StepAction]:
    return [
        StepAction(
            component=a["component"],
            kind=a["kind"],
            service=a["service"],
            action=a["action"],
            level=a["level"],
            depends_on=tuple(a.get("depends_on") or ()),
            config=a.get("config"),
            config_hash=a.get("config_hash"),
            # Drifted in AWS: reconcile against what AWS reports, not the recorded config.
            reconcile=plan.get("refresh", {}).get(a["component"]) == "drifted",
        )
        for a in plan["actions"]
    ]


def _apply(run: Deployment, write: RunLogWriter) -> None:
    tenant = run.stack.tenant
    with _stack_lock(run, write, purpose="apply") as lease:
        if lease is None:
            write("", run.waiting_reason)
            _requeue(run, back_to=Status.APPLY_QUEUED)
            return
        store = StateStore(aws_settings())
        loaded = store.load(tenant.slug, run.stack.name, run.environment)
        if (loaded.etag if loaded else "") != run.planned_state_etag:
            raise RunError("the state changed since this plan was made; queue a new plan")
        _check_placement(run, tenant)
        labels = _labels(run)
        region = _region(run)
        applier = Applier(
            aws=stack_aws_settings(region),
            store=store,
            tenant=tenant.slug,
            stack=run.stack.name,
            environment=run.environment,
            deployment_id=str(run.uid),
            deployed_by=run.requested_by.get_username() if run.requested_by else "system",
            revision=str(run.revision.number),
            labels=labels,
            ensure_lease=lease.ensure_held,
            log=write,
            should_cancel=lambda: Deployment.objects.filter(
                pk=run.pk, cancel_requested=True
            ).exists(),
            parallelism=settings.PANKA_APPLY_PARALLELISM,
            context_options=_network_options(run, region),
        )
        result = applier.apply(_steps(run.plan), loaded)
    saved = result.saved
    fields: dict[str, Any] = {
        "state_version": (saved.version_id or "") if saved else "",
        "state_serial": saved.serial if saved else None,
        "mutating_calls": result.mutating_calls,
    }
    if result.unsaved_state is not None:
        # AWS holds resources that S3 does not record: keep the state with the run, so
        # that neither a person nor the next plan acts as if they did not exist.
        _keep_unsaved_state(run, result, write)
        return
    if result.status == "succeeded":
        write("", f"applied {result.applied} component(s)")
        finish(run, Status.SUCCEEDED, **fields)
    elif result.status == "cancelled":
        finish(run, Status.CANCELLED, error="cancelled between levels", **fields)
    else:
        finish(
            run,
            Status.FAILED,
            failed_component=result.failed_component,
            error=result.error[:4000],
            **fields,
        )


def _keep_unsaved_state(run: Deployment, result: ApplyResult, write: RunLogWriter) -> None:
    from .pending_state import keep

    pending = keep(run, result)
    saved = result.saved
    why = f"{result.failed_component}: {result.error}; " if result.failed_component else ""
    message = (
        f"{why}the changes were made in AWS, but the state could not be saved: "
        f"{result.save_error}. The state this run meant to write (serial "
        f"{pending['state']['metadata']['serial']}, {len(pending['state']['resources'])} "
        "resource(s)) is kept with this run; 'Save state again' writes it, and the next "
        "run of this stack and environment does so before planning."
    )
    write("", message)
    finish(
        run,
        Status.FAILED,
        failed_component=result.failed_component,
        error=message[:4000],
        state_version=(saved.version_id or "") if saved else "",
        state_serial=saved.serial if saved else None,
        mutating_calls=result.mutating_calls,
        pending_state=pending,
    )


def _labels(run: Deployment) -> dict[str, dict[str, str]]:
    return {
        a["component"]: dict((a.get("config") or {}).get("labels") or {})
        for a in (run.plan or {}).get("actions", [])
    }


def _check_placement(run: Deployment, tenant: Tenant) -> None:
    """A plan that places VPC-attached components was made (and approved) for one
    network: applied after the tenant's network changed, it would put them elsewhere."""
    from .networking import network_placement

    planned = (run.plan or {}).get("placement")
    if planned and planned != (now := network_placement(tenant)):
        raise RunError(
            f"the tenant's network changed since this plan was made (planned into {planned}, "
            f"now {now}); queue a new plan"
        )


def _network_options(run: Deployment, region: str | None) -> dict[str, Any]:
    """Where VPC-attached components go: the tenant's private subnets when it has its own
    network, else the default VPC. A destroy places nothing, so it never waits for one."""
    from .networking import NetworkUnavailable, context_options

    try:
        return context_options(run.stack.tenant, region)
    except NetworkUnavailable as exc:
        if run.kind == Deployment.Kind.DESTROY:
            return {}
        raise RunError(str(exc)) from exc


def _region(run: Deployment) -> str | None:
    for action in (run.plan or {}).get("actions", []):
        region = (action.get("config") or {}).get("region")
        if region:
            return region
    return None


# --- reaper --------------------------------------------------------------------------


def reap() -> int:
    """Mark runs whose worker died as interrupted: their lock lease lapsed (or they never
    got one) without a heartbeat. Releases nothing it does not own; starts the next run.
    Then sends again the runs whose task was lost (deployments.delivery)."""
    _fresh_connections()
    manager = LockManager(aws_settings())
    lease_timeout = timezone.now() - timezone.timedelta(seconds=settings.PANKA_LOCK_LEASE_SECONDS)
    reaped = 0
    for run in Deployment.objects.filter(status__in=Deployment.WORKING).select_related(
        "stack__tenant"
    ):
        key = lock_key(run.stack.tenant.slug, run.stack.name, run.environment)
        info = manager.get(key)
        ours = info is not None and run.lock_id and info.lock_id == run.lock_id
        if ours and not info.expired:
            continue
        if not ours and run.heartbeat_at and run.heartbeat_at > lease_timeout:
            continue  # this phase only began: still taking its lock
        with transaction.atomic():
            fresh = Deployment.objects.select_for_update().get(pk=run.pk)
            if fresh.status not in Deployment.WORKING:
                continue
            RunLog.objects.create(
                deployment=fresh, message="interrupted: the worker stopped heartbeating its lock"
            )
            finish(fresh, Status.INTERRUPTED, error="the worker stopped (its lock lease lapsed)")
        reaped += 1
    # A task lost with a dead worker or a SECRET_KEY change would leave a run waiting with
    # nothing behind it: send it again (a duplicate is a no-op).
    resend_lost()
    return reaped


# --- drift ---------------------------------------------------------------------------


def drift_check(stack_id: int, environment: str, user_id: int | None = None) -> None:
    from django.contrib.auth import get_user_model

    from .drift_ops import run_drift_check

    _fresh_connections()
    stack = Stack.objects.select_related("tenant").filter(pk=stack_id).first()
    if stack is None:
        return
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run_drift_check(stack=stack, environment=environment, actor=actor)


def drift_sweep() -> int:
    """The scheduled drift checks of every tenant whose interval has passed."""
    from .drift_ops import due_checks, run_drift_check

    _fresh_connections()
    done = 0
    for stack, environment in due_checks():
        if run_drift_check(stack=stack, environment=environment) is not None:
            done += 1
    return done

"""The worker side of tenant networking: one task per run, under the tenant's
networking lock, with a live log.

Same shape as the stack runs in ``deployments.tasks``: the task is given an id, claims
the run (queued → running, under a row lock, so a second delivery is a no-op), holds the
DynamoDB lock ``tenant:<slug>:networking`` with a heartbeat while it touches AWS (every
AWS call checks the lease first), and records the outcome, the tenant's network record
and an audit event in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants import audit
from tenants.models import Tenant

from .aws.errors import AwsError
from .aws.locks import Lease, LockManager
from .aws.tenant_network import NetworkSpec, TenantNetwork, network_context
from .held_lock import Waiting, hold_lock
from .models import NetworkRun, NetworkRunLog
from .networking import lock_key, stacks_using_network
from .queue import enqueue_later
from .runtime import aws_settings
from .tasks import LOCK_RETRY_SECONDS, RunError, RunLogWriter, _fresh_connections, _worker_name

log = logging.getLogger(__name__)
Status = NetworkRun.Status
TASK = "deployments.network_tasks.network_run"
# How often a NAT gateway's state is polled while it is made or removed (minutes on AWS).
POLL_SECONDS = 5.0


class NetworkLogWriter(RunLogWriter):
    """RunLogWriter's live log, stored as NetworkRunLog lines."""

    def __call__(self, message: str) -> None:  # type: ignore[override]
        super().__call__("", message)

    def _store(self, batch: list[tuple[str, str]]) -> None:
        NetworkRunLog.objects.bulk_create(
            [NetworkRunLog(run_id=self.run_id, message=m[:4000]) for _, m in batch]
        )


def _claim(pk: int) -> NetworkRun | None:
    with transaction.atomic():
        run = NetworkRun.objects.select_for_update().select_related("tenant").filter(pk=pk).first()
        if run is None or run.status != Status.QUEUED:
            return None
        run.status = Status.RUNNING
        run.worker = _worker_name()
        run.waiting_reason = ""
        run.lock_id = ""
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "worker", "waiting_reason", "lock_id", "started_at"])
        return run


def network_run(pk: int) -> None:
    _fresh_connections()
    run = _claim(pk)
    if run is None:
        return
    write = NetworkLogWriter(run)
    try:
        _work(run, write)
    except Exception as exc:
        log.exception("networking run %s failed", pk)
        write(f"{run.action} failed: {exc}")
        _finish(
            run, Status.FAILED, error=str(exc)[:4000], record=getattr(exc, "network_record", None)
        )
        if not isinstance(exc, AwsError | RunError):
            raise
    finally:
        write.close()


@contextmanager
def _network_lock(run: NetworkRun, write: NetworkLogWriter) -> Iterator[Lease | None]:
    """Hold ``tenant:<slug>:networking`` for the block, heartbeating; None if it is held."""
    key = lock_key(run.tenant)
    with hold_lock(
        key,
        who=run.requested_by.get_username() if run.requested_by else "system",
        reason=f"network {run.action} of run #{run.number}",
        run_uid=str(run.uid),
        say=write,
        on_acquired=lambda lease: NetworkRun.objects.filter(pk=run.pk).update(
            lock_id=lease.lock_id
        ),
    ) as held:
        if isinstance(held, Waiting):
            run.waiting_reason = f"waiting: {key} is locked by {held.holder}"
            yield None
        else:
            yield held


def _work(run: NetworkRun, write: NetworkLogWriter) -> None:
    tenant = run.tenant
    write(f"{run.action} the network of tenant {tenant.slug}")
    with _network_lock(run, write) as lease:
        if lease is None:
            write(run.waiting_reason)
            NetworkRun.objects.filter(pk=run.pk).update(
                status=Status.QUEUED, waiting_reason=run.waiting_reason[:300]
            )
            enqueue_later(TASK, run.pk, seconds=LOCK_RETRY_SECONDS)
            return
        builder = TenantNetwork(
            network_context(aws_settings(), tenant.slug, log=write, ensure_lease=lease.ensure_held),
            poll_seconds=POLL_SECONDS,
        )
        try:
            if run.action == NetworkRun.Action.CREATE:
                spec = NetworkSpec(
                    tenant=tenant.slug,
                    cidr=run.spec["cidr"],
                    az_count=int(run.spec.get("az_count") or 2),
                    nat_mode=run.spec.get("nat_mode") or "single",
                    public_subnets=tuple(run.spec.get("public_subnets") or ()),
                    private_subnets=tuple(run.spec.get("private_subnets") or ()),
                )
                record = builder.ensure(spec)
            else:
                # Checked again under the lock: a stack may have deployed since the request.
                users = stacks_using_network(tenant)
                if users:
                    refused = RunError("the network is still in use: " + "; ".join(users))
                    refused.network_record = {**(tenant.network or {}), "status": "ready"}  # type: ignore[attr-defined]
                    raise refused
                vpc = (tenant.network or {}).get("vpc_id")
                builder.delete([vpc] if vpc else [])
                record = {}
        except Exception as exc:
            # Keep what exists so far: the page shows it and stacks stay off it.
            if not hasattr(exc, "network_record"):
                exc.network_record = {  # type: ignore[attr-defined]
                    **(tenant.network or {}),
                    **builder.record,
                    "status": "failed",
                }
            raise
    write(f"{run.action} done")
    _finish(run, Status.SUCCEEDED, record=record)


def _finish(
    run: NetworkRun, status: str, *, error: str = "", record: dict[str, Any] | None = None
) -> None:
    """The run's end, the tenant's network record and the audit event, together."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=run.tenant_id)
        if status == Status.SUCCEEDED:
            tenant.network = (
                {**(record or {}), "status": "ready", "run": str(run.uid)}
                if run.action == NetworkRun.Action.CREATE
                else {}
            )
        else:
            # A delete refused before it touched anything leaves the network as it was
            # (its record says "ready"); anything else may be half-built or half-removed.
            kept = record or tenant.network or {}
            tenant.network = {
                **kept,
                "status": "ready" if kept.get("status") == "ready" else "failed",
                "run": str(run.uid),
            }
        tenant.save(update_fields=["network"])
        NetworkRun.objects.filter(pk=run.pk).update(
            status=status, finished_at=timezone.now(), error=error, waiting_reason=""
        )
        ids = {
            k: tenant.network.get(k)
            for k in ("vpc_id", "cidr", "nat_mode")
            if tenant.network.get(k)
        }
        audit.record(
            action=f"network.{run.action}_{'succeeded' if status == Status.SUCCEEDED else status}",
            actor=None,
            tenant=tenant,
            target=f"network:{tenant.slug}#{run.number}",
            details={
                "run": str(run.uid),
                "requested_by": run.requested_by.get_username() if run.requested_by else "",
                **ids,
                **({"error": error[:500]} if error else {}),
            },
        )


def reap_network_runs() -> int:
    """Runs whose worker died (their lock is gone or expired and not renewed) end as
    interrupted; the tenant's network is marked failed, so nobody trusts a half-built one."""
    _fresh_connections()
    manager = LockManager(aws_settings())
    grace = timezone.now() - timezone.timedelta(seconds=settings.PANKA_LOCK_LEASE_SECONDS)
    reaped = 0
    for run in NetworkRun.objects.filter(status=Status.RUNNING).select_related("tenant"):
        info = manager.get(lock_key(run.tenant))
        ours = info is not None and run.lock_id and info.lock_id == run.lock_id
        if ours and not info.expired:
            continue
        if not ours and run.started_at and run.started_at > grace:
            continue  # just claimed: still taking its lock
        with transaction.atomic():
            fresh = NetworkRun.objects.select_for_update().get(pk=run.pk)
            if fresh.status != Status.RUNNING:
                continue
            NetworkRunLog.objects.create(
                run=fresh, message="interrupted: the worker stopped heartbeating its lock"
            )
            _finish(fresh, Status.INTERRUPTED, error="the worker stopped (its lock lease lapsed)")
        reaped += 1
    _resend_lost()
    return reaped


def _resend_lost() -> int:
    """Queued runs that no worker ever took and whose task is not in the broker (lost
    with a dead worker, or unreadable after a SECRET_KEY change) are sent again; a
    duplicate is a no-op, since only one delivery gets past the claim. Runs waiting for
    the lock are left alone: their retry is a schedule, not a queued task."""
    from .delivery import waiting_in_broker
    from .queue import enqueue

    before = timezone.now() - timezone.timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS)
    stuck = list(
        NetworkRun.objects.filter(status=Status.QUEUED, waiting_reason="", created_at__lt=before)
    )
    if not stuck:
        return 0
    in_broker = waiting_in_broker()
    sent = 0
    for run in stuck:
        if (TASK, run.pk) in in_broker:
            continue
        with transaction.atomic():
            NetworkRunLog.objects.create(
                run=run, message="re-sent to the workers: its task was not in the queue"
            )
            enqueue(TASK, run.pk)
        sent += 1
    return sent

"""Holding a DynamoDB lock for a worker's block of work, the one way both kinds of run do it.

Stack runs (``stack:…`` keys) and tenant networking runs (``tenant:<slug>:networking``)
take their lock the same way: one conditional write, a heartbeat thread that extends the
lease while the block runs (every AWS call checks the lease first), and a release at the
end that tolerates a lock someone force-removed meanwhile. When someone else holds the
lock the block gets a :class:`Waiting` with who, why and since when, and the caller puts
its run back in the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from .aws.errors import AwsError, LockHeld
from .aws.locks import Heartbeat, Lease, LockManager
from .runtime import aws_settings


@dataclass(frozen=True, slots=True)
class Waiting:
    """The lock is someone else's: ``holder`` says whose, for the run's waiting reason."""

    holder: str


@contextmanager
def hold_lock(
    key: str,
    *,
    who: str,
    reason: str,
    run_uid: str,
    say: Callable[[str], None],
    on_acquired: Callable[[Lease], None] = lambda lease: None,
) -> Iterator[Lease | Waiting]:
    """Hold ``key`` for the block, heartbeating; a :class:`Waiting` if it is held."""
    manager = LockManager(aws_settings(), heartbeat_interval=settings.PANKA_LOCK_HEARTBEAT_SECONDS)
    asked = time.perf_counter()
    try:
        lease = manager.acquire(
            key,
            owner=f"panka-web:{who}",
            reason=reason,
            deployment_id=run_uid,
            lease=settings.PANKA_LOCK_LEASE_SECONDS,
        )
    except LockHeld as exc:
        holder = exc.holder
        since = f" since {holder.acquired_at:%H:%M:%S} UTC" if holder and holder.acquired_at else ""
        why = f": {holder.reason}" if holder and holder.reason else ""
        yield Waiting(f"{holder.holder if holder else 'another tool'}{why}{since}")
        return
    on_acquired(lease)
    # The acquire's own time (one conditional DynamoDB write), read by `make bench-queue`.
    took = (time.perf_counter() - asked) * 1000
    say(f"lock {key} acquired in {took:.1f} ms (lease {lease.lease_seconds}s)")
    heartbeat = Heartbeat(manager, lease).start()
    try:
        yield lease
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=10)
        try:
            manager.release(lease)
            say("lock released")
        except AwsError as exc:
            say(f"lock was not ours any more at release: {exc}")

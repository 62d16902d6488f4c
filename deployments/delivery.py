"""Runs whose task never reached a worker are sent again (at-least-once delivery).

A task can vanish between the broker and ``tasks._claim``: the Redis broker hands a task
over by popping it, so a worker killed before claiming loses it; and after a SECRET_KEY
change django-q2 drops every queued task it cannot verify (they were signed with the old
key). The run would wait in ``queued``/``apply_queued`` forever. The reaper calls
:func:`resend_lost` every minute: a run that a worker could take, sent longer ago than
``PANKA_RESEND_AFTER_SECONDS``, with no task for it in the broker, is sent again and its
log says so. A duplicate is harmless: ``_claim`` lets exactly one delivery through.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Deployment, RunLog
from .queue import enqueue
from .runs import active_runs, queued_runs

log = logging.getLogger(__name__)
Status = Deployment.Status
TASKS = {
    Status.QUEUED: "deployments.tasks.plan_run",
    Status.APPLY_QUEUED: "deployments.tasks.apply_run",
}


def waiting_in_broker() -> set[tuple[str, int]]:
    """(function, run id) of every task the broker holds that this process can read.

    A task signed with another SECRET_KEY cannot be read, and no worker will run it
    either: it counts as absent.
    """
    from django_q.brokers import get_broker
    from django_q.signing import BadSignature, SignedPackage

    broker = get_broker()
    if settings.Q_CLUSTER.get("orm"):
        from django_q.models import OrmQ

        payloads = list(OrmQ.objects.filter(key=broker.list_key).values_list("payload", flat=True))
    else:
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    found: set[tuple[str, int]] = set()
    for payload in payloads:
        try:
            task = SignedPackage.loads(payload)
        except (BadSignature, ValueError, TypeError, EOFError):
            continue
        args = task.get("args") or ()
        if isinstance(task.get("func"), str) and len(args) == 1 and isinstance(args[0], int):
            found.add((task["func"], args[0]))
    return found


def _takeable() -> list[Deployment]:
    """Runs a worker could take now, sent (or created) before the threshold."""
    before = timezone.now() - timedelta(seconds=settings.PANKA_RESEND_AFTER_SECONDS)
    old = Q(sent_at__lt=before) | Q(sent_at__isnull=True, created_at__lt=before)
    found = list(Deployment.objects.filter(old, status=Status.APPLY_QUEUED))
    heads = list(Deployment.objects.filter(old, status=Status.QUEUED).select_related("stack"))
    for stack_id, environment in {(run.stack_id, run.environment) for run in heads}:
        stack = next(run.stack for run in heads if run.stack_id == stack_id)
        if active_runs(stack, environment).exists():
            continue  # it waits for that run, which starts it when it ends
        head = queued_runs(stack, environment).first()
        if head is not None and head in heads:
            found.append(head)
    return found


def resend_lost() -> int:
    """Send again every run whose task was lost; returns how many."""
    candidates = _takeable()
    if not candidates:
        return 0
    in_broker = waiting_in_broker()
    sent = 0
    for run in candidates:
        task = TASKS[run.status]
        if (task, run.pk) in in_broker:
            continue  # it is waiting its turn behind other tasks
        with transaction.atomic():
            fresh = Deployment.objects.select_for_update().filter(pk=run.pk).first()
            if fresh is None or fresh.status != run.status or fresh.sent_at != run.sent_at:
                continue  # taken, or sent again, meanwhile
            waited = int((timezone.now() - (run.sent_at or run.created_at)).total_seconds())
            RunLog.objects.create(
                deployment=fresh,
                message=(
                    f"re-sent to the workers: not taken {waited}s after it was sent, and no "
                    "task for it is waiting in the queue (a worker may have stopped holding "
                    "it, or SECRET_KEY changed since it was queued)"
                ),
            )
            fresh.sent_at = timezone.now()
            fresh.save(update_fields=["sent_at"])
            enqueue(task, fresh.pk)
        log.warning("re-sent run %s (%s): its task was lost", run.pk, run.status)
        sent += 1
    return sent

"""The one way work reaches a worker: after the transaction commits (bugsink's pattern).

A worker never sees a row that was rolled back, and a task is only ever given ids.
``PANKA_RUN_TASKS_INLINE`` (tests) runs the task in the committing thread instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction


def enqueue(func: str, *args: Any) -> None:
    def send() -> None:
        from django_q.tasks import async_task

        inline = getattr(settings, "PANKA_RUN_TASKS_INLINE", False)
        async_task(
            func,
            *args,
            task_name=f"{func.rsplit('.', 1)[-1]}:{':'.join(map(str, args))}",
            sync=inline,
        )

    transaction.on_commit(send)


def enqueue_later(func: str, *args: Any, seconds: int) -> None:
    """Run ``func`` again in about ``seconds`` (a one-off django-q2 schedule)."""
    if getattr(settings, "PANKA_RUN_TASKS_INLINE", False):
        return  # tests drive retries themselves
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Schedule

    def send() -> None:
        Schedule.objects.create(
            func=func,
            args=",".join(repr(a) for a in args),
            schedule_type=Schedule.ONCE,
            repeats=1,
            next_run=timezone.now() + timedelta(seconds=seconds),
        )

    transaction.on_commit(send)

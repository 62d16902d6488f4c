"""A django-q2 worker that refuses to start when it could not deploy safely."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from deployments.aws import bootstrap
from deployments.aws.errors import AwsError
from deployments.runtime import aws_settings


class Command(BaseCommand):
    help = "Check the state bucket and lock table, then run a django-q2 cluster (qcluster)."

    def handle(self, *args, **options) -> None:
        try:
            bootstrap.check(aws_settings())
        except AwsError as exc:
            raise CommandError(f"not starting the worker: {exc}") from exc
        ensure_schedules()
        tidy_up()
        call_command("qcluster")


def tidy_up() -> None:
    """Run the reaper once before taking tasks: runs a dead worker left behind, and tasks
    lost while no worker ran (or signed with a SECRET_KEY since changed), are dealt with
    now rather than at the scheduler's first round, half a minute later."""
    import logging

    from deployments import tasks

    try:
        tasks.reap()
    except Exception:  # the schedule retries every minute; starting matters more
        logging.getLogger(__name__).exception("the reaper failed at start")


def ensure_schedules() -> None:
    """The periodic tasks every deployment needs (idempotent: one row per task)."""
    from django_q.models import Schedule

    periodic = {
        "panka-reaper": ("deployments.tasks.reap", 1),
        "panka-network-reaper": ("deployments.network_tasks.reap_network_runs", 1),
        # Each tenant's own interval decides what is due; the sweep only looks hourly.
        "panka-drift-sweep": ("deployments.tasks.drift_sweep", 60),
    }
    for name, (func, minutes) in periodic.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )

"""A SECRET_KEY change does not silently drop queued runs (README "Queue and delivery").

django-q2 signs each queued task with SECRET_KEY; a worker started with a new key cannot
verify the tasks queued under the old one and drops them. The worker's reaper finds the
run with nothing behind it in the broker, sends it again under the new key, and says so
in the run's log; the run completes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from deployments.models import Deployment

from ..deployments.run_fixtures import deployable_stack
from .test_workers import drive, explain, queue, state_history

pytestmark = pytest.mark.workers
NEW_KEY = "a-new-secret-key-after-rotation-0123456789-abcdefghijklmnop"


def test_a_run_queued_before_a_secret_key_change_still_runs(personas, workers, aws, monkeypatch):
    stack = deployable_stack(personas)
    run = queue(stack, personas.deployer)  # its task is signed with the old key
    # Queued a while ago: older than the re-send threshold the worker gets below.
    Deployment.objects.filter(pk=run.pk).update(sent_at=timezone.now() - timedelta(minutes=5))

    # The web and the workers restart with the new key.
    monkeypatch.setattr(Conf, "SECRET_KEY", NEW_KEY)
    workers.start("rotated", SECRET_KEY=NEW_KEY, PANKA_RESEND_AFTER_SECONDS="5")
    drive(workers, personas.deployer, run)

    assert run.status == Deployment.Status.SUCCEEDED, explain(workers, run)
    messages = list(run.logs.values_list("message", flat=True))
    assert messages[0].startswith("re-sent to the workers: not taken"), messages
    assert "SECRET_KEY changed" in messages[0]
    assert "Failed to push task to queue" in workers.log("rotated")  # the old task, dropped
    # Nothing lost and nothing twice: one plan, one apply, the state written by this run.
    assert sum(m.startswith("planning ") for m in messages) == 1
    assert [who for _, who in state_history(aws)] == [str(run.uid)] * 2

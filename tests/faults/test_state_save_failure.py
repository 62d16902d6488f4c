"""Fault 6: the state save fails after AWS changed.

S3 refuses the state's PutObject (an injected AWS error on the real client, against the
emulator) once the apply has created queues. The run must fail saying so, keep the state
it meant to write, show it, and write it later as the next serial, under the lock and
fenced on the version it was based on. Nothing may be lost: every queue AWS has is in
the final state, and no queue is ever created twice.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments.aws.clients import client as aws_client
from deployments.aws.locks import LockManager, lock_key
from deployments.aws.state import StateStore, successor
from deployments.models import Deployment
from tenants.models import AuditEvent

from ..deployments.run_fixtures import deployable_stack
from ..deployments.test_runs import apply, queue, queue_names
from .s3_faults import failing_state_puts

pytestmark = pytest.mark.production
Status = Deployment.Status
ENV = "development"
QUEUES = [
    "shop-development-work-jobs",
    "shop-development-work-jobs-dlq",
    "shop-development-work-results",
]


def _failed_apply(personas, aws, capture, *, succeed_first: int) -> Deployment:
    """A deploy of jobs → results whose state puts fail after ``succeed_first``."""
    stack = deployable_stack(personas)
    run = queue(stack, personas.deployer, capture=capture)
    assert run.status == Status.PLANNED, run.error
    with failing_state_puts(aws, succeed_first=succeed_first) as refused:
        run = apply(run, personas.deployer, capture)
    assert refused, "the injected fault never fired"
    return run


def _versions(aws) -> list[dict]:
    listing = aws_client(aws, "s3").list_object_versions(Bucket=aws.state_bucket)
    return listing.get("Versions", [])


def _assert_nothing_lost(aws, *, serial: int, components=("jobs", "results")) -> None:
    """S3's state, at ``serial``, records every queue AWS has (with its AWS URL), and
    AWS has each queue once."""
    state = StateStore(aws).load("acme", "shop", ENV)
    assert state is not None and state.serial == serial
    assert set(state.state["resources"]) == set(components)
    sqs = aws_client(aws, "sqs")
    for component in components:
        url = sqs.get_queue_url(QueueName=f"shop-development-work-{component}")["QueueUrl"]
        assert state.state["resources"][component]["attributes"]["queue_url"] == url
    expected = [
        q for q in QUEUES if q.removeprefix("shop-development-work-").split("-")[0] in components
    ]
    assert queue_names(aws) == expected, "no queue is missing and none was made twice"
    assert len(_versions(aws)) == serial, "one S3 version per serial, none lost or doubled"
    assert LockManager(aws).get(lock_key("acme", "shop", ENV)) is None


@pytest.mark.parametrize("succeed_first", [1, 0], ids=["second-save-fails", "first-save-fails"])
def test_a_failed_state_save_is_kept_shown_and_saved_again_as_the_next_serial(
    personas, inline_tasks, client, django_capture_on_commit_callbacks, succeed_first
):
    capture = django_capture_on_commit_callbacks
    run = _failed_apply(personas, inline_tasks, capture, succeed_first=succeed_first)

    assert run.status == Status.FAILED
    assert "the state could not be saved" in run.error and "InternalError" in run.error
    assert "Save state again" in run.error
    # The failed save stops the apply: when the first one fails, results is never started.
    made = ("jobs", "results") if succeed_first else ("jobs",)
    pending = run.pending_state
    assert set(pending["state"]["resources"]) == set(made)
    assert pending["base_serial"] == succeed_first
    store = StateStore(inline_tasks)
    before = store.load("acme", "shop", ENV)
    if succeed_first:
        assert before.serial == 1 and set(before.state["resources"]) == {"jobs"}
        assert pending["base_etag"] == before.etag
    else:
        assert before is None and pending["base_etag"] == ""
    assert len(queue_names(inline_tasks)) == len(made) + 1, "jobs (and its DLQ), results"
    assert LockManager(inline_tasks).get(lock_key("acme", "shop", ENV)) is None
    assert "Traceback" not in "".join(run.logs.values_list("message", flat=True))

    page_url = reverse("run_detail", args=["acme", run.uid])
    save_url = reverse("run_save_state", args=["acme", run.uid])
    client.force_login(personas.viewer)
    page = client.get(page_url).content.decode()
    assert "State not saved" in page and "shop-development-work-jobs" in page
    assert "save-state-button" not in page, "viewers see the state but cannot save it"
    assert client.post(save_url).status_code == 403
    assert Deployment.objects.get(pk=run.pk).pending_state == pending

    client.force_login(personas.deployer)
    assert "save-state-button" in client.get(page_url).content.decode()
    with failing_state_puts(inline_tasks):  # S3 still refuses: kept, and said so
        page = client.post(save_url, follow=True).content.decode()
    assert "Not saved: the state could not be saved (it is still kept)" in page
    assert Deployment.objects.get(pk=run.pk).pending_state == pending
    assert len(_versions(inline_tasks)) == succeed_first

    page = client.post(save_url, follow=True).content.decode()
    assert f"is now the current state (serial {succeed_first + 1})" in page
    after = store.load("acme", "shop", ENV)
    assert after.serial == succeed_first + 1, "the previous serial + 1"
    if succeed_first:
        assert after.lineage == before.lineage
    assert after.state["metadata"]["deployment_id"] == str(run.uid)
    run.refresh_from_db()
    assert run.pending_state is None
    assert (run.state_serial, run.state_version) == (after.serial, after.version_id)
    assert "State not saved" not in client.get(page_url).content.decode()
    assert AuditEvent.objects.filter(action="run.save_state", actor=personas.deployer).count() == 1
    assert client.post(save_url).status_code == 302  # twice: refused, nothing written
    _assert_nothing_lost(inline_tasks, serial=succeed_first + 1, components=made)

    # The next deploy sees the made queues in the state and AWS: none is created again.
    again = queue(run.stack, personas.deployer, capture=capture)
    assert again.plan["summary"]["no-op"] == len(made)
    assert again.plan["summary"]["create"] == 2 - len(made)
    if again.status == Status.PLANNED:
        again = apply(again, personas.deployer, capture)
    assert again.status == Status.SUCCEEDED, again.error
    _assert_nothing_lost(inline_tasks, serial=2)


def test_the_next_run_saves_the_kept_state_before_it_plans(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    run = _failed_apply(personas, inline_tasks, capture, succeed_first=1)
    assert run.pending_state is not None

    with failing_state_puts(inline_tasks):  # S3 still refuses: no plan from a stale S3
        blocked = queue(run.stack, personas.deployer, capture=capture)
    assert blocked.status == Status.FAILED and blocked.plan is None
    assert f"run #{run.number} changed AWS but its state is not saved yet" in blocked.error
    assert Deployment.objects.get(pk=run.pk).pending_state == run.pending_state

    following = queue(run.stack, personas.deployer, capture=capture)
    assert following.status == Status.SUCCEEDED, following.error
    assert following.plan["summary"]["create"] == 0, "the kept queues are not made again"
    log = list(following.logs.values_list("message", flat=True))
    assert f"saved the state kept by run #{run.number} as serial 2" in log
    run.refresh_from_db()
    assert run.pending_state is None and run.state_serial == 2
    assert any(
        f"saved again as serial 2 (by run #{following.number})" in m
        for m in run.logs.values_list("message", flat=True)
    )
    _assert_nothing_lost(inline_tasks, serial=2)


def test_a_state_written_meanwhile_is_not_overwritten_and_the_kept_state_stays(
    personas, inline_tasks, client, django_capture_on_commit_callbacks
):
    """If-Match fencing: the kept state was based on serial 1; someone (the CLI) wrote
    serial 2 meanwhile. Neither the button nor the next run may write over it: the next
    run says so and plans from S3, adopting the queue AWS already has."""
    capture = django_capture_on_commit_callbacks
    run = _failed_apply(personas, inline_tasks, capture, succeed_first=1)
    store = StateStore(inline_tasks)
    current = store.load("acme", "shop", ENV)
    theirs = store.save(
        current, successor(current.state), deployment_id="cli", deployed_by="bob", revision=""
    )

    client.force_login(personas.deployer)
    page = client.post(reverse("run_save_state", args=["acme", run.uid]), follow=True)
    assert "changed since run #1 failed to save" in page.content.decode()
    assert store.load("acme", "shop", ENV).version_id == theirs.version_id

    following = queue(run.stack, personas.deployer, capture=capture)
    assert following.status == Status.PLANNED, following.error
    log = list(following.logs.values_list("message", flat=True))
    assert any(f"warning: the state kept by run #{run.number} was not written" in m for m in log)
    assert [a["action"] for a in following.plan["actions"]] == ["no-op", "create"]
    following = apply(following, personas.deployer, capture)
    assert following.status == Status.SUCCEEDED, following.error

    # Nothing lost: their version is the base of the new one, ours is still kept for a
    # person, and the results queue was adopted, not made twice.
    latest = store.load("acme", "shop", ENV)
    assert latest.serial == 3 and latest.lineage == theirs.lineage
    run.refresh_from_db()
    assert set(run.pending_state["state"]["resources"]) == {"jobs", "results"}
    _assert_nothing_lost(inline_tasks, serial=3)


def test_an_admin_discards_a_kept_state_that_can_no_longer_be_written(
    personas, inline_tasks, client, django_capture_on_commit_callbacks
):
    """Once someone wrote a newer state, the kept one can never be written; after
    reconciling by hand a tenant admin sets it aside, with a reason: later runs stop
    warning about it, and nothing is deleted (the run page still shows it)."""
    capture = django_capture_on_commit_callbacks
    run = _failed_apply(personas, inline_tasks, capture, succeed_first=1)
    kept = run.pending_state
    store = StateStore(inline_tasks)
    current = store.load("acme", "shop", ENV)
    store.save(
        current, successor(current.state), deployment_id="cli", deployed_by="bob", revision=""
    )
    page_url = reverse("run_detail", args=["acme", run.uid])
    discard_url = reverse("run_discard_state", args=["acme", run.uid])

    client.force_login(personas.deployer)
    assert "discard-state-button" not in client.get(page_url).content.decode()
    assert client.post(discard_url, {"reason": "mine"}).status_code == 403
    client.force_login(personas.admin)
    assert "discard-state-button" in client.get(page_url).content.decode()
    page = client.post(discard_url, {"reason": "  "}, follow=True).content.decode()
    assert "Not discarded: say why" in page
    assert Deployment.objects.get(pk=run.pk).pending_state == kept

    # While the stack is locked (a run, a save), nothing is discarded.
    manager = LockManager(inline_tasks)
    lease = manager.acquire(lock_key("acme", "shop", ENV), owner="cli:bob", reason="applying")
    page = client.post(discard_url, {"reason": "reconciled"}, follow=True).content.decode()
    assert "Not discarded: the stack is locked by" in page
    assert Deployment.objects.get(pk=run.pk).pending_state == kept
    manager.release(lease)

    page = client.post(
        discard_url, {"reason": "reconciled by hand: bob's serial 2 has both queues"}, follow=True
    ).content.decode()
    assert "The kept state is discarded" in page
    assert "Kept state discarded" in page and "reconciled by hand" in page
    assert "State not saved" not in page and "shop-development-work-jobs" in page
    run.refresh_from_db()
    assert run.pending_state is None
    assert run.discarded_state["state"] == kept["state"]
    assert run.discarded_state["discarded_by"] == personas.admin.username
    assert any("discarded by" in m for m in run.logs.values_list("message", flat=True))
    event = AuditEvent.objects.get(action="run.discard_state")
    assert event.actor == personas.admin and event.details["base_serial"] == 1
    assert manager.get(lock_key("acme", "shop", ENV)) is None, "the lock is released"
    page = client.post(discard_url, {"reason": "again"}, follow=True).content.decode()
    assert "Not discarded: run #1 has no unsaved state" in page

    # The next run no longer tries to write it, and S3's history is untouched.
    following = queue(run.stack, personas.deployer, capture=capture)
    assert following.status == Status.PLANNED, following.error
    log = " ".join(following.logs.values_list("message", flat=True))
    assert "kept by run" not in log
    assert store.load("acme", "shop", ENV).serial == 2


def test_a_kept_state_that_can_still_be_written_is_not_discarded(
    personas, inline_tasks, client, django_capture_on_commit_callbacks
):
    """S3 was only down: its current version is still the kept state's base, so the state
    can be written, and discarding it would make the next plan create its queues again."""
    run = _failed_apply(personas, inline_tasks, django_capture_on_commit_callbacks, succeed_first=1)
    kept = run.pending_state
    client.force_login(personas.admin)
    page = client.post(
        reverse("run_discard_state", args=["acme", run.uid]), {"reason": "cleanup"}, follow=True
    ).content.decode()
    assert "Not discarded: S3 still holds the state run #1 was based on" in page
    assert "Save state again" in page
    run.refresh_from_db()
    assert run.pending_state == kept and run.discarded_state is None
    assert not AuditEvent.objects.filter(action="run.discard_state").exists()
    assert LockManager(inline_tasks).get(lock_key("acme", "shop", ENV)) is None


def test_a_kept_state_already_in_s3_is_recorded_as_saved_not_discarded(
    personas, inline_tasks, client, django_capture_on_commit_callbacks
):
    """The save landed but recording it did not (a crash in between): discarding records
    it, as a save would, and discards nothing."""
    run = _failed_apply(personas, inline_tasks, django_capture_on_commit_callbacks, succeed_first=1)
    store = StateStore(inline_tasks)
    current = store.load("acme", "shop", ENV)
    landed = dict(run.pending_state["state"])
    landed["metadata"] = {**landed["metadata"], "serial": 2, "lineage": current.lineage}
    written = store.save(
        current, landed, deployment_id=str(run.uid), deployed_by="deployer", revision="1"
    )
    client.force_login(personas.admin)
    page = client.post(
        reverse("run_discard_state", args=["acme", run.uid]), {"reason": "cleanup"}, follow=True
    ).content.decode()
    assert "already in S3 (serial 2): it is now recorded as saved" in page
    run.refresh_from_db()
    assert run.pending_state is None and run.discarded_state is None
    assert (run.state_serial, run.state_version) == (2, written.version_id)
    assert not AuditEvent.objects.filter(action="run.discard_state").exists()

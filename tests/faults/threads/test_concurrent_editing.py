"""Fault 8: two people save revisions of one stack at the same moment.

Each save is a real request on its own thread and database connection, released by a
barrier at once; the revision write is slowed inside its transaction so the second save
really has to wait for the first. Both revisions must be kept, numbered in order with no
duplicate; the user whose draft is now stale gets the conflict page (409), and saving
anyway must keep the other's files. Runs on SQLite (a file, IMMEDIATE transactions) and,
in the production pass, on PostgreSQL (the stack row lock).
"""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest
from django.db import connections
from django.test import Client

from deployments import editing
from deployments.models import StackDraft, StackRevision, content_hash
from deployments.services import save_revision
from tenants import audit
from tenants.models import AuditEvent

from ...deployments.editor_fixtures import QUEUE_YAML, STACK_YAML, shop

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]
SAVE = "/t/acme/stacks/shop/edit/save/"
HOLD = 0.3  # seconds each revision write holds the stack lock


def sqs(name: str) -> str:
    return QUEUE_YAML.replace("name: orders", f"name: {name}")


@pytest.fixture
def slow_revision_writes(monkeypatch):
    """Hold every revision write inside its transaction for HOLD seconds, recording when
    each thread was inside: the intervals show whether the writes were serialised."""
    inside: list[tuple[str, float, float]] = []
    record = audit.record

    def held(**kwargs):
        if kwargs.get("action") != "revision.create":
            return record(**kwargs)
        start = time.monotonic()
        time.sleep(HOLD)
        event = record(**kwargs)
        if threading.current_thread().name.startswith("save-"):
            inside.append((threading.current_thread().name, start, time.monotonic()))
        return event

    monkeypatch.setattr(audit, "record", held)
    return inside


def at_once(*jobs) -> list:
    """Run the jobs on threads of their own, released together by a barrier; their
    results (or exceptions), and each one's (start, end) on the monotonic clock."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    spans: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            start = time.monotonic()
            try:
                results[index] = job()
            except Exception as exc:  # reported by the test, not lost in the thread
                results[index] = exc
            spans[index] = (start, time.monotonic())
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, job), name=f"save-{i}") for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a save hung"
    return results, spans


def overlapped(spans) -> bool:
    return max(start for start, _ in spans) < min(end for _, end in spans)


def serialised(inside) -> bool:
    ordered = sorted(inside, key=lambda s: s[1])
    return all(a[2] <= b[1] for a, b in pairwise(ordered))


def test_two_editors_saving_at_once_keep_both_revisions_in_order_and_every_file(
    personas, slow_revision_writes
):
    stack = shop(personas)
    drafts = {}
    clients = {}
    for who in ("deployer", "admin"):
        user = getattr(personas, who)
        clients[who] = Client()
        clients[who].force_login(user)
        drafts[who] = editing.open_draft(stack=stack, user=user)
    # The deployer adds a queue file and edits the queue; the admin adds another queue
    # file and edits stack.yaml. Different files: nothing of either may be lost.
    mine = editing.add_file(
        draft=drafts["deployer"], path="services/api/more.yaml", text=sqs("more")
    )
    editing.update_file(
        draft=mine, path="services/api/queue.yaml", text=QUEUE_YAML + "  delaySeconds: 5\n"
    )
    theirs = editing.add_file(
        draft=drafts["admin"], path="services/ops/audit.yaml", text=sqs("audit")
    )
    editing.update_file(draft=theirs, path="stack.yaml", text=STACK_YAML.replace("345600", "86400"))

    responses, spans = at_once(
        lambda: clients["deployer"].post(SAVE, {"message": "deployer's save"}),
        lambda: clients["admin"].post(SAVE, {"message": "admin's save"}),
    )
    assert not any(isinstance(r, Exception) for r in responses), responses
    assert overlapped(spans), f"the two saves did not overlap: {spans}"
    assert len(slow_revision_writes) == 1, "one revision written; the other save saw it"
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 409], statuses

    winner, loser = (
        ("deployer", "admin") if responses[0].status_code == 302 else ("admin", "deployer")
    )
    second = StackRevision.objects.get(stack=stack, number=2)
    assert second.author == getattr(personas, winner)
    assert second.files == StackDraft.objects.get(stack=stack, user=getattr(personas, winner)).files
    conflict = responses[1 if loser == "admin" else 0].content.decode()
    assert "saved revision 2 after you opened the editor" in conflict

    # The loser saves anyway, against the revision the conflict page showed.
    forced = clients[loser].post(SAVE, {"force": "1", "against": "2", "message": "anyway"})
    assert forced.status_code == 302
    numbers = list(stack.revisions.order_by("number").values_list("number", flat=True))
    assert numbers == [1, 2, 3], "both kept, in order, no duplicate number"
    third = StackRevision.objects.get(stack=stack, number=3)
    assert third.author == getattr(personas, loser)
    assert set(third.files) == {
        "stack.yaml",
        "services/api/queue.yaml",
        "services/api/more.yaml",
        "services/ops/audit.yaml",
    }, "no lost file"
    assert "86400" in third.files["stack.yaml"], "the admin's edit is kept"
    assert "delaySeconds: 5" in third.files["services/api/queue.yaml"], "the deployer's too"
    assert third.error_count == 0
    loser_draft = StackDraft.objects.get(stack=stack, user=getattr(personas, loser))
    assert loser_draft.files == third.files and loser_draft.base_id == third.pk
    assert AuditEvent.objects.filter(action="revision.create").count() == 3


def test_many_saves_at_once_get_consecutive_numbers_and_none_is_lost(
    personas, slow_revision_writes
):
    """The upload path (save_revision, no base revision): every content is a revision."""
    stack = shop(personas)
    texts = [QUEUE_YAML + f"# save {i}\n" for i in range(6)]
    results, spans = at_once(
        *[
            lambda text=text: save_revision(
                stack=stack,
                files={"stack.yaml": STACK_YAML, "services/api/queue.yaml": text},
                actor=personas.deployer,
            )
            for text in texts
        ]
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert overlapped(spans)
    assert serialised(slow_revision_writes), "the revision writes never ran at once"
    assert sorted(r[0].number for r in results) == [2, 3, 4, 5, 6, 7]
    saved = StackRevision.objects.filter(stack=stack, number__gt=1)
    assert sorted(r.files["services/api/queue.yaml"] for r in saved) == sorted(texts)
    assert len({r.content_hash for r in saved}) == 6


def test_saving_anyway_against_an_older_conflict_shows_the_newer_one(personas):
    """The conflict page showed revision 2; revision 3 came meanwhile: its changes were
    never shown, so "save anyway" shows the conflict again instead of saving."""
    stack = shop(personas)
    client = Client()
    client.force_login(personas.deployer)
    mine = editing.open_draft(stack=stack, user=personas.deployer)
    editing.update_file(draft=mine, path="stack.yaml", text=STACK_YAML + "# mine\n")
    for number in (2, 3):
        save_revision(
            stack=stack,
            files={"stack.yaml": STACK_YAML, "services/api/queue.yaml": sqs(f"q{number}")},
            actor=personas.admin,
        )
    response = client.post(SAVE, {"force": "1", "against": "2", "message": "anyway"})
    assert response.status_code == 409
    assert "saved revision 3 after you opened the editor" in response.content.decode()
    assert stack.revisions.count() == 3
    response = client.post(SAVE, {"force": "1", "against": "3", "message": "anyway"})
    assert response.status_code == 302
    fourth = stack.revisions.get(number=4)
    assert fourth.files["stack.yaml"].endswith("# mine\n")
    assert "name: q3" in fourth.files["services/api/queue.yaml"], "their edit is kept"
    assert content_hash(fourth.files) == fourth.content_hash

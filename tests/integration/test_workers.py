"""Runs on real worker processes (``manage.py worker``): no inline tasks.

Two workers share one stack+environment and never apply it at once; a worker killed in
the middle of an apply leaves its run to the reaper and its resources to the next apply,
which adopts them instead of making them twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from deployments import runs, tasks
from deployments.aws.clients import client
from deployments.aws.locks import DEFAULT_SKEW, LockManager, lock_key
from deployments.aws.state import StateStore
from deployments.models import Deployment

from ..deployments.run_fixtures import STACK, deployable_stack
from .conftest import Workers, sleep_until, wait_for

pytestmark = pytest.mark.workers
Status = Deployment.Status
ENV = "development"
RUN_TIMEOUT = 60
LEASE = 10  # PANKA_LOCK_LEASE_SECONDS for the kill test: its minimum
CHAIN = 10  # queues in the kill test, each depending on the one before


def queue(stack, actor, **variables: str) -> Deployment:
    return runs.queue_run(
        stack=stack,
        revision=stack.latest_revision(),
        environment=ENV,
        kind=Deployment.Kind.APPLY,
        actor=actor,
        variables=variables,
    )


def explain(pool: Workers, *watched: Deployment) -> str:
    lines = []
    for run in watched:
        run.refresh_from_db()
        lines.append(f"run #{run.number}: {run.status} {run.error}")
        lines += [f"  {log}" for log in run.logs.all()]
    return "\n".join(lines) + "\n" + pool.describe()


def drive(pool: Workers, actor, *watched: Deployment) -> None:
    """Confirm each run's apply as soon as it is planned, until all have ended and their
    logs are complete."""

    def all_ended() -> bool:
        for run in watched:
            run.refresh_from_db()
            if run.status == Status.PLANNED:
                runs.confirm_apply(run=run, actor=actor)
        return all(run.is_terminal for run in watched)

    wait_for(
        all_ended,
        timeout=RUN_TIMEOUT * len(watched),
        what="the runs to end",
        explain=lambda: explain(pool, *watched),
    )
    # The worker stores log lines from a thread of their own, and ends the run before the
    # last of them may be stored: a succeeded run's last line is "applied N component(s)".
    for run in watched:
        if run.status == Status.SUCCEEDED:
            wait_for(
                lambda run=run: run.logs.filter(message__startswith="applied ").exists(),
                timeout=30,
                what=f"the end of run #{run.number}'s log",
                explain=lambda: explain(pool, *watched),
            )


def lock_holdings(run: Deployment) -> list[tuple[datetime, datetime]]:
    """(acquired, released) from the run's log, in order: the plan's, then the apply's."""
    held: list[tuple[datetime, datetime]] = []
    acquired = None
    for log in run.logs.filter(component=""):
        if log.message.startswith("lock ") and " acquired " in log.message:
            acquired = log.at
        elif log.message == "lock released" and acquired is not None:
            held.append((acquired, log.at))
            acquired = None
    return held


def state_history(aws) -> list[tuple[int, str]]:
    """(serial, deployment id) of every state version, oldest first."""
    store = StateStore(aws)
    page = store.list_versions("acme", "shop", ENV, page_size=1000)
    history = []
    for version in reversed(page.versions):  # S3 lists the newest first
        meta = store.get_version("acme", "shop", ENV, version.version_id).state["metadata"]
        history.append((meta["serial"], meta["deployment_id"]))
    return history


def queue_name_counts(aws) -> Counter[str]:
    urls = client(aws, "sqs").list_queues(MaxResults=1000).get("QueueUrls", [])
    return Counter(url.rsplit("/", 1)[-1] for url in urls)


def test_two_workers_never_apply_one_stack_and_environment_at_once(personas, workers, aws):
    stack = deployable_stack(personas)
    # Both queued before the workers start, so both take a plan task at once: the second
    # run must wait for the first (which worker gets which task is up to the broker).
    first = queue(stack, personas.deployer)
    second = queue(stack, personas.deployer, TIMEOUT="90")  # an update of `jobs`
    workers.start("one")
    workers.start("two")
    drive(workers, personas.deployer, first, second)

    for run in (first, second):
        assert run.status == Status.SUCCEEDED, explain(workers, first, second)
    assert {a["component"]: a["action"] for a in second.plan["actions"]} == {
        "jobs": "update",
        "results": "no-op",
    }
    # Never both applying: each run held the lock twice (plan, then apply), the second
    # apply took it after the first released it, and the second run started (was claimed
    # by a worker) only after the first had ended.
    held = [lock_holdings(first), lock_holdings(second)]
    assert [len(h) for h in held] == [2, 2], explain(workers, first, second)
    for acquired, released in held[0] + held[1]:
        assert acquired <= released
    first_apply, second_apply = held[0][1], held[1][1]
    assert first_apply[1] < second_apply[0], f"applies overlap: {first_apply} {second_apply}"
    assert first.finished_at < second.started_at

    history = state_history(aws)
    serials = [serial for serial, _ in history]
    assert serials == sorted(set(serials)) == [1, 2, 3], history
    assert [who for _, who in history] == [str(first.uid)] * 2 + [str(second.uid)]
    assert (first.state_serial, second.state_serial) == (2, 3)
    assert LockManager(aws).get(lock_key("acme", "shop", ENV)) is None


def chain_files() -> dict[str, str]:
    docs = []
    for i in range(CHAIN):
        depends = f"  dependsOn: [q{i - 1:02d}]\n" if i else ""
        docs.append(
            "apiVersion: components.panka.io/v1\nkind: SQS\n"
            f"metadata:\n  name: q{i:02d}\nspec:\n"
            "  deadLetterQueue:\n    enabled: true\n    maxReceiveCount: 3\n" + depends
        )
    return {"stack.yaml": STACK, "services/work/queues.yaml": "---\n".join(docs)}


def queues_of(component: str) -> list[str]:
    base = f"shop-{ENV}-work-{component}"
    return [base, f"{base}-dlq"]


def test_a_worker_killed_mid_apply_is_reaped_and_the_next_apply_makes_nothing_twice(
    personas, workers, aws, settings
):
    settings.PANKA_LOCK_LEASE_SECONDS = LEASE  # what the reaper in this process reads
    short = {"PANKA_LOCK_LEASE_SECONDS": str(LEASE), "PANKA_APPLY_PARALLELISM": "1"}
    workers.start("doomed", **short)
    stack = deployable_stack(personas, files=chain_files())
    run = queue(stack, personas.deployer)
    wait_for(
        lambda: run.refresh_from_db() or run.status == Status.PLANNED or run.is_terminal,
        timeout=RUN_TIMEOUT,
        what="the plan",
        explain=lambda: explain(workers, run),
    )
    assert run.status == Status.PLANNED, explain(workers, run)
    runs.confirm_apply(run=run, actor=personas.deployer)

    # Kill the whole worker (cluster and children) once the first component is done and
    # the second has made its first queue: usually before that component is recorded.
    wait_for(
        lambda: run.logs.filter(component="q01", message__startswith="created queue").exists(),
        timeout=RUN_TIMEOUT,
        what="the second component's first queue",
        explain=lambda: explain(workers, run),
        interval=0.01,
    )
    workers.kill("doomed")
    done = {log.component for log in run.logs.filter(message__startswith="create done")}

    # While its lease runs, the run is left alone; the lock is still the dead worker's.
    assert tasks.reap() == 0
    run.refresh_from_db()
    assert run.status == Status.APPLYING
    lock = LockManager(aws).get(lock_key("acme", "shop", ENV))
    assert lock is not None and lock.lock_id == run.lock_id
    workers.start("rescuer", **short)  # starts up while the lease runs out

    sleep_until(lock.expires_at.timestamp() + 0.5)
    tasks.reap()  # the rescuer's own reaper schedule may have got there first
    run.refresh_from_db()
    assert run.status == Status.INTERRUPTED and "lease lapsed" in run.error

    # What the dead worker finished is in the state; at most the component it was in the
    # middle of exists in SQS without being recorded.
    state = StateStore(aws).load("acme", "shop", ENV)
    recorded = set(state.state["resources"])
    assert done <= recorded and 1 <= len(recorded) < CHAIN, (done, recorded)
    existing = queue_name_counts(aws)
    in_sqs = {f"q{i:02d}" for i in range(CHAIN) if any(existing[q] for q in queues_of(f"q{i:02d}"))}
    assert recorded <= in_sqs and len(in_sqs - recorded) <= 1, (recorded, in_sqs)

    # Another worker may take the lock over once its expiry is older than the skew margin.
    sleep_until(lock.expires_at.timestamp() + DEFAULT_SKEW + 1.5)
    again = queue(stack, personas.deployer)
    drive(workers, personas.deployer, again)
    assert again.status == Status.SUCCEEDED, explain(workers, again)
    assert again.worker != run.worker
    actions = {a["component"]: a["action"] for a in again.plan["actions"]}
    assert {c for c, action in actions.items() if action == "no-op"} == recorded
    if in_sqs - recorded:  # the half-made component was adopted, not made again
        messages = list(again.logs.values_list("message", flat=True))
        assert any(m.startswith("adopted existing queue") for m in messages), messages

    expected = [q for i in range(CHAIN) for q in queues_of(f"q{i:02d}")]
    assert queue_name_counts(aws) == Counter(expected)
    final = StateStore(aws).load("acme", "shop", ENV)
    assert set(final.state["resources"]) == {f"q{i:02d}" for i in range(CHAIN)}
    # One version per component, the dead worker's first; none written twice.
    history = state_history(aws)
    assert [serial for serial, _ in history] == list(range(1, CHAIN + 1)), history
    assert [who for _, who in history] == [str(run.uid)] * len(recorded) + [str(again.uid)] * (
        CHAIN - len(recorded)
    )
    assert LockManager(aws).get(lock_key("acme", "shop", ENV)) is None

"""Proof under faults (issue 8, faults 1–5) on real worker processes.

They run in the production pass (``make test-production``: PostgreSQL and the Redis
broker) and are skipped in the default pass, whose SQLite file and ORM broker have
their own worker tests (test_workers.py). Fault 3, a worker SIGKILLed mid-apply, is
test_workers.py's kill test, which the production pass runs on PostgreSQL + Redis.

Each test ends with "nothing lost" checks: every run's status, the state versions and
their serials in S3, the queues in the emulator (each once), the lock table empty.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import datetime
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections, connections
from django.urls import reverse

from deployments import runs, tasks
from deployments.aws.clients import client
from deployments.aws.locks import DEFAULT_SKEW, LockManager, lock_key
from deployments.aws.state import StateStore
from deployments.models import Deployment

from ..deployments.run_fixtures import STACK
from .conftest import Workers, sleep_until, wait_for
from .tcp_proxy import TcpProxy
from .test_workers import chain_files, drive, explain, lock_holdings, queue_name_counts, queues_of

pytestmark = [pytest.mark.workers, pytest.mark.production]
Status = Deployment.Status
ENV = "development"
LEASE = 10  # PANKA_LOCK_LEASE_SECONDS where a lease must run out: its minimum
SHORT_LEASE = {"PANKA_LOCK_LEASE_SECONDS": str(LEASE), "PANKA_APPLY_PARALLELISM": "1"}
OUTAGE_SECONDS = 30


@pytest.fixture(autouse=True)
def _production_only(settings) -> None:
    if connections["default"].vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("fault tests run in the production pass (make test-production)")


def one_queue(name: str = "shop") -> dict[str, str]:
    """A stack of one SQS queue whose visibility timeout is the variable TIMEOUT: a run
    with a new TIMEOUT updates it and writes exactly one state version."""
    return {
        "stack.yaml": STACK.replace("name: shop", f"name: {name}"),
        "services/work/queues.yaml": (
            "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n  name: jobs\n"
            "spec:\n  visibilityTimeout: ${TIMEOUT}\n"
        ),
    }


def make_stack(personas, name: str, files: dict[str, str]):
    from deployments.services import create_stack, save_revision
    from deployments.validation import summary_counts, validate_files

    stack = create_stack(tenant=personas.tenant, name=name, actor=personas.admin)
    save_revision(
        stack=stack,
        files=files,
        actor=personas.admin,
        counts=summary_counts(validate_files(files, tenant=personas.tenant)),
    )
    return stack


def queue(stack, actor, **variables: str) -> Deployment:
    return runs.queue_run(
        stack=stack,
        revision=stack.latest_revision(),
        environment=ENV,
        kind=Deployment.Kind.APPLY,
        actor=actor,
        variables=variables,
    )


def history(aws, stack: str) -> list[tuple[int, str]]:
    """(serial, deployment id) of every state version of ``stack``, oldest first."""
    store = StateStore(aws)
    page = store.list_versions("acme", stack, ENV, page_size=1000)
    found = []
    for version in reversed(page.versions):  # S3 lists the newest first
        meta = store.get_version("acme", stack, ENV, version.version_id).state["metadata"]
        found.append((meta["serial"], meta["deployment_id"]))
    return found


def active_interval(run: Deployment) -> tuple[datetime, datetime]:
    """From the first worker's claim to the run's end: the run holds its stack+environment
    for all of it (planning, planned, applying)."""
    assert run.started_at and run.finished_at, run
    return run.started_at, run.finished_at


def assert_serial(ordered: list[Deployment]) -> None:
    """Each run started after the one before it ended, and no two held the lock at once
    (the lock intervals recorded in the run logs)."""
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert before.finished_at < after.started_at, (before, after)
    held = sorted(interval for run in ordered for interval in lock_holdings(run))
    assert len(held) == 2 * len(ordered), held  # each run: its plan's, then its apply's
    for (_, released), (acquired, _) in zip(held, held[1:], strict=False):
        assert released <= acquired, f"two lock holders at once: {held}"


def assert_queues_once(aws, expected: list[str]) -> None:
    counts = queue_name_counts(aws)
    assert counts == Counter(expected), counts


def visibility_timeout(aws, stack: str) -> str:
    """What AWS has for the stack's queue ``jobs`` now."""
    sqs = client(aws, "sqs")
    url = sqs.get_queue_url(QueueName=f"{stack}-{ENV}-work-jobs")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    return attributes["Attributes"]["VisibilityTimeout"]


def assert_no_lock(aws, stack: str) -> None:
    assert LockManager(aws).get(lock_key("acme", stack, ENV)) is None


# --- 1 and 2: many runs, two workers --------------------------------------------------


def test_eight_runs_of_one_stack_with_two_workers_apply_one_at_a_time(personas, workers, aws):
    stack = make_stack(personas, "shop", one_queue())
    # All eight queued before the workers start, each with its own TIMEOUT: each apply
    # changes the queue, so each writes one state version.
    queued = [queue(stack, personas.deployer, TIMEOUT=str(60 + i)) for i in range(8)]
    workers.start("one")
    workers.start("two")
    drive(workers, personas.deployer, *queued)

    for run in queued:
        assert run.status == Status.SUCCEEDED, explain(workers, *queued)
    assert_serial(queued)
    # Which worker takes each hand-over is up to the broker: one worker may take them all
    # (runs of one stack+environment are handed over one at a time). Two workers racing
    # for the same run are tested in test_workers.py.
    # Nothing lost: eight versions, serials 1..8 in queue order, each run's own.
    assert history(aws, "shop") == [(i + 1, str(run.uid)) for i, run in enumerate(queued)]
    assert [run.state_serial for run in queued] == list(range(1, 9))
    assert visibility_timeout(aws, "shop") == "67"  # the last run's
    assert_queues_once(aws, ["shop-development-work-jobs"])
    assert_no_lock(aws, "shop")


def test_eight_runs_over_four_stacks_run_stacks_in_parallel_and_each_stack_serially(
    personas, workers, aws
):
    names = ["shop", "billing", "search", "mail"]
    stacks = [make_stack(personas, name, one_queue(name)) for name in names]
    queued = {name: [] for name in names}
    for i in range(2):
        for name, stack in zip(names, stacks, strict=True):
            queued[name].append(queue(stack, personas.deployer, TIMEOUT=str(60 + i)))
    every = [run for name in names for run in queued[name]]
    workers.start("one")
    workers.start("two")
    drive(workers, personas.deployer, *every)

    for run in every:
        assert run.status == Status.SUCCEEDED, explain(workers, *every)
    for name in names:
        assert_serial(queued[name])
        assert history(aws, name) == [(i + 1, str(run.uid)) for i, run in enumerate(queued[name])]
        assert_no_lock(aws, name)
    # Different stacks ran at the same time: some two runs of different stacks overlap.
    overlapping = [
        (a.stack.name, b.stack.name)
        for a in every
        for b in every
        if a.stack_id < b.stack_id
        and active_interval(a)[0] < active_interval(b)[1]
        and active_interval(b)[0] < active_interval(a)[1]
    ]
    assert overlapping, [(run.stack.name, active_interval(run)) for run in every]
    assert_queues_once(aws, [f"{name}-development-work-jobs" for name in names])


# --- 4: a paused lock holder ----------------------------------------------------------


def test_a_paused_lock_holder_cannot_write_after_its_lease_was_taken_over(
    personas, workers, aws, settings
):
    settings.PANKA_LOCK_LEASE_SECONDS = LEASE  # what the reaper in this process reads
    paused = workers.start("paused", **SHORT_LEASE)
    stack = make_stack(personas, "shop", chain_files())
    first = queue(stack, personas.deployer)
    wait_for(
        lambda: first.refresh_from_db() or first.status == Status.PLANNED or first.is_terminal,
        timeout=60,
        what="the plan",
        explain=lambda: explain(workers, first),
    )
    runs.confirm_apply(run=first, actor=personas.deployer)
    wait_for(
        lambda: first.logs.filter(component="q01", message__startswith="create done").exists(),
        timeout=60,
        what="the second component",
        explain=lambda: explain(workers, first),
        interval=0.01,
    )
    # SIGSTOP the worker and its children (its heartbeat thread too) past its lease.
    os.killpg(paused.pid, signal.SIGSTOP)
    try:
        first.refresh_from_db()
        lock = LockManager(aws).get(lock_key("acme", "shop", ENV))
        assert lock is not None and lock.lock_id == first.lock_id
        before_pause = history(aws, "shop")
        sleep_until(lock.expires_at.timestamp() + 0.5)
        assert tasks.reap() == 1
        first.refresh_from_db()
        assert first.status == Status.INTERRUPTED, explain(workers, first)

        # A new holder takes the lock over once its expiry is older than the skew margin.
        workers.start("rescuer", **SHORT_LEASE)
        sleep_until(lock.expires_at.timestamp() + DEFAULT_SKEW + 1.5)
        second = queue(stack, personas.deployer)
        drive(workers, personas.deployer, second)
        assert second.status == Status.SUCCEEDED, explain(workers, first, second)
        after_second = history(aws, "shop")
    finally:
        os.killpg(paused.pid, signal.SIGCONT)

    # Resumed, the old holder finds its lease gone: the apply stops before its next AWS
    # call or state write, and its heartbeat and release are refused.
    def refused() -> bool:
        messages = " ".join(first.logs.values_list("message", flat=True))
        return "lock was not ours any more at release" in messages

    wait_for(
        refused,
        timeout=30,
        what="the paused holder to notice",
        explain=lambda: explain(workers, first),
    )
    first.refresh_from_db()
    assert first.status in (Status.INTERRUPTED, Status.FAILED), explain(workers, first)
    if first.status == Status.FAILED:
        assert "lock" in first.error.lower() or "lease" in first.error.lower(), first.error
    time.sleep(2)  # room for a write it should not make
    final_history = history(aws, "shop")
    assert final_history == after_second, "the paused holder wrote state after resuming"
    # The state holds the first holder's versions from before the pause, then only the
    # new holder's; serials 1..n with no gap and no repeat.
    ours = [who for _, who in final_history]
    n_first = len(before_pause)
    assert ours == [str(first.uid)] * n_first + [str(second.uid)] * (len(ours) - n_first)
    assert [serial for serial, _ in final_history] == list(range(1, len(ours) + 1))
    final = StateStore(aws).load("acme", "shop", ENV)
    assert set(final.state["resources"]) == {f"q{i:02d}" for i in range(10)}
    assert_queues_once(aws, [q for i in range(10) for q in queues_of(f"q{i:02d}")])
    assert_no_lock(aws, "shop")


# --- 5: the database and Redis unavailable for 30 s -----------------------------------


def _through(url: str, proxy: TcpProxy) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunparse(parsed._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
def database_proxy(workers) -> TcpProxy:
    """This process's database connection, and the workers', through a proxy that can cut
    them (set up after, and undone before, the test database is flushed)."""
    connection = connections["default"]
    config = connection.settings_dict
    proxy = TcpProxy(config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432)).start()
    saved = config["HOST"], config["PORT"]
    connection.close()
    config["HOST"], config["PORT"] = "127.0.0.1", proxy.port
    try:
        yield proxy
    finally:
        proxy.restore()
        connection.close()
        config["HOST"], config["PORT"] = saved
        proxy.close()


@pytest.fixture
def redis_proxy(workers, monkeypatch) -> TcpProxy:
    """This process's broker connections, and the workers', through a cuttable proxy."""
    from django_q.conf import Conf

    url = urlparse(django_settings.REDIS_URL)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379).start()
    monkeypatch.setattr(Conf, "REDIS", _through(django_settings.REDIS_URL, proxy))
    yield proxy
    proxy.close()


def _outage_page(client, url: str, expected: str) -> None:
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 503, body[:500]
    assert expected in body and "Traceback" not in body, body[:500]
    assert response["Retry-After"]


def _started(pool: Workers, *names: str) -> None:
    """Wait until each worker's cluster runs: one still starting when the broker goes away
    exits (django-q2 pings it at start), as a supervisor would see and restart."""
    for name in names:
        wait_for(
            lambda name=name: " running." in pool.log(name),
            timeout=60,
            what=f"worker {name} to start",
            explain=pool.describe,
            interval=0.2,
        )


def _alive(pool: Workers, *names: str) -> None:
    for name in names:
        assert pool.processes[name].poll() is None, pool.describe()


def test_the_database_unavailable_for_30s_during_a_run(
    personas, workers, database_proxy, aws, settings, client
):
    settings.PANKA_LOCK_LEASE_SECONDS = LEASE
    url = _through(workers.environ["DATABASE_URL"], database_proxy)
    workers.start("one", DATABASE_URL=url, **SHORT_LEASE)
    workers.start("two", DATABASE_URL=url, **SHORT_LEASE)
    _started(workers, "one", "two")
    pids = {name: process.pid for name, process in workers.processes.items()}
    stack = make_stack(personas, "shop", chain_files())
    client.force_login(personas.deployer)
    first = queue(stack, personas.deployer)
    page = reverse("run_detail", args=["acme", first.uid])
    assert client.get(page).status_code == 200
    wait_for(
        lambda: first.refresh_from_db() or first.status == Status.PLANNED or first.is_terminal,
        timeout=60,
        what="the plan",
        explain=lambda: explain(workers, first),
    )
    runs.confirm_apply(run=first, actor=personas.deployer)
    wait_for(
        lambda: first.logs.filter(message__startswith="create done").exists(),
        timeout=60,
        what="the apply to begin",
        explain=lambda: explain(workers, first),
    )

    database_proxy.cut()
    cut_at = time.monotonic()
    _outage_page(client, page, "The database cannot be reached")
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
    database_proxy.restore()
    close_old_connections()  # what Django does at the start of every request

    assert client.get(page).status_code == 200
    # The run either finished, or its worker lost it with the database: the reaper ends
    # it once its lease has lapsed. It must not stay "applying" for ever.
    wait_for(
        lambda: tasks.reap() >= 0 and (first.refresh_from_db() or first.is_terminal),
        timeout=60,
        what="the run to end",
        explain=lambda: explain(workers, first),
        interval=1,
    )
    # The same worker processes (no restart) take the next run, which completes the stack
    # (taking over the lock first, if the first run's worker could not release it).
    lock = LockManager(aws).get(lock_key("acme", "shop", ENV))
    if lock is not None:
        sleep_until(lock.expires_at.timestamp() + DEFAULT_SKEW + 1.5)
    second = queue(stack, personas.deployer)
    drive(workers, personas.deployer, second)
    assert second.status == Status.SUCCEEDED, explain(workers, first, second)
    _alive(workers, "one", "two")
    assert {name: p.pid for name, p in workers.processes.items()} == pids

    # Nothing lost: every queue once in AWS, all in the state, serials without a gap.
    final = StateStore(aws).load("acme", "shop", ENV)
    assert set(final.state["resources"]) == {f"q{i:02d}" for i in range(10)}
    assert_queues_once(aws, [q for i in range(10) for q in queues_of(f"q{i:02d}")])
    serials = [serial for serial, _ in history(aws, "shop")]
    assert serials == list(range(1, len(serials) + 1))
    assert not Deployment.objects.exclude(status__in=Deployment.TERMINAL).exists()
    assert_no_lock(aws, "shop")


def test_redis_unavailable_for_30s(personas, workers, redis_proxy, aws, client):
    url = _through(workers.environ["REDIS_URL"], redis_proxy)
    fast = {"REDIS_URL": url, "PANKA_RESEND_AFTER_SECONDS": "5"}
    workers.start("one", **fast)
    workers.start("two", **fast)
    _started(workers, "one", "two")
    pids = {name: process.pid for name, process in workers.processes.items()}
    stack = make_stack(personas, "shop", one_queue())
    client.force_login(personas.deployer)
    before = queue(stack, personas.deployer, TIMEOUT="61")
    drive(workers, personas.deployer, before)
    assert before.status == Status.SUCCEEDED, explain(workers, before)

    redis_proxy.cut()
    cut_at = time.monotonic()
    # Queueing a run commits it, then cannot hand it to the broker: a 503 that says so.
    response = client.post(
        reverse("run_queue", args=["acme", "shop"]),
        {"kind": "apply", "environment": ENV, "variables": "TIMEOUT=62"},
    )
    body = response.content.decode()
    assert response.status_code == 503 and "job queue cannot be reached" in body, body[:500]
    assert "Traceback" not in body
    during = Deployment.objects.get(stack=stack, number=2)
    assert during.status == Status.QUEUED
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
    redis_proxy.restore()

    # Nothing was behind that run in the broker: a worker's reaper (every minute) sends it
    # again, and the workers, never restarted, run it.
    wait_for(
        lambda: during.refresh_from_db() or during.status != Status.QUEUED,
        timeout=150,
        what="the run to be sent again",
        explain=lambda: explain(workers, during),
        interval=0.5,
    )
    drive(workers, personas.deployer, during)
    assert during.status == Status.SUCCEEDED, explain(workers, during)
    assert during.logs.filter(message__startswith="re-sent to the workers").exists()
    _alive(workers, "one", "two")
    assert {name: p.pid for name, p in workers.processes.items()} == pids

    assert history(aws, "shop") == [(1, str(before.uid)), (2, str(during.uid))]
    assert visibility_timeout(aws, "shop") == "62"
    assert_queues_once(aws, ["shop-development-work-jobs"])
    assert not Deployment.objects.exclude(status__in=Deployment.TERMINAL).exists()
    assert_no_lock(aws, "shop")

"""The DynamoDB lock manager (deployments/aws/locks.py) against the embedded emulator."""

from __future__ import annotations

import contextlib
import threading

import pytest
import requests
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from deployments.aws.clients import client
from deployments.aws.errors import AwsError, LockHeld, LockLost
from deployments.aws.locks import (
    Heartbeat,
    LockInfo,
    LockManager,
    lock_key,
    tenant_prefix,
)
from deployments.aws.timefmt import from_unix

KEY = lock_key("acme", "shop", "production")


@pytest.fixture
def locks(aws, clock):
    return LockManager(aws, clock=clock, skew=30, heartbeat_interval=30)


def raw_item(aws, key=KEY):
    return (
        client(aws, "dynamodb")
        .get_item(TableName=aws.lock_table, Key={"lockKey": {"S": key}}, ConsistentRead=True)
        .get("Item")
    )


def count_items(aws):
    return client(aws, "dynamodb").scan(TableName=aws.lock_table, Select="COUNT")["Count"]


def test_lock_key_has_the_documented_shape():
    assert KEY == "tenant:acme:stack:shop:env:production"
    assert tenant_prefix("acme") == "tenant:acme:"
    with pytest.raises(ValueError):
        lock_key("acme", "shop:env:x", "production")
    with pytest.raises(ValueError):
        lock_key("", "shop", "production")


def test_acquire_writes_the_item_format_md_describes(aws, locks, clock):
    lease = locks.acquire(KEY, owner="alice", reason="deploy #41", deployment_id="dep-41")

    item = raw_item(aws)
    now = int(clock.now)
    assert item == {
        "lockKey": {"S": KEY},
        "lockID": {"S": lease.lock_id},
        "owner": {"S": "alice"},
        "acquiredAt": {"N": str(now)},
        "expiresAt": {"N": str(now + 300)},
        "ttl": {"N": "300"},
        "reason": {"S": "deploy #41"},
        "deploymentId": {"S": "dep-41"},
        "heartbeatAt": {"N": str(now)},
        "rvn": {"S": lease.rvn},
    }
    lease.ensure_held()


def test_each_acquisition_gets_a_new_lock_id(locks):
    first = locks.acquire(KEY, owner="alice", reason="a")
    locks.release(first)
    second = locks.acquire(KEY, owner="alice", reason="b")
    assert first.lock_id != second.lock_id


def test_heartbeat_extends_expiry_and_rotates_rvn(aws, locks, clock):
    lease = locks.acquire(KEY, owner="alice", reason="deploy")
    old_rvn = lease.rvn
    clock.advance(30)

    locks.heartbeat(lease)

    item = raw_item(aws)
    assert item["expiresAt"] == {"N": str(int(clock.now) + 300)}
    assert item["heartbeatAt"] == {"N": str(int(clock.now))}
    assert item["rvn"]["S"] == lease.rvn != old_rvn
    assert item["acquiredAt"] == {"N": str(int(clock.now) - 30)}
    assert lease.expires_at == int(clock.now) + 300


def test_release_deletes_the_lock_and_ends_the_lease(aws, locks):
    lease = locks.acquire(KEY, owner="alice", reason="deploy")

    locks.release(lease)

    assert raw_item(aws) is None
    assert locks.get(KEY) is None
    with pytest.raises(LockLost):
        lease.ensure_held()
    with pytest.raises(LockLost):
        locks.release(lease)


def test_held_lock_is_refused_with_holder_info(aws, locks, clock):
    held = locks.acquire(KEY, owner="alice", reason="deploy #41", deployment_id="dep-41")
    clock.advance(60)

    with pytest.raises(LockHeld) as refused:
        locks.acquire(KEY, owner="bob", reason="deploy #42")

    holder = refused.value.holder
    assert isinstance(holder, LockInfo)
    assert (holder.owner, holder.holder, holder.lock_id) == ("alice", "alice", held.lock_id)
    assert holder.reason == "deploy #41"
    assert holder.deployment_id == "dep-41"
    assert holder.acquired_at == from_unix(clock.now - 60)
    assert holder.expires_at == from_unix(clock.now + 240)
    assert holder.age.total_seconds() == 60
    assert "alice" in str(refused.value)
    assert raw_item(aws)["lockID"]["S"] == held.lock_id


def test_expired_lease_can_be_taken_over_and_the_old_holder_then_fails(aws, locks, clock):
    old = locks.acquire(KEY, owner="alice", reason="deploy", lease=300)

    # Within the skew margin after expiry the lock is still refused...
    clock.advance(300 + 30)
    with pytest.raises(LockHeld):
        locks.acquire(KEY, owner="bob", reason="deploy")
    assert locks.get(KEY).expired
    # ...and past it, taken over.
    clock.advance(1)
    new = locks.acquire(KEY, owner="bob", reason="deploy")

    with pytest.raises(LockLost):
        locks.heartbeat(old)
    assert old.lost.is_set()
    with pytest.raises(LockLost):
        old.ensure_held()
    with pytest.raises(LockLost):
        locks.release(old)
    assert raw_item(aws)["lockID"]["S"] == new.lock_id
    new.ensure_held()


def test_a_lease_past_its_expiry_counts_as_lost_without_a_failed_heartbeat(locks, clock):
    lease = locks.acquire(KEY, owner="alice", reason="deploy", lease=60)
    clock.advance(59)
    lease.ensure_held()
    clock.advance(1)
    with pytest.raises(LockLost):
        lease.ensure_held()
    # Once lost, always lost: the apply has been told to stop.
    with pytest.raises(LockLost):
        locks.heartbeat(lease)


def test_stale_when_two_heartbeats_were_missed_but_not_yet_takeable(locks, clock):
    locks.acquire(KEY, owner="alice", reason="deploy")
    clock.advance(60)
    assert not locks.get(KEY).stale
    clock.advance(1)

    info = locks.get(KEY)

    assert info.stale and not info.expired
    with pytest.raises(LockHeld):
        locks.acquire(KEY, owner="bob", reason="deploy")


def test_force_release_removes_the_lock_the_admin_saw(aws, locks):
    lease = locks.acquire(KEY, owner="alice", reason="deploy")
    seen = locks.get(KEY)

    assert locks.force_release(KEY, seen.lock_id) is True

    assert raw_item(aws) is None
    with pytest.raises(LockLost):
        locks.heartbeat(lease)
    assert locks.force_release(KEY, seen.lock_id) is False


def test_force_release_with_a_stale_lock_id_never_removes_a_newer_holder(aws, locks, clock):
    locks.acquire(KEY, owner="alice", reason="deploy")
    seen = locks.get(KEY)
    clock.advance(331)
    newer = locks.acquire(KEY, owner="bob", reason="deploy")

    with pytest.raises(LockHeld) as refused:
        locks.force_release(KEY, seen.lock_id)

    assert refused.value.holder.lock_id == newer.lock_id
    assert raw_item(aws)["lockID"]["S"] == newer.lock_id


def test_lost_acquire_response_still_leaves_us_holding_the_lock(aws, locks, hook):
    def lose_response(**kwargs):
        # The put was applied by the server; only its answer goes missing.
        raise ReadTimeoutError(endpoint_url=aws.endpoint_url)

    hook("dynamodb", "after-call.dynamodb.PutItem", lose_response)

    lease = locks.acquire(KEY, owner="alice", reason="deploy")

    assert raw_item(aws)["lockID"]["S"] == lease.lock_id
    lease.ensure_held()
    locks.release(lease)
    assert count_items(aws) == 0  # no orphan


def test_retried_acquire_colliding_with_its_own_landed_put_holds_the_lock(aws, locks, hook):
    attempts = []

    def deliver_then_drop(request, **kwargs):
        attempts.append(request.url)
        if len(attempts) == 1:
            # Deliver the request ourselves, then pretend the connection died, so
            # botocore retries a put that has already landed.
            sent = requests.request(
                request.method, request.url, headers=dict(request.headers), data=request.body
            )
            assert sent.status_code == 200
            raise ConnectionClosedError(endpoint_url=request.url)
        return None

    hook("dynamodb", "before-send.dynamodb.PutItem", deliver_then_drop)

    lease = locks.acquire(KEY, owner="alice", reason="deploy")

    assert len(attempts) == 2
    assert raw_item(aws)["lockID"]["S"] == lease.lock_id
    locks.release(lease)
    assert count_items(aws) == 0


def test_acquire_that_never_reached_aws_reports_an_error_and_leaves_nothing(aws, locks, hook):
    def refuse(**kwargs):
        raise ConnectionClosedError(endpoint_url=aws.endpoint_url)

    hook("dynamodb", "before-call.dynamodb.PutItem", refuse)

    with pytest.raises(AwsError) as failed:
        locks.acquire(KEY, owner="alice", reason="deploy")

    assert not isinstance(failed.value, LockHeld)
    assert count_items(aws) == 0


def test_list_prefix_pages_through_one_tenants_locks(aws, locks, hook):
    mine = {lock_key("acme", f"stack{i}", "production") for i in range(7)}
    theirs = {lock_key("acme2", "shop", "production"), lock_key("other", "shop", "staging")}
    for key in mine | theirs:
        locks.acquire(key, owner="alice", reason="deploy")

    def small_scans(params, **kwargs):
        # Force DynamoDB-level pagination too, including pages the filter empties.
        params["Limit"] = 2

    hook("dynamodb", "provide-client-params.dynamodb.Scan", small_scans)

    seen, pages, start = [], [], None
    while True:
        page, start = locks.list_prefix(tenant_prefix("acme"), page_size=3, start_key=start)
        pages.append(len(page))
        seen.extend(info.key for info in page)
        if start is None:
            break
        assert start.startswith("tenant:acme:")  # never another tenant's key
    assert pages == [3, 3, 1]
    assert sorted(seen) == sorted(mine)


def test_list_prefix_finds_a_tenants_few_locks_among_many_in_a_few_scans(aws, locks, hook):
    """Limit counts the locks a scan reads, not the ones that match: it doubles with each
    call, so 2 locks among 300 of other tenants take a handful of scans, not 300/4."""
    mine = {lock_key("acme", f"s{i}", "production") for i in range(2)}
    for key in mine | {lock_key("other", f"s{i}", "production") for i in range(300)}:
        locks.acquire(key, owner="alice", reason="deploy")
    limits: list[int] = []
    hook(
        "dynamodb",
        "provide-client-params.dynamodb.Scan",
        lambda params, **_: limits.append(params["Limit"]),
    )

    page, start = locks.list_prefix(tenant_prefix("acme"), page_size=3)

    assert {info.key for info in page} == mine and start is None
    assert limits[:4] == [4, 8, 16, 32] and len(limits) <= 8, limits


def test_list_prefix_refuses_a_start_key_of_another_prefix(locks):
    with pytest.raises(ValueError):
        locks.list_prefix("tenant:acme:", start_key="tenant:other:stack:x:env:y")


def test_items_written_by_the_cli_parse(aws, locks, clock):
    now = int(clock.now)
    client(aws, "dynamodb").put_item(
        TableName=aws.lock_table,
        Item={
            "lockKey": {"S": KEY},
            "lockID": {"S": "2b1f0c4e-cli"},
            "owner": {"S": "bob@laptop"},
            "acquiredAt": {"N": str(now)},
            "expiresAt": {"N": str(now + 600)},
            "ttl": {"N": "600"},
        },
    )

    info = locks.get(KEY)

    assert (info.owner, info.lock_id, info.lease_seconds) == ("bob@laptop", "2b1f0c4e-cli", 600)
    assert info.acquired_at == from_unix(now)
    assert info.expires_at == from_unix(now + 600)
    assert (info.reason, info.deployment_id, info.heartbeat_at, info.rvn) == ("", None, None, None)
    clock.advance(300)  # no heartbeats from the CLI: judged by expiry alone
    assert not locks.get(KEY).stale
    assert [i.key for i in locks.list_prefix("tenant:acme:")[0]] == [KEY]
    clock.advance(301)
    assert locks.get(KEY).stale
    clock.advance(30)
    taken = locks.acquire(KEY, owner="alice", reason="deploy")
    assert raw_item(aws)["lockID"]["S"] == taken.lock_id


def test_heartbeat_thread_keeps_the_lease_and_flags_a_lost_lock(aws, locks, clock, monkeypatch):
    lease = locks.acquire(KEY, owner="alice", reason="deploy")
    beats = threading.Semaphore(0)
    original = locks.heartbeat

    def counted(lease_):
        try:
            original(lease_)
        finally:
            beats.release()

    monkeypatch.setattr(locks, "heartbeat", counted)
    heartbeat = Heartbeat(locks, lease, interval=0.01).start()
    try:
        first_rvn = lease.rvn
        assert beats.acquire(timeout=5)
        assert beats.acquire(timeout=5)
        assert lease.rvn != first_rvn
        assert not heartbeat.lost.is_set()

        locks.force_release(KEY, lease.lock_id)

        assert heartbeat.lost.wait(timeout=5)
        heartbeat.join(timeout=5)
        assert not heartbeat._thread.is_alive()
        assert isinstance(heartbeat.error, LockLost)
        with pytest.raises(LockLost):
            lease.ensure_held()
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=5)


def test_heartbeat_thread_stops_and_joins_when_the_work_is_done(locks):
    lease = locks.acquire(KEY, owner="alice", reason="deploy")
    with Heartbeat(locks, lease, interval=60) as heartbeat:
        lease.ensure_held()
    assert not heartbeat._thread.is_alive()
    assert not heartbeat.lost.is_set()
    locks.release(lease)


def test_heartbeat_interval_must_fit_twice_into_the_lease(locks):
    lease = locks.acquire(KEY, owner="alice", reason="deploy", lease=60)
    with pytest.raises(ValueError):
        Heartbeat(locks, lease, interval=30)


def test_transient_heartbeat_failures_are_retried_until_the_lease_is_nearly_out(
    locks, clock, monkeypatch
):
    lease = locks.acquire(KEY, owner="alice", reason="deploy", lease=300)
    heartbeat = Heartbeat(locks, lease, interval=30)

    def unreachable(lease_):
        raise AwsError("endpoint unreachable")

    monkeypatch.setattr(locks, "heartbeat", unreachable)
    clock.advance(269)
    assert heartbeat.beat() is True
    assert not lease.lost.is_set()
    clock.advance(1)  # one interval left: the next beat might come too late
    assert heartbeat.beat() is False
    assert lease.lost.is_set()


def test_racing_workers_get_one_lease_per_round(aws, locks, clock):
    rounds, workers = 20, 8
    winners = [[] for _ in range(rounds)]
    barriers = [threading.Barrier(workers) for _ in range(rounds)]

    def work(name):
        for n in range(rounds):
            barriers[n].wait(timeout=10)
            with contextlib.suppress(LockHeld):
                winners[n].append(locks.acquire(f"{KEY}:{n}", owner=name, reason="race"))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [len(w) for w in winners] == [1] * rounds

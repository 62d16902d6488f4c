"""The embedded emulator's two promises (architecture.md): atomic conditional writes under
concurrency, and data that survives a restart."""

from __future__ import annotations

import contextlib
import http.client
import json
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from deployments.aws import bootstrap
from deployments.aws.clients import AwsSettings, client
from deployments.aws.emulator import EmbeddedEmulator
from deployments.aws.locks import LockManager, lock_key
from deployments.aws.state import StateStore, empty_state, successor

# moto routes a request to DynamoDB by the service in the credential scope; it does not
# check the signature.
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=panka-emulator/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def dynamodb(settings: AwsSettings, action: str, body: dict) -> tuple[int, dict]:
    """One DynamoDB JSON call over plain HTTP. The race below makes 1,600 calls and the
    emulator serialises them; boto3's client-side work would double the test's time
    without testing anything more about the emulator."""
    url = urlsplit(settings.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/",
            body=json.dumps(body),
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{action}",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": _AUTH,
            },
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


@contextlib.contextmanager
def frequent_thread_switches():
    """Preempt threads every 10 µs instead of every 5 ms, so that the emulator's request
    threads interleave inside moto's check-then-write. Without it a request rarely loses
    the GIL mid-way and an unserialised moto passes these tests too; with it, moto without
    SerialisedApp's lock failed both (rounds with 2 winners, 187 of 200 ADDs kept)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_racing_conditional_puts_on_one_key_have_exactly_one_winner_per_round(aws):
    rounds, workers = 200, 8
    barriers = [threading.Barrier(workers) for _ in range(rounds)]
    wins: Counter[int] = Counter()
    failures: list[str] = []
    tally = threading.Lock()

    def work(name: str) -> None:
        for n in range(1, rounds + 1):
            barriers[n - 1].wait(timeout=30)
            # The lock pattern on one key: the first writer of a new round wins it.
            status, body = dynamodb(
                aws,
                "PutItem",
                {
                    "TableName": aws.lock_table,
                    "Item": {
                        "lockKey": {"S": "race"},
                        "round": {"N": str(n)},
                        "owner": {"S": name},
                    },
                    "ConditionExpression": "attribute_not_exists(lockKey) OR #r < :r",
                    "ExpressionAttributeNames": {"#r": "round"},
                    "ExpressionAttributeValues": {":r": {"N": str(n)}},
                },
            )
            with tally:
                if status == 200:
                    wins[n] += 1
                elif "ConditionalCheckFailed" not in body.get("__type", ""):
                    failures.append(f"round {n}: {status} {body}")

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    with frequent_thread_switches():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert failures == []
    not_one = {n: wins[n] for n in range(1, rounds + 1) if wins[n] != 1}
    assert not_one == {}, f"{len(not_one)} of {rounds} rounds had no or several winners"


def test_concurrent_update_item_add_loses_no_update(aws):
    workers, adds = 8, 25

    def work() -> None:
        for _ in range(adds):
            status, body = dynamodb(
                aws,
                "UpdateItem",
                {
                    "TableName": aws.lock_table,
                    "Key": {"lockKey": {"S": "counter"}},
                    "UpdateExpression": "ADD hits :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                },
            )
            assert status == 200, body

    threads = [threading.Thread(target=work) for _ in range(workers)]
    with frequent_thread_switches():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    item = client(aws, "dynamodb").get_item(
        TableName=aws.lock_table, Key={"lockKey": {"S": "counter"}}, ConsistentRead=True
    )["Item"]
    assert item["hits"] == {"N": str(workers * adds)}


def _reset_moto() -> None:
    # moto's backends are global to the process and shared with the session emulator: a
    # restart in a new process starts from nothing, so the test must too.
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture
def isolated_moto():
    _reset_moto()
    yield
    _reset_moto()


def _settings(emulator: EmbeddedEmulator) -> AwsSettings:
    return AwsSettings(
        region="us-east-1",
        state_bucket="panka-state-persist",
        lock_table="panka-locks-persist",
        endpoint_url=emulator.url,
    )


def _snapshot(settings: AwsSettings, key: str, lock: str) -> dict:
    s3 = client(settings, "s3")
    listed = s3.list_object_versions(Bucket=settings.state_bucket, Prefix=key)["Versions"]
    versions = []
    for version in listed:
        got = s3.get_object(Bucket=settings.state_bucket, Key=key, VersionId=version["VersionId"])
        versions.append(
            (
                version["VersionId"],
                version["IsLatest"],
                version["LastModified"],
                got["LastModified"],
                got["ETag"],
                got["Metadata"],
                got["Body"].read(),
            )
        )
    item = client(settings, "dynamodb").get_item(
        TableName=settings.lock_table, Key={"lockKey": {"S": lock}}, ConsistentRead=True
    )["Item"]
    return {"versions": versions, "lock": item}


def test_versions_and_locks_survive_a_restart(tmp_path, isolated_moto):
    key = "tenants/acme/v1/stacks/shop/production/state.json"
    lock = lock_key("acme", "shop", "production")

    first = EmbeddedEmulator(port=0, data_dir=tmp_path).start()
    try:
        settings = _settings(first)
        bootstrap.ensure_state_bucket(settings)
        bootstrap.ensure_lock_table(settings)
        store = StateStore(settings)
        previous = None
        state = empty_state("acme", "shop", "production")
        for n in range(3):
            state = successor(state)
            state["outputs"] = {"round": n}
            previous = store.save(
                previous, state, deployment_id=f"dep-{n}", deployed_by="alice", revision="r1"
            )
            state = previous.state
        lease = LockManager(settings).acquire(lock, owner="alice", reason="deploy #3")
        before = _snapshot(settings, key, lock)
    finally:
        first.stop()
    assert len(before["versions"]) == 3

    _reset_moto()
    second = EmbeddedEmulator(port=0, data_dir=tmp_path).start()
    try:
        assert second.replayed > 0
        after = _snapshot(_settings(second), key, lock)
        # The lock still holds, so the worker that took it can release it after a restart.
        LockManager(_settings(second)).release(lease)
    finally:
        second.stop()

    assert after == before
    assert after["lock"]["lockID"] == {"S": lease.lock_id}


def test_replayed_last_modified_matches_when_a_request_crosses_a_second(tmp_path, isolated_moto):
    first = EmbeddedEmulator(port=0, data_dir=tmp_path).start()
    try:
        settings = _settings(first)
        bootstrap.ensure_state_bucket(settings)
        moto_app = first.app._app

        def slow_moto(environ, start_response):
            # A request whose handling runs past the next second boundary. Real time has
            # to pass here (a frozen or moved clock would hide or fake the bug), so this
            # waits for at most one second on the monotonic clock.
            deadline = time.monotonic() + 1.02 - time.time() % 1
            while time.monotonic() < deadline:
                threading.Event().wait(0.005)
            return moto_app(environ, start_response)

        first.app._app = slow_moto
        put = client(settings, "s3").put_object(Bucket=settings.state_bucket, Key="k", Body=b"1")
        first.app._app = moto_app
        before = client(settings, "s3").head_object(
            Bucket=settings.state_bucket, Key="k", VersionId=put["VersionId"]
        )["LastModified"]
    finally:
        first.stop()

    _reset_moto()
    second = EmbeddedEmulator(port=0, data_dir=tmp_path).start()
    try:
        settings = _settings(second)
        after = client(settings, "s3").head_object(
            Bucket=settings.state_bucket, Key="k", VersionId=put["VersionId"]
        )["LastModified"]
    finally:
        second.stop()

    assert after == before


def test_version_listing_answers_exactly_as_moto_does(aws):
    """The emulator's faster ListObjectVersions (only the keys under the prefix, as views
    of the stored versions) gives moto's own answer, page by page, for every marker shape."""
    from moto.s3 import models

    s3 = client(aws, "s3")
    bucket = aws.state_bucket
    for key, count in (("a/state.json", 7), ("a/state.json.bak", 2), ("b/state.json", 3), ("c", 1)):
        for i in range(count):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key} {i}".encode())
    s3.delete_object(Bucket=bucket, Key="b/state.json")  # a delete marker

    def pages(**kwargs) -> list[dict]:
        found, marker = [], {}
        for _ in range(20):
            response = s3.list_object_versions(Bucket=bucket, MaxKeys=3, **{**kwargs, **marker})
            found.append(
                {
                    name: [
                        (v["Key"], v["VersionId"], v["IsLatest"]) for v in response.get(name, [])
                    ]
                    for name in ("Versions", "DeleteMarkers")
                }
                | {
                    "prefixes": response.get("CommonPrefixes"),
                    "next": (response.get("NextKeyMarker"), response.get("NextVersionIdMarker")),
                }
            )
            if not response.get("IsTruncated"):
                return found
            marker = {"KeyMarker": response["NextKeyMarker"]}
            if response.get("NextVersionIdMarker"):
                marker["VersionIdMarker"] = response["NextVersionIdMarker"]
        raise AssertionError("listing did not end")

    shapes = [{}, {"Prefix": "a/state.json"}, {"Prefix": "b/"}, {"Delimiter": "/"},
              {"KeyMarker": "a/state.json"}, {"Prefix": "b/", "KeyMarker": "a/state.json.bak"}]  # fmt: skip
    patched = models.S3Backend.list_object_versions
    assert patched.panka_patched
    ours = [pages(**shape) for shape in shapes]
    models.S3Backend.list_object_versions = patched.original
    try:
        theirs = [pages(**shape) for shape in shapes]
    finally:
        models.S3Backend.list_object_versions = patched
    assert ours == theirs
    assert sum(len(p["Versions"]) for p in ours[1]) == 9, "a/state.json and its .bak"
    # The listing's copies are gone; every version still reads (moto closes a key's body
    # when a copy sharing it is collected, unless the copy is ours).
    import gc

    gc.collect()
    for page in ours[1]:
        for key, version, _ in page["Versions"]:
            body = s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
            assert body.decode().startswith(key)


def test_plain_dynamodb_reads_answer_exactly_as_moto_does(aws):
    """The emulator's plain-JSON Scan and Query answers equal moto's own, for plain items
    and for items that take moto's way (binary, lists, maps), page by page."""
    from moto.dynamodb.responses import DynamoHandler

    ddb = client(aws, "dynamodb")
    table = "panka-plain-reads"
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
    )  # fmt: skip
    for i in range(12):
        item = {
            "pk": {"S": f"tenant:{i % 3}:lock"}, "sk": {"N": str(i)}, "owner": {"S": "bob ü \"q\""},
            "ttl": {"N": "1.50"}, "on": {"BOOL": i % 2 == 0}, "gone": {"NULL": True},
            "tags": {"SS": ["a", "b"]}, "sizes": {"NS": ["1", "2.5"]},
        }  # fmt: skip
        if i % 4 == 3:  # these take moto's own serializer
            item["blob"] = {"B": b"\x00\xffbytes"}
            item["nested"] = {"M": {"l": {"L": [{"S": "x"}, {"N": "3"}]}}}
        ddb.put_item(TableName=table, Item=item)

    def answers() -> list[dict]:
        found = []
        tenant_1 = {
            "FilterExpression": "begins_with(pk, :p)",
            "ExpressionAttributeValues": {":p": {"S": "tenant:1"}},
        }
        for kwargs in ({}, {"Limit": 5}, tenant_1):
            start: dict = {}
            while True:
                page = ddb.scan(TableName=table, **kwargs, **start)
                page.pop("ResponseMetadata")
                found.append(page)
                if "LastEvaluatedKey" not in page:
                    break
                start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        query = ddb.query(
            TableName=table, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "tenant:0:lock"}}, Limit=2,
        )  # fmt: skip
        query.pop("ResponseMetadata")
        return [*found, query]

    patched = {name: getattr(DynamoHandler, name) for name in ("scan", "query")}
    assert all(method.panka_patched for method in patched.values())
    ours = answers()
    for name, method in patched.items():
        setattr(DynamoHandler, name, method.original)
    try:
        theirs = answers()
    finally:
        for name, method in patched.items():
            setattr(DynamoHandler, name, method)
    assert ours == theirs
    assert any(item.get("blob") for page in ours for item in page.get("Items", []))


def test_listing_sort_key_is_motos():
    """The prebuilt-epoch sort key the version listing uses gives moto's own floats."""
    import datetime
    import random

    from moto.core.utils import unix_time_millis

    from deployments.aws.emulator import _unix_time_millis

    rng = random.Random(7)
    epoch = datetime.datetime(1970, 1, 1)
    for _ in range(20_000):
        moment = epoch + datetime.timedelta(microseconds=rng.randrange(0, 2**57))
        assert _unix_time_millis(moment) == unix_time_millis(moment)

"""The S3 state store (deployments/aws/state.py) against the embedded emulator."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from deployments.aws.clients import client
from deployments.aws.errors import StateConflict, StateCorrupt
from deployments.aws.state import StateStore, empty_state, state_key, successor
from deployments.aws.timefmt import from_unix, parse_rfc3339

KEY = "tenants/acme/v1/stacks/shop/production/state.json"
WHO = {"deployment_id": "dep-1", "deployed_by": "alice", "revision": "rev-1"}


@pytest.fixture
def store(aws, clock):
    return StateStore(aws, clock=clock)


def versions(aws, key=KEY):
    listed = client(aws, "s3").list_object_versions(Bucket=aws.state_bucket, Prefix=key)
    return listed.get("Versions", [])


def put_raw(aws, body, key=KEY):
    return client(aws, "s3").put_object(Bucket=aws.state_bucket, Key=key, Body=body)


def first_state():
    state = successor(empty_state("acme", "shop", "production"))
    state["resources"]["task-queue"] = {
        "id": "https://sqs/q",
        "type": "SQS",
        "name": "task-queue",
        "provider": "aws",
        "status": "ready",
        "attributes": {"queue_url": "https://sqs/q"},
        "depends_on": [],
        "created_at": "2026-11-26T10:00:00Z",
        "updated_at": "2026-11-26T10:00:00Z",
        "service": "web",
        "config_hash": "sha256:00",
    }
    return state


def test_state_key_has_the_documented_shape():
    assert state_key("acme", "shop", "production") == KEY
    for bad in ("", "..", "a/b", "x\n"):
        with pytest.raises(ValueError):
            state_key("acme", bad, "production")


def test_missing_state_loads_as_none(store):
    assert store.load("acme", "shop", "production") is None


def test_empty_state_has_the_cli_shape():
    state = empty_state("acme", "shop", "production")
    assert set(state) == {"version", "metadata", "resources", "outputs", "last_update"}
    assert state["version"] == "1.0"
    assert state["metadata"]["serial"] == 0
    assert (state["metadata"]["tenant"], state["metadata"]["stack"]) == ("acme", "shop")


def test_save_and_load_round_trip_with_serials_1_2_3(aws, store, clock):
    saved = store.save(None, first_state(), **WHO)
    lineage = saved.lineage
    uuid.UUID(lineage)
    created = saved.state["metadata"]["created_at"]

    for serial in (2, 3):
        clock.advance(60)
        loaded = store.load("acme", "shop", "production")
        assert loaded.serial == serial - 1
        assert (loaded.etag, loaded.version_id) == (saved.etag, saved.version_id)
        following = successor(loaded.state)
        following["outputs"][f"round{serial}"] = serial
        saved = store.save(loaded, following, **{**WHO, "deployment_id": f"dep-{serial}"})

    loaded = store.load("acme", "shop", "production")
    meta = loaded.state["metadata"]
    assert (loaded.serial, loaded.lineage) == (3, lineage)
    assert meta["created_at"] == created
    assert parse_rfc3339(meta["updated_at"]) == from_unix(clock.now)
    assert loaded.state["last_update"] == meta["updated_at"]
    assert (meta["deployment_id"], meta["deployed_by"], meta["revision"]) == (
        "dep-3",
        "alice",
        "rev-1",
    )
    assert loaded.state["outputs"] == {"round2": 2, "round3": 3}
    assert loaded.state["resources"]["task-queue"]["status"] == "ready"
    assert loaded.metadata == {
        "stack": "shop",
        "environment": "production",
        "version": "1.0",
        "deployment-id": "dep-3",
        "serial": "3",
        "deployed-by": "alice",
        "resource-count": "1",
    }
    assert loaded.last_modified.tzinfo is not None
    assert len(versions(aws)) == 3


def test_a_saved_state_is_the_previous_of_the_next_save(store):
    saved = store.save(None, first_state(), **WHO)
    for _ in range(2):
        saved = store.save(saved, successor(saved.state), **WHO)
    assert store.load("acme", "shop", "production").serial == 3


def test_save_leaves_the_callers_dict_alone(store):
    state = first_state()
    before = json.dumps(state, sort_keys=True)
    store.save(None, state, **WHO)
    assert json.dumps(state, sort_keys=True) == before


def test_save_with_a_stale_etag_is_refused_and_writes_nothing(aws, store):
    store.save(None, first_state(), **WHO)
    read_by_old_holder = store.load("acme", "shop", "production")
    store.save(read_by_old_holder, successor(read_by_old_holder.state), **WHO)

    # A paused ex-holder wakes up with serial 2 computed from what it read.
    with pytest.raises(StateConflict) as refused:
        store.save(read_by_old_holder, successor(read_by_old_holder.state), **WHO)

    assert "nothing was written" in str(refused.value)
    assert len(versions(aws)) == 2


def test_two_first_saves_cannot_both_create_the_state(aws, store):
    store.save(None, first_state(), **WHO)
    with pytest.raises(StateConflict):
        store.save(None, first_state(), **WHO)
    assert len(versions(aws)) == 1


@pytest.mark.parametrize("serial", [1, 3, None, True, "2"])
def test_save_with_a_wrong_serial_is_refused_and_writes_nothing(aws, store, serial):
    store.save(None, first_state(), **WHO)
    loaded = store.load("acme", "shop", "production")
    state = successor(loaded.state)
    state["metadata"]["serial"] = serial

    with pytest.raises(StateConflict):
        store.save(loaded, state, **WHO)

    assert len(versions(aws)) == 1


def test_first_save_must_be_serial_1(aws, store):
    with pytest.raises(StateConflict):
        store.save(None, empty_state("acme", "shop", "production"), **WHO)
    assert versions(aws) == []


@pytest.mark.parametrize("lineage", [str(uuid.uuid4()), ""])
def test_save_with_another_lineage_is_refused_and_writes_nothing(aws, store, lineage):
    store.save(None, first_state(), **WHO)
    loaded = store.load("acme", "shop", "production")
    state = successor(loaded.state)
    state["metadata"]["lineage"] = lineage

    with pytest.raises(StateConflict):
        store.save(loaded, state, **WHO)

    assert len(versions(aws)) == 1


def test_save_refuses_a_previous_of_another_stack(store):
    saved = store.save(None, first_state(), **WHO)
    other = successor(empty_state("acme", "other", "production"))
    with pytest.raises(ValueError):
        store.save(saved, other, **WHO)


def test_save_refuses_times_the_cli_could_not_read(aws, store):
    state = first_state()
    state["resources"]["task-queue"]["created_at"] = ""
    with pytest.raises(ValueError):
        store.save(None, state, **WHO)
    assert versions(aws) == []


def test_a_save_whose_response_was_lost_is_recognised_as_written(aws, store, hook):
    def lose_response(**kwargs):
        raise ReadTimeoutError(endpoint_url=aws.endpoint_url)

    store.save(None, first_state(), **WHO)
    loaded = store.load("acme", "shop", "production")
    hook("s3", "after-call.s3.PutObject", lose_response)

    saved = store.save(loaded, successor(loaded.state), **WHO)

    assert saved.serial == 2
    assert len(versions(aws)) == 2
    assert store.load("acme", "shop", "production").version_id == saved.version_id


def test_a_retried_save_failing_its_own_precondition_is_recognised_as_written(aws, store, hook):
    attempts = []

    def deliver_then_drop(request, **kwargs):
        attempts.append(request.url)
        if len(attempts) == 1:
            # The put lands, the connection "dies", botocore retries the same If-Match put,
            # and S3 answers 412 because our own write changed the ETag.
            body = request.body.read() if hasattr(request.body, "read") else request.body
            sent = requests.put(request.url, headers=dict(request.headers), data=body)
            assert sent.status_code == 200
            raise ConnectionClosedError(endpoint_url=request.url)
        return None

    first = store.save(None, first_state(), **WHO)
    hook("s3", "before-send.s3.PutObject", deliver_then_drop)

    saved = store.save(first, successor(first.state), **WHO)

    assert len(attempts) == 2
    assert saved.serial == 2
    assert len(versions(aws)) == 2
    assert store.load("acme", "shop", "production").etag == saved.etag


def test_corrupt_json_raises_state_corrupt_with_a_clear_message(aws, store):
    put_raw(aws, b'{"version": "1.0", "metadata": {"stack": "shop",')

    with pytest.raises(StateCorrupt) as corrupt:
        store.load("acme", "shop", "production")

    message = str(corrupt.value)
    assert KEY in message
    assert "not valid JSON" in message
    assert "line 1 column" in message


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"state"', b'{"metadata": 3}', b'{"metadata": {"serial": "7"}}', b"\xff\xfe"],
)
def test_json_that_is_not_a_state_raises_state_corrupt(aws, store, body):
    put_raw(aws, body)
    with pytest.raises(StateCorrupt):
        store.load("acme", "shop", "production")


def test_a_corrupt_old_version_raises_state_corrupt_naming_it(aws, store):
    bad = put_raw(aws, b"{")
    put_raw(aws, json.dumps(first_state()).encode())

    with pytest.raises(StateCorrupt) as corrupt:
        store.get_version("acme", "shop", "production", bad["VersionId"])

    assert bad["VersionId"] in str(corrupt.value)
    assert store.load("acme", "shop", "production").serial == 1


def test_state_written_by_the_cli_loads_and_the_next_save_adopts_it(aws, store):
    cli_state = {
        "version": "1.0",
        "metadata": {
            "stack": "shop",
            "environment": "production",
            "tenant": "acme",
            "version": "v3",
            "deployed_by": "bob",
            "created_at": "2026-11-26T11:00:00.123456789+01:00",
            "updated_at": "2026-11-26T11:05:00.5+01:00",
        },
        "resources": {
            "task-queue": {
                "id": "q",
                "type": "SQS",
                "name": "task-queue",
                "provider": "aws",
                "status": "ready",
                "attributes": {},
                "created_at": "2026-11-26T11:00:00.123456789+01:00",
                "updated_at": "0001-01-01T00:00:00Z",
            }
        },
        "outputs": None,
        "last_update": "2026-11-26T11:05:00.5+01:00",
    }
    put_raw(aws, json.dumps(cli_state).encode())

    loaded = store.load("acme", "shop", "production")

    assert (loaded.serial, loaded.lineage, loaded.state["outputs"]) == (0, "", {})
    assert parse_rfc3339(loaded.state["metadata"]["created_at"]) == datetime(
        2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC
    )
    saved = store.save(loaded, successor(loaded.state), **WHO)
    assert saved.serial == 1
    uuid.UUID(saved.lineage)
    assert saved.state["metadata"]["created_at"] == cli_state["metadata"]["created_at"]


def test_a_cli_state_without_tenant_saves_under_its_own_key(aws, store):
    cli_state = {
        "version": "1.0",
        "metadata": {"stack": "shop", "environment": "production", "version": ""},
        "resources": {},
        "outputs": {},
        "last_update": "2026-11-26T11:05:00+01:00",
    }
    put_raw(aws, json.dumps(cli_state).encode())
    loaded = store.load("acme", "shop", "production")

    saved = store.save(loaded, successor(loaded.state), **WHO)

    assert saved.key == KEY
    assert saved.state["metadata"]["tenant"] == "acme"


def test_list_versions_pages_through_the_history_newest_first(aws, store, clock):
    saved, ids = None, []
    state = empty_state("acme", "shop", "production")
    for _ in range(25):
        saved = store.save(saved, successor(state), **WHO)
        state = saved.state
        ids.append(saved.version_id)

    pages, seen, markers = [], [], {}
    while True:
        page = store.list_versions("acme", "shop", "production", page_size=10, **markers)
        pages.append(len(page.versions))
        seen.extend(page.versions)
        if page.next_key_marker is None:
            break
        markers = {
            "key_marker": page.next_key_marker,
            "version_id_marker": page.next_version_id_marker,
        }

    assert pages == [10, 10, 5]
    assert [v.version_id for v in seen] == ids[::-1]
    assert [v.is_latest for v in seen] == [True] + [False] * 24
    assert all(v.size > 0 and not v.deleted and v.etag for v in seen)


def test_list_versions_ignores_other_keys_under_the_same_prefix(aws, store):
    store.save(None, first_state(), **WHO)
    put_raw(aws, b"{}", key=KEY + ".bak")
    page = store.list_versions("acme", "shop", "production")
    assert len(page.versions) == 1


def test_list_versions_refuses_markers_of_another_key(store):
    with pytest.raises(ValueError):
        store.list_versions(
            "acme", "shop", "production", key_marker="tenants/other/v1/stacks/x/y/state.json"
        )


def test_get_version_returns_an_old_state(store):
    first = store.save(None, first_state(), **WHO)
    store.save(first, successor(first.state), **WHO)

    old = store.get_version("acme", "shop", "production", first.version_id)

    assert (old.serial, old.version_id, old.etag) == (1, first.version_id, first.etag)
    assert store.get_version("acme", "shop", "production", "no-such-version") is None


def test_an_old_version_cannot_be_the_base_of_a_save(aws, store):
    first = store.save(None, first_state(), **WHO)
    second = store.save(first, successor(first.state), **WHO)
    old = store.get_version("acme", "shop", "production", first.version_id)

    # Restoring means saving old content as serial current+1 on top of the latest.
    restored = successor(old.state)
    with pytest.raises(StateConflict):
        store.save(old, restored, **WHO)
    restored["metadata"]["serial"] = second.serial + 1
    assert store.save(second, restored, **WHO).serial == 3
    assert len(versions(aws)) == 3

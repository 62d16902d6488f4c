"""The second's memory of the state history and locks pages (deployments/listing_cache.py):
a change made elsewhere shows once the listing is older than PANKA_LIST_CACHE_SECONDS, a
change this process makes shows at once, and 0 reads AWS on every view."""

from __future__ import annotations

import time

import pytest
import time_machine

from deployments.aws.locks import LockManager, lock_key

from .run_fixtures import deployable_stack
from .test_state_pages import BASE, CLI_STATE, put_raw

LOCKS = "/t/acme/locks/"
HOLDER = "<td>bob@laptop</td>"  # the lock's row (a message may name the holder too)
STACK = "/t/acme/stacks/shop/"

pytestmark = pytest.mark.django_db


def later(settings):
    """A moment past the freshness of anything listed now."""
    return time_machine.travel(time.time() + settings.PANKA_LIST_CACHE_SECONDS + 1)


def versions_on(page: str) -> int:
    return page.count('id="v-')


def test_state_history_written_elsewhere_shows_after_the_freshness(
    client, personas, inline_tasks, settings
):
    assert settings.PANKA_LIST_CACHE_SECONDS == 1, "the documented default"
    deployable_stack(personas)
    put_raw(inline_tasks, CLI_STATE)
    client.force_login(personas.viewer)
    first = client.get(BASE).content.decode()
    assert versions_on(first) == 1 and "Read from S3 at" in first
    put_raw(inline_tasks, CLI_STATE)  # the panka CLI, say
    assert versions_on(client.get(BASE).content.decode()) == 1, "the same second's listing"
    with later(settings):
        assert versions_on(client.get(BASE).content.decode()) == 2


def test_a_restore_here_shows_in_the_history_at_once(client, personas, inline_tasks):
    deployable_stack(personas)
    oldest = put_raw(inline_tasks, CLI_STATE)
    put_raw(inline_tasks, CLI_STATE)
    client.force_login(personas.admin)
    assert versions_on(client.get(BASE).content.decode()) == 2
    client.post(f"{BASE}v/{oldest}/restore/", {"reason": "roll back"})
    page = client.get(BASE).content.decode()
    assert versions_on(page) == 3


def test_locks_taken_elsewhere_show_after_the_freshness_and_ours_at_once(
    client, personas, inline_tasks, settings
):
    deployable_stack(personas)
    client.force_login(personas.admin)
    assert "No locks are held." in client.get(LOCKS).content.decode()
    manager = LockManager(inline_tasks)
    cli = manager.acquire(lock_key("acme", "shop", "development"), owner="bob@laptop", reason="x")
    assert HOLDER not in client.get(LOCKS).content.decode(), "the same second's listing"
    with later(settings):
        assert HOLDER in client.get(LOCKS).content.decode()
        # Removed and taken through the pages: the next view lists afresh.
        client.post(
            STACK + "locks/development/force-unlock/",
            {"lock_id": cli.lock_id, "reason": "stale laptop lock"},
        )
        assert HOLDER not in client.get(LOCKS).content.decode()
        client.post(STACK + "locks/development/lock/", {"reason": "maintenance", "hours": "2"})
        assert "panka-web:admin" in client.get(LOCKS).content.decode()


def test_zero_reads_aws_on_every_view(client, personas, inline_tasks, settings):
    settings.PANKA_LIST_CACHE_SECONDS = 0
    deployable_stack(personas)
    client.force_login(personas.viewer)
    assert "No locks are held." in client.get(LOCKS).content.decode()
    LockManager(inline_tasks).acquire(
        lock_key("acme", "shop", "development"), owner="bob@laptop", reason="x"
    )
    assert HOLDER in client.get(LOCKS).content.decode()
    put_raw(inline_tasks, CLI_STATE)
    assert versions_on(client.get(BASE).content.decode()) == 1
    put_raw(inline_tasks, CLI_STATE)
    assert versions_on(client.get(BASE).content.decode()) == 2


def test_any_marker_in_the_query_makes_a_valid_cache_key(client, personas, inline_tasks):
    """Markers come from the query string; the key must suit memcached too."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    deployable_stack(personas)
    client.force_login(personas.viewer)
    odd = "ü x\t" * 200
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        assert client.get(LOCKS, {"after": odd}).status_code == 200
        assert client.get(BASE, {"key_marker": odd, "version_marker": odd}).status_code == 200


def test_a_listing_read_again_within_the_second_asks_neither_aws_nor_the_runs_table(
    client, personas, inline_tasks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deployments.models import Deployment

    stack = deployable_stack(personas)
    run = Deployment.objects.create(
        stack=stack, revision=stack.latest_revision(), environment="development", number=1
    )
    LockManager(inline_tasks).acquire(
        lock_key("acme", "shop", "development"), owner="w", reason="x", deployment_id=str(run.uid)
    )
    client.force_login(personas.viewer)
    assert ">#1</a>" in client.get(LOCKS).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert ">#1</a>" in client.get(LOCKS).content.decode(), "the run still linked"
    assert not [q for q in queries if "deployments_deployment" in q["sql"]]


def test_a_history_view_within_the_second_reads_no_runs_and_keeps_its_links(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_state_pages import deployed

    run = deployed(personas, django_capture_on_commit_callbacks)
    client.force_login(personas.viewer)
    first = client.get(BASE).content.decode()
    assert f"run #{run.number}" in first
    with CaptureQueriesContext(connection) as queries:
        again = client.get(BASE).content.decode()
    assert again.count(f"run #{run.number}") == first.count(f"run #{run.number}") == 2
    assert not [q for q in queries if "deployments_deployment" in q["sql"]]

"""Every list page costs the same whatever the amount of data behind it.

Each test fills a page's data twice, N rows and then 10×N (both beyond one page), and
asserts that the page makes the same number of database queries (and, for the pages
backed by S3 and DynamoDB, the same number of AWS calls) both times, under an absolute
ceiling. A query per row (a missing ``select_related``) or a count that reads the whole
table grows with the data and fails here; the benchmark ``make bench-pages`` measures
the time on 1,000 stacks, 10,000 runs and 100,000 audit events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import seed
from deployments.aws.clients import client as aws_client
from deployments.aws.locks import LockManager, lock_key
from tests.conftest import make_stack

# Ceilings: what the page needs today plus a little room. Session, user, tenant,
# membership and the tenant switcher come first on every page.
MAX_QUERIES = 12


def page_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.content.decode()


def same_cost(client, url: str, grow, *, n: int) -> tuple[int, str, str]:
    """Queries of ``url`` after ``grow(n)`` and after growing to 10×n; asserts they match."""
    grow(n)
    small, small_page = page_queries(client, url)
    grow(9 * n)
    large, large_page = page_queries(client, url)
    assert small == large, f"{url}: {small} queries with {n} rows, {large} with {10 * n}"
    assert large <= MAX_QUERIES, f"{url}: {large} queries (ceiling {MAX_QUERIES})"
    return large, small_page, large_page


def test_tenant_home_with_many_stacks(client, personas):
    from deployments.models import DriftCheck

    def grow(count: int) -> None:
        prefix = f"s{personas.tenant.stacks.count()}"
        made = seed.stacks(personas.tenant, count, prefix=prefix)
        DriftCheck.objects.bulk_create(
            [DriftCheck(stack=s, environment="production", status="drifted") for s in made]
        )

    client.force_login(personas.viewer)
    _, _, page = same_cost(client, "/t/acme/", grow, n=60)
    assert page.count('<span class="badge danger">drifted</span>') == 50, "one page of 50"
    assert "page 1 of 12" in page and "s0-00000" in page
    last = client.get("/t/acme/?page=12").content.decode()
    assert "s60-00539" in last and "s0-00000" not in last


def test_run_list_with_many_runs(client, personas):
    stack = make_stack(personas.tenant)
    revision = stack.revisions.get()

    client.force_login(personas.viewer)
    _, _, page = same_cost(
        client,
        "/t/acme/stacks/shop/runs/",
        lambda n: seed.runs(stack, revision, n, user=personas.deployer),
        n=60,
    )
    assert page.count("/t/acme/runs/") == 50 and "page 1 of 12" in page
    assert ">600</a>" in page, "newest first"
    deep, deep_page = page_queries(client, "/t/acme/stacks/shop/runs/?page=12")
    assert ">1</a>" in deep_page and deep <= MAX_QUERIES


def test_revision_list_with_many_revisions(client, personas):
    stack = make_stack(personas.tenant)
    client.force_login(personas.viewer)
    _, _, page = same_cost(
        client,
        "/t/acme/stacks/shop/revisions/",
        lambda n: seed.revisions(stack, n, author=personas.deployer),
        n=60,
    )
    assert page.count('id="revision-') == 50 and 'id="revision-601"' in page


def test_member_list_with_many_members(client, personas):
    client.force_login(personas.admin)
    _, _, page = same_cost(
        client,
        "/t/acme/members/",
        lambda n: seed.members(
            personas.tenant, n, prefix=f"m{personas.tenant.memberships.count()}"
        ),
        n=60,
    )
    assert page.count('<tr id="member-') == 50 and "page 1 of 13" in page


def test_audit_log_with_many_events_pages_by_keyset(client, personas):
    from tenants.audit_chain import verify_chain

    client.force_login(personas.auditor)
    _, _, page = same_cost(
        client,
        "/t/acme/audit/",
        lambda n: seed.audit_events(personas.tenant, n, actor=personas.admin),
        n=150,
    )
    checked, broken = verify_chain(personas.tenant)
    assert checked == 1500 and broken is None, "the seeded chain is a valid chain"
    assert page.count("<tr><td>") == 100
    assert all(f"<option>{a}</option>" in page for a in seed.ACTIONS), "the action filter"

    # Deep in the log (keyset: no OFFSET), each page is still one query.
    older = re.search(r'href="\?before=(\d+)"', page)
    assert older, "an older → link"
    first_ids = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", page)]
    before = min(first_ids)
    assert int(older.group(1)) == before
    deep_queries, deep = page_queries(client, f"/t/acme/audit/?before={before - 1300}")
    deep_ids = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", deep)]
    assert deep_ids == sorted(deep_ids, reverse=True) and max(deep_ids) == before - 1301
    assert deep_queries <= MAX_QUERIES
    newer = re.search(r'href="\?after=(\d+)"', deep).group(1)
    back = client.get(f"/t/acme/audit/?after={newer}").content.decode()
    back_ids = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", back)]
    assert min(back_ids) == max(deep_ids) + 1 and len(back_ids) == 100


@pytest.mark.parametrize("value", ["x", "-5", "1e9", "9" * 40, ""])
def test_audit_log_ignores_bad_page_positions(client, personas, value):
    client.force_login(personas.auditor)
    assert client.get("/t/acme/audit/", {"before": value}).status_code == 200
    assert client.get("/t/acme/audit/", {"after": value}).status_code == 200


class AwsCalls:
    """Counts the calls made through the process's boto3 clients."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model, **_) -> None:
        self.names.append(model.name)


@contextmanager
def counting_aws(aws, *services: str) -> Iterator[AwsCalls]:
    calls = AwsCalls()
    clients = [aws_client(aws, s) for s in services]
    hook = f"count-{id(calls)}"
    for c in clients:
        c.meta.events.register("before-call", calls, unique_id=hook)
    try:
        yield calls
    finally:
        for c in clients:
            c.meta.events.unregister("before-call", unique_id=hook)


def test_state_history_with_many_versions_makes_bounded_aws_calls(client, personas, aws, settings):
    from deployments.views.state import PAGE_SIZE

    stack = make_stack(personas.tenant)
    url = "/t/acme/stacks/shop/state/development/"
    client.force_login(personas.viewer)
    results = []
    for count in (25, 225):
        seed.state_versions(aws, "acme", "shop", "development", count)
        cache.clear()  # a cold page: every version's metadata is asked of S3
        with counting_aws(aws, "s3") as cold:
            queries, page = page_queries(client, url)
        # Past the listing's freshness (deployments/listing_cache.py): listed again.
        later = time.time() + settings.PANKA_LIST_CACHE_SECONDS + 1
        with time_machine.travel(later), counting_aws(aws, "s3") as warm:
            warm_queries, _ = page_queries(client, url)
        results.append((queries, cold.names, warm.names))
        assert page.count('id="v-') == PAGE_SIZE and "older versions" in page
        assert warm_queries == queries <= MAX_QUERIES
    assert results[0] == results[1], f"(queries, cold calls, warm calls): {results}"
    _, cold_calls, warm_calls = results[0]
    # A list, a HEAD per version on the page, and the current version's lineage check
    # (a GET, a list and the GET of the version before it).
    assert cold_calls.count("HeadObject") == PAGE_SIZE
    assert len(cold_calls) <= 1 + PAGE_SIZE + 3, cold_calls
    assert warm_calls == ["ListObjectVersions"], "versions never change: the rest is cached"
    assert stack.deployments.count() == 0


def test_state_history_survives_s3_failing_on_a_version(client, personas, aws, monkeypatch):
    """A HEAD that fails is a message on the page, not a 500."""
    from deployments.aws.errors import AwsError
    from deployments.aws.state import StateStore

    make_stack(personas.tenant)
    seed.state_versions(aws, "acme", "shop", "development", 2)
    cache.clear()

    def fail(*args, **kwargs):
        raise AwsError("HEAD refused")

    monkeypatch.setattr(StateStore, "version_metadata", fail)
    client.force_login(personas.viewer)
    response = client.get("/t/acme/stacks/shop/state/development/")
    assert response.status_code == 200
    assert "could not be read: HEAD refused" in response.content.decode()


def test_locks_page_with_many_locks(client, personas, aws, settings):
    from deployments.models import Deployment

    stack = make_stack(personas.tenant)
    revision = stack.revisions.get()
    manager = LockManager(aws)
    taken = 0

    def grow(count: int) -> None:
        nonlocal taken
        seed.runs(stack, revision, count, user=personas.deployer)
        for run in Deployment.objects.order_by("number")[taken : taken + count]:
            manager.acquire(
                lock_key("acme", f"stack-{run.number:05d}", "development"),
                owner="seed",
                reason="held",
                deployment_id=str(run.uid),
            )
        taken += count

    settings.PANKA_LIST_CACHE_SECONDS = 0  # every view scans: what a view costs at most
    client.force_login(personas.viewer)
    with counting_aws(aws, "dynamodb") as calls:
        _, _, page = same_cost(client, "/t/acme/locks/", grow, n=60)
    assert page.count('href="/t/acme/runs/') == 50, "each lock's run, in one query"
    assert "more →" in page
    scans = [n for n in calls.names if n == "Scan"]
    assert len(scans) == 2, "one scan per page view at this table size"

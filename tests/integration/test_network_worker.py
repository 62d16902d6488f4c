"""A tenant networking run on a real worker process (``manage.py worker``): queued on
commit, claimed, done under ``tenant:<slug>:networking`` with its log stored line by line
by the log writer's thread, and recorded on the tenant."""

from __future__ import annotations

import pytest

from deployments import networking
from deployments.aws.locks import LockManager
from deployments.aws.tenant_network import NetworkSpec
from deployments.models import NetworkRun
from tenants.models import Tenant

from .conftest import wait_for

pytestmark = pytest.mark.workers
RUN_TIMEOUT = 60


def finished(run: NetworkRun) -> bool:
    run.refresh_from_db()
    return run.is_finished


def test_a_worker_creates_then_deletes_a_tenants_network(personas, workers, aws):
    run = networking.queue_network_run(
        tenant=personas.tenant,
        action="create",
        actor=personas.platform_admin,
        spec=NetworkSpec("acme", "10.20.0.0/16", nat_mode="per-zone"),
    )
    assert Tenant.objects.get(pk=personas.tenant.pk).network["status"] == "creating"
    workers.start("one")

    wait_for(
        lambda: finished(run), timeout=RUN_TIMEOUT, what="the create", explain=workers.describe
    )

    assert run.status == NetworkRun.Status.SUCCEEDED, run.error + workers.describe()
    assert run.worker and run.lock_id
    lines = list(run.logs.values_list("message", flat=True))
    assert lines[1].startswith("lock tenant:acme:networking acquired")
    assert sum(line.startswith("created NAT gateway") for line in lines) == 2
    assert lines[-2:] == ["lock released", "create done"]
    network = Tenant.objects.get(pk=personas.tenant.pk).network
    assert network["status"] == "ready" and len(network["nat_gateways"]) == 2
    assert LockManager(aws).get("tenant:acme:networking") is None

    delete = networking.queue_network_run(
        tenant=personas.tenant, action="delete", actor=personas.platform_admin
    )
    wait_for(
        lambda: finished(delete), timeout=RUN_TIMEOUT, what="the delete", explain=workers.describe
    )
    assert delete.status == NetworkRun.Status.SUCCEEDED, delete.error + workers.describe()
    assert Tenant.objects.get(pk=personas.tenant.pk).network == {}

"""Platform admin pages: tenants listed, created, configured, suspended and reactivated."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployments.aws.state import StateStore, empty_state, successor
from deployments.models import Deployment
from tenants import platform
from tenants.models import AuditEvent, Membership, Role, Tenant
from tests.conftest import make_stack

SETTINGS = {
    "display_name": "Acme Corp",
    "max_stacks": "10",
    "max_services_per_stack": "5",
    "max_components_per_service": "20",
    "allowed_kinds": ["SQS", "S3"],
    "allowed_regions": "us-east-1, eu-west-1",
    "environments": "development, staging, production",
    "protected_environments": "production",
}


@pytest.fixture
def admin_client(client, personas):
    client.force_login(personas.platform_admin)
    return client


def events(tenant, action):
    return list(AuditEvent.objects.filter(tenant=tenant, action=action).order_by("id"))


# --- list ----------------------------------------------------------------------------


def test_the_list_shows_status_and_counts_in_a_constant_number_of_queries(admin_client, personas):
    make_stack(personas.tenant, "one")
    make_stack(personas.tenant, "two")
    personas.other_tenant.status = Tenant.Status.SUSPENDED
    personas.other_tenant.save()

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get("/platform/tenants/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count_queries()
    for n in range(8):
        Tenant.objects.create(slug=f"extra-{n}", display_name=f"Extra {n}")
    assert count_queries() == few, "one query per tenant crept in"

    body = admin_client.get("/platform/tenants/").content.decode()
    acme = re.search(r'<tr id="tenant-acme">(.*?)</tr>', body, re.S).group(1)
    assert "active" in acme and ">4<" in acme and "2 / 100" in acme  # 4 members, 2 stacks
    globex = re.search(r'<tr id="tenant-globex">(.*?)</tr>', body, re.S).group(1)
    assert "suspended" in globex and ">1<" in globex


def test_the_list_is_paginated(admin_client, personas):
    for n in range(60):
        Tenant.objects.create(slug=f"t{n:03d}", display_name=f"T {n}")
    first = admin_client.get("/platform/tenants/").content.decode()
    assert first.count('<tr id="tenant-') == 50 and "page 1 of 2" in first
    second = admin_client.get("/platform/tenants/?page=2").content.decode()
    assert second.count('<tr id="tenant-') == 12


# --- create --------------------------------------------------------------------------


def test_a_tenant_is_created_with_its_first_admin_and_audited(admin_client, personas):
    personas.outsider.email = "out@example.com"
    personas.outsider.save()
    response = admin_client.post(
        "/platform/tenants/new/",
        {"slug": "initech", "display_name": "Initech", "first_admin": "OUT@example.com"},
    )
    assert response.status_code == 302 and response["Location"] == "/platform/tenants/initech/"
    tenant = Tenant.objects.get(slug="initech")
    assert Membership.objects.get(tenant=tenant).user == personas.outsider
    assert Membership.objects.get(tenant=tenant).role == Role.ADMIN
    created = events(tenant, "tenant.created")
    assert len(created) == 1 and created[0].actor == personas.platform_admin
    assert created[0].details["environments"] == ["development", "staging", "production"]
    assert [e.details["role"] for e in events(tenant, "member.add")] == ["admin"]


@pytest.mark.parametrize(
    "data, error",
    [
        ({"slug": "Bad_Name", "display_name": "x"}, "lowercase letters"),
        ({"slug": "ends-", "display_name": "x"}, "not ending with a hyphen"),
        ({"slug": "a" * 64, "display_name": "x"}, "at most 63"),
        ({"slug": "acme", "display_name": "x"}, "already exists"),
        ({"slug": "new", "display_name": "x"}, "reserved"),
        ({"slug": "fine", "display_name": ""}, "required"),
        ({"slug": "fine", "display_name": "x", "first_admin": "nobody"}, "No user"),
    ],
)
def test_a_bad_new_tenant_is_refused_and_nothing_is_created(admin_client, personas, data, error):
    before = (Tenant.objects.count(), Membership.objects.count(), AuditEvent.objects.count())
    response = admin_client.post("/platform/tenants/new/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert (
        Tenant.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    ) == before


# --- settings ------------------------------------------------------------------------


def test_settings_are_saved_and_audited_old_to_new(admin_client, personas):
    response = admin_client.post("/platform/tenants/acme/", SETTINGS)
    assert response.status_code == 302, response.content.decode()
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.display_name == "Acme Corp" and tenant.max_stacks == 10
    assert tenant.allowed_kinds == ["S3", "SQS"]
    assert tenant.allowed_regions == ["us-east-1", "eu-west-1"]
    (event,) = events(tenant, "tenant.updated")
    changes = event.details["changes"]
    assert changes["display_name"] == {"from": "Acme", "to": "Acme Corp"}
    assert changes["max_stacks"] == {"from": 100, "to": 10}
    assert changes["allowed_kinds"] == {"from": [], "to": ["S3", "SQS"]}
    assert "environments" not in changes, "only what changed is recorded"
    # The same form again changes nothing and records nothing.
    admin_client.post("/platform/tenants/acme/", SETTINGS)
    assert len(events(tenant, "tenant.updated")) == 1
    assert_chain_intact()


def assert_chain_intact() -> None:
    out = io.StringIO()
    call_command("audit", "verify", "--tenant", "acme", stdout=out)
    assert "chain intact" in out.getvalue()


@pytest.mark.parametrize(
    "override, error",
    [
        ({"allowed_regions": "us-east-1, mars-north-1"}, "not an AWS region: mars-north-1"),
        ({"environments": ""}, "required"),
        ({"environments": "dev, Prod"}, "Prod: Use 1–63 lowercase"),
        (
            {"protected_environments": "production, qa"},
            "not one of the tenant&#x27;s environments: qa",
        ),
        ({"allowed_kinds": ["NoSuchKind"]}, "Select a valid choice"),
        ({"max_stacks": "-1"}, "greater than or equal to 0"),
        ({"max_services_per_stack": "many"}, "whole number"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(admin_client, personas, override, error):
    before = list(Tenant.objects.filter(slug="acme").values())
    response = admin_client.post("/platform/tenants/acme/", {**SETTINGS, **override})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert list(Tenant.objects.filter(slug="acme").values()) == before
    assert not events(personas.tenant, "tenant.updated")


def test_an_environment_with_an_unfinished_run_cannot_be_removed(admin_client, personas, aws):
    stack = make_stack(personas.tenant)
    Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="staging",
        status=Deployment.Status.QUEUED, requested_by=personas.deployer,
    )  # fmt: skip
    response = admin_client.post(
        "/platform/tenants/acme/", {**SETTINGS, "environments": "development, production"}
    )
    assert response.status_code == 400
    assert "cannot remove staging: run #1 of shop is queued" in response.content.decode()
    assert Tenant.objects.get(slug="acme").environments == ["development", "staging", "production"]


def test_an_environment_with_deployed_state_cannot_be_removed_but_an_unused_one_can(
    admin_client, personas, aws
):
    make_stack(personas.tenant)
    StateStore(aws).save(
        None, successor(empty_state("acme", "shop", "staging")), deployment_id="x",
        deployed_by="x", revision="",
    )  # fmt: skip
    response = admin_client.post(
        "/platform/tenants/acme/", {**SETTINGS, "environments": "development, production"}
    )
    assert response.status_code == 400
    assert "shop has deployed state there" in response.content.decode()

    response = admin_client.post(
        "/platform/tenants/acme/", {**SETTINGS, "environments": "staging, production, qa"}
    )
    assert response.status_code == 302
    assert Tenant.objects.get(slug="acme").environments == ["staging", "production", "qa"]


# --- suspend / reactivate ------------------------------------------------------------


def _runs(personas):
    stack = make_stack(personas.tenant)
    revision = stack.latest_revision()
    S, K = Deployment.Status, Deployment.Kind
    made = {}
    for number, (name, env, status, kind) in enumerate(
        [
            ("queued", "development", S.QUEUED, K.APPLY),
            ("awaiting", "production", S.AWAITING_APPROVAL, K.APPLY),
            ("planned_apply", "staging", S.PLANNED, K.APPLY),
            ("apply_queued", "qa", S.APPLY_QUEUED, K.DESTROY),
            ("planning", "perf", S.PLANNING, K.APPLY),
            ("applying", "demo", S.APPLYING, K.APPLY),
            ("plan_only", "development", S.PLANNED, K.PLAN),
            ("done", "development", S.SUCCEEDED, K.APPLY),
        ],
        start=1,
    ):
        made[name] = Deployment.objects.create(
            stack=stack, number=number, revision=revision, environment=env, status=status,
            kind=kind, requested_by=personas.deployer,
        )  # fmt: skip
    return made


def test_suspending_cancels_waiting_runs_with_the_reason_and_lets_running_ones_finish(
    admin_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    made = _runs(personas)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/platform/tenants/acme/suspend/", {"reason": "unpaid invoice"}
        )
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.status == "suspended" and tenant.suspension_reason == "unpaid invoice"
    status = {name: Deployment.objects.get(pk=run.pk) for name, run in made.items()}
    for name in ("queued", "awaiting", "planned_apply", "apply_queued"):
        assert status[name].status == "cancelled", name
        assert status[name].error == "cancelled by platform: tenant suspended: unpaid invoice"
    assert status["planning"].status == "planning" and not status["planning"].cancel_requested
    assert status["applying"].status == "applying" and not status["applying"].cancel_requested
    assert status["plan_only"].status == "planned" and status["done"].status == "succeeded"
    (event,) = events(tenant, "tenant.suspended")
    assert event.details["reason"] == "unpaid invoice"
    assert len(event.details["cancelled_runs"]) == 4
    cancels = events(tenant, "run.cancel")
    assert len(cancels) == 4
    assert {e.details["reason"] for e in cancels} == {"tenant suspended: unpaid invoice"}
    assert_chain_intact()


def test_the_suspension_is_one_transaction_with_its_cancellations(
    admin_client, personas, monkeypatch
):
    made = _runs(personas)
    from deployments import runs

    def boom(**kwargs):
        raise RuntimeError("worker database went away")

    monkeypatch.setattr(runs, "cancel", boom)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        platform.suspend(tenant=personas.tenant, reason="x", actor=personas.platform_admin)
    assert Tenant.objects.get(slug="acme").status == "active"
    assert AuditEvent.objects.count() == before
    assert Deployment.objects.get(pk=made["queued"].pk).status == "queued"


def test_a_suspension_needs_a_reason(admin_client, personas):
    response = admin_client.post("/platform/tenants/acme/suspend/", {"reason": "  "}, follow=True)
    assert "say why the tenant is suspended" in response.content.decode()
    assert Tenant.objects.get(slug="acme").is_active


def test_every_tenant_page_shows_the_banner_and_reactivating_removes_it(client, personas):
    make_stack(personas.tenant)
    platform.suspend(
        tenant=personas.tenant, reason="security review", actor=personas.platform_admin
    )
    client.force_login(personas.viewer)
    for url in (
        "/t/acme/", "/t/acme/stacks/shop/", "/t/acme/members/", "/t/acme/stacks/shop/edit/",
        "/t/acme/stacks/shop/runs/", "/t/acme/stacks/shop/revisions/", "/t/acme/locks/",
    ):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Acme is suspended</strong>: security review" in response.content.decode(), url

    client.force_login(personas.platform_admin)
    assert client.post("/platform/tenants/acme/reactivate/").status_code == 302
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.is_active
    (event,) = events(tenant, "tenant.reactivated")
    assert event.details == {"suspended_for": "security review"}
    client.force_login(personas.viewer)
    assert "is suspended" not in client.get("/t/acme/").content.decode()
    # Reactivating an active tenant is refused, with a message, and records nothing.
    client.force_login(personas.platform_admin)
    response = client.post("/platform/tenants/acme/reactivate/", follow=True)
    assert "acme is not suspended" in response.content.decode()
    assert len(events(tenant, "tenant.reactivated")) == 1


def test_the_platform_link_shows_for_platform_admins_only(client, personas):
    client.force_login(personas.admin)
    assert "/platform/tenants/" not in client.get("/t/acme/").content.decode()
    client.force_login(personas.platform_admin)
    assert 'href="/platform/tenants/"' in client.get("/t/acme/").content.decode()

"""Tenant networking end to end on the emulator: the pages, the run and its lock, and
stacks placed in the tenant's private subnets (issue 7, "Tenant networking")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deployments import drift_ops, networking, runs
from deployments.aws.clients import client
from deployments.aws.locks import LockManager
from deployments.models import Deployment, NetworkRun
from deployments.network_tasks import network_run, reap_network_runs
from tenants.models import AuditEvent, Tenant
from tests.deployments.run_fixtures import STACK, deployable_stack

Status = NetworkRun.Status

WEB = """\
apiVersion: components.panka.io/v1
kind: MicroService
metadata:
  name: web
spec:
  image:
    repository: registry.example.com/shop/web
    tag: "1.0"
  replicas: 1
  ports:
    - name: http
      port: 8080
"""
ECS_FILES = {"stack.yaml": STACK, "services/front/web.yaml": WEB}


@pytest.fixture
def hook(aws):
    """Register botocore event handlers on the cached clients (as in tests/aws/conftest.py)."""
    registered = []

    def register(service, event, handler):
        events = client(aws, service).meta.events
        events.register(event, handler)
        registered.append((events, event, handler))

    yield register
    for events, event, handler in registered:
        events.unregister(event, handler)


@pytest.fixture
def platform_client(client, personas):
    client.force_login(personas.platform_admin)
    return client


def create(platform_client, capture, slug="acme", **data):
    form = {"cidr": "10.20.0.0/16", "az_count": "2", "nat_mode": "single", **data}
    with capture(execute=True):
        response = platform_client.post(reverse("tenant_networking_create", args=[slug]), form)
    return response


def delete(platform_client, capture, slug="acme", confirm=None):
    with capture(execute=True):
        return platform_client.post(
            reverse("tenant_networking_delete", args=[slug]), {"confirm": confirm or slug}
        )


def tagged(aws, what, key, tenant="acme"):
    found = getattr(client(aws, "ec2"), what)(
        Filters=[{"Name": "tag:panka:tenant", "Values": [tenant]}]
    )[key]
    return [
        f
        for f in found
        if {"Key": "panka:tenant", "Value": tenant} in f.get("Tags", [])
        and f.get("State") not in ("deleted", "deleting")
    ]


def deploy(stack, actor, capture, kind="apply", confirm=True):
    """A run of ``stack`` in development, its apply confirmed once planned (``confirm``)."""
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind=kind,
            actor=actor,
        )
    run.refresh_from_db()
    if confirm and run.status == Deployment.Status.PLANNED:
        with capture(execute=True):
            runs.confirm_apply(run=run, actor=actor)
        run.refresh_from_db()
    return run


def service_subnets(aws, service="shop-development-front-web"):
    found = client(aws, "ecs").describe_services(cluster="shop-development", services=[service])
    config = found["services"][0]["networkConfiguration"]["awsvpcConfiguration"]
    return set(config["subnets"]), set(config["securityGroups"])


# --- create and show ---------------------------------------------------------------------


def test_create_builds_the_network_records_it_and_the_page_lists_the_ids(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    response = create(platform_client, django_capture_on_commit_callbacks)

    run = NetworkRun.objects.get(tenant=personas.tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_networking_run", args=["acme", run.number])
    assert run.status == Status.SUCCEEDED, run.error
    network = Tenant.objects.get(slug="acme").network
    assert network["status"] == "ready" and network["cidr"] == "10.20.0.0/16"
    assert len({s["az"] for s in network["private_subnets"]}) == 2
    assert [s["cidr"] for s in network["private_subnets"]] == ["10.20.0.0/18", "10.20.64.0/18"]
    # What the record says is what AWS has.
    ec2 = client(inline_tasks, "ec2")
    assert ec2.describe_vpcs(VpcIds=[network["vpc_id"]])["Vpcs"][0]["CidrBlock"] == "10.20.0.0/16"
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[network["internet_gateway_id"]])
    assert igw["InternetGateways"][0]["Attachments"][0]["VpcId"] == network["vpc_id"]
    assert len(tagged(inline_tasks, "describe_nat_gateways", "NatGateways")) == 1

    page = platform_client.get(reverse("tenant_networking", args=["acme"])).content.decode()
    ids = [network["vpc_id"], network["security_group_id"], network["internet_gateway_id"]]
    ids += [s["id"] for s in network["private_subnets"] + network["public_subnets"]]
    ids += [n["id"] for n in network["nat_gateways"]]
    for resource_id in ids:
        assert resource_id in page
    assert 'id="network-status">ready' in page
    # Members see a read-only summary on their tenant page (and no link to manage it).
    platform_client.force_login(personas.viewer)
    home = platform_client.get(reverse("tenant_home", args=["acme"])).content.decode()
    assert network["vpc_id"] in home and network["private_subnets"][0]["id"] in home
    assert reverse("tenant_networking", args=["acme"]) not in home
    platform_client.force_login(personas.platform_admin)

    detail = platform_client.get(reverse("tenant_networking_run", args=["acme", run.number]))
    text = detail.content.decode()
    assert "lock tenant:acme:networking acquired" in text and "created VPC" in text
    assert "lock released" in text
    # A finished run tells htmx to stop polling.
    assert (
        platform_client.get(detail.request["PATH_INFO"], HTTP_HX_REQUEST="true").status_code == 286
    )

    actions = list(
        AuditEvent.objects.filter(tenant=personas.tenant, action__startswith="network.")
        .order_by("id")
        .values_list("action", "actor_name")
    )
    assert actions == [
        ("network.create_requested", "platform"),
        ("network.create_succeeded", "system"),
    ]


def test_the_form_shows_defaults_and_refuses_bad_input_without_queueing(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    page = platform_client.get(reverse("tenant_networking", args=["acme"]))
    text = page.content.decode()
    assert page.status_code == 200 and 'value="10.0.0.0/16"' in text  # suggested, unused CIDR
    assert "10.0.0.0/18" in text and "10.0.192.0/20" in text  # the derived subnets
    preview = platform_client.get(
        reverse("tenant_networking", args=["acme"]), {"cidr": "172.16.4.0/24", "az_count": "3"}
    ).content.decode()
    assert "172.16.4.128/26" in preview and "172.16.4.224/28" in preview

    for bad, message in [
        ({"cidr": "8.8.0.0/16"}, "not inside a private range"),
        ({"cidr": "10.0.0.0/12"}, "between /16 and /24"),
        ({"cidr": "10.0.0.0/16", "az_count": "7"}, "Select a valid choice"),
        ({"cidr": "10.0.0.0/16", "nat_mode": "sometimes"}, "Select a valid choice"),
        ({"private_subnets": "10.99.0.0/20, 10.20.16.0/20"}, "not inside the VPC"),
    ]:
        response = create(platform_client, django_capture_on_commit_callbacks, **bad)
        assert response.status_code == 400, bad
        assert message in response.content.decode()
    assert not NetworkRun.objects.exists()
    assert Tenant.objects.get(slug="acme").network == {}


def test_a_rerun_after_a_crash_adopts_what_exists_and_makes_no_duplicates(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks, hook
):
    from tests.aws.provisioners.conftest import aws_error, failing

    failing(hook, "ec2", "CreateNatGateway", [aws_error("UnauthorizedOperation", "no NAT", 403)])
    create(platform_client, django_capture_on_commit_callbacks)
    first = NetworkRun.objects.get()
    assert first.status == Status.FAILED and "no NAT" in first.error
    failed = Tenant.objects.get(slug="acme").network
    assert failed["status"] == "failed" and failed["vpc_id"]  # what exists is kept
    vpcs = tagged(inline_tasks, "describe_vpcs", "Vpcs")

    create(platform_client, django_capture_on_commit_callbacks)

    second = NetworkRun.objects.get(number=2)
    assert second.status == Status.SUCCEEDED, second.error
    network = Tenant.objects.get(slug="acme").network
    assert network["vpc_id"] == failed["vpc_id"] == vpcs[0]["VpcId"]
    assert len(tagged(inline_tasks, "describe_vpcs", "Vpcs")) == 1
    assert len(tagged(inline_tasks, "describe_subnets", "Subnets")) == 4
    assert len(tagged(inline_tasks, "describe_internet_gateways", "InternetGateways")) == 1
    assert any("adopted" in m for m in second.logs.values_list("message", flat=True))


def test_a_second_create_is_refused_while_one_is_active_or_the_network_exists(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    NetworkRun.objects.create(tenant=personas.tenant, number=1, action="create", status="running")
    response = create(platform_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert NetworkRun.objects.count() == 1
    page = platform_client.get(response["Location"]).content.decode()
    assert "networking run #1 (create) is running" in page

    NetworkRun.objects.filter(number=1).update(status="failed")
    create(platform_client, django_capture_on_commit_callbacks)
    with pytest.raises(networking.NetworkRefused, match="already has a network"):
        networking.queue_network_run(
            tenant=Tenant.objects.get(slug="acme"),
            action="create",
            actor=personas.platform_admin,
            spec=networking.NetworkSpec("acme", "10.9.0.0/16"),
        )


def test_the_run_waits_while_someone_else_holds_the_networking_lock(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    """The lock, not only the database, keeps two networking runs apart: a run that finds
    ``tenant:acme:networking`` taken goes back to the queue with the holder named, and
    touches no AWS resource."""
    manager = LockManager(inline_tasks)
    held = manager.acquire("tenant:acme:networking", owner="cli:bob", reason="by hand")
    with django_capture_on_commit_callbacks(execute=True):
        run = networking.queue_network_run(
            tenant=personas.tenant,
            action="create",
            actor=personas.platform_admin,
            spec=networking.NetworkSpec("acme", "10.20.0.0/16"),
        )
    run.refresh_from_db()
    assert run.status == Status.QUEUED
    assert "locked by cli:bob: by hand" in run.waiting_reason
    assert tagged(inline_tasks, "describe_vpcs", "Vpcs") == []

    manager.release(held)
    network_run(run.pk)  # what the retry schedule does

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert manager.get("tenant:acme:networking") is None


def test_the_lock_is_held_with_our_lease_while_aws_is_being_changed(
    personas, inline_tasks, django_capture_on_commit_callbacks, hook
):
    seen = []

    def during_create_vpc(**kwargs):
        info = LockManager(inline_tasks).get("tenant:acme:networking")
        seen.append(info)

    hook("ec2", "before-call.ec2.CreateVpc", during_create_vpc)
    with django_capture_on_commit_callbacks(execute=True):
        run = networking.queue_network_run(
            tenant=personas.tenant,
            action="create",
            actor=personas.platform_admin,
            spec=networking.NetworkSpec("acme", "10.20.0.0/16", nat_mode="none"),
        )
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    [info] = seen
    assert info.deployment_id == str(run.uid) and info.lock_id == run.lock_id
    assert info.reason == "network create of run #1"


def test_a_dead_workers_run_is_reaped_and_the_network_marked_failed(personas, inline_tasks):
    run = NetworkRun.objects.create(
        tenant=personas.tenant, number=1, action="create", status="running", lock_id="gone"
    )
    Tenant.objects.filter(pk=personas.tenant.pk).update(network={"status": "creating"})
    assert reap_network_runs() == 1
    run.refresh_from_db()
    assert run.status == Status.INTERRUPTED
    assert Tenant.objects.get(pk=personas.tenant.pk).network["status"] == "failed"


def test_a_queued_run_whose_task_was_lost_is_sent_again(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    run = NetworkRun.objects.create(
        tenant=personas.tenant,
        number=1,
        action="create",
        spec={"cidr": "10.20.0.0/16", "az_count": 2, "nat_mode": "none"},
    )
    recent = NetworkRun.objects.create(tenant=personas.other_tenant, number=1, action="delete")
    NetworkRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        reap_network_runs()

    run.refresh_from_db()
    recent.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert run.logs.first().message.startswith("re-sent to the workers")
    assert recent.status == Status.QUEUED  # not old enough to count as lost


# --- stacks in the network ---------------------------------------------------------------


def test_a_microservice_lands_in_the_tenants_private_subnets_and_delete_waits_for_it(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    create(platform_client, capture, nat_mode="per-zone")
    network = Tenant.objects.get(slug="acme").network
    private = {s["id"] for s in network["private_subnets"]}
    stack = deployable_stack(personas, files=ECS_FILES)

    run = deploy(stack, personas.deployer, capture)

    assert run.status == Deployment.Status.SUCCEEDED, run.error
    subnets, groups = service_subnets(inline_tasks)
    assert subnets and subnets <= private
    assert groups == {network["security_group_id"]}
    assert not [f for f in run.plan["findings"] if f["code"] == "default-vpc"]
    # A drift check reads it where it is: in sync, and a change made in AWS is found.
    assert drift_ops.run_drift_check(stack=stack, environment="development").status == "in-sync"
    client(inline_tasks, "ecs").update_service(
        cluster="shop-development", service="shop-development-front-web", desiredCount=3
    )
    check = drift_ops.run_drift_check(stack=stack, environment="development")
    assert check.status == "drifted", check.results

    # The stack still has resources: deleting the network is refused, naming it.
    response = delete(platform_client, capture)
    assert response.status_code == 302
    page = platform_client.get(response["Location"]).content.decode()
    assert "shop/development: 1 deployed resource(s); destroy it first" in page
    assert NetworkRun.objects.filter(action="delete").count() == 0
    assert len(tagged(inline_tasks, "describe_vpcs", "Vpcs")) == 1

    # Destroyed: now the network can go, and all of it goes.
    assert deploy(stack, personas.deployer, capture, kind="destroy").status == "succeeded"
    delete(platform_client, capture)
    run = NetworkRun.objects.get(action="delete")
    assert run.status == Status.SUCCEEDED, run.error
    assert Tenant.objects.get(slug="acme").network == {}
    for what, key in [
        ("describe_vpcs", "Vpcs"), ("describe_subnets", "Subnets"),
        ("describe_internet_gateways", "InternetGateways"), ("describe_nat_gateways", "NatGateways"),
        ("describe_addresses", "Addresses"), ("describe_route_tables", "RouteTables"),
        ("describe_security_groups", "SecurityGroups"),
    ]:  # fmt: skip
        assert tagged(inline_tasks, what, key) == [], what
    assert AuditEvent.objects.filter(action="network.delete_succeeded").count() == 1


def test_delete_is_refused_while_a_run_of_a_stack_is_active_and_needs_the_typed_name(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    create(platform_client, capture, nat_mode="none")
    stack = deployable_stack(personas)
    Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="staging",
        kind="apply", status="awaiting_approval", requested_by=personas.admin,
    )  # fmt: skip

    wrong = delete(platform_client, capture, confirm="acm")
    assert "Type the tenant" in platform_client.get(wrong["Location"]).content.decode()
    refused = delete(platform_client, capture)
    assert (
        "shop/staging: run #1 is awaiting approval"
        in platform_client.get(refused["Location"]).content.decode()
    )
    assert not NetworkRun.objects.filter(action="delete").exists()
    assert Tenant.objects.get(slug="acme").network["status"] == "ready"


def test_a_stack_deployed_after_the_delete_request_stops_the_delete_under_the_lock(
    platform_client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    from deployments.aws.state import StateStore, empty_state, successor

    create(platform_client, django_capture_on_commit_callbacks, nat_mode="none")
    with django_capture_on_commit_callbacks(execute=False):  # queued, not yet run
        run = networking.queue_network_run(
            tenant=personas.tenant, action="delete", actor=personas.platform_admin
        )
    stack = deployable_stack(personas)
    state = successor(empty_state("acme", stack.name, "production"))
    state["resources"] = {"jobs": {"id": "q", "type": "SQS", "attributes": {}}}
    StateStore(inline_tasks).save(None, state, deployment_id="x", deployed_by="x", revision="1")

    network_run(run.pk)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "shop/production: 1 deployed resource(s)" in run.error
    network = Tenant.objects.get(slug="acme").network
    assert network["status"] == "ready"  # untouched, so stacks keep deploying into it
    assert len(tagged(inline_tasks, "describe_vpcs", "Vpcs")) == 1


def test_a_tenant_without_a_network_uses_the_default_vpc_and_the_plan_says_so(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    ec2 = client(inline_tasks, "ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    default_subnets = {
        s["SubnetId"]
        for s in ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [default_vpc["VpcId"]]}]
        )["Subnets"]
    }
    # Another tenant's network must not change where acme's stacks go.
    from deployments.aws.tenant_network import NetworkSpec, TenantNetwork, network_context

    TenantNetwork(network_context(inline_tasks, "globex")).ensure(
        NetworkSpec("globex", "10.60.0.0/16", nat_mode="none")
    )
    stack = deployable_stack(personas, files=ECS_FILES)

    run = deploy(stack, personas.deployer, django_capture_on_commit_callbacks)

    assert run.status == Deployment.Status.SUCCEEDED, run.error
    subnets, _ = service_subnets(inline_tasks)
    assert subnets and subnets <= default_subnets
    # The plan said so (kinds.md), where the component is written, and the run page shows it.
    [warning] = [f for f in run.plan["findings"] if f["code"] == "default-vpc"]
    assert warning["severity"] == "warning" and warning["message"].startswith("web (MicroService)")
    assert (warning["file"], warning["line"]) == ("services/front/web.yaml", 4)
    browser = Client()
    browser.force_login(personas.viewer)
    page = browser.get(reverse("run_detail", args=["acme", run.uid])).content.decode()
    assert "will run in the account&#x27;s default VPC" in page


def test_a_plan_for_the_default_vpc_is_not_applied_into_a_network_made_since(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    stack = deployable_stack(personas, files=ECS_FILES)
    run = deploy(stack, personas.deployer, capture, confirm=False)
    assert run.status == Deployment.Status.PLANNED
    assert run.plan["placement"] == "the account's default VPC"
    Tenant.objects.filter(pk=personas.tenant.pk).update(
        network={"status": "ready", "region": "us-east-1", "vpc_id": "vpc-0123"}
    )
    with capture(execute=True):
        runs.confirm_apply(run=run, actor=personas.deployer)
    run.refresh_from_db()
    assert run.status == Deployment.Status.FAILED
    assert "network changed since this plan was made" in run.error, run.error
    assert "the tenant's network vpc-0123 (ready)" in run.error
    assert not client(inline_tasks, "ecs").list_clusters()["clusterArns"]  # nothing was made


def test_stacks_refuse_to_apply_while_the_network_is_not_ready(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    Tenant.objects.filter(pk=personas.tenant.pk).update(
        network={"status": "creating", "region": "us-east-1"}
    )
    stack = deployable_stack(personas, files=ECS_FILES)
    run = deploy(stack, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Deployment.Status.FAILED
    assert "network is creating" in run.error
    assert not client(inline_tasks, "ecs").list_clusters()["clusterArns"]  # nothing was made


def test_odd_input_gets_a_page_or_a_404_never_a_500(platform_client, personas, inline_tasks):
    page = reverse("tenant_networking", args=["acme"])
    for query in ({"az_count": "x"}, {"cidr": "1" * 500, "nat_mode": "?"}):
        assert platform_client.get(page, query).status_code == 200
    assert platform_client.get(page, {"cidr": "\x00"}).status_code == 400  # panka_web.nul_input
    for number in (2, 10**30):
        url = reverse("tenant_networking_run", args=["acme", number])
        assert platform_client.get(url).status_code == 404
    assert platform_client.get(reverse("tenant_networking", args=["nope"])).status_code == 404
    response = platform_client.post(reverse("tenant_networking_create", args=["acme"]), {})
    assert response.status_code == 400


@pytest.mark.parametrize("persona", ["admin", "deployer", "viewer", "auditor", "outsider"])
def test_only_platform_admins_reach_the_networking_pages(client, personas, persona, inline_tasks):
    client.force_login(getattr(personas, persona))
    for name in ("tenant_networking", "tenant_networking_create", "tenant_networking_delete"):
        url = reverse(name, args=["acme"])
        response = client.get(url) if name == "tenant_networking" else client.post(url, {})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not NetworkRun.objects.exists()

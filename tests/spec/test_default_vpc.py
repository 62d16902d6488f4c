"""The plan's "default-vpc" warning (kinds.md, Shared plumbing: Network): a tenant without a
network of its own gets one warning per component the plan places in the account's
default VPC, with the real kinds' schemas deciding what is placed in a network."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.spec import TenantPolicy, kinds, plan, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str) -> dict[str, str]:
    root = EXAMPLES / name
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.yaml"))}


def _warned(result, state=None, own_network=False) -> dict[str, tuple[str, int, int]]:
    the_plan = plan(
        result, state, environment="production", policy=TenantPolicy(own_network=own_network)
    )
    return {
        f.message.split(" ", 1)[0]: (f.file, f.line, f.column)
        for f in the_plan.findings
        if f.code == "default-vpc"
    }


def test_each_component_placed_in_the_default_vpc_is_named_where_it_is_written():
    shop = validate(_example("shop"))
    assert _warned(shop) == {
        "order-worker": ("services/orders/worker.yaml", 4, 9),
        "web": ("services/storefront/web.yaml", 4, 9),
    }, "the Lambda without vpc.enabled, the queues, tables and buckets place nothing"
    analytics = validate(_example("analytics"))
    assert set(_warned(analytics)) == {"daily-report", "report-mailer"}  # a container CronJob


@pytest.mark.parametrize("own_network", [True, None], ids=["own network", "unknown (CLI)"])
def test_no_warning_with_a_network_of_its_own_or_without_a_tenant(own_network):
    assert _warned(validate(_example("shop")), own_network=own_network) == {}


def _applied(result) -> dict:
    """The state after applying ``result``'s first plan: the next plan is all no-ops."""
    first = plan(result, None, environment="production")
    return {
        "version": "1.0",
        "metadata": {"stack": result.stack.name, "environment": "production", "serial": 1},
        "resources": {a.component: a.state_fields() for a in first.actions},
    }


def test_components_the_plan_leaves_alone_are_not_warned_about():
    shop = validate(_example("shop"))
    assert _warned(shop, _applied(shop)) == {}, "every action is a no-op"


@pytest.mark.parametrize(
    ("kind", "config", "placed"),
    [
        ("MicroService", {}, True),
        ("Worker", {}, True),
        ("RDS", {}, True),
        ("ElastiCacheRedis", {}, True),
        ("CronJob", {"image": {"repository": "r"}, "lambda": None}, True),
        ("CronJob", {"image": None, "lambda": {"component": "f"}}, False),
        ("Lambda", {"vpc": {"enabled": False, "subnetIds": [], "securityGroupIds": []}}, False),
        ("Lambda", {"vpc": {"enabled": True, "subnetIds": [], "securityGroupIds": []}}, True),
        ("Lambda", {"vpc": {"enabled": True, "subnetIds": ["s"], "securityGroupIds": []}}, True),
        (
            "Lambda",
            {"vpc": {"enabled": True, "subnetIds": ["s"], "securityGroupIds": ["g"]}},
            False,
        ),
        ("SQS", {}, False),
        ("S3", {}, False),
        ("DynamoDB", {}, False),
        ("NoSuchKind", {}, False),
    ],
)
def test_which_configs_run_inside_a_network(kind, config, placed):
    assert kinds.in_network(kind, config) is placed


def test_a_plan_that_places_records_where_and_its_hash_covers_it():
    """An apply refuses a plan made for another placement (deployments.tasks); approvals
    are of the hash, so they cover the placement too."""
    shop = validate(_example("shop"))

    def made(placement):
        return plan(shop, None, environment="production", policy=TenantPolicy(placement=placement))

    default, network = made("the account's default VPC"), made("the tenant's network vpc-1 (ready)")
    assert default.placement == "the account's default VPC"
    assert default.as_dict()["placement"] == default.placement
    assert default.hash != network.hash
    assert (
        made(None).placement is None
        and made(None).hash == plan(shop, None, environment="production").hash
    )


def test_a_plan_that_places_nothing_records_no_placement():
    shop = validate(_example("shop"))
    policy = TenantPolicy(placement="the account's default VPC")
    no_ops = plan(shop, _applied(shop), environment="production", policy=policy)
    assert no_ops.placement is None, "no-ops"
    # A stack of queues, tables and buckets only places nothing either.
    files = {
        "stack.yaml": "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: q\nspec:\n"
        "  provider:\n    name: aws\n    region: us-east-1\n",
        "services/a/service.yaml": "apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n"
        "  name: a\n  stack: q\n",
        "services/a/jobs.yaml": "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n"
        "  name: jobs\n  service: a\n  stack: q\nspec: {}\n",
    }
    queues = validate(files)
    assert queues.ok, queues.errors
    assert plan(queues, None, environment="production", policy=policy).placement is None

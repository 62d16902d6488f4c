"""A tenant's own network on the emulator (deployments/aws/tenant_network.py)."""

from __future__ import annotations

import ipaddress

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError
from deployments.aws.tenant_network import (
    NetworkSpec,
    NetworkSpecError,
    TenantNetwork,
    default_subnets,
    network_context,
    parse_cidr,
)


def ours(aws, tenant="acme"):
    """Every live resource tagged as the tenant's network, by type (tags checked here as
    well: the emulator ignores tag filters on NAT gateways)."""
    ec2 = client(aws, "ec2")
    tagged = [{"Name": "tag:panka:tenant", "Values": [tenant]}]
    found = {
        "vpcs": ec2.describe_vpcs(Filters=tagged)["Vpcs"],
        "subnets": ec2.describe_subnets(Filters=tagged)["Subnets"],
        "igws": ec2.describe_internet_gateways(Filters=tagged)["InternetGateways"],
        "nats": ec2.describe_nat_gateways(
            Filters=[*tagged, {"Name": "state", "Values": ["pending", "available"]}]
        )["NatGateways"],
        "eips": ec2.describe_addresses(Filters=tagged)["Addresses"],
        "route_tables": ec2.describe_route_tables(Filters=tagged)["RouteTables"],
        "groups": ec2.describe_security_groups(Filters=tagged)["SecurityGroups"],
    }
    return {
        kind: [i for i in items if {"Key": "panka:tenant", "Value": tenant} in i.get("Tags", [])]
        for kind, items in found.items()
    }


def builder(aws, tenant="acme", logs=None, **kwargs):
    ctx = network_context(aws, tenant, log=(logs if logs is not None else []).append, backoff=0.01)
    return TenantNetwork(ctx, poll_seconds=0.01, **kwargs)


# --- the spec (no AWS) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.0.0.0/8", "between /16 and /24"),
        ("10.0.0.0/25", "between /16 and /24"),
        ("8.8.0.0/16", "not inside a private range"),
        ("10.0.0.1/16", "did you mean 10.0.0.0/16"),
        ("10.0.0.0", "no prefix length"),
        ("banana", "not an IPv4 CIDR"),
        ("", "not an IPv4 CIDR"),
        ("fd00::/48", "not an IPv4 CIDR"),
    ],
)
def test_bad_vpc_cidrs_are_refused_with_the_reason(text, message):
    with pytest.raises(NetworkSpecError, match=message):
        parse_cidr(text)


def test_default_subnets_split_the_cidr_without_overlap():
    public, private = default_subnets(ipaddress.IPv4Network("10.20.0.0/16"), 3)
    assert [str(s) for s in private] == ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]
    assert [str(s) for s in public] == ["10.20.192.0/20", "10.20.208.0/20", "10.20.224.0/20"]
    smallest, _ = default_subnets(ipaddress.IPv4Network("192.168.7.0/24"), 3)
    assert smallest[-1].prefixlen == 28  # AWS's smallest subnet still fits


def test_typed_subnets_must_fit_the_vpc_and_not_overlap():
    spec = NetworkSpec("acme", "10.1.0.0/16", private_subnets=("10.1.0.0/20", "10.1.16.0/20"))
    assert spec.checked().private_subnets == ("10.1.0.0/20", "10.1.16.0/20")
    with pytest.raises(NetworkSpecError, match="not inside the VPC"):
        NetworkSpec(
            "acme", "10.1.0.0/16", private_subnets=("10.2.0.0/20", "10.1.16.0/20")
        ).checked()
    with pytest.raises(NetworkSpecError, match="overlap"):
        NetworkSpec("acme", "10.1.0.0/16", public_subnets=("10.1.0.0/24", "10.1.1.0/24")).checked()
    with pytest.raises(NetworkSpecError, match="give 2 private"):
        NetworkSpec("acme", "10.1.0.0/16", private_subnets=("10.1.0.0/20",)).checked()
    with pytest.raises(NetworkSpecError, match="NAT mode"):
        NetworkSpec("acme", "10.1.0.0/16", nat_mode="double").checked()


# --- on the emulator ---------------------------------------------------------------------


def test_create_builds_vpc_subnets_in_two_zones_igw_nat_routes_and_security_group(aws):
    record = builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16", az_count=2, nat_mode="single"))
    ec2 = client(aws, "ec2")

    vpc = ec2.describe_vpcs(VpcIds=[record["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    assert {"Key": "panka:tenant", "Value": "acme"} in vpc["Tags"]
    subnets = {
        s["SubnetId"]: s
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [record["vpc_id"]]}])[
            "Subnets"
        ]
    }
    private_ids = [s["id"] for s in record["private_subnets"]]
    public_ids = [s["id"] for s in record["public_subnets"]]
    assert set(private_ids + public_ids) == set(subnets)
    assert len({subnets[i]["AvailabilityZone"] for i in private_ids}) == 2
    assert [subnets[i]["CidrBlock"] for i in private_ids] == ["10.20.0.0/18", "10.20.64.0/18"]

    igw = ec2.describe_internet_gateways(InternetGatewayIds=[record["internet_gateway_id"]])[
        "InternetGateways"
    ][0]
    assert [a["VpcId"] for a in igw["Attachments"]] == [record["vpc_id"]]
    [nat] = record["nat_gateways"]
    described = ec2.describe_nat_gateways(NatGatewayIds=[nat["id"]])["NatGateways"][0]
    assert described["State"] == "available" and described["SubnetId"] == public_ids[0]

    def default_route(table_id):
        table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        routes = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        associated = {a.get("SubnetId") for a in table["Associations"]}
        return routes[0] if routes else None, associated

    route, associated = default_route(record["route_tables"]["public"])
    assert route["GatewayId"] == record["internet_gateway_id"]
    assert associated == set(public_ids)
    for table_id, subnet_id in zip(record["route_tables"]["private"], private_ids, strict=True):
        route, associated = default_route(table_id)
        assert route["NatGatewayId"] == nat["id"]  # single NAT: every zone goes through it
        assert associated == {subnet_id}

    group = ec2.describe_security_groups(GroupIds=[record["security_group_id"]])["SecurityGroups"][
        0
    ]
    assert group["VpcId"] == record["vpc_id"]
    assert any(
        rule["IpProtocol"] == "-1" and {"10.20.0.0/16"} == {r["CidrIp"] for r in rule["IpRanges"]}
        for rule in group["IpPermissions"]
    )


def test_per_zone_nat_gives_each_private_subnet_its_own_gateway(aws):
    record = builder(aws).ensure(
        NetworkSpec("acme", "10.30.0.0/20", az_count=3, nat_mode="per-zone")
    )
    ec2 = client(aws, "ec2")
    assert len(record["nat_gateways"]) == 3
    assert len(set(record["availability_zones"])) == 3
    targets = []
    for table_id in record["route_tables"]["private"]:
        table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        targets += [r["NatGatewayId"] for r in table["Routes"] if r.get("NatGatewayId")]
    assert targets == [n["id"] for n in record["nat_gateways"]]


def test_no_nat_means_no_gateway_and_no_default_route_in_private_tables(aws):
    record = builder(aws).ensure(NetworkSpec("acme", "10.40.0.0/24", nat_mode="none"))
    assert record["nat_gateways"] == []
    assert ours(aws)["eips"] == []
    table = client(aws, "ec2").describe_route_tables(
        RouteTableIds=record["route_tables"]["private"][:1]
    )
    assert not [
        r for r in table["RouteTables"][0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    ]


def test_a_rerun_adopts_everything_and_makes_no_duplicates(aws):
    spec = NetworkSpec("acme", "10.20.0.0/16", nat_mode="per-zone")
    first = builder(aws).ensure(spec)
    before = {k: len(v) for k, v in ours(aws).items()}
    logs: list[str] = []

    second = builder(aws, logs=logs).ensure(spec)

    assert second == first
    assert {k: len(v) for k, v in ours(aws).items()} == before
    assert before == {
        "vpcs": 1, "subnets": 4, "igws": 1, "nats": 2, "eips": 2, "route_tables": 3, "groups": 1,
    }  # fmt: skip
    assert any("adopted" in line for line in logs)
    assert not any(line.startswith("created") for line in logs)


def test_a_crashed_run_is_completed_by_the_next_one(aws, hook):
    """The first run dies after the VPC and subnets exist; the next one finishes the job."""
    from tests.aws.provisioners.conftest import failing

    failing(hook, "ec2", "CreateInternetGateway", [_boom()])
    with pytest.raises(ProvisionError):
        builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16"))
    assert len(ours(aws)["subnets"]) == 4 and ours(aws)["igws"] == []

    record = builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16"))

    found = ours(aws)
    assert len(found["vpcs"]) == 1 and len(found["subnets"]) == 4 and len(found["igws"]) == 1
    assert record["vpc_id"] == found["vpcs"][0]["VpcId"]


def _boom():
    from tests.aws.provisioners.conftest import aws_error

    return aws_error("UnauthorizedOperation", "not today", 403)


def test_a_different_cidr_for_an_existing_vpc_is_refused(aws):
    builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16", nat_mode="none"))
    with pytest.raises(ProvisionError, match="delete the network first"):
        builder(aws).ensure(NetworkSpec("acme", "10.21.0.0/16", nat_mode="none"))


def test_delete_removes_everything_and_a_second_delete_is_fine(aws):
    other = builder(aws, tenant="globex").ensure(NetworkSpec("globex", "10.50.0.0/16"))
    record = builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16", nat_mode="per-zone"))

    builder(aws).delete([record["vpc_id"]])

    assert all(not found for found in ours(aws).values()), ours(aws)
    ec2 = client(aws, "ec2")
    assert not ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [record["vpc_id"]]}])["Vpcs"]
    assert (
        ec2.describe_addresses(
            Filters=[
                {
                    "Name": "allocation-id",
                    "Values": [n["allocation_id"] for n in record["nat_gateways"]],
                }
            ]
        )["Addresses"]
        == []
    )
    # Another tenant's network is not touched.
    assert len(ours(aws, "globex")["subnets"]) == 4
    assert ours(aws, "globex")["vpcs"][0]["VpcId"] == other["vpc_id"]

    builder(aws).delete([record["vpc_id"]])  # already gone: nothing to do, no error


def test_delete_reports_what_aws_refuses_instead_of_skipping_it(aws, hook):
    """A group still used by a stack's task answers DependencyViolation (the emulator does
    not check that itself): the delete fails with AWS's reason and the VPC stays."""
    from tests.aws.provisioners.conftest import aws_error, failing

    record = builder(aws).ensure(NetworkSpec("acme", "10.20.0.0/16", nat_mode="none"))
    failing(hook, "ec2", "DeleteSecurityGroup", [aws_error("DependencyViolation", "in use", 400)])

    with pytest.raises(ProvisionError, match="DependencyViolation: in use"):
        builder(aws).delete([record["vpc_id"]])

    assert len(ours(aws)["vpcs"]) == 1

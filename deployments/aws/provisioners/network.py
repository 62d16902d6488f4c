"""Where VPC-attached components run (kinds.md, "Shared plumbing: Network")."""

from __future__ import annotations

from .base import Context, Network, ProvisionError


def default_network(ctx: Context) -> Network:
    """The account's default VPC, its subnets and its default security group.

    Used for tenants without networking of their own; the plan says so in a warning.
    """
    vpcs = ctx.call("ec2", "describe_vpcs", Filters=[{"Name": "isDefault", "Values": ["true"]}])[
        "Vpcs"
    ]
    if not vpcs:
        raise ProvisionError(
            f"the account has no default VPC in {ctx.aws.region}; give the tenant its own network"
        )
    vpc_id = vpcs[0]["VpcId"]
    subnets = ctx.call("ec2", "describe_subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "Subnets"
    ]
    groups = ctx.call(
        "ec2",
        "describe_security_groups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ],
    )["SecurityGroups"]
    return Network(
        vpc_id=vpc_id,
        subnet_ids=tuple(sorted(s["SubnetId"] for s in subnets)),
        security_group_ids=tuple(g["GroupId"] for g in groups[:1]),
        is_default_vpc=True,
    )


def network_for(ctx: Context) -> Network:
    """The tenant's network when it has one, else the default VPC (looked up once)."""
    if ctx.network is None:
        ctx.network = default_network(ctx)
    return ctx.network

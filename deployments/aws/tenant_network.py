"""A tenant's own network, made and removed with boto3 (issue 7, "Tenant networking").

One VPC per tenant with, in each of its availability zones, a public and a private
subnet; an internet gateway; NAT gateways (one, one per zone, or none); route tables
(public → internet gateway, private → NAT); and a security group that lets everything
inside the VPC's CIDR in. Stacks of the tenant then run in its private subnets behind
that group (kinds.md, "Shared plumbing").

The same idempotency rule as the provisioners: every resource carries the tags
``panka:tenant=<slug>``, ``panka:managed=true`` and ``panka:network=<part>`` (``vpc``,
``public-0``, ``nat-1``...), and is looked up by them before it is created, so a run
that crashed half-way adopts what it made instead of making a second one. Deleting
finds what to remove by the same tags, so it also cleans up after a create that never
got to record its ids.

Every AWS call goes through :meth:`Context.call` (lease check, retries, error mapping).
No Django here.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .clients import AwsSettings
from .provisioners.base import Context, Network, ProvisionError

NAT_MODES = ("single", "per-zone", "none")
MIN_PREFIX, MAX_PREFIX = 16, 24  # the VPC's size: AWS allows /16-/28; /24 keeps room for 6 subnets
SUBNET_MIN_PREFIX, SUBNET_MAX_PREFIX = 16, 28  # AWS's limits for one subnet
MAX_AZS = 3
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
ANYWHERE = "0.0.0.0/0"
TAG_PART = "panka:network"
# A resource that is already gone is not an error when deleting.
GONE = frozenset(
    {
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidInternetGatewayID.NotFound",
        "InvalidAllocationID.NotFound",
        "InvalidRouteTableID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidGroupId.NotFound",
        "InvalidAssociationID.NotFound",
        "Gateway.NotAttached",
        "NatGatewayNotFound",
        "InvalidNatGatewayID.NotFound",
    }
)
_LIVE_NAT = ["pending", "available"]


class NetworkSpecError(ValueError):
    """A network spec that cannot be built; the message says what to change."""


# --- the spec --------------------------------------------------------------------------


def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """The VPC CIDR: IPv4, /16 to /24, inside a private range (RFC 1918)."""
    text = (text or "").strip()
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except (ValueError, ipaddress.AddressValueError, ipaddress.NetmaskValueError):
        raise NetworkSpecError(f"{text!r} is not an IPv4 CIDR such as 10.20.0.0/16") from None
    if "/" not in text:
        raise NetworkSpecError(f"{text!r} has no prefix length; write e.g. {text}/16")
    if str(network) != text:
        raise NetworkSpecError(f"{text} has host bits set; did you mean {network}?")
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise NetworkSpecError(
            f"the VPC must be between /{MIN_PREFIX} and /{MAX_PREFIX}; {text} is /{network.prefixlen}"
        )
    if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        ranges = ", ".join(map(str, PRIVATE_RANGES))
        raise NetworkSpecError(f"{text} is not inside a private range ({ranges})")
    return network


def default_subnets(
    vpc: ipaddress.IPv4Network, az_count: int
) -> tuple[list[ipaddress.IPv4Network], list[ipaddress.IPv4Network]]:
    """(public, private) subnets, one of each per zone, carved from the VPC CIDR.

    The private subnets, where the stacks run, get a quarter of the VPC each (the first
    three quarters); the public ones, which only hold NAT gateways, share the last
    quarter in sixteenths. A /16 gives /18 private and /20 public subnets; a /24 gives
    /26 and /28, AWS's smallest.
    """
    if not 1 <= az_count <= MAX_AZS:
        raise NetworkSpecError(f"between 1 and {MAX_AZS} availability zones, not {az_count}")
    quarters = list(vpc.subnets(prefixlen_diff=2))
    private = quarters[:az_count]
    public = list(quarters[3].subnets(prefixlen_diff=2))[:az_count]
    return public, private


def parse_subnets(
    text: str, vpc: ipaddress.IPv4Network, az_count: int, *, what: str
) -> list[ipaddress.IPv4Network]:
    """Subnets typed by a person: comma or space separated, one per zone, inside the VPC."""
    items = [t for t in text.replace(",", " ").split() if t]
    if len(items) != az_count:
        raise NetworkSpecError(f"give {az_count} {what} subnet(s), one per zone; got {len(items)}")
    found = []
    for item in items:
        try:
            subnet = ipaddress.IPv4Network(item, strict=True)
        except ValueError:
            raise NetworkSpecError(
                f"{what} subnet {item!r} is not an IPv4 network such as 10.20.0.0/20"
            ) from None
        if not subnet.subnet_of(vpc):
            raise NetworkSpecError(f"{what} subnet {item} is not inside the VPC's {vpc}")
        if not SUBNET_MIN_PREFIX <= subnet.prefixlen <= SUBNET_MAX_PREFIX:
            raise NetworkSpecError(f"{what} subnet {item}: a subnet must be between /16 and /28")
        found.append(subnet)
    return found


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """What to build. Empty subnet lists mean "derive them from the CIDR"."""

    tenant: str
    cidr: str
    az_count: int = 2
    nat_mode: str = "single"
    public_subnets: tuple[str, ...] = ()
    private_subnets: tuple[str, ...] = ()

    def checked(self) -> NetworkSpec:
        """This spec validated, with the subnets filled in; NetworkSpecError if it can't be built."""
        vpc = parse_cidr(self.cidr)
        if self.nat_mode not in NAT_MODES:
            raise NetworkSpecError(f"NAT mode must be one of {', '.join(NAT_MODES)}")
        public_default, private_default = default_subnets(vpc, self.az_count)
        public = (
            parse_subnets(" ".join(self.public_subnets), vpc, self.az_count, what="public")
            if self.public_subnets
            else public_default
        )
        private = (
            parse_subnets(" ".join(self.private_subnets), vpc, self.az_count, what="private")
            if self.private_subnets
            else private_default
        )
        every = public + private
        for i, a in enumerate(every):
            for b in every[i + 1 :]:
                if a.overlaps(b):
                    raise NetworkSpecError(f"subnets {a} and {b} overlap")
        return NetworkSpec(
            tenant=self.tenant,
            cidr=str(vpc),
            az_count=self.az_count,
            nat_mode=self.nat_mode,
            public_subnets=tuple(map(str, public)),
            private_subnets=tuple(map(str, private)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "cidr": self.cidr,
            "az_count": self.az_count,
            "nat_mode": self.nat_mode,
            "public_subnets": list(self.public_subnets),
            "private_subnets": list(self.private_subnets),
        }


def network_from_record(record: dict[str, Any]) -> Network:
    """Where a tenant's stacks run: its private subnets behind its security group."""
    return Network(
        vpc_id=record["vpc_id"],
        subnet_ids=tuple(s["id"] for s in record.get("private_subnets") or []),
        security_group_ids=(record["security_group_id"],),
        is_default_vpc=False,
    )


# --- AWS -------------------------------------------------------------------------------


def network_context(
    aws: AwsSettings,
    tenant: str,
    *,
    log: Callable[[str], None] = lambda message: None,
    ensure_lease: Callable[[], None] = lambda: None,
    backoff: float = 0.5,
) -> Context:
    """A provisioner Context for the tenant's network (no stack: it belongs to the tenant)."""
    return Context(
        aws=aws,
        tenant=tenant,
        stack="",
        environment="",
        service="",
        component="network",
        kind="TenantNetwork",
        log=log,
        ensure_lease=ensure_lease,
        backoff=backoff,
    )


@dataclass
class TenantNetwork:
    """Create (or adopt) and delete one tenant's network through ``ctx``."""

    ctx: Context
    poll_seconds: float = 5.0
    wait_timeout: float = 900.0  # NAT gateways take a few minutes on AWS
    record: dict[str, Any] = field(default_factory=dict)  # what exists so far

    @property
    def tenant(self) -> str:
        return self.ctx.tenant

    # --- tags and lookups --------------------------------------------------------------

    def _tags(self, part: str) -> list[dict[str, str]]:
        return [
            {"Key": "Name", "Value": f"panka-{self.tenant}-{part}"},
            {"Key": "panka:managed", "Value": "true"},
            {"Key": "panka:tenant", "Value": self.tenant},
            {"Key": TAG_PART, "Value": part},
        ]

    def _spec(self, resource_type: str, part: str) -> list[dict[str, Any]]:
        return [{"ResourceType": resource_type, "Tags": self._tags(part)}]

    def _ours(self, part: str | None = None) -> list[dict[str, Any]]:
        filters = [{"Name": "tag:panka:tenant", "Values": [self.tenant]}]
        if part is None:
            filters.append({"Name": "tag-key", "Values": [TAG_PART]})
        else:
            filters.append({"Name": f"tag:{TAG_PART}", "Values": [part]})
        return filters

    def _mine(self, item: dict[str, Any], part: str | None) -> bool:
        """Checked here too: the emulator ignores tag filters on some calls (NAT gateways),
        and deleting another tenant's gateway must never follow from that."""
        tags = {t.get("Key"): t.get("Value") for t in item.get("Tags") or []}
        if tags.get("panka:tenant") != self.tenant or TAG_PART not in tags:
            return False
        return part is None or tags[TAG_PART] == part

    def _find(self, operation: str, key: str, part: str, *extra: dict[str, Any]) -> dict | None:
        found = self.ctx.call("ec2", operation, Filters=[*self._ours(part), *extra])[key]
        return next((item for item in found if self._mine(item, part)), None)

    def _all(self, operation: str, key: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.ctx.call("ec2", operation, Filters=[*self._ours(), *extra])[key]
        return [item for item in found if self._mine(item, None)]

    def _gone_ok(self, operation: str, **kwargs: Any) -> bool:
        """A delete-like call; False (not an error) when the resource is already gone."""
        try:
            self.ctx.call("ec2", operation, **kwargs)
            return True
        except ProvisionError as exc:
            if exc.code in GONE:
                return False
            raise

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.wait_timeout
        while not done():
            if time.monotonic() > deadline:
                raise ProvisionError(f"gave up waiting for {what} after {self.wait_timeout:.0f}s")
            time.sleep(self.poll_seconds)

    # --- create ------------------------------------------------------------------------

    def ensure(self, spec: NetworkSpec) -> dict[str, Any]:
        """Make whatever part of the network is missing; returns the record of its ids."""
        spec = spec.checked()
        zones = self._zones(spec.az_count)
        self.record = {
            "region": self.ctx.aws.region,
            "cidr": spec.cidr,
            "az_count": spec.az_count,
            "nat_mode": spec.nat_mode,
            "availability_zones": zones,
        }
        vpc_id = self._ensure_vpc(spec.cidr)
        public = [
            self._ensure_subnet(vpc_id, f"public-{i}", cidr, zone)
            for i, (cidr, zone) in enumerate(zip(spec.public_subnets, zones, strict=True))
        ]
        self.record["public_subnets"] = public
        private = [
            self._ensure_subnet(vpc_id, f"private-{i}", cidr, zone)
            for i, (cidr, zone) in enumerate(zip(spec.private_subnets, zones, strict=True))
        ]
        self.record["private_subnets"] = private
        igw = self._ensure_igw(vpc_id)
        nat_count = {"single": 1, "per-zone": len(zones), "none": 0}[spec.nat_mode]
        nats = [self._ensure_nat(i, public[i]) for i in range(nat_count)]
        self.record["nat_gateways"] = nats
        public_rt = self._ensure_route_table(vpc_id, "rt-public", gateway=("GatewayId", igw))
        for subnet in public:
            self._ensure_association(public_rt, subnet["id"])
        private_rts = []
        for i, subnet in enumerate(private):
            nat = nats[i if spec.nat_mode == "per-zone" else 0] if nats else None
            target = ("NatGatewayId", nat["id"]) if nat else None
            rt = self._ensure_route_table(vpc_id, f"rt-private-{i}", gateway=target)
            self._ensure_association(rt, subnet["id"])
            private_rts.append(rt)
        self.record["route_tables"] = {"public": public_rt, "private": private_rts}
        self.record["security_group_id"] = self._ensure_security_group(vpc_id, spec.cidr)
        return dict(self.record)

    def _zones(self, count: int) -> list[str]:
        zones = self.ctx.call(
            "ec2",
            "describe_availability_zones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )["AvailabilityZones"]
        names = sorted(
            z["ZoneName"]
            for z in zones
            if z.get("ZoneType", "availability-zone") == "availability-zone"
        )
        if len(names) < count:
            raise ProvisionError(
                f"{self.ctx.aws.region} has {len(names)} available zone(s); {count} requested"
            )
        return names[:count]

    def _ensure_vpc(self, cidr: str) -> str:
        vpc = self._find("describe_vpcs", "Vpcs", "vpc")
        if vpc is not None:
            if vpc["CidrBlock"] != cidr:
                raise ProvisionError(
                    f"the tenant already has VPC {vpc['VpcId']} with CIDR {vpc['CidrBlock']}, "
                    f"not {cidr}; delete the network first"
                )
            self.ctx.log(f"VPC {vpc['VpcId']} ({cidr}) already exists: adopted")
            vpc_id = vpc["VpcId"]
        else:
            vpc_id = self.ctx.call(
                "ec2", "create_vpc", CidrBlock=cidr, TagSpecifications=self._spec("vpc", "vpc")
            )["Vpc"]["VpcId"]
            self.ctx.log(f"created VPC {vpc_id} ({cidr})")
        self.record["vpc_id"] = vpc_id
        # ECS tasks, RDS and ElastiCache endpoints resolve by DNS inside the VPC.
        for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
            self.ctx.call(
                "ec2", "modify_vpc_attribute", VpcId=vpc_id, **{attribute: {"Value": True}}
            )
        return vpc_id

    def _ensure_subnet(self, vpc_id: str, part: str, cidr: str, zone: str) -> dict[str, str]:
        subnet = self._find(
            "describe_subnets", "Subnets", part, {"Name": "vpc-id", "Values": [vpc_id]}
        )
        if subnet is not None:
            if subnet["CidrBlock"] != cidr:
                raise ProvisionError(
                    f"subnet {subnet['SubnetId']} ({part}) has CIDR {subnet['CidrBlock']}, not "
                    f"{cidr}; delete the network first"
                )
            self.ctx.log(f"subnet {subnet['SubnetId']} ({part}) already exists: adopted")
        else:
            subnet = self.ctx.call(
                "ec2",
                "create_subnet",
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=self._spec("subnet", part),
            )["Subnet"]
            self.ctx.log(f"created subnet {subnet['SubnetId']} ({part}, {cidr}, {zone})")
        return {
            "id": subnet["SubnetId"],
            "cidr": subnet["CidrBlock"],
            "az": subnet["AvailabilityZone"],
        }

    def _ensure_igw(self, vpc_id: str) -> str:
        igw = self._find("describe_internet_gateways", "InternetGateways", "igw")
        if igw is None:
            igw = self.ctx.call(
                "ec2",
                "create_internet_gateway",
                TagSpecifications=self._spec("internet-gateway", "igw"),
            )["InternetGateway"]
            self.ctx.log(f"created internet gateway {igw['InternetGatewayId']}")
        igw_id = igw["InternetGatewayId"]
        self.record["internet_gateway_id"] = igw_id
        attached = [a["VpcId"] for a in igw.get("Attachments") or []]
        if vpc_id not in attached:
            if attached:
                raise ProvisionError(f"internet gateway {igw_id} is attached to {attached[0]}")
            self.ctx.call("ec2", "attach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id)
            self.ctx.log(f"attached {igw_id} to {vpc_id}")
        return igw_id

    def _ensure_nat(self, index: int, subnet: dict[str, str]) -> dict[str, str]:
        part = f"nat-{index}"
        eip = self._find("describe_addresses", "Addresses", f"eip-{index}")
        if eip is None:
            eip = self.ctx.call(
                "ec2",
                "allocate_address",
                Domain="vpc",
                TagSpecifications=self._spec("elastic-ip", f"eip-{index}"),
            )
            self.ctx.log(f"allocated Elastic IP {eip['AllocationId']} ({eip.get('PublicIp', '')})")
        nat = self._find(
            "describe_nat_gateways", "NatGateways", part, {"Name": "state", "Values": _LIVE_NAT}
        )
        if nat is None:
            nat = self.ctx.call(
                "ec2",
                "create_nat_gateway",
                SubnetId=subnet["id"],
                AllocationId=eip["AllocationId"],
                TagSpecifications=self._spec("natgateway", part),
            )["NatGateway"]
            self.ctx.log(f"created NAT gateway {nat['NatGatewayId']} in {subnet['id']}")
        else:
            self.ctx.log(f"NAT gateway {nat['NatGatewayId']} already exists: adopted")
        nat_id = nat["NatGatewayId"]
        self._wait(f"NAT gateway {nat_id}", lambda: self._nat_state(nat_id) == "available")
        return {
            "id": nat_id,
            "allocation_id": eip["AllocationId"],
            "public_ip": eip.get("PublicIp", ""),
            "subnet_id": subnet["id"],
            "az": subnet["az"],
        }

    def _nat_state(self, nat_id: str) -> str:
        found = self.ctx.call("ec2", "describe_nat_gateways", NatGatewayIds=[nat_id])["NatGateways"]
        state = found[0]["State"] if found else "deleted"
        if state == "failed":
            message = found[0].get("FailureMessage") or "no reason given"
            raise ProvisionError(f"NAT gateway {nat_id} failed: {message}")
        return state

    def _ensure_route_table(
        self, vpc_id: str, part: str, *, gateway: tuple[str, str] | None
    ) -> str:
        table = self._find(
            "describe_route_tables", "RouteTables", part, {"Name": "vpc-id", "Values": [vpc_id]}
        )
        if table is None:
            table = self.ctx.call(
                "ec2",
                "create_route_table",
                VpcId=vpc_id,
                TagSpecifications=self._spec("route-table", part),
            )["RouteTable"]
            self.ctx.log(f"created route table {table['RouteTableId']} ({part})")
        table_id = table["RouteTableId"]
        if gateway is not None:
            key, target = gateway
            current = next(
                (r for r in table.get("Routes") or [] if r.get("DestinationCidrBlock") == ANYWHERE),
                None,
            )
            if current is None:
                self.ctx.call(
                    "ec2", "create_route", RouteTableId=table_id, DestinationCidrBlock=ANYWHERE,
                    **{key: target},
                )  # fmt: skip
                self.ctx.log(f"route {ANYWHERE} → {target} in {table_id}")
            elif current.get(key) != target:
                self.ctx.call(
                    "ec2", "replace_route", RouteTableId=table_id, DestinationCidrBlock=ANYWHERE,
                    **{key: target},
                )  # fmt: skip
                self.ctx.log(f"route {ANYWHERE} in {table_id} now → {target}")
        return table_id

    def _ensure_association(self, table_id: str, subnet_id: str) -> None:
        """The subnet uses ``table_id``: associate it, or move it from another table."""
        tables = self.ctx.call(
            "ec2",
            "describe_route_tables",
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}],
        )["RouteTables"]
        for table in tables:
            for association in table.get("Associations") or []:
                if association.get("SubnetId") != subnet_id:
                    continue
                if table["RouteTableId"] == table_id:
                    return
                self.ctx.call(
                    "ec2",
                    "replace_route_table_association",
                    AssociationId=association["RouteTableAssociationId"],
                    RouteTableId=table_id,
                )
                return
        self.ctx.call("ec2", "associate_route_table", RouteTableId=table_id, SubnetId=subnet_id)

    def _ensure_security_group(self, vpc_id: str, cidr: str) -> str:
        name = f"panka-{self.tenant}-default"
        group = self._find(
            "describe_security_groups",
            "SecurityGroups",
            "sg",
            {"Name": "vpc-id", "Values": [vpc_id]},
        )
        if group is None:
            group_id = self.ctx.call(
                "ec2",
                "create_security_group",
                GroupName=name,
                Description=f"Panka: all traffic from inside the VPC of tenant {self.tenant}",
                VpcId=vpc_id,
                TagSpecifications=self._spec("security-group", "sg"),
            )["GroupId"]
            self.ctx.log(f"created security group {group_id} ({name})")
            rules: list[dict[str, Any]] = []
        else:
            group_id = group["GroupId"]
            rules = group.get("IpPermissions") or []
        has_rule = any(
            r.get("IpProtocol") == "-1"
            and any(x.get("CidrIp") == cidr for x in r.get("IpRanges") or [])
            for r in rules
        )
        if not has_rule:
            try:
                self.ctx.call(
                    "ec2",
                    "authorize_security_group_ingress",
                    GroupId=group_id,
                    IpPermissions=[
                        {
                            "IpProtocol": "-1",
                            "IpRanges": [{"CidrIp": cidr, "Description": "inside the VPC"}],
                        }
                    ],
                )
                self.ctx.log(f"{group_id}: all traffic from {cidr} allowed")
            except ProvisionError as exc:
                if exc.code != "InvalidPermission.Duplicate":
                    raise
        return group_id

    # --- delete ------------------------------------------------------------------------

    def delete(self, vpc_ids: Iterable[str] = ()) -> None:
        """Remove everything tagged as this tenant's network, in dependency order.

        ``vpc_ids`` (from the record) are searched too, for route tables and subnets
        whose tags someone removed; the VPC itself is only deleted when it is ours.
        """
        vpcs = {v["VpcId"] for v in self._all("describe_vpcs", "Vpcs")}
        in_vpcs = {"Name": "vpc-id", "Values": sorted(vpcs | set(vpc_ids))}
        # 1. NAT gateways, then their Elastic IPs (an address in use cannot be released).
        nats = self._all(
            "describe_nat_gateways", "NatGateways", {"Name": "state", "Values": _LIVE_NAT}
        )
        for nat in nats:
            if self._gone_ok("delete_nat_gateway", NatGatewayId=nat["NatGatewayId"]):
                self.ctx.log(f"deleting NAT gateway {nat['NatGatewayId']}")
        for nat in nats:
            nat_id = nat["NatGatewayId"]
            self._wait(
                f"NAT gateway {nat_id} to be deleted",
                lambda n=nat_id: self._nat_state(n) == "deleted",
            )
        for address in self._all("describe_addresses", "Addresses"):
            if self._gone_ok("release_address", AllocationId=address["AllocationId"]):
                self.ctx.log(f"released Elastic IP {address['AllocationId']}")
        if in_vpcs["Values"]:
            # 2. Route tables (their associations first; the VPC's main table goes with it).
            for table in self.ctx.call("ec2", "describe_route_tables", Filters=[in_vpcs])[
                "RouteTables"
            ]:
                if any(a.get("Main") for a in table.get("Associations") or []):
                    continue
                for association in table.get("Associations") or []:
                    self._gone_ok(
                        "disassociate_route_table",
                        AssociationId=association["RouteTableAssociationId"],
                    )
                if self._gone_ok("delete_route_table", RouteTableId=table["RouteTableId"]):
                    self.ctx.log(f"deleted route table {table['RouteTableId']}")
        # 3. The security group (fails, with AWS's reason, while something still uses it).
        for group in self._all("describe_security_groups", "SecurityGroups"):
            if self._gone_ok("delete_security_group", GroupId=group["GroupId"]):
                self.ctx.log(f"deleted security group {group['GroupId']}")
        # 4. The internet gateway: detached, then deleted.
        for igw in self._all("describe_internet_gateways", "InternetGateways"):
            igw_id = igw["InternetGatewayId"]
            for attachment in igw.get("Attachments") or []:
                self._gone_ok(
                    "detach_internet_gateway", InternetGatewayId=igw_id, VpcId=attachment["VpcId"]
                )
            if self._gone_ok("delete_internet_gateway", InternetGatewayId=igw_id):
                self.ctx.log(f"deleted internet gateway {igw_id}")
        # 5. Subnets, then the VPC.
        if in_vpcs["Values"]:
            for subnet in self._all("describe_subnets", "Subnets", in_vpcs):
                if self._gone_ok("delete_subnet", SubnetId=subnet["SubnetId"]):
                    self.ctx.log(f"deleted subnet {subnet['SubnetId']}")
        for vpc_id in sorted(vpcs):
            if self._gone_ok("delete_vpc", VpcId=vpc_id):
                self.ctx.log(f"deleted VPC {vpc_id}")

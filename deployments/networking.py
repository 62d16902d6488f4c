"""Tenant networking workflows: queue a create or delete, and where a stack's resources go.

A platform admin asks; a worker (``deployments.network_tasks``) does it under the lock
``tenant:<slug>:networking``. The network's ids are kept on the tenant
(``Tenant.network``) with a ``status``:

- ``creating`` / ``deleting`` from the moment a run is queued: stacks of the tenant
  refuse to apply meanwhile, so nothing lands in the default VPC just before the
  tenant's own network appears, or in a network being torn down;
- ``ready``: stacks deploy into its private subnets behind its security group;
- ``failed``: a run failed part-way; the ids found so far are kept, stacks refuse to
  apply, and the platform admin re-runs the create (which adopts what exists) or deletes;
- no record at all (``{}``): stacks use the account's default VPC (kinds.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max

from tenants import audit
from tenants.models import Tenant

from .aws.errors import AwsError
from .aws.provisioners.base import Network
from .aws.state import StateStore
from .aws.tenant_network import NetworkSpec, NetworkSpecError, network_from_record
from .models import Deployment, NetworkRun
from .queue import enqueue
from .runtime import aws_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

TASK = "deployments.network_tasks.network_run"
# Runs that hold (or wait for) their stack+environment: a network must not vanish under them.
_BUSY = ("queued", "planning", "planned", "awaiting_approval", "apply_queued", "applying")


class NetworkRefused(Exception):
    """A networking request that cannot be done now; the message is shown as it is."""


class NetworkUnavailable(Exception):
    """The tenant has a network, but a stack cannot use it now (being built, failed...)."""


def lock_key(tenant: Tenant) -> str:
    return f"tenant:{tenant.slug}:networking"


def stacks_using_network(tenant: Tenant) -> list[str]:
    """Why the network cannot be deleted now, one line per stack+environment: a run that
    is active or waiting, or a state that still records resources (they may run in the
    private subnets). Empty when nothing uses it. A state that cannot be read counts as
    in use: deleting a network under unknown resources is not a risk worth taking."""
    reasons = []
    busy = (
        Deployment.objects.filter(stack__tenant=tenant, status__in=_BUSY)
        .exclude(kind=Deployment.Kind.PLAN, status="planned")
        .select_related("stack")
        .order_by("stack__name", "environment", "number")
    )
    for run in busy:
        reasons.append(
            f"{run.stack.name}/{run.environment}: run #{run.number} is "
            f"{run.get_status_display().lower()}"
        )
    store = StateStore(aws_settings())
    for stack in tenant.stacks.order_by("name"):
        for environment in tenant.environments or []:
            try:
                loaded = store.load(tenant.slug, stack.name, environment)
            except AwsError as exc:
                reasons.append(f"{stack.name}/{environment}: its state cannot be read ({exc})")
                continue
            count = len((loaded.state.get("resources") or {}) if loaded else {})
            if count:
                reasons.append(
                    f"{stack.name}/{environment}: {count} deployed resource(s); destroy it first"
                )
    return reasons


def stack_network(tenant: Tenant, region: str | None) -> Network | None:
    """Where the tenant's stacks put VPC-attached resources; None = the default VPC.

    Raises NetworkUnavailable when the tenant has a network a stack cannot use now.
    """
    record = tenant.network or {}
    if not record:
        return None
    status = record.get("status", "")
    if status != "ready":
        raise NetworkUnavailable(
            f"tenant {tenant.slug}'s network is {status or 'incomplete'}; stacks deploy "
            "again once it is ready (or deleted)"
        )
    if region and region != record.get("region"):
        raise NetworkUnavailable(
            f"tenant {tenant.slug}'s network is in {record.get('region')}, but this stack "
            f"deploys to {region}"
        )
    return network_from_record(record)


def network_placement(tenant: Tenant) -> str:
    """Where ``tenant``'s stacks put VPC-attached components, in the words a plan records
    (TenantPolicy.placement): an apply refuses a plan made for another placement."""
    record = tenant.network or {}
    if not record:
        return "the account's default VPC"
    vpc = record.get("vpc_id") or "(no VPC yet)"
    return f"the tenant's network {vpc} ({record.get('status') or 'incomplete'})"


def context_options(tenant: Tenant, region: str | None) -> dict[str, Any]:
    """The provisioner Context options for a stack of ``tenant`` in ``region``."""
    network = stack_network(tenant, region)
    return {"network": network} if network is not None else {}


def _next_number(tenant: Tenant) -> int:
    return (tenant.network_runs.aggregate(n=Max("number"))["n"] or 0) + 1


def queue_network_run(
    *,
    tenant: Tenant,
    action: str,
    actor: AbstractBaseUser,
    spec: NetworkSpec | None = None,
    request: HttpRequest | None = None,
) -> NetworkRun:
    """Queue a create (``spec`` required) or delete of ``tenant``'s network."""
    if action not in NetworkRun.Action.values:
        raise NetworkRefused(f"unknown networking action {action!r}")
    if action == NetworkRun.Action.CREATE:
        if spec is None:
            raise NetworkRefused("a network needs a CIDR")
        try:
            spec = spec.checked()
        except NetworkSpecError as exc:
            raise NetworkRefused(str(exc)) from None
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        active = tenant.network_runs.filter(status__in=NetworkRun.ACTIVE).first()
        if active is not None:
            raise NetworkRefused(
                f"networking run #{active.number} ({active.action}) is "
                f"{active.get_status_display().lower()}; wait for it to finish"
            )
        record = dict(tenant.network or {})
        if action == NetworkRun.Action.CREATE:
            if record.get("status") == "ready":
                raise NetworkRefused(
                    f"{tenant.slug} already has a network ({record.get('vpc_id')}); delete it first"
                )
            record.update(status="creating")
        else:
            if not record:
                raise NetworkRefused(f"{tenant.slug} has no network of its own to delete")
            users = stacks_using_network(tenant)
            if users:
                raise NetworkRefused(
                    "the network is still in use, so it was not deleted: " + "; ".join(users)
                )
            record.update(status="deleting")
        run = NetworkRun.objects.create(
            tenant=tenant,
            number=_next_number(tenant),
            action=action,
            spec=spec.as_dict() if spec is not None else {},
            requested_by=actor,
        )
        tenant.network = record
        tenant.save(update_fields=["network"])
        audit.record(
            action=f"network.{action}_requested",
            actor=actor,
            tenant=tenant,
            target=f"network:{tenant.slug}#{run.number}",
            details={"run": str(run.uid), **run.spec},
            request=request,
        )
        enqueue(TASK, run.pk)
    return run

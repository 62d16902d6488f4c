"""Every tenancy decision, in one reviewable place.

Views and tasks fetch tenant data only through these functions. A user with no
membership in a tenant gets ``Http404`` — exactly what a tenant that does not exist
gives, so nobody can probe for names — and a member whose role is too low gets
``PermissionDenied`` (403). Platform admins (Django superusers) act as tenant admins
everywhere.

A suspended tenant keeps every reading right and loses every changing one: whatever
needs ``Right.DEPLOY`` or ``Right.ADMIN`` is refused here with ``TenantSuspended`` (a
403 that says why), for every role including platform admins. Mutating views need no
check of their own; the few that may act on a suspended tenant say so with
``allow_suspended=True`` (cancelling a run, which only stops work; live validation,
which then does not autosave).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, wraps
from typing import TYPE_CHECKING

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Role, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from deployments.models import Deployment, Stack

    User = AbstractBaseUser | AnonymousUser


class Right:
    """What a request needs. Roles are not a ladder (an auditor may read the audit log but
    change nothing), so each right lists the roles that have it."""

    READ = frozenset({Role.VIEWER, Role.DEPLOYER, Role.ADMIN, Role.AUDITOR})
    DEPLOY = frozenset({Role.DEPLOYER, Role.ADMIN})
    ADMIN = frozenset({Role.ADMIN})
    AUDIT = frozenset({Role.ADMIN, Role.AUDITOR})


# The rights that change things. AUDIT shares the admin role but only reads.
CHANGING_RIGHTS = (Right.DEPLOY, Right.ADMIN)


class TenantSuspended(PermissionDenied):
    """A change asked of a suspended tenant; the message is shown on the 403 page."""


@dataclass(frozen=True, slots=True)
class TenantAccess:
    """A tenant as seen by one user: the role decides what the pages offer."""

    tenant: Tenant
    role: Role

    def can(self, right: frozenset[Role]) -> bool:
        return self.role in right

    # What the pages offer to change: the role, on a tenant that is not suspended (the
    # views refuse the same changes in get_tenant_for_user).
    @property
    def can_deploy(self) -> bool:
        return self.can(Right.DEPLOY) and self.tenant.is_active

    @property
    def can_admin(self) -> bool:
        return self.can(Right.ADMIN) and self.tenant.is_active

    @property
    def can_audit(self) -> bool:
        return self.can(Right.AUDIT)


def tenants_for_user(user: User) -> QuerySet[Tenant]:
    """The tenants a user may open, for navigation."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    # What navigation shows: every page renders this list, and a tenant's JSON settings
    # (five fields) would be decoded for each row otherwise.
    tenants = Tenant.objects.only("slug", "display_name")
    if user.is_superuser:
        return tenants
    return tenants.filter(memberships__user=user).distinct()


def platform_admin_required(view):
    """Platform pages: Django's staff gate (anyone else goes to the admin login), then
    superusers only; staff without it get a 404, as for a page that does not exist."""

    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise Http404
        return view(request, *args, **kwargs)

    return staff_member_required(check)


def get_tenant_for_platform_admin(user: User, slug: str) -> Tenant:
    """Any tenant, for the platform pages (behind ``platform_admin_required``): a
    platform admin manages tenants without being a member. 404 for anyone else."""
    if not user.is_authenticated or not user.is_superuser:
        raise Http404
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise Http404
    return tenant


def get_tenant_for_user(
    user: User,
    slug: str,
    *,
    need: frozenset[Role] = Right.READ,
    allow_suspended: bool = False,
) -> TenantAccess:
    """The tenant ``slug`` with the user's role; 404 for outsiders, 403 for too low a role,
    403 for a change to a suspended tenant (unless ``allow_suspended``)."""
    if not user.is_authenticated:
        raise Http404
    tenant = _tenant_with_role(slug, user)
    if tenant is None:
        raise Http404
    if user.is_superuser:
        access = TenantAccess(tenant, Role.ADMIN)
    elif tenant.member_role is None:
        raise Http404
    else:
        access = TenantAccess(tenant, Role(tenant.member_role))
    if not access.can(need):
        raise PermissionDenied(f"This needs the {_describe(need)} role in {tenant.slug}.")
    if need in CHANGING_RIGHTS and not tenant.is_active and not allow_suspended:
        raise TenantSuspended(suspended_message(tenant))
    return access


@cache  # per database vendor (the argument), whose quoting the statement uses
def _tenant_with_role_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    member = Membership._meta
    return (
        f"SELECT t.*, m.{q(member.get_field('role').column)} AS member_role"
        f" FROM {q(Tenant._meta.db_table)} t LEFT JOIN {q(member.db_table)} m"
        f" ON m.{q(member.get_field('tenant').column)} = t.{q(Tenant._meta.pk.column)}"
        f" AND m.{q(member.get_field('user').column)} = %s"
        f" WHERE t.{q(Tenant._meta.get_field('slug').column)} = %s"
    )


@cache  # per database vendor, as above
def _stack_sql(vendor: str) -> str:
    from deployments.models import Stack

    q, meta = connection.ops.quote_name, Stack._meta
    return (
        f"SELECT * FROM {q(meta.db_table)} WHERE {q(meta.get_field('tenant').column)} = %s"
        f" AND {q(meta.get_field('name').column)} = %s"
    )


def _tenant_with_role(slug: str, user: User) -> Tenant | None:
    """The tenant ``slug`` with the user's role in it as ``member_role`` (None when not a
    member), in one query. Every tenant page asks this first, and composing it with the
    ORM took longer than running it (about 1.4 ms of a 12 ms page on our 2-core machines,
    ``make bench-pages``): hence one plain statement, built once per database vendor."""
    sql = _tenant_with_role_sql(connection.vendor)
    return next(iter(Tenant.objects.raw(sql, [user.pk, slug])), None)


def suspended_message(tenant: Tenant) -> str:
    reason = tenant.suspension_reason
    return (
        f"{tenant.display_name} is suspended{': ' + reason if reason else ''}. Members can "
        "still read everything, but nothing can be changed, planned, applied or locked "
        "until a platform admin reactivates it."
    )


def get_stack_for_user(
    user: User,
    slug: str,
    stack_name: str,
    *,
    need: frozenset[Role] = Right.READ,
    allow_suspended: bool = False,
) -> tuple[TenantAccess, Stack]:
    """A stack of a tenant the user may open with ``need``; 404 when absent or hidden."""
    from deployments.models import Stack

    access = get_tenant_for_user(user, slug, need=need, allow_suspended=allow_suspended)
    # A plain statement for the same reason as _tenant_with_role: every stack page asks.
    sql = _stack_sql(connection.vendor)
    stack = next(iter(Stack.objects.raw(sql, [access.tenant.pk, stack_name])), None)
    if stack is None:
        raise Http404
    stack.tenant = access.tenant  # already loaded: saves a query on every stack page
    return access, stack


def _describe(need: frozenset[Role]) -> str:
    return " or ".join(sorted(role.label.lower() for role in need))


def get_run_for_user(
    user: User,
    slug: str,
    uid: str,
    *,
    need: frozenset[Role] = Right.READ,
    allow_suspended: bool = False,
) -> tuple[TenantAccess, Deployment]:
    """A run (deployment) of a tenant the user may open with ``need``; 404 when hidden."""
    from django.core.exceptions import ValidationError

    from deployments.models import Deployment

    access = get_tenant_for_user(user, slug, need=need, allow_suspended=allow_suspended)
    try:
        run = (
            Deployment.objects.select_related("stack", "revision", "requested_by")
            .filter(stack__tenant=access.tenant, uid=uid)
            .first()
        )
    except ValidationError:  # not a UUID
        run = None
    if run is None:
        raise Http404
    return access, run


def get_stack_environment_for_user(
    user: User, slug: str, stack_name: str, environment: str, *, need: frozenset[Role] = Right.READ
) -> tuple[TenantAccess, Stack]:
    """A stack and one of its tenant's environments; 404 for an environment it doesn't have."""
    access, stack = get_stack_for_user(user, slug, stack_name, need=need)
    if environment not in (access.tenant.environments or []):
        raise Http404
    return access, stack

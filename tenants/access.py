"""Every tenancy decision, in one reviewable place.

Views and tasks fetch tenant data only through these functions. A user with no
membership in a tenant gets ``Http404`` — exactly what a tenant that does not exist
gives, so nobody can probe for names — and a member whose role is too low gets
``PermissionDenied`` (403). Platform admins (Django superusers) act as tenant admins
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
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


@dataclass(frozen=True, slots=True)
class TenantAccess:
    """A tenant as seen by one user: the role decides what the pages offer."""

    tenant: Tenant
    role: Role

    def can(self, right: frozenset[Role]) -> bool:
        return self.role in right

    @property
    def can_deploy(self) -> bool:
        return self.can(Right.DEPLOY)

    @property
    def can_admin(self) -> bool:
        return self.can(Right.ADMIN)

    @property
    def can_audit(self) -> bool:
        return self.can(Right.AUDIT)


def tenants_for_user(user: User) -> QuerySet[Tenant]:
    """The tenants a user may open, for navigation."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(memberships__user=user).distinct()


def get_tenant_for_user(
    user: User, slug: str, *, need: frozenset[Role] = Right.READ
) -> TenantAccess:
    """The tenant ``slug`` with the user's role; 404 for outsiders, 403 for too low a role."""
    if not user.is_authenticated:
        raise Http404
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise Http404
    if user.is_superuser:
        access = TenantAccess(tenant, Role.ADMIN)
    else:
        role = (
            Membership.objects.filter(tenant=tenant, user=user)
            .values_list("role", flat=True)
            .first()
        )
        if role is None:
            raise Http404
        access = TenantAccess(tenant, Role(role))
    if not access.can(need):
        raise PermissionDenied(f"This needs the {_describe(need)} role in {tenant.slug}.")
    return access


def get_stack_for_user(
    user: User, slug: str, stack_name: str, *, need: frozenset[Role] = Right.READ
) -> tuple[TenantAccess, Stack]:
    """A stack of a tenant the user may open with ``need``; 404 when absent or hidden."""
    from deployments.models import Stack

    access = get_tenant_for_user(user, slug, need=need)
    stack = Stack.objects.filter(tenant=access.tenant, name=stack_name).first()
    if stack is None:
        raise Http404
    stack.tenant = access.tenant  # already loaded: saves a query on every stack page
    return access, stack


def _describe(need: frozenset[Role]) -> str:
    return " or ".join(sorted(role.label.lower() for role in need))


def get_run_for_user(
    user: User, slug: str, uid: str, *, need: frozenset[Role] = Right.READ
) -> tuple[TenantAccess, Deployment]:
    """A run (deployment) of a tenant the user may open with ``need``; 404 when hidden."""
    from django.core.exceptions import ValidationError

    from deployments.models import Deployment

    access = get_tenant_for_user(user, slug, need=need)
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

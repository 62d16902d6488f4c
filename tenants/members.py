"""Membership workflows of tenant admins: add, change role, remove, invite.

A tenant always keeps at least one admin: the last one can be neither removed nor
demoted, so nobody locks a team out of its own settings.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import audit
from .models import Invitation, Membership, Role, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

INVITATION_LIFETIME = timedelta(days=7)


class MemberError(Exception):
    """Shown to the admin as is; nothing changed."""


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise MemberError(f"{value!r} is not a role: choose {', '.join(Role.values)}") from None


def _lock_admins(tenant: Tenant) -> int:
    """Lock the tenant's admin rows and count them (two admins demoting each other at once
    must not leave none)."""
    return len(list(Membership.objects.select_for_update().filter(tenant=tenant, role=Role.ADMIN)))


def add_member(
    *,
    tenant: Tenant,
    who: str,
    role: str,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> Membership:
    role = _role(role)
    who = who.strip()
    user = (
        get_user_model().objects.filter(Q(username=who) | Q(email__iexact=who)).first()
        if who
        else None
    )
    if user is None:
        raise MemberError(f"no user {who!r}; send them an invitation link instead")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(tenant=tenant, user=user, role=role)
            audit.record(
                action="member.add", actor=actor, tenant=tenant, target=f"user:{user.get_username()}",
                details={"role": role.value}, request=request,
            )  # fmt: skip
    except IntegrityError:
        raise MemberError(f"{user.get_username()} is already a member") from None
    return membership


def change_role(
    *,
    membership: Membership,
    role: str,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> Membership:
    role = _role(role)
    with transaction.atomic():
        admins = _lock_admins(membership.tenant)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and role != Role.ADMIN and admins <= 1:
            raise MemberError(
                "the last admin of a tenant cannot be demoted; make someone else admin first"
            )
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            action="member.role", actor=actor, tenant=membership.tenant, target=f"user:{membership.user.get_username()}",
            details={"from": previous, "to": role.value}, request=request,
        )  # fmt: skip
    return membership


def remove_member(
    *, membership: Membership, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        admins = _lock_admins(membership.tenant)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and admins <= 1:
            raise MemberError("the last admin of a tenant cannot be removed")
        audit.record(
            action="member.remove", actor=actor, tenant=membership.tenant,
            target=f"user:{membership.user.get_username()}", details={"role": membership.role}, request=request,
        )  # fmt: skip
        membership.delete()


def invite(
    *, tenant: Tenant, role: str, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> str:
    """A new invitation; returns the token (shown once; only its hash is stored)."""
    role = _role(role)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            tenant=tenant, role=role, token_hash=Invitation.hash_token(token), created_by=actor,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )  # fmt: skip
        audit.record(
            action="member.invite", actor=actor, tenant=tenant, target=f"invitation:{invitation.pk}",
            details={"role": role.value, "expires_at": invitation.expires_at.isoformat()}, request=request,
        )  # fmt: skip
    return token


def open_invitation(token: str) -> Invitation | None:
    """The unused, unexpired invitation for ``token``, or None."""
    return (
        Invitation.objects.select_related("tenant")
        .filter(
            token_hash=Invitation.hash_token(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def accept(*, token: str, user: AbstractBaseUser, request: HttpRequest | None = None) -> Membership:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(
                token_hash=Invitation.hash_token(token),
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            raise MemberError(
                "this invitation link was already used or has expired; ask for a new one"
            )
        membership, created = Membership.objects.get_or_create(
            tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
        )
        invitation.used_at = timezone.now()
        invitation.used_by = user
        invitation.save(update_fields=["used_at", "used_by"])
        audit.record(
            action="member.join", actor=user, tenant=invitation.tenant, target=f"user:{user.get_username()}",
            details={"role": membership.role, "invitation": invitation.pk, "already_member": not created},
            request=request,
        )  # fmt: skip
    return membership

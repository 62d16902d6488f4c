"""Workflows on stacks and revisions. Each takes the acting user and writes the audit event
in the same transaction as the change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max

from tenants import audit
from tenants.models import Tenant

from .models import Stack, StackRevision, content_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


def create_stack(
    *,
    tenant: Tenant,
    name: str,
    actor: AbstractBaseUser | None,
    description: str = "",
    request: HttpRequest | None = None,
) -> Stack:
    with transaction.atomic():
        stack = Stack(tenant=tenant, name=name, description=description, created_by=actor)
        stack.full_clean()
        stack.save()
        audit.record(
            action="stack.create",
            actor=actor,
            tenant=tenant,
            target=f"stack:{name}",
            request=request,
        )
    return stack


def save_revision(
    *,
    stack: Stack,
    files: dict[str, str],
    actor: AbstractBaseUser | None,
    message: str = "",
    counts: tuple[int, int] = (0, 0),
    request: HttpRequest | None = None,
) -> tuple[StackRevision, bool]:
    """Store ``files`` as the stack's next revision; ``(revision, created)``.

    Saving the same content as the latest revision returns that revision unchanged, so a
    double click or a re-upload never makes a duplicate. ``counts`` is the validation
    summary (errors, warnings) computed by the caller from the format engine.
    """
    digest = content_hash(files)
    with transaction.atomic():
        # Lock the stack row: two saves at once get consecutive numbers, never the same.
        Stack.objects.select_for_update().filter(pk=stack.pk).first()
        latest = stack.revisions.order_by("-number").first()
        if latest is not None and latest.content_hash == digest:
            return latest, False
        number = (stack.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = StackRevision(
            stack=stack,
            number=number,
            files=files,
            message=message,
            author=actor,
            error_count=counts[0],
            warning_count=counts[1],
        )
        revision.save()
        audit.record(
            action="revision.create",
            actor=actor,
            tenant=stack.tenant,
            target=f"stack:{stack.name}",
            details={"revision": number, "content_hash": revision.content_hash, "message": message},
            request=request,
        )
    return revision, True

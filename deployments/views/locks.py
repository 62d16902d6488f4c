"""Locks: every lock of a tenant (and, for platform admins, of all), manual locks, force-unlock."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import (
    Right,
    get_stack_environment_for_user,
    get_tenant_for_user,
    platform_admin_required,
)

from .. import listing_cache, lock_ops
from ..aws.errors import AwsError
from ..aws.locks import LockManager, tenant_prefix
from ..rows import lock_rows, lock_runs
from ..runtime import aws_settings

PAGE_SIZE = 50


def _page(prefix: str, start: str | None, tenant=None) -> dict:
    """The template's rows, next_key, read_at and error for one page of locks."""
    manager = LockManager(aws_settings())

    def fetch():
        infos, next_key = manager.list_prefix(prefix, page_size=PAGE_SIZE, start_key=start)
        # The runs the locks name, kept with them: a run's number never changes, and the
        # scope is the prefix, which is the tenant's.
        return infos, next_key, lock_runs(infos, tenant)

    try:
        (infos, next_key, runs), read_at = listing_cache.read(
            listing_cache.lock_scope(manager.settings.lock_table, prefix), start or "", fetch
        )
    except (ValueError, AwsError) as exc:
        return {"error": f"The locks could not be read: {exc}"}
    return {"rows": lock_rows(infos, tenant, runs), "next_key": next_key, "read_at": read_at}


@login_required
@require_GET
def tenant_locks(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug)
    page = _page(tenant_prefix(access.tenant.slug), request.GET.get("after") or None, access.tenant)
    return render(
        request,
        "deployments/lock_list.html",
        {"access": access, "tenant": access.tenant, **page},
    )


@platform_admin_required
@require_GET
def platform_locks(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = _page("", request.GET.get("after") or None)
    return render(request, "deployments/lock_list.html", {"platform": True, **page})


def _lock_action(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str, *, need, do
) -> HttpResponse:
    """Access check, the lock operation (``do(stack) -> message``), a message, back to the
    environment's card: the shape every lock action shares."""
    access, stack = get_stack_environment_for_user(
        request.user, slug, stack_name, environment, need=need
    )
    try:
        messages.success(request, do(stack))
    except lock_ops.LockRefused as exc:
        messages.error(request, str(exc))
    return redirect(reverse("stack_detail", args=[slug, stack.name]) + f"#env-{environment}")


@login_required
@require_POST
def lock_environment(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    def do(stack) -> str:
        try:
            hours = int(request.POST.get("hours") or 8)
        except ValueError:
            raise lock_ops.LockRefused("hours must be a whole number") from None
        lock_ops.take_manual_lock(
            stack=stack, environment=environment, actor=request.user, reason=request.POST.get("reason", ""),
            hours=hours, request=request,
        )  # fmt: skip
        return f"{environment} is locked: no run of {stack.name} starts there until you release it."

    return _lock_action(request, slug, stack_name, environment, need=Right.DEPLOY, do=do)


@login_required
@require_POST
def unlock_environment(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    def do(stack) -> str:
        lock_ops.release_manual_lock(
            stack=stack, environment=environment, lock_id=request.POST.get("lock_id", ""), actor=request.user,
            request=request,
        )  # fmt: skip
        return f"{environment} is unlocked."

    return _lock_action(request, slug, stack_name, environment, need=Right.DEPLOY, do=do)


@login_required
@require_POST
def force_unlock(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    def do(stack) -> str:
        previous = lock_ops.force_unlock(
            stack=stack, environment=environment, lock_id=request.POST.get("lock_id", ""), actor=request.user,
            reason=request.POST.get("reason", ""), request=request,
        )  # fmt: skip
        return f"Removed the lock held by {previous.owner}."

    return _lock_action(request, slug, stack_name, environment, need=Right.ADMIN, do=do)

"""A tenant's stacks, and one stack's overview: its latest revision and, per environment,
its runs, lock and drift."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest
from panka_web.listing import page_of
from tenants.access import get_stack_for_user, get_tenant_for_user

from .. import lock_ops, runs
from ..aws.errors import AwsError
from ..aws.locks import LockManager, lock_key
from ..models import Deployment, DriftCheck
from ..rows import STACK_COLUMNS, stack_rows
from ..runtime import aws_settings

# A tenant may have up to its max_stacks (1,000 and more): the home page shows them a page
# at a time, so its cost does not grow with the tenant.
STACKS_PER_PAGE = 50


@login_required
@require_GET
def stack_detail(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    revision = stack.latest_revision()
    environments = []
    locks = LockManager(aws_settings())
    for environment in access.tenant.environments or []:
        try:
            lock = locks.get(lock_key(access.tenant.slug, stack.name, environment))
        except AwsError:
            lock = None  # the page still shows; /healthz says what is wrong with AWS
        recent = stack.deployments.filter(environment=environment).defer("plan").order_by("-number")
        environments.append(
            {
                "name": environment,
                "protected": runs.is_protected(access.tenant, environment),
                "latest": recent.first(),
                "active": runs.active_runs(stack, environment).first(),
                "queued": runs.queued_runs(stack, environment).count(),
                "last_success": recent.filter(status=Deployment.Status.SUCCEEDED).first(),
                "lock": lock,
                "drift": stack.drift_checks.filter(environment=environment).first(),
                "lock_manual": lock is not None and lock_ops.is_manual(lock),
                "lock_mine": lock is not None and lock.owner == lock_ops.owner_name(request.user),
                "lock_stale": lock is not None and lock_ops.is_stale(lock),
            }
        )
    return render(
        request,
        "deployments/stack_detail.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "revision": revision,
            "files": sorted(revision.files.items()) if revision else [],
            "environments": environments,
        },
    )


@login_required
@require_GET
def tenant_home(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug)
    newest_drift = DriftCheck.objects.filter(stack=OuterRef("pk")).order_by("-checked_at")
    stacks = access.tenant.stacks.order_by("name").annotate(
        drift_status=Subquery(newest_drift.values("status")[:1])
    )
    page = page_of(stacks, STACK_COLUMNS, request.GET.get("page"), STACKS_PER_PAGE)
    return render(
        request,
        "deployments/tenant_home.html",
        {
            "access": access,
            "tenant": access.tenant,
            "page": page,
            "rows": stack_rows(access.tenant, page.object_list),
        },
    )

"""The stack overview: its latest revision and, per environment, its runs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import get_stack_for_user

from .. import runs
from ..models import Deployment


@login_required
@require_GET
def stack_detail(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    revision = stack.latest_revision()
    environments = []
    for environment in access.tenant.environments or []:
        recent = stack.deployments.filter(environment=environment).defer("plan").order_by("-number")
        environments.append(
            {
                "name": environment,
                "protected": runs.is_protected(access.tenant, environment),
                "latest": recent.first(),
                "active": runs.active_runs(stack, environment).first(),
                "queued": runs.queued_runs(stack, environment).count(),
                "last_success": recent.filter(status=Deployment.Status.SUCCEEDED).first(),
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

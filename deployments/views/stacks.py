"""Stack pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import get_stack_for_user


@login_required
@require_GET
def stack_detail(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    """The stack's latest revision, read-only, one section per file."""
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    revision = stack.latest_revision()
    files = sorted(revision.files.items()) if revision else []
    return render(
        request,
        "deployments/stack_detail.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "revision": revision,
            "files": files,
        },
    )

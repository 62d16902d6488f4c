"""Tenant pages: the list of a user's tenants and a tenant's home."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest

from .access import tenants_for_user


@login_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Straight to the tenant when there is one; a list when there are several."""
    tenants = list(tenants_for_user(request.user)[:2])
    if len(tenants) == 1:
        return redirect("tenant_home", slug=tenants[0].slug)
    return render(request, "tenants/tenant_list.html", {"tenants": tenants_for_user(request.user)})

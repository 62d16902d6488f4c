"""Drift checks on demand, and the tenant's drift schedule."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from panka_web.http import AuthenticatedHttpRequest
from tenants import audit
from tenants.access import Right, get_stack_environment_for_user, get_tenant_for_user

from ..queue import enqueue


@login_required
@require_POST
def check_drift(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    access, stack = get_stack_environment_for_user(
        request.user, slug, stack_name, environment, need=Right.DEPLOY
    )
    enqueue("deployments.tasks.drift_check", stack.pk, environment, request.user.pk)
    messages.info(
        request, f"Drift check of {environment} queued; this page shows the result when it is done."
    )
    return redirect(reverse("stack_detail", args=[slug, stack.name]) + f"#env-{environment}")


@login_required
@require_POST
def drift_schedule(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug, need=Right.ADMIN)
    try:
        hours = int(request.POST.get("hours", ""))
        if not 0 <= hours <= 24 * 30:
            raise ValueError
    except ValueError:
        messages.error(
            request, "The drift interval is a whole number of hours from 0 (off) to 720."
        )
        return redirect("tenant_home", slug=slug)
    tenant = access.tenant
    previous = tenant.drift_interval_hours
    tenant.drift_interval_hours = hours
    tenant.save(update_fields=["drift_interval_hours"])
    audit.record(
        action="tenant.drift_schedule", actor=request.user, tenant=tenant, target=f"tenant:{tenant.slug}",
        details={"from_hours": previous, "to_hours": hours}, request=request,
    )  # fmt: skip
    messages.success(request, "Drift checks " + (f"run every {hours} h." if hours else "are off."))
    return redirect("tenant_home", slug=slug)

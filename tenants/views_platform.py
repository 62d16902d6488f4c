"""Platform admin pages: every tenant, a new tenant, a tenant's settings, suspend/reactivate.

Only Django superusers: ``platform_admin_required`` (the same gate as the platform-wide
lock list); the tenant comes from ``get_tenant_for_platform_admin`` (no membership
needed: a platform admin manages tenants they are not a member of).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from panka_web.http import AuthenticatedHttpRequest

from . import platform
from .access import get_tenant_for_platform_admin, platform_admin_required
from .forms import SuspendForm, TenantCreateForm, TenantSettingsForm
from .models import Tenant

PAGE_SIZE = 50


def _networking_url(tenant: Tenant) -> str:
    """The tenant networking page, when that feature is installed (a separate module)."""
    try:
        return reverse("tenant_networking", args=[tenant.slug])
    except NoReverseMatch:
        return ""


@platform_admin_required
@require_http_methods(["GET"])
def tenant_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(platform.tenants_with_counts(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tenants/platform/tenant_list.html", {"page": page})


@platform_admin_required
@require_http_methods(["GET", "POST"])
def tenant_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant = platform.create_tenant(
                    **form.cleaned_data, actor=request.user, request=request
                )
            except platform.PlatformError as exc:
                form.add_error("slug", str(exc))
            else:
                messages.success(request, f"Tenant {tenant.slug} created.")
                return redirect("platform_tenant_edit", slug=tenant.slug)
        status = 400
    return render(request, "tenants/platform/tenant_new.html", {"form": form}, status=status)


@platform_admin_required
@require_http_methods(["GET", "POST"])
def tenant_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    form = TenantSettingsForm.for_tenant(tenant, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = platform.update_tenant(
                    tenant=tenant, values=form.cleaned_data, actor=request.user, request=request
                )
            except platform.PlatformError as exc:
                form.add_error("environments", str(exc))
            else:
                if changed:
                    messages.success(request, f"Saved: {', '.join(changed)}.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("platform_tenant_edit", slug=slug)
        status = 400
    return render(
        request,
        "tenants/platform/tenant_edit.html",
        {
            "tenant": tenant,
            "form": form,
            "suspend_form": SuspendForm(),
            "networking_url": _networking_url(tenant),
        },
        status=status,
    )


@platform_admin_required
@require_POST
def tenant_suspend(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    form = SuspendForm(request.POST)
    try:
        if not form.is_valid():
            raise platform.PlatformError(
                "say why the tenant is suspended (up to 500 characters); its members will see it"
            )
        cancelled = platform.suspend(
            tenant=tenant, reason=form.cleaned_data["reason"], actor=request.user, request=request
        )
    except platform.PlatformError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{tenant.slug} is suspended"
            + (f"; cancelled {', '.join(cancelled)}." if cancelled else "; no run was waiting."),
        )
    return redirect("platform_tenant_edit", slug=slug)


@platform_admin_required
@require_POST
def tenant_reactivate(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    try:
        platform.reactivate(tenant=tenant, actor=request.user, request=request)
    except platform.PlatformError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{tenant.slug} is active again.")
    return redirect("platform_tenant_edit", slug=slug)

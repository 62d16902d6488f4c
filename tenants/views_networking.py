"""Platform admin pages for a tenant's own network: show it, create it, delete it, and
watch a networking run's live log.

Only Django superusers (``platform_admin_required``, the gate of every platform page);
the tenant is looked up by slug with no membership check, as on the other platform pages.
"""

from __future__ import annotations

import ipaddress

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from deployments import networking
from deployments.aws.errors import AwsError
from deployments.aws.tenant_network import (
    NAT_MODES,
    NetworkSpec,
    NetworkSpecError,
    default_subnets,
    network_context,
    parse_cidr,
)
from deployments.models import NetworkRun
from deployments.runtime import aws_settings
from panka_web.htmx import template_for
from panka_web.http import AuthenticatedHttpRequest

from .access import get_tenant_for_platform_admin, platform_admin_required
from .models import Tenant

TEMPLATE = "tenants/platform/networking.html"
RUN_TEMPLATE = "tenants/platform/networking_run.html"
RECENT_RUNS = 10


class NetworkForm(forms.Form):
    cidr = forms.CharField(
        label="VPC CIDR",
        max_length=18,
        help_text="IPv4, /16 to /24, inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.",
    )
    az_count = forms.TypedChoiceField(
        label="Availability zones",
        choices=[(2, "2"), (3, "3")],
        coerce=int,
        initial=2,
        help_text="The region's first available zones (describe_availability_zones).",
    )
    nat_mode = forms.ChoiceField(
        label="NAT",
        choices=[(m, m) for m in NAT_MODES],
        initial="single",
        help_text="single: one NAT gateway for every zone (cheaper); per-zone: one per zone "
        "(a zone's outage does not cut the others off); none: private subnets have no "
        "way out to the internet.",
    )
    public_subnets = forms.CharField(
        label="Public subnets",
        required=False,
        max_length=200,
        help_text="One CIDR per zone, comma separated. Empty: derived from the VPC CIDR.",
    )
    private_subnets = forms.CharField(
        label="Private subnets",
        required=False,
        max_length=200,
        help_text="One CIDR per zone, where the stacks run. Empty: derived from the VPC CIDR.",
    )

    def clean_cidr(self) -> str:
        try:
            return str(parse_cidr(self.cleaned_data["cidr"]))
        except NetworkSpecError as exc:
            raise forms.ValidationError(str(exc)) from None

    def spec(self, tenant: Tenant) -> NetworkSpec:
        data = self.cleaned_data
        return NetworkSpec(
            tenant=tenant.slug,
            cidr=data["cidr"],
            az_count=data["az_count"],
            nat_mode=data["nat_mode"],
            public_subnets=tuple(data["public_subnets"].replace(",", " ").split()),
            private_subnets=tuple(data["private_subnets"].replace(",", " ").split()),
        )

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.spec(Tenant(slug="-")).checked()
        except NetworkSpecError as exc:
            # Put the message next to the field it is about, when it names one.
            message = str(exc)
            field = next((f for f in ("public", "private") if f in message), None)
            self.add_error(f"{field}_subnets" if field else None, message)
        return data


def suggested_cidr() -> str:
    """A /16 in 10.0.0.0/8 that no other tenant's network uses, so VPCs can be peered."""
    used = [
        ipaddress.ip_network(n["cidr"])
        for n in Tenant.objects.exclude(network={}).values_list("network", flat=True)
        if isinstance(n, dict) and n.get("cidr")
    ]
    for second in range(256):
        candidate = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    return "10.0.0.0/16"


def _preview(cidr: str, az_count: int) -> dict[str, list[str]] | None:
    try:
        public, private = default_subnets(parse_cidr(cidr), az_count)
    except NetworkSpecError:
        return None
    return {"public": list(map(str, public)), "private": list(map(str, private))}


def _zones() -> tuple[list[str], str]:
    """The region's available zones, for the page; an AWS error is shown, not raised."""
    ctx = network_context(aws_settings(), "-")
    ctx.attempts = 1  # a page must not wait through retries for a hint
    try:
        found = ctx.call(
            "ec2",
            "describe_availability_zones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )["AvailabilityZones"]
    except AwsError as exc:
        return [], str(exc)
    return sorted(z["ZoneName"] for z in found), ""


def _page(request, tenant: Tenant, form: NetworkForm, *, status: int = 200) -> HttpResponse:
    runs = list(tenant.network_runs.select_related("requested_by")[:RECENT_RUNS])
    cidr = form["cidr"].value() or ""
    try:
        az_count = int(form["az_count"].value() or 2)
    except (TypeError, ValueError):
        az_count = 2
    zones, zones_error = _zones()
    context = {
        "tenant": tenant,
        "network": tenant.network or {},
        "form": form,
        "preview": _preview(str(cidr), az_count if az_count in (2, 3) else 2),
        "runs": runs,
        "active_run": next((r for r in runs if not r.is_finished), None),
        "zones": zones,
        "zones_error": zones_error,
    }
    return render(request, TEMPLATE, context, status=status)


@platform_admin_required
@require_GET
def tenant_networking(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    # "Preview" submits the form here by GET: the derived subnets for what was typed.
    initial = {"cidr": request.GET.get("cidr") or suggested_cidr()}
    for name in ("az_count", "nat_mode"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return _page(request, tenant, NetworkForm(initial=initial))


@platform_admin_required
@require_POST
def tenant_networking_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    form = NetworkForm(request.POST)
    if not form.is_valid():
        return _page(request, tenant, form, status=400)
    try:
        run = networking.queue_network_run(
            tenant=tenant,
            action=NetworkRun.Action.CREATE,
            actor=request.user,
            spec=form.spec(tenant),
            request=request,
        )
    except networking.NetworkRefused as exc:
        messages.error(request, str(exc))
        return redirect("tenant_networking", slug=tenant.slug)
    messages.success(
        request, f"Networking run #{run.number} queued: create {form.cleaned_data['cidr']}."
    )
    return redirect("tenant_networking_run", slug=tenant.slug, number=run.number)


@platform_admin_required
@require_POST
def tenant_networking_delete(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    if request.POST.get("confirm", "").strip() != tenant.slug:
        messages.error(request, f"Type the tenant's name ({tenant.slug}) to delete its network.")
        return redirect("tenant_networking", slug=tenant.slug)
    try:
        run = networking.queue_network_run(
            tenant=tenant, action=NetworkRun.Action.DELETE, actor=request.user, request=request
        )
    except networking.NetworkRefused as exc:
        messages.error(request, str(exc))
        return redirect("tenant_networking", slug=tenant.slug)
    messages.success(request, f"Networking run #{run.number} queued: delete the network.")
    return redirect("tenant_networking_run", slug=tenant.slug, number=run.number)


@platform_admin_required
@require_GET
@vary_on_headers("HX-Request")
def tenant_networking_run(
    request: AuthenticatedHttpRequest, slug: str, number: int
) -> HttpResponse:
    tenant = get_tenant_for_platform_admin(request.user, slug)
    if number >= 2**31:  # past any run number, and past what SQLite can compare
        raise Http404
    run = tenant.network_runs.select_related("requested_by").filter(number=number).first()
    if run is None:
        raise Http404
    context = {
        "tenant": tenant,
        "run": run,
        "logs": run.logs.all(),
        "network": tenant.network or {},
    }
    response = render(request, template_for(request, RUN_TEMPLATE, "run-live"), context)
    if request.htmx and run.is_finished:
        # The run is over: this answer is the last one the page polls for.
        response.status_code = HttpResponseStopPolling.status_code
    return response

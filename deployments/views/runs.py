"""Runs: queue a plan / deploy / destroy, watch it live, approve, apply, cancel."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from panka_web.htmx import template_for
from panka_web.http import AuthenticatedHttpRequest
from panka_web.listing import page_of_numbered, span
from tenants.access import Right, get_run_for_user, get_stack_for_user

from .. import pending_state, runs
from ..models import Deployment
from ..plan_view import plan_groups, plan_warnings
from ..rows import RUN_COLUMNS, run_rows
from ..state_view import masked_json

TEMPLATE = "deployments/run_detail.html"


def parse_variables(text: str) -> dict[str, str]:
    """``NAME=value`` per line; blank lines and ``#`` comments are skipped."""
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise runs.RunRefused(f"variable line {number} is not NAME=value: {line!r}")
        variables[name.strip()] = value.strip()
    return variables


@login_required
@require_POST
def queue_run(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    kind = request.POST.get("kind", Deployment.Kind.PLAN)
    environment = request.POST.get("environment", "")
    revision = stack.latest_revision()
    try:
        if revision is None:
            raise runs.RunRefused("the stack has no revision to deploy")
        if kind == Deployment.Kind.DESTROY and request.POST.get("confirm", "") != stack.name:
            raise runs.RunRefused(f"to destroy, type the stack name ({stack.name}) exactly")
        run = runs.queue_run(
            stack=stack,
            revision=revision,
            environment=environment,
            kind=kind,
            actor=request.user,
            variables=parse_variables(request.POST.get("variables", "")),
            request=request,
        )
    except runs.RunRefused as exc:
        messages.error(request, str(exc))
        return redirect("stack_detail", slug=slug, stack_name=stack.name)
    return redirect("run_detail", slug=slug, uid=run.uid)


def _context(access, run: Deployment, user) -> dict[str, object]:
    plan = run.plan or {}
    position, reason = (
        runs.queue_position(run) if run.status == Deployment.Status.QUEUED else (0, "")
    )
    protected = runs.is_protected(run.stack.tenant, run.environment)
    return {
        "access": access,
        "tenant": access.tenant,
        "stack": run.stack,
        "run": run,
        "duration": span(run.duration),
        "phases": [(name, span(took)) for name, took in run.phases()],
        "plan": plan,
        "groups": plan_groups(plan),
        "warnings": plan_warnings(plan),
        "logs": run.logs.all(),
        "position": position,
        "waiting": reason,
        "protected": protected,
        "approval": run.approvals.select_related("approver").first(),
        "valid_approval": runs.valid_approval(run) if protected else None,
        # Cancelling stays possible on a suspended tenant (it only stops work).
        "can_cancel": access.can(Right.DEPLOY) and not run.is_finished and not run.cancel_requested,
        # The state this run could not save (deployments.pending_state), secrets masked.
        "pending_json": masked_json(run.pending_state["state"]) if run.pending_state else "",
        "discarded_json": masked_json(run.discarded_state["state"]) if run.discarded_state else "",
        "discarded_at": datetime.fromisoformat(run.discarded_state["discarded_at"])
        if run.discarded_state
        else None,
        # The requester may not approve their own run (architecture.md, step 3).
        "can_approve": access.can_admin
        and run.status == Deployment.Status.AWAITING_APPROVAL
        and run.requested_by_id != user.pk,
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def run_detail(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    access, run = get_run_for_user(request.user, slug, uid)
    context = _context(access, run, request.user)
    response = render(request, template_for(request, TEMPLATE, "run-live"), context)
    if request.htmx and run.is_finished:
        # The run is over: this answer is the last one the page polls for.
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _action(
    request: AuthenticatedHttpRequest, slug: str, uid: str, *, need, do, allow_suspended=False
) -> HttpResponse:
    access, run = get_run_for_user(
        request.user, slug, uid, need=need, allow_suspended=allow_suspended
    )
    try:
        do(run=run, actor=request.user, request=request)
    except runs.RunRefused as exc:
        messages.error(request, str(exc))
    return redirect("run_detail", slug=slug, uid=run.uid)


@login_required
@require_POST
def apply_run(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    return _action(request, slug, uid, need=Right.DEPLOY, do=runs.confirm_apply)


@login_required
@require_POST
def approve_run(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    return _action(request, slug, uid, need=Right.ADMIN, do=runs.approve)


@login_required
@require_POST
def cancel_run(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    # Cancelling only stops work, so members may still do it on a suspended tenant.
    return _action(request, slug, uid, need=Right.DEPLOY, do=runs.cancel, allow_suspended=True)


@login_required
@require_POST
def save_state_again(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    """Write the state a failed apply kept (deployments.pending_state) as the next serial."""
    access, run = get_run_for_user(request.user, slug, uid, need=Right.DEPLOY)
    try:
        saved = pending_state.save_again(run=run, actor=request.user, request=request)
    except pending_state.PendingStateRefused as exc:
        messages.error(request, f"Not saved: {exc}")
    else:
        messages.success(
            request, f"The kept state is now the current state (serial {saved.serial})."
        )
    return redirect("run_detail", slug=slug, uid=run.uid)


@login_required
@require_POST
def discard_kept_state(request: AuthenticatedHttpRequest, slug: str, uid: str) -> HttpResponse:
    """Set aside the state a failed apply kept, once it can no longer be written (a tenant
    admin's call, with a reason: deployments.pending_state.discard)."""
    access, run = get_run_for_user(request.user, slug, uid, need=Right.ADMIN)
    try:
        done = pending_state.discard(
            run=run, actor=request.user, reason=request.POST.get("reason", ""), request=request
        )
    except pending_state.PendingStateRefused as exc:
        messages.error(request, f"Not discarded: {exc}")
    else:
        messages.success(request, done)
    return redirect("run_detail", slug=slug, uid=run.uid)


@login_required
@require_GET
def run_list(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    # Only the columns a row shows: a run's plan, logs and kept state can be large.
    page = page_of_numbered(stack.deployments.all(), RUN_COLUMNS, request.GET.get("page"), 50)
    return render(
        request,
        "deployments/run_list.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "page": page,
            "rows": run_rows(access.tenant, page.object_list),
        },
    )

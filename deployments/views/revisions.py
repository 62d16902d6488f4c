"""A stack's revisions: the list, one revision, a diff of any two, restore."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from panka_web.http import AuthenticatedHttpRequest
from panka_web.listing import page_of_numbered
from tenants.access import Right, get_stack_for_user

from .. import editing
from ..models import Stack, StackRevision
from ..rows import REVISION_COLUMNS, revision_rows
from ..textdiff import diff_files


def _revision(stack: Stack, number: object) -> StackRevision:
    try:
        wanted = int(str(number))
    except ValueError:
        raise Http404 from None
    revision = stack.revisions.filter(number=wanted).select_related("author").first()
    if revision is None:
        raise Http404
    return revision


@login_required
@require_GET
def revision_list(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    # Only the columns a row shows, not the files.
    page = page_of_numbered(stack.revisions.all(), REVISION_COLUMNS, request.GET.get("page"), 50)
    rows, restore_forms = revision_rows(
        access.tenant, stack.name, page.object_list,
        first_page=page.number == 1, restorable=access.can_deploy, csrf=get_token(request),
    )  # fmt: skip
    return render(
        request,
        "deployments/revision_list.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "page": page,
            "rows": rows,
            "restore_forms": restore_forms,
        },
    )


@login_required
@require_GET
def revision_detail(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, number: int
) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    revision = _revision(stack, number)
    return render(
        request,
        "deployments/revision_detail.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "revision": revision,
            "files": sorted(revision.files.items()),
        },
    )


@login_required
@require_GET
def revision_diff(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    """``?a=3&b=5&mode=unified|split``: what changed from revision a to revision b."""
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    old, new = _revision(stack, request.GET.get("a")), _revision(stack, request.GET.get("b"))
    mode = "split" if request.GET.get("mode") == "split" else "unified"
    diffs = diff_files(old.files, new.files)
    return render(
        request,
        "deployments/revision_diff.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "old": old,
            "new": new,
            "mode": mode,
            "diffs": [d for d in diffs if d.status != "unchanged"],
            "unchanged": [d.path for d in diffs if d.status == "unchanged"],
        },
    )


@login_required
@require_POST
def restore_revision(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, number: int
) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    revision = _revision(stack, number)
    new, created = editing.restore_revision(
        stack=stack, revision=revision, actor=request.user, request=request
    )
    if created:
        messages.success(
            request, f"Revision {new.number} restores the content of revision {revision.number}."
        )
    else:
        messages.info(
            request, f"The latest revision already has the content of revision {revision.number}."
        )
    return redirect("revision_list", slug=stack.tenant.slug, stack_name=stack.name)

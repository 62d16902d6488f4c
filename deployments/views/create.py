"""New stacks: from a starter template, or from uploaded YAML files or a zip."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import Right, get_stack_for_user, get_tenant_for_user

from .. import editing
from ..forms import NewStackForm
from ..services import create_stack, save_revision
from ..uploads import UploadRefused, checked_files, read_upload
from ..validation import summary_counts, validate_files


def _stack_files(
    request: AuthenticatedHttpRequest, tenant, name: str
) -> tuple[dict[str, str], tuple[int, int]]:
    """The files for a new revision: the upload when there is one, else the starter."""
    uploads = request.FILES.getlist("files")
    if uploads:
        raw = read_upload(uploads)
        result = validate_files(raw, tenant=tenant, stack_name=name)
        return checked_files(raw, result), summary_counts(result)
    files = {"stack.yaml": editing.NEW_STACK_TEMPLATE.format(name=name, tenant=tenant.slug)}
    return files, summary_counts(validate_files(files, tenant=tenant, stack_name=name))


@login_required
@require_http_methods(["GET", "POST"])
def new_stack(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug, need=Right.DEPLOY)
    form = NewStackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            files, counts = _stack_files(request, access.tenant, name)
            with transaction.atomic():
                stack = create_stack(
                    tenant=access.tenant,
                    name=name,
                    actor=request.user,
                    description=form.cleaned_data["description"],
                    request=request,
                )
                save_revision(
                    stack=stack,
                    files=files,
                    actor=request.user,
                    message="Uploaded" if request.FILES else "Created from the starter template",
                    counts=counts,
                    request=request,
                )
        except UploadRefused as exc:
            form.add_error("files", exc.messages)
            status = exc.status
        except (IntegrityError, ValidationError):
            form.add_error("name", "This tenant already has a stack with that name.")
            status = 400
        else:
            messages.success(request, f"Stack {name} created.")
            return redirect("stack_editor", slug=slug, stack_name=name)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "deployments/stack_new.html",
        {"access": access, "tenant": access.tenant, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload_revision(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    """Replace a stack's files with an upload, as its next revision."""
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    error, status = None, 200
    if request.method == "POST":
        try:
            raw = read_upload(request.FILES.getlist("files"))
            result = validate_files(raw, tenant=access.tenant, stack_name=stack.name)
            revision, created = save_revision(
                stack=stack,
                files=checked_files(raw, result),
                actor=request.user,
                message=request.POST.get("message", "").strip()[:500] or "Uploaded",
                counts=summary_counts(result),
                request=request,
            )
        except UploadRefused as exc:
            error, status = exc.messages, exc.status
        else:
            if created:
                messages.success(request, f"Uploaded as revision {revision.number}.")
            else:
                messages.info(request, f"The upload is identical to revision {revision.number}.")
            return redirect("revision_list", slug=slug, stack_name=stack.name)
    return render(
        request,
        "deployments/stack_upload.html",
        {"access": access, "tenant": access.tenant, "stack": stack, "errors": error},
        status=status,
    )

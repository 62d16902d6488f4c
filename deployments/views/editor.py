"""The stack editor: one file open at a time, live validation of the whole stack.

Deployers and admins edit a private draft (autosaved by every validation request);
viewers and auditors see the latest revision read-only, with its findings.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import Right, get_stack_for_user

from .. import editing
from ..models import Stack, StackDraft
from ..textdiff import diff_files
from ..validation import findings_by_file, validate_files

TEMPLATE = "deployments/stack_editor.html"


def _editor_url(stack: Stack, path: str | None = None) -> str:
    url = reverse("stack_editor", args=[stack.tenant.slug, stack.name])
    return f"{url}?file={path}" if path else url


def _pick_file(files: dict[str, str], wanted: str | None) -> str:
    if wanted in files:
        return wanted
    for preferred in ("stack.yaml", "stack.yml"):
        if preferred in files:
            return preferred
    return min(files) if files else ""


def _findings_context(files: dict[str, str], stack: Stack, open_path: str) -> dict[str, object]:
    result = validate_files(files, tenant=stack.tenant, stack_name=stack.name)
    findings = result.findings
    counts = findings_by_file(findings)
    errors = [f for f in findings if f.is_error]
    return {
        "errors": errors,
        "warnings": [f for f in findings if not f.is_error],
        "open_path": open_path,
        "open_findings": [f.as_dict() for f in findings if f.file == open_path],
        "tree": [(path, counts.get(path, {})) for path in sorted(files)],
    }


@login_required
@require_GET
def stack_editor(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    draft: StackDraft | None = None
    if access.can_deploy:  # never on a suspended tenant: its editor is read-only
        draft = editing.open_draft(stack=stack, user=request.user)
        files = draft.files
    else:
        latest = stack.latest_revision()
        files = dict(latest.files) if latest else {}
    open_path = _pick_file(files, request.GET.get("file"))
    context = {
        "access": access,
        "tenant": access.tenant,
        "stack": stack,
        "draft": draft,
        "open_path": open_path,
        "open_text": files.get(open_path, ""),
        "read_only": draft is None,
        "goto_line": request.GET.get("line", ""),
        "goto_column": request.GET.get("col", ""),
        "latest": stack.latest_revision(),
        **_findings_context(files, stack, open_path),
    }
    return render(request, TEMPLATE, context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def validate_draft(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    """Autosave the open file's text into the draft and answer the findings panel.

    On a suspended tenant it still validates, but saves nothing: the text is laid over
    the user's draft (or the latest revision) in memory only."""
    access, stack = get_stack_for_user(
        request.user, slug, stack_name, need=Right.DEPLOY, allow_suspended=True
    )
    path = request.POST.get("path", "")
    try:
        if access.tenant.is_active:
            draft = editing.open_draft(stack=stack, user=request.user)
            editing.update_file(draft=draft, path=path, text=request.POST.get("text", ""))
            files = draft.files
        else:
            files = editing.files_with(
                stack=stack, user=request.user, path=path, text=request.POST.get("text", "")
            )
    except editing.EditError as exc:
        return render(
            request,
            f"{TEMPLATE}#findings",
            {"edit_error": str(exc), "open_path": path},
            status=exc.status,
        )
    return render(
        request,
        f"{TEMPLATE}#findings",
        {"stack": stack, "oob": True, **_findings_context(files, stack, path)},
    )


def _file_action(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, action: str
) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    draft = editing.open_draft(stack=stack, user=request.user)
    path = request.POST.get("path", "")
    target = path
    try:
        if action == "add":
            editing.add_file(draft=draft, path=path, request=request)
        elif action == "rename":
            target = request.POST.get("new_path", "")
            editing.rename_file(draft=draft, path=path, new_path=target, request=request)
        else:
            editing.delete_file(draft=draft, path=path, request=request)
            target = ""
    except editing.EditError as exc:
        messages.error(request, str(exc))
        target = request.POST.get("current", "")
    return _redirect(request, _editor_url(stack, target or None))


def _redirect(request: AuthenticatedHttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
@require_POST
def add_file(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    return _file_action(request, slug, stack_name, "add")


@login_required
@require_POST
def rename_file(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    return _file_action(request, slug, stack_name, "rename")


@login_required
@require_POST
def delete_file(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    return _file_action(request, slug, stack_name, "delete")


@login_required
@require_POST
def save_draft(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    """Save the draft as a revision; on a concurrent save, show what changed instead."""
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    draft = editing.open_draft(stack=stack, user=request.user)
    message = request.POST.get("message", "").strip()[:500]
    try:
        if "text" in request.POST:
            # The form carries the open file's latest text: keystrokes typed after the
            # last live validation are saved too.
            editing.update_file(
                draft=draft, path=request.POST.get("path", ""), text=request.POST["text"]
            )
        outcome = editing.save_draft(
            draft=draft,
            actor=request.user,
            message=message,
            force=request.POST.get("force") == "1",
            # The revision the conflict page showed: a newer one shows the conflict again.
            seen=_int_or_none(request.POST.get("against")),
            request=request,
        )
    except editing.EditError as exc:
        messages.error(request, str(exc))
        return redirect(_editor_url(stack, request.POST.get("current")))
    if outcome.conflict is not None:
        return render(
            request,
            "deployments/stack_save_conflict.html",
            {
                "access": access,
                "tenant": access.tenant,
                "stack": stack,
                "draft": draft,
                "latest": outcome.conflict,
                "message": message,
                # What "save anyway" would write, against their revision.
                "diffs": [
                    d
                    for d in diff_files(
                        outcome.conflict.files,
                        editing.merge_files(
                            base=draft.base.files if draft.base else {},
                            mine=draft.files,
                            theirs=outcome.conflict.files,
                        ),
                    )
                    if d.status != "unchanged"
                ],
                "current": request.POST.get("current", ""),
            },
            status=409,
        )
    revision = outcome.revision
    assert revision is not None
    if outcome.created:
        kind = "draft (it has errors, so it cannot be planned)" if revision.is_draft else "revision"
        messages.success(request, f"Saved {kind} {revision.number}.")
    else:
        messages.info(request, f"Nothing changed since revision {revision.number}; nothing saved.")
    return redirect(_editor_url(stack, request.POST.get("current")))


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@require_POST
def discard_draft(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name, need=Right.DEPLOY)
    StackDraft.objects.filter(stack=stack, user=request.user).delete()
    messages.info(request, "Your unsaved changes were discarded.")
    return redirect(_editor_url(stack))

"""State history of a stack + environment: every S3 version, one version, a diff, restore."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import Right, get_stack_environment_for_user

from .. import listing_cache
from ..aws.errors import AwsError, StateCorrupt
from ..aws.state import StateStore, StateVersion, VersionPage
from ..models import Deployment, Stack
from ..rows import state_rows
from ..runtime import aws_settings
from ..state_ops import RestoreRefused, restore_state_version
from ..state_view import diff_states, masked_json, parse_time, resources_by_service, stack_outputs

PAGE_SIZE = 20
# How long a version's metadata stays cached. An S3 version never changes, so this only
# bounds the memory it takes; the key includes the ETag, so an emulator reset that hands
# out a version id again cannot be answered with the old metadata.
METADATA_CACHE_SECONDS = 24 * 3600


def _load(stack: Stack, environment: str, version_id: str):
    try:
        version = StateStore(aws_settings()).get_version(
            stack.tenant.slug, stack.name, environment, version_id
        )
    except StateCorrupt as exc:
        return None, str(exc)
    if version is None:
        raise Http404
    return version, ""


@login_required
@require_GET
def state_history(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    access, stack = get_stack_environment_for_user(request.user, slug, stack_name, environment)
    store = StateStore(aws_settings())
    key_marker = request.GET.get("key_marker") or None
    version_marker = request.GET.get("version_marker") or None
    error, page, rows, read_at = "", None, [], None
    try:
        # The page's rows, whole, are what the listing cache keeps: a view within the
        # second reads neither S3, nor the metadata cache, nor the runs table.
        (page, rows), read_at = listing_cache.read(
            listing_cache.state_scope(
                store.settings.state_bucket, stack.tenant.slug, stack.name, environment
            ),
            f"{key_marker}:{version_marker}",
            lambda: _history_page(store, stack, environment, key_marker, version_marker),
        )
    except (ValueError, AwsError) as exc:
        error = f"The state history could not be read: {exc}"
    return render(
        request,
        "deployments/state_history.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "environment": environment,
            "rows": state_rows(access.tenant, stack.name, environment, rows),
            "count": len(rows),
            "problem": next((row["problem"] for row in rows if row["problem"]), ""),
            "page": page,
            "read_at": read_at,
            "error": error,
        },
    )


def _history_page(
    store: StateStore,
    stack: Stack,
    environment: str,
    key_marker: str | None,
    version_marker: str | None,
) -> tuple[VersionPage, list[dict]]:
    """One page of the history and its rows: one list call, then one HEAD per version on
    the page whose metadata is not cached yet (bounded by the page size, whatever the
    length of the history), and one query for the runs that wrote them."""
    page = store.list_versions(
        stack.tenant.slug,
        stack.name,
        environment,
        page_size=PAGE_SIZE,
        key_marker=key_marker,
        version_id_marker=version_marker,
    )
    metas = {
        v.version_id: _version_metadata(store, stack, environment, v)
        for v in page.versions
        if not v.deleted
    }
    ids = {m.get("deployment-id", "") for m in metas.values()}
    runs = {
        str(uid): SimpleNamespace(uid=uid, number=number)
        for uid, number in Deployment.objects.filter(
            stack=stack, uid__in=[i for i in ids if _is_uuid(i)]
        ).values_list("uid", "number")
    }
    rows = []
    for version in page.versions:
        meta = metas.get(version.version_id, {})
        deployment = meta.get("deployment-id", "")
        rows.append(
            {
                "version": version,
                "serial": meta.get("serial", ""),
                "who": meta.get("deployed-by", ""),
                "resources": meta.get("resource-count", ""),
                "run": runs.get(deployment),
                "restore": deployment.startswith("restore:"),
                "foreign": not version.deleted
                and deployment not in runs
                and not deployment.startswith("restore:"),
                "problem": "",
            }
        )
    if not key_marker:
        _flag_current(store, stack, environment, rows)
    return page, rows


def _version_metadata(
    store: StateStore, stack: Stack, environment: str, version: StateVersion
) -> dict[str, str]:
    """The S3 user metadata of one version, from the cache or by a HEAD."""
    key = f"panka:state-meta:{store.settings.state_bucket}:{version.version_id}:{version.etag}"
    meta = cache.get(key)
    if meta is None:
        meta = store.version_metadata(
            stack.tenant.slug, stack.name, environment, version.version_id
        )
        if meta is None:
            return {}  # gone since the list: not cached, the next look asks S3 again
        cache.set(key, meta, METADATA_CACHE_SECONDS)
    return meta


def _flag_current(store: StateStore, stack: Stack, environment: str, rows: list[dict]) -> None:
    """Mark the current version when plans refuse it: unreadable, or another lineage
    written over this state's history. Only the current version is checked (a GET, and
    a list and a GET for the lineage), once per version: the verdict is cached like the
    metadata, since neither a version nor the one before it changes. Older versions
    show their error when opened."""
    row = next((r for r in rows if r["version"].is_latest and not r["version"].deleted), None)
    if row is None:
        return
    version = row["version"]
    key = f"panka:state-problem:{store.settings.state_bucket}:{version.version_id}:{version.etag}"
    problem = cache.get(key)
    if problem is None:
        try:
            loaded = store.load(stack.tenant.slug, stack.name, environment)
            if loaded is not None:
                store.check_lineage(loaded)
            problem, checked = "", loaded.version_id if loaded else ""
        except StateCorrupt as exc:
            problem = str(exc)
            checked = version.version_id if version.version_id in problem else ""
        except AwsError:
            return  # the list above was readable; plans will say what is wrong
        if checked == version.version_id:  # not a version written since the list
            cache.set(key, problem, METADATA_CACHE_SECONDS)
    row["problem"] = problem


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
@require_GET
def state_version(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str, version_id: str
) -> HttpResponse:
    access, stack = get_stack_environment_for_user(request.user, slug, stack_name, environment)
    version, error = _load(stack, environment, version_id)
    if version is not None and request.GET.get("download"):
        response = HttpResponse(masked_json(version.state), content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="{stack.name}-{environment}-{version_id[:12]}.json"'
        )
        return response
    state = version.state if version else {}
    meta = state.get("metadata") if isinstance(state.get("metadata"), dict) else {}
    return render(
        request,
        "deployments/state_version.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "environment": environment,
            "version_id": version_id,
            "version": version,
            "error": error,
            "meta": meta,
            "updated_at": parse_time(meta.get("updated_at") or state.get("last_update")),
            "groups": resources_by_service(state),
            "outputs": stack_outputs(state),
            "raw": masked_json(state) if version else "",
        },
    )


@login_required
@require_GET
def state_diff(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str
) -> HttpResponse:
    access, stack = get_stack_environment_for_user(request.user, slug, stack_name, environment)
    old, old_error = _load(stack, environment, request.GET.get("a", ""))
    new, new_error = _load(stack, environment, request.GET.get("b", ""))
    resources, outputs = diff_states(old.state if old else {}, new.state if new else {})
    return render(
        request,
        "deployments/state_diff.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "environment": environment,
            "a": request.GET.get("a", ""),
            "b": request.GET.get("b", ""),
            "error": old_error or new_error,
            "resources": resources,
            "outputs": outputs,
        },
    )


@login_required
@require_POST
def state_restore(
    request: AuthenticatedHttpRequest, slug: str, stack_name: str, environment: str, version_id: str
) -> HttpResponse:
    access, stack = get_stack_environment_for_user(
        request.user, slug, stack_name, environment, need=Right.ADMIN
    )
    try:
        serial = restore_state_version(
            stack=stack,
            environment=environment,
            version_id=version_id,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except RestoreRefused as exc:
        messages.error(request, str(exc))
        return redirect(reverse("state_version", args=[slug, stack.name, environment, version_id]))
    messages.success(
        request,
        f"State version {version_id[:12]} is now the current state (serial {serial}). "
        "Queue a plan to bring AWS in line with it.",
    )
    return redirect(reverse("stack_detail", args=[slug, stack.name]) + f"#env-{environment}")

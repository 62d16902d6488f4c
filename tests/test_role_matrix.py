"""Every URL × every persona → the status it must answer; refused mutations change nothing.

The table below is the access policy in one place. A meta-test fails when a URL pattern
has no row, so a new view cannot ship without saying who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse

from deployments.aws.clients import client as aws_client
from deployments.aws.state import StateStore, empty_state, successor
from deployments.models import Deployment, DriftCheck, NetworkRun, Stack, StackDraft, StackRevision
from tenants.models import AuditEvent, Membership, Tenant

from .deployments.run_fixtures import FILES, deployable_stack

PERSONAS = ("anonymous", "outsider", "viewer", "deployer", "admin", "auditor", "platform_admin")
OK = "ok"  # any answer but a refusal or an error: 200, a redirect after a success, 409...

READ = {
    "anonymous": 302,
    "outsider": 404,
    "viewer": OK,
    "deployer": OK,
    "admin": OK,
    "auditor": OK,
    "platform_admin": OK,
}
DEPLOY = {**READ, "viewer": 403, "auditor": 403}
ADMIN = {**DEPLOY, "deployer": 403}
AUDIT = {**READ, "viewer": 403, "deployer": 403}
STAFF = {p: 302 for p in PERSONAS} | {"platform_admin": OK}  # to the admin login otherwise
# A valid settings form for acme that changes its display name and limits.
PLATFORM_SETTINGS = (
    ("display_name", "Acme (matrix)"), ("max_stacks", "7"), ("max_services_per_stack", "5"),
    ("max_components_per_service", "9"), ("allowed_kinds", "SQS"), ("allowed_regions", "us-east-1"),
    ("environments", "development, staging, production"), ("protected_environments", "production"),
)  # fmt: skip

NETWORK_FORM = (("cidr", "10.20.0.0/16"), ("az_count", "2"), ("nat_mode", "none"))


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    expect: dict[str, object]
    data: tuple[tuple[str, str], ...] = ()


ROWS = [
    Row("home", "GET", {**READ, "outsider": OK}),  # lists the user's own tenants
    Row("tenant_home", "GET", READ),
    Row("tenant_locks", "GET", READ),
    Row("platform_locks", "GET", STAFF),
    Row("stack_new", "GET", DEPLOY),
    Row("stack_new", "POST", DEPLOY, (("name", "matrix-new"),)),
    Row("stack_detail", "GET", READ),
    Row("stack_editor", "GET", READ),
    Row("stack_validate", "POST", DEPLOY, (("path", "stack.yaml"), ("text", FILES["stack.yaml"]))),
    Row("stack_save", "POST", DEPLOY, (("message", "m"),)),
    Row("stack_discard", "POST", DEPLOY),
    Row("stack_file_add", "POST", DEPLOY, (("path", "services/x/new.yaml"),)),
    Row("stack_file_rename", "POST", DEPLOY, (("path", "stack.yaml"), ("new_path", "stack.yml"))),
    Row("stack_file_delete", "POST", DEPLOY, (("path", "services/work/queues.yaml"),)),
    Row("stack_upload", "GET", DEPLOY),
    Row("stack_upload", "POST", DEPLOY),
    Row("stack_graph", "GET", READ),
    Row("run_list", "GET", READ),
    Row("run_queue", "POST", DEPLOY, (("environment", "development"), ("kind", "plan"))),
    Row("run_detail", "GET", READ),
    Row("run_apply", "POST", DEPLOY),
    Row("run_approve", "POST", ADMIN),
    Row("run_cancel", "POST", DEPLOY),
    Row("run_save_state", "POST", DEPLOY),  # the run has no kept state: a message, no change
    Row("run_discard_state", "POST", ADMIN, (("reason", "matrix"),)),  # likewise
    Row("state_history", "GET", READ),
    Row("state_diff", "GET", READ),
    Row("state_version", "GET", READ),
    Row("state_restore", "POST", ADMIN, (("reason", "matrix"),)),
    Row("lock_environment", "POST", DEPLOY, (("reason", "matrix"), ("hours", "1"))),
    Row("unlock_environment", "POST", DEPLOY, (("lock_id", "nope"),)),
    Row("force_unlock", "POST", ADMIN, (("lock_id", "nope"), ("reason", "matrix"))),
    Row("check_drift", "POST", DEPLOY),
    Row("drift_schedule", "POST", ADMIN, (("hours", "12"),)),
    Row("revision_list", "GET", READ),
    Row("revision_diff", "GET", READ),
    Row("revision_detail", "GET", READ),
    Row("revision_restore", "POST", DEPLOY),
    Row("audit_log", "GET", AUDIT),
    Row("member_list", "GET", READ),
    Row("member_add", "POST", ADMIN, (("who", "outsider"), ("role", "admin"))),
    Row("member_invite", "POST", ADMIN, (("role", "admin"),)),
    Row("member_role", "POST", ADMIN, (("role", "admin"),)),
    # The admin's turn comes first and removes the member; the platform admin then finds none.
    Row("member_remove", "POST", {**ADMIN, "platform_admin": 404}),
    Row("audit_export", "GET", AUDIT),
    Row("platform_tenant_list", "GET", STAFF),
    Row("platform_tenant_new", "GET", STAFF),
    Row("platform_tenant_new", "POST", STAFF, (("slug", "matrix-t"), ("display_name", "M"))),
    Row("platform_tenant_edit", "GET", STAFF),
    Row("platform_tenant_edit", "POST", STAFF, PLATFORM_SETTINGS),
    Row("platform_tenant_suspend", "POST", STAFF, (("reason", "matrix"),)),
    Row("platform_tenant_reactivate", "POST", STAFF),
    Row("tenant_networking", "GET", STAFF),
    # The platform admin's create really runs (inline, on the emulator); no NAT keeps it quick.
    Row("tenant_networking_create", "POST", STAFF, NETWORK_FORM),
    Row("tenant_networking_delete", "POST", STAFF, (("confirm", "acme"),)),  # no network: refused
    Row("tenant_networking_run", "GET", STAFF),
]
# No tenant data behind them (an invitation is its own secret: 404 unless the token is valid).
# The password pages act on the signed-in user only.
PUBLIC = {"login", "logout", "healthz", "invitation", "password_change", "password_change_done"}


def _named_patterns(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if hasattr(pattern, "url_patterns"):
            if getattr(pattern, "namespace", None) == "admin":
                continue  # Django admin: staff only, its own permission system
            yield from _named_patterns(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name


def test_every_url_pattern_has_a_row():
    covered = {row.name for row in ROWS} | PUBLIC
    missing = sorted(set(_named_patterns()) - covered)
    assert not missing, f"add these URL names to ROWS with who may use them: {missing}"


@pytest.fixture
def world(personas, inline_tasks):
    stack = deployable_stack(personas)
    StackRevision(
        stack=stack, number=2, files={**FILES, "x.yaml": "# x\n"}, author=personas.admin
    ).save()
    run = Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="production", kind="apply",
        status=Deployment.Status.AWAITING_APPROVAL, requested_by=personas.admin, plan_hash="sha256:" + "1" * 64,
    )  # fmt: skip
    NetworkRun.objects.create(tenant=personas.tenant, number=1, action="delete", status="succeeded")
    saved = StateStore(inline_tasks).save(
        None,
        successor(empty_state("acme", "shop", "development")),
        deployment_id="x",
        deployed_by="x",
        revision="",
    )
    return {
        "slug": "acme", "stack_name": "shop", "uid": str(run.uid), "number": 1,
        "environment": "development", "version_id": saved.version_id, "fmt": "jsonl", "username": "viewer",
    }  # fmt: skip


def _url(name: str, world: dict[str, object]) -> str:
    from django.urls import NoReverseMatch

    pattern_args = {
        "state_diff": "?a={v}&b={v}",
        "revision_diff": "?a=1&b=2",
    }
    for keys in (
        ("slug", "stack_name", "environment", "version_id"),
        ("slug", "stack_name", "environment"),
        ("slug", "stack_name", "number"),
        ("slug", "stack_name"),
        ("slug", "uid"),
        ("slug", "fmt"),
        ("slug", "username"),
        ("slug", "number"),
        ("slug",),
        (),
    ):
        try:
            url = reverse(name, kwargs={k: world[k] for k in keys})
        except NoReverseMatch:
            continue
        return url + pattern_args.get(name, "").format(v=world["version_id"])
    raise AssertionError(f"cannot build a URL for {name}")


def _snapshot(aws) -> tuple[object, ...]:
    """Everything a request could change: rows, S3 versions, DynamoDB items."""
    versions = (
        aws_client(aws, "s3").list_object_versions(Bucket=aws.state_bucket).get("Versions", [])
    )
    items = aws_client(aws, "dynamodb").scan(TableName=aws.lock_table).get("Items", [])
    return (
        Tenant.objects.count(), Membership.objects.count(), Stack.objects.count(), StackRevision.objects.count(),
        StackDraft.objects.count(), Deployment.objects.count(), AuditEvent.objects.count(), DriftCheck.objects.count(),
        len(versions), len(items), sorted(Deployment.objects.values_list("status", flat=True)),
        list(Tenant.objects.order_by("pk").values()),  # settings and status, not only the count
        NetworkRun.objects.count(),
    )  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method}-{r.name}")
def test_role_matrix(
    row, client, personas, world, inline_tasks, django_capture_on_commit_callbacks
):
    url = _url(row.name, world)
    for persona in PERSONAS:
        client.logout()
        if persona != "anonymous":
            client.force_login(getattr(personas, persona))
        expected = row.expect[persona]
        before = _snapshot(inline_tasks)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(url) if row.method == "GET" else client.post(url, dict(row.data))
        status = response.status_code
        if expected == OK:
            assert status not in (403, 404, 405) and status < 500, (
                f"{persona} {row.method} {url}: {status}"
            )
        else:
            assert status == expected, (
                f"{persona} {row.method} {url}: {status}, expected {expected}"
            )
            if row.method == "POST":
                assert _snapshot(inline_tasks) == before, (
                    f"refused {persona} {url} changed something"
                )

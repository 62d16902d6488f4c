"""Deploy real stacks end to end on the emulator: the project's examples and the panka
authors' examples (read in place), then re-deploy with no change."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from deployments import runs
from deployments.aws import clients
from deployments.aws.clients import client
from deployments.aws.state import StateStore
from deployments.models import Deployment
from deployments.services import create_stack, save_revision
from deployments.spec import read_path
from deployments.validation import summary_counts, validate_files

ROOT = Path(__file__).resolve().parents[2]
AUTHORS = ROOT.parent / "shared" / "fixtures" / "panka-examples"
READ_ONLY = ("Get", "Describe", "List", "Head", "Query", "Scan", "BatchGet")

EXAMPLES = {
    "shop": ROOT / "examples" / "shop",
    "payments": ROOT / "examples" / "payments.yaml",
    "analytics": ROOT / "examples" / "analytics",
    "demo-stack": AUTHORS / "simple-stack.yaml",
    "simple-web-app": AUTHORS / "simple-web-app",
}
pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def mutating_calls(monkeypatch):
    """Every mutating AWS call made, except to Panka's own lock table and state bucket."""
    calls: list[str] = []

    def record(model, params, **_):
        name = model.name
        if name.startswith(READ_ONLY):
            return
        if (
            params.get("TableName") == "panka-locks-test"
            or params.get("Bucket") == "panka-state-test"
        ):
            return
        calls.append(f"{model.service_model.service_name}.{name}")

    original = boto3.session.Session.client

    def hooked(self, *args, **kwargs):
        api = original(self, *args, **kwargs)
        api.meta.events.register("before-parameter-build", record)
        return api

    monkeypatch.setattr(boto3.session.Session, "client", hooked)
    clients.clear_cache()  # new clients, with the hook
    yield calls
    clients.clear_cache()


def _files(path: Path) -> dict[str, str]:
    return {name: data.decode() for name, data in read_path(path).items()}


def _deploy(stack, actor, capture) -> Deployment:
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind="apply",
            actor=actor,
        )
    run.refresh_from_db()
    if run.status == Deployment.Status.PLANNED:
        with capture(execute=True):
            runs.confirm_apply(run=run, actor=actor)
        run.refresh_from_db()
    return run


def _tenant_named_in(files: dict[str, str], personas):
    """The tenant a Stack names in metadata.tenant (simple-web-app says test-tenant)."""
    from tenants.models import Membership, Role, Tenant

    named = validate_files(files, tenant=personas.tenant).stack
    slug = named.tenant if named is not None and named.tenant else personas.tenant.slug
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"display_name": slug})
    Membership.objects.get_or_create(
        tenant=tenant, user=personas.deployer, defaults={"role": Role.DEPLOYER}
    )
    return tenant


def _secrets(aws) -> None:
    sm = client(aws, "secretsmanager")
    for name in ("prod/db/password", "payments/db/master"):
        sm.create_secret(Name=name, SecretString=json.dumps({"password": "s3cret-Passw0rd"}))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_deploys_then_redeploys_with_no_aws_changes(
    name, personas, inline_tasks, django_capture_on_commit_callbacks, mutating_calls
):
    path = EXAMPLES[name]
    if not path.exists():
        pytest.skip(
            f"{path} is absent: the panka authors' examples are read in place from ../shared"
        )
    _secrets(inline_tasks)
    files = _files(path)
    tenant = _tenant_named_in(files, personas)
    result = validate_files(files, tenant=tenant)
    assert result.ok, [f.as_text() for f in result.errors]
    stack_name = result.stack.name
    stack = create_stack(tenant=tenant, name=stack_name, actor=personas.deployer)
    save_revision(stack=stack, files=files, actor=personas.deployer, counts=summary_counts(result))

    run = _deploy(stack, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Deployment.Status.SUCCEEDED, (run.failed_component, run.error)
    assert mutating_calls, "the first deploy changes AWS"

    state = StateStore(inline_tasks).load(tenant.slug, stack_name, "development").state
    assert set(state["resources"]) == set(result.stack.components)
    for component, entry in state["resources"].items():
        assert entry["status"] == "ready" and entry["id"], component
        assert entry["attributes"], f"{component} recorded no outputs"

    mutating_calls.clear()
    again = _deploy(stack, personas.deployer, django_capture_on_commit_callbacks)
    assert again.status == Deployment.Status.SUCCEEDED
    assert {a["action"] for a in again.plan["actions"]} == {"no-op"}
    assert mutating_calls == [], "a no-change re-deploy must not touch AWS"


def test_value_from_reaches_the_task_definition_and_the_lambda_environment(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    files = _files(EXAMPLES["shop"])
    stack = create_stack(tenant=personas.tenant, name="shop", actor=personas.deployer)
    save_revision(stack=stack, files=files, actor=personas.deployer)
    run = _deploy(stack, personas.deployer, django_capture_on_commit_callbacks)
    assert run.status == Deployment.Status.SUCCEEDED, run.error
    state = StateStore(inline_tasks).load("acme", "shop", "development").state["resources"]

    ecs = client(inline_tasks, "ecs")
    task_def = ecs.describe_task_definition(
        taskDefinition=state["web"]["attributes"]["task_definition_arn"]
    )
    env = {
        e["name"]: e["value"]
        for e in task_def["taskDefinition"]["containerDefinitions"][0]["environment"]
    }
    assert env["ORDER_QUEUE_URL"] == state["order-queue"]["attributes"]["queue_url"]
    assert env["ORDERS_TABLE"] == state["orders-table"]["attributes"]["table_name"]

    function = client(inline_tasks, "lambda").get_function_configuration(
        FunctionName=state["notifier"]["attributes"]["function_name"]
    )
    assert (
        function["Environment"]["Variables"]["ORDERS_TABLE"]
        == state["orders-table"]["attributes"]["table_name"]
    )

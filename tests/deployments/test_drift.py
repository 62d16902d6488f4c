"""Drift: changes behind Panka's back are found, shown, and fixed by the next deploy."""

from __future__ import annotations

from django.utils import timezone

from deployments import runs, tasks
from deployments.aws.clients import client as aws_client
from deployments.models import Deployment, DriftCheck
from tenants.models import AuditEvent

from .run_fixtures import deployable_stack

Status = Deployment.Status
DYNAMO = """\
apiVersion: components.panka.io/v1
kind: DynamoDB
metadata:
  name: table
spec:
  hashKey: {name: id, type: S}
"""


def deploy(stack, personas, capture) -> Deployment:
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind="apply",
            actor=personas.deployer,
        )
    run.refresh_from_db()
    if run.status == Status.PLANNED:
        with capture(execute=True):
            runs.confirm_apply(run=run, actor=personas.deployer)
        run.refresh_from_db()
    return run


def sabotage(aws) -> None:
    sqs = aws_client(aws, "sqs")
    url = sqs.get_queue_url(QueueName="shop-development-work-jobs")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "999"})
    aws_client(aws, "dynamodb").delete_table(TableName="shop-development-data-table")


def test_drift_is_found_shown_and_fixed_by_the_next_deploy(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    from .run_fixtures import FILES

    stack = deployable_stack(personas, files={**FILES, "services/data/table.yaml": DYNAMO})
    assert deploy(stack, personas, django_capture_on_commit_callbacks).status == Status.SUCCEEDED
    sabotage(inline_tasks)

    client.force_login(personas.deployer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/t/acme/stacks/shop/drift/development/check/")
    check = DriftCheck.objects.get()
    by_name = {r["component"]: r for r in check.results}
    assert check.status == "drifted"
    assert by_name["jobs"]["status"] == "drifted"
    assert ["visibilityTimeout", 60, 999] in [list(f) for f in by_name["jobs"]["fields"]]
    assert by_name["table"]["status"] == "missing" and by_name["results"]["status"] == "in-sync"
    page = client.get("/t/acme/stacks/shop/").content.decode()
    assert "Drifted" in page and "Fix drift" in page
    assert "drifted" in client.get("/t/acme/").content.decode(), (
        "the tenant home shows drift status"
    )

    fix = deploy(stack, personas, django_capture_on_commit_callbacks)
    assert fix.status == Status.SUCCEEDED, fix.error
    actions = {a["component"]: a["action"] for a in fix.plan["actions"]}
    assert (
        actions["jobs"] == "update"
        and actions["table"] == "create"
        and actions["results"] == "no-op"
    )
    sqs = aws_client(inline_tasks, "sqs")
    url = sqs.get_queue_url(QueueName="shop-development-work-jobs")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "60"
    aws_client(inline_tasks, "dynamodb").describe_table(TableName="shop-development-data-table")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/t/acme/stacks/shop/drift/development/check/")
    assert DriftCheck.objects.first().status == "in-sync"


def test_no_check_runs_during_an_apply_of_the_same_environment(personas, inline_tasks):
    from deployments.drift_ops import run_drift_check

    stack = deployable_stack(personas)
    Deployment.objects.create(
        stack=stack, number=1, revision=stack.latest_revision(), environment="development",
        status=Status.APPLYING, requested_by=personas.deployer,
    )  # fmt: skip
    assert run_drift_check(stack=stack, environment="development") is None
    assert not DriftCheck.objects.exists()


def test_the_schedule_checks_deployed_environments_whose_interval_passed(
    personas, inline_tasks, django_capture_on_commit_callbacks
):
    import time_machine

    stack = deployable_stack(personas)
    deploy(stack, personas, django_capture_on_commit_callbacks)
    assert tasks.drift_sweep() == 1 and tasks.drift_sweep() == 0, "not again before the interval"
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=25)):
        assert tasks.drift_sweep() == 1
    personas.tenant.drift_interval_hours = 0
    personas.tenant.save()
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=50)):
        assert tasks.drift_sweep() == 0


def test_only_admins_set_the_schedule_and_deployers_check(client, personas, inline_tasks):
    deployable_stack(personas)
    client.force_login(personas.deployer)
    assert client.post("/t/acme/settings/drift/", {"hours": "6"}).status_code == 403
    client.force_login(personas.admin)
    client.post("/t/acme/settings/drift/", {"hours": "6"})
    personas.tenant.refresh_from_db()
    assert personas.tenant.drift_interval_hours == 6
    assert AuditEvent.objects.filter(action="tenant.drift_schedule").exists()
    for persona in (personas.viewer, personas.auditor):
        client.force_login(persona)
        assert client.post("/t/acme/stacks/shop/drift/development/check/").status_code == 403
    client.force_login(personas.outsider)
    assert client.post("/t/acme/stacks/shop/drift/development/check/").status_code == 404
    assert client.post("/t/acme/settings/drift/", {"hours": "1"}).status_code == 404
    client.force_login(personas.deployer)
    assert client.get("/t/acme/stacks/shop/drift/development/check/").status_code == 405

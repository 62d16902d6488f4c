"""State history pages: list (S3 pagination), view, diff, restore; CLI-written states."""

from __future__ import annotations

import json

from deployments.aws.clients import client
from deployments.aws.state import StateStore, state_key
from tenants.models import AuditEvent

from .run_fixtures import deployable_stack

BASE = "/t/acme/stacks/shop/state/development/"
KEY = state_key("acme", "shop", "development")

# Exactly the shape the panka CLI writes (format.md §8): Go's nanosecond times with a
# local offset, none of our extension fields, a null attribute.
CLI_STATE = {
    "version": "1.0",
    "metadata": {
        "stack": "shop",
        "environment": "development",
        "version": "",
        "deployed_by": "alice-cli",
        "labels": {},
        "created_at": "2026-11-20T09:14:03.123456789+05:30",
        "updated_at": "2026-11-20T09:15:44.987654321+05:30",
    },
    "resources": {
        "jobs": {
            "id": "https://sqs.us-east-1.amazonaws.com/123456789012/shop-development-work-jobs",
            "type": "SQS",
            "name": "jobs",
            "provider": "aws",
            "status": "ready",
            "attributes": {"queue_url": "https://sqs/...", "arn": None, "db_password": "hunter2"},
            "depends_on": [],
            "created_at": "2026-11-20T09:14:03.123456789+05:30",
            "updated_at": "2026-11-20T09:15:44.987654321+05:30",
        }
    },
    "outputs": {"jobs.queue_url": "https://sqs/...", "jobs.db_password": "hunter2"},
    "last_update": "2026-11-20T09:15:44.987654321+05:30",
}


def put_raw(aws, body: dict, **metadata) -> str:
    response = client(aws, "s3").put_object(
        Bucket=aws.state_bucket, Key=KEY, Body=json.dumps(body).encode(), Metadata=metadata
    )
    return response["VersionId"]


def deployed(personas, capture):
    from deployments import runs

    stack = deployable_stack(personas)
    with capture(execute=True):
        run = runs.queue_run(
            stack=stack,
            revision=stack.latest_revision(),
            environment="development",
            kind="apply",
            actor=personas.deployer,
        )
    run.refresh_from_db()
    with capture(execute=True):
        runs.confirm_apply(run=run, actor=personas.deployer)
    run.refresh_from_db()
    return run


def test_history_lists_versions_newest_first_with_their_run(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    run = deployed(personas, django_capture_on_commit_callbacks)
    client.force_login(personas.viewer)
    page = client.get(BASE).content.decode()
    assert page.count(f"run #{run.number}") == 2, "one version per component save"
    assert "<td>deployer</td>" in page, "who wrote each version"
    assert "not written by Panka Web" not in page
    assert page.index("<td>2</td>") < page.index("<td>1</td>"), "newest first"


def test_a_cli_written_state_is_badged_and_displays(client, personas, inline_tasks):
    deployable_stack(personas)
    version = put_raw(inline_tasks, CLI_STATE)
    client.force_login(personas.viewer)
    assert "not written by Panka Web" in client.get(BASE).content.decode()
    page = client.get(f"{BASE}v/{version}/").content.decode()
    assert "alice-cli" in page and "shop-development-work-jobs" in page
    assert "Nov. 20, 2026" in page or "2026-11-20" in page, (
        "Go's nanosecond time with offset parsed"
    )
    assert "hunter2" not in page, "secret-looking outputs are masked"
    download = client.get(f"{BASE}v/{version}/?download=1")
    assert (
        download["Content-Disposition"].startswith("attachment")
        and b"hunter2" not in download.content
    )


def test_history_pages_through_s3_beyond_one_page(client, personas, inline_tasks):
    deployable_stack(personas)
    for serial in range(1, 26):
        put_raw(
            inline_tasks, {**CLI_STATE, "metadata": {**CLI_STATE["metadata"], "serial": serial}}
        )
    client.force_login(personas.viewer)
    first = client.get(BASE).content.decode()
    assert first.count('id="v-') == 20 and "older versions" in first
    import re

    link = re.search(r'href="(\?key_marker=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(BASE + link).content.decode()
    assert second.count('id="v-') == 5 and "older versions" not in second


def test_diff_of_any_two_versions_shows_resources_and_attributes(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployed(personas, django_capture_on_commit_callbacks)
    versions = StateStore(inline_tasks).list_versions("acme", "shop", "development").versions
    newest, oldest = versions[0].version_id, versions[-1].version_id
    client.force_login(personas.viewer)
    page = client.get(f"{BASE}diff/?a={oldest}&b={newest}").content.decode()
    assert "results" in page and "added" in page and "attributes.queue_url" in page


def test_admin_restores_an_old_version_as_the_next_serial_with_an_audit_event(
    client, personas, inline_tasks, django_capture_on_commit_callbacks
):
    deployed(personas, django_capture_on_commit_callbacks)
    store = StateStore(inline_tasks)
    oldest = store.list_versions("acme", "shop", "development").versions[-1]
    client.force_login(personas.admin)
    refused = client.post(f"{BASE}v/{oldest.version_id}/restore/", {"reason": ""}, follow=True)
    assert (
        "type a reason" in refused.content.decode()
        and store.load("acme", "shop", "development").serial == 2
    )
    client.post(f"{BASE}v/{oldest.version_id}/restore/", {"reason": "roll back the results queue"})
    current = store.load("acme", "shop", "development")
    assert current.serial == 3 and set(current.state["resources"]) == {"jobs"}
    assert current.state["metadata"]["restored_from"] == oldest.version_id
    event = AuditEvent.objects.get(action="state.restore")
    assert event.details["reason"] == "roll back the results queue" and event.details["serial"] == 3


def test_roles_outsider_and_methods(client, personas, inline_tasks):
    deployable_stack(personas)
    version = put_raw(inline_tasks, CLI_STATE)
    for persona in (personas.deployer, personas.viewer, personas.auditor):
        client.force_login(persona)
        assert client.get(BASE).status_code == 200
        assert client.post(f"{BASE}v/{version}/restore/", {"reason": "x"}).status_code == 403
    client.force_login(personas.outsider)
    for url in (BASE, f"{BASE}v/{version}/", f"{BASE}diff/?a={version}&b={version}"):
        assert client.get(url).status_code == 404
    assert client.post(f"{BASE}v/{version}/restore/", {"reason": "x"}).status_code == 404
    client.force_login(personas.viewer)
    assert client.get("/t/acme/stacks/shop/state/no-such-env/").status_code == 404
    assert client.get(f"{BASE}v/not-a-version/").status_code == 404
    assert client.post(BASE).status_code == 405
    assert client.get(f"{BASE}v/{version}/restore/").status_code == 405
    assert StateStore(inline_tasks).load("acme", "shop", "development").version_id == version, (
        "nothing written"
    )


def test_state_rows_escape_metadata_and_mark_deleted_and_current(client, personas, inline_tasks):
    from deployments.aws.clients import client as aws_client

    deployable_stack(personas)
    put_raw(inline_tasks, CLI_STATE, **{"deployed-by": '<b>eve</b>"', "serial": "1"})
    aws_client(inline_tasks, "s3").delete_object(Bucket=inline_tasks.state_bucket, Key=KEY)
    latest = put_raw(inline_tasks, CLI_STATE, **{"deployed-by": "bob", "serial": "2"})
    client.force_login(personas.viewer)
    page = client.get(BASE).content.decode()
    assert "&lt;b&gt;eve&lt;/b&gt;&quot;" in page and "<b>eve</b>" not in page
    assert page.count('<span class="badge danger">deleted</span>') == 1
    current = page.index(f'id="v-{latest}"')
    assert page.index('<span class="badge ok">current</span>') > current, "on the latest row"
    assert f'href="{BASE}v/{latest}/"' in page

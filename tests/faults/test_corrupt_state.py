"""Fault 7: the current state object is unusable.

Two ways: a truncated JSON object (a writer that died mid-upload, a bad hand edit), and
a valid state of another lineage written over this one (another stack's state copied
here). Plans must refuse with a message naming the key and version and what is wrong
(no traceback); the history must still list every version and flag the bad one; the
versions must still open (the truncated one with a clear error); restoring a good older
version must work, and plans then succeed with nothing lost.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from deployments.aws.clients import client as aws_client
from deployments.aws.state import StateStore, state_key
from deployments.models import Deployment

from ..deployments.run_fixtures import deployable_stack
from ..deployments.test_runs import apply, queue, queue_names

pytestmark = pytest.mark.production
Status = Deployment.Status
ENV = "development"
KEY = state_key("acme", "shop", ENV)


def truncated(good: bytes) -> tuple[bytes, dict[str, str], str]:
    return good[: len(good) // 2], {}, "is not valid JSON"


def other_lineage(good: bytes) -> tuple[bytes, dict[str, str], str]:
    state = json.loads(good)
    state["metadata"].update(lineage=str(uuid.uuid4()), serial=7, stack="billing")
    state["resources"] = {}
    return json.dumps(state).encode(), {"serial": "7"}, "history was written over this one"


@pytest.mark.parametrize("spoil", [truncated, other_lineage])
def test_an_unusable_current_state_stops_plans_and_a_restore_recovers(
    personas, inline_tasks, client, django_capture_on_commit_callbacks, spoil
):
    capture = django_capture_on_commit_callbacks
    stack = deployable_stack(personas)
    run = apply(queue(stack, personas.deployer, capture=capture), personas.deployer, capture)
    assert run.status == Status.SUCCEEDED, run.error
    store = StateStore(inline_tasks)
    good = store.load("acme", "shop", ENV)
    assert good.serial == 2
    s3 = aws_client(inline_tasks, "s3")
    body = s3.get_object(Bucket=inline_tasks.state_bucket, Key=KEY)["Body"].read()
    bad_body, metadata, problem = spoil(body)
    bad = s3.put_object(
        Bucket=inline_tasks.state_bucket, Key=KEY, Body=bad_body, Metadata=metadata
    )["VersionId"]

    # A plan refuses, naming the key, the version and what is wrong; no traceback.
    refused = queue(stack, personas.deployer, kind="plan", capture=capture)
    assert refused.status == Status.FAILED
    assert KEY in refused.error and bad in refused.error and problem in refused.error
    assert refused.plan is None
    log = "\n".join(refused.logs.values_list("message", flat=True))
    assert f"planning failed: the current state cannot be used: state {KEY}" in log
    assert "Traceback" not in log and "Traceback" not in refused.error

    # The history lists every version and flags the bad one; each version opens.
    client.force_login(personas.viewer)
    history = client.get(reverse("state_history", args=["acme", "shop", ENV]))
    page = history.content.decode()
    assert history.status_code == 200
    assert all(f'id="v-{v}"' in page for v in (bad, good.version_id))
    assert page.count('id="v-') == 3
    assert "unusable" in page and "plans of development refuse to run" in page
    assert problem in page
    opened = client.get(reverse("state_version", args=["acme", "shop", ENV, bad]))
    assert opened.status_code == 200
    if spoil is truncated:
        assert "This version cannot be read" in opened.content.decode()
        assert "is not valid JSON" in opened.content.decode()
    opened = client.get(reverse("state_version", args=["acme", "shop", ENV, good.version_id]))
    assert opened.status_code == 200 and "jobs" in opened.content.decode()

    # An admin restores the good version: written forward as the next serial.
    client.force_login(personas.admin)
    response = client.post(
        reverse("state_restore", args=["acme", "shop", ENV, good.version_id]),
        {"reason": "the current state is broken"},
        follow=True,
    )
    expected_serial = 8 if spoil is other_lineage else 3
    assert f"is now the current state (serial {expected_serial})" in response.content.decode()
    restored = store.load("acme", "shop", ENV)
    assert restored.serial == expected_serial
    assert restored.lineage == good.lineage, "the restored content keeps its own history"
    assert restored.state["resources"] == good.state["resources"]
    assert (
        "unusable"
        not in client.get(reverse("state_history", args=["acme", "shop", ENV])).content.decode()
    )

    # Plans work again and find nothing to do: nothing lost, nothing made twice.
    planned = queue(stack, personas.deployer, kind="plan", capture=capture)
    assert planned.status == Status.PLANNED, planned.error
    assert planned.plan["summary"]["no-op"] == 2 and planned.plan["summary"]["create"] == 0
    deployed = queue(stack, personas.deployer, capture=capture)
    assert deployed.status == Status.SUCCEEDED, deployed.error
    assert queue_names(inline_tasks) == [
        "shop-development-work-jobs",
        "shop-development-work-jobs-dlq",
        "shop-development-work-results",
    ]
    listing = s3.list_object_versions(Bucket=inline_tasks.state_bucket, Prefix=KEY)
    assert len(listing["Versions"]) == 4, "every version kept, the bad one included"
    assert bad in {v["VersionId"] for v in listing["Versions"]}

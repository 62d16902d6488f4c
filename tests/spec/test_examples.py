"""Example stacks, ours and the panka authors', through the real kind schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deployments.spec import plan, read_path, validate

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PANKA_EXAMPLES = REPO.parent / "shared" / "fixtures" / "panka-examples"
OURS = ["shop", "payments.yaml", "analytics"]
DEPLOYABLE = {
    "MicroService",
    "Worker",
    "CronJob",
    "Lambda",
    "RDS",
    "DynamoDB",
    "ElastiCacheRedis",
    "S3",
    "SQS",
    "SNS",
    "EventBridge",
}


@pytest.fixture(autouse=True)
def real_kinds() -> None:
    try:
        import deployments.spec.kinds  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"deployments.spec.kinds does not import yet: {exc}")


@pytest.mark.parametrize("name", OURS)
def test_our_examples_validate_without_errors_or_warnings(name: str) -> None:
    result = validate(read_path(EXAMPLES / name))
    assert result.findings == (), [f.as_text() for f in result.findings]


@pytest.mark.parametrize("name", OURS)
def test_our_examples_plan_as_all_create(name: str) -> None:
    result = validate(read_path(EXAMPLES / name))
    the_plan = plan(result, None, environment="development")
    assert {a.action for a in the_plan.actions} == {"create"}
    assert the_plan.ok


def test_our_examples_cover_every_deployable_kind_and_both_layouts() -> None:
    stacks = [validate(read_path(EXAMPLES / name)).stack for name in OURS]
    assert {c.kind for s in stacks for c in s.components.values()} == DEPLOYABLE
    assert {s.layout for s in stacks} == {"folder", "single-file"}


def test_the_demo_stack_stays_deployable_on_the_emulator() -> None:
    stack = validate(read_path(EXAMPLES / "shop")).stack
    assert stack.layout == "folder"
    assert {c.kind for c in stack.components.values()} <= {
        "MicroService",
        "Worker",
        "SQS",
        "DynamoDB",
        "S3",
        "SNS",
        "Lambda",
    }
    assert any(
        c.kind == "Lambda" and "zipFile" in c.spec.get("code", {})
        for c in stack.components.values()
    )
    web = stack.components["web"]
    assert web.spec["replicas"] == "2" and web.config()["replicas"] == 2  # a service variable


def test_the_demo_stack_as_one_file_gives_the_same_stack_and_plan() -> None:
    """format.md §2: both layouts must give identical validation results."""
    folder = read_path(EXAMPLES / "shop")
    docs = [folder["stack.yaml"].decode()]
    for name, data in sorted(folder.items()):
        match = re.fullmatch(r"services/([^/]+)/[^/]+\.yaml", name)
        if match:
            text = data.decode()
            # The file no longer says which service it is in: the documents must.
            docs.append(
                re.sub(
                    r"^metadata:\n", f"metadata:\n  service: {match[1]}\n", text, flags=re.MULTILINE
                )
            )
    one_file = {"shop.yaml": "\n---\n".join(docs)}
    a, b = validate(folder), validate(one_file)
    assert a.ok and b.ok, b.findings
    assert (a.stack.layout, b.stack.layout) == ("folder", "single-file")
    assert [(f.code, f.message) for f in a.findings] == [(f.code, f.message) for f in b.findings]
    plan_a = plan(a, None, environment="production")
    plan_b = plan(b, None, environment="production")
    assert plan_a.hash == plan_b.hash


def _panka(name: str) -> Path:
    path = PANKA_EXAMPLES / name
    if not path.exists():
        pytest.skip(
            f"{path} is absent: the panka authors' examples are read in place "
            "from ../shared/fixtures/panka-examples, never copied"
        )
    return path


@pytest.mark.parametrize("name", ["simple-stack.yaml", "simple-web-app"])
def test_the_panka_authors_examples_validate_without_errors(name: str) -> None:
    result = validate(read_path(_panka(name)))
    assert result.errors == (), [f.as_text() for f in result.errors]


@pytest.mark.parametrize("name", ["simple-stack.yaml", "simple-web-app"])
def test_the_panka_authors_examples_plan_as_all_create(name: str) -> None:
    result = validate(read_path(_panka(name)))
    the_plan = plan(result, None, environment="development")
    assert the_plan.actions and {a.action for a in the_plan.actions} == {"create"}


def test_the_panka_single_file_example_resolves_service_variables() -> None:
    stack = validate(read_path(_panka("simple-stack.yaml"))).stack
    api = stack.components["api-server"]
    assert api.spec["image"] == {
        "repository": "myregistry/backend",
        "tag": "1.0.0",
        "pullPolicy": "Always",
    }
    assert api.depends_on == {"main-db"}


def _state_after(the_plan) -> dict:
    return {
        "version": "1.0",
        "metadata": {"stack": the_plan.stack, "environment": the_plan.environment},
        "resources": {
            a.component: {"id": a.component, "status": "ready", **a.state_fields()}
            for a in the_plan.actions
        },
    }


def test_the_demo_stack_plans_updates_and_replaces_with_the_real_schemas() -> None:
    files = {k: v.decode() for k, v in read_path(EXAMPLES / "shop").items()}
    first = plan(validate(files), None, environment="production")
    state = _state_after(first)
    assert {a.action for a in plan(validate(files), state, environment="production").actions} == {
        "no-op"
    }

    queue = "services/orders/queue.yaml"
    files[queue] = files[queue].replace("visibilityTimeout: 120", "visibilityTimeout: 150")
    files[queue] = files[queue].replace("name: orderId", "name: order_id")
    changed = plan(validate(files), state, environment="production")
    by_name = {a.component: a for a in changed.actions}
    update = by_name["order-queue"]
    assert update.action == "update"
    assert [(c.path, c.old, c.new) for c in update.changes] == [
        ("spec.visibilityTimeout", 120, 150)
    ]
    replace = by_name["orders-table"]
    assert (replace.action, replace.replace_field) == ("replace", "spec.hashKey")
    assert {a.action for n, a in by_name.items() if n not in ("order-queue", "orders-table")} == {
        "no-op"
    }

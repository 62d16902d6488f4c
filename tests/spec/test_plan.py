"""The plan (format.md §6, §8): golden cases, ordering, state handling, the hash."""

from __future__ import annotations

import json

import pytest

from deployments.spec import NotPlannable, TenantPolicy, config_hash, plan, validate
from deployments.spec.plan import Plan

from .conftest import component, single

pytestmark = pytest.mark.usefixtures("fake_kinds")

TABLE = "hashKey: {name: id, type: S}\n"


def shop(
    queue_spec: str = "visibilityTimeout: 30\n",
    table_spec: str = TABLE,
    *,
    extra: tuple[str, ...] = (),
) -> dict[str, str]:
    """q and t at level 0, api (needs both) at level 1, extras as given."""
    api = (
        'image: {repository: x, tag: "1"}\nenvironment:\n'
        "  - {name: Q, valueFrom: {component: q, output: queueUrl}}\n"
        "dependsOn: [t]\n"
    )
    return single(
        component("q", spec=queue_spec),
        component("t", "DynamoDB", spec=table_spec),
        component("api", "MicroService", spec=api),
        *extra,
    )


def state_after(applied: Plan, *, serial: int = 1, drop_config: bool = False) -> dict:
    """The state an apply of ``applied`` would leave (format.md §8 plus `config`)."""
    resources = {}
    for action in applied.actions:
        if action.action == "delete":
            continue
        entry = {
            "id": f"phys-{action.component}",
            "provider": "aws",
            "status": "ready",
            "attributes": {},
            **action.state_fields(),
        }
        if drop_config:
            del entry["config"]  # as the panka CLI writes it
        resources[action.component] = entry
    return {
        "version": "1.0",
        "metadata": {
            "stack": applied.stack,
            "environment": applied.environment,
            "serial": serial,
            "lineage": "L-1",
        },
        "resources": resources,
    }


def planned(files: dict[str, str], state: dict | None = None, **kwargs: object) -> Plan:
    result = validate(files)
    assert result.ok, result.findings
    return plan(result, state, environment="production", **kwargs)  # type: ignore[arg-type]


def actions(p: Plan) -> list[tuple[str, str]]:
    return [(a.component, a.action) for a in p.actions]


def test_an_empty_state_creates_everything_in_level_order() -> None:
    p = planned(shop())
    assert actions(p) == [("q", "create"), ("t", "create"), ("api", "create")]
    assert [a.level for a in p.actions] == [0, 0, 1]
    assert p.summary == {"create": 3, "update": 0, "replace": 0, "delete": 0, "no-op": 0}
    assert p.ok


def test_no_change_is_all_no_op() -> None:
    first = planned(shop())
    again = planned(shop(), state_after(first))
    assert actions(again) == [("q", "no-op"), ("t", "no-op"), ("api", "no-op")]
    assert not again.has_changes


def test_one_changed_field_is_an_update_naming_that_field() -> None:
    first = planned(shop())
    changed = planned(shop("visibilityTimeout: 90\n"), state_after(first))
    (update,) = [a for a in changed.actions if a.action != "no-op"]
    assert (update.component, update.action) == ("q", "update")
    assert [(c.path, c.old, c.new) for c in update.changes] == [("spec.visibilityTimeout", 30, 90)]


def test_a_key_field_change_is_a_replace_naming_the_field() -> None:
    first = planned(shop())
    changed = planned(shop(table_spec="hashKey: {name: pk, type: S}\n"), state_after(first))
    replace = next(a for a in changed.actions if a.component == "t")
    assert replace.action == "replace"
    assert replace.replace_field == "spec.hashKey"
    assert [c.path for c in replace.changes] == ["spec.hashKey.name"]


def test_a_removed_component_is_deleted_after_everything_else() -> None:
    extra = (component("old", spec="dependsOn: [older]\n"), component("older"))
    first = planned(shop(extra=extra))
    later = planned(shop(), state_after(first))
    assert actions(later)[-2:] == [("old", "delete"), ("older", "delete")]
    assert [a.level for a in later.actions[-2:]] == [1, 0]  # reverse level order


def test_creates_and_updates_respect_levels() -> None:
    first = planned(shop())
    changed = planned(
        shop("visibilityTimeout: 90\n", extra=(component("late", spec="dependsOn: [api]\n"),)),
        state_after(first),
    )
    order = [a.component for a in changed.actions]
    levels = {a.component: a.level for a in changed.actions}
    assert order == ["q", "t", "api", "late"]
    assert levels == {"q": 0, "t": 0, "api": 1, "late": 2}
    for action in changed.actions:
        for dep in action.depends_on:
            assert order.index(dep) < order.index(action.component)


def test_a_cli_state_without_config_falls_back_to_the_hash() -> None:
    first = planned(shop())
    same = planned(shop(), state_after(first, drop_config=True))
    assert {a.action for a in same.actions} == {"no-op"}
    changed = planned(shop("visibilityTimeout: 90\n"), state_after(first, drop_config=True))
    update = next(a for a in changed.actions if a.component == "q")
    assert update.action == "update" and update.changes == ()
    assert "changed fields are unknown" in update.reason


def test_a_kind_or_service_change_replaces() -> None:
    state = state_after(planned(shop()))
    state["resources"]["q"]["type"] = "SNS"
    state["resources"]["t"]["service"] = "elsewhere"
    p = planned(shop(), state)
    assert {a.component: a.replace_field for a in p.actions if a.action == "replace"} == {
        "q": "kind",
        "t": "service",
    }


def test_a_resource_left_failed_is_applied_again() -> None:
    state = state_after(planned(shop()))
    state["resources"]["api"]["status"] = "failed"
    api = next(a for a in planned(shop(), state).actions if a.component == "api")
    assert api.action == "update" and "failed" in api.reason


def test_an_engine_downgrade_is_a_plan_error() -> None:
    db = component("db", "RDS", spec='engine: {type: postgres, version: "15"}\n')
    first = planned(single(db))
    older = single(component("db", "RDS", spec='engine: {type: postgres, version: "14"}\n'))
    p = planned(older, state_after(first))
    assert [f.code for f in p.findings] == ["version-downgrade"]
    assert not p.ok


def test_a_stack_with_errors_cannot_be_planned() -> None:
    result = validate(single(component("q", spec="dependsOn: [nowhere]\n")))
    with pytest.raises(NotPlannable) as caught:
        plan(result, None, environment="production")
    assert [f.code for f in caught.value.findings] == ["unknown-reference"]


def test_the_state_must_belong_to_the_stack_and_environment() -> None:
    state = state_after(planned(shop()))
    p = plan(validate(shop()), state, environment="staging")
    assert [f.code for f in p.findings] == ["state-mismatch"]


def test_a_malformed_state_is_reported_not_raised() -> None:
    result = validate(shop())
    for bad in ("nope", {"resources": "x"}, {"resources": {"q": "x"}}, {"version": "9"}):
        p = plan(result, bad, environment="production")  # type: ignore[arg-type]
        assert "invalid-state" in {f.code for f in p.findings}


def test_the_environment_must_be_allowed_by_the_tenant() -> None:
    policy = TenantPolicy(allowed_environments=frozenset({"dev"}))
    p = planned(shop(), policy=policy)
    assert [f.code for f in p.findings] == ["tenant-policy"]


def test_the_hash_is_stable_and_bound_to_the_state() -> None:
    files = shop()
    reordered = dict(reversed(list(files.items())))
    assert planned(files).hash == planned(reordered).hash
    first = planned(files)
    assert (
        planned(files, state_after(first, serial=1)).hash
        != planned(files, state_after(first, serial=2)).hash
    )
    assert planned(files).hash.startswith("sha256:")


def test_config_hash_is_the_hash_of_the_stored_config() -> None:
    create = planned(shop()).actions[0]
    assert create.config_hash == config_hash(create.config)


def test_the_plan_serialises_to_json() -> None:
    first = planned(shop())
    p = planned(shop("visibilityTimeout: 90\n"), state_after(first))
    data = json.loads(json.dumps(p.as_dict()))
    assert data["summary"]["update"] == 1
    assert data["hash"] == p.hash
    assert data["actions"][0]["changes"] == [
        {"path": "spec.visibilityTimeout", "old": 30, "new": 90}
    ]

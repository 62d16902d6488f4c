"""The fast validator (kinds/fastpath.py) against the usual path (walk.py, then pydantic).

Whenever the caller vouches a spec holds no null, the two must give the same model, the
same issues and the same data; the fast validator must actually be used on clean specs,
and refuse (so the usual path reports) anything walk.py would have something to say on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployments.spec import validate
from deployments.spec.kinds import registry
from deployments.spec.loader import NodeBudget, load_text

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))
from spec_bench import generate  # noqa: E402


def _specs() -> list[tuple[str, Any]]:
    """(kind, substituted spec) of every component of a bench stack and our examples."""
    stacks = [generate(22)]
    for name in ("shop", "analytics"):
        folder = REPO / "examples" / name
        stacks.append({str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*.yaml")})
    stacks.append({"payments.yaml": (REPO / "examples" / "payments.yaml").read_text()})
    specs = []
    for files in stacks:
        result = validate(files)
        assert result.ok, result.errors
        specs += [(c.kind, c.spec) for c in result.stack.components.values()]
    return specs


SPECS = _specs()


def _summary(result: Any) -> tuple[Any, ...]:
    model = result.model
    dumped = None if model is None else model.model_dump(mode="json", by_alias=True)
    return (result.kind, dumped, result.issues, result.data)


def _agree(kind: str, spec: Any) -> None:
    usual = registry.validate_spec(kind, spec)  # may hold nulls: the usual path
    fast = registry.validate_spec(kind, spec, nulls=False)
    assert _summary(fast) == _summary(usual)


@pytest.mark.parametrize(("kind", "spec"), SPECS, ids=[k for k, _ in SPECS])
def test_both_paths_agree_on_real_specs(kind: str, spec: Any) -> None:
    _agree(kind, spec)


def test_a_clean_spec_skips_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def walk(*args: object) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(registry, "walk", walk)
    taken = [kind for kind, spec in SPECS if kind in registry._FAST]
    assert {"SQS", "DynamoDB", "MicroService", "RDS"} <= set(taken)
    for kind, spec in SPECS:
        if kind in registry._FAST:
            assert registry.validate_spec(kind, spec, nulls=False).model is not None
    # Without the caller's word, the same spec is walked (here: the walk that fails).
    usual = registry.validate_spec("SQS", {"visibilityTimeout": 60}, nulls=True)
    assert [i.code for i in usual.issues] == ["spec-check-failed"]


LAMBDA = {"runtime": "python3.12", "handler": "i.h", "code": {"zipFile": "x"}}


@pytest.mark.parametrize(
    ("env", "codes"),
    [
        ({"T": {"valueFrom": {"component": "t", "output": "arn"}}}, []),
        ({"T": {"valueFrom": {"component": "t", "output": "arn"}, "typo": 1}}, ["unknown-field"]),
        (
            {"T": {"valueFrom": {"component": "t", "outptu": "arn"}}},
            ["unknown-field", "missing-field"],
        ),
    ],
)
def test_what_pydantic_validates_from_python_is_still_walked(env: dict, codes: list) -> None:
    """Lambda's environment values are validated by a Python validator (EnvRef), where
    the fast validator cannot refuse an unknown key: the rest of the walk looks there."""
    spec = {**LAMBDA, "environment": env}
    result = registry.validate_spec("Lambda", spec, nulls=False)
    assert sorted(i.code for i in result.issues) == sorted(codes)
    _agree("Lambda", spec)


@pytest.mark.parametrize(
    ("kind", "spec", "path"),
    [
        ("S3", {"bucket": {"acl": "public-read"}}, ("bucket", "acl")),
        ("CronJob", {"schedule": "rate(1 hour)", "lambda": {"component": "f"}, "command": ["x"]}, ("command",)),
        ("Lambda", {**LAMBDA, "triggers": [{"type": "kinesis", "source": {"component": "k"}}]}, ("triggers", 0, "type")),
    ],
)  # fmt: skip
def test_raw_checks_still_warn_on_the_fast_path(kind: str, spec: dict, path: tuple) -> None:
    assert kind in registry._FAST
    result = registry.validate_spec(kind, spec, nulls=False)
    assert result.model is not None
    assert ("not-applied", path) in [(i.code, i.path) for i in result.issues]
    _agree(kind, spec)


@pytest.mark.parametrize(
    ("kind", "spec", "code", "path"),
    [
        ("SQS", {"visibilityTimeout": 60, "visibilityTimeOut": 5}, "unknown-field", ("visibilityTimeOut",)),
        ("DynamoDB", {"hashKey": {"name": "id", "type": "S", "typo": 1}}, "unknown-field", ("hashKey", "typo")),
        ("MicroService", {"image": {"repository": "r", "tag": "1", "pullPolicy": "Always"}}, "not-applied", ("image", "pullPolicy")),
        ("SQS", {"fifo": False, "contentBasedDeduplication": True}, "invalid-combination", ("contentBasedDeduplication",)),
    ],
)  # fmt: skip
def test_what_the_walk_or_the_rules_report_still_comes_out(
    kind: str, spec: dict, code: str, path: tuple
) -> None:
    result = registry.validate_spec(kind, spec, nulls=False)
    assert (code, path) in [(i.code, i.path) for i in result.issues]
    _agree(kind, spec)


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("SQS", {"visibilityTimeout": "60", "fifo": "true", "contentBasedDeduplication": " false "}),
        ("SQS", {"visibilityTimeout": 43201}),  # over the range: refused natively, then by Python
        ("SQS", {"visibilityTimeout": True}),  # a boolean is not a whole number
        ("DynamoDB", {"hashKey": {"name": "id", "type": "s"}}),  # exact-case enum, other case
        ("DynamoDB", {"hashKey": {"name": "id", "type": " S "}}),  # trimmed by the validator
        ("MicroService", {"image": {"repository": "r", "tag": 1.5}, "replicas": "3"}),
        ("SNS", {"subscriptions": [{"protocol": "sqs", "component": "q"}, {"protocol": "SQS"}]}),
    ],
)  # fmt: skip
def test_both_paths_agree_on_converted_and_refused_values(kind: str, spec: dict) -> None:
    _agree(kind, spec)


def test_the_loader_knows_whether_a_document_holds_a_null() -> None:
    def nulls(text: str) -> list[bool]:
        return [d.nulls for d in load_text("f.yaml", text, NodeBudget()).documents]

    assert nulls("a: 1\nb: [x, 'y', true]\n---\nc: {d: ~}\n---\ne:\n---\n- null\n") == [
        False,
        True,
        True,
        True,
    ]
    # A file the indexing loader reads (an anchor) is never vouched for.
    assert nulls("a: &x 1\nb: *x\n") == [True]


_scalars = st.one_of(
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(["", "x", "3", "true", "256m", "S", "N", "NEW_IMAGE", "fifo", "rate(1 hour)"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "type", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _mappings(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path] if isinstance(value, dict) else []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found += _mappings(child, (*path, key))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_paths_agree_on_edited_specs(data: st.DataObject) -> None:
    """A real spec with one key set somewhere: a known key to a new value, or a new key."""
    kind, spec = data.draw(st.sampled_from([s for s in SPECS if s[0] in registry._FAST]))
    where = data.draw(st.sampled_from(_mappings(spec)))
    edited = _copy(spec)
    target = edited
    for step in where:
        target = target[step]
    known = sorted(k for k in target if isinstance(k, str))
    key = data.draw(st.sampled_from([*known, "x", "enabled", "name", "port"]))
    target[key] = data.draw(_values)
    _agree(kind, edited)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

"""Every finding code in the registry: one trigger each, checking code and position.

Core's codes run against the fake kinds module (tests/spec/fakekinds.py) so they test
core alone; the kinds' own codes run through the real schemas, end to end, to check
that core maps their paths to the right line and column.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from deployments.spec import CODES, plan, read_zip, schema, validate
from deployments.spec.codes import CORE_CODES, render_markdown
from deployments.spec.findings import Finding
from deployments.spec.policy import TenantPolicy
from deployments.spec.sources import SourceError

from . import fakekinds
from .conftest import STACK, dedent

REPO = Path(__file__).resolve().parents[2]

Position = tuple[str, int, int]
Trigger = Callable[[], tuple[list[Finding], Position]]


def _stack(*docs: str) -> dict[str, str]:
    """STACK (lines 1-8), then each document after a `---` line (the first on line 10)."""
    return {"stack.yaml": "---\n".join([STACK, *(dedent(d) for d in docs)])}


def _findings(files: dict[str, str | bytes], **kwargs: object) -> list[Finding]:
    return list(validate(files, **kwargs).findings)  # type: ignore[arg-type]


SQS = """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: q
  service: web
spec: {}
"""  # lines 10-15 when it is the first document after STACK


def _queue(name: str, extra_spec: str = "") -> str:
    spec = "spec:\n" + extra_spec if extra_spec else "spec: {}\n"
    return (
        f"apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n  name: {name}\n"
        f"  service: web\n{spec}"
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- core triggers ------------------------------------------------------------------------
# Each returns (findings, where the finding with that code must be).


def yaml_syntax():
    return _findings(_stack("kind: [SQS\nmetadata: {}\n")), ("stack.yaml", 11, 9)


def duplicate_key():
    return _findings(_stack(SQS + "kind: SNS\n")), ("stack.yaml", 16, 1)


def unsafe_tag():
    return _findings(_stack(SQS.replace("spec: {}", "spec: !!python/name:os.system ''"))), (
        "stack.yaml",
        15,
        7,
    )


def invalid_key():
    return _findings(_stack(SQS.replace("spec: {}", "spec:\n  ? {a: 1}\n  : x"))), (
        "stack.yaml",
        16,
        5,
    )


def number_out_of_range():
    return _findings(_stack(SQS.replace("spec: {}", "spec:\n  visibilityTimeout: 1" + "0" * 30))), (
        "stack.yaml",
        16,
        22,
    )


def too_large():
    return _findings({"stack.yaml": STACK, "big.yaml": "a: " + "x" * (300 * 1024)}), (
        "big.yaml",
        1,
        1,
    )


def too_deep():
    return _findings(_stack(SQS.replace("spec: {}", "spec: " + "[" * 70 + "]" * 70))), (
        "stack.yaml",
        15,
        70,
    )  # the 65th level: `spec:` is level 2, at column 7


def too_many_nodes():
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=True)
    )
    return _findings(_stack(bomb)), ("stack.yaml", 14, 20)  # aliases pass 50,000 here


def not_utf8():
    return _findings({"stack.yaml": STACK, "services/web/q.yaml": b"kind: SQS\n# caf\xe9\n"}), (
        "services/web/q.yaml",
        2,
        6,
    )


def ignored_file():
    return _findings(
        {"stack.yaml": STACK, "services/web/q.yaml": dedent(SQS), "docs/notes.yaml": "a: 1\n"}
    ), ("docs/notes.yaml", 1, 1)


def invalid_envelope():
    return _findings(_stack("apiVersion: core.panka.io/v1\nmetadata:\n  name: q\n")), (
        "stack.yaml",
        10,
        1,
    )


def invalid_api_version():
    return _findings(_stack(SQS.replace("components.panka.io/v1", "panka.io/v2"))), (
        "stack.yaml",
        10,
        13,
    )


def unknown_kind():
    return _findings(_stack(SQS.replace("kind: SQS", "kind: Sqs"))), ("stack.yaml", 11, 7)


def kind_not_deployable():
    return _findings(_stack(SQS.replace("kind: SQS", "kind: DocumentDB"))), ("stack.yaml", 11, 7)


def unknown_field():
    return _findings(_stack(SQS + "status: ready\n")), ("stack.yaml", 16, 1)


def invalid_name():
    return _findings(_stack(SQS.replace("name: q", "name: Queue_1"))), ("stack.yaml", 13, 9)


def duplicate_name():
    return _findings(_stack(SQS, SQS)), ("stack.yaml", 20, 9)


def missing_service():
    return _findings(_stack(SQS.replace("  service: web\n", ""))), ("stack.yaml", 12, 1)


def service_mismatch():
    return _findings({"stack.yaml": STACK, "services/api/q.yaml": dedent(SQS)}), (
        "services/api/q.yaml",
        5,
        12,
    )


def stack_mismatch():
    return _findings(_stack(SQS.replace("  service: web\n", "  service: web\n  stack: shop2\n"))), (
        "stack.yaml",
        15,
        10,
    )


def tenant_mismatch():
    stack = STACK.replace("  name: shop\n", "  name: shop\n  tenant: globex\n")
    files = {"stack.yaml": stack + "---\n" + dedent(SQS)}
    return _findings(files, tenant="acme"), ("stack.yaml", 5, 11)


def missing_stack():
    return _findings({"q.yaml": dedent(SQS)}), ("q.yaml", 1, 1)


def multiple_stacks():
    return _findings(_stack(SQS, STACK)), ("stack.yaml", 18, 7)


def empty_service():
    service = "apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: idle\n"
    return _findings(_stack(SQS, service)), ("stack.yaml", 20, 9)


def unresolved_variable():
    spec = 'spec:\n  visibilityTimeout: "3${SECS}"\n'
    return _findings(_stack(SQS.replace("spec: {}\n", spec))), ("stack.yaml", 16, 24)


def invalid_variable():
    spec = "spec:\n  type: x${a b}\n"
    return _findings(_stack(SQS.replace("spec: {}\n", spec))), ("stack.yaml", 16, 10)


def unused_variable():
    stack = STACK + "  variables:\n    UNUSED: x\n"
    return _findings({"stack.yaml": stack + "---\n" + dedent(SQS)}), ("stack.yaml", 10, 5)


def unknown_reference():
    spec = "spec:\n  dependsOn:\n    - qq\n"
    return _findings(_stack(SQS.replace("spec: {}\n", spec), _queue("q2"))), ("stack.yaml", 17, 7)


def unknown_output():
    web = dedent("""
        apiVersion: components.panka.io/v1
        kind: MicroService
        metadata:
          name: api
          service: web
        spec:
          image: {repository: x, tag: "1"}
          environment:
            - name: URL
              valueFrom: {component: q, output: dlqUrl}
        """)
    return _findings(_stack(SQS, web)), ("stack.yaml", 26, 41)


def wrong_reference_kind():
    topic = dedent("""
        apiVersion: components.panka.io/v1
        kind: SNS
        metadata:
          name: t
          service: web
        spec:
          subscriptions:
            - protocol: sqs
              component: table
        """)
    table = (
        SQS.replace("kind: SQS", "kind: DynamoDB")
        .replace("name: q", "name: table")
        .replace("spec: {}", "spec:\n  hashKey: {name: id, type: S}")
    )
    return _findings(_stack(topic, table)), ("stack.yaml", 18, 18)


def self_dependency():
    return _findings(_stack(SQS.replace("spec: {}\n", "spec:\n  dependsOn: [q]\n"))), (
        "stack.yaml",
        16,
        15,
    )


def dependency_cycle():
    a = _queue("a", "  dependsOn: [b]\n")
    b = _queue("b", "  dependsOn: [a]\n")
    return _findings(_stack(a, b)), ("stack.yaml", 16, 15)


def invalid_secret_ref():
    web = dedent("""
        apiVersion: components.panka.io/v1
        kind: MicroService
        metadata:
          name: api
          service: web
        spec:
          image: {repository: x, tag: "1"}
          secrets:
            - name: db
              secretRef: "my password!"
        """)
    return _findings(_stack(web)), ("stack.yaml", 19, 18)


def tenant_policy():
    policy = TenantPolicy(allowed_kinds=frozenset({"S3"}))
    return _findings(_stack(SQS), policy=policy), ("stack.yaml", 11, 7)


def invalid_archive():
    with pytest.raises(SourceError) as caught:
        read_zip(b"this is not a zip")
    return caught.value.findings, ("", 0, 0)


def unsafe_path():
    with pytest.raises(SourceError) as caught:
        read_zip(_zip({"../escape.yaml": b"a: 1\n"}))
    return caught.value.findings, ("../escape.yaml", 0, 0)


def internal_error():
    class Broken:
        KIND_NAMES = fakekinds.KIND_NAMES
        DEPLOYABLE_KINDS = fakekinds.DEPLOYABLE_KINDS

        @staticmethod
        def validate_spec(kind: str, spec: object, *, nulls: bool = True) -> object:
            if kind == "SQS":
                raise RuntimeError("bug")
            return fakekinds.validate_spec(kind, spec)

        def __getattr__(self, name: str) -> object:
            return getattr(fakekinds, name)

    with schema.using_kinds(Broken()):  # type: ignore[arg-type]
        findings = _findings(_stack(SQS))
    return findings, ("stack.yaml", 15, 1)


def _planned_state(**changes: object) -> dict:
    return {
        "version": "1.0",
        "metadata": {"stack": "shop", "environment": "production"},
        "resources": {},
        **changes,
    }


def invalid_state():
    result = validate(_stack(SQS))
    the_plan = plan(result, _planned_state(resources=["q"]), environment="production")
    return list(the_plan.findings), ("state.json", 0, 0)


def state_mismatch():
    result = validate(_stack(SQS))
    the_plan = plan(result, _planned_state(), environment="staging")
    return list(the_plan.findings), ("state.json", 0, 0)


RDS = """\
apiVersion: components.panka.io/v1
kind: RDS
metadata:
  name: db
  service: web
spec:
  engine: {type: postgres, version: "14"}
"""


def version_downgrade():
    result = validate(_stack(RDS))
    old = dict(result.stack.components["db"].config())
    old["engine"] = {"type": "postgres", "version": "15"}
    state = _planned_state(
        resources={
            "db": {
                "type": "RDS",
                "service": "web",
                "status": "ready",
                "config": {
                    "kind": "RDS",
                    "service": "web",
                    "region": "us-east-1",
                    "labels": {},
                    "spec": old,
                },
            }
        }
    )
    the_plan = plan(result, state, environment="production")
    return list(the_plan.findings), ("stack.yaml", 13, 9)


def default_vpc():
    from deployments.spec import TenantPolicy

    result = validate(_stack(SQS, RDS))
    the_plan = plan(result, None, environment="production", policy=TenantPolicy(own_network=False))
    return list(the_plan.findings), ("stack.yaml", 20, 9)  # db's name; the queue has none


def stack_name_mismatch() -> tuple[list[Finding], Position]:
    from deployments.spec.expected import expect_stack_name

    result = expect_stack_name(validate(_stack()), "orders")
    return list(result.findings), ("stack.yaml", 4, 9)


CORE_TRIGGERS: dict[str, Trigger] = {
    name.replace("_", "-"): fn
    for name, fn in list(globals().items())
    if callable(fn) and name.replace("_", "-") in CORE_CODES
}


@pytest.mark.usefixtures("fake_kinds")
@pytest.mark.parametrize("code", sorted(CORE_TRIGGERS))
def test_core_code_is_triggered_at_its_position(code: str) -> None:
    findings, (file, line, column) = CORE_TRIGGERS[code]()
    matching = [f for f in findings if f.code == code]
    assert matching, f"{code} not reported; got {findings}"
    assert (matching[0].file, matching[0].line, matching[0].column) == (file, line, column), (
        matching[0]
    )
    assert matching[0].severity == CORE_CODES[code].severity


def test_every_core_code_has_a_trigger() -> None:
    assert set(CORE_CODES) == set(CORE_TRIGGERS)


# -- the kinds' codes, through the real schemas --------------------------------------------


def _web(spec: str) -> dict[str, str]:
    doc = (
        "apiVersion: components.panka.io/v1\nkind: MicroService\nmetadata:\n  name: api\n"
        "  service: web\nspec:\n" + spec
    )
    return _stack(doc)  # spec: is on line 15, its first field on line 16


KIND_TRIGGERS: dict[str, tuple[dict[str, str], Position]] = {
    # image.tag missing: reported on the parent mapping, i.e. the `image:` key.
    "missing-field": (_web("  image:\n    repository: nginx\n"), ("stack.yaml", 16, 3)),
    "invalid-type": (
        _web("  image: {repository: nginx, tag: '1'}\n  ports: 80\n"),
        ("stack.yaml", 17, 10),
    ),
    "invalid-value": (
        _web("  image: {repository: nginx, tag: '1'}\n  replicas: -1\n"),
        ("stack.yaml", 17, 13),
    ),
    "invalid-combination": (
        _web("  image: {repository: nginx, tag: '1'}\n  runtime: {cpu: 256, memory: 4096}\n"),
        ("stack.yaml", 17, 31),
    ),
    "duplicate-entry": (
        _web(
            "  image: {repository: nginx, tag: '1'}\n  ports:\n"
            "    - {name: http, port: 80}\n    - {name: http, port: 81}\n"
        ),
        ("stack.yaml", 19, 14),
    ),
    "field-not-allowed": (
        _stack(
            SQS.replace("kind: SQS", "kind: Worker").replace(
                "spec: {}",
                "spec:\n  image: {repository: x, tag: '1'}\n  ports: [{name: h, port: 80}]",
            )
        ),
        ("stack.yaml", 17, 3),
    ),
    "not-deployable": (
        _web("  image: {repository: nginx, tag: '1'}\n  runtime: {platform: ec2}\n"),
        ("stack.yaml", 17, 23),
    ),
    "unknown-field": (
        _web("  image: {repository: nginx, tag: '1'}\n  replica: 2\n"),
        ("stack.yaml", 17, 3),
    ),
    "not-applied": (
        _web("  image: {repository: nginx, tag: '1', pullPolicy: Always}\n"),
        ("stack.yaml", 16, 52),
    ),
}


def _real_kinds():
    try:
        from deployments.spec import kinds
    except ImportError as exc:  # written in parallel; say why rather than error
        pytest.skip(f"deployments.spec.kinds does not import yet: {exc}")
    return kinds


@pytest.mark.parametrize("code", sorted(KIND_TRIGGERS))
def test_kind_code_is_mapped_to_its_position(code: str) -> None:
    _real_kinds()
    files, (file, line, column) = KIND_TRIGGERS[code]
    result = validate(files)
    matching = [f for f in result.findings if f.code == code]
    assert matching, f"{code} not reported; got {result.findings}"
    assert (matching[0].file, matching[0].line, matching[0].column) == (file, line, column), (
        matching[0]
    )


def test_a_schema_that_fails_is_reported_as_spec_check_failed_at_spec(monkeypatch) -> None:
    kinds = _real_kinds()
    from deployments.spec.kinds import registry

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(registry, "_validate", explode)
    result = validate(_stack(SQS))
    finding = next(f for f in result.findings if f.code == "spec-check-failed" and f.line > 9)
    assert (finding.file, finding.line, finding.column) == ("stack.yaml", 15, 7)  # `{}`
    assert "spec-check-failed" in kinds.KIND_CODES


def test_every_kind_code_has_a_trigger() -> None:
    kinds = _real_kinds()
    assert set(kinds.KIND_CODES) - set(CORE_CODES) <= set(KIND_TRIGGERS) | {"spec-check-failed"}


# -- the registry and its documentation ----------------------------------------------------


def test_the_registry_merges_core_and_kind_codes() -> None:
    kinds = _real_kinds()
    assert set(CODES) == set(CORE_CODES) | set(kinds.KIND_CODES)


def test_the_finding_codes_doc_is_up_to_date() -> None:
    _real_kinds()  # the doc lists the kinds' codes too
    doc = REPO / "docs" / "finding-codes.md"
    assert doc.read_text("utf-8") == render_markdown(), (
        "docs/finding-codes.md is stale: run "
        "`.venv/bin/python -m deployments.spec codes > docs/finding-codes.md`"
    )

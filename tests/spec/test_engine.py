"""Stack assembly: layouts give identical results, services, membership, results."""

from __future__ import annotations

import json

import pytest

from deployments.spec import validate

from .conftest import STACK, codes, component, only, single

pytestmark = pytest.mark.usefixtures("fake_kinds")


def folder() -> dict[str, str]:
    return {
        "stack.yaml": STACK,
        "services/web/service.yaml": "apiVersion: core.panka.io/v1\nkind: Service\n"
        "metadata:\n  name: web\nspec:\n  dependsOn: [data]\n",
        "services/web/app.yaml": component(
            "api", "MicroService", service=None, spec='image: {repository: x, tag: "1"}\n'
        ),
        "services/data/queues.yaml": component("q", service=None)
        + "---\n"
        + component("r", service=None, spec="dependsOn: [q]\n"),
    }


def test_the_folder_and_single_file_layouts_give_the_same_stack() -> None:
    a = validate(folder())
    b = validate(
        single(
            "apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: web\n"
            "spec:\n  dependsOn: [data]\n",
            component("api", "MicroService", spec='image: {repository: x, tag: "1"}\n'),
            component("q", service="data"),
            component("r", service="data", spec="dependsOn: [q]\n"),
        )
    )
    assert a.ok and b.ok, (a.findings, b.findings)
    assert (a.stack.layout, b.stack.layout) == ("folder", "single-file")

    def shape(result):
        return {
            n: (c.kind, c.service, c.spec, sorted(c.depends_on))
            for n, c in result.stack.components.items()
        }

    assert shape(a) == shape(b)
    assert a.stack.graph.order == b.stack.graph.order == ("q", "r", "api")


def test_file_order_never_changes_the_result() -> None:
    files = folder()
    files["services/web/app.yaml"] += "---\n" + component("api", service=None)  # a duplicate
    forward = validate(files)
    backward = validate(dict(reversed(list(files.items()))))
    assert forward.findings == backward.findings
    assert only(forward, "duplicate-name").file == "services/web/app.yaml"


def test_a_folder_without_service_yaml_implies_the_service() -> None:
    result = validate(folder())
    data = result.stack.services["data"]
    assert (data.explicit, data.components) == (False, ["q", "r"])
    assert result.stack.services["web"].explicit


def test_an_explicit_service_that_matches_its_folder_is_fine() -> None:
    files = folder()
    files["services/data/q2.yaml"] = component("q2", service="data")
    assert validate(files).ok


def test_a_service_document_in_the_wrong_folder_is_a_mismatch() -> None:
    files = folder()
    files["services/data/service.yaml"] = (
        "apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: other\n"
    )
    assert only(validate(files), "service-mismatch").file == "services/data/service.yaml"


def test_a_stack_with_errors_still_has_its_graph_for_the_editor() -> None:
    result = validate(single(component("a", spec="dependsOn: [b]\n"), component("b", "Nope")))
    assert not result.ok
    assert "unknown-kind" in codes(result)
    assert list(result.stack.components) == ["a"]


def test_errors_come_first_then_file_and_position() -> None:
    files = single(component("a", meta="  labels: {x: y}\n"), component("a"))
    files["stack.yaml"] = files["stack.yaml"].replace(
        "spec:\n  provider", "spec:\n  typo: 1\n  provider"
    )
    result = validate(files)
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities)  # "error" < "warning"


def test_the_result_serialises_to_json() -> None:
    data = json.loads(json.dumps(validate(folder()).as_dict()))
    assert data["ok"] is True
    assert data["stack"]["order"] == ["q", "r", "api"]
    assert data["stack"]["components"]["api"]["level"] == 2


def test_labels_must_be_strings_but_numbers_keep_their_text() -> None:
    result = validate(single(component("a", meta="  labels: {v: 1.10, on: true}\n")))
    assert result.stack.components["a"].labels == {"v": "1.10", "on": "true"}
    bad = validate(single(component("a", meta="  labels: {v: [1]}\n")))
    assert only(bad, "invalid-envelope").path == "metadata.labels.v"


def test_a_document_that_is_not_a_mapping_is_an_envelope_error() -> None:
    result = validate(single("- just\n- a list\n"))
    assert only(result, "invalid-envelope").line == 10


def test_the_unknown_kind_message_lists_the_supported_kinds() -> None:
    finding = only(validate(single(component("a", "Lamda"))), "unknown-kind")
    assert "did you mean `Lambda`?" in finding.message
    assert "MicroService" in finding.message and "DocumentDB" not in finding.message


def test_no_stack_document_gives_no_stack_but_still_checks_the_rest() -> None:
    result = validate({"q.yaml": component("q", spec="dependsOn: [zz]\n")})
    assert result.stack is None
    assert codes(result) == {"missing-stack", "unknown-reference"}


def test_the_whole_stack_size_and_file_count_are_limited() -> None:
    many = {f"f{i}.yaml": "a: 1\n" for i in range(201)}
    assert codes(validate(many)) == {"too-large"}
    big = {f"f{i}.yaml": "a: " + "x" * 200_000 for i in range(11)}
    assert codes(validate(big)) == {"too-large"}


def test_a_duplicate_service_in_one_file_is_reported_once_and_not_used() -> None:
    svc = "apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: web\n"
    result = validate(
        single(
            svc + "spec:\n  variables: {A: first}\n",
            svc + "spec:\n  variables: {A: second}\n",
            component("q", spec="type: ${A}\n"),
        )
    )
    assert only(result, "duplicate-name").line == 20  # the second `name: web`
    assert result.stack.components["q"].spec["type"] == "first"


def test_a_component_knows_where_its_name_is_written() -> None:
    # Looked up on demand (the loader indexes positions only when one is needed).
    result = validate(single(component("a"), component("b", spec="dependsOn: [a]\n")))
    assert [(c.name, c.line, c.column) for c in result.stack.components.values()] == [
        ("a", 13, 9),
        ("b", 20, 9),
    ]


def test_numbers_and_booleans_in_labels_and_variables_keep_their_written_text() -> None:
    stack = STACK.replace(
        "spec:\n", "spec:\n  variables:\n    N: 0x1F\n    F: 1.10\n    B: True\n    I: 42\n"
    )
    meta = "  labels: {n: 0x1F, f: 1.10, b: True, i: 42}\n"
    result = validate(single(component("a", meta=meta), stack=stack))
    assert result.stack.variables == {"N": "0x1F", "F": "1.10", "B": "True", "I": "42"}
    assert result.stack.components["a"].labels == {"n": "0x1F", "f": "1.10", "b": "True", "i": "42"}


def test_an_unresolved_variable_is_not_also_reported_as_a_wrong_type() -> None:
    from deployments.spec import validate

    files = {
        "stack.yaml": "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: shop\n"
        "spec:\n  provider:\n    name: aws\n    region: us-east-1\n",
        "services/api/q.yaml": "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n"
        "  name: orders\nspec:\n  visibilityTimeout: ${NOPE}\n  delaySeconds: abc\n",
    }
    codes = [(f.code, f.path) for f in validate(files).findings]
    assert ("unresolved-variable", "spec.visibilityTimeout") in codes
    assert ("invalid-type", "spec.visibilityTimeout") not in codes


def test_only_the_cascade_on_the_same_field_is_dropped() -> None:
    from deployments.spec.engine import _without_cascades
    from deployments.spec.findings import Finding

    findings = [
        Finding("error", "unresolved-variable", "m", "a.yaml", 6, 22, "spec.visibilityTimeout"),
        Finding("error", "invalid-type", "m", "a.yaml", 6, 22, "spec.visibilityTimeout"),
        Finding("error", "invalid-type", "m", "a.yaml", 7, 17, "spec.delaySeconds"),
        Finding("error", "invalid-type", "m", "b.yaml", 6, 22, "spec.visibilityTimeout"),
    ]
    kept = _without_cascades(findings)
    assert [(f.file, f.path, f.code) for f in kept] == [
        ("a.yaml", "spec.visibilityTimeout", "unresolved-variable"),
        ("a.yaml", "spec.delaySeconds", "invalid-type"),
        ("b.yaml", "spec.visibilityTimeout", "invalid-type"),
    ]

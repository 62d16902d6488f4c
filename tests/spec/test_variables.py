"""Variables (format.md §3): scopes, defaults, escapes, typing, positions, unused."""

from __future__ import annotations

import pytest

from deployments.spec import validate

from .conftest import STACK, at, codes, component, only, single

pytestmark = pytest.mark.usefixtures("fake_kinds")


def stack_with(variables: str) -> str:
    return STACK + "  variables:\n" + "".join(f"    {line}\n" for line in variables.splitlines())


def service(name: str, variables: str = "", extra: str = "") -> str:
    body = "".join(f"    {line}\n" for line in variables.splitlines())
    spec = f"spec:\n  variables:\n{body}" if variables else "spec: {}\n"
    return f"apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: {name}\n{spec}{extra}"


def spec_of(result, name: str = "q") -> dict:
    assert result.stack is not None, result.findings
    return result.stack.components[name].spec


def test_a_stack_variable_is_substituted_into_a_component() -> None:
    result = validate(single(component("q", spec="type: ${T}\n"), stack=stack_with("T: fifo")))
    assert result.ok, result.findings
    assert spec_of(result)["type"] == "fifo"


def test_the_service_scope_beats_the_stack_and_overrides_beat_both() -> None:
    files = single(
        service("web", "T: from-service"),
        component("q", spec="type: ${T}\n"),
        stack=stack_with("T: from-stack"),
    )
    assert spec_of(validate(files))["type"] == "from-service"
    assert spec_of(validate(files, overrides={"T": "general"}))["type"] == "general"
    both = {"T": "general", "web.T": "specific"}
    assert spec_of(validate(files, overrides=both))["type"] == "specific"


def test_a_service_qualified_reference_reads_that_services_scope_from_anywhere() -> None:
    files = single(
        service("api", "IMAGE_REPO: registry/api"),
        component("q", spec="type: ${api.IMAGE_REPO}\nkms: ${api.REGION}\n"),
        stack=stack_with("REGION: eu"),
    )
    result = validate(files)
    assert spec_of(result)["type"] == "registry/api"
    assert spec_of(result)["kms"] == "eu"  # api's scope falls back to the stack


def test_defaults_apply_only_when_nothing_is_defined() -> None:
    doc = component("q", spec="a: ${MISSING:-dflt}\nb: ${T:-dflt}\nc: x${MISSING:-}y\n")
    result = validate(single(doc, stack=stack_with("T: set")))
    assert result.ok, result.findings
    assert spec_of(result) == {"a": "dflt", "b": "set", "c": "xy"}


def test_double_dollar_escapes_a_reference_and_is_not_a_use() -> None:
    doc = component("q", spec='type: "$${T} costs $$5"\n')
    result = validate(single(doc, stack=stack_with("T: x")))
    assert spec_of(result)["type"] == "${T} costs $$5"
    assert only(result, "unused-variable")


def test_a_lone_reference_is_typed_by_the_schema_after_substitution() -> None:
    doc = component("q", spec='visibilityTimeout: "${SECS}"\n')
    result = validate(single(doc, stack=stack_with("SECS: 45")))
    assert spec_of(result)["visibilityTimeout"] == "45"  # a string until the schema
    assert result.stack.components["q"].config()["visibilityTimeout"] == 45


def test_variable_values_are_their_yaml_source_text() -> None:
    doc = component("q", spec="a: ${V}\nb: ${F}\nc: ${N}\nd: ${E}\n")
    result = validate(single(doc, stack=stack_with("V: 1.10\nF: True\nN: 8080\nE:")))
    assert spec_of(result) == {"a": "1.10", "b": "True", "c": "8080", "d": ""}


def test_substitution_never_touches_keys_and_cannot_inject_structure() -> None:
    doc = component("q", spec='"${K}": 1\ntype: ${T}\n')
    result = validate(single(doc, stack=stack_with('K: x\nT: "a: b\\n- c"')))
    spec = spec_of(result)
    assert "${K}" in spec
    assert spec["type"] == "a: b\n- c"


def test_a_value_containing_a_reference_is_not_expanded_again() -> None:
    doc = component("q", spec="type: ${A}\n")
    result = validate(single(doc, stack=stack_with('A: "$${B}"\nB: no')))
    assert spec_of(result)["type"] == "$${B}"


def test_an_unresolved_reference_points_at_its_exact_column() -> None:
    doc = component("q", spec='type: "abc ${NOPE} ${NOPE}"\n')
    result = validate(single(doc))
    first, second = sorted(
        (f for f in result.findings if f.code == "unresolved-variable"), key=lambda f: f.column
    )
    # Line 16 is `  type: "abc ${NOPE} ${NOPE}"`: the quote is column 9.
    assert at(first) == ("stack.yaml", 16, 14)
    assert at(second) == ("stack.yaml", 16, 22)
    assert first.path == "spec.type"
    assert "variable ${NOPE} is not defined in service 'web' or the stack" in first.message


def test_an_unresolved_reference_in_a_block_scalar_points_inside_the_block() -> None:
    doc = component("q", spec="type: |\n  line one\n  then ${GONE} here\n")
    finding = only(validate(single(doc)), "unresolved-variable")
    assert at(finding) == ("stack.yaml", 18, 10)


def test_an_unresolved_reference_suggests_a_close_name() -> None:
    doc = component("q", spec="type: ${VERSON}\n")
    finding = only(validate(single(doc, stack=stack_with("VERSION: 1"))), "unresolved-variable")
    assert "did you mean `VERSION`?" in finding.message


def test_a_reference_to_an_unknown_service_is_unresolved_with_a_suggestion() -> None:
    doc = component("q", spec="type: ${wbe.X}\n")
    finding = only(validate(single(doc)), "unresolved-variable")
    assert "service `wbe` is not in the stack (did you mean `web`?)" in finding.message


def test_malformed_references_are_invalid() -> None:
    doc = component("q", spec='a: "${}"\nb: "${x y}"\nc: "${open"\n')
    result = validate(single(doc))
    assert len([f for f in result.findings if f.code == "invalid-variable"]) == 3


def test_unused_stack_and_service_variables_and_overrides_are_warnings() -> None:
    files = single(
        service("web", "SVC_UNUSED: 1\nUSED: 2"),
        component("q", spec="type: ${USED}\n"),
        stack=stack_with("STACK_UNUSED: 1"),
    )
    result = validate(files, overrides={"NOBODY": "x"})
    unused = sorted(
        (f.file, f.line, f.message) for f in result.findings if f.code == "unused-variable"
    )
    assert unused == [
        ("", 0, "override `NOBODY` matches no variable reference in the stack"),
        ("stack.yaml", 10, "stack variable `STACK_UNUSED` is never used"),
        ("stack.yaml", 18, "variable `SVC_UNUSED` of service 'web' is never used"),
    ]
    assert result.ok  # warnings only


def test_no_unused_warnings_when_part_of_the_stack_did_not_parse() -> None:
    files = single(component("q"), stack=stack_with("MAYBE_USED: 1"))
    files["broken.yaml"] = "kind: [\n"
    assert "unused-variable" not in codes(validate(files))


def test_labels_annotations_and_description_are_substituted() -> None:
    meta = "  description: v${V}\n  labels:\n    version: ${V}\n  annotations:\n    a: ${V}\n"
    result = validate(single(component("q", meta=meta), stack=stack_with("V: 7")))
    q = result.stack.components["q"]
    assert (q.description, q.labels, q.annotations) == ("v7", {"version": "7"}, {"a": "7"})


def test_references_inside_aliased_values_are_substituted_everywhere() -> None:
    spec = "x: &common\n  t: ${T}\ny: *common\n"
    result = validate(single(component("q", spec=spec), stack=stack_with("T: ok")))
    assert spec_of(result) == {"x": {"t": "ok"}, "y": {"t": "ok"}}


def test_the_loaded_document_is_not_mutated_by_substitution() -> None:
    files = single(component("q", spec="type: ${T}\n"), stack=stack_with("T: a"))
    assert spec_of(validate(files, overrides={"T": "b"}))["type"] == "b"
    assert spec_of(validate(files))["type"] == "a"


def test_the_same_text_expands_in_each_components_own_scope() -> None:
    # Expansions are remembered per (text, service) within a validation.
    files = single(
        service("web", "T: from-web"),
        service("api", "T: from-api"),
        component("a", spec="type: ${T}\n"),
        component("b", spec="type: ${T}\n", service="api"),
        component("c", spec="type: ${T}\n"),
        stack=stack_with("T: from-stack"),
    )
    result = validate(files)
    assert [spec_of(result, n)["type"] for n in "abc"] == ["from-web", "from-api", "from-web"]


def test_the_same_unresolved_text_is_reported_at_every_place() -> None:
    files = single(
        component("a", spec="type: ${NOPE}\n"),
        component("b", spec="type: ${NOPE}\n"),
    )
    found = [f for f in validate(files).findings if f.code == "unresolved-variable"]
    assert [(f.line, f.column) for f in found] == [(16, 9), (24, 9)]

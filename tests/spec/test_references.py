"""References between components (format.md §4) and the graph they make."""

from __future__ import annotations

import pytest

from deployments.spec import validate

from .conftest import at, codes, component, only, single

pytestmark = pytest.mark.usefixtures("fake_kinds")

API = """\
image: {repository: x, tag: "1"}
environment:
  - name: URL
    valueFrom: {component: q, output: %s}
"""


def service(name: str, depends: str = "") -> str:
    spec = f"spec:\n  dependsOn: [{depends}]\n" if depends else "spec: {}\n"
    return f"apiVersion: core.panka.io/v1\nkind: Service\nmetadata:\n  name: {name}\n{spec}"


def test_depends_on_and_value_from_make_edges_and_levels() -> None:
    result = validate(
        single(
            component("q"),
            component("api", "MicroService", spec=API % "queueUrl" + "dependsOn: [t]\n"),
            component("t", "DynamoDB", spec="hashKey: {name: id, type: S}\n"),
        )
    )
    assert result.ok, result.findings
    graph = result.stack.graph
    assert graph.deps["api"] == {"q", "t"}
    assert graph.levels == {"q": 0, "t": 0, "api": 1}
    assert graph.order == ("q", "t", "api")
    assert result.stack.components["api"].depends_on == {"q", "t"}


def test_an_unknown_component_is_reported_with_a_suggestion() -> None:
    result = validate(
        single(component("task-queue"), component("b", spec="dependsOn: [task-qeue]\n"))
    )
    finding = only(result, "unknown-reference")
    assert (
        "component `task-qeue` is not in the stack (did you mean `task-queue`?)" in finding.message
    )
    assert finding.path == "spec.dependsOn[0]"


def test_naming_a_service_in_a_component_depends_on_explains_service_depends_on() -> None:
    result = validate(single(component("a", spec="dependsOn: [web]\n")))
    assert "is a service, not a component" in only(result, "unknown-reference").message


def test_snake_case_and_camel_case_outputs_are_both_accepted() -> None:
    for output in ("queue_url", "queueUrl", "arn"):
        result = validate(
            single(component("q"), component("api", "MicroService", spec=API % output))
        )
        assert result.ok, (output, result.findings)


def test_an_unknown_output_lists_the_kinds_outputs_and_suggests_one() -> None:
    result = validate(
        single(component("q"), component("api", "MicroService", spec=API % "queue_uri"))
    )
    finding = only(result, "unknown-output")
    assert "SQS has no output `queue_uri` (did you mean `queue_url`?)" in finding.message
    assert finding.path == "spec.environment[0].valueFrom.output"


def test_an_output_switched_off_by_the_targets_config_is_unknown() -> None:
    result = validate(
        single(component("q"), component("api", "MicroService", spec=API % "dlq_url"))
    )
    assert "not available with its configuration" in only(result, "unknown-output").message
    with_dlq = component("q", spec="deadLetterQueue: {enabled: true}\n")
    assert validate(single(with_dlq, component("api", "MicroService", spec=API % "dlq_url"))).ok


def test_a_reference_to_the_wrong_kind_is_reported() -> None:
    topic = component("t", "SNS", spec="subscriptions:\n  - {protocol: sqs, component: s3}\n")
    result = validate(single(topic, component("s3", "S3")))
    assert (
        "`s3` is a S3; this reference needs a Lambda or SQS"
        in only(result, "wrong-reference-kind").message
    )


def test_references_to_a_non_deployable_component_add_no_second_error() -> None:
    result = validate(
        single(component("docs", "DocumentDB"), component("a", spec="dependsOn: [docs]\n"))
    )
    assert codes(result) == {"kind-not-deployable"}


def test_self_dependencies_are_reported_for_components_and_services() -> None:
    result = validate(
        single(service("web", depends="web"), component("a", spec="dependsOn: [a]\n"))
    )
    messages = sorted(f.message for f in result.findings if f.code == "self-dependency")
    assert messages == ["component `a` depends on itself", "service 'web' depends on itself"]


def test_a_cycle_is_reported_once_with_the_whole_loop() -> None:
    result = validate(
        single(
            component("api", spec="dependsOn: [worker]\n"),
            component("worker", spec="dependsOn: [db]\n"),
            component("db", spec="dependsOn: [api]\n"),
            component("free"),
        )
    )
    finding = only(result, "dependency-cycle")
    assert finding.message == "dependency cycle: api → worker → db → api"
    assert at(finding)[1:] == (16, 15)  # api's dependsOn entry, where the loop can break
    assert result.stack.graph.levels == {"free": 0}


def test_service_depends_on_links_every_component_of_both_services() -> None:
    files = single(
        service("web", depends="data"),
        service("data"),
        component("a"),
        component("b"),
        component("d1", service="data"),
        component("d2", service="data"),
    )
    result = validate(files)
    assert result.ok, result.findings
    assert result.stack.graph.deps["a"] == {"d1", "d2"}
    assert result.stack.graph.deps["b"] == {"d1", "d2"}
    assert result.stack.services["web"].depends_on == ("data",)


def test_a_cycle_through_service_depends_on_is_reported() -> None:
    files = single(
        service("web", depends="data"),
        component("a"),
        component("d", service="data", spec="dependsOn: [a]\n"),
    )
    finding = only(validate(files), "dependency-cycle")
    assert finding.message == "dependency cycle: a → d → a"
    # a → d is made by the Service's dependsOn: the finding points at that entry.
    assert (finding.line, finding.column, finding.path) == (15, 15, "spec.dependsOn[0]")


def test_a_components_own_reference_is_where_a_cycle_edge_is_written() -> None:
    files = single(
        service("web", depends="data"),
        component("a", spec="dependsOn: [d]\n"),  # the same edge as the Service's
        component("d", service="data", spec="dependsOn: [a]\n"),
    )
    finding = only(validate(files), "dependency-cycle")
    assert (finding.line, finding.column, finding.path) == (23, 15, "spec.dependsOn[0]")


def test_an_unknown_service_in_depends_on_is_reported() -> None:
    finding = only(
        validate(
            single(service("web", depends="dta"), component("a"), component("x", service="data"))
        ),
        "unknown-reference",
    )
    assert "service `dta` is not in the stack (did you mean `data`?)" in finding.message


def test_unknown_references_are_not_reported_when_a_file_did_not_parse() -> None:
    files = single(component("a", spec="dependsOn: [in-the-broken-file]\n"))
    files["more.yaml"] = "kind: SQS\nmetadata: {name: [\n"
    result = validate(files)
    assert "unknown-reference" not in codes(result)
    assert "yaml-syntax" in codes(result)


@pytest.mark.parametrize(
    "ref",
    [
        "prod/db/password",
        "a+b=c.d@e-f_g",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCd",
    ],
)
def test_secret_names_and_arns_are_accepted(ref: str) -> None:
    spec = f'image: {{repository: x, tag: "1"}}\nsecrets:\n  - {{name: s, secretRef: "{ref}"}}\n'
    assert validate(single(component("api", "MicroService", spec=spec))).ok


@pytest.mark.parametrize("ref", ['""', '"has space"', "[not, a, string]"])
def test_secret_refs_that_are_not_names_are_invalid(ref: str) -> None:
    spec = f'image: {{repository: x, tag: "1"}}\nsecrets:\n  - {{name: s, secretRef: {ref}}}\n'
    finding = only(
        validate(single(component("api", "MicroService", spec=spec))), "invalid-secret-ref"
    )
    assert finding.path == "spec.secrets[0].secretRef"


def test_the_rds_password_secret_is_checked_too() -> None:
    spec = 'engine: {type: postgres}\ndatabase: {passwordSecret: {ref: ""}}\n'
    finding = only(validate(single(component("db", "RDS", spec=spec))), "invalid-secret-ref")
    assert finding.path == "spec.database.passwordSecret.ref"


def test_a_reference_to_a_document_with_an_unknown_kind_adds_no_second_error() -> None:
    result = validate(single(component("odd", "Sqs"), component("a", spec="dependsOn: [odd]\n")))
    assert codes(result) == {"unknown-kind"}

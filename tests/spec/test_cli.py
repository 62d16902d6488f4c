"""`panka validate|plan|graph|codes`: the CLI and its Django management command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from deployments.spec.cli import main

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"

pytestmark = pytest.mark.usefixtures("fake_kinds")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    (tmp_path / "stack.yaml").write_text(
        "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: s\n"
        "spec:\n  provider: {name: aws, region: us-east-1}\n---\n"
        "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n  name: q\n"
        "  service: web\nspec:\n  type: ${NOPE}\n"
    )
    return tmp_path


def test_validate_prints_file_line_col_severity_code_message_and_exits_1(broken: Path) -> None:
    status, out, _ = run("validate", str(broken))
    assert status == 1
    assert out.splitlines()[0] == (
        "stack.yaml:14:9: error unresolved-variable: variable "
        "${NOPE} is not defined in service 'web' or the stack"
    )
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"


def test_validate_takes_variable_overrides(broken: Path) -> None:
    assert run("validate", str(broken), "--var", "NOPE=fifo")[0] == 0
    assert run("validate", str(broken), "--var", "web.NOPE=fifo")[0] == 0
    assert run("validate", str(broken), "--var", "oops")[0] == 2


def test_validate_json_is_the_result_as_a_dict(broken: Path) -> None:
    status, out, _ = run("validate", str(broken), "--format", "json")
    data = json.loads(out)
    assert (status, data["ok"], data["findings"][0]["line"]) == (1, False, 14)


def test_plan_against_a_state_file(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "metadata": {"stack": "shop", "environment": "staging"},
                "resources": {"gone": {"type": "SQS", "service": "x", "depends_on": []}},
            }
        )
    )
    status, out, _ = run("plan", str(SHOP), "--state", str(tmp_path / "state.json"))
    assert status == 0, out
    assert out.startswith("Plan for stack shop in staging (sha256:")
    assert "  - delete  gone (SQS, level 0)" in out
    assert "Summary: 8 create, 0 update, 0 replace, 1 delete, 0 no-op" in out
    status, out, _ = run(
        "plan", str(SHOP), "--state", str(tmp_path / "state.json"), "--format", "json"
    )
    assert json.loads(out)["summary"]["create"] == 8


def test_plan_refuses_a_stack_with_errors_and_a_missing_state(broken: Path) -> None:
    assert run("plan", str(broken), "--state", str(broken / "stack.yaml"))[0] == 1
    status, _, err = run("plan", str(SHOP), "--state", str(broken / "missing.json"))
    assert status == 1 and "invalid-state" in err


def test_graph_prints_mermaid_or_dot() -> None:
    status, out, _ = run("graph", str(SHOP))
    assert status == 0
    assert out.startswith("flowchart LR\n")
    assert "n_order_queue --> n_order_worker" in out
    status, out, _ = run("graph", str(SHOP), "--format", "dot")
    assert '"order-queue" -> "order-worker";' in out


def test_codes_prints_the_finding_codes_doc() -> None:
    status, out, _ = run("codes")
    assert status == 0 and "| `unresolved-variable` | error |" in out


def test_a_bad_path_is_reported_not_raised(tmp_path: Path) -> None:
    status, _, err = run("validate", str(tmp_path / "nothing-here"))
    assert status == 1 and "invalid-archive" in err


def test_the_management_command_wraps_the_cli(broken: Path) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("panka", "validate", str(broken), stdout=out)
    assert caught.value.code == 1
    assert "error unresolved-variable" in out.getvalue()
    out = io.StringIO()
    call_command("panka", "graph", str(SHOP), "--format", "dot", stdout=out)
    assert out.getvalue().startswith('digraph "shop" {')

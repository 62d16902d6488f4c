"""Text renderings: findings, plans, Mermaid and DOT graphs."""

from __future__ import annotations

import pytest

from deployments.spec import plan, validate
from deployments.spec.render import dot, findings_text, mermaid, plan_text

from .conftest import component, single

pytestmark = pytest.mark.usefixtures("fake_kinds")


@pytest.fixture
def result():
    return validate(single(component("q"), component("r", spec="dependsOn: [q]\n")))


def test_findings_text_ends_with_a_count(result) -> None:
    assert findings_text(result) == "0 error(s), 0 warning(s)\n"


def test_mermaid_groups_by_service_and_draws_dependency_first(result) -> None:
    text = mermaid(result.stack)
    assert 'subgraph n_svc_web["web"]' in text
    assert "n_q --> n_r" in text


def test_dot_quotes_every_id(result) -> None:
    text = dot(result.stack)
    assert text.startswith('digraph "shop" {')
    assert '"q" -> "r";' in text
    assert '"r" [label="r\\nSQS"];' in text


def test_plan_text_lists_actions_and_a_summary(result) -> None:
    text = plan_text(plan(result, None, environment="staging"))
    assert "  + create  q (SQS, level 0)" in text
    assert text.endswith("Summary: 2 create, 0 update, 0 replace, 0 delete, 0 no-op\n")

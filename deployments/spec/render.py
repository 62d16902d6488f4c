"""Text renderings of results for the CLI and the pages: findings, plans, graphs."""

from __future__ import annotations

import json
import re
from typing import Any

from .model import Stack, ValidationResult
from .plan import Plan

_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "no-op": "="}


def findings_text(result: ValidationResult) -> str:
    lines = [f.as_text() for f in result.findings]
    lines.append(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)")
    return "\n".join(lines) + "\n"


def plan_text(plan: Plan) -> str:
    lines = [f"Plan for stack {plan.stack} in {plan.environment} ({plan.hash})"]
    for f in plan.findings:
        lines.append(f.as_text())
    for a in plan.actions:
        head = f"{_SYMBOL[a.action]:>3} {a.action:<7} {a.component} ({a.kind}, level {a.level})"
        if a.action == "replace":
            head += f": {a.replace_field} forces replacement"
        elif a.action == "update" and not a.changes:
            head += f": {a.reason}"
        lines.append(head)
        for c in a.changes:
            lines.append(f"        {c.path}: {_short(c.old)} → {_short(c.new)}")
    summary = ", ".join(f"{n} {k}" for k, n in plan.summary.items())
    lines.append(f"Summary: {summary}")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _node_id(name: str) -> str:
    # Mermaid and DOT both accept [A-Za-z0-9_] ids; names use '-', which they do not.
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _label(text: str, quote: str) -> str:
    return text.replace('"', quote)


def mermaid(stack: Stack) -> str:
    """A Mermaid flowchart: one subgraph per service, arrows from a dependency to what
    depends on it (the order things are created in)."""
    lines = ["flowchart LR"]
    for service in stack.services.values():
        label = _label(service.name, "#quot;")
        lines.append(f'  subgraph {_node_id("svc-" + service.name)}["{label}"]')
        for name in service.components:
            kind = stack.components[name].kind
            lines.append(
                f'    {_node_id(name)}["{_label(name, "#quot;")}<br/><small>{kind}</small>"]'
            )
        lines.append("  end")
    for dep, node in stack.graph.edges():
        lines.append(f"  {_node_id(dep)} --> {_node_id(node)}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A quoted DOT id."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(stack: Stack) -> str:
    """Graphviz DOT, clustered by service, edges from a dependency to its dependents."""
    lines = [f"digraph {_q(stack.name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for service in stack.services.values():
        lines.append(f"  subgraph {_q('cluster_' + service.name)} {{")
        lines.append(f"    label={_q(service.name)};")
        for name in service.components:
            kind = stack.components[name].kind
            label = _q(name)[:-1] + "\\n" + kind + '"'
            lines.append(f"    {_q(name)} [label={label}];")
        lines.append("  }")
    for dep, node in stack.graph.edges():
        lines.append(f"  {_q(dep)} -> {_q(node)};")
    lines.append("}")
    return "\n".join(lines) + "\n"

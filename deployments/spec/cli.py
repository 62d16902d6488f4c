"""``panka validate|plan|graph``: the command line over this package.

Django's ``manage.py panka`` adds these arguments to its own parser and calls
:func:`run`; ``python -m deployments.spec`` calls :func:`main` without Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from . import render
from .codes import render_markdown
from .engine import validate
from .findings import Finding
from .model import ValidationResult
from .plan import NotPlannable, plan
from .sources import SourceError, read_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="{validate,plan,graph,codes}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("path", help="stack folder, YAML file or .zip")
        p.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="K=V",
            help="deploy-time variable override (NAME or service.NAME); repeatable",
        )
        p.add_argument("--tenant", help="the tenant the stack belongs to (checks metadata.tenant)")

    p = sub.add_parser("validate", help="report every problem in a stack")
    common(p)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("plan", help="compare a stack with a state file")
    common(p)
    p.add_argument(
        "--state",
        required=True,
        metavar="STATE.json",
        help="the state JSON (format.md §8); '-' reads stdin, {} is an empty state",
    )
    p.add_argument(
        "--env",
        "--environment",
        dest="environment",
        help="environment (default: the state's, else development)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("graph", help="print the dependency graph")
    common(p)
    p.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")

    sub.add_parser("codes", help="print docs/finding-codes.md (every finding code)")


def main(
    argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    parser = argparse.ArgumentParser(prog="panka", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    return run(options, stdout or sys.stdout, stderr or sys.stderr)


def run(options: dict[str, Any], stdout: TextIO, stderr: TextIO) -> int:
    """Run one action; returns the exit status (1 when there are errors)."""
    if options["action"] == "codes":
        stdout.write(render_markdown())
        return 0
    try:
        overrides = _overrides(options.get("var") or [])
        files = read_path(options["path"])
    except SourceError as exc:
        for finding in exc.findings:
            stderr.write(finding.as_text() + "\n")
        return 1
    except ValueError as exc:
        stderr.write(f"panka: {exc}\n")
        return 2
    result = validate(files, overrides=overrides, tenant=options.get("tenant"))
    action = options["action"]
    if action == "validate":
        return _validate(result, options["format"], stdout)
    if action == "plan":
        return _plan(result, options, stdout, stderr, sys.stdin)
    return _graph(result, options["format"], stdout, stderr)


def _overrides(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--var expects K=V, got {pair!r}")
        result[key] = value
    return result


def _validate(result: ValidationResult, fmt: str, stdout: TextIO) -> int:
    if fmt == "json":
        json.dump(result.as_dict(), stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    else:
        stdout.write(render.findings_text(result))
    return 0 if result.ok else 1


def _plan(
    result: ValidationResult, options: dict[str, Any], stdout: TextIO, stderr: TextIO, stdin: TextIO
) -> int:
    state, problem = _read_state(options["state"], stdin)
    if problem is not None:
        stderr.write(problem.as_text() + "\n")
        return 1
    environment = options.get("environment") or _state_environment(state) or "development"
    try:
        the_plan = plan(result, state, environment=environment)
    except NotPlannable:
        stderr.write(render.findings_text(result))
        return 1
    for warning in result.warnings:
        stderr.write(warning.as_text() + "\n")
    if options["format"] == "json":
        json.dump(the_plan.as_dict(), stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    else:
        stdout.write(render.plan_text(the_plan))
    return 0 if the_plan.ok else 1


def _read_state(path: str, stdin: TextIO) -> tuple[Any, Finding | None]:
    try:
        text = stdin.read() if path == "-" else Path(path).read_text("utf-8")
        return json.loads(text), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Finding("error", "invalid-state", f"cannot read the state: {exc}", path)


def _state_environment(state: Any) -> str | None:
    if isinstance(state, dict) and isinstance(state.get("metadata"), dict):
        env = state["metadata"].get("environment")
        return env if isinstance(env, str) and env else None
    return None


def _graph(result: ValidationResult, fmt: str, stdout: TextIO, stderr: TextIO) -> int:
    for finding in result.findings:
        stderr.write(finding.as_text() + "\n")
    if result.stack is None:
        return 1
    stdout.write(render.dot(result.stack) if fmt == "dot" else render.mermaid(result.stack))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

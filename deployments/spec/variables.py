"""Variable substitution (format.md §3) on parsed values, never on raw text.

``${NAME}``, ``${NAME:-default}`` and ``${service.NAME}`` inside string values; ``$${``
is a literal ``${``. Lookup for ``${NAME}`` in a component of service S, innermost
first: the override ``S.NAME``, the override ``NAME``, S's ``spec.variables``, the
Stack's ``spec.variables``. ``${S.NAME}`` is exactly ``${NAME}`` evaluated in service
S's scope, from anywhere. Values are strings and are inserted once: a value that
itself contains ``${`` is not expanded again, so nothing can recurse or inject.

A string that is exactly one reference becomes the variable's string value and the
kind's schema types it (``"${REPLICAS}"`` → ``"3"`` → 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .findings import Finding
from .loader import Document, Path
from .suggest import did_you_mean

# `$${` (escape) or `${ ... }`; an unclosed `${` runs to the end of the string.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")
_BODY = re.compile(
    r"(?:(?P<service>[a-z][a-z0-9-]*)\.)?(?P<name>[A-Za-z_][A-Za-z0-9_-]*)(?::-(?P<default>.*))?",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Declaration:
    """A declared variable: its text value and where it is written."""

    value: str
    doc: Document | None
    path: Path

    def position(self) -> tuple[int, int]:
        return self.doc.position(self.path, key=True) if self.doc else (0, 0)


def declarations(doc: Document, spec: Any) -> dict[str, Declaration]:
    """``spec.variables`` as text. Nested values are skipped: the schema reports them."""
    raw = spec.get("variables") if isinstance(spec, dict) else None
    if not isinstance(raw, dict):
        return {}
    result = {}
    for name, value in raw.items():
        path = ("spec", "variables", name)
        if isinstance(value, str):
            text = value
        elif value is None:
            text = ""
        elif isinstance(value, (bool, int, float)):
            # The source text, as Go reads it into a string: `1.10` stays "1.10".
            text = doc.texts.get(
                path, str(value).lower() if isinstance(value, bool) else str(value)
            )
        else:
            continue
        result[name] = Declaration(text, doc, path)
    return result


class Variables:
    """The scopes of one stack, and which declarations were used."""

    def __init__(
        self,
        stack_vars: Mapping[str, Declaration],
        service_vars: Mapping[str, Mapping[str, Declaration]],
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.stack_vars = stack_vars
        self.service_vars = service_vars
        self.overrides = dict(overrides or {})
        self._used: set[tuple[str | None, str]] = set()  # (service or None, name)
        self._used_overrides: set[str] = set()
        # (text, scope) → its expansion, for texts that expanded without a finding: the
        # same `${LOG_LEVEL}` is usually written in every component of a service. A
        # repeat would only mark the same declarations used again.
        self._expanded: dict[tuple[str, str | None], str] = {}

    # -- lookup -----------------------------------------------------------------------

    def lookup(self, service: str | None, name: str) -> str | None:
        """The value of ``name`` in ``service``'s scope (None = stack scope), or None."""
        found: str | None = None
        if service is not None and f"{service}.{name}" in self.overrides:
            found = self.overrides[f"{service}.{name}"]
            self._used_overrides.add(f"{service}.{name}")
        elif name in self.overrides:
            found = self.overrides[name]
            self._used_overrides.add(name)
        # The declaration that would answer without overrides is "used" either way: an
        # override shadows a default, it does not make the default dead.
        scoped = self.service_vars.get(service, {}) if service is not None else {}
        if name in scoped:
            self._used.add((service, name))
            return found if found is not None else scoped[name].value
        if name in self.stack_vars:
            self._used.add((None, name))
            return found if found is not None else self.stack_vars[name].value
        return found

    # -- substitution -----------------------------------------------------------------

    def substitute(
        self,
        doc: Document,
        root: Path,
        service: str | None,
        findings: list[Finding],
        *,
        skip: Path | None = None,
        missing: Any = None,
    ) -> Any:
        """The value at ``root`` in ``doc`` with every reference replaced (``missing``
        when there is no value there).

        Returns new containers where something changed and shares the rest, so the
        loaded document stays untouched (it may be cached and reused).
        """
        try:
            value = _get(doc.data, root)
        except (KeyError, IndexError, TypeError):
            return missing
        if value is None:
            return missing
        if doc.aliased:
            # Spans are indexed once per written scalar; an alias repeats a scalar at
            # paths the index does not have, so walk the (bounded) expanded value.
            return self._walk(value, root, doc, service, findings, skip)
        result = value
        copied: set[int] = set()
        for path in doc.spans:  # in document order
            if path[: len(root)] != root:
                continue
            if skip is not None and path[: len(skip)] == skip:
                continue
            text = _get(doc.data, path)
            new = self.expand(text, doc, path, service, findings)
            if new is not text:
                result = _set(result, path[len(root) :], new, copied)
        return result

    def _walk(
        self,
        value: Any,
        path: Path,
        doc: Document,
        service: str | None,
        findings: list[Finding],
        skip: Path | None,
    ) -> Any:
        if skip is not None and path == skip:
            return value
        if isinstance(value, str):
            return self.expand(value, doc, path, service, findings) if "${" in value else value
        if isinstance(value, dict):
            new = {
                k: self._walk(v, path + (k,), doc, service, findings, skip)
                for k, v in value.items()
            }
            return value if all(new[k] is value[k] for k in value) else new
        if isinstance(value, list):
            items = [
                self._walk(v, path + (i,), doc, service, findings, skip)
                for i, v in enumerate(value)
            ]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def expand(
        self, text: str, doc: Document, path: Path, service: str | None, findings: list[Finding]
    ) -> str:
        """One string with its references replaced; problems become findings."""
        known = self._expanded.get((text, service))
        if known is not None:
            return known
        reported = len(findings)
        out: list[str] = []
        last = 0
        cursor: list[int] = []  # where the last reported reference is in the source
        for match in _TOKEN.finditer(text):
            out.append(text[last : match.start()])
            last = match.end()
            token = match.group(0)
            if token == "$${":
                out.append("${")
                continue
            body, closed = match.group(1), match.group(2)
            parsed = _BODY.fullmatch(body) if closed else None
            if parsed is None:
                self._report(
                    findings,
                    doc,
                    path,
                    token,
                    cursor,
                    "invalid-variable",
                    f"`{token}` is not a valid variable reference (write `$${{` for "
                    "a literal `${`)",
                )
                out.append(token)
                continue
            ref_service = parsed.group("service")
            name = parsed.group("name")
            default = parsed.group("default")
            scope = ref_service if ref_service is not None else service
            if ref_service is not None and ref_service not in self.service_vars:
                value = None
                why = (
                    f"service `{ref_service}` is not in the stack"
                    f"{did_you_mean(ref_service, self.service_vars)}"
                )
            else:
                value = self.lookup(scope, name)
                where = f"service '{scope}' or the stack" if scope else "the stack"
                why = f"variable ${{{name}}} is not defined in {where}"
            if value is None:
                if default is not None:
                    value = default
                else:
                    candidates = list(self.stack_vars) + list(
                        self.service_vars.get(scope, {}) if scope else []
                    )
                    self._report(
                        findings,
                        doc,
                        path,
                        token,
                        cursor,
                        "unresolved-variable",
                        why + did_you_mean(name, candidates),
                    )
                    value = token  # keep the text so later checks see something
            out.append(value)
        if last == 0:
            return text
        out.append(text[last:])
        expanded = "".join(out)
        if len(findings) == reported:
            self._expanded[(text, service)] = expanded
        return expanded

    def _report(
        self,
        findings: list[Finding],
        doc: Document,
        path: Path,
        token: str,
        cursor: list[int],
        code: str,
        message: str,
    ) -> None:
        line, col = _token_position(doc, path, token, cursor)
        findings.append(Finding("error", code, message, doc.file, line, col, render_path(path)))

    # -- unused -----------------------------------------------------------------------

    def unused(self) -> Iterator[Finding]:
        for name, decl in self.stack_vars.items():
            if (None, name) not in self._used:
                yield _unused(decl, f"stack variable `{name}` is never used")
        for service, decls in self.service_vars.items():
            for name, decl in decls.items():
                if (service, name) not in self._used:
                    yield _unused(decl, f"variable `{name}` of service '{service}' is never used")
        for key in self.overrides:
            if key not in self._used_overrides:
                yield Finding(
                    "warning",
                    "unused-variable",
                    f"override `{key}` matches no variable reference in the stack",
                )


def _unused(decl: Declaration, message: str) -> Finding:
    line, col = decl.position()
    return Finding(
        "warning",
        "unused-variable",
        message,
        decl.doc.file if decl.doc else "",
        line,
        col,
        render_path(decl.path),
    )


def _token_position(doc: Document, path: Path, token: str, cursor: list[int]) -> tuple[int, int]:
    """The exact line/column of ``token`` in the source of the scalar written at ``path``.

    References are reported in the order they are written, so each search starts after
    the previous one (``cursor`` holds its offset, line and column) and counts only the
    lines in between: thousands of references in one long string stay linear, and a
    finding in a large file never counts the lines before its scalar.
    """
    span = doc.spans.get(path)
    if span is not None:
        start, end = span
        if not cursor:  # just before the scalar: the first search starts on its first char
            line, col = doc.position(path)
            cursor.extend((start - 1, line, col - 1))
        offset, line, col = cursor
        at = doc.source.find(token, offset + 1, end)
        if at >= 0:
            newlines = doc.source.count("\n", offset + 1, at)
            if newlines:
                line, col = line + newlines, at - doc.source.rfind("\n", offset + 1, at)
            else:
                col += at - offset
            cursor[:] = (at, line, col)
            return line, col
    # Escaped or aliased text: the value's own position is the best we know.
    return doc.position(path)


def _get(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def _set(root: Any, rel: Path, value: Any, copied: set[int]) -> Any:
    """Copy-on-write assignment: containers on the way are copied once, then reused."""
    if not rel:
        return value
    if id(root) not in copied:
        root = dict(root) if isinstance(root, dict) else list(root)
        copied.add(id(root))
    node = root
    for step in rel[:-1]:
        child = node[step]
        if id(child) not in copied:
            child = dict(child) if isinstance(child, dict) else list(child)
            copied.add(id(child))
            node[step] = child
        node = child
    node[rel[-1]] = value
    return root


def render_path(path: Path) -> str:
    """``("spec", "environment", 1, "value")`` → ``spec.environment[1].value``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out

"""Safe YAML loading with positions: untrusted text → plain data + a position index.

We never call ``yaml.load`` (or compose) on uploaded text. libyaml's C parser turns the
text into events, and one Python loop over those events builds the plain data
(dict/list/str/int/float/bool/None), records where every key and value is, and enforces
format.md §7 *while* it builds: tags outside the safe set, duplicate keys, depth and the
alias-expanded node count. Aliases share the already-built object, so an alias bomb
costs no memory; its expanded size is counted from memoised anchor sizes and stops the
document as soon as it passes the limit. The loop is iterative, so no input can reach
Python's recursion limit, and every failure becomes a :class:`Finding`, never an
exception (the caller may be a web request).

Scalars are typed by :mod:`.scalars` (the YAML 1.2 core schema, as Go reads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from . import limits
from .findings import Finding
from .scalars import (
    NUMBER_START,
    SAFE_COLLECTION_TAGS,
    SAFE_SCALAR_TAGS,
    STR_TAG,
    WORD_START,
    WORDS,
    number,
    short_tag,
    tagged,
)

Path = tuple[str | int, ...]
Pos = tuple[int, int]

_CParser = yaml.CSafeLoader  # only its parser is used: events, never construction

_MERGE = object()  # the pending key is ``<<``
_BAD_KEY = object()  # the pending key was refused; its value is built then dropped
_AWAIT = object()  # a mapping waits for its next key


@dataclass(slots=True)
class Document:
    """One non-empty YAML document of a file, as plain data with positions.

    ``values``/``keys`` map a path (``("spec", "ports", 0, "port")``) to where the value
    and its mapping key are written, packed in one int (0-based ``line << 20 | column``;
    a file is at most 256 KiB, so a column fits in 20 bits); :meth:`position` unpacks
    them into 1-based pairs. Ints rather than the parser's mark objects or tuples: one
    per node survives the whole validation, and ints are neither allocated as tuples
    nor tracked by the cyclic garbage collector, whose passes over tens of thousands
    of live marks cost more than the parsing. Paths under an alias are not indexed
    (that would expand the alias); lookups fall back to the nearest indexed ancestor.
    """

    file: str
    index: int  # 0-based among the file's non-empty documents
    data: Any
    source: str
    values: dict[Path, int] = field(default_factory=dict)
    keys: dict[Path, int] = field(default_factory=dict)
    # (start, end) character offsets of string scalars containing "${", so variable
    # errors can point at the exact column of the reference.
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Source text of non-string scalars: variables are strings, and ``1.10`` must stay
    # "1.10" rather than become str(1.1).
    texts: dict[Path, str] = field(default_factory=dict)
    nodes: int = 0
    # An alias or a merge key repeats written values at paths the index does not have.
    aliased: bool = False

    @property
    def start(self) -> Pos:
        pos = self.values.get(())
        return _unpack(pos) if pos is not None else (1, 1)

    def position(self, path: Path, *, key: bool = False) -> Pos:
        """1-based (line, column) where ``path`` is written: its key (when asked and
        present) or its value.

        An unindexed path (missing field, inside an alias) resolves to its nearest
        indexed ancestor, preferring that ancestor's key, which is what a reader scans for.
        """
        pos = self.keys.get(path) if key else None
        if pos is None:
            pos = self.values.get(path)
        p = path
        while pos is None and p:
            p = p[:-1]
            pos = self.keys.get(p)
            if pos is None:
                pos = self.values.get(p)
        return _unpack(pos) if pos is not None else (1, 1)

    def offset_position(self, offset: int) -> Pos:
        """1-based (line, column) of a character offset in the source."""
        line = self.source.count("\n", 0, offset) + 1
        col = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
        return line, col


@dataclass(slots=True)
class LoadedFile:
    name: str
    documents: list[Document]
    findings: list[Finding]
    # True when parsing stopped before the end of the file (syntax error, limits):
    # later layers then know some documents may be missing.
    incomplete: bool = False


class NodeBudget:
    """The stack-wide node counts, shared by every file of one validation: all nodes
    (aliases expanded), and the extra nodes that aliases alone add."""

    __slots__ = ("used", "limit", "aliased", "alias_limit")

    def __init__(
        self,
        limit: int = limits.MAX_NODES_PER_STACK,
        alias_limit: int = limits.MAX_ALIAS_NODES_PER_STACK,
    ) -> None:
        self.used = 0
        self.limit = limit
        self.aliased = 0
        self.alias_limit = alias_limit


class _Abort(Exception):
    """Stops one document: the finding says why; the rest of the document is skipped."""

    def __init__(self, finding: Finding, *, fatal: bool = False) -> None:
        super().__init__(finding.message)
        self.finding = finding
        self.fatal = fatal  # stop the whole file (the stack budget is spent)


class _Frame:
    __slots__ = ("obj", "path", "is_map", "key", "vpath", "merged", "anchor", "start",
                 "depth", "saved_deepest", "bad", "mark")  # fmt: skip

    def __init__(self, obj: Any, path: Path, is_map: bool, depth: int) -> None:
        self.obj = obj
        self.path = path
        self.is_map = is_map
        self.key: Any = _AWAIT
        self.vpath: Path = ()  # path of the value for the pending key
        self.merged: set[str] | None = None
        self.anchor: str | None = None
        self.start = 0
        self.depth = depth
        self.saved_deepest = 0
        self.bad = False  # unsafe tag or used as a key: built for counting, then dropped
        self.mark: Any = None  # where a collection used as a key starts


def decode(name: str, raw: str | bytes) -> tuple[str | None, Finding | None]:
    """Size check and UTF-8 decoding, before any parsing (format.md §7)."""
    if isinstance(raw, str):
        size = len(raw)
        if size * 4 > limits.MAX_FILE_BYTES:  # only encode when it could matter
            try:
                size = len(raw.encode("utf-8"))
            except UnicodeEncodeError as exc:  # lone surrogates from a browser
                line, col = _line_col(raw, exc.start)
                return None, Finding(
                    "error",
                    "not-utf8",
                    f"the text is not valid UTF-8 (character {exc.start + 1})",
                    name,
                    line,
                    col,
                )
        if size > limits.MAX_FILE_BYTES:
            return None, _too_large(name, size)
        return raw.removeprefix("\ufeff"), None
    if len(raw) > limits.MAX_FILE_BYTES:
        return None, _too_large(name, len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start]
        line = prefix.count(b"\n") + 1
        col = len(prefix[prefix.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, Finding(
            "error",
            "not-utf8",
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
            name,
            line,
            col,
        )
    return text.removeprefix("\ufeff"), None


def _too_large(name: str, size: int) -> Finding:
    return Finding(
        "error",
        "too-large",
        f"the file is {size:,} bytes; the limit is {limits.MAX_FILE_BYTES:,} bytes per file",
        name,
        1,
        1,
    )


def _line_col(text: str, offset: int) -> Pos:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def load_file(name: str, raw: str | bytes, budget: NodeBudget | None = None) -> LoadedFile:
    """Every non-empty document of one file; problems come back as findings."""
    text, problem = decode(name, raw)
    if text is None:
        return LoadedFile(name, [], [problem] if problem else [], incomplete=True)
    return load_text(name, text, budget or NodeBudget())


def load_text(name: str, text: str, budget: NodeBudget) -> LoadedFile:
    result = LoadedFile(name, [], [])
    parser = _CParser(text)
    try:
        _load_stream(parser, name, text, budget, result)
    except yaml.YAMLError as exc:
        result.findings.append(_yaml_error(name, text, exc))
        result.incomplete = True
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as exc:
        # Not expected from the iterative loop, but a web request must never see a 500.
        result.findings.append(
            Finding(
                "error",
                "yaml-syntax",
                f"the YAML could not be read: {type(exc).__name__}",
                name,
                1,
                1,
            )
        )
        result.incomplete = True
    finally:
        parser.dispose()
    return result


def _yaml_error(name: str, text: str, exc: yaml.YAMLError) -> Finding:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
    elif isinstance(getattr(exc, "position", None), int):
        line, col = _line_col(text, exc.position)  # type: ignore[attr-defined]
    else:
        line, col = 1, 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "maximum nesting depth" in problem:  # libyaml's own cap (1000) is reached first
        return Finding(
            "error",
            "too-deep",
            f"the YAML is nested deeper than {limits.MAX_DEPTH} levels",
            name,
            line,
            col,
        )
    message = f"{context}: {problem}" if context else problem
    return Finding("error", "yaml-syntax", f"YAML syntax error: {message}", name, line, col)


def _load_stream(parser: Any, name: str, text: str, budget: NodeBudget, result: LoadedFile) -> None:
    get_event = parser.get_event
    index = 0
    while True:
        event = get_event()
        if event is None or event.__class__ is StreamEndEvent:
            return
        if event.__class__ is not DocumentStartEvent:
            continue  # StreamStart
        doc = Document(name, index, None, text)
        try:
            _load_document(get_event, doc, budget, result.findings)
        except _Abort as stop:
            result.findings.append(stop.finding)
            if stop.fatal:
                result.incomplete = True
                return
            _skip_document(get_event)
            continue
        if doc.data is not None:  # "empty documents are ignored" (format.md §2)
            result.documents.append(doc)
            index += 1


def _skip_document(get_event: Any) -> None:
    while True:
        event = get_event()
        if event is None or event.__class__ is DocumentEndEvent:
            return


def _load_document(
    get_event: Any, doc: Document, budget: NodeBudget, findings: list[Finding]
) -> None:
    """The event loop. Long and flat by necessity: it is the hot path of validation."""
    name = doc.file
    values, keys, spans, texts = doc.values, doc.keys, doc.spans, doc.texts
    anchors: dict[str, tuple[Any, int, int]] = {}  # name → (object, expanded size, height)
    stack: list[_Frame] = []
    top: _Frame | None = None  # the innermost open collection
    top_map = False
    depth = 0  # open collections
    deepest = 0
    count = 0
    max_nodes = limits.MAX_NODES_PER_DOCUMENT
    max_depth = limits.MAX_DEPTH
    root: Any = None
    await_key = _AWAIT

    def error(code: str, message: str, mark: Any) -> None:
        findings.append(Finding("error", code, message, name, mark.line + 1, mark.column + 1))

    def too_many(mark: Any) -> _Abort:
        return _Abort(
            Finding(
                "error",
                "too-many-nodes",
                f"the document expands to more than "
                f"{max_nodes:,} nodes (anchors and aliases count every time they "
                "are used)",
                name,
                mark.line + 1,
                mark.column + 1,
            )
        )

    def too_deep(mark: Any) -> _Abort:
        return _Abort(
            Finding(
                "error",
                "too-deep",
                f"the document is nested deeper than {max_depth} levels",
                name,
                mark.line + 1,
                mark.column + 1,
            )
        )

    while True:
        event = get_event()
        cls = event.__class__
        if cls is ScalarEvent:
            count += 1
            if count > max_nodes:
                raise too_many(event.start_mark)
            mark = event.start_mark
            raw = event.value
            tag = event.tag
            if top_map and top.key is await_key:  # type: ignore[union-attr]
                # A mapping key: always its text, never a typed value.
                if tag is not None and tag != "!" and tag not in SAFE_SCALAR_TAGS:
                    error("unsafe-tag", f"tag {short_tag(tag)} is not allowed", mark)
                    top.key, top.vpath = _BAD_KEY, top.path + (_BAD_KEY,)  # type: ignore[union-attr]
                elif raw == "<<" and tag is None and not event.style:
                    top.key, top.vpath = _MERGE, top.path + (_MERGE,)  # type: ignore[union-attr]
                elif raw in top.obj:  # type: ignore[union-attr]
                    _repeated_key(top, raw, mark, keys, findings, name)
                else:
                    top.key = raw  # type: ignore[union-attr]
                    top.vpath = vpath = top.path + (raw,)  # type: ignore[union-attr]
                    keys[vpath] = mark.line << 20 | mark.column
                if event.anchor:
                    anchors[event.anchor] = (raw, 1, 1)
                continue
            if top is None:
                path: Path = ()
            elif top_map:
                path = top.vpath
            else:
                path = top.path + (len(top.obj),)
            if depth >= max_depth:
                raise too_deep(mark)
            if tag is None and not event.style:  # plain: the type comes from the text
                value: Any = raw
                if not raw:
                    value = None
                else:
                    first = raw[0]
                    if first in NUMBER_START:
                        if (
                            raw.isdigit()
                            and len(raw) < 19
                            and (first != "0" or len(raw) == 1)
                            and raw.isascii()
                        ):
                            value = int(raw)  # the common case, without a regex
                        else:
                            value = number(raw, name, findings, mark)
                    elif first in WORD_START and raw in WORDS:
                        value = WORDS[raw]
                    if value is not raw:
                        texts[path] = raw
            elif tag is None or tag == "!" or tag == STR_TAG:
                value = raw
            elif tag in SAFE_SCALAR_TAGS:
                value = tagged(tag, raw, name, findings, mark)
                if not isinstance(value, str):
                    texts[path] = raw
            else:
                error("unsafe-tag", f"tag {short_tag(tag)} is not allowed", mark)
                value = None
            values[path] = mark.line << 20 | mark.column
            if (
                value.__class__ is str
                and "${" in value
                and _MERGE not in path
                and _BAD_KEY not in path
            ):  # a dropped or merged value has no own path
                spans[path] = (mark.index, event.end_mark.index)
            if event.anchor:
                anchors[event.anchor] = (value, 1, 1)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            count += 1
            mark = event.start_mark
            if count > max_nodes:
                raise too_many(mark)
            depth += 1
            if depth > max_depth:
                raise too_deep(mark)
            is_map = cls is MappingStartEvent
            as_key = top_map and top.key is await_key  # type: ignore[union-attr]
            if top is None:
                path = ()
            elif as_key:
                path = ()  # never indexed: reported and dropped when it ends
            elif top_map:
                path = top.vpath  # type: ignore[union-attr]
            else:
                path = top.path + (len(top.obj),)
            frame = _Frame({} if is_map else [], path, is_map, depth)
            if as_key:
                frame.bad = True
                frame.mark = mark
            else:
                values[path] = mark.line << 20 | mark.column
            tag = event.tag
            if tag is not None and tag != "!" and tag not in SAFE_COLLECTION_TAGS:
                error("unsafe-tag", f"tag {short_tag(tag)} is not allowed", mark)
                frame.bad = True
            if event.anchor:
                frame.anchor = event.anchor
                frame.start = count
                frame.saved_deepest = deepest
                deepest = depth
            elif depth > deepest:
                deepest = depth
            stack.append(frame)
            top, top_map = frame, is_map
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = stack.pop()
            depth -= 1
            if stack:
                top = stack[-1]
                top_map = top.is_map
            else:
                top, top_map = None, False
            value = None if frame.bad else frame.obj
            if frame.anchor:
                height = deepest - frame.depth + 1
                anchors[frame.anchor] = (value, count - frame.start + 1, height)
                deepest = max(deepest, frame.saved_deepest)
            if top_map and top.key is await_key:  # type: ignore[union-attr]
                error(
                    "invalid-key",
                    "a mapping key must be a scalar, not a "
                    f"{'mapping' if frame.is_map else 'list'}",
                    frame.mark,
                )
                top.key, top.vpath = _BAD_KEY, top.path + (_BAD_KEY,)  # type: ignore[union-attr]
                continue
            path = frame.path
        elif cls is AliasEvent:
            doc.aliased = True
            mark = event.start_mark
            target = anchors.get(event.anchor)
            if target is None:
                error("yaml-syntax", f"alias *{event.anchor} has no anchor before it", mark)
                target = (None, 1, 1)
            value, size, height = target
            count += size
            if count > max_nodes:
                raise too_many(mark)
            budget.aliased += size - 1
            if budget.aliased > budget.alias_limit:
                raise _Abort(
                    Finding(
                        "error",
                        "too-many-nodes",
                        "aliases in this stack repeat more than "
                        f"{budget.alias_limit:,} nodes in all",
                        name,
                        mark.line + 1,
                        mark.column + 1,
                    ),
                    fatal=True,
                )
            if depth + height > max_depth:
                raise too_deep(mark)
            if depth + height > deepest:
                deepest = depth + height
            if top_map and top.key is await_key:  # type: ignore[union-attr]
                if isinstance(value, str) and value not in top.obj:  # type: ignore[union-attr]
                    top.key, top.vpath = value, top.path + (value,)  # type: ignore[union-attr]
                    keys[top.vpath] = mark.line << 20 | mark.column  # type: ignore[union-attr]
                elif isinstance(value, str):
                    _repeated_key(top, value, mark, keys, findings, name)
                else:
                    error("invalid-key", "a mapping key must be a scalar", mark)
                    top.key, top.vpath = _BAD_KEY, top.path + (_BAD_KEY,)  # type: ignore[union-attr]
                continue
            if top is None:
                path = ()
            elif top_map:
                path = top.vpath  # type: ignore[union-attr]
            else:
                path = top.path + (len(top.obj),)  # type: ignore[union-attr]
            values[path] = mark.line << 20 | mark.column
        elif cls is DocumentEndEvent:
            break
        else:  # pragma: no cover - the parser emits nothing else inside a document
            continue

        # A value is complete: attach it to its parent.
        if top is None:
            root = value
        elif top_map:
            key = top.key
            top.key = await_key
            if key is _MERGE:
                doc.aliased = True
                _merge(top, value, path, keys, values, findings, name)
            elif key is not _BAD_KEY:
                top.obj[key] = value
        else:
            top.obj.append(value)

    budget.used += count
    doc.nodes = count
    doc.data = root
    if budget.used > budget.limit:
        raise _Abort(
            Finding(
                "error",
                "too-many-nodes",
                f"the stack expands to more than {budget.limit:,} nodes",
                name,
                *doc.start,
            ),
            fatal=True,
        )


def _repeated_key(
    frame: Any, key: str, mark: Any, keys: dict[Path, int], findings: list[Finding], name: str
) -> None:
    """A key already in the mapping: an override of a ``<<`` key, or a duplicate."""
    merged = frame.merged
    if merged is not None and key in merged:
        merged.discard(key)  # an explicit key overrides one from ``<<``
        frame.key, frame.vpath = key, frame.path + (key,)
        keys[frame.vpath] = mark.line << 20 | mark.column
        return
    first = keys.get(frame.path + (key,))
    where = f" (first at line {_unpack(first)[0]})" if first is not None else ""
    findings.append(
        Finding(
            "error",
            "duplicate-key",
            f"duplicate key `{key}`{where}",
            name,
            mark.line + 1,
            mark.column + 1,
        )
    )
    frame.key, frame.vpath = _BAD_KEY, frame.path + (_BAD_KEY,)  # the first value wins


def _merge(
    frame: Any,
    value: Any,
    path: Path,
    keys: dict[Path, int],
    values: dict[Path, int],
    findings: list[Finding],
    name: str,
) -> None:
    """YAML merge keys (``<<: *defaults``), which yaml.v3 supports too."""
    sources = value if isinstance(value, list) else [value]
    pos = values.get(path)
    if not all(isinstance(s, dict) for s in sources):
        line, col = _unpack(pos) if pos is not None else (1, 1)
        findings.append(
            Finding(
                "error",
                "yaml-syntax",
                "`<<` must merge a mapping or a list of mappings",
                name,
                line,
                col,
            )
        )
        return
    obj = frame.obj
    if frame.merged is None:
        frame.merged = set()
    for source in sources:
        for k, v in source.items():
            if k not in obj:
                obj[k] = v
                frame.merged.add(k)
                if pos is not None:
                    keys[frame.path + (k,)] = pos
                    values[frame.path + (k,)] = pos


def _unpack(pos: int) -> Pos:
    """A packed index position → 1-based (line, column)."""
    return (pos >> 20) + 1, (pos & 0xFFFFF) + 1

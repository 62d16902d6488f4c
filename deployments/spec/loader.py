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

That loop is the *indexing* loader. Nearly every real file has no tags, anchors, merge
keys or problems at all, and its positions are never asked for, so files are first
given to the *plain* loader (:func:`_load_plain`): the same data from the same events,
without the index and without the bookkeeping only unusual input needs. At the first
thing it does not handle it gives up, and the indexing loader reads the file from the
start and reports what it finds. A document's positions, when first needed, come from
a second, positions-only pass over its file (:class:`Document`).

Scalars are typed by :mod:`.scalars` (the YAML 1.2 core schema, as Go reads them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml.cyaml
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

# libyaml's parser alone (CSafeLoader without its constructor and resolver): events,
# never construction.
_CParser = yaml.cyaml.CParser

_MERGE = object()  # the pending key is ``<<``
_BAD_KEY = object()  # the pending key was refused; its value is built then dropped
_AWAIT = object()  # a mapping waits for its next key


@dataclass(slots=True)
class Document:
    """One non-empty YAML document of a file, as plain data with positions.

    ``values``/``keys`` map a path (``("spec", "ports", 0, "port")``) to where the value
    and its mapping key are written, packed in one int (0-based ``line << 20 | column``;
    a file is at most 256 KiB, so a column fits in 20 bits); :meth:`position` unpacks
    them into 1-based pairs. Ints rather than the parser's mark objects or tuples: they
    are neither allocated as tuples nor tracked by the cyclic garbage collector. Paths
    under an alias are not indexed (that would expand the alias); lookups fall back to
    the nearest indexed ancestor.

    Positions are only needed for findings, and a valid stack has few or none, so the
    common loader (:func:`_load_plain`) does not index at all: the index is built on
    first use, for the whole file at once, by a second pass over its events that only
    records positions (see :class:`_FileIndex`). Documents of files that needed the
    indexing loader get their index while loading.
    """

    file: str
    index: int  # 0-based among the file's non-empty documents
    data: Any
    source: str
    # (start, end) character offsets of string scalars containing "${", so variable
    # errors can point at the exact column of the reference. Also the list of strings
    # variable substitution has to look at.
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Source text of non-string scalars: variables are strings, and ``1.10`` must stay
    # "1.10" rather than become str(1.1). Not kept for plain decimal integers (the
    # common case), whose str() is their text.
    texts: dict[Path, str] = field(default_factory=dict)
    nodes: int = 0
    # An alias or a merge key repeats written values at paths the index does not have.
    aliased: bool = False
    # Whether some value is null. The plain loader knows (kinds/fastpath.py relies on
    # it); a document of the indexing loader may always hold one.
    nulls: bool = True
    # (values, keys) once known, else the file's lazily built index (None: no positions).
    where: tuple[dict[Path, int], dict[Path, int]] | _FileIndex | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def values(self) -> dict[Path, int]:
        return self._positions()[0]

    @property
    def keys(self) -> dict[Path, int]:
        return self._positions()[1]

    def _positions(self) -> tuple[dict[Path, int], dict[Path, int]]:
        where = self.where
        if where.__class__ is not tuple:
            where = self.where = where.document(self.index) if where is not None else ({}, {})
        return where  # type: ignore[return-value]

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
        values, keys = self._positions()
        pos = keys.get(path) if key else None
        if pos is None:
            pos = values.get(path)
        p = path
        while pos is None and p:
            p = p[:-1]
            pos = keys.get(p)
            if pos is None:
                pos = values.get(p)
        return _unpack(pos) if pos is not None else (1, 1)

    def offset_position(self, offset: int) -> Pos:
        """1-based (line, column) of a character offset in the source."""
        line = self.source.count("\n", 0, offset) + 1
        col = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
        return line, col


class _FileIndex:
    """The position index of every document of a file the plain loader took, built on
    first use (by :func:`_index_positions`) and shared by the file's documents, so a file
    is indexed at most once."""

    __slots__ = ("text", "ordinals", "indexes")

    def __init__(self, text: str) -> None:
        self.text = text
        self.ordinals: list[int] = []  # each kept document's place in the stream
        self.indexes: list[tuple[dict[Path, int], dict[Path, int]]] | None = None

    def document(self, index: int) -> tuple[dict[Path, int], dict[Path, int]]:
        if self.indexes is None:
            self.indexes = _index_positions(self.text)
        return self.indexes[self.ordinals[index]]


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
    """The file's documents and findings: by the plain loader when the file is ordinary
    (nearly always), else by the indexing loader, which also reports every problem."""
    result = _load_plain(name, text, budget)
    if result is None:
        result = _load_indexed(name, text, budget)
    return result


class _NotPlain(Exception):
    """The file has something the plain loader leaves to the indexing loader."""


def _load_plain(name: str, text: str, budget: NodeBudget) -> LoadedFile | None:
    """The fast path: a file without tags, anchors, aliases, merge keys, duplicate keys,
    out-of-range numbers, syntax errors or anything over a limit, loaded without a
    position index (:class:`Document` builds it on first use). None for any other file:
    the indexing loader then loads it from the start and reports what it finds.

    That is nearly every real file, and it makes the per-event work small: no path
    tuple and no position per node, no frame objects (a collection is attached to its
    parent when it starts, so only the containers are stacked), and the limits are
    checked where they are cheapest (depth when a collection starts, nodes and the
    stack budget when a document ends: without aliases a document has no more nodes
    than events, so a file is at most read once before it is refused). The budget is
    only charged when the whole file is accepted, so a fallback starts from the same
    budget.
    """
    parser = _CParser(text)
    try:
        return _plain_stream(parser.get_event, name, text, budget)
    except _NotPlain:
        return None
    except (yaml.YAMLError, RecursionError, MemoryError, ValueError, TypeError, OverflowError):
        return None  # the indexing loader reports it, with its position
    finally:
        parser.dispose()


def _plain_stream(get_event: Any, name: str, text: str, budget: NodeBudget) -> LoadedFile:
    """The event loop of :func:`_load_plain`. Long and flat by necessity: it is the hot
    path of validation. It must give exactly what the indexing loader gives for the
    files it accepts (tests/spec/test_loader.py compares the two)."""
    documents: list[Document] = []
    positions = _FileIndex(text)
    ordinal = -1  # the current document's place in the stream, empty ones included
    max_nodes = limits.MAX_NODES_PER_DOCUMENT
    max_depth = limits.MAX_DEPTH
    used = budget.used
    await_key = _AWAIT
    scalar_event, alias_event = ScalarEvent, AliasEvent
    mapping_start, sequence_start = MappingStartEvent, SequenceStartEvent
    mapping_end, sequence_end = MappingEndEvent, SequenceEndEvent
    number_start, word_start, words = NUMBER_START, WORD_START, WORDS
    # A tag is written with "!" and an anchor with "&": a text with neither (nearly
    # every file) has none, and each node event is spared reading both attributes.
    props = "!" in text or "&" in text
    intern = sys.intern

    stack: list[Any] = []  # the open collections, outermost first
    top: Any = None  # the innermost open collection
    top_map = False
    key: Any = await_key  # the pending key when ``top`` is a mapping
    root: Any = None
    count = 0  # nodes of the current document
    nulls = False  # whether a value of the current document is null
    spans: dict[Path, tuple[int, int]] = {}
    texts: dict[Path, str] = {}

    while True:
        event = get_event()
        cls = event.__class__
        if cls is scalar_event:
            if props and (event.tag is not None or event.anchor is not None):
                raise _NotPlain
            count += 1
            raw = event.value
            if top_map and key is await_key:  # a mapping key: always its text
                if raw in top or raw == "<<":  # a duplicate, or a merge key
                    raise _NotPlain
                # Interned: the same keys repeat in every document (name, spec, kind),
                # and one object per spelling means less memory and an identity hit in
                # every later lookup by that key (pydantic interns its field names).
                key = intern(raw)
                continue
            value: Any = raw
            if not event.style:  # plain: the type comes from the text
                if not raw:
                    value = None
                    nulls = True
                else:
                    first = raw[0]
                    if first in number_start:
                        if (
                            raw.isdigit()
                            and len(raw) < 19
                            and (first != "0" or len(raw) == 1)
                            and raw.isascii()
                        ):
                            value = int(raw)  # the common case, without a regex
                        else:
                            problems: list[Finding] = []
                            value = number(raw, name, problems, event.start_mark)
                            if problems:
                                raise _NotPlain
                            if value is not raw:
                                texts[_path(stack, key)] = raw
                    elif first in word_start and raw in words:
                        value = words[raw]
                        texts[_path(stack, key)] = raw
                        nulls = nulls or value is None
            if value.__class__ is str and "${" in value:
                here = _path(stack, key)
                spans[here] = (event.start_mark.index, event.end_mark.index)
            if top_map:
                top[key] = value
                key = await_key
            elif stack:
                top.append(value)
            else:
                root = value
        elif cls is mapping_start or cls is sequence_start:
            if props and (event.tag is not None or event.anchor is not None):
                raise _NotPlain
            if len(stack) >= max_depth - 1:
                raise _NotPlain  # at or near the depth limit: let the indexing loader judge
            count += 1
            new: Any = {} if cls is mapping_start else []
            # Attached as soon as it starts: the same data, in the same key order, as
            # attaching it when it ends, without remembering the pending key meanwhile.
            if top_map:
                if key is await_key:
                    raise _NotPlain  # a collection used as a key
                top[key] = new
                key = await_key
            elif stack:
                top.append(new)
            else:
                root = new
            stack.append(new)
            top = new
            top_map = cls is mapping_start
        elif cls is mapping_end or cls is sequence_end:
            stack.pop()
            if stack:
                top = stack[-1]
                top_map = top.__class__ is dict
            else:
                top, top_map = None, False
            key = await_key
        elif cls is DocumentStartEvent:
            root, count, spans, texts, nulls = None, 0, {}, {}, False
            ordinal += 1
        elif cls is DocumentEndEvent:
            used += count
            if count > max_nodes or used > budget.limit:
                raise _NotPlain
            if root is not None:  # "empty documents are ignored" (format.md §2)
                documents.append(
                    Document(
                        name,
                        len(documents),
                        root,
                        text,
                        spans,
                        texts,
                        count,
                        nulls=nulls,
                        where=positions,
                    )
                )
                positions.ordinals.append(ordinal)
        elif cls is alias_event:
            raise _NotPlain
        elif event is None or cls is StreamEndEvent:
            break
    budget.used = used
    return LoadedFile(name, documents, [])


def _path(stack: list[Any], key: Any) -> Path:
    """The path of the value being read: ``key`` is the pending key when the innermost
    open collection is a mapping (for a list, the value's index is its length).

    Computed only for the few values that need one (``texts``, ``spans``): every open
    collection is the newest entry of its parent, as it is attached when it starts, so
    its key is its parent's last key, or its index its parent's last index.
    """
    if not stack:
        return ()  # a scalar document
    path: list[str | int] = []
    for parent in stack[:-1]:
        path.append(next(reversed(parent)) if parent.__class__ is dict else len(parent) - 1)
    top = stack[-1]
    path.append(key if top.__class__ is dict else len(top))
    return tuple(path)


def _index_positions(text: str) -> list[tuple[dict[Path, int], dict[Path, int]]]:
    """(values, keys) of every document of a file the plain loader took, empty ones
    included: what the indexing loader records, found by a pass over the events that
    does nothing else. Such a file has no aliases, merge keys, tags, duplicate or
    collection keys and no errors, so every path is its plain chain of keys and indexes.
    """
    indexes: list[tuple[dict[Path, int], dict[Path, int]]] = []
    values: dict[Path, int] = {}
    keys: dict[Path, int] = {}
    # One [path, is_map, slot] per open collection; slot: the pending key of a mapping
    # (or _AWAIT), the next index of a list.
    open_: list[list[Any]] = []
    parser = _CParser(text)
    try:
        get_event = parser.get_event
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent or cls is MappingStartEvent or cls is SequenceStartEvent:
                mark = event.start_mark
                pos = mark.line << 20 | mark.column
                if not open_:
                    path: Path = ()
                else:
                    frame = open_[-1]
                    if frame[1]:
                        if frame[2] is _AWAIT:  # a key (always a scalar here)
                            frame[2] = event.value
                            keys[frame[0] + (event.value,)] = pos
                            continue
                        path = frame[0] + (frame[2],)
                        frame[2] = _AWAIT
                    else:
                        path = frame[0] + (frame[2],)
                        frame[2] += 1
                values[path] = pos
                if cls is not ScalarEvent:
                    is_map = cls is MappingStartEvent
                    open_.append([path, is_map, _AWAIT if is_map else 0])
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                open_.pop()
            elif cls is DocumentStartEvent:
                values, keys = {}, {}
                indexes.append((values, keys))
            elif event is None or cls is StreamEndEvent:
                break
    finally:
        parser.dispose()
    return indexes


def _load_indexed(name: str, text: str, budget: NodeBudget) -> LoadedFile:
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
        doc = Document(name, index, None, text, where=({}, {}))
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
    """The indexing loader's event loop: every check of format.md §7 and every position.
    Long and flat by necessity: large unusual files (anchors, tags) come through here."""
    name = doc.file
    (values, keys), spans, texts = doc._positions(), doc.spans, doc.texts
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
                            if value is not raw:
                                texts[path] = raw
                    elif first in WORD_START and raw in WORDS:
                        value = WORDS[raw]
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

"""Which files of an upload are parsed, and which service folder each belongs to (§2).

Both layouts go through one rule set, so a stack gives the same result however it
arrives (a folder, a zip of the folder with or without its top directory, one
multi-document file, several loose files):

- the root is the folder of the shallowest ``stack.yaml``/``stack.yml``; without one, the
  deepest folder every file shares;
- ``<root>/*.yaml`` is parsed, its components must name their service;
- ``<root>/services/<service>/*.yaml`` is parsed, its components belong to ``<service>``;
- ``<root>/services/<service>/config/**`` and non-YAML files are stored, never parsed;
- any other YAML file gets an ``ignored-file`` warning, so a misplaced file is visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

YAML_SUFFIXES = (".yaml", ".yml")
STACK_FILES = ("stack.yaml", "stack.yml")


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str  # as given (normalised to '/'), used in findings
    service: str | None  # the service folder, when under services/<service>/


@dataclass(slots=True)
class Layout:
    kind: str  # "folder", "single-file" or "files"
    root: str  # prefix of every parsed name ("" or "my-stack/")
    parsed: list[SourceFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # YAML files outside the layout
    stored: list[str] = field(default_factory=list)  # kept with the revision, not parsed
    service_folders: set[str] = field(default_factory=set)


def normalise(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


def is_yaml(name: str) -> bool:
    return name.lower().endswith(YAML_SUFFIXES)


def plan_layout(names: Iterable[str]) -> Layout:
    """Decide, from the names alone, what to parse (names must be normalised)."""
    names = sorted(names)
    if len(names) == 1:  # a single upload or a pasted text: parse it whatever its name
        return Layout("single-file", "", [SourceFile(names[0], None)])

    stack_files = [n for n in names if n.rsplit("/", 1)[-1].lower() in STACK_FILES]
    if stack_files:
        chosen = min(stack_files, key=lambda n: (n.count("/"), n))
        root = chosen[: chosen.rfind("/") + 1]
    else:
        root = _common_folder(n for n in names if is_yaml(n))

    layout = Layout("files", root)
    for name in names:
        if not name.startswith(root):
            (layout.ignored if is_yaml(name) else layout.stored).append(name)
            continue
        parts = name[len(root) :].split("/")
        if len(parts) >= 4 and parts[0] == "services" and parts[2] == "config" or not is_yaml(name):
            layout.stored.append(name)
        elif len(parts) == 1:
            layout.parsed.append(SourceFile(name, None))
        elif len(parts) == 3 and parts[0] == "services":
            layout.parsed.append(SourceFile(name, parts[1]))
            layout.service_folders.add(parts[1])
        else:
            layout.ignored.append(name)
    if stack_files and layout.service_folders:
        layout.kind = "folder"
    elif len(layout.parsed) == 1:
        layout.kind = "single-file"
    return layout


def _common_folder(names: Iterable[str]) -> str:
    folders = [n.split("/")[:-1] for n in names]
    if not folders:
        return ""
    common = folders[0]
    for parts in folders[1:]:
        i = 0
        while i < min(len(common), len(parts)) and common[i] == parts[i]:
            i += 1
        common = common[:i]
    # A shared "services/<x>" prefix is a service folder, not a root.
    if "services" in common:
        common = common[: common.index("services")]
    return "".join(p + "/" for p in common)

"""Line diffs of two sets of stack files, shaped for server-side rendering.

Both views come from one list of hunks: *unified* shows the lines in order, *split*
pairs each deletion with the addition that replaced it, side by side.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

LineKind = Literal["context", "add", "del"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    old_no: int | None
    new_no: int | None
    text: str


@dataclass(slots=True)
class Hunk:
    header: str
    lines: list[DiffLine] = field(default_factory=list)

    def split_rows(self) -> list[tuple[DiffLine | None, DiffLine | None]]:
        """(left, right) pairs: context on both sides, a deletion beside its addition."""
        rows: list[tuple[DiffLine | None, DiffLine | None]] = []
        dels: list[DiffLine] = []
        adds: list[DiffLine] = []

        def flush() -> None:
            for i in range(max(len(dels), len(adds))):
                rows.append(
                    (dels[i] if i < len(dels) else None, adds[i] if i < len(adds) else None)
                )
            dels.clear()
            adds.clear()

        for line in self.lines:
            if line.kind == "del":
                if adds:  # a deletion after additions starts a new change block
                    flush()
                dels.append(line)
            elif line.kind == "add":
                adds.append(line)
            else:
                flush()
                rows.append((line, line))
        flush()
        return rows


@dataclass(slots=True)
class FileDiff:
    path: str
    status: Literal["added", "removed", "modified", "unchanged"]
    hunks: list[Hunk]
    added: int = 0
    removed: int = 0


def diff_text(old: str, new: str, *, context: int = 3) -> list[Hunk]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        hunk = Hunk(
            header=f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk.lines += [
                    DiffLine("context", i1 + k + 1, j1 + k + 1, old_lines[i1 + k])
                    for k in range(i2 - i1)
                ]
                continue
            if tag in ("replace", "delete"):
                hunk.lines += [DiffLine("del", i + 1, None, old_lines[i]) for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                hunk.lines += [DiffLine("add", None, j + 1, new_lines[j]) for j in range(j1, j2)]
        hunks.append(hunk)
    return hunks


def diff_files(old: dict[str, str], new: dict[str, str], *, context: int = 3) -> list[FileDiff]:
    """One entry per path in either set, in path order; unchanged files have no hunks."""
    result: list[FileDiff] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            result.append(FileDiff(path, "unchanged", []))
            continue
        hunks = diff_text(before or "", after or "", context=context)
        status = "added" if before is None else "removed" if after is None else "modified"
        added = sum(1 for h in hunks for line in h.lines if line.kind == "add")
        removed = sum(1 for h in hunks for line in h.lines if line.kind == "del")
        result.append(FileDiff(path, status, hunks, added, removed))
    return result

"""Turning a folder, a file or a zip into the ``{path: bytes}`` mapping validation takes.

Zip archives are untrusted (format.md §7): members with absolute paths, ``..`` or links
are refused, and sizes are capped on what is actually read, not on what the headers
claim. Problems raise :class:`SourceError` carrying findings and the HTTP status a web
upload should answer with (413 for size, 400 otherwise).
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from . import limits
from .findings import Finding


class SourceError(Exception):
    def __init__(self, findings: list[Finding], status: int = 400) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings
        self.status = status


def read_path(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """A folder, a ``.zip`` or a single YAML file from disk."""
    p = Path(path)
    if p.is_dir():
        return read_folder(p)
    if not p.is_file():
        raise SourceError([Finding("error", "invalid-archive", f"{path}: no such file or folder")])
    if p.suffix.lower() == ".zip":
        with p.open("rb") as fh:
            data = fh.read(limits.MAX_ZIP_BYTES + 1)
        return read_zip(data)
    return {p.name: _read_capped(p)}


def read_folder(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root``; hidden entries (.git) and links are skipped.

    Reading stops after MAX_FILES + 1 files and each file after MAX_FILE_BYTES + 1
    bytes: enough for validation to report the limit without reading a huge tree.
    """
    files: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = Path(folder, name)
            if full.is_symlink() or not full.is_file():
                continue
            files[full.relative_to(root).as_posix()] = _read_capped(full)
            if len(files) > limits.MAX_FILES:
                return files
    return files


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(limits.MAX_FILE_BYTES + 1)


def read_zip(data: bytes) -> dict[str, bytes]:
    """The files of a zip upload, checked member by member."""
    if len(data) > limits.MAX_ZIP_BYTES:
        raise SourceError(
            [Finding("error", "too-large", f"the archive is over {limits.MAX_ZIP_BYTES:,} bytes")],
            413,
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SourceError(
            [Finding("error", "invalid-archive", f"not a zip archive: {exc}")]
        ) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        problems = [f for i in infos if (f := _member_problem(i)) is not None]
        if problems:
            raise SourceError(problems)
        if len(infos) > limits.MAX_FILES:
            raise SourceError(
                [
                    Finding(
                        "error",
                        "too-large",
                        f"the archive has {len(infos)} files; the limit is {limits.MAX_FILES}",
                    )
                ],
                413,
            )
        declared = sum(i.file_size for i in infos)
        if declared > limits.MAX_ZIP_UNCOMPRESSED_BYTES:
            raise SourceError([_too_big()], 413)
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = _clean_name(info.filename)
            if name in files:
                raise SourceError(
                    [
                        Finding(
                            "error",
                            "invalid-archive",
                            f"`{name}` appears twice in the archive",
                            name,
                        )
                    ]
                )
            try:
                with archive.open(info) as member:
                    # Headers can lie about sizes: cap what is actually inflated.
                    content = member.read(limits.MAX_FILE_BYTES + 1)
            except (
                zipfile.BadZipFile,
                RuntimeError,
                NotImplementedError,
                OSError,
                EOFError,
            ) as exc:  # encrypted, unknown compression, corrupt data
                raise SourceError(
                    [Finding("error", "invalid-archive", f"cannot read `{name}`: {exc}", name)]
                ) from None
            total += len(content)
            if total > limits.MAX_ZIP_UNCOMPRESSED_BYTES:
                raise SourceError([_too_big()], 413)
            files[name] = content
    return files


def _too_big() -> Finding:
    return Finding(
        "error",
        "too-large",
        f"the archive expands to more than {limits.MAX_ZIP_UNCOMPRESSED_BYTES:,} bytes",
    )


def _member_problem(info: zipfile.ZipInfo) -> Finding | None:
    raw = info.filename
    name = raw.replace("\\", "/")
    mode = info.external_attr >> 16
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        why = "an absolute path"
    elif ".." in PurePosixPath(name).parts:
        why = "a `..` path"
    elif stat.S_ISLNK(mode):
        why = "a symbolic link"
    elif info.flag_bits & 0x1:
        why = "encrypted"
    elif "\x00" in name:
        why = "a NUL character in its name"
    else:
        return None
    return Finding("error", "unsafe-path", f"archive member `{raw[:200]}` is {why}", raw[:200])


def _clean_name(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name

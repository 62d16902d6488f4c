"""Reading a browser upload (YAML files or a zip of a stack folder) into stack files.

An upload is checked before anything is stored: unsafe archives, oversized or non-UTF-8
files and the hostile YAML of format.md §7 are refused with a message and the HTTP
status to answer with. Ordinary validation errors are not a refusal: such a stack is
stored as a draft revision, as in the editor.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile

from . import spec
from .spec import limits

# Findings that make an upload hostile rather than merely wrong, with the answer status.
REFUSED_CODES: dict[str, int] = {
    "too-large": 413,
    "too-many-nodes": 413,
    "too-deep": 400,
    "number-out-of-range": 400,
    "unsafe-tag": 400,
    "duplicate-key": 400,
    "not-utf8": 400,
}


class UploadRefused(Exception):
    def __init__(self, messages: list[str], status: int) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.status = status


def _read_capped(upload: UploadedFile, cap: int) -> bytes:
    data = upload.read(cap + 1)
    if len(data) > cap:
        raise UploadRefused(
            [f"{upload.name} is larger than {cap // 1024} KiB, the most a stack file may be"], 413
        )
    return data


def read_upload(uploads: Sequence[UploadedFile]) -> dict[str, bytes]:
    """``{path: bytes}`` of the uploaded stack; raises :class:`UploadRefused`."""
    if not uploads:
        raise UploadRefused(["choose YAML files or a .zip of a stack folder to upload"], 400)
    if len(uploads) > limits.MAX_FILES:
        raise UploadRefused([f"at most {limits.MAX_FILES} files per stack"], 413)
    if len(uploads) == 1 and (uploads[0].name or "").lower().endswith(".zip"):
        try:
            return spec.read_zip(_read_capped(uploads[0], limits.MAX_ZIP_BYTES))
        except spec.SourceError as exc:
            raise UploadRefused([f.message for f in exc.findings], exc.status) from None
    files: dict[str, bytes] = {}
    for upload in uploads:
        name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name.lower().endswith((".yaml", ".yml")):
            raise UploadRefused([f"{name or 'a file'} is not a .yaml/.yml file or a .zip"], 400)
        files[name] = _read_capped(upload, limits.MAX_FILE_BYTES)
    return files


def checked_files(raw: dict[str, bytes], result: spec.ValidationResult) -> dict[str, str]:
    """The files as text once validation found nothing hostile; else :class:`UploadRefused`."""
    hostile = [f for f in result.findings if f.code in REFUSED_CODES]
    if hostile:
        status = max(REFUSED_CODES[f.code] for f in hostile)
        raise UploadRefused([f"{f.file}:{f.line}:{f.column}: {f.message}" for f in hostile], status)
    return {path: data.decode("utf-8") for path, data in raw.items()}

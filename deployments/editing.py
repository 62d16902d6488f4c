"""The stack editor's workflows: a private draft per user and stack, turned into revisions.

Views call these with the acting user; every change that others can see (a revision, a
restore, a stack) writes an audit event in the same transaction. Draft edits are private
scratch space until saved, so they are not audited keystroke by keystroke; adding,
renaming and deleting files are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from tenants import audit

from .models import Stack, StackDraft, StackRevision, content_hash
from .services import save_revision
from .spec.limits import MAX_FILE_BYTES, MAX_FILES, MAX_STACK_BYTES
from .validation import summary_counts, validate_files

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

# Relative POSIX paths of plain names: no absolute paths, no "..", no hidden files.
_PATH_RE = re.compile(r"^(?!.*(?:^|/)\.)[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")

NEW_STACK_TEMPLATE = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: {name}
spec:
  provider:
    name: aws
    region: us-east-1
  variables:
    TEAM: "{tenant}"
"""


class EditError(ValueError):
    """A request the editor refuses; the message is shown to the user as is."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_path(path: str) -> str:
    path = path.strip()
    if not path or len(path) > 200 or not _PATH_RE.match(path) or ".." in path.split("/"):
        raise EditError(
            f"{path!r} is not a valid file path: use a relative path of letters, digits, "
            "'-', '_' and '.', such as services/api/queue.yaml"
        )
    return path


def check_sizes(files: dict[str, str]) -> None:
    """format.md §7: 256 KiB per file, 2 MiB per stack, 200 files."""
    if len(files) > MAX_FILES:
        raise EditError(f"a stack has at most {MAX_FILES} files", status=413)
    total = 0
    for path, text in files.items():
        size = len(text.encode("utf-8"))
        if size > MAX_FILE_BYTES:
            raise EditError(
                f"{path} is {size // 1024} KiB; a file may be at most {MAX_FILE_BYTES // 1024} KiB",
                status=413,
            )
        total += size
    if total > MAX_STACK_BYTES:
        raise EditError(
            f"the stack is {total // 1024} KiB; at most {MAX_STACK_BYTES // 1024} KiB in all",
            status=413,
        )


def open_draft(*, stack: Stack, user: AbstractBaseUser) -> StackDraft:
    """The user's draft of the stack, started from the latest revision when there is none."""
    draft = StackDraft.objects.filter(stack=stack, user=user).select_related("base").first()
    if draft is not None:
        return draft
    latest = stack.latest_revision()
    files = (
        dict(latest.files)
        if latest
        else {"stack.yaml": NEW_STACK_TEMPLATE.format(name=stack.name, tenant=stack.tenant.slug)}
    )
    draft, _ = StackDraft.objects.get_or_create(
        stack=stack, user=user, defaults={"base": latest, "files": files}
    )
    return draft


def files_with(*, stack: Stack, user: AbstractBaseUser, path: str, text: str) -> dict[str, str]:
    """The user's draft (or the latest revision) with one file's text replaced, checked
    like :func:`update_file` but stored nowhere (live validation of a suspended tenant)."""
    draft = StackDraft.objects.filter(stack=stack, user=user).first()
    latest = stack.latest_revision() if draft is None else None
    current = draft.files if draft is not None else dict(latest.files) if latest else {}
    path = check_path(path)
    if path not in current:
        raise EditError(f"{path} is not a file of this draft; add it first")
    files = {**current, path: text.replace("\r\n", "\n")}
    check_sizes(files)
    return files


def update_file(*, draft: StackDraft, path: str, text: str) -> StackDraft:
    """Keep the editor's current text of one file (the live-validation autosave)."""
    path = check_path(path)
    if path not in draft.files:
        raise EditError(f"{path} is not a file of this draft; add it first")
    files = {**draft.files, path: text.replace("\r\n", "\n")}
    check_sizes(files)
    if files == draft.files:
        # Nothing to keep (the same text re-sent, a reopened editor): no write, so an
        # idle validation never waits for SQLite's write lock behind other typists.
        return draft
    draft.files = files
    draft.save(update_fields=["files", "updated_at"])
    return draft


def _audit_draft(
    draft: StackDraft, action: str, request: HttpRequest | None, **details: str
) -> None:
    audit.record(
        action=action,
        actor=draft.user,
        tenant=draft.stack.tenant,
        target=f"stack:{draft.stack.name}",
        details=details,
        request=request,
    )


def add_file(
    *, draft: StackDraft, path: str, text: str = "", request: HttpRequest | None = None
) -> StackDraft:
    path = check_path(path)
    if path in draft.files:
        raise EditError(f"{path} already exists")
    files = {**draft.files, path: text}
    check_sizes(files)
    with transaction.atomic():
        draft.files = files
        draft.save(update_fields=["files", "updated_at"])
        _audit_draft(draft, "draft.file_add", request, path=path)
    return draft


def rename_file(
    *, draft: StackDraft, path: str, new_path: str, request: HttpRequest | None = None
) -> StackDraft:
    path, new_path = check_path(path), check_path(new_path)
    if path not in draft.files:
        raise EditError(f"{path} is not a file of this draft")
    if new_path in draft.files:
        raise EditError(f"{new_path} already exists")
    files = {(new_path if p == path else p): t for p, t in draft.files.items()}
    with transaction.atomic():
        draft.files = files
        draft.save(update_fields=["files", "updated_at"])
        _audit_draft(draft, "draft.file_rename", request, path=path, new_path=new_path)
    return draft


def delete_file(*, draft: StackDraft, path: str, request: HttpRequest | None = None) -> StackDraft:
    if path not in draft.files:
        raise EditError(f"{path} is not a file of this draft")
    if len(draft.files) == 1:
        raise EditError("a stack needs at least one file")
    with transaction.atomic():
        draft.files = {p: t for p, t in draft.files.items() if p != path}
        draft.save(update_fields=["files", "updated_at"])
        _audit_draft(draft, "draft.file_delete", request, path=path)
    return draft


def discard_draft(*, draft: StackDraft) -> None:
    draft.delete()


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    revision: StackRevision | None
    created: bool = False
    # Set when someone else saved since the draft was opened: the save did not happen.
    conflict: StackRevision | None = None


def save_draft(
    *,
    draft: StackDraft,
    actor: AbstractBaseUser,
    message: str,
    force: bool = False,
    seen: int | None = None,
    request: HttpRequest | None = None,
) -> SaveOutcome:
    """Save the draft as the stack's next revision, unless that would silently overwrite a
    revision someone else saved after the draft was opened (then ``conflict`` is set and the
    caller shows the diff).

    ``force`` saves anyway, on top of it, merged file by file (:func:`merge_files`): only
    the files both changed take the draft's text, so the other's work is never dropped
    unseen. ``seen`` is the revision number the user was shown in the conflict: if yet
    another revision was saved since, the conflict is shown again instead.

    Two saves at once are serialised by the stack row lock (``select_for_update`` on
    PostgreSQL; on SQLite, ``transaction_mode=IMMEDIATE`` makes every transaction take
    the database's write lock first): the second sees the first's revision as the latest.
    """
    stack = draft.stack
    check_sizes(draft.files)
    result = validate_files(draft.files, tenant=stack.tenant, stack_name=stack.name)
    with transaction.atomic():
        Stack.objects.select_for_update().filter(pk=stack.pk).first()
        latest = stack.latest_revision()
        base = draft.base
        files = draft.files
        if (
            latest is not None
            and latest.number != (base.number if base else 0)
            and latest.content_hash != content_hash(files)
        ):
            if not force or (seen is not None and latest.number != seen):
                return SaveOutcome(revision=None, conflict=latest)
            files = merge_files(base=base.files if base else {}, mine=files, theirs=latest.files)
            check_sizes(files)
            result = validate_files(files, tenant=stack.tenant, stack_name=stack.name)
        revision, created = save_revision(
            stack=stack,
            files=files,
            actor=actor,
            message=message,
            counts=summary_counts(result),
            request=request,
        )
        draft.base = revision
        fields = ["base", "updated_at"]
        if files is not draft.files:  # merged: the editor goes on from what was saved
            draft.files = files
            fields.append("files")
        draft.save(update_fields=fields)
    return SaveOutcome(revision=revision, created=created)


def merge_files(
    *, base: dict[str, str], mine: dict[str, str], theirs: dict[str, str]
) -> dict[str, str]:
    """A three-way merge by file: what "save anyway" writes.

    A file the draft left as it was in ``base`` takes the other's version (their edit,
    their new file, or their deletion); a file the draft changed, added or deleted keeps
    the draft's (where both changed one file, the draft wins: the user saw that diff and
    confirmed). Order: the draft's files, then files only they have.
    """
    merged: dict[str, str] = {}
    for path in [
        *mine,
        *(p for p in theirs if p not in mine),
        *(p for p in base if p not in mine and p not in theirs),
    ]:
        text = theirs.get(path) if mine.get(path) == base.get(path) else mine.get(path)
        if text is not None:
            merged[path] = text
    return merged


def restore_revision(
    *,
    stack: Stack,
    revision: StackRevision,
    actor: AbstractBaseUser,
    request: HttpRequest | None = None,
) -> tuple[StackRevision, bool]:
    """A new revision with an old revision's content (history is never rewritten)."""
    result = validate_files(revision.files, tenant=stack.tenant, stack_name=stack.name)
    with transaction.atomic():
        new, created = save_revision(
            stack=stack,
            files=dict(revision.files),
            actor=actor,
            message=f"Restore revision {revision.number}",
            counts=summary_counts(result),
            request=request,
        )
        if created:
            audit.record(
                action="revision.restore",
                actor=actor,
                tenant=stack.tenant,
                target=f"stack:{stack.name}",
                details={"from_revision": revision.number, "new_revision": new.number},
                request=request,
            )
    return new, created

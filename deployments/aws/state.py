"""Stack state in a versioned S3 bucket, shared with the panka CLI (format.md §8).

Every save is a new object version, so the version list is the state history. A save is
fenced twice: S3 ``If-Match`` on the ETag read under the lock (``If-None-Match: *`` for
the first save), and ``serial``/``lineage`` checks, so a paused ex-holder of the lock
fails instead of overwriting a newer state.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from .clients import AwsSettings, client
from .errors import AwsError, StateConflict, StateCorrupt
from .timefmt import now_rfc3339, parse_rfc3339

STATE_FORMAT_VERSION = "1.0"
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}
_MISSING_CODES = {"NoSuchKey", "NoSuchVersion", "InvalidArgument", "MethodNotAllowed", "404"}
# Time fields Go reads into time.Time: "" there makes the CLI fail to load the whole state.
_RESOURCE_TIME_FIELDS = ("created_at", "updated_at")


def _check_part(name: str, value: str) -> str:
    if (
        not isinstance(value, str)
        or not value
        or value in (".", "..")
        or "/" in value
        or any(ord(ch) < 32 for ch in value)
    ):
        raise ValueError(f"{name} {value!r} cannot be part of a state key")
    return value


def state_key(tenant: str, stack: str, environment: str) -> str:
    """``tenants/<tenant>/v1/stacks/<stack>/<environment>/state.json``."""
    return (
        f"tenants/{_check_part('tenant', tenant)}/v1/stacks/{_check_part('stack', stack)}"
        f"/{_check_part('environment', environment)}/state.json"
    )


def empty_state(tenant: str, stack: str, environment: str) -> dict[str, Any]:
    """The state of a stack+environment that was never deployed: serial 0, no lineage
    (the first save assigns one). Pass it through :func:`successor` before saving."""
    state_key(tenant, stack, environment)  # validates the names
    return {
        "version": STATE_FORMAT_VERSION,
        "metadata": {
            "stack": stack,
            "environment": environment,
            "tenant": tenant,
            "version": "",
            "deployed_by": "",
            "labels": {},
            "created_at": "",
            "updated_at": "",
            "deployment_id": "",
            "serial": 0,
            "lineage": "",
            "revision": "",
        },
        "resources": {},
        "outputs": {},
        "last_update": "",
    }


def successor(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``state`` with ``serial + 1``: the starting point of the next save."""
    following = copy.deepcopy(state)
    meta = following.setdefault("metadata", {})
    meta["serial"] = _serial_of(state) + 1
    return following


def _serial_of(state: dict[str, Any]) -> int:
    serial = state.get("metadata", {}).get("serial", 0)
    # A CLI-written state has no serial; it counts as 0.
    return 0 if serial is None else serial


@dataclass(frozen=True, slots=True)
class StoredState:
    """One state version in S3: its parsed JSON, ETag and version id."""

    key: str
    state: dict[str, Any]
    etag: str
    version_id: str | None

    @property
    def serial(self) -> int:
        return _serial_of(self.state)

    @property
    def lineage(self) -> str:
        return self.state.get("metadata", {}).get("lineage") or ""


@dataclass(frozen=True, slots=True)
class LoadedState(StoredState):
    """A state version as read, with its S3 LastModified and user metadata."""

    last_modified: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SavedState(StoredState):
    """The version a save just wrote; pass it as ``previous`` to the next save."""


@dataclass(frozen=True, slots=True)
class StateVersion:
    """One entry of the state history (list_object_versions, no per-version HEAD)."""

    version_id: str
    last_modified: datetime
    size: int
    is_latest: bool
    etag: str | None
    deleted: bool = False  # a delete marker: the state was deleted at this point


@dataclass(frozen=True, slots=True)
class VersionPage:
    versions: list[StateVersion]
    next_key_marker: str | None
    next_version_id_marker: str | None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _header_safe(value: str) -> str:
    """S3 user metadata travels in HTTP headers: percent-encode anything not printable
    ASCII rather than fail the save."""
    return quote(value, safe="".join(chr(c) for c in range(32, 127) if chr(c) != "%"))


def parse_state(body: bytes, *, where: str) -> dict[str, Any]:
    """Parse and sanity-check a state document; StateCorrupt (naming ``where``) if it
    is not one."""
    try:
        state = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StateCorrupt(f"{where} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise StateCorrupt(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise StateCorrupt(f"{where} is nested too deeply to be a state") from None
    if not isinstance(state, dict) or not isinstance(state.get("metadata"), dict):
        raise StateCorrupt(f"{where} is JSON but not a state: it has no 'metadata' object")
    meta = state["metadata"]
    serial = meta.get("serial", 0)
    if serial is not None and (
        isinstance(serial, bool) or not isinstance(serial, int) or serial < 0
    ):
        raise StateCorrupt(f"{where} has an invalid serial {serial!r}")
    if not isinstance(meta.get("lineage") or "", str):
        raise StateCorrupt(f"{where} has an invalid lineage {meta.get('lineage')!r}")
    for name in ("resources", "outputs"):
        # Go writes a nil map as null.
        if state.get(name) is None:
            state[name] = {}
        elif not isinstance(state[name], dict):
            raise StateCorrupt(f"{where} has a '{name}' that is not an object")
    return state


class StateStore:
    """Load, save and list the versions of stack states."""

    def __init__(self, settings: AwsSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock

    @property
    def _s3(self) -> Any:
        return client(self.settings, "s3")

    def _get(self, key: str, version_id: str | None = None) -> LoadedState | None:
        kwargs: dict[str, Any] = {"Bucket": self.settings.state_bucket, "Key": key}
        if version_id is not None:
            kwargs["VersionId"] = version_id
        where = f"state {key}" + (f" version {version_id}" if version_id else "")
        try:
            response = self._s3.get_object(**kwargs)
            body = response["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING_CODES:
                return None
            raise AwsError(f"reading {where} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise AwsError(f"reading {where} failed: {exc}") from exc
        version = response.get("VersionId")
        return LoadedState(
            key=key,
            state=parse_state(body, where=f"state {key} version {version}"),
            etag=response["ETag"],
            version_id=version,
            last_modified=response.get("LastModified"),
            metadata=dict(response.get("Metadata", {})),
        )

    def load(self, tenant: str, stack: str, environment: str) -> LoadedState | None:
        """The current state, or None if it was never saved (or deleted)."""
        return self._get(state_key(tenant, stack, environment))

    def get_version(
        self, tenant: str, stack: str, environment: str, version_id: str
    ) -> LoadedState | None:
        """One version of the state; None if there is no such version (or it is a
        delete marker)."""
        return self._get(state_key(tenant, stack, environment), version_id)

    def check_lineage(self, current: LoadedState) -> None:
        """StateCorrupt if ``current`` has another lineage than the version before it.

        A lineage names one state's history. A different one on top means another state
        was written over this one (another stack's state copied here, a push from the
        wrong directory): planning from it would delete or adopt resources that are not
        this stack's. A restore by an admin (``deployment_id`` ``restore:...``) may
        switch lineage on purpose, and the first version after a deletion starts anew.
        """
        meta = current.state.get("metadata") or {}
        if not current.lineage or str(meta.get("deployment_id", "")).startswith("restore:"):
            return
        try:
            response = self._s3.list_object_versions(
                Bucket=self.settings.state_bucket, Prefix=current.key, MaxKeys=10
            )
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"listing versions of state {current.key} failed: {exc}") from exc
        entries = [
            (v["LastModified"], v["VersionId"], False)
            for v in response.get("Versions", [])
            if v["Key"] == current.key
        ] + [
            (m["LastModified"], m["VersionId"], True)
            for m in response.get("DeleteMarkers", [])
            if m["Key"] == current.key
        ]
        # S3 lists each kind newest first; a stable sort keeps that order within a second.
        entries.sort(key=lambda entry: entry[0], reverse=True)
        ids = [version_id for _, version_id, _ in entries]
        if current.version_id not in ids or ids.index(current.version_id) + 1 >= len(ids):
            return
        _, before_id, deleted = entries[ids.index(current.version_id) + 1]
        if deleted:
            return
        try:
            before = self._get(current.key, before_id)
        except StateCorrupt:
            return  # says nothing about the current version's lineage
        if before is not None and before.lineage and before.lineage != current.lineage:
            raise StateCorrupt(
                f"state {current.key} version {current.version_id} (serial {current.serial}) "
                f"has lineage {current.lineage}, but the version before it ({before_id}, "
                f"serial {before.serial}) has lineage {before.lineage}: another state's "
                "history was written over this one"
            )

    def save(
        self,
        previous: StoredState | None,
        new_state: dict[str, Any],
        *,
        deployment_id: str,
        deployed_by: str,
        revision: str,
    ) -> SavedState:
        """Write ``new_state`` as the next version after ``previous`` (None: the first).

        ``new_state`` must carry ``serial`` = previous serial + 1 (see :func:`successor`)
        and the previous lineage; the first save gets a new lineage unless it has one.
        The put is conditional on ``previous.etag`` (``If-None-Match: *`` for a first
        save). Any mismatch raises StateConflict and writes nothing. Metadata times,
        ``deployment_id``, ``deployed_by`` and ``revision`` are set here; the caller's
        dict is not modified.
        """
        meta = new_state.get("metadata") if isinstance(new_state, dict) else None
        if not isinstance(meta, dict):
            raise ValueError("new_state must be a state dict with a 'metadata' object")
        names = _names(meta, previous)
        key = state_key(*names)
        if previous is not None and previous.key != key:
            raise ValueError(f"previous state is {previous.key}, new state is {key}")

        before = previous.serial if previous else 0
        serial = meta.get("serial")
        if serial != before + 1 or isinstance(serial, bool):
            raise StateConflict(
                f"state {key}: serial {serial!r} does not follow the stored serial {before}; "
                "nothing was written"
            )
        lineage = meta.get("lineage") or ""
        if previous is not None and previous.lineage and lineage != previous.lineage:
            raise StateConflict(
                f"state {key}: lineage {lineage!r} is not the stored lineage "
                f"{previous.lineage!r}; nothing was written"
            )
        _check_times(new_state, key)

        now = now_rfc3339(self.clock())
        document = copy.deepcopy(new_state)
        document.setdefault("version", STATE_FORMAT_VERSION)
        document.setdefault("resources", {})
        document.setdefault("outputs", {})
        meta = document["metadata"]
        meta.update(
            tenant=names[0],
            stack=names[1],
            environment=names[2],
            serial=serial,
            lineage=lineage or str(uuid.uuid4()),
            updated_at=now,
            deployment_id=deployment_id,
            deployed_by=deployed_by,
            revision=revision,
        )
        if not meta.get("created_at"):
            meta["created_at"] = now
        document["last_update"] = now
        try:
            body = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"state {key} cannot be written as JSON: {exc}") from None

        kwargs: dict[str, Any] = {
            "Bucket": self.settings.state_bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "Metadata": {
                "stack": _header_safe(meta["stack"]),
                "environment": _header_safe(meta["environment"]),
                "version": _header_safe(str(document.get("version", ""))),
                "deployment-id": _header_safe(deployment_id),
                "serial": str(serial),
                # Our additions (the CLI ignores them): what a history row shows without
                # downloading every version.
                "deployed-by": _header_safe(deployed_by),
                "resource-count": str(len(document.get("resources") or {})),
            },
        }
        if previous is not None:
            kwargs["IfMatch"] = previous.etag
        else:
            kwargs["IfNoneMatch"] = "*"
        try:
            response = self._s3.put_object(**kwargs)
        except ClientError as exc:
            http = exc.response.get("ResponseMetadata", {})
            conflict = _code(exc) in _CONFLICT_CODES or http.get("HTTPStatusCode") in (409, 412)
            if conflict and not http.get("RetryAttempts"):
                # Refused on the first attempt: our bytes were never stored, even if an
                # identical state (same base, same second) was written by someone else.
                raise StateConflict(_conflict_message(key, exc)) from exc
            return self._read_back(key, document, body, exc, conflict=conflict)
        except BotoCoreError as exc:
            return self._read_back(key, document, body, exc, conflict=False)
        return SavedState(
            key=key, state=document, etag=response["ETag"], version_id=response.get("VersionId")
        )

    def _read_back(
        self, key: str, document: dict[str, Any], body: bytes, error: Exception, *, conflict: bool
    ) -> SavedState:
        """After an ambiguous put (lost response, or a precondition failure on botocore's
        retry of a put that may have landed): if the current version holds exactly our
        bytes, which include our deployment id and a timestamp, our put landed."""
        try:
            response = self._s3.get_object(Bucket=self.settings.state_bucket, Key=key)
            current = response["Body"].read()
        except (ClientError, BotoCoreError):
            current, response = None, {}
        if current == body:
            return SavedState(
                key=key, state=document, etag=response["ETag"], version_id=response.get("VersionId")
            )
        if conflict:
            raise StateConflict(_conflict_message(key, error)) from error
        raise AwsError(f"saving state {key} failed: {error}") from error

    def version_metadata(
        self, tenant: str, stack: str, environment: str, version_id: str
    ) -> dict[str, str] | None:
        """The S3 user metadata of one version (serial, deployment-id...), by a HEAD: what
        a history page shows per row without downloading each state."""
        try:
            response = self._s3.head_object(
                Bucket=self.settings.state_bucket,
                Key=state_key(tenant, stack, environment),
                VersionId=version_id,
            )
        except ClientError as exc:
            if _code(exc) in (*_MISSING_CODES, "404", "405", "MethodNotAllowed"):
                return None
            raise AwsError(f"reading metadata of state version {version_id} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise AwsError(f"reading metadata of state version {version_id} failed: {exc}") from exc
        return dict(response.get("Metadata", {}))

    def list_versions(
        self,
        tenant: str,
        stack: str,
        environment: str,
        *,
        page_size: int = 20,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
    ) -> VersionPage:
        """One page of the state history, newest first, with S3's own markers for the
        next page. Entries carry no user metadata: that needs a HEAD per version; use
        :meth:`get_version` for the one a user opens."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        key = state_key(tenant, stack, environment)
        if key_marker not in (None, key) or (version_id_marker and not key_marker):
            raise ValueError("markers must come from a previous page of this state's history")
        kwargs: dict[str, Any] = {
            "Bucket": self.settings.state_bucket,
            "Prefix": key,
            "MaxKeys": page_size,
        }
        if key_marker:
            kwargs["KeyMarker"] = key_marker
        if version_id_marker:
            kwargs["VersionIdMarker"] = version_id_marker
        try:
            response = self._s3.list_object_versions(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"listing versions of state {key} failed: {exc}") from exc
        # The prefix also matches keys such as "state.json.bak"; only ours count.
        versions = [
            StateVersion(
                version_id=v["VersionId"],
                last_modified=v["LastModified"],
                size=v.get("Size", 0),
                is_latest=v.get("IsLatest", False),
                etag=v.get("ETag"),
            )
            for v in response.get("Versions", [])
            if v["Key"] == key
        ] + [
            StateVersion(
                version_id=m["VersionId"],
                last_modified=m["LastModified"],
                size=0,
                is_latest=m.get("IsLatest", False),
                etag=None,
                deleted=True,
            )
            for m in response.get("DeleteMarkers", [])
            if m["Key"] == key
        ]
        # boto3 splits versions and delete markers; merge back into S3's newest-first order.
        versions.sort(key=lambda v: (v.last_modified, v.is_latest), reverse=True)
        truncated = response.get("IsTruncated", False)
        return VersionPage(
            versions=versions,
            next_key_marker=response.get("NextKeyMarker") if truncated else None,
            next_version_id_marker=response.get("NextVersionIdMarker") if truncated else None,
        )


def _names(meta: dict[str, Any], previous: StoredState | None) -> tuple[str, str, str]:
    """Tenant, stack and environment of a state being saved. The CLI omits ``tenant``
    outside tenant mode, so missing names come from the previous version's key."""
    parts = previous.key.split("/") if previous is not None else []
    known = (parts[1], parts[4], parts[5]) if len(parts) == 7 else ("", "", "")
    return (
        meta.get("tenant") or known[0],
        meta.get("stack") or known[1],
        meta.get("environment") or known[2],
    )


def _conflict_message(key: str, error: Exception) -> str:
    return (
        f"state {key} changed since it was read (its ETag is no longer the one the save "
        f"was based on); nothing was written: {error}"
    )


def _check_times(state: dict[str, Any], key: str) -> None:
    """Refuse time fields the CLI could not parse, so a web save never breaks the CLI."""
    for name, resource in (state.get("resources") or {}).items():
        if not isinstance(resource, dict):
            raise ValueError(f"state {key}: resource {name!r} is not an object")
        for field_name in _RESOURCE_TIME_FIELDS:
            if field_name in resource:
                try:
                    parse_rfc3339(resource[field_name])
                except ValueError:
                    raise ValueError(
                        f"state {key}: resource {name!r} has {field_name}="
                        f"{resource[field_name]!r}, not an RFC 3339 time"
                    ) from None
    created = state["metadata"].get("created_at")
    if created:
        try:
            parse_rfc3339(created)
        except ValueError:
            raise ValueError(
                f"state {key}: metadata.created_at={created!r} is not RFC 3339"
            ) from None

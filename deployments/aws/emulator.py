"""The embedded AWS emulator: moto's server, made safe to build a product on.

moto alone is not enough here, for two measured reasons (architecture.md):

1. Its server answers on several threads and its DynamoDB conditional writes are not
   atomic under concurrency, so two clients can both "win" a lock. Every request
   therefore runs under one global lock (:class:`SerialisedApp`), which costs a few
   per cent of throughput and removes every violation.
2. It keeps everything in memory. A user's state history and locks must survive a
   restart of the run command, so every mutating request is appended to a journal and
   replayed at start (:class:`Journal`). Replay happens at the recorded wall-clock time
   (time-machine) and with a per-request random seed, so S3 version ids, ETags and
   timestamps come back exactly as they were.

Run it alone with ``python -m deployments.aws.emulator --port 5055 --data-dir var/aws``.
It binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import gc
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

# Prefixes of actions that never change anything: not journalled, so a page that lists
# state versions all day does not grow the journal.
_READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "Head")
_SEED_BASE = 0x5EED


def _configure_moto() -> None:
    """Settings that moto reads once, before its backends are first used."""
    # Lambda functions run from a zip without Docker; moto only honours this at boot
    # (switching later hides existing functions, see kinds.md).
    os.environ.setdefault("MOTO_DOCKER_NETWORK_MODE", "")
    # Loading every default AMI costs ~0.5 s after each reset; no component uses AMIs.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    from moto.core.config import default_user_config

    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["batch"] = {"use_docker": False}
    _windows_may_touch()
    _cheap_version_listing()
    _plain_dynamodb_reads()


def _windows_may_touch() -> None:
    """moto refuses an RDS backup window that ends when the maintenance window starts
    (``03:00-04:00`` with ``mon:04:00-mon:05:00``, as the panka authors' example has);
    real AWS accepts windows that only touch (terraform-aws-modules' own defaults are
    ``03:00-06:00`` and ``Mon:00:00-Mon:03:00``). Only a real overlap is refused here."""
    from moto.rds import utils

    touching = utils.get_overlap_between_two_date_ranges
    if getattr(touching, "panka_patched", False):
        return

    def overlap(*args: Any) -> int:
        seconds = touching(*args)
        return -1 if seconds == 0 else seconds

    overlap.panka_patched = True  # type: ignore[attr-defined]
    utils.get_overlap_between_two_date_ranges = overlap


_VIEW_TYPES: dict[type, type] = {}


def _view_type(cls: type) -> type:
    """A subclass of ``cls`` (moto's listing checks ``isinstance``) whose instances stand
    for one stored version: they hold what the listing reads most (``name``,
    ``last_modified``) and what it writes (``is_latest``), and read everything else from
    the stored version. Never a copy of the body, and nothing to dispose of: moto's
    ``FakeKey.__del__`` would otherwise close the body the stored version still uses."""
    view = _VIEW_TYPES.get(cls)
    if view is None:

        def __getattr__(self: Any, name: str) -> Any:  # noqa: N807 - only when lookup fails
            try:
                stored = self.__dict__["_panka_stored"]
            except KeyError:
                raise AttributeError(name) from None
            return getattr(stored, name)

        view = type(cls.__name__, (cls,), {"__getattr__": __getattr__,
                                           "__del__": lambda self: None,
                                           "dispose": lambda self, *a, **k: None})  # fmt: skip
        _VIEW_TYPES[cls] = view
    return view


class _CheapCopies(list):
    """A key's versions, which ``copy.deepcopy`` turns into views (:func:`_view_type`):
    a few attributes each instead of a copy of every attribute."""

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        copies = []
        for version in self:
            view = object.__new__(_view_type(type(version)))
            view.__dict__.update(
                _panka_stored=version, name=version.name, last_modified=version.last_modified
            )
            copies.append(view)
        return copies


def _cheap_version_listing() -> None:
    """moto's ListObjectVersions deep-copies every version of every key in the bucket on
    each call (to mark ``is_latest`` on copies), and a FakeKey's deep copy rewrites its
    body into a new temporary file: measured 224 ms for one page of a 200-version state
    and growing with the bucket. Here it copies only the keys under the request's prefix,
    and each version as a view (:func:`_view_type`: the listing only reads and marks them).
    Same answers, same order, same markers (tests/aws/test_emulator.py compares)."""
    from moto.s3 import models

    original = models.S3Backend.list_object_versions
    if getattr(original, "panka_patched", False):
        return

    def list_object_versions(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        bucket = self.get_bucket(bucket_name)
        store = bucket.keys
        prefix = kwargs.get("prefix") or ""
        # With a key marker alone moto also skips the first key after it, whichever it
        # is: keep every key then, so the answer stays exactly moto's.
        only_prefix = not (kwargs.get("key_marker") and not kwargs.get("version_id_marker"))
        plain = store.iterlists

        def iterlists() -> Iterable[tuple[str, list[Any]]]:
            for name, versions in plain():
                if not only_prefix or name.startswith(prefix):
                    yield name, _CheapCopies(versions)

        # Requests run one at a time (SerialisedApp): nobody else sees the swap.
        store.iterlists = iterlists
        try:
            return original(self, bucket_name, *args, **kwargs)
        finally:
            del store.iterlists

    list_object_versions.panka_patched = True  # type: ignore[attr-defined]
    list_object_versions.original = original  # type: ignore[attr-defined]
    models.S3Backend.list_object_versions = list_object_versions
    # The listing sorts every version by moto's unix_time_millis, which builds the epoch
    # anew for each call (a fifth of a state-history page's emulator time, py-spy). The
    # same arithmetic on a prebuilt epoch gives the same floats.
    models.unix_time_millis = _unix_time_millis


_EPOCH = datetime.datetime(1970, 1, 1)


def _unix_time_millis(moment: datetime.datetime) -> float:
    """moto's ``unix_time_millis`` for the one call the S3 models make (the version sort,
    which always passes a time)."""
    delta = moment - _EPOCH
    return ((delta.days * 86400) + (delta.seconds + (delta.microseconds / 1e6))) * 1000.0


# DynamoDB attribute types whose JSON is the value as stored: no bytes to encode, nothing
# nested to walk.
_PLAIN_TYPES = frozenset({"S", "N", "BOOL", "NULL", "SS", "NS"})


def _plain_item(item: Any) -> bool:
    return isinstance(item, dict) and all(
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _PLAIN_TYPES
        for value in item.values()
    )


def _plain_dynamodb_reads() -> None:
    """moto writes Scan and Query answers through its generic, model-driven serializer,
    which walked every attribute of every item: 79% of the emulator's time on the locks
    page (py-spy), over 1 ms an item. When every item (and the LastEvaluatedKey) holds
    only scalar and set types, as every lock item does, the answer is written as the
    plain JSON DynamoDB sends; anything with binary, list or map values goes moto's way.
    Same answers (tests/aws/test_emulator.py compares)."""
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    for name in ("scan", "query"):
        original = getattr(DynamoHandler, name)
        if getattr(original, "panka_patched", False):
            continue

        @functools.wraps(original)
        def read(self: Any, _original: Callable[[Any], Any] = original) -> Any:
            response = _original(self)
            if isinstance(response, DynamoResult):
                result = response.result
                items = [*result.get("Items", []), result.get("LastEvaluatedKey", {})]
                if all(_plain_item(item) for item in items):
                    return json.dumps(result)
            return response

        read.panka_patched = True  # type: ignore[attr-defined]
        read.original = original  # type: ignore[attr-defined]
        setattr(DynamoHandler, name, read)


def _action_of(method: str, environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if method == "POST" and body[:4096].find(b"Action=") != -1:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return ""


def is_mutating(method: str, path: str, environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request can change the emulator's data (and so must be journalled)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if path.startswith("/moto-api/"):
        # Only a reset changes data; the journal handles it separately.
        return False
    action = _action_of(method, environ, body)
    return not action.startswith(_READ_ONLY_PREFIXES)


class Journal:
    """Append-only record of mutating requests, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._count = self._existing_entries()
        self._file = path.open("a", encoding="utf-8")

    def _existing_entries(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open("rb") as f:
            return sum(1 for _ in f)

    def next_seed(self) -> int:
        return _SEED_BASE + self._count

    def append(self, environ: dict[str, Any], body: bytes, seed: int, at: float) -> None:
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        entry = {
            "at": at,
            "seed": seed,
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("RAW_URI") or environ.get("PATH_INFO", "/"),
            "query": environ.get("QUERY_STRING", ""),
            "headers": headers,
            "body": base64.b64encode(body).decode("ascii"),
        }
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        # Flushed, not fsynced: a crash of the machine may lose the last requests, a
        # crash of the process does not.
        self._file.flush()
        self._count += 1

    def reset(self) -> None:
        self._file.close()
        self._file = self.path.open("w", encoding="utf-8")
        self._count = 0

    def entries(self) -> Iterable[dict[str, Any]]:
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self._file.close()


def _seed(seed: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(seed)


class SerialisedApp:
    """moto's WSGI app behind one global lock, optionally journalling what it changes."""

    def __init__(self, journal: Journal | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._app = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        with self._lock:
            if self.journal is not None and path == "/moto-api/reset":
                self.journal.reset()
            elif self.journal is not None and is_mutating(method, path, environ, body):
                seed, at = self.journal.next_seed(), time.time()
                _seed(seed)
                self.journal.append(environ, body, seed, at)
                # Run at exactly the recorded instant: moto reads the clock itself, and a
                # request that crossed a second would otherwise replay one second early.
                import time_machine

                with time_machine.travel(at, tick=False):
                    return self._handle(environ, start_response)
            return self._handle(environ, start_response)

    def _handle(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # Drain the response inside the lock: a lazy iterator would run moto's code after
        # the lock is released.
        result = self._app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            close = getattr(result, "close", None)
            if close:
                close()

    def replay(self) -> int:
        """Apply every journalled request, in order, at its recorded time."""
        import time_machine
        from werkzeug.test import EnvironBuilder

        assert self.journal is not None
        count = 0
        for entry in self.journal.entries():
            headers = dict(entry["headers"])
            headers.pop("Content-Length", None)
            builder = EnvironBuilder(
                path=entry["path"].split("?", 1)[0],
                method=entry["method"],
                query_string=entry["query"],
                headers=headers,
                data=base64.b64decode(entry["body"]),
            )
            environ = builder.get_environ()
            with time_machine.travel(entry["at"], tick=False):
                _seed(entry["seed"])
                result = self._app(environ, lambda *a, **k: None)
                b"".join(result)
            count += 1
        return count


def _QuietHandler() -> type:  # noqa: N802 - a class factory, named like the class it makes
    """moto's request handler without a log line per request (the worker makes thousands)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return QuietHandler


class EmbeddedEmulator:
    """A serialised moto server on a loopback port, in a thread of this process."""

    def __init__(self, *, port: int = 0, data_dir: Path | None = None) -> None:
        _configure_moto()
        journal = Journal(data_dir / "journal.jsonl") if data_dir else None
        self.app = SerialisedApp(journal)
        self.replayed = self.app.replay() if journal else 0
        from werkzeug.serving import make_server

        self._server = make_server(
            "127.0.0.1", port, self.app, threaded=True, request_handler=_QuietHandler()
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join()
        if self.app.journal:
            self.app.journal.close()


# Allocations between two collections of the youngest generation (CPython's default: 700).
_GC_YOUNG_THRESHOLD = 10_000


def _collect_less() -> None:
    """Garbage-collector settings for the emulator's own process (not for a process that
    embeds it): moto keeps every object, version and item in memory, and the collector
    walked all of it again and again while a listing allocated one view per version:
    more than half of a 2,000-version state page's emulator time. What moto and the
    replay loaded is frozen out of the collector's sight, and the youngest generation is
    collected every 10,000 allocations instead of 700 (still bounded: a request's
    garbage is a few thousand objects)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Panka Web's embedded AWS emulator")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep data across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s emulator %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    started = time.monotonic()
    emulator = EmbeddedEmulator(port=args.port, data_dir=args.data_dir)
    _collect_less()
    log.info(
        "listening on %s (replayed %d journalled requests in %.2fs)",
        emulator.url,
        emulator.replayed,
        time.monotonic() - started,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        emulator.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if emulator.app.journal:
            emulator.app.journal.close()


if __name__ == "__main__":
    main()

"""Real worker processes: ``python manage.py worker`` (a django-q2 cluster) started by
the test, sharing the test database and the broker with it.

The default pass runs on SQLite and the ORM broker: the rest of the suite runs tasks
inline against an in-memory database, which no other process can open, so this package
moves to a SQLite file. The production pass (``make test-production``) runs on
PostgreSQL (pytest-django's ``test_…`` database) and Redis (a queue name of the run's
own, emptied before each test). Either way the test queues runs through the services
as the web app does, and separate processes pick them up, plan and apply them against
the session's emulator, heartbeat their locks, and can be killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from ..conftest import Personas

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def django_db_setup(
    django_db_setup, django_test_environment, django_db_blocker, tmp_path_factory
) -> Iterator[str]:
    """The DATABASE_URL of a test database that worker processes can open too (overrides
    pytest-django's, for this package only, after it ran).

    On PostgreSQL that is pytest-django's own test database. On SQLite it is a file: the
    suite's in-memory database lives only as long as its connection, which is parked
    while this package runs on the file, and handed back afterwards, so later tests find
    their database as it was.
    """
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    connection = connections["default"]
    if connection.vendor == "postgresql":
        url = urlparse(os.environ["DATABASE_URL"])
        yield urlunparse(url._replace(path="/" + connection.settings_dict["NAME"]))
        return
    if connection.vendor != "sqlite":
        pytest.skip(f"the worker tests run on SQLite or PostgreSQL, not {connection.vendor}")
    path = tmp_path_factory.mktemp("workers-db") / "panka-test.sqlite3"
    test_settings = connection.settings_dict["TEST"]
    saved_name = test_settings.get("NAME")
    with django_db_blocker.unblock():
        parked = None
        if connection.is_in_memory_db():
            parked, connection.connection = connection.connection, None
        else:
            connection.close()
        test_settings["NAME"] = str(path)
        try:
            config = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
            )
        except BaseException:
            test_settings["NAME"] = saved_name
            connection.connection = parked
            raise
    yield f"sqlite:///{path}"
    with django_db_blocker.unblock():
        try:
            teardown_databases(config, verbosity=0)
        finally:
            test_settings["NAME"] = saved_name
            if parked is not None:  # the file's connection was closed by the teardown
                connection.connection = parked


@pytest.fixture
def personas(transactional_db) -> Personas:
    """The suite's personas, committed, so the workers see them."""
    return Personas()


class Workers:
    """``manage.py worker`` processes, each in a session of its own so that it and its
    django-q2 children can be killed together; output goes to ``<name>.log``."""

    def __init__(self, directory: Path, environ: dict[str, str]) -> None:
        self.directory = directory
        self.environ = environ
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._killed: set[str] = set()

    def start(self, name: str, **environ: str) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker"],
                cwd=ROOT,
                env={**self.environ, **environ},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str) -> None:
        """SIGKILL the worker and every process of its group, at once."""
        process = self.processes[name]
        if name in self._killed:
            return
        self._killed.add(name)
        with contextlib.suppress(ProcessLookupError):  # it died by itself
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def describe(self) -> str:
        parts = []
        for name, process in self.processes.items():
            tail = "\n".join(self.log(name).splitlines()[-25:])
            parts.append(f"--- worker {name} (exit code {process.poll()}):\n{tail}")
        return "\n".join(parts)


@pytest.fixture
def workers(
    django_db_setup, transactional_db, aws, emulator, settings, tmp_path
) -> Iterator[Workers]:
    """Starts workers on demand, against this test's database and emulator; kills them
    all at teardown, before the database is flushed and the emulator reset."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
    }
    if settings.REDIS_URL:
        # The run's own queue (PANKA_Q_NAME, also the signing salt), empty at the start:
        # nothing a previous test or another run left behind reaches these workers.
        environ.update(REDIS_URL=settings.REDIS_URL, PANKA_Q_NAME=settings.Q_CLUSTER["name"])
        flush_queue()
    environ.update(
        DJANGO_SETTINGS_MODULE="panka_web.settings",
        DATABASE_URL=django_db_setup,
        PANKA_AWS_ENDPOINT_URL=emulator.url,
        PANKA_AWS_REGION=aws.region,
        PANKA_STATE_BUCKET=aws.state_bucket,
        PANKA_LOCK_TABLE=aws.lock_table,
        PANKA_DATA_DIR=str(tmp_path),
        PANKA_WORKERS="1",
        # The broker's tasks are signed with it; the workers must verify the test's.
        SECRET_KEY=settings.SECRET_KEY,
        PYTHONUNBUFFERED="1",
    )
    pool = Workers(tmp_path, environ)
    try:
        yield pool
    finally:
        pool.kill_all()


def flush_queue() -> None:
    """Delete this run's django-q2 keys from Redis (its queue and cluster statistics)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    connection = get_broker().connection
    keys = list(connection.scan_iter(match=f"django_q:{Conf.PREFIX}:*"))
    if keys:
        connection.delete(*keys)


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    explain: Callable[[], str] = lambda: "",
    interval: float = 0.05,
) -> object:
    """Poll ``condition`` until it is truthy. Real processes run on the real clock, so
    this waits for real (time-machine cannot move another process's time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{explain()}")
        time.sleep(interval)


def sleep_until(wall_clock: float) -> None:
    """Sleep until ``time.time()`` reaches ``wall_clock`` (lock times are wall-clock)."""
    delay = wall_clock - time.time()
    if delay > 0:
        time.sleep(delay)

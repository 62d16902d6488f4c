"""Tests whose threads each use their own database connection, at the same moment.

pytest-django's SQLite test database lives in memory, in shared-cache mode: there a
second connection gets "database table is locked" at once instead of waiting, which is
not how the app's file database behaves. So on SQLite this package runs on a file copy
of it (opened like the app's: WAL, ``transaction_mode=IMMEDIATE``, a busy timeout); on
PostgreSQL it uses the session's test database, which serves many connections already.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[None]:
    """The session's test database; on SQLite, a file copy of it for this package.

    The in-memory connection is left as it is, and this thread gets a new one to the file
    (so do the threads, from the settings): the browser tests' live server shares that
    in-memory connection object with its request threads, and one finishing late used to
    close it once its NAME said "file" -- under this thread's feet (a segfault in CI)."""
    from django.db import connections

    memory = connections["default"]
    if memory.vendor != "sqlite" or not memory.is_in_memory_db():
        yield
        return
    path = tmp_path_factory.mktemp("threads-db") / "panka-test.sqlite3"
    with django_db_blocker.unblock():
        memory.ensure_connection()
        # sqlite3's online backup: the migrated schema and data, in milliseconds.
        with sqlite3.connect(path) as copy:
            memory.connection.backup(copy)
        copy.close()
    # Every thread's new connection opens the file; the in-memory one keeps its own NAME.
    connections.settings["default"] = {**memory.settings_dict, "NAME": str(path)}
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            connections.close_all()
        connections.settings["default"] = memory.settings_dict
        connections["default"] = memory

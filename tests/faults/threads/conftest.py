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
    """The session's test database; on SQLite, a file copy of it for this package (the
    in-memory original is parked meanwhile and handed back afterwards, as it was)."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    path = tmp_path_factory.mktemp("threads-db") / "panka-test.sqlite3"
    with django_db_blocker.unblock():
        connection.ensure_connection()
        # sqlite3's online backup: the migrated schema and data, in milliseconds.
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        copy.close()
        parked, connection.connection = connection.connection, None
    saved_name = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)  # every thread's connection opens this
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            connections.close_all()
            connection.settings_dict["NAME"] = saved_name
            connection.connection = parked

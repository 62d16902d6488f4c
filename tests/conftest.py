"""Shared fixtures: the embedded AWS emulator, AWS settings, personas."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deployments.aws.clients import AwsSettings
from deployments.aws.emulator import EmbeddedEmulator

# The production pass (`make test-production`: PostgreSQL + Redis) runs these files: every
# model, the queue with real worker processes, locks, state, audit and the editor's save.
# (The lock and state stores' own tests use no database: the default pass covers them.)
PRODUCTION_PATHS = (
    "test_role_matrix.py",
    "deployments/test_runs.py",
    "deployments/test_run_guards.py",
    "deployments/test_run_views.py",
    "deployments/test_reaper.py",
    "deployments/test_drift.py",
    "deployments/test_state_pages.py",
    "deployments/test_locks_pages.py",
    "deployments/test_save_draft.py",
    "deployments/test_revisions.py",
    "deployments/test_delivery.py",
    "tenants/test_members.py",
    "tenants/test_audit_log.py",
    "tenants/test_audit_verify.py",
    "integration/",
    "faults/",
)


def pytest_collection_modifyitems(config, items) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        relative = Path(str(item.path)).relative_to(tests_dir).as_posix()
        if relative.startswith(PRODUCTION_PATHS):
            item.add_marker(pytest.mark.production)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """PANKA_TEST_DB_SUFFIX (``make test-production`` sets it): a PostgreSQL test database
    of this run's own, so two runs on one server do not drop each other's."""
    from django.conf import settings

    suffix = os.environ.get("PANKA_TEST_DB_SUFFIX")
    for config in settings.DATABASES.values():
        if suffix and config["ENGINE"] != "django.db.backends.sqlite3":
            test = config.setdefault("TEST", {})
            test["NAME"] = f"{test.get('NAME') or 'test_' + config['NAME']}_{suffix}"


@pytest.fixture(autouse=True)
def _django_test_settings(request) -> None:
    """Fast password hashing (PBKDF2's deliberate slowness would dominate the run time),
    and AWS pointed at the local emulator even in tests that don't reset it: no test may
    reach real AWS or the network."""
    if not request.config.pluginmanager.hasplugin("django"):  # the format engine's tests
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "aws" not in request.fixturenames:
        settings.PANKA_AWS_ENDPOINT_URL = request.getfixturevalue("emulator").url


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmbeddedEmulator]:
    """One serialised moto server for the whole run, on an ephemeral loopback port."""
    server = EmbeddedEmulator(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def aws(emulator: EmbeddedEmulator, settings) -> Iterator[AwsSettings]:
    """AWS settings pointing at a freshly reset emulator with bucket and table created."""
    from django.core.cache import cache

    from deployments.aws import bootstrap

    requests.post(f"{emulator.url}/moto-api/reset", timeout=10).raise_for_status()
    cache.clear()  # what was listed and read from the emulator before its reset
    aws_settings = AwsSettings(
        region="us-east-1",
        state_bucket="panka-state-test",
        lock_table="panka-locks-test",
        endpoint_url=emulator.url,
    )
    settings.PANKA_AWS_ENDPOINT_URL = emulator.url
    settings.PANKA_AWS_REGION = aws_settings.region
    settings.PANKA_STATE_BUCKET = aws_settings.state_bucket
    settings.PANKA_LOCK_TABLE = aws_settings.lock_table
    bootstrap.ensure_state_bucket(aws_settings)
    bootstrap.ensure_lock_table(aws_settings)
    yield aws_settings


# --- personas (after healthchecks' Alice, Bob and Charlie) ------------------------------


class Personas:
    """Members of tenant ``acme`` in every role, and an outsider who belongs to ``globex``."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from tenants.models import Membership, Role, Tenant

        user_model = get_user_model()
        self.tenant = Tenant.objects.create(slug="acme", display_name="Acme")
        self.other_tenant = Tenant.objects.create(slug="globex", display_name="Globex")
        self.password = "correct horse battery"
        for role in Role:
            user = user_model.objects.create_user(role.value, password=self.password)
            Membership.objects.create(tenant=self.tenant, user=user, role=role)
            setattr(self, role.value, user)
        self.outsider = user_model.objects.create_user("outsider", password=self.password)
        Membership.objects.create(tenant=self.other_tenant, user=self.outsider, role=Role.ADMIN)
        self.platform_admin = user_model.objects.create_superuser(
            "platform", password=self.password
        )


@pytest.fixture
def personas(db) -> Personas:
    return Personas()


def make_stack(tenant, name: str = "shop", files: dict[str, str] | None = None, actor=None):
    """A stack with one revision (no validation: for page tests that only need content)."""
    from deployments.models import Stack, StackRevision

    stack = Stack.objects.create(tenant=tenant, name=name)
    StackRevision(
        stack=stack,
        number=1,
        files=files or {"stack.yaml": "apiVersion: core.panka.io/v1\nkind: Stack\n"},
        author=actor,
    ).save()
    return stack


@pytest.fixture
def inline_tasks(settings, aws):
    """Run worker tasks in the test's thread, against the emulator."""
    settings.PANKA_RUN_TASKS_INLINE = True
    return aws

"""Shared fixtures: the embedded AWS emulator, AWS settings, personas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from deployments.aws.clients import AwsSettings
from deployments.aws.emulator import EmbeddedEmulator


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
    from deployments.aws import bootstrap

    requests.post(f"{emulator.url}/moto-api/reset", timeout=10).raise_for_status()
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

"""``/healthz`` names each failing part (database, broker, state bucket, lock table) with a
503 and JSON, never a traceback; every part is broken for real (emulator, closed ports)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deployments.aws.clients import client as aws_client

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_health(client_):
    response = client_.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_all_four_parts_answer_200(aws, client):
    status, body = get_health(client)
    assert status == 200, body
    assert body["healthy"] is True
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "state_bucket", "lock_table"}
    assert body["checks"]["state_bucket"] == "ok (versioning Enabled)"
    assert body["checks"]["broker"].startswith("ok (")


def test_suspended_versioning_fails_the_state_bucket(aws, client):
    aws_client(aws, "s3").put_bucket_versioning(
        Bucket=aws.state_bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["state_bucket"]
    assert "must be 'Enabled'" in body["checks"]["state_bucket"]


def test_a_missing_state_bucket_is_named(aws, client, settings):
    settings.PANKA_STATE_BUCKET = "no-such-panka-bucket"
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["state_bucket"]
    assert "no-such-panka-bucket" in body["checks"]["state_bucket"]
    assert "NoSuchBucket" in body["checks"]["state_bucket"]


def test_a_missing_lock_table_is_named(aws, client):
    aws_client(aws, "dynamodb").delete_table(TableName=aws.lock_table)
    status, body = get_health(client)
    assert status == 503
    assert body["failing"] == ["lock_table"]
    assert "ResourceNotFoundException" in body["checks"]["lock_table"]


def test_unreachable_aws_fails_fast_naming_both_aws_parts(aws, client, settings):
    settings.PANKA_AWS_ENDPOINT_URL = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    status, body = get_health(client)
    elapsed = time.monotonic() - started
    assert status == 503
    assert body["failing"] == ["state_bucket", "lock_table"]
    assert body["checks"]["database"] == "ok"
    assert "Could not connect" in body["checks"]["state_bucket"]
    assert elapsed < 10, f"a load balancer would have given up: {elapsed:.1f}s"


def test_get_and_head_are_answered_and_nothing_else(aws, client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# --- the database and the broker, broken in a separate process ------------------------


def health_in_process(tmp_path: Path, aws, **env_overrides: str) -> tuple[int, str]:
    """GET /healthz through Django's test client in a fresh process configured by ``env``
    (the broker is chosen when settings load, so it cannot be switched inside this one)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="panka_web.settings",
        PANKA_DATA_DIR=str(tmp_path),
        PANKA_AWS_ENDPOINT_URL=aws.endpoint_url,
        PANKA_STATE_BUCKET=aws.state_bucket,
        PANKA_LOCK_TABLE=aws.lock_table,
        **env_overrides,
    )
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='localhost').get('/healthz')\n"
        "print(r.status_code)\n"
        "print(r.content.decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    return int(status), body


def test_a_database_that_does_not_answer_is_named(tmp_path, aws):
    status, body = health_in_process(
        tmp_path, aws, DATABASE_URL=f"postgres://panka@127.0.0.1:{closed_port()}/panka"
    )
    assert status == 503
    assert "Traceback" not in body
    data = json.loads(body)
    # The ORM broker lives in that database too: both are down, and both are said.
    assert data["failing"] == ["database", "broker"]
    assert data["checks"]["database"].startswith("failing: OperationalError")
    assert data["checks"]["state_bucket"].startswith("ok")


def test_a_redis_broker_that_does_not_answer_is_named(tmp_path, aws):
    status, body = health_in_process(
        tmp_path, aws, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"
    )
    assert status == 503
    data = json.loads(body)
    assert data["failing"] == ["broker"]
    assert data["checks"]["broker"].startswith("failing: ConnectionError")
    assert data["checks"]["database"] == "ok"


def test_a_live_redis_broker_is_healthy(tmp_path, aws):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    status, body = health_in_process(tmp_path, aws, REDIS_URL="redis://127.0.0.1:6379/15")
    assert status == 200, body
    assert json.loads(body)["checks"]["broker"].startswith("ok (")

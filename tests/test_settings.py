"""Settings come from the environment and a bad value stops the app at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from panka_web.env import Env

ROOT = Path(__file__).resolve().parent.parent


def test_booleans_accept_the_usual_spellings():
    env = Env({"A": "true", "B": "0", "C": "Yes", "D": " off "})
    assert [env.bool(k, False) for k in "ABCD"] == [True, False, True, False]


def test_a_misspelt_boolean_is_an_error_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DEBUG='ture'"):
        Env({"DEBUG": "ture"}).bool("DEBUG", False)


def test_missing_values_take_the_default():
    env = Env({})
    assert env.bool("DEBUG", False) is False
    assert env.int("N", 4) == 4
    assert env.list("HOSTS", ["a"]) == ["a"]
    assert env.url("REDIS_URL", schemes=("redis",)) is None


def test_integers_are_parsed_and_range_checked():
    assert Env({"N": "8"}).int("N", 1, maximum=64) == 8
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        Env({"N": "eight"}).int("N", 1)
    with pytest.raises(ImproperlyConfigured, match="outside"):
        Env({"N": "99"}).int("N", 1, maximum=64)


def test_lists_are_comma_separated_and_trimmed():
    assert Env({"H": "a.example, b.example ,,"}).list("H", []) == ["a.example", "b.example"]


def test_urls_must_have_an_accepted_scheme():
    assert Env({"R": "redis://127.0.0.1:6379/0"}).url("R", schemes=("redis",))
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        Env({"REDIS_URL": "127.0.0.1:6379"}).url("REDIS_URL", schemes=("redis",))


def _load_settings(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
    }
    env.update(
        PANKA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="panka_web.settings", **overrides
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], sorted(k for k in s.Q_CLUSTER if k in ('orm','redis')), "
        "s.PANKA_AWS_ENDPOINT_URL, s.PANKA_STATE_BUCKET, s.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_defaults_are_sqlite_the_orm_broker_and_real_aws(tmp_path):
    result = _load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "['orm']",
        "None",
        "panka-state",
        "False",
    ]
    assert (tmp_path / "secret_key").exists(), "a laptop gets a generated, persisted SECRET_KEY"


def test_database_redis_and_aws_endpoint_are_switched_on_by_environment(tmp_path):
    result = _load_settings(
        tmp_path,
        DATABASE_URL="postgres://u@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
        PANKA_AWS_ENDPOINT_URL="http://127.0.0.1:5055",
        PANKA_STATE_BUCKET="team-state",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "['redis']",
        "http://127.0.0.1:5055",
        "team-state",
        "True",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mongodb://x/y"),
        ("REDIS_URL", "localhost"),
        ("PANKA_AWS_ENDPOINT_URL", "127.0.0.1:5055"),
        ("PANKA_AWS_REGION", "moon-base"),
        ("PANKA_STATE_BUCKET", "Not_A_Bucket"),
        ("PANKA_WORKERS", "0"),
        ("PANKA_DB_CONN_MAX_AGE", "-1"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(tmp_path, name, value):
    result = _load_settings(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_the_static_manifest_switch_picks_hashed_compressed_files(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
    }
    env.update(
        PANKA_DATA_DIR=str(tmp_path),
        PANKA_STATIC_MANIFEST="true",
        DJANGO_SETTINGS_MODULE="panka_web.settings",
    )
    code = "import django; django.setup(); from django.conf import settings as s; print(s.STORAGES['staticfiles']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage", (
        result.stderr
    )


def test_database_connections_are_kept_and_checked_and_the_age_is_configurable(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
    }
    env.update(PANKA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="panka_web.settings")
    for extra, expected in (({}, "60 True"), ({"PANKA_DB_CONN_MAX_AGE": "0"}, "0 True")):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected
